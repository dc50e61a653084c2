// The console's HTTP server: the built page, OpenID Connect sign-in, the person's
// session, "who am I", and a thin same-origin proxy to the API server that forwards the
// person's own bearer token to an allow-list of paths. It holds no Kubernetes credentials
// of its own that it could use for anyone: the upstream is a cluster address and CA only.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkProxyRequest } from './allowlist.ts';
import { whoAmI } from './me.ts';
import type { OidcClient } from './oidc.ts';
import { CSRF_HEADER, SIGNIN_COOKIE, SessionStore, csrfOk, sessionCookie, sessionIdFrom, signinCookie } from './session.ts';
import type { Session } from './session.ts';
import { SIGNIN_TTL_SECONDS, openSignin, randomSecret, sealSignin, signinKey } from './signin.ts';
import { KubeStatusError, readJson } from './upstream.ts';
import { TOKEN_ROLES_PATH } from '../../operator/api/user/names.ts';
import type { Upstream } from './upstream.ts';
import { RateLimiter, TtlCache, clientKey } from '../../operator/runtime/ratelimit.ts';
import type { RateLimit } from '../../operator/runtime/ratelimit.ts';
import { TrustedProxies } from '../../operator/runtime/netaddr.ts';

export const DIST = fileURLToPath(new URL('../dist/', import.meta.url));
export const PROXY_PREFIX = '/k8s';
const MAX_BODY = 4 * 1024 * 1024;
/** Refresh the bearer token this long before it expires. */
const REFRESH_EARLY_MS = 30_000;

export interface ConsoleServerOptions {
  upstream: Upstream;
  /** Sign-in; without it, only sessions a test put into the store have tokens. */
  oidc?: OidcClient;
  sessions?: SessionStore;
  /** The console's public origin (for CSRF's Origin check and cookies' Secure), e.g. https://console.example. Default: the listening address. */
  publicUrl?: string;
  /** Where the built page is. Default console/dist. */
  distDir?: string;
  /**
   * The operator's token-roles API (its APIs' TLS listener, docs/console.md): asked with the
   * person's own bearer token at `/console/api/tokenroles`, which the operator authorizes as
   * them (`get` on `users/tokenroles`). Without it, the page says the question cannot be asked.
   */
  tokenRoles?: Upstream;
  /** The operator's namespace, where provisioning administrators' API keys live (told to provisioning administrators only). Default miniapps-system. */
  operatorNamespace?: string;
  /**
   * The secret (32 bytes or more) a sign-in in progress is sealed with in its cookie
   * (signin.ts): the same for every replica, so the provider's redirect back may land on
   * any of them. Default: a random one of this process (right for a single replica).
   */
  signinSecret?: Uint8Array;
  /** Sign-ins started per client address (`/auth/login`). Default 20 a minute, 10 at once. */
  loginRateLimit?: RateLimit;
  /** Addresses or CIDRs of the proxies in front of the console whose X-Forwarded-For is believed for that limit's client address. Default none. */
  trustedProxies?: readonly string[];
  /** One line per event that matters; never a header, cookie or token. */
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

export interface ConsoleServer {
  readonly server: Server;
  readonly url: string;
  readonly sessions: SessionStore;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/** The longest `returnTo` kept (it travels in the sign-in cookie, which browsers cap at about 4 kB). */
export const MAX_RETURN_TO = 2048;

/** Where to go after sign-in: a path of the console only (no other origin, not even with `//` or `/\\`, which browsers read as one), at most MAX_RETURN_TO characters. */
export function safeReturnTo(returnTo: string): string {
  return returnTo.length <= MAX_RETURN_TO && /^\/(?![/\\])[^\\\s]*$/.test(returnTo) ? returnTo : '/';
}

export async function startConsoleServer(opts: ConsoleServerOptions & { host?: string; port?: number }): Promise<ConsoleServer> {
  const sessions = opts.sessions ?? new SessionStore();
  const log = opts.log ?? (() => {});
  const dist = opts.distDir ?? DIST;
  let publicUrl = opts.publicUrl;
  const refreshing = new WeakMap<Session, Promise<void>>();
  const sealKey = signinKey(opts.signinSecret ?? randomSecret());
  const logins = new RateLimiter(opts.loginRateLimit ?? { perMinute: 20, burst: 10 });
  const proxies = new TrustedProxies(opts.trustedProxies);
  /** The states of sign-ins this replica finished (a cookie replayed here is refused; the provider refuses a code used twice anyway). */
  const redeemed = new TtlCache<true>({ ttlMs: SIGNIN_TTL_SECONDS * 1000, maxEntries: 10_000 });

  const json = (res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void => {
    res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json', 'cache-control': 'no-store', ...extra });
    res.end(JSON.stringify(body));
  };
  const status = (res: ServerResponse, code: number, message: string): void => json(res, code, { kind: 'Status', apiVersion: 'v1', status: 'Failure', message, code });

  const secure = (): boolean => (publicUrl ?? '').startsWith('https:');
  const origin = (): string => new URL(publicUrl!).origin;

  /** The request's session, and its bearer token refreshed if it is about to expire. */
  async function bearerOf(s: Session | undefined): Promise<string | undefined> {
    if (!s?.tokens) return undefined;
    const t = s.tokens;
    if (t.expiresAt !== undefined && t.expiresAt - REFRESH_EARLY_MS <= Date.now()) {
      if (!t.refreshToken || !opts.oidc) return t.expiresAt > Date.now() ? t.bearer : undefined;
      let p = refreshing.get(s);
      if (!p) {
        const oidc = opts.oidc;
        p = oidc
          .refresh(t.refreshToken)
          .then(
            async (fresh) => {
              s.tokens = fresh;
              // Every replica uses the new tokens (a rotated refresh token works once).
              await sessions.save(s).catch((err: unknown) => log('Saving a refreshed session failed', { error: (err as Error).message }));
            },
            (err: unknown) => {
              log('Refreshing a session token failed', { error: (err as Error).name });
              s.refusedRefreshToken = t.refreshToken;
              s.tokens = undefined;
            },
          )
          .finally(() => refreshing.delete(s));
        refreshing.set(s, p);
      }
      await p;
      return s.tokens?.bearer;
    }
    return t.bearer;
  }

  async function body(req: IncomingMessage): Promise<Buffer | undefined> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > MAX_BODY) throw new KubeStatusError(413, `the request body is larger than ${MAX_BODY} bytes`);
      chunks.push(c as Buffer);
    }
    return chunks.length ? Buffer.concat(chunks) : undefined;
  }

  async function proxy(req: IncomingMessage, res: ServerResponse, session: Session | undefined, rest: string): Promise<void> {
    const method = req.method ?? 'GET';
    const verdict = checkProxyRequest(method, rest);
    if (!verdict.ok) return status(res, verdict.status, verdict.message);
    const token = await bearerOf(session);
    if (!token) return status(res, 401, 'Not signed in: sign in to the console again');
    const payload = method === 'GET' || method === 'HEAD' ? undefined : await body(req);
    const headers: Record<string, string> = { accept: String(req.headers.accept ?? 'application/json') };
    if (payload) headers['content-type'] = String(req.headers['content-type'] ?? 'application/json');
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    let up: IncomingMessage;
    try {
      up = await opts.upstream.request({ method, path: verdict.path, token, headers, body: payload, signal: abort.signal });
    } catch (err) {
      if (abort.signal.aborted) return;
      log('The API server could not be reached', { error: (err as Error).message });
      return status(res, 502, 'The API server could not be reached');
    }
    res.writeHead(up.statusCode ?? 502, { ...SECURITY_HEADERS, 'content-type': String(up.headers['content-type'] ?? 'application/json'), 'cache-control': 'no-store' });
    // Watches stream: each event is passed on as it comes (the headers at once). Other
    // answers go out with their headers in one write.
    if (/[?&]watch=(1|true)(&|$)/.test(verdict.path)) res.flushHeaders();
    up.pipe(res);
    up.on('error', () => res.destroy());
  }

  /**
   * The roles a frontend app's token would carry for a tenant's user: one question, the
   * operator's token-roles API, asked with the person's own token (the operator authorizes
   * them as the API server would). Only the question's fields are forwarded, never a JWT asked for.
   */
  async function tokenRoles(req: IncomingMessage, res: ServerResponse, session: Session | undefined): Promise<void> {
    if (!opts.tokenRoles) return status(res, 404, "The console was started without --token-roles-url: it cannot ask the operator's token-roles API");
    const token = await bearerOf(session);
    if (!token) return status(res, 401, 'Not signed in: sign in to the console again');
    let q: { namespace?: unknown; user?: unknown; app?: { organization?: unknown; name?: unknown } };
    try {
      q = JSON.parse((await body(req))?.toString('utf8') ?? '');
    } catch {
      return status(res, 400, 'The question is not JSON');
    }
    const str = (v: unknown) => typeof v === 'string' && v.length > 0 && v.length <= 253;
    if (!str(q?.namespace) || !str(q?.user) || !str(q?.app?.organization) || !str(q?.app?.name)) return status(res, 400, 'namespace, user, app.organization and app.name are required');
    const question = { namespace: q.namespace, user: q.user, app: { organization: q.app!.organization, name: q.app!.name }, jwt: false };
    let up: IncomingMessage;
    try {
      up = await opts.tokenRoles.request({
        method: 'POST',
        path: TOKEN_ROLES_PATH,
        token,
        headers: { accept: 'application/json', 'content-type': 'application/json' },
        body: JSON.stringify(question),
      });
    } catch (err) {
      log("The operator's token-roles API could not be reached", { error: (err as Error).message });
      return status(res, 502, "The operator's token-roles API could not be reached");
    }
    const answer = await readJson<{ message?: string; error?: string }>(up).catch(() => ({}) as { message?: string; error?: string });
    const code = up.statusCode ?? 502;
    if (code >= 400) return status(res, code, answer.message ?? answer.error ?? `The token-roles API answered HTTP ${code}`);
    return json(res, 200, answer);
  }

  async function serveStatic(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      // Not percent-encoding (`/%ZZ`): no file has that name.
      return status(res, 404, 'not found');
    }
    let file = normalize(join(dist, decoded));
    if (!file.startsWith(dist.endsWith(sep) ? dist : dist + sep)) return status(res, 404, 'not found');
    let info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) {
      // The page's own routes (#/...) never reach here; any other path is the page too.
      if (pathname.startsWith('/assets/')) return status(res, 404, 'not found');
      file = join(dist, 'index.html');
      info = await stat(file).catch(() => undefined);
      if (!info) return status(res, 503, 'The console is not built: run npm run console:build');
    }
    const data = await readFile(file);
    const immutable = pathname.startsWith('/assets/');
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
    res.end(req.method === 'HEAD' ? undefined : data);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://console.invalid');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    if (path === '/healthz') return json(res, 200, { ok: true });

    const touchesApi = path.startsWith(`${PROXY_PREFIX}/`) || path.startsWith('/console/api/') || path.startsWith('/auth/');
    // The page's files need no session: only these paths look it up (with a backend, a read of the cluster).
    if (!touchesApi) {
      if (method !== 'GET' && method !== 'HEAD') return status(res, 405, 'method not allowed');
      return serveStatic(req, res, path);
    }
    const id = sessionIdFrom(req.headers.cookie);
    let session = await sessions.load(id);
    if (!csrfOk(method, session, req.headers[CSRF_HEADER] as string | undefined, req.headers.origin, origin())) {
      return status(res, 403, 'The request has no valid CSRF token: reload the console');
    }

    if (path.startsWith(`${PROXY_PREFIX}/`)) return proxy(req, res, session, req.url!.slice(PROXY_PREFIX.length));

    if (path === '/console/api/session' && method === 'GET') {
      const setCookie: Record<string, string> = {};
      if (!session) {
        session = sessions.create();
        setCookie['set-cookie'] = sessionCookie(session.id, secure());
      }
      return json(res, 200, { signedIn: !!session.tokens, csrfToken: session.csrf, signIn: !!opts.oidc }, setCookie);
    }

    if (path === '/console/api/me' && method === 'GET') {
      const token = await bearerOf(session);
      if (!token) return status(res, 401, 'Not signed in: sign in to the console again');
      try {
        return json(res, 200, await whoAmI(opts.upstream, token, opts.operatorNamespace ?? 'miniapps-system'));
      } catch (err) {
        const code = err instanceof KubeStatusError ? err.status : 502;
        return status(res, code, (err as Error).message);
      }
    }

    if (path === '/console/api/tokenroles' && method === 'POST') return tokenRoles(req, res, session);

    if (path === '/auth/login' && method === 'GET') {
      if (!opts.oidc) return status(res, 404, 'Sign-in is not configured: start the console with --issuer-url and --client-id');
      const admitted = logins.take(clientKey(proxies.clientAddress(req)));
      if (!admitted.ok) {
        log('Too many sign-ins started from one address');
        return json(
          res,
          429,
          { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: `Too many sign-ins from this address: try again in ${admitted.retryAfterSeconds} s`, code: 429 },
          { 'retry-after': String(admitted.retryAfterSeconds) },
        );
      }
      const started = await opts.oidc.start();
      const returnTo = safeReturnTo(url.searchParams.get('returnTo') ?? '/');
      // The sign-in in progress travels sealed in its own cookie (signin.ts): nothing is
      // stored before someone has signed in, and any replica can finish it.
      const sealed = await sealSignin(sealKey, { codeVerifier: started.codeVerifier, state: started.state, nonce: started.nonce, returnTo });
      res.writeHead(302, { ...SECURITY_HEADERS, location: started.url, 'cache-control': 'no-store', 'set-cookie': signinCookie(sealed, secure()) });
      return void res.end();
    }

    if (path === '/auth/callback' && method === 'GET') {
      if (!opts.oidc) return status(res, 404, 'Sign-in is not configured');
      const pending = await openSignin(sealKey, sessionIdFrom(req.headers.cookie, SIGNIN_COOKIE));
      const clear = signinCookie(undefined, secure());
      // Used once, whatever happens next.
      if (!pending || redeemed.get(pending.state)) {
        res.setHeader('set-cookie', clear);
        return status(res, 400, 'No sign-in is in progress in this browser (or it took longer than ten minutes): start again from the console');
      }
      redeemed.set(pending.state, true);
      try {
        const tokens = await opts.oidc.finish(new URL(req.url!, publicUrl), pending);
        // A new session after sign-in (no fixation): any earlier one of this browser is gone.
        await sessions.destroy(id);
        const fresh = sessions.create();
        fresh.tokens = tokens;
        await sessions.save(fresh);
        log('Signed in');
        res.writeHead(302, { ...SECURITY_HEADERS, location: safeReturnTo(pending.returnTo), 'set-cookie': [sessionCookie(fresh.id, secure()), clear], 'cache-control': 'no-store' });
        return void res.end();
      } catch (err) {
        log('Sign-in failed', { error: (err as Error).message });
        res.setHeader('set-cookie', clear);
        return status(res, 400, `Sign-in failed: ${(err as Error).message}`);
      }
    }

    if (path === '/auth/logout' && method === 'POST') {
      const idToken = session?.tokens?.idToken;
      await sessions.destroy(id);
      // Signed in with the provider: end its session too (it asks the person to confirm).
      const next = (idToken && opts.oidc?.endSessionUrl(new URL('/', publicUrl).href, idToken)) || '/';
      return json(res, 200, { signedOut: true, redirect: next }, { 'set-cookie': sessionCookie(undefined, secure()) });
    }

    return status(res, 404, 'not found');
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const code = err instanceof KubeStatusError ? err.status : 500;
      log('A console request failed', { error: (err as Error).message });
      if (!res.headersSent) status(res, code, code === 500 ? 'The console failed on this request' : (err as Error).message);
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const host = (opts.host ?? '127.0.0.1').includes(':') ? `[${opts.host}]` : (opts.host ?? '127.0.0.1');
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  publicUrl ??= url;
  return {
    server,
    url,
    sessions,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
