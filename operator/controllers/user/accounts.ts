// A User's account with the embedded identity provider (identity/tenant-accounts.ts): made
// when the User is, without a password; the person gets one email with a set-password link
// (the provider's reset link, identity/accounts.ts resetToken) through the SMTP server the
// invitations use. The email is sent at most once: the send is recorded on the account, by
// compare-and-swap, at the last moment before the SMTP server delivers it (the mailer's
// commit), so a restart anywhere never sends twice; a send that failed before that is tried
// again. Deleting the User deletes the account and every session, grant and token of it.
import { AccountStates, UserConditions, UserReasons } from '../../api/user/names.ts';
import type { User } from '../../api/user/schema.ts';
import { escapeHtml, page } from '../../identity/page.ts';
import { tenantAccountId } from '../../identity/tenant-accounts.ts';
import type { TenantAccountStore } from '../../identity/tenant-accounts.ts';
import type { ConditionInput } from '../../runtime/conditions.ts';
import { MailRejected, MailUnavailable } from '../../runtime/mail/mailer.ts';
import type { Mailer } from '../../runtime/mail/mailer.ts';

/**
 * How often a User whose password is not set yet is looked at again: nothing the operator
 * watches changes when the person sets it (the account is a Secret it does not cache), so
 * status.account follows within this long.
 */
export const PASSWORD_CHECK_INTERVAL_MS = 60_000;

/** How long a set-password link works (the person may not read their email at once). */
export const SET_PASSWORD_LINK_TTL_MS = 7 * 24 * 3600_000;

export interface AccountOutcome {
  account: { state: (typeof AccountStates)[keyof typeof AccountStates]; setPasswordEmailSentAt?: string };
  condition: ConditionInput;
  /** Why the email could not be sent. */
  problem?: string;
  /** The email failed in a way a retry may fix: the reconcile backs off and tries again. */
  retry?: boolean;
}

class AlreadyRecorded extends Error {}

export class UserAccounts {
  readonly store: TenantAccountStore;
  private readonly issuer: string;
  private readonly mailer?: Mailer;
  private readonly linkTtlMs: number;

  constructor(store: TenantAccountStore, issuer: string, mailer?: Mailer, linkTtlMs = SET_PASSWORD_LINK_TTL_MS) {
    this.store = store;
    this.issuer = issuer;
    this.mailer = mailer;
    this.linkTtlMs = linkTtlMs;
  }

  /** Makes the account if it is missing, sends the set-password email once, and says where the account stands. */
  async reconcile(user: User, now: Date): Promise<AccountOutcome> {
    const ns = user.metadata.namespace!;
    const name = user.metadata.name!;
    // An account made for an email the User no longer has is the previous person's: gone, with its sessions, before the new one is made.
    await this.store.deleteForUser(ns, name, tenantAccountId(ns, user.spec.email));
    const { account } = await this.store.ensure({ tenant: ns, user: name, email: user.spec.email, firstName: user.spec.firstName, lastName: user.spec.lastName });
    if (account.passwordSet) {
      return {
        account: { state: AccountStates.PasswordSet, setPasswordEmailSentAt: account.setPasswordSentAt },
        condition: { type: UserConditions.AccountReady, status: 'True', reason: UserReasons.PasswordSet, message: 'The user has an account in this tenant and has set its password' },
      };
    }
    const validity = linkValidity(this.linkTtlMs);
    let sentAt = account.setPasswordSentAt;
    let problem: string | undefined;
    let retry = false;
    if (!sentAt && !this.mailer) problem = 'The operator has no SMTP server (--smtp-host), so the set-password email cannot be sent; configure one';
    else if (!sentAt) {
      const link = await this.store.setPasswordLink(this.issuer, account.id, now.getTime(), now.getTime() + this.linkTtlMs);
      try {
        await this.mailer!.send(
          {
            to: account.email,
            subject: 'Choose your password',
            text: `An account was made for you in the tenant ${ns}.\n\nTo choose its password, open this link within ${validity}:\n${link}\n\nThen sign in to your apps with the tenant ${ns}, your email ${account.email} and that password. If the link has expired, use "Forgot your password?" on the sign-in page.\n`,
            html: page(
              'Choose your password',
              `<p>An account was made for you in the tenant <strong>${escapeHtml(ns)}</strong>.</p><p><a href="${escapeHtml(link!)}">Choose your password</a> (the link works for ${validity}, once).</p><p>Then sign in to your apps with the tenant ${escapeHtml(ns)}, your email and that password. If the link has expired, use "Forgot your password?" on the sign-in page.</p>`,
            ),
            messageId: `<set-password.${account.id}@miniapps.dev>`,
          },
          async () => {
            if (!(await this.store.recordSetPasswordEmail(account.id, now))) throw new AlreadyRecorded('The set-password email was recorded as sent already');
          },
        );
        sentAt = now.toISOString();
      } catch (err) {
        if (err instanceof AlreadyRecorded) sentAt = (await this.store.find(account.id))?.setPasswordSentAt;
        else {
          // The reason without the SMTP server's own words (they may quote the address).
          const why =
            err instanceof MailRejected
              ? `the SMTP server refused it with code ${err.responseCode}`
              : err instanceof MailUnavailable
                ? 'the SMTP server could not be reached or used'
                : 'sending failed';
          problem = `The set-password email could not be sent (${why}); it is tried again with backoff; check the operator's SMTP settings (--smtp-host)`;
          retry = true;
        }
      }
    }
    return {
      account: { state: AccountStates.PasswordNotSet, setPasswordEmailSentAt: sentAt },
      condition: problem
        ? { type: UserConditions.AccountReady, status: 'False', reason: UserReasons.SetPasswordEmailFailed, message: problem }
        : {
            type: UserConditions.AccountReady,
            status: 'False',
            reason: UserReasons.PasswordNotSet,
            message: `The user has an account in this tenant but has not chosen its password yet: the set-password email was sent to the user's email at ${sentAt}; the link works once, for ${validity}`,
          },
      problem,
      retry,
    };
  }

  /** Deletes the User's account and ends its sessions. */
  remove(namespace: string, name: string): Promise<number> {
    return this.store.deleteForUser(namespace, name);
  }
}

/** How long a set-password link works, as the email and the condition say it: `7 days`, `1 day`, `30 minutes`. */
export function linkValidity(ttlMs: number): string {
  const days = Math.round(ttlMs / (24 * 3600_000));
  const minutes = Math.max(1, Math.round(ttlMs / 60_000));
  return days >= 1 ? `${days} day${days === 1 ? '' : 's'}` : `${minutes} minute${minutes === 1 ? '' : 's'}`;
}

/** With an external identity provider: the operator holds no account. */
export const EXTERNAL_ACCOUNT: AccountOutcome = {
  account: { state: AccountStates.External },
  condition: {
    type: UserConditions.AccountReady,
    status: 'True',
    reason: UserReasons.ExternalProvider,
    message: "The platform uses an external identity provider: the user signs in with that provider's account (docs/identity.md)",
  },
};
