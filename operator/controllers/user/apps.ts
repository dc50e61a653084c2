// What the User slice answers about frontend apps: for the token-roles API (an app named by
// organization and AppManifest name) and for the embedded identity provider (an app named by
// its appId, the client id). One rule for both: the app holds its ids, belongs to a solution
// the tenant subscribes to, and its token carries the intersection of the user's roles and its
// rolesRequired (tokenRoles), only of listings its organization owns.
import type { AppManifest } from '../../api/appmanifest/schema.ts';
import { tokenAudience } from '../../api/user/names.ts';
import { Caches, Index } from '../../domain/caches.ts';
import { SolutionLookups, appManifestOf, tokenRoles } from '../../domain/solutions.ts';
import { normalizeEmail } from '../../identity/accounts.ts';
import type { TenantApps } from '../../identity/tenant-apps.ts';
import type { CacheSource } from '../../runtime/cache.ts';
import { isTenantAdministrator } from './controller.ts';
import { memberGroups, resolveUser } from './logic.ts';

const NO_ROLES: readonly string[] = [];

export interface AppAnswer {
  organization: string;
  appId: string;
  listingId?: string;
  rolesRequired: readonly string[];
}

/**
 * Reads only the caches of IDENTITY_CACHES (the embedded provider's process, --identity-only,
 * has no others, and its ServiceAccount may read nothing else).
 */
export class AppLookups {
  private readonly lookups: SolutionLookups;
  private readonly caches: CacheSource;

  constructor(caches: CacheSource) {
    this.caches = caches;
    this.lookups = new SolutionLookups(caches);
  }

  /** The User's email and roles, or undefined when there is no such User (or it is being deleted). */
  user(ns: string, name: string): { email: string; roles: string[] } | undefined {
    const u = this.caches.cache(Caches.users).getByName(name, ns);
    if (!u || u.metadata.deletionTimestamp) return undefined;
    const tenant = this.lookups.tenantOf(ns);
    const admin = isTenantAdministrator(tenant, u);
    const groups = this.caches.cache(Caches.userGroups);
    const r = resolveUser(memberGroups(u, tenant), admin ? this.lookups.adminGroupsIn(ns) : [], (g) => groups.getByName(g, ns));
    return { email: u.spec.email, roles: r.effectiveRoles };
  }

  /** The app when it exists, holds its ids and belongs to a solution the namespace's tenant subscribes to; rolesRequired only of its organization's listings. */
  appFor(ns: string, app: AppManifest | undefined, organization: string): AppAnswer | undefined {
    const orgNs = this.lookups.organizations.getByName(organization)?.status?.namespace;
    if (!app || !orgNs || app.metadata.namespace !== orgNs || app.metadata.deletionTimestamp) return undefined;
    // An app whose appId or listingId another organization claimed first is used nowhere.
    if (this.lookups.claims.refusal(app)) return undefined;
    // Only an app of a solution the tenant subscribes to (the solution includes it by listingId); a frontend app
    // without a listingId (the seed's file) serves the tenants subscribed to any solution of its organization.
    const listing = app.spec.listingId;
    const subscribed = this.lookups.subscriptions.byIndex(Index.namespace, ns).some((sub) => {
      const { solution } = this.lookups.solutionOf(sub);
      return !!solution && solution.metadata.namespace === orgNs && (listing === undefined || !!solution.status?.apps?.includes(listing));
    });
    // Its last good manifest's rolesRequired (none before it had one: the token carries no role), only those of
    // listings its organization owns.
    const rolesRequired = this.lookups.claims.ownedRolesRequired(app, appManifestOf(app)?.rolesRequired ?? NO_ROLES);
    return subscribed ? { organization, appId: app.spec.appId, listingId: app.spec.listingId, rolesRequired } : undefined;
  }

  /** The token-roles API's app: by organization and AppManifest name. */
  app(ns: string, ref: { organization: string; name: string }): AppAnswer | undefined {
    const orgNs = this.lookups.organizations.getByName(ref.organization)?.status?.namespace;
    return this.appFor(ns, orgNs ? this.lookups.appManifests.getByName(ref.name, orgNs) : undefined, ref.organization);
  }

  /** The AppManifest holding `appId` (its organization claimed it), its organization's name and display name; the oldest when several do. */
  holder(appId: string): { app: AppManifest; organization: string; organizationDisplayName: string } | undefined {
    const held = this.lookups.appManifests
      .byIndex(Index.appId, appId)
      .filter((a) => !a.metadata.deletionTimestamp && !this.lookups.claims.refusal(a))
      .sort((a, b) => String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)) || a.metadata.name!.localeCompare(b.metadata.name!));
    const app = held[0];
    const organization = app && this.lookups.claims.organizationOf(app.metadata.namespace!);
    return app && organization ? { app, organization: organization.metadata.name!, organizationDisplayName: organization.spec.displayName } : undefined;
  }

  /** The embedded identity provider's view (identity/tenant-apps.ts). */
  tenantApps(): TenantApps {
    return {
      client: (clientId) => {
        const h = this.holder(clientId);
        const redirectUris = h?.app.spec.redirectUris ?? [];
        if (!h || redirectUris.length === 0) return undefined;
        return {
          clientId,
          redirectUris: [...redirectUris],
          audience: tokenAudience(h.organization, h.app.spec.appId),
          organization: h.organization,
          organizationDisplayName: h.organizationDisplayName,
          appId: h.app.spec.appId,
        };
      },
      tenantNamespace: (tenant) => {
        const t = this.lookups.tenants.getByName(tenant);
        return t && !t.metadata.deletionTimestamp ? t.status?.namespace : undefined;
      },
      roles: (ns, name, email, clientId) => {
        const user = this.user(ns, name);
        // The account is of the User's email when it was made: once the User's email changed, it is another person's.
        if (!user || normalizeEmail(user.email) !== normalizeEmail(email)) return undefined;
        const h = this.holder(clientId);
        const app = h && this.appFor(ns, h.app, h.organization);
        return user && app ? tokenRoles(user.roles, app.rolesRequired) : undefined;
      },
    };
  }
}
