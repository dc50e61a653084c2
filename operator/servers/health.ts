import type { Server } from 'node:http';
import type { Registry } from 'prom-client';
import { http } from '../runtime/builtins.ts';
import { close, listen } from './listen.ts';

export interface HealthChecks {
  /** Liveness: the process can still make progress. */
  healthy(): boolean;
  /** Readiness: caches synced, servers listening. */
  ready(): boolean;
}

/** The plain HTTP listener for /metrics, /healthz and /readyz. */
export class HealthServer {
  private readonly server: Server;
  private readonly address: { host: string; port: number };
  port = 0;

  constructor(registry: Registry, checks: HealthChecks, address: { host: string; port: number }) {
    this.address = address;
    this.server = http.createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      if (path === '/metrics') {
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
