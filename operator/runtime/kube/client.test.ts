import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../testenv/eventually.ts';
import { ApiError } from '../errors.ts';
import { KubeClient, LineSplitter, headerKeyEscape, retryWait } from './client.ts';
import { createCA, issueCertificate } from '../pki.ts';
import { loadClusterAccess } from './kubeconfig.ts';
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

function newClient(opts: ConstructorParameters<typeof KubeClient>[1] = {}, extra: Partial<ClusterAccess> = {}): KubeClient {
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
    ...extra,
  };
  client = new KubeClient(access, opts);
  return client;
}

const until = async (cond: () => boolean, ms = 3_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

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

  it("sends the kubeconfig user's impersonation (as, as-uid, as-groups, as-user-extra), which was silently ignored; a request's own `as` replaces it whole", async () => {
    const seen: { headers: IncomingMessage['headers']; raw: string[] }[] = [];
    handler = (req, res) => {
      seen.push({ headers: req.headers, raw: req.rawHeaders });
      json(res, 200, {});
    };
    const c = newClient({}, { impersonate: { user: 'op@example.com', uid: 'u-1', groups: ['g1', 'g2'], extra: { 'acme.dev/Team x': ['blue', 'green'] } } });
    await c.request('GET', '/x');
    const lines = (raw: string[], name: string) => raw.filter((_, i, a) => i % 2 === 1 && a[i - 1]!.toLowerCase() === name);
    expect(seen[0]!.headers).toMatchObject({ 'impersonate-user': 'op@example.com', 'impersonate-uid': 'u-1' });
    expect(lines(seen[0]!.raw, 'impersonate-group')).toEqual(['g1', 'g2']);
    expect(lines(seen[0]!.raw, 'impersonate-extra-acme.dev%2fteam%20x')).toEqual(['blue', 'green']);
    await c.create(Resources.Namespace, { metadata: { name: 'x' } }, { as: { user: 'alice' } });
    expect(seen[1]!.headers['impersonate-user']).toBe('alice');
    expect(Object.keys(seen[1]!.headers).filter((h) => h.startsWith('impersonate-'))).toEqual(['impersonate-user']);
  });

  it.each([
    ['acme.dev/team', 'acme.dev%2Fteam'],
    ['scopes', 'scopes'],
    ['100%', '100%25'],
    ['größe', 'gr%C3%B6%C3%9Fe'],
  ])('escapes the extra key %s as %s in its header name', (key, escaped) => expect(headerKeyEscape(key)).toBe(escaped));

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

  it('withSignal: a view whose requests end when its signal aborts, which sends nothing afterwards and shares the connections', async () => {
    const seen: { url?: string; port?: number }[] = [];
    handler = (req, res) => {
      seen.push({ url: req.url, port: req.socket.remotePort });
      if (req.url?.endsWith('/hang')) return; // never answers
      json(res, 200, { metadata: { name: 'x' } });
    };
    const c = newClient({ connections: 1 });
    const ac = new AbortController();
    const view = c.withSignal(ac.signal);
    expect(view.fieldManager).toBe(c.fieldManager);
    expect(c.pools).toBe(0);
    await view.request('GET', '/view');
    // The view's request made the pools of the client itself: one set for both (which socket
    // a request rides is the agent's choice; a loaded machine may open a fresh one).
    expect(c.pools).toBe(2);
    await c.request('GET', '/root');
    expect(c.pools).toBe(2);

    const hanging = view.get(Resources.Namespace, 'hang');
    await eventually(() => seen.some((s) => s.url?.endsWith('/hang')));
    ac.abort(new Error('leadership lost'));
    await expect(hanging).rejects.toThrow(/abort|leadership lost/i);
    const before = seen.length;
    await expect(view.create(Resources.Namespace, { metadata: { name: 'late' } })).rejects.toThrow('leadership lost');
    await expect(view.withSignal(new AbortController().signal).request('GET', '/later')).rejects.toThrow('leadership lost');
    await c.request('GET', '/root-again');
    expect(seen.slice(before).map((s) => s.url)).toEqual(['/root-again']);
  });

  it('withSignal and a per-request signal: either one aborts the request', async () => {
    handler = () => {};
    const view = newClient().withSignal(new AbortController().signal);
    const ac = new AbortController();
    const p = view.request('GET', '/hang', { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await expect(p).rejects.toThrow(/abort/i);
    const timed = newClient().withSignal(AbortSignal.timeout(100));
    const t0 = Date.now();
    await expect(timed.request('GET', '/hang')).rejects.toThrow(/abort|timeout/i);
    expect(Date.now() - t0).toBeLessThan(2_000);
  });

  it('pages through listAll', async () => {
    handler = (req, res) => {
      const cont = new URL(req.url!, 'http://x').searchParams.get('continue');
      json(
        res,
        200,
        cont ? { items: [{ metadata: { name: 'b' } }], metadata: { resourceVersion: '7' } } : { items: [{ metadata: { name: 'a' } }], metadata: { resourceVersion: '6', continue: 'next' } },
      );
    };
    const out = await newClient().listAll(Resources.Namespace);
    expect(out).toEqual({ items: [{ metadata: { name: 'a' } }, { metadata: { name: 'b' } }], metadata: { resourceVersion: '7' } });
  });
});

describe('KubeClient TLS', () => {
  it('connects anew with the certificate authority of a kubeconfig file rewritten since it started (certificate files were never reloaded)', async () => {
    const right = createCA('api-ca');
    const wrong = createCA('other-ca');
    const serving = issueCertificate({ ca: right, commonName: 'kube-apiserver', ipAddresses: ['127.0.0.1'], usages: 'server', validityDays: 1 });
    const tls = createHttpsServer({ cert: serving.certPEM, key: serving.keyPEM }, (_req, res) => json(res, 200, { ok: true }));
    await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
    const dir = mkdtempSync(join(tmpdir(), 'client-tls-'));
    try {
      writeFileSync(join(dir, 'ca.crt'), wrong.certPEM);
      utimesSync(join(dir, 'ca.crt'), 1_700_000_000, 1_700_000_000);
      const server = `https://127.0.0.1:${(tls.address() as AddressInfo).port}`;
      const config = {
        'current-context': 'c',
        contexts: [{ name: 'c', context: { cluster: 'k', user: 'u' } }],
        clusters: [{ name: 'k', cluster: { server, 'certificate-authority': 'ca.crt' } }],
        users: [{ name: 'u', user: { token: 't' } }],
      };
      writeFileSync(join(dir, 'config'), stringify(config));
      let now = 0;
      client = new KubeClient(loadClusterAccess({ path: join(dir, 'config'), env: {}, now: () => now, certFileRefreshMs: 1000 }));
      await expect(client.request('GET', '/x')).rejects.toThrow(/self-signed|unable to verify|certificate/i);
      // The CA file is rotated: once it has been looked at again, requests go through.
      writeFileSync(join(dir, 'ca.crt'), right.certPEM);
      utimesSync(join(dir, 'ca.crt'), 1_700_000_100, 1_700_000_100);
      now = 2000;
      expect(await client.request('GET', '/x')).toEqual({ ok: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
      tls.closeAllConnections();
      await new Promise((r) => tls.close(r));
    }
  });
});

describe('KubeClient connection pools', () => {
  it('destroys a retired connection pool once its in-flight requests and watches finish (they stayed open until close)', async () => {
    const closed = (s: Socket) => s.destroyed || s.closed;
    const socketOf: Record<string, Socket> = {};
    let finishSlow!: () => void;
    let watchRes: ServerResponse | undefined;
    handler = (req, res) => {
      socketOf[req.url!.includes('watch=1') ? 'watch' : req.url!] = req.socket;
      if (req.url!.includes('watch=1')) {
        watchRes = res;
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.write(`${JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'before' } } })}\n`);
      }
      if (req.url === '/slow') return void (finishSlow = () => json(res, 200, { slow: true }));
      json(res, 200, { fast: true });
    };
    const c = newClient({}, { cert: 'cert-1', key: 'key-1' });
    const names: string[] = [];
    const watching = (async () => {
      for await (const e of c.watch(Resources.Namespace, { resourceVersion: '1', signal: new AbortController().signal })) names.push(e.object.metadata.name!);
    })();
    const slow = c.request('GET', '/slow');
    await until(() => !!finishSlow && !!watchRes);
    const { watch: watchSocket, '/slow': slowSocket } = socketOf;
    // The client certificate rotates: the next request goes out on new pools.
    Object.assign(access, { cert: 'cert-2', key: 'key-2' });
    expect(await c.request('GET', '/fast')).toEqual({ fast: true });
    expect(c.pools).toBe(4);
    const fastSocket = socketOf['/fast']!;
    expect(new Set([watchSocket, slowSocket, fastSocket]).size).toBe(3);
    // The old pools keep what they carry: the slow request answers, the watch streams on.
    finishSlow();
    expect(await slow).toEqual({ slow: true });
    await until(() => closed(slowSocket!));
    expect(c.pools).toBe(3);
    watchRes!.write(`${JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'after' } } })}\n`);
    watchRes!.end();
    await watching;
    expect(names).toEqual(['before', 'after']);
    await until(() => closed(watchSocket!));
    expect(c.pools).toBe(2);
    // The current pool keeps its idle keep-alive connection.
    expect(closed(fastSocket)).toBe(false);
  });
});

describe('retryWait: which answers are sent again, and after how long (client-go checkWait)', () => {
  const policy = { maxRetries: 10, maxWaitMs: 10_000 };
  it.each([
    ['a 429 with Retry-After, for a GET', { method: 'GET', status: 429, retryAfter: '2' }, 2000],
    ['a 429 with Retry-After, for a create (the server ran nothing)', { method: 'POST', status: 429, retryAfter: '1' }, 1000],
    ['a 429 with Retry-After, for a create by generateName', { method: 'POST', status: 429, retryAfter: '1', generateNameOnly: true }, 1000],
    ['a 503 with Retry-After, for an apply', { method: 'PATCH', status: 503, retryAfter: '3' }, 3000],
    ['a 500 with Retry-After, for a named create (a repeat answers AlreadyExists)', { method: 'POST', status: 500, retryAfter: '1' }, 1000],
    ['Retry-After: 0', { method: 'DELETE', status: 429, retryAfter: '0' }, 0],
    ['a Retry-After beyond the cap, cut to it', { method: 'PUT', status: 429, retryAfter: '120' }, 10_000],
    ['a 5xx without Retry-After', { method: 'GET', status: 500, retryAfter: undefined }, undefined],
    ['a 429 without Retry-After', { method: 'GET', status: 429, retryAfter: undefined }, undefined],
    ['a Retry-After as an HTTP date (client-go reads seconds only)', { method: 'GET', status: 429, retryAfter: 'Wed, 21 Oct 2015 07:28:00 GMT' }, undefined],
    ['a 409', { method: 'PUT', status: 409, retryAfter: '1' }, undefined],
    ['a 5xx for a create by generateName (it may have made one)', { method: 'POST', status: 500, retryAfter: '1', generateNameOnly: true }, undefined],
  ])('%s', (_what, a, expected) => {
    expect(retryWait({ retries: 0, ...a }, policy)).toBe(expected);
  });

  it('stops after maxRetries retries', () => {
    expect(retryWait({ method: 'GET', status: 429, retryAfter: '1', retries: 9 }, policy)).toBe(1000);
    expect(retryWait({ method: 'GET', status: 429, retryAfter: '1', retries: 10 }, policy)).toBeUndefined();
  });
});

describe('KubeClient backpressure', () => {
  const tooMany = (res: ServerResponse, retryAfter = '1') => {
    res.writeHead(429, { 'content-type': 'application/json', 'retry-after': retryAfter });
    res.end(JSON.stringify({ kind: 'Status', reason: 'TooManyRequests', message: 'slow down' }));
  };

  it('sends a request answered 429 again after its Retry-After, and tells its hooks', async () => {
    let n = 0;
    handler = (_req, res) => (++n <= 2 ? tooMany(res, n === 1 ? '1' : '2') : json(res, 200, { ok: true }));
    const waits: number[] = [];
    const seen: string[] = [];
    const c = newClient({
      sleep: async (ms) => void waits.push(ms),
      hooks: { onResponse: (verb, status) => seen.push(`${verb} ${status}`), onRetry: (verb, status, ms) => seen.push(`retry ${verb} ${status} ${ms}`) },
    });
    expect(await c.apply(Resources.ConfigMap, { metadata: { name: 'x', namespace: 'ns' } })).toEqual({ ok: true });
    expect(waits).toEqual([1000, 2000]);
    expect(seen).toEqual(['PATCH 429', 'retry PATCH 429 1000', 'PATCH 429', 'retry PATCH 429 2000', 'PATCH 200']);
  });

  it('gives up after maxRetries and throws the last answer', async () => {
    let n = 0;
    handler = (_req, res) => (n++, tooMany(res));
    const c = newClient({ maxRetries: 3, sleep: async () => {} });
    await expect(c.request('GET', '/x')).rejects.toMatchObject({ status: 429, reason: 'TooManyRequests' });
    expect(n).toBe(4);
  });

  it('stops waiting for a Retry-After when the request is aborted', async () => {
    handler = (_req, res) => tooMany(res, '30');
    const c = newClient({ maxRetryWaitMs: 60_000 });
    const ac = new AbortController();
    const t0 = Date.now();
    const p = c.request('GET', '/x', { signal: ac.signal });
    setTimeout(() => ac.abort(new Error('leadership lost')), 100);
    await expect(p).rejects.toThrow('leadership lost');
    expect(Date.now() - t0).toBeLessThan(2_000);
  });

  it('sends a watch answered 429 again after its Retry-After', async () => {
    let n = 0;
    handler = (_req, res) => {
      if (++n === 1) return tooMany(res);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`${JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a' } } })}\n`);
    };
    const waits: number[] = [];
    const names: string[] = [];
    const c = newClient({ sleep: async (ms) => void waits.push(ms) });
    for await (const e of c.watch(Resources.Namespace, { resourceVersion: '1', signal: new AbortController().signal })) names.push(e.object.metadata.name!);
    expect(names).toEqual(['a']);
    expect(waits).toEqual([1000]);
  });

  it('paces requests to qps after a burst, in the order asked, and leaves watches out', async () => {
    handler = (req, res) => {
      if (req.url!.includes('watch=1')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end();
      }
      json(res, 200, {});
    };
    const waits: number[] = [];
    // A clock that stands still: every wait is the reservation's own.
    const c = newClient({ qps: 20, burst: 2, now: () => 0, sleep: async (ms) => void waits.push(ms) });
    for (let i = 0; i < 5; i++) await c.request('GET', '/x');
    expect(waits.map(Math.round)).toEqual([50, 100, 150]);
    for await (const _ of c.watch(Resources.Namespace, { resourceVersion: '1', signal: new AbortController().signal }));
    expect(waits).toHaveLength(3);
    expect(c.limiter?.available(0)).toBeCloseTo(-3);
  });

  it('gives back the token of a request aborted while it waited for the rate limit', async () => {
    handler = (_req, res) => json(res, 200, {});
    const t = 0;
    const c = newClient({ qps: 1, burst: 1, now: () => t });
    await c.request('GET', '/x');
    const ac = new AbortController();
    const p = c.request('GET', '/x', { signal: ac.signal });
    ac.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
    expect(c.limiter!.available(t)).toBeCloseTo(0);
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
