// Signing in to the embedded identity provider from tests, as a person would: an account
// made on the cluster, then the authorization code flow with PKCE driven by openid-client
// (the relying party) and a browser-like user agent that follows the provider's redirects
// with its cookies and posts the sign-in form. The ID token it returns is what kubectl
// sends: `kubectl --token=<idToken>` is that person to the API server.
import * as oidc from 'openid-client';
import { Agent, fetch as undiciFetch } from 'undici';
import { AccountStore } from '../identity/accounts.ts';
import type { Account, NewAccount } from '../identity/accounts.ts';
import type { KubeClient } from '../runtime/kube/client.ts';
import { eventually, kubectl } from './index.ts';

/** A cheap scrypt for accounts made by tests (the hash keeps its parameters; the provider verifies any). */
export const TEST_KDF = { N: 2 ** 14, r: 8, p: 1 };

/** Creates an account as the invitation page does (on the cluster, hash in a Secret of `namespace`). */
export function createTestAccount(client: KubeClient, namespace: string, account: NewAccount): Promise<Account> {
  return new AccountStore(client, namespace, { kdf: TEST_KDF }).create(account);
}

/** fetch that trusts `caPEM` (the provider's CA), for openid-client's customFetch and the user agent. */
export function fetchTrusting(caPEM: string): typeof fetch {
  const dispatcher = new Agent({ connect: { ca: caPEM } });
  return ((url: string | URL | Request, init?: RequestInit) => undiciFetch(url as never, { ...(init as object), dispatcher } as never)) as unknown as typeof fetch;
}

/** openid-client's Configuration for `clientId` (a public client: PKCE, no secret) at `issuer`. */
export async function relyingParty(issuer: string, clientId: string, caPEM: string): Promise<oidc.Configuration> {
  const f = fetchTrusting(caPEM);
  const config = await oidc.discovery(new URL(issuer), clientId, undefined, oidc.None(), { [oidc.customFetch]: f as never });
  config[oidc.customFetch] = f as never;
  return config;
}

/** A user agent with a cookie jar: follows redirects within the issuer, stops at the first one leaving it. */
export class UserAgent {
  private readonly cookies = new Map<string, string>();
  private readonly f: typeof fetch;
  private readonly headers: Record<string, string>;
  /** `headers`: sent with every request (e.g. X-Forwarded-For, as a proxy in front of the provider writes it). */
  constructor(caPEM: string, headers: Record<string, string> = {}) {
    this.f = fetchTrusting(caPEM);
    this.headers = headers;
  }

  private store(res: Response): void {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (/expires=Thu, 01 Jan 1970/i.test(c) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async request(url: string, init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Response> {
    const headers: Record<string, string> = { ...this.headers, ...init.headers };
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const res = await this.f(url, { method: init.method ?? (body ? 'POST' : 'GET'), headers, body, redirect: 'manual' });
    this.store(res);
    return res;
  }

  /** GETs `url` and follows redirects while they stay on `origin`; returns the last response and its URL, or the location leaving it. */
  async follow(url: string, origin: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<{ res: Response; url: string; leftTo?: string }> {
    let current = url;
    let res = await this.request(current, init);
    for (let hops = 0; hops < 20 && res.status >= 300 && res.status < 400; hops++) {
      const next = new URL(res.headers.get('location')!, current).href;
      await res.body?.cancel();
      if (new URL(next).origin !== origin) return { res, url: current, leftTo: next };
      current = next;
      res = await this.request(current);
    }
    return { res, url: current };
  }
}

/**
 * Opens a set-password link (/reset/confirm?token=…, from an email) and posts `password`
 * with its token, as a browser does: the page it opened (status and HTML), and the answer.
 */
export async function setPasswordByLink(caPEM: string, link: string, password: string): Promise<{ opened: { status: number; html: string }; res: Response }> {
  const ua = new UserAgent(caPEM);
  const page = await ua.request(link);
  const opened = { status: page.status, html: await page.text() };
  const token = new URL(link).searchParams.get('token')!;
  const res = await ua.request(new URL('/reset/confirm', link).href, { form: { token, password } });
  return { opened, res };
}

/** The hidden CSRF field and the action of the sign-in form in `html`. */
export function loginForm(html: string): { action: string; csrf: string } {
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
  if (!action || !csrf) throw new Error(`No sign-in form in the page: ${html.slice(0, 500)}`);
  return { action: action.replace(/&amp;/g, '&'), csrf };
}

/** A PKCE (S256) authorization request of `config` with `params` (redirect_uri, scope, ...): its URL, and the verifier and state its code is redeemed with. */
export async function authorizationRequest(config: oidc.Configuration, params: Record<string, string>): Promise<{ url: URL; verifier: string; state: string }> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = params.state ?? oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, { ...params, code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state });
  return { url, verifier, state };
}

/**
 * Posts the sign-in form of the page `html` (with its CSRF token) and `fields`, as the
 * person's click does, then answers a frontend app's consent page, if one comes, with
 * `decision` (answerConsent).
 */
export async function postSignIn(ua: UserAgent, origin: string, html: string, fields: Record<string, string>, decision?: 'allow' | 'deny'): ReturnType<typeof answerConsent> {
  const form = loginForm(html);
  return answerConsent(ua, origin, await ua.follow(new URL(form.action, origin).href, origin, { form: { ...fields, csrf: form.csrf } }), decision);
}

/**
 * After a sign-in was posted: when the provider answered with a frontend app's consent page
 * (server.ts consentPage), posts `decision` on it, as the person's click would, and returns
 * where that led; otherwise returns `done` as it is. `page` is the consent page's HTML, when
 * there was one.
 */
export async function answerConsent(
  ua: UserAgent,
  origin: string,
  done: { res: Response; url: string; leftTo?: string },
  decision: 'allow' | 'deny' = 'allow',
): Promise<{ res: Response; url: string; leftTo?: string; page?: string }> {
  if (done.leftTo || !/\/interaction\/[\w-]+$/.test(new URL(done.url).pathname)) return done;
  const html = await done.res.text();
  const action = /<form method="post" action="(\/interaction\/[\w-]+\/consent)"/.exec(html)?.[1];
  if (!action) return { res: new Response(html, { status: done.res.status }), url: done.url };
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
  return { ...(await ua.follow(new URL(action, origin).href, origin, { form: { csrf, decision } })), page: html };
}

/** The alert of a page (the sign-in error), else its body's text. */
export function pageMessage(html: string): string {
  const alert = /role="alert">([^<]*)</.exec(html)?.[1];
  const body = alert ?? /<body>([\s\S]*)<\/body>/.exec(html)?.[1] ?? html;
  return body
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}

export interface SignInResult {
  idToken: string;
  accessToken: string;
  refreshToken?: string;
  claims: oidc.IDToken;
  config: oidc.Configuration;
}

/**
 * Signs `login` in with the authorization code flow and PKCE (S256) at `issuer`, as the
 * client `clientId` whose redirect URI is `redirectUri` (a loopback one for kubectl's):
 * openid-client builds the request and redeems the code; the user agent posts the form.
 * Throws with the page's text when the sign-in is refused.
 */
export async function signIn(opts: {
  issuer: string;
  caPEM: string;
  clientId: string;
  login: string;
  password: string;
  redirectUri?: string;
  scope?: string;
  /** The relying party's configuration, when the caller keeps one (else discovery runs again). */
  config?: oidc.Configuration;
  /** Headers the user agent sends with each request. */
  headers?: Record<string, string>;
  /** More fields of the sign-in form (a frontend app's: `tenant`). */
  form?: Record<string, string>;
  /** The user agent (its cookies: a session from an earlier sign-in); a new one by default. */
  userAgent?: UserAgent;
  /** The authorization request's `prompt` (default `consent`: a frontend app's consent page is shown every time); `''` for none. */
  prompt?: string;
  /** What the person answers on a frontend app's consent page (default allow); deny: the app gets access_denied, and signIn throws. */
  consent?: 'allow' | 'deny';
}): Promise<SignInResult> {
  const config = opts.config ?? (await relyingParty(opts.issuer, opts.clientId, opts.caPEM));
  const { url, verifier, state } = await authorizationRequest(config, {
    redirect_uri: opts.redirectUri ?? 'http://127.0.0.1:53999/callback',
    scope: opts.scope ?? 'openid email profile groups offline_access',
    ...(opts.prompt === '' ? {} : { prompt: opts.prompt ?? 'consent' }),
  });
  const ua = opts.userAgent ?? new UserAgent(opts.caPEM, opts.headers);
  const origin = new URL(opts.issuer).origin;
  const page = await ua.follow(url.href, origin);
  if (page.leftTo) throw new Error(`The provider sent the browser away before signing in: ${page.leftTo}`);
  const done = await postSignIn(ua, origin, await page.res.text(), { ...opts.form, login: opts.login, password: opts.password }, opts.consent);
  if (!done.leftTo) throw new Error(`Sign-in refused (HTTP ${done.res.status}): ${pageMessage(await done.res.text())}`);
  const denied = new URL(done.leftTo).searchParams.get('error');
  if (denied) throw new Error(`The app got ${denied}: ${new URL(done.leftTo).searchParams.get('error_description') ?? ''}`);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(done.leftTo), { pkceCodeVerifier: verifier, expectedState: state, idTokenExpected: true });
  return { idToken: tokens.id_token!, accessToken: tokens.access_token, refreshToken: tokens.refresh_token, claims: tokens.claims()!, config };
}

/**
 * Waits until kube-apiserver takes `token` (an ID token of the embedded provider) and returns
 * whom it takes it for. Its JWT authenticator fetches the issuer's discovery and keys
 * asynchronously, every 10 s until it has them: in the first file of a run that starts an
 * operator serving the provider, a token the provider just issued is Unauthorized for up to
 * that long (seen: a console test that ran first showed "The API server refused this:
 * Unauthorized"). Call it once after the first sign-in of a file, before the token is used.
 */
export async function untilApiServerAccepts(token: string): Promise<{ username: string; uid?: string; groups?: string[] }> {
  return eventually(
    async () => {
      const r = await kubectl(['auth', 'whoami', '-o', 'json'], { token, allowFailure: true });
      return r.exitCode === 0 ? (JSON.parse(r.stdout) as { status: { userInfo: { username: string; uid?: string; groups?: string[] } } }).status.userInfo : false;
    },
    { timeoutMs: 60_000, describe: "kube-apiserver to accept the ID token (its authenticator fetches the provider's keys every 10 s until it has them)" },
  );
}
