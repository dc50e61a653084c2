// The public invitation acceptance page, over plain HTTP (TLS ends at the Ingress).
//
//   GET  /invitations/accept?token=...  what the invitation is for, and an Accept button
//   POST /invitations/accept            (form: token) accepts it
//   GET  /healthz
//
// The pages are small, self-contained HTML: no script, no external asset, one inline style
// allowed by its hash in a strict Content-Security-Policy. They are never cached, never send a
// Referer (the GET address carries the token), and show the token only in the form's hidden
// field. Every value is HTML-escaped. The backend decides; this server only presents.
//
// Each client address (behind --trusted-proxies, the address they forwarded) and each
// token has a request budget (a token bucket; 429 with
// Retry-After beyond it), and what a token's page shows is reused for a few seconds, so that
// reloading a link does not read the API server each time. Tokens are only ever kept as their
// SHA-256. Accepting always asks the backend (a compare-and-swap on a fresh read) and forgets
// the reused page of its token.

import { createHash } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { ACCEPT_PATH } from './link.ts';
import { formatTime, roleName } from './message.ts';
import { escapeHtml, htmlPage, PAGE_STYLE_SOURCE } from '../../runtime/html.ts';
import { http } from '../../runtime/builtins.ts';
import { systemClock } from '../../runtime/clock.ts';
import type { Clock } from '../../runtime/clock.ts';
import { errorMessage } from '../../runtime/errors.ts';
import { TrustedProxies } from '../../runtime/netaddr.ts';
import type { ForwardedHeader } from '../../runtime/netaddr.ts';
import { clientKey, RateLimiter, TtlCache } from '../../runtime/ratelimit.ts';
import type { RateLimit } from '../../runtime/ratelimit.ts';
import { close, listen, readBody } from '../../servers/listen.ts';

/** Why a token cannot be used, with a message for the person holding it. */
export type AcceptRefusal = { state: 'expired' | 'used' | 'invalid' | 'unknown'; message: string };

export type AcceptView =
  | {
      state: 'valid';
      organization: string;
      role: string;
      email: string;
      expiresAt: string;
      /** The embedded identity provider holds accounts: the page asks to create one, or to sign in with the invited email's, before accepting. */
      accounts?: boolean;
    }
  | AcceptRefusal;

/** How people sign in once they are members: shown on the page after accepting. */
export interface SignInHelp {
  /** The embedded provider's issuer (`kubectl miniapps login --issuer <it>`), or undefined with an external provider. */
  issuer?: string;
  consoleUrl?: string;
}

export type AcceptResult =
  | { state: 'accepted'; organization: string; role: string; email: string; namespace?: string; username?: string; signIn?: SignInHelp }
  /** The account part was refused (taken user name, weak password, wrong password): the form again, with this message. */
  | {
      state: 'retry';
      message: string;
      view: Extract<AcceptView, { state: 'valid' }>;
      status: number;
      fields?: Record<string, string>;
      /** The form field the message is about (shown next to it): `username`, `password`, `firstName`, `lastName` or `signin-password`; none: the page as a whole. */
      field?: AccountField;
    }
  | AcceptRefusal;

/** The account forms' fields a refusal can be about: the new account's, or the existing account's password (`signin-password`). */
export type AccountField = 'username' | 'password' | 'firstName' | 'lastName' | 'signin-password';

/** What the person typed on the page to have an account: a new one, or the invited email's existing one. */
export type AccountCredentials = { action: 'create'; username: string; password: string; firstName: string; lastName: string } | { action: 'signin'; password: string };

/** Resolves tokens to invitations (the Membership controller implements it). Throwing means "try again later". */
export interface AcceptBackend {
  describe(token: string): Promise<AcceptView>;
  accept(token: string, account?: AccountCredentials): Promise<AcceptResult>;
}

export interface AcceptServerOptions {
  address: { host: string; port: number };
  log: Logger;
  backend: AcceptBackend;
  /** Largest POST body taken, in bytes (default 16 KiB). */
  bodyLimit?: number;
  /**
   * Requests to the acceptance page per client (its IPv4 address or IPv6 /64), default 60 a
   * minute in bursts of 20: a person needs two or three, and people behind one NAT or proxy
   * share it. Tokens that fail their signature cost no API read, so this mostly bounds work.
   */
  clientLimit?: RateLimit;
  /** Requests per token, whichever clients send them, default 10 a minute in bursts of 5. */
  tokenLimit?: RateLimit;
  /** How long what a token's page shows is reused (default 5 s; 0: never). */
  cacheTtlMs?: number;
  /** Tokens whose page is kept at most (default 1,000). */
  cacheSize?: number;
  clock?: Clock;
  /**
   * Addresses or CIDRs of the proxies in front of the page (`--trusted-proxies`): only from
   * them is `forwardedHeader` believed, the client being the right-most address in it that
   * is not one of them. Unset: the connection's own address, whatever the headers say.
   */
  trustedProxies?: readonly string[];
  /** The header those proxies write (`--forwarded-header`, default X-Forwarded-For); the other one is ignored. */
  forwardedHeader?: ForwardedHeader;
}

export const DEFAULT_CLIENT_LIMIT: RateLimit = { perMinute: 60, burst: 20, maxKeys: 10_000 };
export const DEFAULT_TOKEN_LIMIT: RateLimit = { perMinute: 10, burst: 5, maxKeys: 10_000 };

export { ACCEPT_PATH } from './link.ts';

const STATUS: Record<AcceptView['state'] | AcceptResult['state'], number> = {
  valid: 200,
  accepted: 200,
  retry: 400,
  expired: 410,
  used: 409,
  invalid: 400,
  unknown: 404,
};

const REFUSAL_TITLES: Record<AcceptRefusal['state'], string> = {
  expired: 'This invitation has expired',
  used: 'This invitation was already used',
  invalid: 'This invitation link is not valid',
  unknown: 'This invitation no longer exists',
};

const CSP = ["default-src 'none'", `style-src ${PAGE_STYLE_SOURCE}`, "form-action 'self'", "base-uri 'none'", "frame-ancestors 'none'"].join('; ');

const SECURITY_HEADERS = {
  'content-security-policy': CSP,
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
};

export class AcceptServer {
  private readonly server: Server;
  private readonly address: { host: string; port: number };
  private readonly log: Logger;
  private readonly backend: AcceptBackend;
  private readonly bodyLimit: number;
  private readonly clients: RateLimiter;
  private readonly tokens: RateLimiter;
  /** What describe answered (or is answering), by SHA-256 of the token. */
  private readonly views: TtlCache<Promise<AcceptView>>;
  private readonly proxies: TrustedProxies;
  port = 0;

  constructor(opts: AcceptServerOptions) {
    this.address = opts.address;
    this.log = opts.log.child({ server: 'accept' });
    this.backend = opts.backend;
    this.bodyLimit = opts.bodyLimit ?? 16 * 1024;
    const clock = opts.clock ?? systemClock;
    this.clients = new RateLimiter(opts.clientLimit ?? DEFAULT_CLIENT_LIMIT, clock);
    this.tokens = new RateLimiter(opts.tokenLimit ?? DEFAULT_TOKEN_LIMIT, clock);
    this.proxies = new TrustedProxies(opts.trustedProxies, opts.forwardedHeader);
    this.views = new TtlCache({ ttlMs: opts.cacheTtlMs ?? 5_000, maxEntries: opts.cacheSize ?? 1_000, clock });
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.log.error({ err: errorMessage(err) }, 'Request failed');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end();
      });
    });
    // A slow client cannot hold a connection for long.
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 15_000;
  }

  async start(): Promise<number> {
    this.port = await listen(this.server, this.address);
    return this.port;
  }

  stop(): Promise<void> {
    return close(this.server);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-store' }).end('ok');
      return;
    }
    if (url.pathname !== ACCEPT_PATH) {
      page(res, 404, 'Page not found', '<p>There is nothing at this address.</p>');
      return;
    }
    if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'POST') {
      const admitted = this.clients.take(clientKey(this.proxies.clientAddress(req)));
      if (!admitted.ok) {
        if (req.method === 'POST') res.setHeader('connection', 'close'); // the body is not read
        tooManyRequests(res, admitted.retryAfterSeconds);
        return;
      }
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      const token = url.searchParams.get('token');
      await this.answer(res, token, (t, hash) => this.describe(t, hash));
      return;
    }
    if (req.method === 'POST') {
      const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      if (type !== 'application/x-www-form-urlencoded') {
        page(res, 415, 'Unsupported request', '<p>Send the form from the invitation page.</p>');
        return;
      }
      let body: string;
      try {
        body = await readBody(req, this.bodyLimit);
      } catch {
        res.setHeader('connection', 'close');
        page(res, 413, 'Request too large', '<p>Open the link from the invitation email again.</p>');
        return;
      }
      const form = new URLSearchParams(body);
      await this.answer(res, form.get('token'), (t, hash) => this.accept(t, hash, credentials(form)));
      return;
    }
    res.setHeader('allow', 'GET, HEAD, POST');
    page(res, 405, 'Method not allowed', '<p>Open the link from the invitation email.</p>');
  }

  /** The backend's view of a token, reused for a few seconds; a failed lookup is not kept. */
  private describe(token: string, hash: string): Promise<AcceptView> {
    const reused = this.views.get(hash);
    if (reused) return reused;
    const view = this.backend.describe(token);
    this.views.set(hash, view);
    view.catch(() => {
      if (this.views.get(hash) === view) this.views.delete(hash);
    });
    return view;
  }

  /** Always the backend; then the page reused for this token (read before or during the accept) is stale. */
  private async accept(token: string, hash: string, account: AccountCredentials | undefined): Promise<AcceptResult> {
    try {
      return await this.backend.accept(token, account);
    } finally {
      this.views.delete(hash);
    }
  }

  private async answer(res: ServerResponse, token: string | null, ask: (token: string, hash: string) => Promise<AcceptView | AcceptResult>): Promise<void> {
    if (!token) {
      refusal(res, { state: 'invalid', message: 'The link has no invitation token. Open the whole link from the invitation email.' });
      return;
    }
    const hash = createHash('sha256').update(token).digest('base64url');
    const admitted = this.tokens.take(hash);
    if (!admitted.ok) {
      tooManyRequests(res, admitted.retryAfterSeconds);
      return;
    }
    let outcome: AcceptView | AcceptResult;
    try {
      outcome = await ask(token, hash);
    } catch (err) {
      // The token stays out of the log: it is a credential until it is used or expires.
      this.log.error({ err: errorMessage(err) }, 'Invitation lookup failed');
      res.setHeader('retry-after', '30');
      page(res, 503, 'Please try again', '<p>We could not process the invitation just now. Please try again in a minute: the link still works.</p>');
      return;
    }
    switch (outcome.state) {
      case 'valid':
        invitation(res, token, outcome);
        return;
      case 'accepted':
        this.log.info({ organization: outcome.organization, role: outcome.role }, 'Invitation accepted');
        accepted(res, outcome);
        return;
      case 'retry':
        invitation(res, token, outcome.view, { message: outcome.message, status: outcome.status, fields: outcome.fields, field: outcome.field });
        return;
      default:
        refusal(res, outcome);
    }
  }
}

/** The account fields of the form, when it has them (the page of an operator without accounts has none). */
function credentials(form: URLSearchParams): AccountCredentials | undefined {
  const field = (name: string, max: number) => (form.get(name) ?? '').slice(0, max);
  switch (form.get('action')) {
    case 'create':
      return { action: 'create', username: field('username', 128).trim(), password: field('password', 1024), firstName: field('firstName', 128).trim(), lastName: field('lastName', 128).trim() };
    case 'signin':
      return { action: 'signin', password: field('password', 1024) };
    default:
      return undefined;
  }
}

/** What the invitation is for: the organization, the role, the email and when the link expires. */
function invitationSummary(v: Extract<AcceptView, { state: 'valid' }>): string {
  const org = escapeHtml(v.organization);
  const role = escapeHtml(roleName(v.role));
  return `<p>You have been invited to join <strong>${org}</strong> as <strong>${role}</strong>.</p>
<dl>
<dt>Organization</dt><dd>${org}</dd>
<dt>Role</dt><dd>${role}</dd>
<dt>Email</dt><dd>${escapeHtml(v.email)}</dd>
<dt>Expires</dt><dd><time datetime="${escapeHtml(v.expiresAt)}">${escapeHtml(formatTime(v.expiresAt))}</time></dd>
</dl>`;
}

const NOT_EXPECTED = '<p class="note">If you did not expect this invitation, close this page: nothing happens unless you accept.</p>';

function invitation(
  res: ServerResponse,
  token: string,
  v: Extract<AcceptView, { state: 'valid' }>,
  retry?: { message: string; status: number; fields?: Record<string, string>; field?: AccountField },
): void {
  if (v.accounts) {
    accountInvitation(res, token, v, retry);
    return;
  }
  page(
    res,
    STATUS.valid,
    `Join ${v.organization}`,
    `${invitationSummary(v)}
<form method="post" action="${ACCEPT_PATH}">
<input type="hidden" name="token" value="${escapeHtml(token)}">
<button type="submit">Accept invitation</button>
</form>
${NOT_EXPECTED}`,
  );
}

/** The invitation with the account forms: create one (the seed's fields, the email fixed) or sign in with the invited email's, then accept. */
function accountInvitation(
  res: ServerResponse,
  token: string,
  v: Extract<AcceptView, { state: 'valid' }>,
  retry?: { message: string; status: number; fields?: Record<string, string>; field?: AccountField },
): void {
  const email = escapeHtml(v.email);
  const f = (name: string) => escapeHtml(retry?.fields?.[name] ?? '');
  const hidden = `<input type="hidden" name="token" value="${escapeHtml(token)}">`;
  // The refusal next to the field it is about (before its label), else above both forms.
  const alert = `<p class="error" role="alert">${escapeHtml(retry?.message ?? '')}</p>\n`;
  const at = (field: AccountField | undefined) => (retry && retry.field === field ? alert : '');
  page(
    res,
    retry?.status ?? STATUS.valid,
    `Join ${v.organization}`,
    `${invitationSummary(v)}
${at(undefined)}<h2>Create your account</h2>
<form method="post" action="${ACCEPT_PATH}">
${hidden}<input type="hidden" name="action" value="create">
${at('username')}<label for="username">User name</label><input id="username" name="username" autocomplete="username" required minlength="2" maxlength="63" value="${f('username')}">
<label for="email">Email</label><input id="email" name="email" type="email" value="${email}" readonly>
${at('password')}<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="new-password" required minlength="12" maxlength="256">
${at('firstName')}<label for="firstName">First name</label><input id="firstName" name="firstName" autocomplete="given-name" required maxlength="64" value="${f('firstName')}">
${at('lastName')}<label for="lastName">Last name</label><input id="lastName" name="lastName" autocomplete="family-name" required maxlength="64" value="${f('lastName')}">
<button type="submit">Create account and accept</button>
</form>
<h2>Already have an account?</h2>
<form method="post" action="${ACCEPT_PATH}">
${hidden}<input type="hidden" name="action" value="signin">
${at('signin-password')}<label for="signin-password">Password of ${email}</label><input id="signin-password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in and accept</button>
</form>
${NOT_EXPECTED}`,
  );
}

function accepted(res: ServerResponse, r: Extract<AcceptResult, { state: 'accepted' }>): void {
  const help = r.signIn;
  const lines = [
    `<p>You accepted the invitation. <strong>${escapeHtml(r.email)}</strong> is now a member of <strong>${escapeHtml(r.organization)}</strong> as <strong>${escapeHtml(roleName(r.role))}</strong>.</p>`,
    '<dl>',
    `<dt>Organization</dt><dd>${escapeHtml(r.organization)}</dd>`,
    `<dt>Role</dt><dd>${escapeHtml(roleName(r.role))}</dd>`,
    ...(r.namespace ? [`<dt>Namespace</dt><dd>${escapeHtml(r.namespace)}</dd>`] : []),
    ...(r.username ? [`<dt>User name</dt><dd>${escapeHtml(r.username)}</dd>`] : []),
    `<dt>Kubernetes user</dt><dd>${escapeHtml(r.email)}</dd>`,
    '</dl>',
  ];
  if (help?.consoleUrl) lines.push(`<p>Sign in to the console at <strong>${escapeHtml(help.consoleUrl)}</strong> with your user name or email and password.</p>`);
  if (help?.issuer) {
    lines.push(
      `<p>With kubectl: <code>kubectl miniapps login --issuer ${escapeHtml(help.issuer)}</code> (add <code>--device</code> on a terminal without a browser), then <code>kubectl get miniapps -n ${escapeHtml(r.namespace ?? '<namespace>')}</code>.</p>`,
    );
  } else if (r.namespace) {
    lines.push(`<p>With kubectl: sign in with your organization's identity provider as ${escapeHtml(r.email)}, then use the namespace <code>${escapeHtml(r.namespace)}</code>.</p>`);
  }
  lines.push('<p class="note">You can close this page.</p>');
  page(res, STATUS.accepted, `Welcome to ${r.organization}`, lines.join('\n'));
}

function refusal(res: ServerResponse, r: AcceptRefusal): void {
  page(res, STATUS[r.state], REFUSAL_TITLES[r.state], `<p>${escapeHtml(r.message)}</p>`);
}

function tooManyRequests(res: ServerResponse, retryAfterSeconds: number): void {
  res.setHeader('retry-after', String(retryAfterSeconds));
  const wait = retryAfterSeconds < 90 ? `${retryAfterSeconds} seconds` : `${Math.ceil(retryAfterSeconds / 60)} minutes`;
  page(res, 429, 'Too many requests', `<p>This page was asked for too often. Please try again in ${wait}: the link still works.</p>`);
}

function page(res: ServerResponse, status: number, title: string, content: string): void {
  const html = htmlPage(title, content);
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html) }).end(html);
}
