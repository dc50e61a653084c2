// One reconcile step of the SuperApp controller on in-memory caches and an in-memory API
// server: the catalog ConfigMap it writes (and when it writes none), the snapshots, the
// condition set. The integration tests prove it on the real control plane.
import { beforeEach, describe, expect, it } from 'vitest';
import type { MiniApp } from '../../api/miniapp/schema.ts';
import type { MiniAppReview } from '../../api/miniappreview/schema.ts';
import type { Organization } from '../../api/organization/schema.ts';
import type { PlatformConfig } from '../../api/platformconfig/schema.ts';
import type { SuperApp } from '../../api/superapp/schema.ts';
import { Caches } from '../../domain/caches.ts';
import { ApiError } from '../../runtime/errors.ts';
import type { AnyObject } from '../../runtime/kube/client.ts';
import { Resources } from '../../runtime/kube/resource.ts';
import type { AnyCacheDecl } from '../../runtime/cache.ts';
import type { FakeStore, MemoryCaches } from '../../runtime/testing.ts';
import { FakeWorld, recordedApproval } from '../testing.ts';
import type { ConfigMapObject } from '../../runtime/objects.ts';
import { Kinds } from '../../api/registry.ts';
import { SuperAppReconciler } from './controller.ts';

let now = new Date('2026-12-01T00:00:00Z');
let caches: MemoryCaches;
let store: FakeStore;
let events: string[];
let writes: string[];
let reconciler: SuperAppReconciler;
const signal = new AbortController().signal;

let world: FakeWorld;
const put = <T extends AnyObject>(rt: Parameters<FakeStore['seed']>[0], decl: AnyCacheDecl, obj: T): T => world.put(rt, decl, obj);
const organization = (name: string, spec: Partial<Organization['spec']> = {}) =>
  put(Kinds.Organization, Caches.organizations, {
    apiVersion: 'miniapps.dev/v1alpha1',
    kind: 'Organization',
    metadata: { name },
    spec: { displayName: name, capabilities: { superApps: true, miniApps: true }, ...spec },
    status: { namespace: `org-${name}` },
  } as Organization);
const superApp = (spec: Partial<SuperApp['spec']> = {}, generation = 1) =>
  put(Kinds.SuperApp, Caches.superApps, {
    apiVersion: 'miniapps.dev/v1alpha1',
    kind: 'SuperApp',
    metadata: { name: 'wallet', namespace: 'org-bank', uid: 'sa-uid', generation },
    spec: { displayName: 'Wallet', ...spec },
  } as SuperApp);
const miniApp = (name: string, spec: Partial<MiniApp['spec']> = {}) =>
  put(Kinds.MiniApp, Caches.miniApps, {
    apiVersion: 'miniapps.dev/v1alpha1',
    kind: 'MiniApp',
    metadata: { name, namespace: 'org-partner', generation: 1 },
    spec: { appName: name, type: 'Numeric', superApps: [{ organization: 'bank', name: 'wallet' }], versions: [{ name: '1.0' }], publishedVersion: '1.0', ...spec },
  } as MiniApp);
/** An approval of the mini app as it is, recorded as the MiniAppReview controller records it. */
const approve = (mini: string, version = '1.0') =>
  put(Kinds.MiniAppReview, Caches.miniAppReviews, {
    apiVersion: 'miniapps.dev/v1alpha1',
    kind: 'MiniAppReview',
    metadata: { name: `${mini}-${version}`, namespace: 'org-bank', generation: 1 },
    spec: { miniApp: { organization: 'partner', name: mini }, superApp: 'wallet', version, decision: 'Approved' },
    status: recordedApproval(world.store.peek<MiniApp>(Kinds.MiniApp, mini, 'org-partner')!),
  } as MiniAppReview);

/** The super app as the store has it, into the cache (as the watch would). */
const sync = () => caches.cache(Caches.superApps).put(store.peek<SuperApp>(Kinds.SuperApp, 'wallet', 'org-bank')!);
const status = () => store.peek<SuperApp>(Kinds.SuperApp, 'wallet', 'org-bank')!.status!;
const condition = (type: string) => status().conditions?.find((c) => c.type === type);
const configMap = (name: string) => store.peek<ConfigMapObject>(Resources.ConfigMap, name, 'org-bank');
const catalogOf = (name = 'wallet-catalog') => JSON.parse(configMap(name)!.data!['catalog.json']!) as { miniApps: { name: string; featured: boolean }[] };
const step = async () => {
  store.writes.length = 0;
  await reconciler.reconcile('org-bank/wallet', { signal });
  sync();
};

beforeEach(() => {
  now = new Date('2026-12-01T00:00:00Z');
  world = new FakeWorld(() => now);
  ({ caches, store, events } = world);
  const { deps } = world;
  writes = [];
  reconciler = new SuperAppReconciler(deps, { onCatalogWrite: (kind) => writes.push(kind) });
  put(Kinds.PlatformConfig, Caches.platformConfigs, {
    apiVersion: 'miniapps.dev/v1alpha1',
    kind: 'PlatformConfig',
    metadata: { name: 'default' },
    spec: { platforms: ['Android', 'iOS'], categories: ['Payments'] },
  } as PlatformConfig);
  organization('bank');
  organization('partner', { miniAppTargets: [{ organization: 'bank', name: 'wallet' }] });
});

describe('SuperAppReconciler, one step', () => {
  it('publishes the approved mini apps, featured first, with the hash in status; an unchanged catalog is not written again', async () => {
    superApp({ featured: [{ organization: 'partner', name: 'zeta' }] });
    for (const n of ['alpha', 'zeta', 'waiting']) miniApp(n);
    approve('alpha');
    approve('zeta');
    await step();
    expect(store.writes).toEqual([
      { verb: 'create', kind: 'ConfigMap', key: 'org-bank/wallet-catalog' },
      { verb: 'status', kind: 'SuperApp', key: 'org-bank/wallet' },
    ]);
    expect(catalogOf().miniApps.map((m) => [m.name, m.featured])).toEqual([
      ['zeta', true],
      ['alpha', false],
    ]);
    const cm = configMap('wallet-catalog')!;
    expect(cm.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'SuperApp', uid: 'sa-uid', controller: true });
    expect(status().catalog).toEqual({ configMapName: 'wallet-catalog', miniApps: 2, hash: cm.metadata.annotations!['miniapps.dev/catalog-hash'] });
    expect(condition('Ready')).toMatchObject({ status: 'True', observedGeneration: 1 });

    await step();
    expect(store.writes).toEqual([]);
    expect(writes).toEqual(['live']);
  });

  it('does not read a catalog it saw as it should be a moment ago; one changed or deleted behind its back is repaired after the verify interval', async () => {
    superApp();
    miniApp('alpha');
    approve('alpha');
    await step();
    await step();
    expect(store.writes).toEqual([]);
    await store.delete(Resources.ConfigMap, 'wallet-catalog', 'org-bank');
    await step();
    expect(configMap('wallet-catalog')).toBeUndefined();
    now = new Date(now.getTime() + 10 * 60_000);
    await step();
    expect(catalogOf().miniApps.map((m) => m.name)).toEqual(['alpha']);
  });

  it('rewrites the catalog when a mini app is approved, and only then', async () => {
    superApp();
    miniApp('alpha');
    await step();
    expect(catalogOf().miniApps).toEqual([]);
    approve('alpha');
    await step();
    expect(store.writes.map((w) => `${w.verb} ${w.kind}`)).toEqual(['apply ConfigMap', 'status SuperApp']);
    expect(catalogOf().miniApps.map((m) => m.name)).toEqual(['alpha']);
    expect(writes).toEqual(['live', 'live']);
  });

  it('reports a featured mini app that is not in the catalog, by name and why, without gating Ready', async () => {
    superApp({
      featured: [
        { organization: 'partner', name: 'waiting' },
        { organization: 'partner', name: 'ghost' },
      ],
    });
    miniApp('waiting');
    await step();
    expect(condition('FeaturedListed')).toMatchObject({
      status: 'False',
      reason: 'FeaturedNotListed',
      message: expect.stringContaining('partner/waiting (AwaitingReview), partner/ghost (no such MiniApp)'),
    });
    expect(condition('Ready')?.status).toBe('True');
    expect(events).toContain('Warning FeaturedNotListed');
  });

  it('a platform PlatformConfig does not allow is reported by name; the catalog is still published and nothing is deleted', async () => {
    superApp({ platforms: ['Android', 'Symbian'] });
    await step();
    expect(condition('PlatformsValid')).toMatchObject({ status: 'False', reason: 'PlatformNotAllowed', message: expect.stringContaining('Symbian') });
    expect(condition('Ready')).toMatchObject({ status: 'False', reason: 'PlatformNotAllowed' });
    expect(condition('Stalled')).toMatchObject({ status: 'True' });
    expect(configMap('wallet-catalog')).toBeDefined();
  });

  it("leaves a ConfigMap of the catalog's name that is not its own untouched, and says so", async () => {
    store.seed(Resources.ConfigMap, { metadata: { name: 'wallet-catalog', namespace: 'org-bank' }, data: { precious: 'yes' } });
    superApp();
    await step();
    expect(store.writes.filter((w) => w.kind === 'ConfigMap')).toEqual([]);
    expect(configMap('wallet-catalog')?.data).toEqual({ precious: 'yes' });
    expect(condition('CatalogPublished')).toMatchObject({ status: 'False', reason: 'CatalogConflict' });
  });

  it('freezes a version once, immutable, and never writes it again whatever changes', async () => {
    superApp();
    miniApp('alpha');
    approve('alpha');
    await step();
    superApp({ versions: [{ name: '1.0.0' }] }, 2);
    await step();
    const snap = configMap('wallet-catalog-1.0.0')!;
    expect(snap.immutable).toBe(true);
    expect(snap.data).toEqual(configMap('wallet-catalog')!.data);
    expect(status().versions).toEqual([{ name: '1.0.0', configMapName: 'wallet-catalog-1.0.0', miniApps: 1, frozenAt: '2026-12-01T00:00:00Z', hash: status().catalog!.hash }]);
    expect(writes).toEqual(['live', 'snapshot']);

    // Everything changes: another mini app approved, the super app renamed, time passes.
    now = new Date('2027-01-01T00:00:00Z');
    miniApp('beta');
    approve('beta');
    const s = store.peek<SuperApp>(Kinds.SuperApp, 'wallet', 'org-bank')!;
    store.seed(Kinds.SuperApp, { ...s, metadata: { ...s.metadata, generation: 3 }, spec: { ...s.spec, displayName: 'Renamed', featured: [{ organization: 'partner', name: 'beta' }] } });
    sync();
    await step();
    expect(store.writes.map((w) => `${w.verb} ${w.kind} ${w.key}`)).toEqual(['apply ConfigMap org-bank/wallet-catalog', 'status SuperApp org-bank/wallet']);
    expect(configMap('wallet-catalog-1.0.0')).toEqual(snap);
    expect(status().versions?.[0]?.frozenAt).toBe('2026-12-01T00:00:00Z');
  });

  it('a snapshot made before a crash (status not written) is recorded from the ConfigMap, not made again', async () => {
    superApp({ versions: [{ name: '2.0' }] });
    await step();
    const snap = configMap('wallet-catalog-2.0')!;
    // Status lost its record (the crash between the create and the status write).
    const s = store.peek<SuperApp>(Kinds.SuperApp, 'wallet', 'org-bank')!;
    store.seed(Kinds.SuperApp, { ...s, status: { ...s.status, versions: undefined } });
    sync();
    now = new Date('2027-01-01T00:00:00Z');
    await step();
    expect(store.writes.filter((w) => w.kind === 'ConfigMap')).toEqual([]);
    expect(status().versions).toEqual([
      { name: '2.0', configMapName: 'wallet-catalog-2.0', miniApps: 0, frozenAt: '2026-12-01T00:00:00Z', hash: snap.metadata.annotations!['miniapps.dev/catalog-hash'] },
    ]);
  });

  it('a super app in an organization without the capability is reported and nothing is published', async () => {
    organization('bank', { capabilities: { miniApps: true } });
    superApp();
    await step();
    expect(store.writes.map((w) => w.kind)).toEqual(['SuperApp']);
    expect(condition('Allowed')).toMatchObject({ status: 'False', reason: 'CapabilityMissing' });
    expect(condition('Stalled')?.status).toBe('True');
  });

  it('a mini app whose deletion is confirmed leaves the catalog; one held unconfirmed stays', async () => {
    superApp();
    miniApp('alpha');
    approve('alpha');
    const held = miniApp('held');
    approve('held');
    caches.cache(Caches.miniApps).put({ ...held, metadata: { ...held.metadata, deletionTimestamp: '2026-12-01T00:00:00Z' } });
    const going = store.peek<MiniApp>(Kinds.MiniApp, 'alpha', 'org-partner')!;
    caches.cache(Caches.miniApps).put({ ...going, metadata: { ...going.metadata, deletionTimestamp: '2026-12-01T00:00:00Z', annotations: { 'miniapps.dev/confirm-delete': 'CONFIRM DELETE' } } });
    await step();
    expect(catalogOf().miniApps.map((m) => m.name)).toEqual(['held']);
  });
});

describe('SuperAppReconciler: the error contract', () => {
  it('a catalog the API server fails to write: CatalogPublished and Ready False ApplyFailed, and the reconcile throws with the cause', async () => {
    superApp();
    miniApp('alpha');
    approve('alpha');
    store.failing = (w) => (w.kind === 'ConfigMap' ? new ApiError(503, 'ServiceUnavailable', 'the server is currently unable to handle the request') : undefined);
    const failure = await reconciler.reconcile('org-bank/wallet', { signal }).then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    expect(failure?.message).toMatch(/ConfigMap wallet-catalog could not be written/);
    expect((failure?.cause as Error | undefined)?.message).toBe('the server is currently unable to handle the request');
    expect(condition('CatalogPublished')).toMatchObject({ status: 'False', reason: 'ApplyFailed' });
    expect(condition('Ready')).toMatchObject({ status: 'False', reason: 'ApplyFailed' });
  });
});
