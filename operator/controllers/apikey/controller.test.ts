// Reconcile steps of the ApiKey controller on in-memory caches and an in-memory API
// server (runtime/testing.ts), and the verifier over the same caches. The integration
// tests prove it on the real control plane (apikeys.itest.ts, tokens.itest.ts).
import pino from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ApiKey } from '../../api/apikey/schema.ts';
import type { Membership } from '../../api/membership/schema.ts';
import type { Organization } from '../../api/organization/schema.ts';
import type { PlatformConfig } from '../../api/platformconfig/schema.ts';
import { Caches } from '../../domain/caches.ts';
import { Domain } from '../../domain/lookups.ts';
import { ApiError } from '../../runtime/errors.ts';
import { Resources } from '../../runtime/kube/resource.ts';
import { FakeStore, MemoryCaches } from '../../runtime/testing.ts';
import type { ControllerDeps } from '../deps.ts';
import { Kinds } from '../../api/registry.ts';
import { ApiKeyReconciler } from './controller.ts';
import { generateKey } from './key.ts';
import type { GeneratedKey } from './key.ts';
import { keyTimes } from './logic.ts';
import { KeyVerifier } from './verify.ts';
import { KeySeal, SECRET_SEAL_ANNOTATION, sealKeyId } from './seal.ts';

const seal = new KeySeal(Buffer.alloc(32, 7));

const NS = 'org-acme';
let now: Date;
let caches: MemoryCaches;
let store: FakeStore;
let events: string[];
let issued: GeneratedKey[];
let reconciler: ApiKeyReconciler;
let verifier: KeyVerifier;
const signal = new AbortController().signal;
const clock = { now: () => now };

const org: Organization = { apiVersion: 'miniapps.dev/v1alpha1', kind: 'Organization', metadata: { name: 'acme', uid: 'uid-acme' }, spec: { displayName: 'Acme' }, status: { namespace: NS } };
const member = (spec: Partial<Membership['spec']> = {}): Membership => ({
  apiVersion: 'miniapps.dev/v1alpha1',
  kind: 'Membership',
  metadata: { name: 'dev', namespace: NS, uid: 'uid-dev' },
  spec: { email: 'dev@acme.example', role: 'MiniAppDeveloper', acceptance: 'Automatic', ...spec },
});

function apiKey(spec: Partial<ApiKey['spec']> = {}, namespace = NS): ApiKey {
  return store.seed(Kinds.ApiKey, {
    apiVersion: 'miniapps.dev/v1alpha1',
    kind: 'ApiKey',
    metadata: { name: 'ci', namespace, generation: 1, creationTimestamp: '2026-12-01T00:00:00Z' },
    spec: { owner: 'Dev@acme.example', ttl: '720h', ...spec },
  });
}

/** The cache sees what the store has (as the informer would after the watch event). */
const sync = (namespace = NS) => caches.cache(Caches.apiKeys).put(store.peek<ApiKey>(Kinds.ApiKey, 'ci', namespace)!);
const current = (namespace = NS) => store.peek<ApiKey>(Kinds.ApiKey, 'ci', namespace)!;
const cond = (type: string, namespace = NS) => current(namespace).status?.conditions?.find((c) => c.type === type);
const secretKey = (name: string) => Buffer.from(store.peek<{ metadata: object; data: Record<string, string> }>(Resources.Secret, name, NS)!.data.apiKey!, 'base64').toString('utf8');

async function step(namespace = NS) {
  sync(namespace);
  const res = await reconciler.reconcile(`${namespace}/ci`, { signal });
  sync(namespace);
  return res;
}

beforeEach(() => {
  now = new Date('2026-12-01T00:00:10Z');
  caches = new MemoryCaches();
  store = new FakeStore();
  events = [];
  issued = [];
  caches.cache(Caches.organizations).put(org);
  caches.cache(Caches.memberships).put(member());
  const deps: ControllerDeps = {
    caches,
    domain: new Domain(caches),
    store,
    clock,
    recorder: { event: (_o, type, reason, note) => events.push(`${type} ${reason}: ${note}`) },
    log: pino({ level: 'silent' }),
    operatorNamespace: 'miniapps-system',
  };
  reconciler = new ApiKeyReconciler(deps, {
    seal,
    generate: () => {
      const k = generateKey();
      issued.push(k);
      return k;
    },
  });
  verifier = new KeyVerifier(caches.cache(Caches.apiKeys), deps.domain, clock, 'miniapps-system', seal);
});

describe('item 1: status is not authority (the operator believes only what it sealed, and grants or deletes only Secrets the ApiKey owns)', () => {
  const forge = (status: Record<string, unknown>) => {
    store.seed(Kinds.ApiKey, { ...current(), status: { ...current().status, ...status } });
    sync();
  };
  const victim = () => store.seed(Resources.Secret, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'smtp', namespace: NS, uid: 'uid-smtp' }, data: { password: 'c2VjcmV0' } } as never);

  it('item 1a: a key id and fingerprint written into status by someone else do not verify, and a new key replaces the record', async () => {
    apiKey();
    await step();
    const mine = generateKey();
    forge({ keyId: mine.keyId, fingerprint: mine.fingerprint });
    expect(await verifier.verify(mine.token)).toMatchObject({ ok: false });
    // Copying another ApiKey's sealed record does not help either: the seal names the ApiKey.
    const sealed = current().status!;
    forge({ keyId: sealed.keyId, fingerprint: sealed.fingerprint, seal: seal.current({ metadata: { ...current().metadata, name: 'other' } }, { ...sealed }) });
    expect(await verifier.verify(issued[0]!.token)).toMatchObject({ ok: false });
    forge({ keyId: mine.keyId, fingerprint: mine.fingerprint, seal: undefined });
    await step();
    expect(events.some((e) => e.startsWith('Warning StatusNotTrusted'))).toBe(true);
    expect(current().status).toMatchObject({ rotationRevision: 1, keyId: issued[1]!.keyId });
    expect(await verifier.verify(mine.token)).toMatchObject({ ok: false });
    expect(await verifier.verify(issued[1]!.token)).toMatchObject({ ok: true });
  });

  it('item 1b: a Secret that status names and the ApiKey does not own is never granted to the owner', async () => {
    apiKey();
    await step();
    victim();
    forge({ secretName: 'smtp' });
    await step();
    const role = store.peek<{ metadata: object; rules: { resources: string[]; resourceNames?: string[] }[] }>(Resources.Role, 'miniapps:apikey:ci', NS)!;
    expect(role.rules.flatMap((r) => r.resourceNames ?? [])).not.toContain('smtp');
    expect(events.some((e) => e.startsWith('Warning StatusNotTrusted'))).toBe(true);
  });

  it('item 1c: a previous key that status names with a Secret the ApiKey does not own is ignored, and that Secret is not deleted', async () => {
    apiKey();
    await step();
    victim();
    forge({ previousKey: { keyId: '0123456789abcdef', fingerprint: 'ab'.repeat(32), secretName: 'smtp', validUntil: '2026-01-01T00:00:00Z' } });
    await step();
    expect(store.peek(Resources.Secret, 'smtp', NS)).toBeDefined();
    expect(current().status?.previousKey).toBeUndefined();
    // Revoked: the Secrets status names go, only this ApiKey's own.
    forge({ secretName: 'smtp' });
    store.seed(Kinds.ApiKey, { ...current(), spec: { ...current().spec, revoked: true } });
    await step();
    expect(store.peek(Resources.Secret, 'smtp', NS)).toBeDefined();
  });

  it("a record from before seals existed is believed when the ApiKey's own Secret holds that key, and sealed", async () => {
    apiKey();
    await step();
    forge({ seal: undefined });
    expect(await verifier.verify(issued[0]!.token)).toMatchObject({ ok: false });
    await step();
    expect(issued).toHaveLength(1);
    expect(current().status?.seal).toBeDefined();
    expect(await verifier.verify(issued[0]!.token)).toMatchObject({ ok: true });
  });
});

describe('ApiKeyReconciler, one step', () => {
  it('issues the first key into its Secret, then records its id and hash (never the key) in status, and gives the owner that Secret by name', async () => {
    apiKey();
    await step();
    expect(store.writes.map((w) => `${w.verb} ${w.kind}`)).toEqual(['create Secret', 'apply Role', 'apply RoleBinding', 'status ApiKey']);
    const s = current().status!;
    expect(s).toMatchObject({
      phase: 'Active',
      rotationRevision: 0,
      secretName: 'ci-r0',
      keyId: issued[0]!.keyId,
      fingerprint: issued[0]!.fingerprint,
      prefix: `mak_${issued[0]!.keyId}`,
      expiresAt: '2026-12-31T00:00:00Z',
    });
    expect(secretKey('ci-r0')).toBe(issued[0]!.token);
    expect(JSON.stringify(current())).not.toContain(issued[0]!.token);
    expect(events.join('\n')).not.toContain(issued[0]!.token);
    const role = store.peek<{ metadata: object; rules: { resources: string[]; resourceNames?: string[] }[] }>(Resources.Role, 'miniapps:apikey:ci', NS)!;
    expect(role.rules.find((r) => r.resources[0] === 'secrets')?.resourceNames).toEqual(['ci-r0']);
    const binding = store.peek<{ metadata: object; subjects: { name: string }[] }>(Resources.RoleBinding, 'miniapps:apikey:ci', NS)!;
    expect(binding.subjects.map((x) => x.name)).toEqual(['dev@acme.example']);
    expect(s.conditions?.map((c) => [c.type, c.status])).toEqual([
      ['KeyValid', 'True'],
      ['OwnerActive', 'True'],
      ['KeyIssued', 'True'],
      ['Ready', 'True'],
    ]);
  });

  it('reuses the Secret an earlier attempt created (killed before it recorded status): one key per revision', async () => {
    apiKey();
    const earlier = generateKey();
    // What a killed attempt left: the Secret of revision 0 (with the operator's seal, as it creates them), status still empty.
    const { keySecret } = await import('./logic.ts');
    const body = keySecret({ ...current(), metadata: { ...current().metadata } }, 0, earlier);
    body.metadata.annotations = { ...body.metadata.annotations, [SECRET_SEAL_ANNOTATION]: seal.secret(current(), { revision: 0, keyId: earlier.keyId, fingerprint: earlier.fingerprint }) };
    store.seed(Resources.Secret, body as never);
    await step();
    expect(current().status).toMatchObject({ keyId: earlier.keyId, fingerprint: earlier.fingerprint, rotationRevision: 0 });
    expect(secretKey('ci-r0')).toBe(earlier.token);
  });

  it('rotates on schedule, the previous key still accepted until the grace period ends, then refused', async () => {
    apiKey({ rotation: { period: '1h', gracePeriod: '10m' } });
    await step();
    const first = issued[0]!;
    expect(await verifier.verify(first.token)).toMatchObject({ ok: true });
    now = new Date(Date.parse(current().status!.createdAt!) + 3_600_000);
    await step();
    const second = issued[1]!;
    expect(current().status).toMatchObject({ rotationRevision: 1, keyId: second.keyId, secretName: 'ci-r1', previousKey: { keyId: first.keyId, secretName: 'ci-r0' } });
    expect(await verifier.verify(second.token)).toMatchObject({ ok: true, identity: { previous: false } });
    expect(await verifier.verify(first.token)).toMatchObject({ ok: true, identity: { previous: true } });
    now = new Date(Date.parse(current().status!.previousKey!.validUntil));
    expect(await verifier.verify(first.token)).toMatchObject({ ok: false, reason: expect.stringContaining('rotated out') });
    await step();
    expect(current().status?.previousKey).toBeUndefined();
    expect(await verifier.verify(first.token)).toMatchObject({ ok: false, reason: expect.stringContaining('unknown API key') });
  });

  it('a revoked key is refused at once, and Ready False with Stalled', async () => {
    apiKey();
    await step();
    expect((await verifier.verify(issued[0]!.token)).ok).toBe(true);
    store.seed(Kinds.ApiKey, { ...current(), spec: { ...current().spec, revoked: true } });
    sync();
    expect(await verifier.verify(issued[0]!.token)).toMatchObject({ ok: false, reason: expect.stringContaining('revoked') });
    await step();
    expect(current().status?.phase).toBe('Revoked');
    expect(cond('Ready')).toMatchObject({ status: 'False', reason: 'Revoked' });
    expect(cond('Stalled')).toMatchObject({ status: 'True', reason: 'Revoked' });
    // Nothing holds the key any longer: its Secret is gone, status keeps only what identifies it.
    expect(store.peek(Resources.Secret, 'ci-r0', NS)).toBeUndefined();
    expect(current().status).toMatchObject({ keyId: issued[0]!.keyId, fingerprint: issued[0]!.fingerprint });
    expect(current().status?.secretName).toBeUndefined();
    expect(cond('KeyIssued')).toMatchObject({ status: 'False', reason: 'Revoked' });
  });

  it('replaces a key whose Secret was deleted: a new revision at once, the old key refused, a Warning', async () => {
    apiKey();
    await step();
    const first = issued[0]!;
    expect((await verifier.verify(first.token)).ok).toBe(true);
    await store.delete(Resources.Secret, 'ci-r0', NS);
    await step();
    const second = issued[1]!;
    expect(current().status).toMatchObject({ rotationRevision: 1, keyId: second.keyId, secretName: 'ci-r1', phase: 'Active' });
    expect(current().status?.previousKey).toBeUndefined();
    expect(secretKey('ci-r1')).toBe(second.token);
    expect(await verifier.verify(second.token)).toMatchObject({ ok: true });
    expect(await verifier.verify(first.token)).toMatchObject({ ok: false });
    expect(events.filter((e) => e.startsWith('Warning KeySecretMissing'))).toHaveLength(1);
    expect(events.join('\n')).not.toContain(first.token);
    // With the Secret in place, a reconcile changes nothing.
    await step();
    expect(issued).toHaveLength(2);
  });

  it('expires at expiresAt, to the second, and says when it wakes up for it', async () => {
    apiKey({ ttl: undefined, expiresAt: '2026-12-01T01:00:00Z' });
    const res = await step();
    expect(res?.requeueAfterMs).toBe(3_590_000 + 50);
    now = new Date('2026-12-01T00:59:59.999Z');
    expect((await verifier.verify(issued[0]!.token)).ok).toBe(true);
    now = new Date('2026-12-01T01:00:00Z');
    expect(await verifier.verify(issued[0]!.token)).toMatchObject({ ok: false, reason: expect.stringContaining('expired') });
    await step();
    expect(current().status?.phase).toBe('Expired');
  });

  it('a suspended owner disables the key (refused) and gets it back when the suspension ends', async () => {
    apiKey();
    await step();
    caches.cache(Caches.memberships).put(member({ suspended: true }));
    expect(await verifier.verify(issued[0]!.token)).toMatchObject({ ok: false, reason: expect.stringContaining('suspended') });
    await step();
    expect(current().status?.phase).toBe('Disabled');
    expect(cond('Ready')).toMatchObject({ status: 'False', reason: 'OwnerSuspended' });
    expect(cond('Stalled')).toBeUndefined();
    caches.cache(Caches.memberships).put(member());
    expect((await verifier.verify(issued[0]!.token)).ok).toBe(true);
  });

  it('issues nothing for an owner who is not a member', async () => {
    apiKey({ owner: 'stranger@elsewhere.example' });
    await step();
    expect(store.writes.filter((w) => w.kind === 'Secret')).toEqual([]);
    expect(current().status).toMatchObject({ phase: 'Disabled' });
    expect(cond('KeyIssued')).toMatchObject({ status: 'False', reason: 'NotIssued' });
    expect(cond('Ready')).toMatchObject({ status: 'False', reason: 'OwnerNotMember' });
  });

  it("in the operator namespace, only a provisioning administrator's key is issued, and it authenticates as them", async () => {
    const pc: PlatformConfig = {
      apiVersion: 'miniapps.dev/v1alpha1',
      kind: 'PlatformConfig',
      metadata: { name: 'default' },
      spec: { provisioningAdministrators: { users: ['Root@platform.example'] }, userPrefix: 'oidc:' },
    };
    caches.cache(Caches.platformConfigs).put(pc);
    apiKey({ owner: 'root@platform.example' }, 'miniapps-system');
    await step('miniapps-system');
    expect(current('miniapps-system').status?.phase).toBe('Active');
    const v = await verifier.verify(issued[0]!.token, 'kubernetes');
    expect(v).toMatchObject({ ok: true, identity: { username: 'oidc:root@platform.example', organization: undefined } });
    caches.cache(Caches.platformConfigs).put({ ...pc, spec: { ...pc.spec, provisioningAdministrators: { users: [] } } });
    expect(await verifier.verify(issued[0]!.token)).toMatchObject({ ok: false, reason: expect.stringContaining('not a provisioning administrator') });
  });
});

describe('KeyVerifier', () => {
  it('refuses a key without the scope asked for; empty scopes allow everything; x* allows what starts with x', async () => {
    apiKey({ scopes: ['catalog:*'] });
    await step();
    const t = issued[0]!.token;
    expect((await verifier.verify(t, 'catalog:read')).ok).toBe(true);
    expect(await verifier.verify(t, 'kubernetes')).toMatchObject({ ok: false, reason: expect.stringContaining('does not have the scope kubernetes') });
    expect((await verifier.verify(t)).ok).toBe(true);
  });

  it('refuses a well-formed key that no ApiKey holds, and one whose hash does not match', async () => {
    apiKey();
    await step();
    expect(await verifier.verify(generateKey().token)).toMatchObject({ ok: false, reason: expect.stringContaining('unknown API key') });
    caches.cache(Caches.apiKeys).remove(`${NS}/ci`);
    expect(await verifier.verify(issued[0]!.token)).toMatchObject({ ok: false, reason: expect.stringContaining('unknown API key') });
  });
});

describe('the expiry gauges of API keys (keyTimes)', () => {
  const at = new Date('2026-03-01T00:00:00Z');
  const key = (spec: Partial<ApiKey['spec']>, status: ApiKey['status'] = { phase: 'Active', keyId: 'k', createdAt: '2026-02-20T00:00:00Z' }): ApiKey => ({
    apiVersion: 'miniapps.dev/v1alpha1',
    kind: 'ApiKey',
    metadata: { name: 'ci', namespace: NS, creationTimestamp: '2026-02-01T00:00:00Z' },
    spec: { owner: 'dev@acme.example', ...spec } as ApiKey['spec'],
    status,
  });

  it('gives an active key its expiry (spec.expiresAt or creation plus spec.ttl) and its next rotation', () => {
    expect(keyTimes(key({ expiresAt: '2026-04-01T00:00:00Z' }), at)).toEqual({ expiresAt: Date.parse('2026-04-01T00:00:00Z'), rotatesAt: undefined });
    expect(keyTimes(key({ ttl: '720h' }), at)).toEqual({ expiresAt: Date.parse('2026-03-03T00:00:00Z'), rotatesAt: undefined });
    expect(keyTimes(key({ rotation: { period: '240h' } }), at)).toEqual({ expiresAt: undefined, rotatesAt: Date.parse('2026-03-02T00:00:00Z') });
  });

  it('gives nothing for a key that never expires nor rotates, is not Active, is past its expiry, and no rotation due after the expiry', () => {
    expect(keyTimes(key({}), at)).toBeUndefined();
    expect(keyTimes(key({ expiresAt: '2026-04-01T00:00:00Z' }, { phase: 'Disabled', keyId: 'k', createdAt: '2026-02-20T00:00:00Z' }), at)).toBeUndefined();
    expect(keyTimes(key({ expiresAt: '2026-04-01T00:00:00Z', revoked: true }), at)).toBeUndefined();
    expect(keyTimes(key({ expiresAt: '2026-02-28T00:00:00Z' }), at)).toBeUndefined();
    expect(keyTimes(key({ expiresAt: '2026-03-01T12:00:00Z', rotation: { period: '240h' } }), at)).toEqual({ expiresAt: Date.parse('2026-03-01T12:00:00Z'), rotatesAt: undefined });
  });
});

describe("the review of items 1 and 2: seals of a key ring, the verifier's fallback, Secrets the operator marked", () => {
  const secrets = (namespace: string, name: string) => Promise.resolve(store.peek<never>(Resources.Secret, name, namespace));

  it("review 1: a record the operator did not seal (an older version leading during an upgrade) verifies when its Secret is the operator's and holds that key; one read per version", async () => {
    apiKey();
    await step();
    store.seed(Kinds.ApiKey, { ...current(), status: { ...current().status, seal: undefined } });
    sync();
    let reads = 0;
    // biome-ignore lint/complexity/useLiteralKeys: deps is private; the test reads it
    const fallback = new KeyVerifier(caches.cache(Caches.apiKeys), reconciler['deps'].domain, clock, 'miniapps-system', seal, (ns, name) => (reads++, secrets(ns, name)));
    expect(await fallback.verify(issued[0]!.token)).toMatchObject({ ok: true });
    expect(await fallback.verify(issued[0]!.token)).toMatchObject({ ok: true });
    expect(reads).toBe(1);
    // A key someone else wrote into status with the same Secret named: that Secret does not hold it.
    const mine = generateKey();
    store.seed(Kinds.ApiKey, { ...current(), status: { ...current().status, keyId: mine.keyId, fingerprint: mine.fingerprint } });
    sync();
    expect(await fallback.verify(mine.token)).toMatchObject({ ok: false });
  });

  it('review 1: a seal key made anew is learned without losing the old one: seals of both verify, a seal of an unknown key asks for a reload', () => {
    const a = Buffer.alloc(32, 1);
    const b = Buffer.alloc(32, 2);
    const ring = new KeySeal(a, '2026-01-01T00:00:00Z');
    const who = { metadata: { name: 'ci', namespace: NS, uid: 'u1' } };
    const rec = { keyId: '0123456789abcdef', fingerprint: 'ab'.repeat(32), secretName: 'ci-r0', rotationRevision: 0, createdAt: '2026-01-02T00:00:00Z' };
    const byA = ring.current(who, rec);
    expect(byA).toMatch(new RegExp(`^v1:${sealKeyId(a)}:[0-9a-f]{64}$`));
    let asked = 0;
    const other = new KeySeal(b);
    other.onUnknown = () => asked++;
    expect(other.currentHolds({ ...who, status: { ...rec, seal: byA } } as ApiKey)).toBe(false);
    expect(asked).toBe(1);
    ring.use(b, '2026-02-01T00:00:00Z');
    expect(ring.currentHolds({ ...who, status: { ...rec, seal: byA } } as ApiKey)).toBe(true);
    expect(ring.currentHolds({ ...who, status: { ...rec, seal: other.current(who, rec) } } as ApiKey)).toBe(true);
    // createdAt is sealed: moving it (to put off a rotation) breaks the seal.
    expect(ring.currentHolds({ ...who, status: { ...rec, createdAt: '2026-06-01T00:00:00Z', seal: byA } } as ApiKey)).toBe(false);
  });

  it('review 2: a Secret someone else made with the ApiKey as its controller is not reused by a reissue, not believed, and its key never verifies', async () => {
    apiKey();
    await step();
    const planted = generateKey();
    const { keySecret } = await import('./logic.ts');
    store.seed(Resources.Secret, keySecret(current(), 1, planted) as never);
    // The current key's Secret goes: the reissue of revision 1 meets the planted Secret.
    await store.delete(Resources.Secret, 'ci-r0', NS);
    await expect(step()).rejects.toThrow(/does not carry the operator's seal/);
    expect(current().status?.keyId).not.toBe(planted.keyId);
    expect(cond('KeyIssued')).toMatchObject({ status: 'False', reason: 'IssueFailed' });
    // biome-ignore lint/complexity/useLiteralKeys: deps is private; the test reads it
    const fallback = new KeyVerifier(caches.cache(Caches.apiKeys), reconciler['deps'].domain, clock, 'miniapps-system', seal, secrets);
    expect((await fallback.verify(planted.token)).ok).toBe(false);
    // Nor is it believed when status names it (the policy gone): no seal, and the Secret is not the operator's.
    store.seed(Kinds.ApiKey, { ...current(), status: { ...current().status, keyId: planted.keyId, fingerprint: planted.fingerprint, secretName: 'ci-r1', rotationRevision: 1, seal: undefined } });
    sync();
    expect((await fallback.verify(planted.token)).ok).toBe(false);
  });

  it('review 2: a Secret made before any seal key existed (an upgrade) is believed on its ownerReference; one made after is not', () => {
    const ring = new KeySeal(Buffer.alloc(32, 3), '2026-06-01T00:00:00Z');
    const who = { metadata: { name: 'ci', namespace: NS, uid: 'u1' } };
    const r = { revision: 0, keyId: '0123456789abcdef', fingerprint: 'ab'.repeat(32) };
    expect(ring.secretHolds(who, r, { metadata: { creationTimestamp: '2026-05-31T23:59:59Z' } })).toBe(true);
    expect(ring.secretHolds(who, r, { metadata: { creationTimestamp: '2026-06-01T00:00:00Z' } })).toBe(false);
    expect(ring.secretHolds(who, r, { metadata: { annotations: { [SECRET_SEAL_ANNOTATION]: ring.secret(who, r) }, creationTimestamp: '2026-07-01T00:00:00Z' } })).toBe(true);
    expect(ring.secretHolds(who, { ...r, revision: 1 }, { metadata: { annotations: { [SECRET_SEAL_ANNOTATION]: ring.secret(who, r) }, creationTimestamp: '2026-07-01T00:00:00Z' } })).toBe(false);
  });
});

describe('ApiKey controller: the error contract', () => {
  it('a key Secret the API server fails to create: KeyIssued False IssueFailed, and the reconcile throws with the cause', async () => {
    apiKey();
    store.failing = (w) => (w.verb === 'create' && w.kind === 'Secret' ? new ApiError(500, 'InternalError', 'etcdserver: too many requests') : undefined);
    const failure = await step().then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    expect(failure?.message).toMatch(/could not be issued/);
    expect((failure?.cause as Error | undefined)?.message).toBe('etcdserver: too many requests');
    expect(cond('KeyIssued')).toMatchObject({ status: 'False', reason: 'IssueFailed' });
    expect(JSON.stringify(current().status)).not.toMatch(/mak_|apiKey/);
  });

  it("a rotation that fails after the previous key's grace ended still deletes that key's Secret before status stops naming it (CI, 7 Dec: a Secret left that nothing named)", async () => {
    apiKey({ rotation: { period: '1h', gracePeriod: '10m' } });
    await step();
    now = new Date(Date.parse(current().status!.createdAt!) + 3_600_000);
    await step();
    expect(current().status).toMatchObject({ rotationRevision: 1, previousKey: { secretName: 'ci-r0' } });
    // The next rotation is due (so the grace of r0 has long ended), and the API server refuses its Secret.
    now = new Date(now.getTime() + 3_600_000);
    store.failing = (w) => (w.verb === 'create' && w.kind === 'Secret' ? new ApiError(409, 'Conflict', 'Operation cannot be fulfilled on resourcequotas "miniapps-quota"') : undefined);
    await expect(step()).rejects.toThrow(/could not be issued/);
    const named = [current().status?.secretName, current().status?.previousKey?.secretName];
    expect(named).not.toContain('ci-r0');
    expect(store.peek(Resources.Secret, 'ci-r0', NS), 'a Secret status no longer names').toBeUndefined();
    store.failing = undefined;
    await step();
    expect(current().status).toMatchObject({ rotationRevision: 2, secretName: 'ci-r2' });
    expect(store.peek(Resources.Secret, 'ci-r0', NS)).toBeUndefined();
  });
});
