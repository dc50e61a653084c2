// The "set your password" email of an account made without a password (an Account made by
// a provisioning administrator). Its link is a password-reset link (accounts.ts
// resetToken, served by server.ts /reset/confirm): HMAC-signed with the provider's cookie
// key, bound to the account's password fingerprint, so it works once and stops working as
// soon as a password is set. It works longer than a reset link (a week, like an
// invitation); afterwards "Forgot your password?" sends a fresh one.
import type { KubeClient } from '../runtime/kube/client.ts';
import type { MailMessage } from '../runtime/mail/mailer.ts';
import type { AccountStore } from './accounts.ts';
import { resetToken } from './accounts.ts';
import { ensureKeys } from './keys.ts';
import { escapeHtml, page } from './page.ts';

export interface PasswordSetupEmail {
  message: MailMessage;
  expiresAt: Date;
}

/**
 * The email that lets the person of account `id` choose their first password, or
 * undefined when the account has no Secret. `issuer` is the provider's URL (the link's
 * base); `uid` makes the Message-ID (one per Account and request).
 */
export async function passwordSetupEmail(opts: {
  client: KubeClient;
  namespace: string;
  accounts: AccountStore;
  issuer: string;
  id: string;
  nowMs: number;
  ttlMs: number;
  messageKey: string;
}): Promise<PasswordSetupEmail | undefined> {
  const account = await opts.accounts.find(opts.id);
  const fingerprint = account && (await opts.accounts.passwordFingerprint(account.id));
  if (!account || !fingerprint) return undefined;
  const keys = await ensureKeys(opts.client, opts.namespace, opts.nowMs);
  const expiresAt = new Date(opts.nowMs + opts.ttlMs);
  const link = `${opts.issuer.replace(/\/$/, '')}/reset/confirm?token=${resetToken(keys.cookieKeys[0]!, account.id, fingerprint, Math.floor(expiresAt.getTime() / 1000))}`;
  const until = expiresAt.toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    expiresAt,
    message: {
      to: account.email,
      subject: 'Set your password',
      text:
        `Hello ${account.firstName},\n\nAn account was made for you on the Mini Apps platform: user name ${account.username}, email ${account.email}.\n\n` +
        `To choose your password, open this link (it works once, until ${until}):\n${link}\n\n` +
        `Afterwards, sign in with your user name or email and that password. If the link has expired, use "Forgot your password?" on the sign-in page.\n`,
      html: page(
        'Set your password',
        `<p>Hello ${escapeHtml(account.firstName)},</p><p>An account was made for you on the Mini Apps platform: user name <strong>${escapeHtml(account.username)}</strong>, email ${escapeHtml(account.email)}.</p>` +
          `<p><a href="${escapeHtml(link)}">Choose your password</a> (the link works once, until ${escapeHtml(until)}).</p><p>If the link has expired, use "Forgot your password?" on the sign-in page.</p>`,
      ),
      messageId: `<password-setup.${account.id}.${opts.messageKey}@miniapps.dev>`,
    },
  };
}
