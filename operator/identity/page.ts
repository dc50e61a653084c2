// The identity provider's pages and emails, in the look of every page the project serves
// (runtime/html.ts): nothing of oidc-provider, so that whoever sends an email with them (the
// User controller's set-password email) loads no library.
import { escapeHtml, htmlPage } from '../runtime/html.ts';

export { escapeHtml };
export const page = htmlPage;

/**
 * The sign-in page: the platform's (user name or email) or, with `tenant`, a frontend app's
 * (the tenant, prefilled from the app's `tenant` parameter, and the email). Both link to
 * /reset, which also sends a tenant account's person a fresh set-password link. After a
 * refusal, `login` keeps what the person typed (never the password), and the password
 * field has the focus.
 */
export function signInPage(o: { uid: string; csrf: string; error?: string; tenant?: string; login?: string }): string {
  const typed = o.login ? ` value="${escapeHtml(o.login)}"` : '';
  const focus = (onLogin: boolean) => (!o.login === onLogin ? ' autofocus' : '');
  const login =
    o.tenant === undefined
      ? `<label for="login">User name or email</label><input id="login" name="login" autocomplete="username"${typed} required${focus(true)}>`
      : `<label for="tenant">Tenant</label><input id="tenant" name="tenant" value="${escapeHtml(o.tenant)}" required>` +
        `<label for="login">Email</label><input id="login" name="login" type="email" autocomplete="username"${typed} required${focus(true)}>`;
  return page(
    'Sign in',
    `${o.error ? `<p class="error" role="alert">${escapeHtml(o.error)}</p>` : ''}<form method="post" action="/interaction/${escapeHtml(o.uid)}/login" autocomplete="on">` +
      `<input type="hidden" name="csrf" value="${o.csrf}">${login}` +
      `<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required${focus(false)}>` +
      '<button type="submit">Sign in</button></form><p><a href="/reset">Forgot your password?</a></p>',
  );
}
