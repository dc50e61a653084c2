// The identity provider's own TLS listener: oidc-provider's endpoints (discovery, JWKS,
// authorization, token, device authorization, end session, revocation, userinfo) and
// the sign-in pages it sends people to (/interaction/<uid>). The signing keys are read
// (and rotated when due) every `keyCheckIntervalMs`, and the provider is rebuilt with a
// new key set; its state lives on the cluster, so rebuilding loses nothing.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { Logger } from 'pino';
import type Provider from 'oidc-provider';
import type { Clock } from '../runtime/clock.ts';
import { errorMessage } from '../runtime/errors.ts';
import type { KubeClient } from '../runtime/kube/client.ts';
import { RateLimiter, clientKey } from '../runtime/ratelimit.ts';
import { TrustedProxies } from '../runtime/netaddr.ts';
import type { ForwardedHeader } from '../runtime/netaddr.ts';
import { close, listen, readBody } from '../servers/listen.ts';
import { ClusterFailureCounter } from './lockout.ts';
import type { SignInFailures } from './lockout.ts';
import { SIGN_IN_FAILED, accountId, passwordProblem, readResetToken, resetToken } from './accounts.ts';
import type { Mailer } from '../runtime/mail/mailer.ts';
import type { Account, AccountStore } from './accounts.ts';
import { sweepExpired } from './adapter.ts';
import { DEFAULT_KEY_POLICY, ensureKeys } from './keys.ts';
import type { KeyMaterial, KeyPolicy } from './keys.ts';
import { createProvider, escapeHtml, page, withoutPlatformClients } from './provider.ts';
import { PAGE_STYLE_SOURCE } from '../runtime/html.ts';
import { consentPage, signInPage } from './page.ts';
import type { IdentityTTLs, StaticClient } from './provider.ts';
import { isTenantAccountId, tenantLockoutKey } from './tenant-accounts.ts';
import type { TenantAccountStore } from './tenant-accounts.ts';
import type { TenantApps } from './tenant-apps.ts';

/** What the reset pages need of an account store: a tenant account (set-password link) reads as one whose user name is its email. */
type ResettableStore = Pick<AccountStore, 'passwordFingerprint' | 'setPassword' | 'hasPassword'> & {
  /** The account, with the sign-in lockouts a new password ends (a platform account's: its email and user name). */
  find(id: string): Promise<(Account & { lockoutKeys?: string[] }) | undefined>;
};
function tenantResettable(t: TenantAccountStore): ResettableStore {
  return {
    find: async (id) => {
      const a = await t.find(id);
      return a && { id: a.id, username: a.email, email: a.email, firstName: a.firstName, lastName: a.lastName, suspended: false, lockoutKeys: [tenantLockoutKey(a.tenant, a.email)] };
    },
    passwordFingerprint: (id) => t.passwordFingerprint(id),
    setPassword: (id, password) => t.setPassword(id, password),
    hasPassword: async (id) => !!(await t.find(id))?.passwordSet,
  };
}

export interface IdentityServerOptions {
  issuer: string;
  bind: { host: string; port: number };
  tls: { cert: string; key: string };
  client: KubeClient;
  namespace: string;
  accounts: AccountStore;
  clients: StaticClient[];
  log: Logger;
  clock: Clock;
  ttl?: IdentityTTLs;
  keyPolicy?: KeyPolicy;
  keyCheckIntervalMs?: number;
  sweepIntervalMs?: number;
  proxy?: boolean;
  /** Sends password-reset emails; without it /reset says resets are not available. */
  mailer?: Mailer;
  /** How long a reset link works (default 30 minutes). */
  resetTtlMs?: number;
  /** Failed sign-ins in a row for one login before it is locked for `lockoutMs`. */
  maxFailures?: number;
  lockoutMs?: number;
  /**
   * Addresses or CIDRs of the proxies in front of the listener (`--trusted-proxies`): only
   * from them is `forwardedHeader` believed for the client's address the throttle keys on.
   */
  trustedProxies?: readonly string[];
  forwardedHeader?: ForwardedHeader;
  /** Frontend apps as clients and tenant users' accounts (tenant-apps.ts, tenant-accounts.ts). */
  tenants?: { apps: TenantApps; accounts: TenantAccountStore };
}

/** Authorization requests (`/auth`, `/device/auth`) a client may start a minute, and at once. */
export const AUTH_STARTS_PER_MINUTE = 60;
export const AUTH_STARTS_BURST = 30;

export class IdentityServer {
  private readonly opts: IdentityServerOptions;
  private readonly server: Server;
  private provider?: Provider;
  private handler?: (req: IncomingMessage, res: ServerResponse) => void;
  private kids = '';
  private csrfKey = '';
  private timers: NodeJS.Timeout[] = [];
  private readonly perAddress = new RateLimiter({ perMinute: 30, burst: 10 });
  /**
   * Authorization and device authorization requests per client (`/auth`, `/device/auth`): each
   * stores an Interaction or DeviceCode Secret before anyone signed in, so an anonymous client
   * gets a few a minute, not the cluster's storage.
   */
  private readonly starts = new RateLimiter({ perMinute: AUTH_STARTS_PER_MINUTE, burst: AUTH_STARTS_BURST });
  /** Reset emails per address asked for: a few an hour, so the form cannot be used to flood someone's mailbox. */
  private readonly resetsPerEmail = new RateLimiter({ perMinute: 3 / 60, burst: 3 });
  /** Failed sign-ins in a row per login, on the cluster: every replica counts towards the same lockout. */
  readonly failures: SignInFailures;
  private readonly proxies: TrustedProxies;
  /** The frontend apps, never under the id of one of the platform's own clients (kubectl's, the console's: every `miniapps-*` id, configured or not). */
  private readonly tenants?: { apps: TenantApps; accounts: TenantAccountStore };
  port = 0;

  constructor(opts: IdentityServerOptions) {
    this.opts = opts;
    this.failures = new ClusterFailureCounter(opts.client, opts.namespace, opts.maxFailures ?? 5, opts.lockoutMs ?? 15 * 60_000);
    this.proxies = new TrustedProxies(opts.trustedProxies, opts.forwardedHeader);
    if (opts.tenants) {
      this.tenants = { accounts: opts.tenants.accounts, apps: withoutPlatformClients(opts.tenants.apps, opts.clients) };
    }
    this.server = createServer({ cert: opts.tls.cert, key: opts.tls.key, headersTimeout: 10_000, requestTimeout: 30_000 }, (req, res) => {
      void this.route(req, res);
    });
  }

  /** Serves a renewed certificate from the next handshake on; connections already open finish on the old one. */
  setCertificate(tls: { cert: string; key: string }): void {
    this.server.setSecureContext({ cert: tls.cert, key: tls.key });
  }

  /** The provider serving now (tests read its configuration). */
  current(): Provider {
    if (!this.provider) throw new Error('Identity server not started');
    return this.provider;
  }

  async start(): Promise<void> {
    await this.refreshKeys();
    this.port = await listen(this.server as never, this.opts.bind);
    this.opts.log.info({ issuer: this.opts.issuer, port: this.port }, 'Identity provider listening');
    const keyTimer = setInterval(
      () => void this.refreshKeys().catch((err: unknown) => this.opts.log.error({ err: errorMessage(err) }, 'Signing keys not refreshed')),
      this.opts.keyCheckIntervalMs ?? 60_000,
    );
    const sweepTimer = setInterval(
      () =>
        void sweepExpired(this.opts.client, this.opts.namespace, this.opts.clock.now().getTime()).then(
          (n) => n && this.opts.log.debug({ removed: n }, 'Expired identity state removed'),
          (err: unknown) => this.opts.log.warn({ err: errorMessage(err) }, 'Expired identity state not removed'),
        ),
      this.opts.sweepIntervalMs ?? 5 * 60_000,
    );
    keyTimer.unref();
    sweepTimer.unref();
    this.timers.push(keyTimer, sweepTimer);
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    await close(this.server as never, 2_000);
  }

  /** Reads the key Secret (making or rotating keys when due) and rebuilds the provider when the key set changed. */
  async refreshKeys(): Promise<void> {
    const keys = await ensureKeys(this.opts.client, this.opts.namespace, this.opts.clock.now().getTime(), this.opts.keyPolicy ?? DEFAULT_KEY_POLICY);
    const kids = keys.signing.map((k) => k.kid).join(',') + '|' + keys.cookieKeys.join(',');
    if (kids === this.kids) return;
    this.build(keys);
    this.kids = kids;
  }

  private build(keys: KeyMaterial): void {
    const provider = createProvider({
      issuer: this.opts.issuer,
      client: this.opts.client,
      namespace: this.opts.namespace,
      accounts: this.opts.accounts,
      keys,
      clients: this.opts.clients,
      ttl: this.opts.ttl,
      proxy: this.opts.proxy,
      tenants: this.tenants,
    });
    provider.on('server_error', (_ctx, err) => this.opts.log.error({ err: errorMessage(err) }, 'Identity provider error'));
    this.csrfKey = keys.cookieKeys[0]!;
    this.provider = provider;
    this.handler = provider.callback() as never;
  }

  private csrfToken(uid: string): string {
    return createHmac('sha256', this.csrfKey).update(`csrf:${uid}`).digest('base64url');
  }

  /** Whether the form carries the interaction's CSRF token (compared in constant time). */
  private csrfValid(form: URLSearchParams, uid: string): boolean {
    const csrf = form.get('csrf') ?? '';
    const expected = this.csrfToken(uid);
    return csrf.length === expected.length && timingSafeEqual(Buffer.from(csrf), Buffer.from(expected));
  }

  private resetCsrfToken(nonce: string): string {
    return createHmac('sha256', this.csrfKey).update(`reset-csrf:${nonce}`).digest('base64url');
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'https://identity.invalid');
      const m = /^\/interaction\/([A-Za-z0-9_-]{1,64})(?:\/(login|consent))?$/.exec(url.pathname);
      if (m) return await this.interaction(req, res, m[1]!, m[2] as 'login' | 'consent' | undefined);
      if (url.pathname === '/reset') return await this.resetRequest(req, res);
      if (url.pathname === '/reset/confirm') return await this.resetConfirm(req, res, url);
      if (url.pathname === '/auth' || url.pathname === '/device/auth') {
        const admitted = this.starts.take(this.clientAddress(req));
        if (!admitted.ok) {
          res.setHeader('Retry-After', String(admitted.retryAfterSeconds));
          if (url.pathname === '/device/auth') {
            res.writeHead(429, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
            return void res.end(JSON.stringify({ error: 'slow_down', error_description: 'Too many sign-in requests from this address; wait a minute and try again' }));
          }
          return send(res, 429, page('Sign in', '<p class="error" role="alert">Too many sign-in requests from this address. Wait a minute and try again.</p>'));
        }
      }
      this.handler!(req, res);
    } catch (err) {
      this.opts.log.warn({ err: errorMessage(err) }, 'Identity request failed');
      if (!res.headersSent) send(res, 400, page('Sign-in failed', '<p>This sign-in page has expired or was not opened by this browser. Start again from the application you came from.</p>'));
    }
  }

  private async interaction(req: IncomingMessage, res: ServerResponse, uid: string, step: 'login' | 'consent' | undefined): Promise<void> {
    const provider = this.current();
    // Throws when the browser's interaction cookie does not match: a page opened elsewhere, or expired.
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) throw new Error('Interaction mismatch');
    const isLogin = step === 'login';
    if (details.prompt.name === 'consent') {
      // A frontend app is another organization's client: the person is asked, the app and its
      // organization named, before its first grant (and when it asks for more). The platform's
      // own clients (kubectl's, the console's) are given consent by signing in.
      const clientId = String(details.params.client_id ?? '');
      const app = this.tenants?.apps.client(clientId);
      if (!app && !this.opts.clients.some((c) => c.client_id === clientId)) {
        // A frontend app that stopped being one between sign-in and consent (its AppManifest gone, its id no longer held): nothing is granted.
        return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'The app is no longer available' }, { mergeWithLastSubmission: false });
      }
      if (app) {
        const asked = (details.prompt.details as { missingOIDCScope?: string[] }).missingOIDCScope ?? [];
        if (step !== 'consent' || req.method !== 'POST')
          return send(res, 200, consentPage({ uid, csrf: this.csrfToken(uid), app: app.appId, organization: app.organizationDisplayName, scopes: asked }));
        const form = new URLSearchParams(await readBody(req, 4 << 10));
        if (!this.csrfValid(form, uid)) return send(res, 403, page('Sign-in failed', '<p>The form was not sent from this page. Start again from the application you came from.</p>'));
        if (form.get('decision') !== 'allow') {
          this.opts.log.info({ client: app.clientId }, 'Consent refused');
          return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'The person did not allow the app' }, { mergeWithLastSubmission: false });
        }
      }
      const grant = details.grantId ? (await provider.Grant.find(details.grantId))! : new provider.Grant({ accountId: details.session!.accountId, clientId: details.params.client_id as string });
      const d = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
      if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
      if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(d.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
      const grantId = await grant.save();
      return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    }
    if (details.prompt.name !== 'login') throw new Error(`Unsupported prompt ${details.prompt.name}`);
    const clientId = String(details.params.client_id ?? '');
    if (this.tenants?.apps.client(clientId)) return this.tenantLogin(req, res, uid, isLogin, clientId, typeof details.params.tenant === 'string' ? details.params.tenant : '');
    if (!isLogin || req.method !== 'POST') return send(res, 200, this.loginPage(uid));
    const form = new URLSearchParams(await readBody(req, 16 << 10));
    if (!this.csrfValid(form, uid)) return send(res, 403, page('Sign-in failed', '<p>The form was not sent from this page. Start again from the application you came from.</p>'));
    const login = (form.get('login') ?? '').slice(0, 254);
    const password = (form.get('password') ?? '').slice(0, 256);
    const now = this.opts.clock.now().getTime();
    const byAddress = this.perAddress.take(this.clientAddress(req));
    if (!byAddress.ok || (await this.failures.locked(login, now))) {
      res.setHeader('Retry-After', String(byAddress.ok ? 60 : byAddress.retryAfterSeconds));
      return send(res, 429, this.loginPage(uid, 'Too many sign-in attempts. Wait a few minutes and try again.', login));
    }
    const account = await this.opts.accounts.authenticate(login, password);
    if (!account || account.suspended) {
      await this.failures.fail(login, now);
      return send(res, 401, this.loginPage(uid, SIGN_IN_FAILED, login));
    }
    await this.failures.succeed(login);
    this.opts.log.info({ account: account.id }, 'Account signed in');
    return provider.interactionFinished(req, res, { login: { accountId: account.id } }, { mergeWithLastSubmission: false });
  }

  /**
   * The sign-in of a frontend app (a client found in TenantApps): a tenant user's account,
   * by the tenant, the email and the password; only when the tenant may use the app and the
   * User exists. Every refusal says the same as the platform's sign-in.
   */
  private async tenantLogin(req: IncomingMessage, res: ServerResponse, uid: string, isLogin: boolean, clientId: string, tenantHint: string): Promise<void> {
    const tenants = this.tenants!;
    if (!isLogin || req.method !== 'POST') return send(res, 200, this.tenantLoginPage(uid, tenantHint));
    const form = new URLSearchParams(await readBody(req, 16 << 10));
    if (!this.csrfValid(form, uid)) return send(res, 403, page('Sign-in failed', '<p>The form was not sent from this page. Start again from the application you came from.</p>'));
    const tenant = (form.get('tenant') ?? '').trim().slice(0, 253);
    const login = (form.get('login') ?? '').slice(0, 254);
    const password = (form.get('password') ?? '').slice(0, 256);
    const ns = tenants.apps.tenantNamespace(tenant);
    // By the tenant's namespace when there is one: what a password reset of the account knows and ends.
    const lockKey = tenantLockoutKey(ns ?? tenant, login);
    const now = this.opts.clock.now().getTime();
    const byAddress = this.perAddress.take(this.clientAddress(req));
    if (!byAddress.ok || (await this.failures.locked(lockKey, now))) {
      res.setHeader('Retry-After', String(byAddress.ok ? 60 : byAddress.retryAfterSeconds));
      return send(res, 429, this.tenantLoginPage(uid, tenant, 'Too many sign-in attempts. Wait a few minutes and try again.', login));
    }
    // Without a tenant of that name the password is still checked (against nothing): the answer takes as long.
    const account = await tenants.accounts.authenticate(ns ?? '', ns ? login : '', password);
    if (!account || tenants.apps.roles(account.tenant, account.user, account.email, clientId) === undefined) {
      await this.failures.fail(lockKey, now);
      return send(res, 401, this.tenantLoginPage(uid, tenant, SIGN_IN_FAILED, login));
    }
    await this.failures.succeed(lockKey);
    this.opts.log.info({ account: account.id, client: clientId }, 'Tenant account signed in');
    return this.current().interactionFinished(req, res, { login: { accountId: account.id } }, { mergeWithLastSubmission: false });
  }

  /** A refused sign-in's page keeps the `login` typed (page.ts signInPage), so the person types only the password again. */
  private tenantLoginPage(uid: string, tenant: string, error?: string, login?: string): string {
    return signInPage({ uid, csrf: this.csrfToken(uid), error, tenant, login });
  }

  private loginPage(uid: string, error?: string, login?: string): string {
    return signInPage({ uid, csrf: this.csrfToken(uid), error, login });
  }

  /**
   * What the throttle keys on: the client's address (the connection's, or what the trusted
   * proxies forwarded) as runtime/ratelimit.ts clientKey writes it, an IPv6 address by its
   * /64, so that one host's many IPv6 addresses share one budget.
   */
  private clientAddress(req: IncomingMessage): string {
    return clientKey(this.proxies.clientAddress(req));
  }

  /**
   * GET: the form asking for the email, with a CSRF token bound to a random cookie of this
   * browser (double submit: the token is an HMAC of the cookie, so another site can neither
   * read nor forge it); POST: refused without both, else a reset link to that email if an
   * account has it, and the same answer either way.
   */
  private async resetRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') {
      const nonce = randomBytes(18).toString('base64url');
      res.setHeader('Set-Cookie', `${RESET_COOKIE}=${nonce}; Path=/reset; Max-Age=3600; HttpOnly; Secure; SameSite=Strict`);
      const form =
        `<form method="post" action="/reset"><input type="hidden" name="csrf" value="${this.resetCsrfToken(nonce)}">` +
        '<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="email" required><button type="submit">Send a reset link</button></form>';
      return send(res, 200, page('Reset your password', `<p>Enter the email of your account. If it has one, a link to choose a new password is sent to it.</p>${form}`));
    }
    const body = new URLSearchParams(await readBody(req, 4 << 10));
    const nonce = cookie(req, RESET_COOKIE);
    const csrf = body.get('csrf') ?? '';
    const expected = nonce ? this.resetCsrfToken(nonce) : '';
    if (!expected || csrf.length !== expected.length || !timingSafeEqual(Buffer.from(csrf), Buffer.from(expected)))
      return send(res, 403, page('Reset your password', '<p class="error" role="alert">The form was not sent from this page. Open <a href="/reset">Reset your password</a> again.</p>'));
    const byAddress = this.perAddress.take(this.clientAddress(req));
    if (!byAddress.ok) return send(res, 429, page('Reset your password', '<p class="error" role="alert">Too many requests. Wait a few minutes and try again.</p>'));
    const email = (body.get('email') ?? '').trim().toLowerCase().slice(0, 254);
    const ttlMs = this.opts.resetTtlMs ?? 30 * 60_000;
    const minutes = Math.max(1, Math.round(ttlMs / 60_000));
    const answer = page('Check your email', `<p>If an account has this email, a link to choose a new password is on its way. It works for ${minutes} minutes, once.</p>`);
    if (!this.opts.mailer) return send(res, 503, page('Reset your password', '<p>Password resets by email are not available here (no SMTP server). Ask an administrator.</p>'));
    if (!email.includes('@') || !this.resetsPerEmail.take(email).ok) return send(res, 200, answer);
    const account = await this.opts.accounts.find(accountId(email));
    const fingerprint = account && !account.suspended ? await this.opts.accounts.passwordFingerprint(account.id) : undefined;
    if (account && fingerprint) {
      const expiresAt = Math.floor((this.opts.clock.now().getTime() + ttlMs) / 1000);
      const link = `${this.opts.issuer}/reset/confirm?token=${resetToken(this.csrfKey, account.id, fingerprint, expiresAt)}`;
      // Sent in the background: the answer takes as long whether or not an account has the email.
      void this.opts.mailer
        .send({
          to: account.email,
          subject: 'Reset your password',
          text: `Someone asked to reset the password of the account ${account.username}.\n\nTo choose a new password, open this link within ${minutes} minutes:\n${link}\n\nIf it was not you, ignore this email: the password stays as it is.\n`,
          html: page(
            'Reset your password',
            `<p>Someone asked to reset the password of the account <strong>${escapeHtml(account.username)}</strong>.</p><p><a href="${escapeHtml(link)}">Choose a new password</a> (the link works for ${minutes} minutes, once).</p><p>If it was not you, ignore this email.</p>`,
          ),
          messageId: `<reset.${account.id}.${expiresAt}@miniapps.dev>`,
        })
        .catch((err: unknown) => this.opts.log.warn({ err: errorMessage(err) }, 'Password reset email not sent'));
    }
    if (this.tenants) void this.tenantResets(email, ttlMs).catch((err: unknown) => this.opts.log.warn({ err: errorMessage(err) }, 'Password reset email not sent'));
    return send(res, 200, answer);
  }

  /** A reset link for each tenant account of `email` (one per tenant), in the background like the platform account's. */
  private async tenantResets(email: string, ttlMs: number): Promise<void> {
    const minutes = Math.max(1, Math.round(ttlMs / 60_000));
    for (const account of await this.tenants!.accounts.findByEmail(email)) {
      const fingerprint = await this.tenants!.accounts.passwordFingerprint(account.id);
      if (!fingerprint) continue;
      const expiresAt = Math.floor((this.opts.clock.now().getTime() + ttlMs) / 1000);
      const link = `${this.opts.issuer}/reset/confirm?token=${resetToken(this.csrfKey, account.id, fingerprint, expiresAt)}`;
      await this.opts.mailer!.send({
        to: account.email,
        subject: 'Reset your password',
        text: `Someone asked to reset the password of your account in the tenant ${account.tenant}.\n\nTo choose a new password, open this link within ${minutes} minutes:\n${link}\n\nIf it was not you, ignore this email: the password stays as it is.\n`,
        html: page(
          'Reset your password',
          `<p>Someone asked to reset the password of your account in the tenant <strong>${escapeHtml(account.tenant)}</strong>.</p><p><a href="${escapeHtml(link)}">Choose a new password</a> (the link works for ${minutes} minutes, once).</p><p>If it was not you, ignore this email.</p>`,
        ),
        messageId: `<reset.${account.id}.${expiresAt}@miniapps.dev>`,
      });
    }
  }

  /** GET: the new-password form for a valid link; POST: sets the password (the link then stops working) and ends the account's sessions. */
  private async resetConfirm(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const form = req.method === 'POST' ? new URLSearchParams(await readBody(req, 4 << 10)) : undefined;
    const token = (form?.get('token') ?? url.searchParams.get('token') ?? '').slice(0, 1024);
    const claims = readResetToken(this.csrfKey, token, Math.floor(this.opts.clock.now().getTime() / 1000));
    // A tenant user's set-password link is this page too, for their tenant account.
    const store: ResettableStore = claims && isTenantAccountId(claims.accountId) && this.tenants ? tenantResettable(this.tenants.accounts) : this.opts.accounts;
    const current = claims && (await store.passwordFingerprint(claims.accountId));
    const account = claims && current === claims.fingerprint ? await store.find(claims.accountId) : undefined;
    if (!claims || !account || account.suspended) {
      return send(res, 400, page('This link does not work', '<p>The link has expired, was already used, or is not complete. Ask for a new one at <a href="/reset">Reset your password</a>.</p>'));
    }
    // A set-password link (the account has no password yet) asks for the first one, not a new one.
    const first = !(await store.hasPassword(account.id));
    const passwordForm = (error?: string) =>
      page(
        first ? 'Choose your password' : 'Choose a new password',
        `${first ? `<p>Choose the password of ${escapeHtml(account.email)}: at least 12 characters.</p>` : ''}${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}<form method="post" action="/reset/confirm"><input type="hidden" name="token" value="${escapeHtml(token)}"><label for="password">${first ? 'Password' : 'New password'}</label><input id="password" name="password" type="password" autocomplete="new-password" required minlength="12"><button type="submit">Set the password</button></form>`,
      );
    if (!form) return send(res, 200, passwordForm());
    const password = (form.get('password') ?? '').slice(0, 1024);
    const problem = passwordProblem(password);
    if (problem) return send(res, 400, passwordForm(`${problem}.`));
    await store.setPassword(account.id, password);
    for (const key of account.lockoutKeys ?? [account.email, account.username]) await this.failures.succeed(key);
    this.opts.log.info({ account: account.id }, 'Account password reset');
    if (first) return send(res, 200, page('Password set', '<p>Your password is set. Sign in with it from the application you use.</p>'));
    return send(res, 200, page('Password changed', '<p>Your password is changed, and every session of the account was ended. Sign in again with the new password.</p>'));
  }
}

/** The reset form's cookie: a random value the form's CSRF token is the HMAC of. */
const RESET_COOKIE = 'miniapps_reset';

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

function send(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Security-Policy': `default-src 'none'; style-src ${PAGE_STYLE_SOURCE}; base-uri 'none'; frame-ancestors 'none'`,
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
  });
  res.end(html);
}
