import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../errors.ts';
import { KubeClient, LineSplitter } from './client.ts';
import type { ClusterAccess } from './kubeconfig.ts';
import { Resources } from './resource.ts';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;
let server: Server;
let handler: Handler;
let client: KubeClient;
let access: ClusterAccess & { tokens: string[]; refreshes: number };

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c));
    req.on('end', () => handler(req, res, body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
afterEach(() => client?.close());

function newClient(opts: ConstructorParameters<typeof KubeClient>[1] = {}): KubeClient {
  const tokens = ['t1', 't2', 't3'];
  access = {
    server: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    rejectUnauthorized: true,
    source: 'test',
    tokens,
    refreshes: 0,
    async headers() {
      return { Authorization: `Bearer ${tokens[0]}` };
    },
    refresh() {
      access.refreshes++;
      tokens.shift();
    },
  };
  client = new KubeClient(access, opts);
  return client;
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

describe('KubeClient requests', () => {
  it('sends JSON with the field manager, credentials and impersonation headers', async () => {
    let seen: { method?: string; url?: string; headers?: IncomingMessage['headers']; raw?: string[]; body?: string } = {};
    handler = (req, res, body) => {
      seen = { method: req.method, url: req.url, headers: req.headers, raw: req.rawHeaders, body };
      json(res, 201, { metadata: { name: 'x' } });
    };
    const c = newClient({ fieldManager: 'fm' });
    expect(c.server).toBe(access.server.replace(/\/$/, ''));
    const out = await c.create(Resources.Namespace, { metadata: { name: 'x' } }, { as: { user: 'alice', groups: ['g1', 'g2'] } });
    expect(out).toEqual({ metadata: { name: 'x' } });
    expect(seen.method).toBe('POST');
    expect(seen.url).toBe('/api/v1/namespaces?fieldManager=fm&fieldValidation=Strict');
    expect(JSON.parse(seen.body!)).toEqual({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } });
    expect(seen.headers).toMatchObject({ authorization: 'Bearer t1', 'impersonate-user': 'alice', 'content-type': 'application/json' });
    // One header line per group, as the API server expects.
    const groups = seen.raw!.filter((_, i, a) => i % 2 === 1 && a[i - 1]!.toLowerCase() === 'impersonate-group');
    expect(groups).toEqual(['g1', 'g2']);
  });

  it('turns error answers into ApiError, and a missing object into undefined', async () => {
    handler = (req, res) =>
      req.method === 'GET' ? json(res, 404, { kind: 'Status', reason: 'NotFound', message: 'gone' }) : json(res, 409, { kind: 'Status', reason: 'Conflict', message: 'clash', details: { name: 'x' } });
    const c = newClient();
    expect(await c.get(Resources.Namespace, 'x')).toBeUndefined();
    const err = await c.replace(Resources.Namespace, { metadata: { name: 'x' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 409, reason: 'Conflict', message: 'clash', details: { name: 'x' } });
  });

  it('retries once after a 401 with refreshed credentials', async () => {
    const auths: string[] = [];
    handler = (req, res) => {
      auths.push(req.headers.authorization!);
      if (req.headers.authorization === 'Bearer t1') json(res, 401, { kind: 'Status', reason: 'Unauthorized' });
      else json(res, 200, { ok: true });
    };
    const c = newClient();
    expect(await c.request('GET', '/x')).toEqual({ ok: true });
    expect(auths).toEqual(['Bearer t1', 'Bearer t2']);
    expect(access.refreshes).toBe(1);
    // A second 401 in a row is the answer.
    handler = (_req, res) => json(res, 401, { kind: 'Status', reason: 'Unauthorized', message: 'no' });
    await expect(c.request('GET', '/x')).rejects.toMatchObject({ status: 401 });
  });

  it('fails a request that gets no answer within timeoutMs, and leaves no timers behind', async () => {
    handler = (req, res) => {
      if (req.url === '/slow') return; // never answers
      json(res, 200, {});
    };
    const c = newClient({ timeoutMs: 200 });
    await c.request('GET', '/warm');
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    await Promise.all(Array.from({ length: 50 }, () => c.request('GET', '/fast')));
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBeLessThanOrEqual(before);
    const t0 = Date.now();
    await expect(c.request('GET', '/slow')).rejects.toThrow('GET /slow: no answer for 200 ms');
    expect(Date.now() - t0).toBeLessThan(2_000);
  });

  it('aborts a request on its signal', async () => {
    handler = () => {};
    const c = newClient();
    const ac = new AbortController();
    const p = c.request('GET', '/hang', { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await expect(p).rejects.toThrow(/abort/i);
  });

  it('pages through listAll', async () => {
    handler = (req, res) => {
      const cont = new URL(req.url!, 'http://x').searchParams.get('continue');
      json(res, 200, cont ? { items: [{ metadata: { name: 'b' } }], metadata: { resourceVersion: '7' } } : { items: [{ metadata: { name: 'a' } }], metadata: { resourceVersion: '6', continue: 'next' } });
    };
    const out = await newClient().listAll(Resources.Namespace);
    expect(out).toEqual({ items: [{ metadata: { name: 'a' } }, { metadata: { name: 'b' } }], metadata: { resourceVersion: '7' } });
  });

  it('reports every answer by Kubernetes verb and status code, and a request without one as "error"', async () => {
    handler = (req, res) => {
      if (req.url!.includes('/missing')) return json(res, 404, { reason: 'NotFound' });
      if (req.url!.includes('/hang')) return req.socket.destroy();
      json(res, req.method === 'POST' ? 201 : 200, { metadata: { name: 'x' }, items: [] });
    };
    const seen: string[] = [];
    const c = newClient({ onResponse: (verb, code) => seen.push(`${verb} ${code}`) });
    const ns = { metadata: { name: 'x' } };
    await c.get(Resources.Namespace, 'x');
    await c.get(Resources.Namespace, 'missing');
    await c.list(Resources.Namespace);
    await c.create(Resources.Namespace, ns);
    await c.replace(Resources.Namespace, ns);
    await c.apply(Resources.Namespace, ns);
    await c.patch(Resources.Namespace, 'x', undefined, { metadata: {} });
    await c.delete(Resources.Namespace, 'x');
    await expect(c.get(Resources.Namespace, 'hang')).rejects.toThrow();
    expect(seen).toEqual(['get 200', 'get 404', 'list 200', 'create 201', 'update 200', 'apply 200', 'patch 200', 'delete 200', 'get error']);
  });
});

describe('KubeClient.watch', () => {
  const ev = (name: string) => `${JSON.stringify({ type: 'ADDED', object: { metadata: { name } } })}\n`;

  it('yields events from chunks that split lines and multi-byte characters', async () => {
    const bytes = Buffer.from(ev('größe-😀') + ev('zwei') + ev('drei'));
    handler = (req, res) => {
      expect(req.url).toContain('watch=1');
      res.writeHead(200, { 'content-type': 'application/json' });
      // One byte at a time: every line and every UTF-8 sequence is split.
      let i = 0;
      const next = () => (i < bytes.length ? res.write(bytes.subarray(i, ++i), () => setImmediate(next)) : res.end());
      next();
    };
    const names: string[] = [];
    for await (const e of newClient().watch(Resources.Namespace, { resourceVersion: '1', signal: new AbortController().signal })) names.push(e.object.metadata.name!);
    expect(names).toEqual(['größe-😀', 'zwei', 'drei']);
  });

  it('throws ApiError(410) for HTTP 410', async () => {
    handler = (_req, res) => json(res, 410, { kind: 'Status', reason: 'Expired', message: 'too old resource version' });
    const err = await (async () => {
      for await (const _ of newClient().watch(Resources.Namespace, { resourceVersion: '1', signal: new AbortController().signal }));
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 410 });
  });

  it('stops with the signal, and throws when the connection breaks', async () => {
    handler = (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(ev('one'));
      if (req.url!.includes('labelSelector=break')) setTimeout(() => res.socket!.destroy(), 50);
    };
    const c = newClient({ timeoutMs: 50 }); // no request timeout applies to a watch
    const ac = new AbortController();
    const got: string[] = [];
    const p = (async () => {
      for await (const e of c.watch(Resources.Namespace, { resourceVersion: '1', signal: ac.signal })) got.push(e.object.metadata.name!);
    })();
    await new Promise((r) => setTimeout(r, 300));
    ac.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
    expect(got).toEqual(['one']);
    await expect(
      (async () => {
        for await (const _ of c.watch(Resources.Namespace, { resourceVersion: '1', labelSelector: 'break', signal: new AbortController().signal }));
      })(),
    ).rejects.toThrow();
  });
});

describe('LineSplitter', () => {
  it('keeps a partial line until its end arrives', () => {
    const s = new LineSplitter();
    expect(s.push(Buffer.from('{"a":1}\n{"b"'))).toEqual(['{"a":1}']);
    expect(s.push(Buffer.from(':2}\n\n  \n{"c":'))).toEqual(['{"b":2}']);
    expect(s.end()).toEqual(['{"c":']);
  });
});
