// The informer's recovery paths against a fake API server on loopback: what a real
// kube-apiserver rarely does on demand (a watch that goes silent without an error,
// a 410 in the stream) is done here on purpose.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Informer, jittered, keepOnly } from './cache.ts';
import { KubeClient } from './kube/client.ts';
import { Resources } from './kube/resource.ts';

type Handler = (req: IncomingMessage, res: ServerResponse, watchNo: number) => void;

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r) ?? r(undefined));
  server = undefined;
});

/** A fake API server for ConfigMaps: `list` answers lists; `watch` handles the n-th watch. */
async function fakeApiServer(list: () => unknown, watch: Handler): Promise<{ client: KubeClient; watches: () => number }> {
  let watches = 0;
  server = createServer((req, res) => {
    if (new URL(req.url!, 'http://x').searchParams.get('watch')) return watch(req, res, ++watches);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(list()));
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const client = new KubeClient({ server: `http://127.0.0.1:${port}`, rejectUnauthorized: true, source: 'test', headers: async () => ({}), refresh: () => {} });
  return { client, watches: () => watches };
}

const cm = (name: string, rv: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'ns', uid: name, resourceVersion: rv } });
const until = async (cond: () => boolean, ms = 5_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('Informer', () => {
  it('restarts a watch that went silent without an error (the client-node stall)', async () => {
    const restarts: string[] = [];
    const { client, watches } = await fakeApiServer(
      () => ({ items: [cm('a', '1')], metadata: { resourceVersion: '1' } }),
      (_req, res, n) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.flushHeaders();
        // The first watch says nothing, ever; the second delivers an object.
        if (n >= 2) res.write(`${JSON.stringify({ type: 'ADDED', object: cm('b', '2') })}\n`);
      },
    );
    const inf = new Informer(client, { resource: Resources.ConfigMap, watchIdleMs: 300 }, pino({ level: 'silent' }), { onWatchRestart: (_r, why) => restarts.push(why) });
    inf.start();
    try {
      await inf.synced;
      await until(() => inf.getByName('b', 'ns') !== undefined);
      expect(restarts).toContain('stalled');
      expect(watches()).toBeGreaterThanOrEqual(2);
    } finally {
      await inf.stop();
      await client.close();
    }
  });

  it('relists when the stream says 410 Gone, and a deleted object leaves the cache', async () => {
    let items = [cm('a', '1'), cm('b', '1')];
    const restarts: string[] = [];
    const deleted: string[] = [];
    const { client } = await fakeApiServer(
      () => ({ items, metadata: { resourceVersion: '9' } }),
      (_req, res, n) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        if (n === 1) {
          items = [cm('a', '5')]; // b went away while the watch could not tell
          res.end(`${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, message: 'too old resource version' } })}\n`);
        } else res.flushHeaders();
      },
    );
    const inf = new Informer(client, { resource: Resources.ConfigMap }, pino({ level: 'silent' }), { onWatchRestart: (_r, why) => restarts.push(why) });
    inf.addHandler({ onDelete: (o) => deleted.push(o.metadata.name!) });
    inf.start();
    try {
      await until(() => restarts.includes('gone') && inf.size === 1);
      expect(deleted).toEqual(['b']);
      expect(inf.getByName('a', 'ns')?.metadata.resourceVersion).toBe('5');
    } finally {
      await inf.stop();
      await client.close();
    }
  });

  it('drops managedFields from every object, before a transform of its own, and lists page by page, each page stored before the next is read', async () => {
    const log: string[] = [];
    const withFields = (name: string) => ({ ...cm(name, '1'), metadata: { ...cm(name, '1').metadata, managedFields: [{ manager: 'kubectl' }] } });
    server = createServer((req, res) => {
      const url = new URL(req.url!, 'http://x');
      if (url.searchParams.get('watch')) return res.writeHead(200, { 'content-type': 'application/json' }).flushHeaders();
      const cont = url.searchParams.get('continue');
      log.push(`page ${cont ?? 'first'} (limit ${url.searchParams.get('limit')})`);
      const body = cont ? { items: [withFields('c')], metadata: { resourceVersion: '3' } } : { items: [withFields('a'), withFields('b')], metadata: { resourceVersion: '3', continue: 'more' } };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const client = new KubeClient({
      server: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
      rejectUnauthorized: true,
      source: 'test',
      headers: async () => ({}),
      refresh: () => {},
    });
    const transform = (o: ReturnType<typeof cm>) => {
      log.push(`store ${o.metadata.name}${'managedFields' in o.metadata ? ' with managedFields' : ''}`);
      return o;
    };
    const inf = new Informer(client, { resource: Resources.ConfigMap, pageSize: 2, transform }, pino({ level: 'silent' }));
    inf.start();
    try {
      await inf.synced;
      expect(log).toEqual(['page first (limit 2)', 'store a', 'store b', 'page more (limit 2)', 'store c']);
      expect(inf.list().map((o) => o.metadata.name)).toEqual(['a', 'b', 'c']);
    } finally {
      await inf.stop();
      await client.close();
    }
  });

  it('keepOnly shares equal labels, owners and fields between the objects it keeps', () => {
    const owner = [{ apiVersion: 'miniapps.dev/v1alpha1', kind: 'Organization', name: 'o', uid: 'u', controller: true }];
    const role = (name: string) =>
      JSON.parse(
        JSON.stringify({
          metadata: { name, namespace: 'ns', uid: name, resourceVersion: '1', labels: { team: 'a' }, ownerReferences: owner, annotations: { x: 'y' } },
          rules: [{ verbs: ['get'] }],
          extra: 1,
        }),
      );
    const keep = keepOnly(['rules']);
    const [a, b] = [keep(role('a')), keep(role('b'))] as { metadata: Record<string, unknown>; rules: unknown }[];
    expect(a!.metadata.ownerReferences).toEqual(owner);
    expect(a!.metadata.ownerReferences).toBe(b!.metadata.ownerReferences);
    expect(a!.metadata.labels).toBe(b!.metadata.labels);
    expect(a!.rules).toBe(b!.rules);
    expect(a).not.toHaveProperty('extra');
    expect(a!.metadata).not.toHaveProperty('annotations');
  });

  it('keepOnly keeps the finalizers (what needsApply compares), and adds none to an object without', () => {
    const keep = keepOnly(['roleRef']);
    const binding = (finalizers?: string[]) => ({ metadata: { name: 'b', namespace: 'ns', uid: 'u', resourceVersion: '1', ...(finalizers ? { finalizers } : {}) }, roleRef: { name: 'r' } });
    expect((keep(binding(['miniapps.dev/namespace-access']) as never) as { metadata: { finalizers?: string[] } }).metadata.finalizers).toEqual(['miniapps.dev/namespace-access']);
    expect((keep(binding() as never) as { metadata: object }).metadata).not.toHaveProperty('finalizers');
  });
});

describe('declared caches', () => {
  it('refuses a second declaration of one resource and selector (no silent first-caller-wins)', async () => {
    const { Manager } = await import('./controller.ts');
    const { OperatorMetrics } = await import('./metrics.ts');
    const pino = (await import('pino')).default;
    const manager = new Manager({ client: {} as never, log: pino({ level: 'silent' }), metrics: new OperatorMetrics() });
    const resource = { group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false };
    const slim = { name: 'namespaces', resource, transform: (o: never) => o };
    expect(manager.cache(slim)).toBe(manager.cache(slim));
    expect(() => manager.cache({ name: 'namespaces with annotations', resource })).toThrow(/Cache conflict: namespaces is declared twice \(as "namespaces" and "namespaces with annotations"\)/);
    expect(() => manager.cache({ name: 'labelled namespaces', resource, labelSelector: 'team=x' })).not.toThrow();
  });

  it("lists a cache declared in the operator's or the identity provider's namespace there, and nowhere else; cluster-wide otherwise", async () => {
    const { Manager } = await import('./controller.ts');
    const { OperatorMetrics } = await import('./metrics.ts');
    const listed: (string | undefined)[] = [];
    const client = {
      list: async (_rt: unknown, opts: { namespace?: string }) => {
        listed.push(opts.namespace);
        return { items: [], metadata: { resourceVersion: '1' } };
      },
      async *watch(_rt: unknown, opts: { signal: AbortSignal }) {
        await new Promise((r) => opts.signal.addEventListener('abort', r, { once: true }));
      },
    };
    const secrets = { group: '', version: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true };
    const declare = (m: InstanceType<typeof Manager>) => {
      m.cache({ name: 'keys', resource: secrets, labelSelector: 'k', inNamespace: 'operator' });
      m.cache({ name: 'accounts', resource: secrets, labelSelector: 'a', inNamespace: 'identity' });
      m.cache({ name: 'everywhere', resource: secrets, labelSelector: 'e' });
    };
    const log = pino({ level: 'silent' });
    for (const [opts, expected] of [
      [{ namespace: 'ops', identityNamespace: 'ops-identity' }, ['ops', 'ops-identity', undefined]],
      [{ namespace: 'ops' }, ['ops', 'ops', undefined]],
    ] as const) {
      listed.length = 0;
      const manager = new Manager({ client: client as never, log, metrics: new OperatorMetrics({ processMetrics: false }), ...opts });
      declare(manager);
      await manager.start(() => {});
      expect(listed).toEqual(expected);
      await manager.stop();
    }
    const without = new Manager({ client: client as never, log, metrics: new OperatorMetrics({ processMetrics: false }) });
    expect(() => without.cache({ name: 'accounts', resource: secrets, inNamespace: 'identity' })).toThrow('Cache accounts reads the identity namespace, and the Manager was given none');
  });

  it('refuses an index of the same name with another function (an indexer conflict)', async () => {
    const inf = new Informer({} as never, { resource: { group: '', version: 'v1', kind: 'Pod', plural: 'pods', namespaced: true } }, (await import('pino')).default({ level: 'silent' }));
    const byNs = (o: { metadata: { namespace?: string } }) => [o.metadata.namespace ?? ''];
    inf.addIndexer('namespace', byNs);
    inf.addIndexer('namespace', byNs);
    expect(() => inf.addIndexer('namespace', (o) => [o.metadata.name ?? ''])).toThrow(/Indexer conflict/);
  });
});

describe('waiting for caches', () => {
  it('gives up after the sync timeout, naming the cache and the likely cause (a missing CRD)', async () => {
    const { Manager } = await import('./controller.ts');
    const { OperatorMetrics } = await import('./metrics.ts');
    const { ApiError } = await import('./errors.ts');
    const client = {
      list: async () => {
        throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
      },
    };
    const manager = new Manager({ client: client as never, log: pino({ level: 'silent' }), metrics: new OperatorMetrics(), cacheSyncTimeoutMs: 300 });
    manager.cache({ name: 'widgets', resource: { group: 'example.com', version: 'v1', kind: 'Widget', plural: 'widgets', namespaced: true } });
    await expect(manager.start(() => {})).rejects.toThrow(/Caches not synced after 0s: widgets \(the resource does not exist on the API server: is its CRD installed/);
    await manager.stop();
  });
});

describe('Informer resync', () => {
  it.each([
    [0, 850],
    [0.5, 1000],
    [0.999, 1150],
  ])('draws from random %s a period of %s ms for 1000 ms ± 15%%', (r, ms) => expect(jittered(1000, 0.15, () => r)).toBe(ms));

  it('spreads resyncs: caches started together resync at different moments, the first resync too', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    try {
      // A client that lists one object and then watches quietly until stopped.
      const client = {
        list: async () => ({ items: [cm('a', '1')], metadata: { resourceVersion: '1' } }),
        async *watch(_rt: unknown, opts: { signal: AbortSignal }) {
          await new Promise((r) => opts.signal.addEventListener('abort', r, { once: true }));
        },
      } as unknown as KubeClient;
      const resyncs: Record<string, number[]> = { early: [], late: [] };
      const informers = (['early', 'late'] as const).map((name) => {
        const inf = new Informer(client, { resource: Resources.ConfigMap, resyncMs: 1000, watchIdleMs: 60_000, random: () => (name === 'early' ? 0 : 0.999) }, pino({ level: 'silent' }));
        inf.addHandler({ onUpdate: (o, n) => o === n && resyncs[name]!.push(Date.now()) });
        return inf;
      });
      const t0 = Date.now();
      for (const inf of informers) inf.start();
      await Promise.all(informers.map((i) => i.synced));
      await vi.advanceTimersByTimeAsync(2400);
      expect(resyncs.early!.map((t) => t - t0)).toEqual([850, 1700]);
      expect(resyncs.late!.map((t) => t - t0)).toEqual([1150, 2300]);
      await Promise.all(informers.map((i) => i.stop()));
    } finally {
      vi.useRealTimers();
    }
  });
});
