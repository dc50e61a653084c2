import { Caches } from '../../domain/caches.ts';
import { Mailer } from '../../runtime/mail/mailer.ts';
import { loadInvitationKey } from './token.ts';
import { AccountStore } from '../../identity/accounts.ts';
import { ClusterFailureCounter } from '../../identity/lockout.ts';
import { AcceptServer } from './accept.ts';
import type { ModuleParts, OperatorModule } from '../module.ts';
import { MembershipAcceptance } from './acceptance.ts';
import { membershipValidator } from './admission.ts';
import { membershipController } from './controller.ts';
import { SmtpInvitationMailer } from './mail.ts';
import { invitationMetrics } from './metrics.ts';
import { membershipSettings } from './settings.ts';
import { settingsOf } from '../../runtime/config.ts';

/** The listener name of the invitation acceptance page, on --public-bind-address (its port is logged as publicPort). */
export const ACCEPT_LISTENER = 'public';

/**
 * Membership: invitations over SMTP, the acceptance page, the member's access, and the
 * rules that span Memberships (one per email, the last administrator, only in an
 * organization's namespace).
 */
export const membershipModule: OperatorModule = {
  name: 'membership',
  caches: [Caches.memberships, Caches.organizations, Caches.namespaces, Caches.platformConfigs, Caches.ownedRoles, Caches.ownedRoleBindings, Caches.superApps, Caches.miniApps],
  admits: ['Membership'],
  metrics: [invitationMetrics],
  settings: membershipSettings,
  async setup(ctx): Promise<ModuleParts> {
    const { deps, config: cfg, client, metrics } = ctx;
    const own = settingsOf(cfg, membershipSettings);
    const signingKey = await loadInvitationKey(client, cfg.namespace);
    const smtp = Mailer.fromConfig(cfg, client);
    if (!smtp) deps.log.warn('No SMTP server configured (--smtp-host): invitations will not be sent');
    const invitations = smtp ? new SmtpInvitationMailer(smtp, signingKey, own.publicUrl) : undefined;
    const parts: ModuleParts = {
      controllers: [
        membershipController(deps, {
          mailer: invitations,
          invitationResendIntervalMs: own.invitationResendIntervalMs,
          invitationResendLimit: own.invitationResendLimit,
          invitationRecipientLimit: own.invitationRecipientLimit,
          invitationOrganizationLimit: own.invitationOrganizationLimit,
          recipientKey: signingKey,
          onEmail: (result, reason) => metrics.of(invitationMetrics).emails.inc({ result, reason }),
        }),
      ],
      admission: [{ kind: 'Membership', validate: membershipValidator(deps.domain, deps.caches.cache(Caches.namespaces)) }],
    };
    if (own.publicBindAddress) {
      // With the embedded identity provider, accepting needs an account (made on the page, or signed in to).
      const accounts = cfg.identityEmbedded ? new AccountStore(client, cfg.identityNamespace) : undefined;
      const signIn = cfg.identityIssuer ? { issuer: cfg.identityIssuer.replace(/\/$/, '') } : undefined;
      // The same lockout as the identity provider's sign-in page (one count per login, on the cluster, shared by replicas).
      const failures = accounts ? new ClusterFailureCounter(client, cfg.identityNamespace, 5, 15 * 60_000) : undefined;
      const backend = new MembershipAcceptance({ client, domain: deps.domain, signingKey, clock: deps.clock, accounts, signIn, failures });
      parts.listeners = [
        { name: ACCEPT_LISTENER, listener: new AcceptServer({ address: own.publicBindAddress, log: deps.log, backend, trustedProxies: cfg.trustedProxies, forwardedHeader: cfg.forwardedHeader }) },
      ];
    }
    return parts;
  },
};
