// One reconcile step of the MiniAppReview controller on in-memory caches and an in-memory
// API server: TargetResolved, and what an approval approved (issue 16, items 6 and 8).
import { beforeEach, describe, expect, it } from 'vitest';
import type { MiniApp } from '../../api/miniapp/schema.ts';
import type { MiniAppReview } from '../../api/miniappreview/schema.ts';
import type { Organization } from '../../api/organization/schema.ts';
import type { SuperApp } from '../../api/superapp/schema.ts';
import { Caches } from '../../domain/caches.ts';
import type { AnyCacheDecl } from '../../runtime/cache.ts';
import type { AnyObject } from '../../runtime/kube/client.ts';
import type { FakeStore } from '../../runtime/testing.ts';
import { FakeWorld } from '../testing.ts';
import { Kinds } from '../../api/registry.ts';
import { MiniAppReviewReconciler } from './controller.ts';

let world: FakeWorld;
let reconciler: MiniAppReviewReconciler;
const put = <T extends AnyObject>(rt: Parameters<FakeStore['seed']>[0], decl: AnyCacheDecl, obj: T): T => world.put(rt, decl, obj);
const organization = (name: string, spec: Partial<Organization['spec']> = {}) =>
  put(Kinds.Organization, Caches.organizations, {
    apiVersion: 'miniapps.dev/v1alpha1',
    kind: 'Organization',
    metadata: { name },
    spec: { displayName: name, capabilities: { superApps: true, miniApps: true }, ...spec },
    status: { namespace: `org-${name}` },
  } as Organization);
const miniApp = (spec: Partial<MiniApp['spec']> = {}, name = 'pay') =>
  put(Kinds.MiniApp, Caches.miniApps, {
    apiVersion: 'miniapps.dev/v1alpha1',
    kind: 'MiniApp',
    metadata: { name, namespace: 'org-partner', generation: 1 },
    spec: {
      appName: 'pay',
      type: 'Numeric',
      superApps: [{ organization: 'bank', name: 'wallet' }],
      categories: ['Payments'],
      versions: [{ name: '1.0' }, { name: '2.0-beta' }],
      dataPrivacy: { protection: 'EnvelopeEncryption' },
      ...spec,
    },
  } as MiniApp);
const review = (spec: Partial<MiniAppReview['spec']> = {}, generation = 1) =>
  put(Kinds.MiniAppReview, Caches.miniAppReviews, {
    apiVersion: 'miniapps.dev/v1alpha1',
    kind: 'MiniAppReview',
    metadata: { name: 'r', namespace: 'org-bank', generation },
    spec: { miniApp: { organization: 'partner', name: 'pay' }, superApp: 'wallet', version: '1.0', decision: 'Approved', ...spec },
  } as MiniAppReview);
const current = () => world.store.peek<MiniAppReview>(Kinds.MiniAppReview, 'r', 'org-bank')!;
const resolved = () => current().status?.conditions?.find((c) => c.type === 'TargetResolved');
/** One reconcile; the review as written goes back into the cache, as the watch would put it. */
const step = async () => {
  await reconciler.reconcile('org-bank/r');
  world.caches.cache(Caches.miniAppReviews).put(current());
};

beforeEach(() => {
  world = new FakeWorld();
  reconciler = new MiniAppReviewReconciler(world.deps);
  organization('bank');
  organization('partner', { miniAppTargets: [{ organization: 'bank', name: 'wallet' }] });
  put(Kinds.SuperApp, Caches.superApps, { apiVersion: 'miniapps.dev/v1alpha1', kind: 'SuperApp', metadata: { name: 'wallet', namespace: 'org-bank' }, spec: { displayName: 'Wallet' } } as SuperApp);
});

describe('MiniAppReviewReconciler, one step', () => {
  it('records what an approval approved when it first finds its target, and keeps it whatever the mini app becomes (item 6)', async () => {
    miniApp();
    review();
    await step();
    expect(resolved()).toMatchObject({ status: 'True' });
    const recorded = current().status?.approvedContent;
    expect(recorded).toMatchObject({
      observedGeneration: 1,
      appName: 'pay',
      type: 'Numeric',
      categories: ['Payments'],
      protection: 'EnvelopeEncryption',
      digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
    });
    expect(recorded).not.toHaveProperty('domain');

    expect(resolved()?.message).toBe(
      'Approved version 1.0 of MiniApp partner/pay for SuperApp wallet, as it is: appName pay, type Numeric, categories Payments, dataPrivacy.protection EnvelopeEncryption (status.approvedContent)',
    );

    miniApp({ appName: 'Bank_Login', type: 'Intent', domain: 'credentials', dataPrivacy: { protection: 'None' } });
    await step();
    expect(current().status?.approvedContent).toEqual(recorded);
    // The reviewer is told the approval no longer covers the mini app, and what changed.
    expect(resolved()).toMatchObject({
      status: 'True',
      message: expect.stringContaining(
        'it approved other content than the mini app has now (appName pay → Bank_Login; type Numeric → Intent; domain - → credentials; dataPrivacy.protection EnvelopeEncryption → None)',
      ),
    });

    // An edit of the review (a comment) approves nothing new: the content recorded stays, now of generation 2 (the review's finding 4).
    const edit = (spec: Partial<MiniAppReview['spec']>, generation: number) => {
      const status = current().status; // an edit of the spec keeps status
      const r = review(spec, generation);
      put(Kinds.MiniAppReview, Caches.miniAppReviews, { ...r, status });
    };
    edit({ comment: 'again' }, 2);
    await step();
    expect(current().status?.approvedContent).toEqual({ ...recorded, observedGeneration: 2 });
  });

  it('records nothing for a rejection, nor before the target is found', async () => {
    review();
    await step();
    expect(resolved()).toMatchObject({ status: 'False', reason: 'MiniAppNotFound' });
    expect(current().status?.approvedContent).toBeUndefined();
    miniApp();
    review({ decision: 'Rejected' }, 2);
    await step();
    expect(resolved()).toMatchObject({ status: 'True' });
    expect(current().status?.approvedContent).toBeUndefined();
  });

  it.each<[string, () => void]>([
    ['does not exist', () => undefined],
    ['does not name the super app', () => void miniApp({ superApps: [] })],
    [
      'names it but its organization may not publish there',
      () => {
        miniApp();
        organization('partner');
      },
    ],
    [
      'names it but its organization may not create mini apps',
      () => {
        miniApp();
        organization('partner', { capabilities: {}, miniAppTargets: [{ organization: 'bank', name: 'wallet' }] });
      },
    ],
  ])('gives one answer, naming no version, for a mini app that %s (item 8)', async (_what, setup) => {
    setup();
    review({ version: '9.9' });
    await step();
    expect(resolved()).toEqual(
      expect.objectContaining({
        status: 'False',
        reason: 'MiniAppNotFound',
        message:
          'No MiniApp partner/pay asks to be in super app bank/wallet: it does not exist, does not name super app bank/wallet in spec.superApps, or may not publish into it; fix spec.miniApp (organization and name) or spec.superApp',
      }),
    );
  });

  it('names the versions once the target is established', async () => {
    miniApp();
    review({ version: '9.9' });
    await step();
    expect(resolved()).toMatchObject({ status: 'False', reason: 'VersionNotFound', message: expect.stringContaining('its spec.versions: 1.0, 2.0-beta') });
  });
});
