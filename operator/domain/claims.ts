// Who owns an app id and a listing id. Both are free text that AppManifests claim, and both
// decide what a token says (its audience, the roles of a listing), so each belongs to one
// organization: the one whose AppManifest claimed it first (oldest creationTimestamp, then
// namespace and name; one being deleted claims nothing). Ownership is by namespace: the
// AppManifests and Solutions of one organization's namespace share its ids. A later
// claimant in another namespace is refused at admission (the webhook reads this), and
// when one slipped past (the webhook fails open) the reconcilers report it and nothing uses
// it: no groups, no roles, no token. A listing no AppManifest claims is nobody's: roles of
// it are granted by no one until an organization claims it.
//
// Every consumer asks here (the Solution, AppManifest and Subscription controllers, the
// token-roles API, the admission rules), so they never disagree.
import { OwnershipReasons } from '../api/constants.ts';
import type { AppManifest } from '../api/index.ts';
import type { CacheReader, CacheSource } from '../runtime/cache.ts';
import { Caches, Index, listingOfRole } from './caches.ts';

/** Oldest first (creationTimestamp), then by namespace and name: the order claims are honoured in. */
export function claimOrder(a: AppManifest, b: AppManifest): number {
  const [ta, tb] = [a.metadata.creationTimestamp ?? '', b.metadata.creationTimestamp ?? ''];
  if (ta !== tb) return ta < tb ? -1 : 1;
  const [ka, kb] = [`${a.metadata.namespace}/${a.metadata.name}`, `${b.metadata.namespace}/${b.metadata.name}`];
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

export interface ClaimRefusal {
  reason: typeof OwnershipReasons.AppIdClaimed | typeof OwnershipReasons.ListingIdClaimed;
  message: string;
}

export class AppClaims {
  private readonly apps: CacheReader<AppManifest>;

  constructor(caches: CacheSource) {
    this.apps = caches.cache(Caches.appManifests);
  }

  private first(index: string, value: string): AppManifest | undefined {
    const claims = this.apps.byIndex(index, value).filter((a) => !a.metadata.deletionTimestamp);
    return claims.length <= 1 ? claims[0] : [...claims].sort(claimOrder)[0];
  }

  /** The namespace (organization) that owns the appId, if any AppManifest claims it. */
  appIdOwner(appId: string): string | undefined {
    return this.first(Index.appId, appId)?.metadata.namespace;
  }

  /** The namespace (organization) that owns the listingId, if any AppManifest claims it. */
  listingOwner(listingId: string): string | undefined {
    return this.first(Index.listingId, listingId)?.metadata.namespace;
  }

  /**
   * Why `app` does not hold its ids, if it does not: another namespace's AppManifest claimed
   * its appId or listingId first. The other organization is not named (that would tell a
   * member of one organization what another's apps are).
   */
  refusal(app: AppManifest): ClaimRefusal | undefined {
    const ns = app.metadata.namespace!;
    const fix = 'choose another one (the first claim keeps an id; an organization cannot take over another\'s), or have the other AppManifest deleted';
    const appOwner = this.appIdOwner(app.spec.appId);
    if (appOwner !== undefined && appOwner !== ns) {
      return { reason: OwnershipReasons.AppIdClaimed, message: `appId "${app.spec.appId}" was claimed first by another organization's AppManifest, so this one is used nowhere (no groups, no token roles, no token): ${fix}` };
    }
    const listingOwner = this.listingOwner(app.spec.listingId);
    if (listingOwner !== undefined && listingOwner !== ns) {
      return { reason: OwnershipReasons.ListingIdClaimed, message: `listingId "${app.spec.listingId}" was claimed first by another organization's AppManifest, so this one is used nowhere (no groups, no token roles, no token): ${fix}` };
    }
    return undefined;
  }

  /** Whether the namespace's organization owns the role's listing. */
  owns(namespace: string, role: string): boolean {
    return this.listingOwner(listingOfRole(role)) === namespace;
  }

  /** The roles of `roles` whose listing the namespace's organization does not own, sorted, once each. */
  unowned(namespace: string, roles: readonly string[]): string[] {
    return [...new Set(roles.filter((r) => !this.owns(namespace, r)))].sort();
  }

  /**
   * Why the roles are not all the namespace's, as one message, or undefined when they are:
   * for each listing, whether no one claims it or another organization does.
   */
  unownedMessage(namespace: string, unowned: readonly string[], what: string): string | undefined {
    if (unowned.length === 0) return undefined;
    const listings = [...new Set(unowned.map(listingOfRole))].sort();
    const why = listings.map((l) => `"${l}" (${this.listingOwner(l) === undefined ? `no AppManifest claims it: create one with listingId ${l} in namespace ${namespace}` : "another organization's AppManifest claimed it first"})`);
    const shown = unowned.slice(0, 10).join(', ') + (unowned.length > 10 ? ` and ${unowned.length - 10} more` : '');
    return `Role(s) ${shown} name listing(s) this organization does not own: ${why.join(', ')}; they are left out of ${what}. Only the organization that owns a listing grants its roles`;
  }

  /**
   * What admission refuses in a manifest: roles of `roles` not in `before` (an object that
   * slipped past stays editable) whose listing another organization owns, as one message
   * naming `field`; undefined when there is none. A listing nobody claims yet is let
   * through: the reconcilers leave its roles out until the organization claims it.
   */
  foreignRolesAdded(namespace: string, roles: readonly string[], before: readonly string[], field: string): string | undefined {
    const had = new Set(before);
    const foreign = [...new Set(roles.filter((r) => !had.has(r) && !this.owns(namespace, r) && this.listingOwner(listingOfRole(r)) !== undefined))].sort();
    if (foreign.length === 0) return undefined;
    return `${field}: ${foreign.join(', ')} name listing(s) another organization owns: a manifest grants only roles of listings its own organization owns (an AppManifest of namespace ${namespace} holding the listingId)`;
  }

  /** The AppManifests whose claims may change when `app` comes, goes or changes ids: every other claimant of its appId and listingId. */
  rivalsOf(app: AppManifest): AppManifest[] {
    const seen = new Set<AppManifest>();
    for (const a of [...this.apps.byIndex(Index.appId, app.spec.appId), ...this.apps.byIndex(Index.listingId, app.spec.listingId)]) if (a !== app) seen.add(a);
    return [...seen];
  }
}
