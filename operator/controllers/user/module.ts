import { ROTATE_TOKEN_KEY_ANNOTATION } from '../../api/user/names.ts';
import { Caches } from '../../domain/caches.ts';
import { tokenRoles } from '../../domain/solutions.ts';
import { Mailer } from '../../runtime/mail/mailer.ts';
import { TenantAccountStore } from '../../identity/tenant-accounts.ts';
import { AppLookups } from './apps.ts';
import { UserAccounts } from './accounts.ts';
import { tokenRolesRoutes } from './tokenroles.ts';
import type { TokenRolesBackend } from './tokenroles.ts';
import { SigningKeys } from './signing-keys.ts';
import type { OperatorModule } from '../module.ts';
import { userController } from './controller.ts';

/** User: effective roles, landing page, missing groups; the token-roles API (its signing key made on first start). */
/** What AppLookups reads: the User module's caches, and all the embedded provider's process has (--identity-only). */
const IDENTITY_CACHES = [Caches.users, Caches.userGroups, Caches.tenants, Caches.subscriptions, Caches.solutions, Caches.organizations, Caches.appManifests, Caches.idClaims];

export const userModule: OperatorModule = {
  name: 'user',
  caches: IDENTITY_CACHES,
  identity: { caches: IDENTITY_CACHES, tenantApps: (caches) => new AppLookups(caches).tenantApps() },
  async setup({ deps, config, authority, client }) {
    const keys = new SigningKeys(deps.store, config.namespace, deps.clock);
    const state = await keys.ensureExists();
    if (!state.ok) deps.log.error({ problem: state.problem }, 'Token signing key unusable: the token-roles API answers without JWTs until it is restored');
    const apps = new AppLookups(deps.caches);
    const rotation = () => deps.domain.platformConfig()?.metadata.annotations?.[ROTATE_TOKEN_KEY_ANNOTATION];
    const backend: TokenRolesBackend = {
      user: (ns, name) => apps.user(ns, name),
      app: (ns, ref) => apps.app(ns, ref),
      signingKey: () => keys.signingKey(rotation()),
      publishedKeys: () => keys.signingKey(rotation()),
    };
    // With the embedded identity provider, each User gets an account in its tenant (a set-password email through the
    // SMTP server invitations use), and frontend apps are its clients.
    const embedded = config.identityEmbedded;
    const mailer = embedded ? Mailer.fromConfig(config, client) : undefined;
    const accounts = embedded ? new UserAccounts(new TenantAccountStore(client, config.identityNamespace), config.identityIssuer!.replace(/\/$/, ''), mailer) : undefined;
    return {
      controllers: [userController(deps, accounts)],
      routes: tokenRolesRoutes({ authority, backend, tokenRoles, clock: deps.clock, log: deps.log }),
      tenantApps: embedded ? apps.tenantApps() : undefined,
    };
  },
};
