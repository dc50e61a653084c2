import { Caches } from '../../domain/caches.ts';
import { AccountStore } from '../../identity/accounts.ts';
import { Mailer } from '../../runtime/mail/mailer.ts';
import type { ModuleContext, ModuleParts, OperatorModule } from '../module.ts';
import { accountController } from './controller.ts';

/** The same SMTP server as invitations and password resets send through. */
async function mailer({ config: cfg, client }: ModuleContext): Promise<Mailer | undefined> {
  if (!cfg.smtpHost) return undefined;
  const config = { host: cfg.smtpHost, port: cfg.smtpPort, security: cfg.smtpSecurity, from: cfg.smtpFrom };
  return cfg.smtpCredentialsSecret ? Mailer.fromSecret(client, cfg.smtpCredentialsSecret, config) : new Mailer(config);
}

/**
 * Account: the public face of an embedded identity provider's account (its private half,
 * with the password hash, is the Secret account-<id> of the operator's namespace), its
 * suspension, its provisioning administrator's binding, and the "set your password" email.
 */
export const accountModule: OperatorModule = {
  name: 'account',
  caches: [Caches.accounts, Caches.accountSecrets, Caches.platformConfigs, Caches.ownedClusterRoles, Caches.ownedClusterRoleBindings],
  async setup(ctx): Promise<ModuleParts> {
    const { deps, config: cfg, client } = ctx;
    const embedded = !!cfg.identityBindAddress && !!cfg.identityIssuer;
    return {
      controllers: [
        accountController(deps, {
          accounts: embedded ? new AccountStore(client, cfg.namespace) : undefined,
          client,
          issuer: cfg.identityIssuer?.replace(/\/$/, ''),
          mailer: embedded ? await mailer(ctx) : undefined,
        }),
      ],
    };
  },
};
