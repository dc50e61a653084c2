import type { Server, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { http } from '../runtime/builtins.ts';
import type { Clock } from '../runtime/clock.ts';
import { ReviewCache } from '../runtime/ratelimit.ts';
import { HttpError, callerOf } from './authority.ts';
import type { KubeAuthority } from './authority.ts';
import { PLAIN_HTTP_TIMEOUTS, close, listen } from './listen.ts';
import type { RouteHandler } from './webhook.ts';

export interface HealthChecks {
  /** Liveness: the process can still make progress. */
  healthy(): boolean;
  /** Readiness: caches synced, servers listening. */
  ready(): boolean;
}

/**
 * The plain HTTP listener for /healthz and /readyz, and /metrics when `metrics` is true
 * (--metrics-secure=false); otherwise /metrics is served on the APIs' TLS listener by
 * metricsRoute, to authorized callers only.
 */
export class HealthServer {
  private readonly server: Server;
  private readonly address: { host: string; port: number };
  port = 0;

  constructor(registry: Registry, checks: HealthChecks, address: { host: string; port: number }, opts: { metrics?: boolean } = {}) {
    this.address = address;
    this.server = http.createServer({ ...PLAIN_HTTP_TIMEOUTS }, (req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      if (path === '/metrics' && opts.metrics !== false) {
        registry.metrics().then(
          (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
          (err: Error) => res.writeHead(500).end(err.message),
        );
        return;
      }
      if (path === '/healthz' || path === '/livez') {
        const ok = checks.healthy();
        res.writeHead(ok ? 200 : 500, { 'content-type': 'text/plain' }).end(ok ? 'ok' : 'unhealthy');
        return;
      }
      if (path === '/readyz') {
        const ok = checks.ready();
        res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok' : 'not ready: caches not synced');
        return;
      }
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    });
  }

  async start(): Promise<number> {
    this.port = await listen(this.server, this.address);
    return this.port;
  }

  stop(): Promise<void> {
    return close(this.server);
  }
}

export const METRICS_PATH = '/metrics';

/**
 * /metrics for the APIs' TLS listener, as controller-runtime's
 * filters.WithAuthenticationAndAuthorization: the caller's bearer token is authenticated by
 * TokenReview and the caller authorized by SubjectAccessReview for `get` on the non-resource
 * URL /metrics (bind Prometheus' ServiceAccount to the chart's `<fullname>-metrics-reader`
 * ClusterRole). Tokens and decisions are reused for a few seconds, like the other APIs'.
 */
export function metricsRoute(registry: Registry, authority: KubeAuthority, clock?: Clock): RouteHandler {
  const decisions = new ReviewCache<boolean>({ ttlMs: 10_000, maxEntries: 1_000, clock });
  const refuse = (res: ServerResponse, err: HttpError) =>
    res.writeHead(err.status, { 'content-type': 'text/plain', ...(err.status === 401 ? { 'www-authenticate': 'Bearer' } : {}), ...err.headers }).end(`${err.message}\n`);
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    void (async () => {
      const caller = await callerOf(req, authority);
      const key = JSON.stringify([caller.username, caller.groups ?? []]);
      // A decision in use is renewed with the review budget's reserve; a new one takes the budget.
      const known = decisions.peek(key, () => authority.allowedPath(caller, { verb: 'get', path: METRICS_PATH }, { renewal: true }));
      if (!(known ?? (await decisions.get(key, () => authority.allowedPath(caller, { verb: 'get', path: METRICS_PATH }))))) {
        throw new HttpError(403, `${caller.username} may not get /metrics: it needs RBAC get on the non-resource URL /metrics (ClusterRole <release>-metrics-reader)`);
      }
      return registry.metrics();
    })().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: unknown) => (err instanceof HttpError ? refuse(res, err) : res.writeHead(503, { 'content-type': 'text/plain' }).end('The caller could not be checked now; try again\n')),
    );
  };
}
