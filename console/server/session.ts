// Sessions: the browser holds only an opaque random id in an httpOnly, SameSite=Strict
// cookie (Secure on https); the tokens stay on the server and never reach the page,
// browser storage or a log. Each session has its own CSRF token, which the page reads from
// /console/api/session and sends back in a header on every write.
//
// In memory by default; with a SessionBackend (session-secrets.ts: Secrets in the
// console's namespace) signed-in sessions are also kept on the cluster (a sign-in in
// progress never is: it lives in its own sealed cookie, signin.ts), so that every replica and a restarted console find them. What
// is stored is sealed with a key derived from the cookie's id, which is never stored: the
// record alone (someone reading the Secret) opens nothing, and its name is a hash of the id.
import { SIGNIN_TTL_SECONDS } from './signin.ts';
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

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
  /** The refresh token the provider refused here: the same tokens read back from the backend stay signed out. */
  refusedRefreshToken?: string;
  expiresAt: number;
}

export const COOKIE = 'miniapps_console';
/**
 * The sign-in in progress (signin.ts, sealed): its own short-lived cookie, SameSite=Lax and only for the
 * callback path, because the provider's redirect back is a cross-site navigation that
 * never carries a SameSite=Strict cookie.
 */
export const SIGNIN_COOKIE = 'miniapps_console_signin';
export const SIGNIN_PATH = '/auth/callback';

/** A session as stored outside this process: sealed, and the time it expires (plain, for sweeping). */
export interface StoredSession {
  sealed: Buffer;
  expiresAt: number;
}

/** Where sessions are kept beyond this process, keyed by the hash of their id. */
export interface SessionBackend {
  read(key: string): Promise<StoredSession | undefined>;
  /**
   * Stores a session's record. `existing`: the session was stored before, so its record is
   * replaced only while it is there (one deleted meanwhile, by a sign-out on another replica
   * or the sweep, stays deleted).
   */
  write(key: string, record: StoredSession, existing?: boolean): Promise<void>;
  remove(key: string): Promise<void>;
}

export interface SessionStoreOptions {
  /** How long a session lives without use. Default 8 h. */
  idleMs?: number;
  now?: () => number;
  /** Most sessions held at once in memory; the oldest go first (from memory only). Default 10,000. */
  max?: number;
  /** Sessions kept on the cluster too (shared by replicas, surviving a restart). */
  backend?: SessionBackend;
  /**
   * With a backend: how long a session found in memory is trusted before it is read again
   * (a sign-out or a token refresh on another replica is seen within this). Default 5 s.
   */
  recheckMs?: number;
  /** With a backend: the stored expiry is moved forward at most this often per session. Default 10 min. */
  touchMs?: number;
}

/** Sessions looked up by a hash of the cookie's id: in this process's memory, and in a backend when given one. */
export class SessionStore {
  readonly #byHash = new Map<string, Session>();
  /** With a backend: when each cached session was last read or written there, and the expiry stored. */
  readonly #checked = new Map<string, { at: number; storedExpiry: number }>();
  readonly #idleMs: number;
  readonly #now: () => number;
  readonly #max: number;
  readonly #backend?: SessionBackend;
  readonly #recheckMs: number;
  readonly #touchMs: number;

  constructor(opts: SessionStoreOptions = {}) {
    this.#idleMs = opts.idleMs ?? 8 * 3600_000;
    this.#now = opts.now ?? Date.now;
    this.#max = opts.max ?? 10_000;
    this.#backend = opts.backend;
    this.#recheckMs = opts.recheckMs ?? 5_000;
    this.#touchMs = opts.touchMs ?? 10 * 60_000;
  }

  /** A new, empty session; its id goes into the cookie. */
  create(): Session {
    const s: Session = { id: randomBytes(32).toString('base64url'), csrf: randomBytes(32).toString('base64url'), expiresAt: this.#now() + this.#idleMs };
    this.#remember(hash(s.id), s);
    return s;
  }

  #remember(key: string, s: Session): void {
    this.#byHash.delete(key);
    if (this.#byHash.size >= this.#max) {
      const oldest = this.#byHash.keys().next().value;
      if (oldest !== undefined) {
        this.#byHash.delete(oldest);
        this.#checked.delete(oldest);
      }
    }
    // Map order is the eviction order: most recently used last.
    this.#byHash.set(key, s);
  }

  /** The live session of a cookie id held in this process's memory (its idle time restarts), or undefined. */
  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const key = hash(id);
    const s = this.#byHash.get(key);
    if (!s) return undefined;
    if (s.expiresAt <= this.#now()) {
      this.#byHash.delete(key);
      this.#checked.delete(key);
      return undefined;
    }
    s.expiresAt = this.#now() + this.#idleMs;
    this.#remember(key, s);
    return s;
  }

  /**
   * The live session of a cookie id: from memory, and with a backend from there when
   * memory has none or has not checked it for `recheckMs` (signed out or refreshed by
   * another replica). Its idle time restarts; the stored expiry follows every `touchMs`.
   */
  async load(id: string | undefined): Promise<Session | undefined> {
    if (!id || !this.#backend) return this.get(id);
    const key = hash(id);
    const now = this.#now();
    const checked = this.#checked.get(key);
    let s: Session | undefined;
    if (!checked || now - checked.at < this.#recheckMs) {
      s = this.get(id);
      // Held here only (never saved: not signed in yet): this replica's own.
      if (s && !checked) return s;
    }
    if (!s) {
      const stored = await this.#backend.read(key);
      if (!stored || stored.expiresAt <= now) {
        this.#byHash.delete(key);
        this.#checked.delete(key);
        if (stored) await this.#backend.remove(key);
        return undefined;
      }
      const data = unseal(id, stored.sealed);
      if (!data) return undefined;
      // The object already in memory is kept (a token refresh in flight holds it), with what is stored.
      s = this.#byHash.get(key) ?? { id, csrf: data.csrf, expiresAt: now };
      // Tokens whose refresh the provider refused here stay signed out (not refreshed again on every read); newer ones are used.
      s.tokens = s.refusedRefreshToken !== undefined && data.tokens?.refreshToken === s.refusedRefreshToken ? undefined : data.tokens;
      s.expiresAt = now + this.#idleMs;
      this.#remember(key, s);
      this.#checked.set(key, { at: now, storedExpiry: stored.expiresAt });
    }
    if (s.expiresAt - this.#checked.get(key)!.storedExpiry >= this.#touchMs) await this.save(s);
    return s;
  }

  /** Keeps a session's tokens in the backend (nothing without one). */
  async save(s: Session): Promise<void> {
    const key = hash(s.id);
    this.#remember(key, s);
    if (!this.#backend) return;
    await this.#backend.write(key, { sealed: seal(s.id, { csrf: s.csrf, tokens: s.tokens }), expiresAt: s.expiresAt }, this.#checked.has(key));
    this.#checked.set(key, { at: this.#now(), storedExpiry: s.expiresAt });
  }

  /** Ends a session here and in the backend. */
  async destroy(id: string | undefined): Promise<void> {
    if (!id) return;
    const key = hash(id);
    this.#byHash.delete(key);
    this.#checked.delete(key);
    await this.#backend?.remove(key);
  }

  get size(): number {
    return this.#byHash.size;
  }
}

/** The key a session is stored under: a hash of its id (lower-case hex, so it can be part of an object's name). */
export const hash = (id: string): string => createHash('sha256').update(id).digest('hex');

interface Sealed {
  csrf: string;
  tokens?: Tokens;
}

/** AES-256-GCM with a key derived (HKDF-SHA256) from the cookie's id; a random 12-byte IV. */
const sealKey = (id: string): Buffer => Buffer.from(hkdfSync('sha256', Buffer.from(id), Buffer.alloc(0), 'miniapps-console-session', 32));

export function seal(id: string, data: Sealed): Buffer {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', sealKey(id), iv);
  const body = Buffer.concat([c.update(JSON.stringify(data), 'utf8'), c.final()]);
  return Buffer.concat([iv, c.getAuthTag(), body]);
}

/** The stored data, or undefined when it was not sealed with this id (or was altered). */
export function unseal(id: string, sealed: Buffer): Sealed | undefined {
  try {
    const d = createDecipheriv('aes-256-gcm', sealKey(id), sealed.subarray(0, 12));
    d.setAuthTag(sealed.subarray(12, 28));
    return JSON.parse(Buffer.concat([d.update(sealed.subarray(28)), d.final()]).toString('utf8')) as Sealed;
  } catch {
    return undefined;
  }
}

/** The cookie's id from a Cookie header. */
export function sessionIdFrom(cookieHeader: string | undefined, name = COOKIE): string | undefined {
  if (!cookieHeader) return undefined;
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The Set-Cookie value of a sign-in in progress (its sealed value, or none for clearing it): ten minutes, the callback path only. */
export function signinCookie(sealed: string | undefined, secure: boolean): string {
  const attrs = [`Path=${SIGNIN_PATH}`, 'HttpOnly', 'SameSite=Lax', ...(secure ? ['Secure'] : [])];
  return sealed ? `${SIGNIN_COOKIE}=${sealed}; Max-Age=${SIGNIN_TTL_SECONDS}; ${attrs.join('; ')}` : `${SIGNIN_COOKIE}=; Max-Age=0; ${attrs.join('; ')}`;
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
