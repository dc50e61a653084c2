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

/** What a frontend app's grant lets it do, in the person's words, by the scopes it asked for (its roles always). */
export function consentItems(scopes: readonly string[]): string[] {
  return [
    ...(scopes.includes('email') ? ['know your email address'] : []),
    ...(scopes.includes('profile') ? ['know your name'] : []),
    'know your roles in it (from your groups in your tenant)',
    ...(scopes.includes('offline_access') ? ['keep you signed in until you sign out'] : []),
  ];
}

/**
 * The consent page of a frontend app (another organization's client): the app (its appId)
 * and its organization (as people read it, its display name) named, what it asks for, Allow or Cancel (each a post carrying the
 * interaction's CSRF token). Asked before the app's first grant for that person, and again
 * when it asks for more.
 */
export function consentPage(o: { uid: string; csrf: string; app: string; organization: string; scopes: readonly string[] }): string {
  const items = consentItems(o.scopes)
    .map((i) => `<li>${escapeHtml(i)}</li>`)
    .join('');
  return page(
    'Allow this app?',
    `<p><strong>${escapeHtml(o.app)}</strong>, an app of the organization <strong>${escapeHtml(o.organization)}</strong>, asks to:</p><ul>${items}</ul>` +
      `<form method="post" action="/interaction/${escapeHtml(o.uid)}/consent"><input type="hidden" name="csrf" value="${o.csrf}">` +
      '<button type="submit" name="decision" value="allow">Allow</button> <button type="submit" name="decision" value="deny" class="secondary">Cancel</button></form>' +
      '<p class="note">You are asked once for each app while you stay signed in; Cancel takes you back to the app without giving it access.</p>',
  );
}
