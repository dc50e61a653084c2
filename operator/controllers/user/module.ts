import { ROTATE_TOKEN_KEY_ANNOTATION } from '../../api/user/names.ts';
import { Caches, Index } from '../../domain/caches.ts';
import { SolutionLookups, appManifestOf, tokenRoles } from '../../domain/solutions.ts';
import { tokenRolesRoutes } from './tokenroles.ts';
import type { TokenRolesBackend } from './tokenroles.ts';
import { SigningKeys } from './signing-keys.ts';
import type { OperatorModule } from '../module.ts';
import { isTenantAdministrator, userController } from './controller.ts';
import { memberGroups, resolveUser } from './logic.ts';

const NO_ROLES: readonly string[] = [];

/** User: effective roles, landing page, missing groups; the token-roles API (its signing key made on first start). */
export const userModule: OperatorModule = {
  name: 'user',
  caches: [Caches.users, Caches.userGroups, Caches.tenants, Caches.subscriptions, Caches.solutions, Caches.organizations, Caches.appManifests, Caches.idClaims],
  async setup({ deps, config, authority }) {
    const keys = new SigningKeys(deps.store, config.namespace, deps.clock);
    const state = await keys.ensureExists();
    if (!state.ok) deps.log.error({ problem: state.problem }, 'Token signing key unusable: the token-roles API answers without JWTs until it is restored');
    const lookups = new SolutionLookups(deps.caches);
    const users = deps.caches.cache(Caches.users);
    const groups = deps.caches.cache(Caches.userGroups);
    const rotation = () => deps.domain.platformConfig()?.metadata.annotations?.[ROTATE_TOKEN_KEY_ANNOTATION];
    const backend: TokenRolesBackend = {
      user: (ns, name) => {
        const u = users.getByName(name, ns);
        if (!u || u.metadata.deletionTimestamp) return undefined;
        const tenant = lookups.tenantOf(ns);
        const admin = isTenantAdministrator(tenant, u);
        const r = resolveUser(memberGroups(u, tenant), admin ? lookups.adminGroupsIn(ns) : [], (g) => groups.getByName(g, ns));
        return { email: u.spec.email, roles: r.effectiveRoles };
      },
      app: (ns, ref) => {
        const orgNs = lookups.organizations.getByName(ref.organization)?.status?.namespace;
        const app = orgNs ? lookups.appManifests.getByName(ref.name, orgNs) : undefined;
        if (!app || app.metadata.deletionTimestamp) return undefined;
        // An app whose appId or listingId another organization claimed first is used nowhere.
        if (lookups.claims.refusal(app)) return undefined;
        // Only an app of a solution the tenant subscribes to (the solution includes it by listingId); a frontend app
        // without a listingId (the seed's file) serves the tenants subscribed to any solution of its organization.
        const listing = app.spec.listingId;
        const subscribed = lookups.subscriptions.byIndex(Index.namespace, ns).some((sub) => {
          const { solution } = lookups.solutionOf(sub);
          return !!solution && solution.metadata.namespace === orgNs && (listing === undefined || !!solution.status?.apps?.includes(listing));
        });
        // Its last good manifest's rolesRequired (none before it had one: the token carries no role), only those of
        // listings its organization owns.
        const rolesRequired = lookups.claims.ownedRolesRequired(app, appManifestOf(app)?.rolesRequired ?? NO_ROLES);
        return subscribed ? { organization: ref.organization, appId: app.spec.appId, listingId: app.spec.listingId, rolesRequired } : undefined;
      },
      signingKey: () => keys.signingKey(rotation()),
      publishedKeys: () => keys.signingKey(rotation()),
    };
    return {
      controllers: [userController(deps)],
      routes: tokenRolesRoutes({ authority, backend, tokenRoles, clock: deps.clock, log: deps.log }),
    };
  },
};
