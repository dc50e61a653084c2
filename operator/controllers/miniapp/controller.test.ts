// One reconcile step of the MiniApp controller on in-memory caches and an in-memory API
// server: where it stands in each target, the checks of what slipped past admission, the
// held and the confirmed deletion.
import { beforeEach, describe, expect, it } from 'vitest';
import type { MiniApp } from '../../api/miniapp/schema.ts';
import type { MiniAppReview } from '../../api/miniappreview/schema.ts';
import type { Organization } from '../../api/organization/schema.ts';
import type { PlatformConfig } from '../../api/platformconfig/schema.ts';
import type { SuperApp } from '../../api/superapp/schema.ts';
import { Caches } from '../../domain/caches.ts';
import type { AnyObject } from '../../runtime/kube/client.ts';
import type { AnyCacheDecl } from '../../runtime/cache.ts';
import type { FakeStore, MemoryCaches } from '../../runtime/testing.ts';
import { FakeWorld, recordedApproval } from '../testing.ts';
import { Kinds } from '../../api/registry.ts';
import { MINIAPP_FINALIZER, MiniAppReconciler } from './controller.ts';

let caches: MemoryCaches;
let store: FakeStore;
let events: string[];
let reconciler: MiniAppReconciler;
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
const superApp = (name: string, ns = 'org-bank') =>
  put(Kinds.SuperApp, Caches.superApps, { apiVersion: 'miniapps.dev/v1alpha1', kind: 'SuperApp', metadata: { name, namespace: ns }, spec: { displayName: name } } as SuperApp);
const miniApp = (spec: Partial<MiniApp['spec']> = {}, meta: Partial<MiniApp['metadata']> = {}) =>
  put(Kinds.MiniApp, Caches.miniApps, {
    apiVersion: 'miniapps.dev/v1alpha1',
    kind: 'MiniApp',
    metadata: { name: 'pay', namespace: 'org-partner', generation: 1, ...meta },
    spec: { appName: 'pay', type: 'Numeric', versions: [{ name: '1.0' }, { name: '2.0' }], publishedVersion: '2.0', ...spec },
  } as MiniApp);
/** A review; an approval of the mini app as it is, recorded as the MiniAppReview controller records it. */
const review = (version: string, decision: 'Approved' | 'Rejected', comment?: string) =>
  put(Kinds.MiniAppReview, Caches.miniAppReviews, {
    apiVersion: 'miniapps.dev/v1alpha1',
    kind: 'MiniAppReview',
    metadata: { name: `r-${version}`, namespace: 'org-bank', generation: 1 },
    spec: { miniApp: { organization: 'partner', name: 'pay' }, superApp: 'wallet', version, decision, comment },
    ...(decision === 'Approved' ? { status: recordedApproval(current()) } : {}),
  } as MiniAppReview);

const current = () => store.peek<MiniApp>(Kinds.MiniApp, 'pay', 'org-partner')!;
const condition = (type: string) => current().status?.conditions?.find((c) => c.type === type);
const step = async () => {
  store.writes.length = 0;
  await reconciler.reconcile('org-partner/pay', { signal });
  caches.cache(Caches.miniApps).put(current());
};

beforeEach(() => {
  world = new FakeWorld(() => new Date('2026-12-01T00:00:00Z'));
  ({ caches, store, events } = world);
  const { deps } = world;
  reconciler = new MiniAppReconciler(deps);
  put(Kinds.PlatformConfig, Caches.platformConfigs, {
    apiVersion: 'miniapps.dev/v1alpha1',
    kind: 'PlatformConfig',
    metadata: { name: 'default' },
    spec: { categories: ['Payments'] },
  } as PlatformConfig);
  organization('bank');
  organization('partner', { miniAppTargets: [{ organization: 'bank', name: 'wallet' }] });
  superApp('wallet');
  superApp('cards');
});

describe('MiniAppReconciler, one step', () => {
  it('adds its finalizer and says where it stands in each target: listed, waiting, not allowed, not found', async () => {
    miniApp({ superApps: [{ organization: 'bank', name: 'wallet' }, { organization: 'bank', name: 'cards' }, { name: 'own-later' }] });
    review('1.0', 'Approved');
    review('2.0', 'Rejected', 'Fees are hidden');
    await step();
    expect(current().metadata.finalizers).toEqual([MINIAPP_FINALIZER]);
    expect(current().status?.superApps).toEqual([
      { organization: 'bank', name: 'wallet', state: 'Listed', version: '1.0', pendingVersion: '2.0', message: expect.stringContaining('Fees are hidden') },
      { organization: 'bank', name: 'cards', state: 'NotAllowed', message: expect.stringContaining('spec.miniAppTargets of Organization partner') },
      { organization: 'partner', name: 'own-later', state: 'NotFound', message: expect.any(String) },
    ]);
    expect(condition('TargetsValid')).toMatchObject({ status: 'False', reason: 'TargetNotAllowed', message: expect.stringContaining('bank/cards') });
    expect(condition('TargetsResolved')).toMatchObject({ status: 'False', reason: 'TargetNotFound', message: expect.stringContaining('partner/own-later') });
    expect(condition('Ready')).toMatchObject({ status: 'False', reason: 'TargetNotAllowed' });
    expect(condition('Stalled')?.status).toBe('True');
    expect(events).toEqual(expect.arrayContaining(['Warning TargetNotAllowed', 'Warning TargetNotFound']));
  });

  it('is Ready while it waits for a review (the reviewer, not the spec, must act)', async () => {
    miniApp({ superApps: [{ organization: 'bank', name: 'wallet' }] });
    await step();
    expect(current().status?.superApps?.[0]).toMatchObject({ state: 'AwaitingReview', pendingVersion: '2.0' });
    expect(condition('Ready')?.status).toBe('True');
  });

  it('reports a category PlatformConfig does not allow (it was dropped since)', async () => {
    miniApp({ categories: ['Payments', 'Gambling'] });
    await step();
    expect(condition('CategoriesValid')).toMatchObject({ status: 'False', reason: 'CategoryNotAllowed', message: expect.stringContaining('Gambling') });
  });

  it('holds an unconfirmed deletion and says so; a confirmed one removes the finalizer', async () => {
    miniApp({}, { finalizers: [MINIAPP_FINALIZER], deletionTimestamp: '2026-12-01T00:00:00Z' });
    await step();
    expect(current().metadata.finalizers).toEqual([MINIAPP_FINALIZER]);
    expect(condition('Ready')).toMatchObject({ status: 'False', reason: 'DeletionNotConfirmed' });
    expect(events).toEqual(['Warning DeletionNotConfirmed']);

    miniApp({}, { finalizers: [MINIAPP_FINALIZER], deletionTimestamp: '2026-12-01T00:00:00Z', annotations: { 'miniapps.dev/confirm-delete': 'CONFIRM DELETE' } });
    await step();
    expect(current().metadata.finalizers).toEqual([]);
  });

  it('lets a mini app go without confirmation when its namespace is being deleted', async () => {
    caches.cache(Caches.namespaces).put({ metadata: { name: 'org-partner', deletionTimestamp: '2026-12-01T00:00:00Z' }, status: { phase: 'Terminating' } });
    miniApp({}, { finalizers: [MINIAPP_FINALIZER], deletionTimestamp: '2026-12-01T00:00:00Z' });
    await step();
    expect(current().metadata.finalizers).toEqual([]);
  });
});
