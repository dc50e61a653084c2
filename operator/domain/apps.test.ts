import { describe, expect, it } from 'vitest';
import type { MiniApp } from '../api/miniapp/schema.ts';
import type { MiniAppReview } from '../api/miniappreview/schema.ts';
import type { Organization } from '../api/organization/schema.ts';
import type { SuperApp } from '../api/superapp/schema.ts';
import { buildCatalog, canonicalJson, contentHash, placementOf, reviewedContentOf, reviewedDigest, snapshotConfigMapName, verdictOf } from './apps.ts';
import type { PlacementInput } from './apps.ts';

const org = (name: string, spec: Partial<Organization['spec']> = {}): Organization => ({
  apiVersion: 'miniapps.dev/v1alpha1',
  kind: 'Organization',
  metadata: { name },
  spec: { displayName: name, capabilities: { miniApps: true, superApps: true }, ...spec },
  status: { namespace: `org-${name}` },
});
const superApp = (spec: Partial<SuperApp['spec']> = {}): SuperApp => ({
  apiVersion: 'miniapps.dev/v1alpha1',
  kind: 'SuperApp',
  metadata: { name: 'wallet', namespace: 'org-bank' },
  spec: { displayName: 'Wallet', ...spec },
});
const mini = (spec: Partial<MiniApp['spec']> = {}, name = 'pay'): MiniApp => ({
  apiVersion: 'miniapps.dev/v1alpha1',
  kind: 'MiniApp',
  metadata: { name, namespace: 'org-partner' },
  spec: { appName: name, type: 'Numeric', superApps: [{ organization: 'bank', name: 'wallet' }], versions: [{ name: '1.0' }, { name: '1.1' }, { name: '2.0' }], publishedVersion: '2.0', ...spec },
});
let seq = 0;
/** What the operator records of an approval: here, the content of mini() as it is by default. */
const recorded = (of: MiniApp = mini(), generation = 1) => {
  const content = reviewedContentOf(of);
  return { approvedContent: { observedGeneration: generation, digest: reviewedDigest(content), ...content } };
};
const review = (version: string, decision: 'Approved' | 'Rejected', comment?: string, status: MiniAppReview['status'] | null = decision === 'Approved' ? recorded() : null): MiniAppReview => ({
  apiVersion: 'miniapps.dev/v1alpha1',
  kind: 'MiniAppReview',
  metadata: { name: `r${++seq}`, namespace: 'org-bank', generation: 1, creationTimestamp: `2026-01-01T00:00:${String(seq).padStart(2, '0')}Z` },
  spec: { miniApp: { organization: 'partner', name: 'pay' }, superApp: 'wallet', version, decision, ...(comment ? { comment } : {}) },
  ...(status ? { status } : {}),
});

const partner = org('partner', { miniAppTargets: [{ organization: 'bank', name: 'wallet' }] });
const base: PlacementInput = { mini: mini(), miniOrg: partner, target: { organization: 'bank', name: 'wallet' }, superApp: superApp(), reviews: [] };

describe('placementOf: which version a super app shows', () => {
  it.each<[string, Partial<PlacementInput>, { state: string; version?: string; pendingVersion?: string; message?: RegExp }]>([
    ['a super app that does not exist is NotFound', { superApp: undefined }, { state: 'NotFound' }],
    ['a mini app outside any organization is NotAllowed', { miniOrg: undefined }, { state: 'NotAllowed' }],
    [
      'an organization without the miniApps capability is NotAllowed',
      { miniOrg: org('partner', { capabilities: {}, miniAppTargets: [{ organization: 'bank', name: 'wallet' }] }) },
      { state: 'NotAllowed', message: /capabilities\.miniApps/ },
    ],
    [
      "another organization's super app not in miniAppTargets is NotAllowed, naming what to add",
      { miniOrg: org('partner') },
      { state: 'NotAllowed', message: /add \{organization: bank, name: wallet\} there/ },
    ],
    ['without publishedVersion nothing is shown', { mini: mini({ publishedVersion: undefined }) }, { state: 'Unpublished' }],
    ['with reviewPolicy Required and no review it waits', {}, { state: 'AwaitingReview', pendingVersion: '2.0' }],
    ['an approved published version is listed', { reviews: [review('2.0', 'Approved')] }, { state: 'Listed', version: '2.0' }],
    ["a rejected published version is Rejected with the reviewer's comment", { reviews: [review('2.0', 'Rejected', 'Fix the fee display')] }, { state: 'Rejected', message: /^Fix the fee display$/ }],
    ['a rejection wins over an approval of the same version', { reviews: [review('2.0', 'Approved'), review('2.0', 'Rejected', 'no')] }, { state: 'Rejected' }],
    [
      'while the published version waits, the newest earlier approved one is listed',
      { reviews: [review('1.0', 'Approved'), review('1.1', 'Approved')] },
      { state: 'Listed', version: '1.1', pendingVersion: '2.0', message: /waits for an Approved/ },
    ],
    [
      'while the published version is rejected, the newest earlier approved one is listed, with the comment',
      { reviews: [review('1.0', 'Approved'), review('2.0', 'Rejected', 'crashes on iOS')] },
      { state: 'Listed', version: '1.0', pendingVersion: '2.0', message: /crashes on iOS/ },
    ],
    [
      'an approval of other content than the mini app has now does not count, and the message says what changed (item 6)',
      { mini: mini({ appName: 'Bank_Login', categories: ['Payments'], dataPrivacy: { protection: 'None' } }), reviews: [review('2.0', 'Approved')] },
      { state: 'AwaitingReview', pendingVersion: '2.0', message: /approved \(MiniAppReview r\d+\) with other content than it has now \(appName pay → Bank_Login; categories - → Payments\)/ },
    ],
    [
      "a change of content leaves no earlier approved version listed either (the content is every version's)",
      { mini: mini({ type: 'Intent', domain: 'credentials' }), reviews: [review('1.0', 'Approved'), review('2.0', 'Approved')] },
      { state: 'AwaitingReview', message: /type Numeric → Intent; domain - → credentials/ },
    ],
    [
      'an approval of the content as it is now counts',
      { mini: mini({ appName: 'Bank_Login' }), reviews: [review('2.0', 'Approved', undefined, recorded(mini({ appName: 'Bank_Login' })))] },
      { state: 'Listed', version: '2.0' },
    ],
    [
      'an approval the operator has not recorded yet does not count',
      { reviews: [review('2.0', 'Approved', undefined, null)] },
      { state: 'AwaitingReview', message: /recording what the review approved/ },
    ],
    ['an approval recorded for an earlier spec of the review does not count', { reviews: [review('2.0', 'Approved', undefined, recorded(mini(), 0))] }, { state: 'AwaitingReview' }],
    ['a rejection counts whatever the content', { mini: mini({ appName: 'Other' }), reviews: [review('2.0', 'Rejected', 'no')] }, { state: 'Rejected' }],
    ['an approved version after the published one is not shown', { mini: mini({ publishedVersion: '1.1' }), reviews: [review('2.0', 'Approved')] }, { state: 'AwaitingReview' }],
    [
      'with reviewPolicy SameOrganization a mini app of the same organization needs no review',
      { mini: { ...mini({ superApps: [{ name: 'wallet' }] }), metadata: { name: 'pay', namespace: 'org-bank' } }, miniOrg: org('bank'), superApp: superApp({ reviewPolicy: 'SameOrganization' }) },
      { state: 'Listed', version: '2.0' },
    ],
    ["with reviewPolicy SameOrganization another organization's mini app still needs one", { superApp: superApp({ reviewPolicy: 'SameOrganization' }) }, { state: 'AwaitingReview' }],
    [
      'with reviewPolicy Required even the own organization needs one',
      { mini: { ...mini({ superApps: [{ name: 'wallet' }] }), metadata: { name: 'pay', namespace: 'org-bank' } }, miniOrg: org('bank') },
      { state: 'AwaitingReview' },
    ],
  ])('%s', (_name, input, want) => {
    const p = placementOf({ ...base, ...input });
    expect(p.state).toBe(want.state);
    if (want.version) expect(p.version).toBe(want.version);
    if (want.state !== 'Listed') expect(p.version).toBeUndefined();
    if (want.pendingVersion) expect(p.pendingVersion).toBe(want.pendingVersion);
    if (want.message) expect(p.message).toMatch(want.message);
  });

  it('verdictOf shows the comment of the newest rejection', () => {
    expect(verdictOf([review('1', 'Rejected', 'old'), review('1', 'Rejected', 'new')])).toMatchObject({ decision: 'Rejected', comment: 'new' });
  });
});

describe("placementOf: what goes into the super app's review queue (awaitingReview)", () => {
  const approvedOther = review('2.0', 'Approved', undefined, recorded(mini({ appName: 'other' })));
  it.each<[string, Partial<PlacementInput>, boolean]>([
    ['a published version no review decided waits in the queue', {}, true],
    ['a published version waiting while an earlier one is listed waits in the queue', { reviews: [review('1.0', 'Approved')] }, true],
    ['an approval of other content than the mini app has now leaves it in the queue', { reviews: [approvedOther] }, true],
    ['an approved published version is not in the queue', { reviews: [review('2.0', 'Approved')] }, false],
    ['a rejected published version is not in the queue (decided)', { reviews: [review('2.0', 'Rejected', 'no')] }, false],
    ['a rejected published version with an earlier listed one is not in the queue', { reviews: [review('1.0', 'Approved'), review('2.0', 'Rejected', 'no')] }, false],
    ['an approval the operator has not recorded yet is not in the queue', { reviews: [review('2.0', 'Approved', undefined, null)] }, false],
    ['a target the organization may not publish into is not in the queue', { miniOrg: org('partner') }, false],
    [
      "a mini app of the super app's own organization with reviewPolicy SameOrganization is not in the queue",
      { miniOrg: org('bank'), superApp: superApp({ reviewPolicy: 'SameOrganization' }) },
      false,
    ],
  ])('%s', (_, input, queued) => {
    expect(placementOf({ ...base, ...input }).awaitingReview ?? false).toBe(queued);
  });
});

describe('buildCatalog and its JSON', () => {
  const listed = (name: string, organization = 'partner', spec: Partial<MiniApp['spec']> = {}) => ({ mini: mini(spec, name), organization, version: '2.0' });

  it('shows featured mini apps first in the order given, then the rest sorted by organization and name', () => {
    const sa = superApp({ featured: [{ organization: 'partner', name: 'zeta' }, { name: 'own' }, { organization: 'partner', name: 'zeta' }] });
    const { catalog, featuredMissing } = buildCatalog(sa, 'bank', [listed('beta'), listed('zeta'), listed('alpha'), listed('own', 'bank'), listed('aaa', 'zz-org')]);
    expect(catalog.miniApps.map((m) => `${m.organization}/${m.name}:${m.featured}`)).toEqual(['partner/zeta:true', 'bank/own:true', 'partner/alpha:false', 'partner/beta:false', 'zz-org/aaa:false']);
    expect(featuredMissing).toEqual([]);
  });

  it('reports a featured mini app that is not listed, and lists the others', () => {
    const { catalog, featuredMissing } = buildCatalog(superApp({ featured: [{ organization: 'partner', name: 'ghost' }] }), 'bank', [listed('pay')]);
    expect(featuredMissing).toEqual([{ organization: 'partner', name: 'ghost' }]);
    expect(catalog.miniApps.map((m) => m.name)).toEqual(['pay']);
  });

  it('carries a reference to the data key with EnvelopeEncryption, and never key material', () => {
    const { catalog } = buildCatalog(superApp(), 'bank', [listed('vault', 'partner', { dataPrivacy: { protection: 'EnvelopeEncryption' } }), listed('plain')]);
    expect(catalog.miniApps.find((m) => m.name === 'vault')?.dataPrivacy).toEqual({ protection: 'EnvelopeEncryption', dataKey: { namespace: 'org-partner', secretName: 'vault-data-key' } });
    expect(catalog.miniApps.find((m) => m.name === 'plain')?.dataPrivacy).toEqual({ protection: 'None' });
  });

  it('gives the same bytes and hash whatever order the inputs and their keys come in', () => {
    const a = buildCatalog(superApp({ platforms: ['iOS', 'Android'] }), 'bank', [listed('b', 'partner', { categories: ['Travel', 'Payments'] }), listed('a')]).catalog;
    const b = buildCatalog(superApp({ platforms: ['Android', 'iOS'] }), 'bank', [listed('a'), listed('b', 'partner', { categories: ['Payments', 'Travel'] })]).catalog;
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(canonicalJson({ z: 1, a: { y: 2, b: [{ d: 1, c: 2 }] } })).toBe('{\n  "a": {\n    "b": [\n      {\n        "c": 2,\n        "d": 1\n      }\n    ],\n    "y": 2\n  },\n  "z": 1\n}\n');
    expect(contentHash(canonicalJson(a))).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});

describe('snapshot ConfigMap names', () => {
  it.each([
    ['1.4.0', 'wallet-catalog-1.4.0'],
    ['v2', 'wallet-catalog-v2'],
  ])('version %s is frozen into %s', (version, name) => {
    expect(snapshotConfigMapName('wallet', version)).toBe(name);
  });

  it('versions a ConfigMap name cannot spell get distinct, valid names', () => {
    const names = ['1.0_A', '1.0-a', '1.0+a', '1.0-A'].map((v) => snapshotConfigMapName('wallet', v));
    expect(new Set(names).size).toBe(4);
    for (const n of names) expect(n).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/);
  });
});
