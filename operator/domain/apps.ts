// What super apps, mini apps and reviews mean to each other, for every kind that asks:
// where a mini app may be published, which of its versions a super app's catalog shows,
// and the catalog itself as deterministic JSON. Pure functions of the objects; the
// SuperApp, MiniApp and MiniAppReview controllers and their admission rules all decide
// with these, so a catalog and a mini app's status never disagree.
import { createHash } from 'node:crypto';
import { CONFIRM_DELETE_ANNOTATION } from '../api/constants.ts';
import { DATA_KEY_SECRET_SUFFIX } from '../api/miniapp/names.ts';
import type { AnyObject } from '../runtime/kube/client.ts';
import type { MiniAppTargetState } from '../api/miniapp/names.ts';
import type { MiniApp } from '../api/miniapp/schema.ts';
import type { MiniAppReview } from '../api/miniappreview/schema.ts';
import type { Organization } from '../api/organization/schema.ts';
import type { SuperApp } from '../api/superapp/schema.ts';
import { missingCapability } from './organizations.ts';

/** A super app or mini app by organization and name. */
export interface AppRef {
  organization: string;
  name: string;
}

export const refKey = (r: AppRef): string => `${r.organization}/${r.name}`;

/** The mini app's targets with the organization filled in (it defaults to the mini app's own). */
export function targetsOf(m: MiniApp, ownOrganization: string): AppRef[] {
  return (m.spec.superApps ?? []).map((t) => ({ organization: t.organization ?? ownOrganization, name: t.name }));
}

/** The super app's featured mini apps with the organization filled in (it defaults to the super app's own), without repeats. */
export function featuredOf(s: SuperApp, ownOrganization: string): AppRef[] {
  const seen = new Set<string>();
  const out: AppRef[] = [];
  for (const f of s.spec.featured ?? []) {
    const ref = { organization: f.organization ?? ownOrganization, name: f.name };
    if (seen.has(refKey(ref))) continue;
    seen.add(refKey(ref));
    out.push(ref);
  }
  return out;
}

/**
 * Why `miniOrg` may not publish into `target`, if it may not: a super app of its own
 * organization is always allowed, another's only when listed in its miniAppTargets.
 */
export function targetRefusal(miniOrg: Organization, target: AppRef): string | undefined {
  if (target.organization === miniOrg.metadata.name) return undefined;
  if ((miniOrg.spec.miniAppTargets ?? []).some((t) => t.organization === target.organization && t.name === target.name)) return undefined;
  return (
    `Organization ${miniOrg.metadata.name} may not publish mini apps into super app ${refKey(target)}: it is another organization's and not in ` +
    `spec.miniAppTargets of Organization ${miniOrg.metadata.name}; a provisioning administrator can add {organization: ${target.organization}, name: ${target.name}} there`
  );
}

/** Values of `wanted` that `allowed` does not list (in the order given). */
export function notAllowed(wanted: readonly string[] | undefined, allowed: readonly string[]): string[] {
  const set = new Set(allowed);
  return (wanted ?? []).filter((v) => !set.has(v));
}

export type Verdict = { decision: 'Approved' } | { decision: 'Rejected'; comment: string; review: string } | { decision: 'None' };

/**
 * What the reviews of one version of a mini app for one super app decide: any Rejected
 * review rejects it (the newest one's comment is shown), otherwise any Approved review
 * approves it, otherwise it waits.
 */
export function verdictOf(reviews: readonly MiniAppReview[]): Verdict {
  const rejected = reviews.filter((r) => r.spec.decision === 'Rejected').sort(newestFirst)[0];
  if (rejected) return { decision: 'Rejected', comment: rejected.spec.comment ?? '', review: rejected.metadata.name };
  if (reviews.some((r) => r.spec.decision === 'Approved')) return { decision: 'Approved' };
  return { decision: 'None' };
}

const newestFirst = (a: MiniAppReview, b: MiniAppReview) => (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '') || a.metadata.name.localeCompare(b.metadata.name);

/**
 * What a review approves besides the version: the fields of the mini app a catalog shows
 * that a store's review vouches for (name, type, domain, categories, data privacy).
 * Locations are where it is offered, like a store's availability: the publisher's to
 * change. Version-independent (the spec holds them once for every version).
 */
export interface ReviewedContent {
  appName: string;
  type: string;
  domain?: string;
  categories: string[];
  protection: string;
}

export function reviewedContentOf(mini: MiniApp): ReviewedContent {
  return {
    appName: mini.spec.appName,
    type: mini.spec.type,
    ...(mini.spec.domain ? { domain: mini.spec.domain } : {}),
    categories: [...(mini.spec.categories ?? [])].sort(),
    protection: mini.spec.dataPrivacy?.protection ?? 'None',
  };
}

/** A mini app version waiting for a review in a super app, as SuperApp status.reviewQueue lists it. */
export type ReviewQueueEntry = AppRef & ReviewedContent & { version: string; digest: string };

/** The review queue entry of `mini` (of `organization`) waiting at `version`. */
export function reviewQueueEntry(mini: MiniApp, organization: string, version: string): ReviewQueueEntry {
  const content = reviewedContentOf(mini);
  return { organization, name: mini.metadata.name, version, ...content, digest: reviewedDigest(content) };
}

/** The most entries SuperApp status.reviewQueue holds (awaitingReview counts them all). */
export const REVIEW_QUEUE_MAX = 100;

/** `sha256:<hex>` of the reviewed content as canonical JSON. */
export const reviewedDigest = (c: ReviewedContent): string => contentHash(canonicalJson(c));

/** The reviewed content as a message names it. */
export function describeContent(c: ReviewedContent): string {
  return `appName ${c.appName}, type ${c.type}${c.domain ? `, domain ${c.domain}` : ''}, categories ${c.categories.join(',') || '-'}, dataPrivacy.protection ${c.protection}`;
}

/** The reviewed fields that differ between what was approved and what is there now, as the spec names them. */
export function contentChanges(approved: Partial<ReviewedContent>, now: ReviewedContent): string[] {
  const changed: string[] = [];
  if (approved.appName !== now.appName) changed.push(`appName ${approved.appName ?? '-'} → ${now.appName}`);
  if (approved.type !== now.type) changed.push(`type ${approved.type ?? '-'} → ${now.type}`);
  if ((approved.domain ?? '') !== (now.domain ?? '')) changed.push(`domain ${approved.domain || '-'} → ${now.domain || '-'}`);
  if ([...(approved.categories ?? [])].sort().join(',') !== now.categories.join(',')) changed.push(`categories ${(approved.categories ?? []).join(',') || '-'} → ${now.categories.join(',') || '-'}`);
  if ((approved.protection ?? 'None') !== now.protection) changed.push(`dataPrivacy.protection ${approved.protection ?? 'None'} → ${now.protection}`);
  return changed;
}

/**
 * What an Approved review approved, as the operator recorded it in the review's status
 * when it first found the review's target (for that generation of the review's spec):
 * undefined while nothing is recorded (the approval does not count yet), or when the
 * record is of an earlier spec.
 */
export function approvalOf(review: MiniAppReview): (ReviewedContent & { digest: string }) | undefined {
  const a = review.status?.approvedContent;
  if (review.spec.decision !== 'Approved' || !a || a.observedGeneration !== review.metadata.generation) return undefined;
  return a;
}

/** A review's decision or recorded approval changed: what the catalogs and mini apps read of it. */
export function approvalChanged(a: { metadata: { generation?: number } }, b: { metadata: { generation?: number } }): boolean {
  const ra = a as MiniAppReview;
  const rb = b as MiniAppReview;
  return (
    ra.metadata.generation !== rb.metadata.generation ||
    ra.status?.approvedContent?.digest !== rb.status?.approvedContent?.digest ||
    ra.status?.approvedContent?.observedGeneration !== rb.status?.approvedContent?.observedGeneration
  );
}

/** Where a mini app stands in one super app, and the version shown there if it is listed. */
export interface Placement {
  state: MiniAppTargetState;
  version?: string;
  pendingVersion?: string;
  /** pendingVersion waits for a review (none decided it for the content it has now): it is in the super app's review queue. */
  awaitingReview?: boolean;
  message: string;
}

export interface PlacementInput {
  mini: MiniApp;
  /** The mini app's organization (of its namespace), if any. */
  miniOrg: Organization | undefined;
  target: AppRef;
  /** The target super app, if it exists (in its organization's recorded namespace). */
  superApp: SuperApp | undefined;
  /** The reviews of this mini app for this super app (any version; in the super app's namespace). */
  reviews: readonly MiniAppReview[];
}

/**
 * The gating rule. A super app that does not exist is NotFound; a target the mini app's
 * organization may not publish into (or without the miniApps capability) is NotAllowed;
 * without spec.publishedVersion nothing is shown (Unpublished). With reviewPolicy
 * SameOrganization a mini app of the super app's own organization is shown at its
 * published version; otherwise the published version is shown once approved, and while
 * it is not (waiting, or rejected) the newest earlier approved version (spec.versions
 * order) is shown instead, so users are never left without the app.
 */
export function placementOf({ mini, miniOrg, target, superApp, reviews }: PlacementInput): Placement {
  const where = `super app ${refKey(target)}`;
  if (!superApp) return { state: 'NotFound', message: `SuperApp ${target.name} of Organization ${target.organization} does not exist (yet); the mini app is listed once it does` };
  if (!miniOrg) return { state: 'NotAllowed', message: `Namespace ${mini.metadata.namespace} belongs to no Organization: mini apps are published only from an organization's namespace` };
  const refused = missingCapability(miniOrg, 'MiniApp') ?? targetRefusal(miniOrg, target);
  if (refused) return { state: 'NotAllowed', message: refused };
  const published = mini.spec.publishedVersion;
  if (!published) return { state: 'Unpublished', message: `spec.publishedVersion is not set: set it to one of spec.versions to publish the mini app in ${where}` };
  const sameOrganization = target.organization === miniOrg.metadata.name;
  if (sameOrganization && superApp.spec.reviewPolicy === 'SameOrganization') {
    return { state: 'Listed', version: published, message: `Listed at version ${published} (reviewPolicy SameOrganization: no review needed)` };
  }
  // An approval counts only for the content it approved (recorded by the operator): a
  // catalog never shows what no review approved. A rejection counts whatever the content.
  const content = reviewedContentOf(mini);
  const digest = reviewedDigest(content);
  const counted = reviews.filter((r) => r.spec.decision === 'Rejected' || approvalOf(r)?.digest === digest);
  const verdict = (version: string) => verdictOf(counted.filter((r) => r.spec.version === version));
  const now = verdict(published);
  if (now.decision === 'Approved') return { state: 'Listed', version: published, message: `Listed at version ${published}` };
  const versions = (mini.spec.versions ?? []).map((v) => v.name);
  const earlier = versions
    .slice(0, Math.max(0, versions.indexOf(published)))
    .reverse()
    .find((v) => verdict(v).decision === 'Approved');
  const stale = reviews.map((r) => ({ r, a: approvalOf(r) })).filter(({ r, a }) => a && a.digest !== digest && r.spec.version === published);
  const unrecorded = reviews.some((r) => r.spec.decision === 'Approved' && r.spec.version === published && !approvalOf(r));
  const waiting =
    now.decision === 'Rejected'
      ? `version ${published} was rejected (MiniAppReview ${now.review}${now.comment ? `: ${now.comment}` : ''})`
      : stale.length
        ? `version ${published} was approved (MiniAppReview ${stale
            .map(({ r }) => r.metadata.name)
            .sort()
            .join(
              ', ',
            )}) with other content than it has now (${contentChanges(stale[0]!.a!, content).join('; ')}); it waits for an Approved MiniAppReview of the mini app as it is now in the namespace of ${where}`
        : unrecorded
          ? `version ${published} is approved; the operator is recording what the review approved`
          : `version ${published} waits for an Approved MiniAppReview in the namespace of ${where}`;
  const awaitingReview = now.decision !== 'Rejected' && !unrecorded;
  if (earlier) return { state: 'Listed', version: earlier, pendingVersion: published, awaitingReview, message: `Listed at version ${earlier}, the newest approved; ${waiting}` };
  if (now.decision === 'Rejected')
    return { state: 'Rejected', pendingVersion: published, message: now.comment || `Version ${published} was rejected by MiniAppReview ${now.review}; publish a fixed version and ask for a review` };
  return { state: 'AwaitingReview', pendingVersion: published, awaitingReview, message: `Not listed yet: ${waiting}` };
}

/** The Secret of a mini app's data key (EnvelopeEncryption), in the mini app's namespace. */
export const dataKeySecretName = (miniApp: string): string => `${miniApp.slice(0, 253 - DATA_KEY_SECRET_SUFFIX.length)}${DATA_KEY_SECRET_SUFFIX}`;

/** One mini app as a catalog lists it. Never key material: only where its data key is kept. */
export interface CatalogEntry {
  organization: string;
  name: string;
  appName: string;
  type: string;
  domain?: string;
  version: string;
  categories: string[];
  locations: string[];
  dataPrivacy: { protection: string; dataKey?: { namespace: string; secretName: string } };
  featured: boolean;
}

export interface Catalog {
  apiVersion: 'miniapps.dev/v1alpha1';
  kind: 'Catalog';
  superApp: { organization: string; name: string; displayName: string; platforms: string[] };
  miniApps: CatalogEntry[];
}

export function catalogEntry(mini: MiniApp, organization: string, version: string, featured: boolean): CatalogEntry {
  const protection = mini.spec.dataPrivacy?.protection ?? 'None';
  return {
    organization,
    name: mini.metadata.name,
    appName: mini.spec.appName,
    type: mini.spec.type,
    ...(mini.spec.domain ? { domain: mini.spec.domain } : {}),
    version,
    categories: [...(mini.spec.categories ?? [])].sort(),
    locations: [...(mini.spec.locations ?? [])].sort(),
    dataPrivacy: {
      protection,
      ...(protection === 'EnvelopeEncryption' ? { dataKey: { namespace: mini.metadata.namespace!, secretName: dataKeySecretName(mini.metadata.name) } } : {}),
    },
    featured,
  };
}

/**
 * The catalog: featured mini apps first, in the order spec.featured gives, then the rest
 * sorted by organization and name. `listed` are the mini apps placed Listed (any order).
 * Also returns the featured entries that are not listed.
 */
export function buildCatalog(superApp: SuperApp, organization: string, listed: readonly { mini: MiniApp; organization: string; version: string }[]): { catalog: Catalog; featuredMissing: AppRef[] } {
  const featured = featuredOf(superApp, organization);
  const byKey = new Map(listed.map((l) => [refKey({ organization: l.organization, name: l.mini.metadata.name }), l]));
  const first: CatalogEntry[] = [];
  const featuredMissing: AppRef[] = [];
  for (const f of featured) {
    const l = byKey.get(refKey(f));
    if (!l) featuredMissing.push(f);
    else first.push(catalogEntry(l.mini, l.organization, l.version, true));
  }
  const featuredKeys = new Set(featured.map(refKey));
  const rest = listed
    .filter((l) => !featuredKeys.has(refKey({ organization: l.organization, name: l.mini.metadata.name })))
    .map((l) => catalogEntry(l.mini, l.organization, l.version, false))
    .sort((a, b) => a.organization.localeCompare(b.organization) || a.name.localeCompare(b.name));
  return {
    catalog: {
      apiVersion: 'miniapps.dev/v1alpha1',
      kind: 'Catalog',
      superApp: { organization, name: superApp.metadata.name, displayName: superApp.spec.displayName, platforms: [...(superApp.spec.platforms ?? [])].sort() },
      miniApps: [...first, ...rest],
    },
    featuredMissing,
  };
}

/**
 * JSON with every object's keys sorted, two-space indented, ending in a newline: the same
 * value always gives the same bytes, so an unchanged catalog is never rewritten.
 */
export function canonicalJson(value: unknown): string {
  return `${JSON.stringify(sortKeys(value), null, 2)}\n`;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/** `sha256:<hex>` of the bytes. */
export const contentHash = (text: string): string => `sha256:${createHash('sha256').update(text).digest('hex')}`;

/** The key of the catalog JSON in the catalog and snapshot ConfigMaps. */
export const CATALOG_KEY = 'catalog.json';

/** `<superapp>-catalog`: the live catalog ConfigMap. */
export const catalogConfigMapName = (superApp: string): string => `${superApp.slice(0, 253 - 8)}-catalog`;

/**
 * `<superapp>-catalog-<version>`: a version's snapshot. A version spelled with characters
 * a ConfigMap name cannot hold (upper case, `_`, `+`) is lowercased, those become `-`, and
 * 8 hex digits of its SHA-256 are added, so two versions never share a snapshot.
 */
export function snapshotConfigMapName(superApp: string, version: string): string {
  const clean = version.toLowerCase().replace(/[^a-z0-9.-]/g, '-');
  const suffix = clean === version ? clean : `${clean}-${createHash('sha256').update(version).digest('hex').slice(0, 8)}`;
  const base = `${superApp}-catalog-`;
  return `${base.slice(0, Math.max(1, 253 - suffix.length))}${suffix}`.replace(/[-.]+$/, '');
}

/** Whether an update of an app changed what other kinds read of it: its spec, its deletion, its confirm-delete annotation. */
export function appChanged(a: AnyObject, b: AnyObject): boolean {
  return (
    a.metadata.generation !== b.metadata.generation ||
    a.metadata.deletionTimestamp !== b.metadata.deletionTimestamp ||
    a.metadata.annotations?.[CONFIRM_DELETE_ANNOTATION] !== b.metadata.annotations?.[CONFIRM_DELETE_ANNOTATION]
  );
}
