// A fake API server on loopback for unit tests of leader election: Leases in memory (with
// resourceVersions and conflicts), one ConfigMap, watches that say nothing. It can stall:
// it then answers nothing (as a partition or a hung API server does), so that only the
// client's own deadline ends a request.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { KubeClient } from '../runtime/kube/client.ts';
import type { ClusterAccess } from '../runtime/kube/client.ts';

export interface FakeLeaseApi {
  /** Credentials for a client of it (plain HTTP). */
  access: ClusterAccess;
  /** A client of it (closed by close()). */
  client: KubeClient;
  /** Answer nothing from now on (requests stay open until the client gives up). */
  stall(): void;
  /** Lease requests: when they came and when the client closed them. */
  leaseRequests: { at: number; closedAt?: number }[];
  close(): Promise<void>;
}

type Obj = Record<string, unknown> & { metadata: Record<string, unknown> };

export async function startFakeLeaseApi(): Promise<FakeLeaseApi> {
  const leases = new Map<string, Obj>();
  let rv = 1;
  let stalled = false;
  const leaseRequests: FakeLeaseApi['leaseRequests'] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c));
    req.on('end', () => {
      const url = new URL(req.url!, 'http://x');
      const json = (status: number, obj: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(obj));
      if (url.pathname.includes('/leases')) {
        const entry: { at: number; closedAt?: number } = { at: Date.now() };
        leaseRequests.push(entry);
        res.on('close', () => (entry.closedAt = Date.now()));
      }
      if (stalled) return;
      if (url.searchParams.get('watch')) return void res.writeHead(200, { 'content-type': 'application/json' }).flushHeaders();
      if (url.pathname === '/api/v1/configmaps') {
        return json(200, { items: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'ns', uid: 'a', resourceVersion: '1' } }], metadata: { resourceVersion: '1' } });
      }
      const m = /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/([^/]+)\/leases(?:\/([^/]+))?$/.exec(url.pathname);
      if (!m) return json(404, { kind: 'Status', reason: 'NotFound', message: `${url.pathname} not found` });
      const [, namespace, name] = m;
      if (req.method === 'GET') {
        const lease = leases.get(`${namespace}/${name}`);
        return lease ? json(200, lease) : json(404, { kind: 'Status', reason: 'NotFound' });
      }
      const obj = JSON.parse(body) as Obj;
      const key = `${namespace}/${(obj.metadata.name as string | undefined) ?? name}`;
      if (req.method === 'POST' && leases.has(key)) return json(409, { kind: 'Status', reason: 'AlreadyExists' });
      if (req.method === 'PUT' && leases.get(key)?.metadata.resourceVersion !== obj.metadata.resourceVersion) return json(409, { kind: 'Status', reason: 'Conflict' });
      const stored = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++rv) } };
      leases.set(key, stored);
      json(req.method === 'POST' ? 201 : 200, stored);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const access: ClusterAccess = { server: `http://127.0.0.1:${port}`, rejectUnauthorized: true, source: 'test', headers: async () => ({}), refresh: () => {} };
  const client = new KubeClient(access);
  return {
    access,
    client,
    stall: () => (stalled = true),
    leaseRequests,
    close: async () => {
      await client.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
