// Sessions: the browser holds only an opaque random id in an httpOnly, SameSite=Strict
// cookie (Secure on https); the tokens stay on the server, in memory, and never reach
// the page, browser storage or a log. Each session has its own CSRF token, which the page
// reads from /console/api/session and sends back in a header on every write.
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';

export interface Tokens {
  /** The bearer token forwarded to the API server (the OIDC ID token, or a test's token). */
  bearer: string;
  /** The ID token, when the session was signed in with OpenID Connect (the end-session hint). */
  idToken?: string;
  refreshToken?: string;
  /** When the bearer token expires (ms since epoch), if known. */
  expiresAt?: number;
}

export interface Session {
  readonly id: string;
  readonly csrf: string;
  tokens?: Tokens;
  /** OIDC sign-in in progress: PKCE verifier, state and nonce, and where to return. */
  pending?: { codeVerifier: string; state: string; nonce: string; returnTo: string };
  expiresAt: number;
}

export const COOKIE = 'miniapps_console';
/**
 * The sign-in in progress: its own short-lived cookie, SameSite=Lax and only for the
 * callback path, because the provider's redirect back is a cross-site navigation that
 * never carries a SameSite=Strict cookie.
 */
export const SIGNIN_COOKIE = 'miniapps_console_signin';
export const SIGNIN_PATH = '/auth/callback';

export interface SessionStoreOptions {
  /** How long a session lives without use. Default 8 h. */
  idleMs?: number;
  now?: () => number;
  /** Most sessions held at once; the oldest go first. Default 10,000. */
  max?: number;
}

/** Sessions in this process's memory, looked up by a hash of the cookie's id. */
export class SessionStore {
  readonly #byHash = new Map<string, Session>();
  readonly #idleMs: number;
  readonly #now: () => number;
  readonly #max: number;

  constructor(opts: SessionStoreOptions = {}) {
    this.#idleMs = opts.idleMs ?? 8 * 3600_000;
    this.#now = opts.now ?? Date.now;
    this.#max = opts.max ?? 10_000;
  }

  /** A new, empty session; its id goes into the cookie. */
  create(): Session {
    if (this.#byHash.size >= this.#max) {
      const oldest = this.#byHash.keys().next().value;
      if (oldest !== undefined) this.#byHash.delete(oldest);
    }
    const s: Session = { id: randomBytes(32).toString('base64url'), csrf: randomBytes(32).toString('base64url'), expiresAt: this.#now() + this.#idleMs };
    this.#byHash.set(hash(s.id), s);
    return s;
  }

  /** The live session of a cookie id (its idle time restarts), or undefined. */
  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const key = hash(id);
    const s = this.#byHash.get(key);
    if (!s) return undefined;
    if (s.expiresAt <= this.#now()) {
      this.#byHash.delete(key);
      return undefined;
    }
    s.expiresAt = this.#now() + this.#idleMs;
    // Map order is the eviction order: most recently used last.
    this.#byHash.delete(key);
    this.#byHash.set(key, s);
    return s;
  }

  destroy(id: string | undefined): void {
    if (id) this.#byHash.delete(hash(id));
  }

  get size(): number {
    return this.#byHash.size;
  }
}

const hash = (id: string): string => createHash('sha256').update(id).digest('base64url');

/** The cookie's id from a Cookie header. */
export function sessionIdFrom(cookieHeader: string | undefined, name = COOKIE): string | undefined {
  if (!cookieHeader) return undefined;
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The Set-Cookie value of a sign-in in progress (or for clearing it): ten minutes, the callback path only. */
export function signinCookie(id: string | undefined, secure: boolean): string {
  const attrs = [`Path=${SIGNIN_PATH}`, 'HttpOnly', 'SameSite=Lax', ...(secure ? ['Secure'] : [])];
  return id ? `${SIGNIN_COOKIE}=${id}; Max-Age=600; ${attrs.join('; ')}` : `${SIGNIN_COOKIE}=; Max-Age=0; ${attrs.join('; ')}`;
}

/** The Set-Cookie value for a session id (or for clearing it). */
export function sessionCookie(id: string | undefined, secure: boolean): string {
  const attrs = ['Path=/', 'HttpOnly', 'SameSite=Strict', ...(secure ? ['Secure'] : [])];
  return id ? `${COOKIE}=${id}; ${attrs.join('; ')}` : `${COOKIE}=; Max-Age=0; ${attrs.join('; ')}`;
}

export const CSRF_HEADER = 'x-csrf-token';
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Whether a request may change anything: safe methods always; others only with the
 * session's CSRF token in the header and, when the browser sends an Origin, the console's
 * own origin.
 */
export function csrfOk(method: string, session: Session | undefined, headerToken: string | undefined, origin: string | undefined, ownOrigin: string): boolean {
  if (SAFE.has(method)) return true;
  if (!session || !headerToken) return false;
  if (origin !== undefined && origin !== ownOrigin) return false;
  const a = Buffer.from(headerToken);
  const b = Buffer.from(session.csrf);
  return a.length === b.length && timingSafeEqual(a, b);
}
