// `kubectl miniapps login`: signs a person in to the platform's OpenID Connect provider
// and writes a kubeconfig user whose exec credential plugin (`kubectl miniapps
// get-token`) hands kubectl a fresh ID token, refreshing it with the refresh token as
// kubelogin does. The protocol is openid-client's: authorization code with PKCE (S256) on
// a loopback redirect (RFC 8252) by default, device authorization (RFC 8628) for terminals
// without a browser.
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import * as oidc from 'openid-client';
import { Agent, fetch as undiciFetch } from 'undici';
import { parseDocument } from 'yaml';

export const DEFAULT_CLIENT_ID = 'miniapps-kubectl';
export const DEFAULT_SCOPE = 'openid email profile groups offline_access';

export interface IssuerOptions {
  issuer: string;
  clientId: string;
  /** PEM of the CA that signed the issuer's certificate, when it is not publicly trusted. */
  caPEM?: string;
}

export interface StoredTokens {
  idToken: string;
  refreshToken?: string;
  /** Seconds since the epoch when the ID token expires. */
  expiresAt: number;
}

/** openid-client's Configuration of the public client `clientId` at `issuer`. */
export async function discover(o: IssuerOptions): Promise<oidc.Configuration> {
  const f = o.caPEM ? trusting(o.caPEM) : undefined;
  const config = await oidc.discovery(new URL(o.issuer), o.clientId, undefined, oidc.None(), f ? { [oidc.customFetch]: f } : undefined);
  if (f) config[oidc.customFetch] = f;
  return config;
}

function trusting(caPEM: string): oidc.CustomFetch {
  const dispatcher = new Agent({ connect: { ca: caPEM } });
  return ((url: string, init: object) => undiciFetch(url, { ...init, dispatcher } as never)) as unknown as oidc.CustomFetch;
}

function stored(tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers, previousRefresh?: string): StoredTokens {
  const idToken = tokens.id_token;
  if (!idToken) throw new Error('The provider returned no ID token');
  const exp = tokens.claims()?.exp;
  return { idToken, refreshToken: tokens.refresh_token ?? previousRefresh, expiresAt: typeof exp === 'number' ? exp : Math.floor(Date.now() / 1000) + (tokens.expires_in ?? 60) };
}

/**
 * The browser flow: a one-shot listener on 127.0.0.1 (any free port, or `port`) takes the
 * redirect; `open` is given the authorization URL (opens a browser, or prints it). The
 * state and the PKCE verifier are checked by openid-client.
 */
export async function browserLogin(config: oidc.Configuration, opts: { open: (url: string) => void; port?: number; timeoutMs?: number; scope?: string }): Promise<StoredTokens> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  let settle!: { resolve: (u: URL) => void; reject: (e: Error) => void };
  const callback = new Promise<URL>((res, rej) => (settle = { resolve: res, reject: rej }));
  let redirectUri = '';
  const server = createServer((req, res) => {
    // The redirect URI with its port: openid-client sends it again with the code, and it must be the one authorized.
    const url = new URL(req.url ?? '/', redirectUri);
    if (url.pathname !== '/callback') {
      res.writeHead(404).end();
      return;
    }
    // An answer that is not to this sign-in (a forged or stale state) is refused and not waited on: the real one may still come.
    if (url.searchParams.get('state') !== state) {
      res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
      res.end('Sign-in failed: this answer does not belong to the sign-in the terminal started (state mismatch). Start again from the terminal.\n');
      return;
    }
    const ok = !url.searchParams.has('error');
    res.writeHead(ok ? 200 : 400, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
    res.end(ok ? 'Signed in. You can close this window and return to the terminal.\n' : `Sign-in failed: ${url.searchParams.get('error_description') ?? url.searchParams.get('error')}\n`);
    settle.resolve(url);
  });
  await new Promise<void>((res, rej) => server.once('error', rej).listen(opts.port ?? 0, '127.0.0.1', () => res()));
  const port = (server.address() as { port: number }).port;
  redirectUri = `http://127.0.0.1:${port}/callback`;
  const timer = setTimeout(() => settle.reject(new Error('No sign-in within the time allowed; run the command again')), opts.timeoutMs ?? 5 * 60_000);
  try {
    opts.open(
      oidc.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: opts.scope ?? DEFAULT_SCOPE,
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        prompt: 'consent',
      }).href,
    );
    const url = await callback;
    const tokens = await oidc.authorizationCodeGrant(config, url, { pkceCodeVerifier: verifier, expectedState: state, idTokenExpected: true });
    return stored(tokens);
  } finally {
    clearTimeout(timer);
    server.close();
    server.closeAllConnections();
  }
}

/** The device flow: `show` is told where to go and which code to enter; resolves once the person approved it there. */
export async function deviceLogin(
  config: oidc.Configuration,
  opts: { show: (d: { verificationUri: string; verificationUriComplete?: string; userCode: string; expiresIn: number }) => void; scope?: string; signal?: AbortSignal },
): Promise<StoredTokens> {
  const d = await oidc.initiateDeviceAuthorization(config, { scope: opts.scope ?? DEFAULT_SCOPE });
  opts.show({ verificationUri: d.verification_uri, verificationUriComplete: d.verification_uri_complete, userCode: d.user_code, expiresIn: d.expires_in });
  const tokens = await oidc.pollDeviceAuthorizationGrant(config, d, undefined, { signal: opts.signal });
  return stored(tokens);
}

/** A fresh ID token from the stored refresh token (which rotates: the new one is kept). */
export async function refresh(config: oidc.Configuration, tokens: StoredTokens): Promise<StoredTokens> {
  if (!tokens.refreshToken) throw new Error('No refresh token stored; run kubectl miniapps login again');
  return stored(await oidc.refreshTokenGrant(config, tokens.refreshToken), tokens.refreshToken);
}

/** Where the tokens of (issuer, client) are cached, as kubelogin keeps them: ~/.kube/cache/miniapps/<digest>.json, mode 0600. */
export function tokenCachePath(o: IssuerOptions, dir = join(homedir(), '.kube', 'cache', 'miniapps')): string {
  return join(dir, `${createHash('sha256').update(`${o.issuer}\n${o.clientId}`).digest('hex').slice(0, 32)}.json`);
}

export function readTokens(path: string): StoredTokens | undefined {
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, 'utf8')) as StoredTokens;
}

export function writeTokens(path: string, tokens: StoredTokens): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(tokens), { mode: 0o600 });
  renameSync(tmp, path);
}

/** The ExecCredential kubectl reads from an exec plugin's stdout. */
export function execCredential(tokens: StoredTokens): string {
  return `${JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: tokens.idToken, expirationTimestamp: new Date(tokens.expiresAt * 1000).toISOString() } })}\n`;
}

/** What `get-token` prints: the cached ID token while it has more than `skewS` left, else a refreshed one (written back). */
export async function currentToken(o: IssuerOptions, cachePath: string, nowS = Math.floor(Date.now() / 1000), skewS = 30): Promise<StoredTokens> {
  const tokens = readTokens(cachePath);
  if (!tokens) throw new Error(`Not signed in to ${o.issuer}; run kubectl miniapps login --issuer ${o.issuer}`);
  if (tokens.expiresAt - skewS > nowS) return tokens;
  let fresh: StoredTokens;
  try {
    fresh = await refresh(await discover(o), tokens);
  } catch (err) {
    throw new Error(`The session ended (${(err as Error).message}); run kubectl miniapps login --issuer ${o.issuer}`, { cause: err });
  }
  writeTokens(cachePath, fresh);
  return fresh;
}

/** The exec section of the kubeconfig user: runs `command ...prefix get-token` with the issuer's settings. */
export function execUser(o: IssuerOptions & { caFile?: string; cacheDir?: string }, command: string[]): Record<string, unknown> {
  const [cmd, ...prefix] = command;
  return {
    exec: {
      apiVersion: 'client.authentication.k8s.io/v1',
      command: cmd,
      args: [
        ...prefix,
        'get-token',
        `--issuer=${o.issuer}`,
        `--client-id=${o.clientId}`,
        ...(o.caFile ? [`--certificate-authority=${resolve(o.caFile)}`] : []),
        ...(o.cacheDir ? [`--cache-dir=${resolve(o.cacheDir)}`] : []),
      ],
      interactiveMode: 'Never',
      provideClusterInfo: false,
    },
  };
}

/**
 * Writes (or replaces) the kubeconfig user `user` with the exec plugin, and points the
 * context `context` (default: the current one) at it; creates the file when there is none.
 */
export function writeKubeconfigUser(path: string, user: string, userSpec: Record<string, unknown>, context?: string): { context?: string } {
  const doc = existsSync(path) ? parseDocument(readFileSync(path, 'utf8')) : parseDocument('apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n');
  const cfg = (doc.toJS() ?? {}) as { users?: { name: string; user: unknown }[]; contexts?: { name: string; context: { user?: string } }[]; 'current-context'?: string };
  const users = (cfg.users ?? []).filter((u) => u.name !== user);
  users.push({ name: user, user: userSpec });
  const target = context ?? cfg['current-context'];
  const contexts = cfg.contexts ?? [];
  const ctx = contexts.find((c) => c.name === target);
  if (context && !ctx) throw new Error(`The kubeconfig ${path} has no context ${context}`);
  if (ctx) ctx.context.user = user;
  doc.set('users', users);
  doc.set('contexts', contexts);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, doc.toString(), { mode: 0o600 });
  chmodSync(path, 0o600);
  return { context: ctx?.name };
}
