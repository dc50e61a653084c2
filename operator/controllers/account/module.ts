import { Caches } from '../../domain/caches.ts';
import { AccountStore } from '../../identity/accounts.ts';
import { Mailer } from '../../runtime/mail/mailer.ts';
import type { ModuleParts, OperatorModule } from '../module.ts';
import { accountController } from './controller.ts';

/**
 * Account: the public face of an embedded identity provider's account (its private half,
 * with the password hash, is the Secret account-<id> of the provider's namespace), its
 * suspension, its provisioning administrator's binding, and the "set your password" email.
 */
export const accountModule: OperatorModule = {
  name: 'account',
  caches: [Caches.accounts, Caches.accountSecrets, Caches.platformConfigs, Caches.ownedClusterRoles, Caches.ownedClusterRoleBindings],
  async setup(ctx): Promise<ModuleParts> {
    const { deps, config: cfg, client } = ctx;
    const embedded = cfg.identityEmbedded;
    return {
      controllers: [
        accountController(deps, {
          accounts: embedded ? new AccountStore(client, cfg.identityNamespace) : undefined,
          identityNamespace: cfg.identityNamespace,
          client,
          issuer: cfg.identityIssuer?.replace(/\/$/, ''),
          // The same SMTP server as invitations and password resets send through.
          mailer: embedded ? Mailer.fromConfig(cfg, client) : undefined,
        }),
      ],
    };
  },
};
