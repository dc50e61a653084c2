// Lookups of super apps, mini apps and reviews by reference, over the declared caches and
// their indexes, for the three app controllers and their admission rules (which never
// import each other).
import type { MiniApp } from '../api/miniapp/schema.ts';
import type { MiniAppReview } from '../api/miniappreview/schema.ts';
import type { Organization } from '../api/organization/schema.ts';
import type { SuperApp } from '../api/superapp/schema.ts';
import { CONFIRM_DELETE_ANNOTATION, CONFIRM_DELETE_VALUE } from '../api/constants.ts';
import type { CacheReader, CacheSource } from '../runtime/cache.ts';
import { placementOf, refKey, targetsOf } from './apps.ts';
import type { AppRef, Placement } from './apps.ts';
import { Caches, Index, superAppTargetKeys, targetKey } from './caches.ts';
import type { Namespace } from './caches.ts';
import type { Domain } from './lookups.ts';

export class AppDirectory {
  readonly domain: Domain;
  readonly superApps: CacheReader<SuperApp>;
  readonly miniApps: CacheReader<MiniApp>;
  readonly reviews: CacheReader<MiniAppReview>;
  private readonly namespaces: CacheReader<Namespace>;

  constructor(caches: CacheSource, domain: Domain) {
    this.domain = domain;
    this.superApps = caches.cache(Caches.superApps);
    this.miniApps = caches.cache(Caches.miniApps);
    this.reviews = caches.cache(Caches.miniAppReviews);
    this.namespaces = caches.cache(Caches.namespaces);
  }

  /** The namespace of an Organization, as recorded in its status. */
  namespaceOf(organization: string): string | undefined {
    return this.domain.organizations.getByName(organization)?.status?.namespace;
  }

  superAppOf(ref: AppRef): SuperApp | undefined {
    const ns = this.namespaceOf(ref.organization);
    return ns ? this.superApps.getByName(ref.name, ns) : undefined;
  }

  miniAppOf(ref: AppRef): MiniApp | undefined {
    const ns = this.namespaceOf(ref.organization);
    return ns ? this.miniApps.getByName(ref.name, ns) : undefined;
  }

  /** The Organization whose namespace holds `obj`. */
  organizationOf(obj: { metadata: { namespace?: string } }): Organization | undefined {
    return this.domain.organizationOf(obj.metadata.namespace);
  }

  /** The super app as a reference (its organization's name), if its namespace is an organization's. */
  refOf(obj: { metadata: { namespace?: string; name?: string } }): AppRef | undefined {
    const org = this.domain.organizationOf(obj.metadata.namespace);
    return org ? { organization: org.metadata.name, name: obj.metadata.name! } : undefined;
  }

  /** The mini apps naming this super app in spec.superApps (by index; whether they may is placementOf's question). */
  miniAppsNaming(superApp: SuperApp): MiniApp[] {
    const org = this.organizationOf(superApp)?.metadata.name;
    const ns = superApp.metadata.namespace!;
    const seen = new Map<string, MiniApp>();
    for (const key of superAppTargetKeys(org, ns, superApp.metadata.name)) {
      for (const m of this.miniApps.byIndex(Index.target, key)) seen.set(`${m.metadata.namespace}/${m.metadata.name}`, m);
    }
    return [...seen.values()];
  }

  /** The reviews of mini app `mini` for `superApp` (any version), from the super app's namespace. */
  reviewsFor(mini: AppRef, superApp: SuperApp): MiniAppReview[] {
    return this.reviews
      .byIndex(Index.miniApp, targetKey(mini.organization, mini.name))
      .filter((r) => r.metadata.namespace === superApp.metadata.namespace && r.spec.superApp === superApp.metadata.name);
  }

  /** Where `mini` (of `miniOrg`) stands in `target`. */
  placement(mini: MiniApp, miniOrg: Organization | undefined, target: AppRef): Placement {
    const superApp = this.superAppOf(target);
    const reviews = superApp && miniOrg ? this.reviewsFor({ organization: miniOrg.metadata.name, name: mini.metadata.name }, superApp) : [];
    return placementOf({ mini, miniOrg, target, superApp, reviews });
  }

  /** Whether the mini app names `target` among its targets. */
  names(mini: MiniApp, miniOrg: Organization, target: AppRef): boolean {
    return targetsOf(mini, miniOrg.metadata.name).some((t) => refKey(t) === refKey(target));
  }

  /**
   * A mini app on its way out: its deletion is confirmed, or its namespace is going. It
   * leaves every catalog at once (an unconfirmed deletion is held, and changes nothing).
   */
  leaving(mini: MiniApp): boolean {
    if (!mini.metadata.deletionTimestamp) return false;
    return mini.metadata.annotations?.[CONFIRM_DELETE_ANNOTATION] === CONFIRM_DELETE_VALUE || this.namespaceTerminating(mini.metadata.namespace!);
  }

  namespaceTerminating(namespace: string): boolean {
    const ns = this.namespaces.getByName(namespace);
    return !!ns && (!!ns.metadata.deletionTimestamp || ns.status?.phase === 'Terminating');
  }
}
