// The embedded OpenID Connect provider: oidc-provider (a certified implementation)
// configured for this platform. Nothing of the protocol is written here: only the
// account model (accounts.ts), the storage (adapter.ts), the keys (keys.ts), the
// clients and the claims, which are the subjects the operator binds in RBAC:
// `email` (PlatformConfig userPrefix + email is the Kubernetes user name) and `groups`.
import Provider from 'oidc-provider';
import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import type { AccountStore } from './accounts.ts';
import { clusterAdapter } from './adapter.ts';
import type { KubeClient } from '../runtime/kube/client.ts';
import type { KeyMaterial } from './keys.ts';

/** The kubectl login command's client: public (PKCE, no secret), native, loopback redirects on any port. */
export const KUBECTL_CLIENT_ID = 'miniapps-kubectl';
export const KUBECTL_REDIRECT_URIS = ['http://127.0.0.1/callback', 'http://localhost/callback'];

/** How long tokens and the provider's state last, in seconds. */
export interface IdentityTTLs {
  /** Access and ID tokens: the longest a suspended account's already issued token keeps working. */
  token: number;
  refreshToken: number;
  session: number;
  authorizationCode: number;
  deviceCode: number;
  interaction: number;
}

export const DEFAULT_TTLS: IdentityTTLs = {
  token: 5 * 60,
  refreshToken: 12 * 3600,
  session: 12 * 3600,
  authorizationCode: 60,
  deviceCode: 10 * 60,
  interaction: 15 * 60,
};

export interface StaticClient {
  client_id: string;
  client_secret?: string;
  redirect_uris: string[];
  post_logout_redirect_uris?: string[];
  application_type?: 'web' | 'native';
  token_endpoint_auth_method?: 'none' | 'client_secret_basic' | 'client_secret_post';
  grant_types?: string[];
}

export function kubectlClient(): StaticClient {
  return {
    client_id: KUBECTL_CLIENT_ID,
    redirect_uris: KUBECTL_REDIRECT_URIS,
    application_type: 'native',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
  };
}

/** The console's client (console/, docs/console.md): public (PKCE, no secret), a web application with exact redirect URIs. */
export const CONSOLE_CLIENT_ID = 'miniapps-console';

export function consoleClient(redirectUris: string[]): StaticClient {
  return {
    client_id: CONSOLE_CLIENT_ID,
    redirect_uris: redirectUris,
    post_logout_redirect_uris: [...new Set(redirectUris.map((u) => new URL('/', u).href))],
    application_type: 'web',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
  };
}

export interface ProviderOptions {
  issuer: string;
  client: KubeClient;
  namespace: string;
  accounts: AccountStore;
  keys: KeyMaterial;
  clients: StaticClient[];
  ttl?: IdentityTTLs;
  /** Behind a proxy that terminates TLS (X-Forwarded-Proto is believed). */
  proxy?: boolean;
  /** The account's groups (the platform's group claim). */
  groupsOf?: (accountId: string) => Promise<string[]>;
}

export function createProvider(opts: ProviderOptions): Provider {
  const ttl = opts.ttl ?? DEFAULT_TTLS;
  const accounts = opts.accounts;
  const configuration: Configuration = {
    adapter: clusterAdapter(opts.client, opts.namespace),
    clients: opts.clients.map((c) => ({ response_types: ['code'], grant_types: ['authorization_code', 'refresh_token'], ...c })),
    jwks: { keys: opts.keys.signing.map(({ iat: _iat, ...k }) => k) } as Configuration['jwks'],
    cookies: { keys: opts.keys.cookieKeys },
    pkce: { required: () => true },
    scopes: ['openid', 'offline_access', 'email', 'profile', 'groups'],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['preferred_username', 'name', 'given_name', 'family_name'],
      groups: ['groups'],
    },
    // The ID token is what kube-apiserver reads: it must carry email and groups even when an access token is issued beside it.
    conformIdTokenClaims: false,
    features: {
      devInteractions: { enabled: false },
      deviceFlow: {
        enabled: true,
        // Our own pages (the library's defaults load web fonts from outside); `form` is the library's hidden form.
        userCodeInputSource: async (ctx, form, _out, err) => {
          const msg = err ? '<p class="error" role="alert">The code is not valid, or has expired. Try again.</p>' : '<p>Enter the code your terminal shows.</p>';
          ctx.body = page('Sign in a device', `${msg}${form}<button type="submit" form="op.deviceInputForm">Continue</button>`);
        },
        userCodeConfirmSource: async (ctx, form, client, _deviceInfo, userCode) => {
          ctx.body = page(
            'Confirm the device',
            `<p><strong>${escapeHtml(client.clientName ?? client.clientId)}</strong> asks to sign in as you. Continue only if your terminal shows this code:</p><p><code>${escapeHtml(userCode)}</code></p>${form}<button type="submit" form="op.deviceConfirmForm">Continue</button> <button type="submit" form="op.deviceConfirmForm" value="yes" name="abort">Abort</button>`,
          );
        },
        successSource: async (ctx) => {
          ctx.body = page('Signed in', '<p>The device is signed in. You can close this page and return to your terminal.</p>');
        },
      },
      revocation: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      introspection: { enabled: false },
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    rotateRefreshToken: () => true,
    // Refresh tokens for every first-party client that asks for offline_access (kubectl's exec plugin refreshes without a browser).
    issueRefreshToken: async (_ctx, client, code) => client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
    ttl: {
      AccessToken: ttl.token,
      IdToken: ttl.token,
      AuthorizationCode: ttl.authorizationCode,
      DeviceCode: ttl.deviceCode,
      Interaction: ttl.interaction,
      Session: ttl.session,
      Grant: ttl.refreshToken,
      RefreshToken: ttl.refreshToken,
    },
    findAccount: async (_ctx: KoaContextWithOIDC, sub: string) => {
      const a = await accounts.find(sub);
      // A suspended account is no account: no sign-in resumes, no refresh token is honoured.
      if (!a || a.suspended) return undefined;
      const groups = opts.groupsOf ? await opts.groupsOf(a.id) : [];
      return {
        accountId: a.id,
        claims: async () => ({
          sub: a.id,
          email: a.email,
          email_verified: true,
          preferred_username: a.username,
          given_name: a.firstName,
          family_name: a.lastName,
          name: `${a.firstName} ${a.lastName}`.trim(),
          groups,
        }),
      };
    },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = page(
        'Sign-in failed',
        `<p>${escapeHtml(String(out.error_description ?? out.error ?? 'The request could not be completed'))}.</p><p>Start again from the application you came from.</p>`,
      );
    },
  };
  const provider = new Provider(opts.issuer, configuration);
  provider.proxy = opts.proxy ?? false;
  return provider;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title><style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}label{display:block;margin:.75rem 0 .25rem}input{width:100%;padding:.4rem;box-sizing:border-box}button{margin-top:1rem;padding:.5rem 1.5rem}.error{color:#a00}</style></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}
