// The embedded OpenID Connect provider: oidc-provider (a certified implementation)
// configured for this platform. Nothing of the protocol is written here: only the
// account model (accounts.ts), the storage (adapter.ts), the keys (keys.ts), the
// clients and the claims, which are the subjects the operator binds in RBAC:
// `email` (PlatformConfig userPrefix + email is the Kubernetes user name) and `groups`.
import Provider, { errors, interactionPolicy } from 'oidc-provider';
import type { Adapter, AdapterPayload, Configuration, KoaContextWithOIDC } from 'oidc-provider';
import type { AccountStore } from './accounts.ts';
import { clusterAdapter } from './adapter.ts';
import { isTenantAccountId } from './tenant-accounts.ts';
import type { TenantAccountStore } from './tenant-accounts.ts';
import { appResource } from './tenant-apps.ts';
import type { TenantApps } from './tenant-apps.ts';
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

/**
 * Every client id starting `miniapps-` is the platform's own (kubectl's, the console's, any
 * later one): never a frontend app's, whether or not that client is configured here. The API
 * server's tokens are for these audiences, so an app under one of them could collect ID tokens
 * kube-apiserver accepts. AppManifest refuses such an appId at admission too.
 */
export const PLATFORM_CLIENT_ID_PREFIX = 'miniapps-';
export const isPlatformClientId = (id: string): boolean => id.startsWith(PLATFORM_CLIENT_ID_PREFIX) || id === KUBECTL_CLIENT_ID || id === CONSOLE_CLIENT_ID;

/** The frontend apps minus any under a platform client's id (configured here, or reserved by its `miniapps-` prefix). */
export function withoutPlatformClients(apps: TenantApps, clients: readonly StaticClient[]): TenantApps {
  const platform = new Set(clients.map((c) => c.client_id));
  const reserved = (id: string) => platform.has(id) || isPlatformClientId(id);
  return { ...apps, client: (id) => (reserved(id) ? undefined : apps.client(id)) };
}

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
  /** Frontend apps as clients, and their tenant users' accounts (tenant-apps.ts); without them, only the platform's clients. */
  tenants?: { apps: TenantApps; accounts: TenantAccountStore };
}

/** Frontend apps' client metadata, found when asked (the `Client` model's adapter): public, PKCE, exact redirect URIs, no secret. */
class TenantClientAdapter implements Adapter {
  private readonly apps: TenantApps;
  constructor(apps: TenantApps) {
    this.apps = apps;
  }
  async find(id: string): Promise<AdapterPayload | undefined> {
    const app = this.apps.client(id);
    if (!app) return undefined;
    return {
      client_id: app.clientId,
      client_name: app.appId,
      redirect_uris: app.redirectUris,
      application_type: 'web',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    } as AdapterPayload;
  }
  async upsert(): Promise<void> {}
  async findByUserCode(): Promise<undefined> {}
  async findByUid(): Promise<undefined> {}
  async consume(): Promise<void> {}
  async destroy(): Promise<void> {}
  async revokeByGrantId(): Promise<void> {}
}

/**
 * Whether an account may use a client: a tenant account only a frontend app its tenant may
 * use (and only while its User exists), a platform account only the platform's clients.
 */
async function accountFits(tenants: ProviderOptions['tenants'], accountIdValue: string, clientId: string | undefined): Promise<boolean> {
  if (!clientId) return true;
  const app = tenants?.apps.client(clientId);
  if (!isTenantAccountId(accountIdValue)) return !app;
  if (!app || !tenants) return false;
  const account = await tenants.accounts.find(accountIdValue);
  return !!account && tenants.apps.roles(account.tenant, account.user, account.email, clientId) !== undefined;
}

export function createProvider(opts: ProviderOptions): Provider {
  const ttl = opts.ttl ?? DEFAULT_TTLS;
  const accounts = opts.accounts;
  const stored = clusterAdapter(opts.client, opts.namespace);
  const tenants = opts.tenants;
  const policy = interactionPolicy.base();
  // A session of an account that may not use this client (a tenant user at kubectl, a member at a frontend app, a user
  // of another tenant) is no session for it: the person signs in again, as an account that may.
  policy.get('login')!.checks.add(
    new interactionPolicy.Check('account_not_for_client', 'the signed-in account may not use this client', async (ctx) => {
      const sub = ctx.oidc.session?.accountId;
      return sub && !(await accountFits(tenants, sub, ctx.oidc.client?.clientId)) ? interactionPolicy.Check.REQUEST_PROMPT : interactionPolicy.Check.NO_NEED_TO_PROMPT;
    }),
  );
  const configuration: Configuration = {
    adapter: (model: string) => (model === 'Client' && tenants ? new TenantClientAdapter(tenants.apps) : stored(model)),
    extraParams: ['tenant'],
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
      // No pushed authorization requests (the library's default is on): no client of ours pushes, the chart's Ingress routes no
      // /request, and each would store a Secret for anyone, outside the limit on /auth.
      pushedAuthorizationRequests: { enabled: false },
      // A frontend app's access token is a JWT for the app (audience `<organization>/<appId>`) carrying its roles; the
      // platform's clients get no resource (their ID token is what kube-apiserver reads).
      resourceIndicators: {
        enabled: true,
        defaultResource: async (_ctx, client, oneOf) => {
          if (oneOf) return oneOf;
          const app = client && tenants?.apps.client(client.clientId);
          return app ? appResource(app.audience) : (undefined as never);
        },
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, indicator, client) => {
          const app = tenants?.apps.client(client.clientId);
          if (!app || indicator !== appResource(app.audience)) throw new errors.InvalidTarget();
          return { scope: '', audience: app.audience, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } };
        },
      },
      rpInitiatedLogout: { enabled: true },
      introspection: { enabled: false },
    },
    interactions: { policy, url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
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
    // The roles of a frontend app's access token: the intersection of the user's roles and the app's rolesRequired, the
    // rule the token-roles API applies (TenantApps.roles answers from it), read when the token is issued.
    extraTokenClaims: async (_ctx, token) => {
      const clientId = (token as { clientId?: string }).clientId;
      if (!tenants || token.kind !== 'AccessToken' || !clientId || !token.accountId || !isTenantAccountId(token.accountId)) return undefined;
      const app = tenants.apps.client(clientId);
      const account = await tenants.accounts.find(token.accountId);
      const roles = app && account ? tenants.apps.roles(account.tenant, account.user, account.email, clientId) : undefined;
      if (!app || !account || !roles) throw new errors.InvalidGrant('the account may not use this app');
      return { roles, tenant: account.tenant, user: account.user, email: account.email, organization: app.organization, appId: app.appId };
    },
    findAccount: async (ctx: KoaContextWithOIDC, sub: string) => {
      if (!(await accountFits(tenants, sub, ctx.oidc?.client?.clientId))) return undefined;
      if (isTenantAccountId(sub)) {
        const t = tenants && (await tenants.accounts.find(sub));
        if (!t?.passwordSet) return undefined;
        return {
          accountId: t.id,
          claims: async () => ({ sub: t.id, email: t.email, email_verified: true, given_name: t.firstName, family_name: t.lastName, name: `${t.firstName} ${t.lastName}`.trim() }),
        };
      }
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

// The pages' HTML (page.ts: also for emails sent by processes that load no oidc-provider).
export { escapeHtml, page } from './page.ts';
import { escapeHtml, page } from './page.ts';
