// The identity provider's pages and emails as HTML: no library, so that whoever sends an email
// with them (the User controller's set-password email) loads nothing of oidc-provider.
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title><style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}label{display:block;margin:.75rem 0 .25rem}input{width:100%;padding:.4rem;box-sizing:border-box}button{margin-top:1rem;padding:.5rem 1.5rem}.error{color:#a00}</style></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

/**
 * The sign-in page: the platform's (user name or email) or, with `tenant`, a frontend app's
 * (the tenant, prefilled from the app's `tenant` parameter, and the email). Both link to
 * /reset, which also sends a tenant account's person a fresh set-password link.
 */
export function signInPage(o: { uid: string; csrf: string; error?: string; tenant?: string }): string {
  const login =
    o.tenant === undefined
      ? '<label for="login">User name or email</label><input id="login" name="login" autocomplete="username" required autofocus>'
      : `<label for="tenant">Tenant</label><input id="tenant" name="tenant" value="${escapeHtml(o.tenant)}" required>` +
        '<label for="login">Email</label><input id="login" name="login" type="email" autocomplete="username" required autofocus>';
  return page(
    'Sign in',
    `${o.error ? `<p class="error" role="alert">${escapeHtml(o.error)}</p>` : ''}<form method="post" action="/interaction/${escapeHtml(o.uid)}/login" autocomplete="on">` +
      `<input type="hidden" name="csrf" value="${o.csrf}">${login}` +
      '<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>' +
      '<button type="submit">Sign in</button></form><p><a href="/reset">Forgot your password?</a></p>',
  );
}
