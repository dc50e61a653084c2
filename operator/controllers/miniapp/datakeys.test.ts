// The data key protocol on an in-memory API server: one key per mini app whatever
// happens, rewrapped (the same key) on rotation, old versions retired only when unused,
// never overwritten when it does not unwrap.
import pino from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import type { MiniApp } from '../../api/miniapp/schema.ts';
import { Caches } from '../../domain/caches.ts';
import { KEK_SECRET_NAME, KeyRing } from './keyring.ts';
import { Resources } from '../../runtime/kube/resource.ts';
import { FakeStore, MemoryCaches } from '../../runtime/testing.ts';
import { Kinds } from '../../api/registry.ts';
import { SecretDataKeys } from './datakeys.ts';

const clock = { now: () => new Date('2026-12-01T00:00:00Z') };
let store: FakeStore;
let caches: MemoryCaches;
let ring: KeyRing;
let rotation: string | undefined;
let keys: SecretDataKeys;

const mini = (name: string, uid = `uid-${name}`, status?: MiniApp['status']): MiniApp => {
  const m = store.seed(Kinds.MiniApp, {
    apiVersion: 'miniapps.dev/v1alpha1',
    kind: 'MiniApp',
    metadata: { name, namespace: 'org-p', uid },
    spec: { appName: name, type: 'Text', dataPrivacy: { protection: 'EnvelopeEncryption' } },
    ...(status ? { status } : {}),
  } as MiniApp);
  caches.cache(Caches.miniApps).put(m);
  return m;
};
const secret = (name: string) => store.peek<{ data: Record<string, string>; metadata: { resourceVersion?: string } }>(Resources.Secret, `${name}-data-key`, 'org-p');
/** What the reconciler would write to status, into the cache. */
const record = (m: MiniApp, status: MiniApp['status']) => caches.cache(Caches.miniApps).put({ ...m, status: { ...m.status, ...status } });

beforeEach(async () => {
  store = new FakeStore();
  caches = new MemoryCaches();
  ring = new KeyRing(store, 'ops', clock, { ttlMs: 0 });
  await ring.ensureExists();
  rotation = undefined;
  keys = new SecretDataKeys({ store, ring, clock, log: pino({ level: 'silent' }), caches, rotationRequest: () => rotation });
});

describe('SecretDataKeys', () => {
  it('makes one data key, wrapped, and finds it again: a second reconcile writes nothing', async () => {
    const m = mini('vault');
    const first = await keys.ensure(m);
    expect(first).toMatchObject({ condition: { status: 'True', reason: 'DataKeyReady' }, status: { secretName: 'vault-data-key', keyEncryptionKeyId: 'v1' } });
    const key = await keys.dataKeyOf(m);
    expect(key?.length).toBe(32);
    const s = secret('vault')!;
    expect(Buffer.from(s.data.wrappedKey!, 'base64').includes(key!)).toBe(false);
    store.writes.length = 0;
    expect((await keys.ensure(m)).condition.status).toBe('True');
    expect(store.writes).toEqual([]);
    expect((await keys.dataKeyOf(m))!.equals(key!)).toBe(true);
  });

  it('rewraps the same data key when the key-encryption key rotates, and retires the old version once no key uses it', async () => {
    const a = mini('a');
    const b = mini('b');
    for (const m of [a, b]) record(m, { dataKey: (await keys.ensure(m)).status });
    const before = [await keys.dataKeyOf(a), await keys.dataKeyOf(b)];
    rotation = '2026-12';
    const ra = await keys.ensure(a);
    expect(ra.status?.keyEncryptionKeyId).toBe('v2');
    expect(ra.condition.message).toContain('rewrapped from key-encryption key v1 to v2');
    let state = await ring.state(true);
    expect(state.ok && [...state.keys.keys()]).toEqual(['v1', 'v2']); // b still uses v1
    const rb = await keys.ensure(b);
    expect(rb.status?.keyEncryptionKeyId).toBe('v2');
    state = await ring.state(true);
    expect(state.ok && [...state.keys.keys()]).toEqual(['v2']);
    expect([await keys.dataKeyOf(a), await keys.dataKeyOf(b)]).toEqual(before);
  });

  it('retires the old version at a reconcile that finds its key already current (a process killed after a rewrap, before its status)', async () => {
    const a = mini('a');
    const b = mini('b');
    for (const m of [a, b]) record(m, { dataKey: (await keys.ensure(m)).status });
    rotation = '2026-12';
    // One process rewraps a's Secret, then dies before a's status says v2 (the cache still says v1).
    await keys.ensure(a);
    // The next process rewraps b (a still looks like v1 to it), then finds a's key already current: the last reconcile of the rotation.
    keys = new SecretDataKeys({ store, ring, clock, log: pino({ level: 'silent' }), caches, rotationRequest: () => rotation });
    expect((await keys.ensure(b)).status?.keyEncryptionKeyId).toBe('v2');
    let state = await ring.state(true);
    expect(state.ok && [...state.keys.keys()]).toEqual(['v1', 'v2']);
    expect((await keys.ensure(a)).status?.keyEncryptionKeyId).toBe('v2');
    state = await ring.state(true);
    expect(state.ok && [...state.keys.keys()]).toEqual(['v2']);
  });

  it('never overwrites a data key that does not unwrap: it reports it', async () => {
    const m = mini('vault');
    await keys.ensure(m);
    const s = secret('vault')!;
    const w = Buffer.from(s.data.wrappedKey!, 'base64');
    w[15] ^= 1;
    store.seed(Resources.Secret, { ...s, data: { ...s.data, wrappedKey: w.toString('base64') } } as never);
    store.writes.length = 0;
    rotation = 'now';
    const out = await keys.ensure(m);
    expect(out).toMatchObject({ condition: { status: 'False', reason: 'DataKeyUnwrapFailed' }, stalled: false, requeueAfterMs: 15_000 });
    expect(store.writes.filter((x) => x.kind === 'Secret' && x.key !== `ops/${KEK_SECRET_NAME}`)).toEqual([]);
  });

  it('a tampered key ring: nothing is made or rewrapped, and it is reported', async () => {
    const kek = store.peek<{ metadata: object; data: Record<string, string> }>(Resources.Secret, KEK_SECRET_NAME, 'ops')!;
    const doc = JSON.parse(Buffer.from(kek.data['keyring.json']!, 'base64').toString());
    doc.versions[0].key = Buffer.alloc(32, 7).toString('base64');
    store.seed(Resources.Secret, { ...kek, data: { 'keyring.json': Buffer.from(JSON.stringify(doc)).toString('base64') } } as never);
    store.writes.length = 0;
    const out = await keys.ensure(mini('vault'));
    expect(out).toMatchObject({ condition: { status: 'False', reason: 'KeyEncryptionKeyInvalid', message: expect.stringContaining('no longer matches its check value') } });
    expect(store.writes).toEqual([]);
  });

  it("leaves a Secret of the key's name that is not this mini app's alone", async () => {
    store.seed(Resources.Secret, { metadata: { name: 'vault-data-key', namespace: 'org-p' }, data: { x: 'eQ==' } });
    const out = await keys.ensure(mini('vault'));
    expect(out.condition).toMatchObject({ status: 'False', reason: 'DataKeyConflict' });
    expect(secret('vault')?.data).toEqual({ x: 'eQ==' });
  });

  it('a data key recorded in status whose Secret is gone is reported, not silently replaced', async () => {
    const m = mini('vault', 'uid-vault', { dataKey: { secretName: 'vault-data-key', keyEncryptionKeyId: 'v1', wrappedAt: '2026-01-01T00:00:00Z' } });
    const out = await keys.ensure(m);
    expect(out.condition).toMatchObject({ status: 'False', reason: 'DataKeyMissing' });
    expect(secret('vault')).toBeUndefined();
  });

  it('destroys the data key of its own mini app only', async () => {
    const m = mini('vault');
    await keys.ensure(m);
    await keys.destroy(mini('vault', 'another-uid'));
    expect(secret('vault')).toBeDefined();
    await keys.destroy(m);
    expect(secret('vault')).toBeUndefined();
    expect(await keys.dataKeyOf(m)).toBeUndefined();
  });
});
