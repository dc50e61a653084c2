// Who owns an app id and a listing id. Both are free text that manifests name, and both
// decide what a token says (its audience, the roles of a listing), so each belongs to one
// organization: the first to claim it, for as long as that organization exists.
//
// A claim is a record only the operator writes: a Lease in the operator's own namespace,
// one per id (named after a digest of it: claimName), created once with a POST (of two
// organizations asking at once, one gets 409 and the id is the other's), held by an
// ownerReference to the claiming Organization. It never moves: not when the AppManifest
// that claimed it is deleted, re-created (GitOps replace, kubectl replace --force),
// renamed, or changes its ids. It is released only when the organization goes (the
// garbage collector deletes the Lease with it); until then an id the organization no
// longer uses stays its (a cluster administrator may free one by deleting its Lease).
// So an AppManifest that slipped past the webhook (it fails open) while another
// organization held the id is refused for good, never promoted later.
//
// Who claims: an AppManifest of an organization's namespace claims its appId and listingId
// (each on its own: an app is used only when its organization holds both; of several
// AppManifests naming an id no one holds yet, the oldest claims first, so an upgrade keeps
// each id with the organization that had it); a Solution
// claims the listings the roles of its manifest name (a solution author may publish roles
// of listings no AppManifest of theirs describes yet). Only an organization's namespace
// claims anything: an AppManifest elsewhere is NotInOrganization and used nowhere, and a
// namespace its organization released holds nothing (its organization does, by uid).
//
// Every consumer asks here (the admission rules, the Solution, AppManifest and
// Subscription controllers, the token-roles API), and all read the same claims.
import { API_VERSION, OwnershipReasons, CLAIMED_ID_ANNOTATION, ID_CLAIM_LABEL } from '../api/constants.ts';
import type { AppManifest } from '../api/appmanifest/schema.ts';
import type { Organization } from '../api/organization/schema.ts';
import { controllerRef } from '../runtime/apply.ts';
import type { ObjectStore } from '../runtime/apply.ts';
import type { CacheReader, CacheSource } from '../runtime/cache.ts';
import { ApiError } from '../runtime/errors.ts';
import { Resources } from '../runtime/kube/resource.ts';
import { MANAGED_BY } from '../runtime/objects.ts';
import { Caches, Index, claimKey, claimName, listingOfRole } from './caches.ts';
import type { ClaimKind, ClaimLease } from './caches.ts';

export interface ClaimRefusal {
  reason: typeof OwnershipReasons.AppIdClaimed | typeof OwnershipReasons.ListingIdClaimed | typeof OwnershipReasons.NotInOrganization;
  message: string;
}

/**
 * What a claim came to: the organization holds the id, it just claimed it ('created': the
 * cache does not show it yet), another organization holds it, or another's claim came
 * first and the cache does not show it yet ('pending'). After 'created' or 'pending', ask
 * again once the cache has caught up.
 */
export type ClaimResult = 'held' | 'created' | 'taken' | 'pending';

/** The one message for an id that is not the organization's (whether or why is not told: only that it is not). */
const notYours = (what: ClaimKind, id: string) =>
  `${what} "${id}" was claimed first by another organization, which holds it for as long as it exists, so this AppManifest is used nowhere (no groups, no token roles, no token): choose another ${what}`;

export class AppClaims {
  private readonly claims: CacheReader<ClaimLease>;
  private readonly organizations: CacheReader<Organization>;

  private readonly apps: CacheReader<AppManifest>;

  constructor(caches: CacheSource) {
    this.apps = caches.cache(Caches.appManifests);
    this.claims = caches.cache(Caches.idClaims);
    this.organizations = caches.cache(Caches.organizations);
  }

  /** The organization whose namespace `namespace` is (recorded in its status), if any. */
  organizationOf(namespace: string): Organization | undefined {
    return this.organizations.byIndex(Index.namespace, namespace)[0];
  }

  /** The uid of the organization that holds the id (the owner of its claim), if any does. */
  private holderUid(kind: ClaimKind, id: string): string | undefined {
    const lease = this.claims.byIndex(Index.claim, claimKey(kind, id))[0];
    return lease?.metadata.ownerReferences?.find((r) => r.kind === 'Organization')?.uid;
  }

  /** The oldest live AppManifest of an organization's namespace whose spec names the id (creation, then namespace/name). */
  private oldestNaming(kind: ClaimKind, id: string): AppManifest | undefined {
    const named = this.apps.byIndex(kind === 'appId' ? Index.appId : Index.listingId, id).filter((a) => !a.metadata.deletionTimestamp && !!this.organizationOf(a.metadata.namespace!));
    const key = (a: AppManifest) => `${a.metadata.creationTimestamp ?? ''} ${a.metadata.namespace}/${a.metadata.name}`;
    return named.reduce<AppManifest | undefined>((best, a) => (!best || key(a) < key(best) ? a : best), undefined);
  }

  /** Whether the organization of `namespace` holds the id. */
  heldBy(namespace: string, kind: ClaimKind, id: string): boolean {
    const org = this.organizationOf(namespace);
    return !!org && this.holderUid(kind, id) === org.metadata.uid;
  }

  /** Whether an organization other than the one of `namespace` holds the id. */
  takenFrom(namespace: string, kind: ClaimKind, id: string): boolean {
    const holder = this.holderUid(kind, id);
    return holder !== undefined && holder !== this.organizationOf(namespace)?.metadata.uid;
  }

  /**
   * Claims the id for the organization of `namespace` when no one holds it: a POST of its
   * Lease in `operatorNamespace` (409: someone else's claim came first, not in the cache
   * yet: 'pending'). Not while an older AppManifest of another organization names the id
   * ('pending': that one claims first). Never for a namespace of no organization, or of
   * one being deleted.
   */
  async claim(store: ObjectStore, operatorNamespace: string, namespace: string, kind: ClaimKind, id: string): Promise<ClaimResult> {
    const org = this.organizationOf(namespace);
    if (!org) return 'taken';
    const holder = this.holderUid(kind, id);
    if (holder !== undefined) return holder === org.metadata.uid ? 'held' : 'taken';
    if (org.metadata.deletionTimestamp) return 'taken';
    // No claim yet: the oldest AppManifest naming the id, of any organization, claims first (what held before claims
    // were records: an upgrade keeps each id with the organization that had it); the others wait for it.
    const first = this.oldestNaming(kind, id);
    if (first && this.organizationOf(first.metadata.namespace!)?.metadata.uid !== org.metadata.uid) return 'pending';
    try {
      await store.create(Resources.Lease, {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: {
          name: claimName(kind, id),
          namespace: operatorNamespace,
          labels: { ...MANAGED_BY, [ID_CLAIM_LABEL]: kind },
          annotations: { [CLAIMED_ID_ANNOTATION]: id },
          ownerReferences: [controllerRef({ apiVersion: API_VERSION, kind: 'Organization', metadata: org.metadata })],
        },
        spec: { holderIdentity: org.metadata.name },
      });
      return 'created';
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) return 'pending';
      throw err;
    }
  }

  /**
   * Claims the app's appId and listingId (each on its own) and says why the app is not
   * its organization's to use, if it is not; `pending` when a claim raced another and
   * must be looked at again.
   */
  async claimIds(store: ObjectStore, operatorNamespace: string, app: AppManifest): Promise<{ refusal?: ClaimRefusal; pending: boolean; unsure?: boolean }> {
    const ns = app.metadata.namespace!;
    if (!this.organizationOf(ns)) return { refusal: this.notInOrganization(ns), pending: false };
    const appId = await this.claim(store, operatorNamespace, ns, 'appId', app.spec.appId);
    const listing = app.spec.listingId !== undefined ? await this.claim(store, operatorNamespace, ns, 'listingId', app.spec.listingId) : 'held';
    if (appId === 'taken') return { refusal: { reason: OwnershipReasons.AppIdClaimed, message: notYours('appId', app.spec.appId) }, pending: false };
    if (listing === 'taken') return { refusal: { reason: OwnershipReasons.ListingIdClaimed, message: notYours('listingId', app.spec.listingId!) }, pending: false };
    return { pending: [appId, listing].some((r) => r === 'pending' || r === 'created'), unsure: appId === 'pending' || listing === 'pending' };
  }

  /** Claims, for the organization of `namespace`, each listing `roles` name that no one holds yet (a Solution's manifest); true when the cache is to be asked again. */
  async claimListings(store: ObjectStore, operatorNamespace: string, namespace: string, roles: readonly string[]): Promise<boolean> {
    let pending = false;
    for (const listing of new Set(roles.map(listingOfRole))) {
      const result = await this.claim(store, operatorNamespace, namespace, 'listingId', listing);
      if (result === 'pending' || result === 'created') pending = true;
    }
    return pending;
  }

  private notInOrganization(namespace: string): ClaimRefusal {
    return {
      reason: OwnershipReasons.NotInOrganization,
      message: `Namespace ${namespace} is no organization's, and only an organization holds app and listing ids: this AppManifest is used nowhere; make it in an organization's namespace`,
    };
  }

  /**
   * Why `app` is not its organization's to use, as the claims say now (what every consumer
   * asks; the AppManifest reconciler makes the claims): its namespace is no organization's,
   * or that organization does not hold its appId or its listingId.
   */
  refusal(app: AppManifest): ClaimRefusal | undefined {
    const ns = app.metadata.namespace!;
    if (!this.organizationOf(ns)) return this.notInOrganization(ns);
    if (!this.heldBy(ns, 'appId', app.spec.appId)) return { reason: OwnershipReasons.AppIdClaimed, message: notYours('appId', app.spec.appId) };
    if (app.spec.listingId !== undefined && !this.heldBy(ns, 'listingId', app.spec.listingId)) return { reason: OwnershipReasons.ListingIdClaimed, message: notYours('listingId', app.spec.listingId) };
    return undefined;
  }

  /** Whether the namespace's organization holds the role's listing. */
  owns(namespace: string, role: string): boolean {
    return this.heldBy(namespace, 'listingId', listingOfRole(role));
  }

  /**
   * The app's last good rolesRequired that name listings its organization holds: the same
   * array for as long as the app object and the holders of those listings are the same (the
   * token-roles hot path asks on every request, and tokenRoles caches by array).
   */
  ownedRolesRequired(app: AppManifest, required: readonly string[]): readonly string[] {
    const ns = app.metadata.namespace!;
    let memo = this.requiredMemo.get(app);
    if (!memo || memo.required !== required) {
      memo = { required, listings: [...new Set(required.map(listingOfRole))], holders: '', roles: [] };
      this.requiredMemo.set(app, memo);
    }
    const holders = `${this.organizationOf(ns)?.metadata.uid ?? ''}|${memo.listings.map((l) => this.holderUid('listingId', l) ?? '').join(',')}`;
    if (memo.holders !== holders) {
      memo.holders = holders;
      memo.roles = required.filter((r) => this.owns(ns, r));
    }
    return memo.roles;
  }

  private readonly requiredMemo = new WeakMap<AppManifest, { required: readonly string[]; listings: string[]; holders: string; roles: readonly string[] }>();

  /** The roles of `roles` whose listing the namespace's organization does not hold, sorted, once each. */
  unowned(namespace: string, roles: readonly string[]): string[] {
    return [...new Set(roles.filter((r) => !this.owns(namespace, r)))].sort();
  }

  /**
   * Why the roles are not all the namespace's, as one message, or undefined when they are.
   * One message whatever the reason (another organization holds the listing, or no claim
   * was made yet): it tells no one whether or whose another organization's listing is.
   */
  unownedMessage(unowned: readonly string[], what: string): string | undefined {
    if (unowned.length === 0) return undefined;
    const listings = [...new Set(unowned.map(listingOfRole))].sort();
    const shown = unowned.slice(0, 10).join(', ') + (unowned.length > 10 ? ` and ${unowned.length - 10} more` : '');
    return `Role(s) ${shown} name listing(s) ${listings.map((l) => `"${l}"`).join(', ')} that this organization does not hold (a listing is the first organization's to claim it, by an AppManifest's listingId or a Solution's roles); they are left out of ${what}. Only the organization that holds a listing grants its roles`;
  }

  /**
   * What admission refuses in a manifest: roles of `roles` not in `before` (an object that
   * slipped past stays editable) whose listing another organization holds, as one message
   * naming `field`; undefined when there is none. A listing nobody holds yet is let
   * through: the reconciler claims it for the organization.
   */
  foreignRolesAdded(namespace: string, roles: readonly string[], before: readonly string[], field: string): string | undefined {
    const had = new Set(before);
    const foreign = [...new Set(roles.filter((r) => !had.has(r) && this.takenFrom(namespace, 'listingId', listingOfRole(r))))].sort();
    if (foreign.length === 0) return undefined;
    return `${field}: ${foreign.join(', ')} name listing(s) another organization owns: a manifest grants only roles of listings its own organization holds`;
  }

  /** The kind and id a claim's Lease holds, when it is a well-formed claim. */
  static idOf(lease: ClaimLease): { kind: ClaimKind; id: string } | undefined {
    const kind = lease.metadata.labels?.[ID_CLAIM_LABEL];
    const id = lease.metadata.annotations?.[CLAIMED_ID_ANNOTATION];
    return (kind === 'appId' || kind === 'listingId') && id !== undefined ? { kind, id } : undefined;
  }
}
