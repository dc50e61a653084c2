// The API server's own request counter, to count what each phase asked of it.
import { request as httpRequest } from 'node:http';
import { request } from 'node:https';
import type { RequestOptions } from 'node:https';
import { loadClusterAccess } from '../runtime/kube/kubeconfig.ts';
import type { ClusterAccess } from '../runtime/kube/kubeconfig.ts';
import { parseMetrics } from './measure.ts';
import type { MetricSet } from './measure.ts';

/** apiserver_request_total summed by "VERB resource[/subresource]". */
export type RequestCounts = Map<string, number>;

/** Reads the API server's /metrics (text, which KubeClient does not return). */
export class ApiServerMetrics {
  private readonly access: ClusterAccess;
  constructor(kubeconfig: string) {
    this.access = loadClusterAccess({ path: kubeconfig });
  }

  private async text(): Promise<string> {
    const a = this.access;
    const opts: RequestOptions = { ca: a.ca, cert: a.cert, key: a.key, rejectUnauthorized: a.rejectUnauthorized, servername: a.servername, headers: await a.headers() };
    const url = new URL(`${a.server}/metrics`);
    return new Promise((resolve, reject) => {
      const req = (url.protocol === 'http:' ? httpRequest : request)(url, { ...opts, method: 'GET', timeout: 30_000 }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c));
        res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`GET /metrics: HTTP ${res.statusCode}`))));
      });
      req.on('error', reject).on('timeout', () => req.destroy(new Error('GET /metrics timed out')));
      req.end();
    });
  }

  /** Every series of /metrics. */
  async all(): Promise<MetricSet> {
    return parseMetrics(await this.text());
  }

  /** Empty when the metrics cannot be read (e.g. a cluster that denies /metrics). */
  async requestCounts(): Promise<RequestCounts> {
    const out: RequestCounts = new Map();
    const text = await this.text().catch(() => '');
    for (const s of parseMetrics(text).get('apiserver_request_total') ?? []) {
      const key = `${s.labels.verb} ${s.labels.resource}${s.labels.subresource ? `/${s.labels.subresource}` : ''}`;
      out.set(key, (out.get(key) ?? 0) + s.value);
    }
    return out;
  }
}

/** after - before, keeping only keys that grew, largest first. */
export function requestDelta(before: RequestCounts, after: RequestCounts): [string, number][] {
  return [...after]
    .map(([k, v]) => [k, v - (before.get(k) ?? 0)] as [string, number])
    .filter(([, d]) => d > 0)
    .sort((a, b) => b[1] - a[1]);
}
