// Accounts of the embedded identity provider: a person's user name, email, first and
// last name, whether the account is suspended, and the hash of their password. Each
// account is one Secret in the provider's namespace (--identity-namespace, label
// miniapps.dev/account), so the hash is readable by the operator and the provider alone and never appears in a status, event or
// log. The account's id (the tokens' `sub`) is derived from the lowercased email, which
// is what the operator binds in RBAC.
import { createHash, createHmac, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { KubeClient } from '../runtime/kube/client.ts';
import { Resources } from '../runtime/kube/resource.ts';
import { revokeAccount } from './adapter.ts';

const scryptRaw = promisify(scryptCb) as (password: string, salt: Buffer, keylen: number, options: { N: number; r: number; p: number; maxmem: number }) => Promise<Buffer>;

/**
 * At most two hashes at once in this process: each takes 128 MiB with the default
 * parameters, and a burst of sign-ins must queue rather than exhaust the container's memory.
 */
export const HASH_SLOTS = 2;
let running = 0;
const waiting: (() => void)[] = [];
async function scrypt(password: string, salt: Buffer, keylen: number, options: { N: number; r: number; p: number; maxmem: number }): Promise<Buffer> {
  // A finished hash hands its slot straight to the next waiter, so no newcomer slips in between.
  if (running >= HASH_SLOTS) await new Promise<void>((resolve) => waiting.push(resolve));
  else running++;
  try {
    return await scryptRaw(password, salt, keylen, options);
  } finally {
    const next = waiting.shift();
    if (next) next();
    else running--;
  }
}

import { ACCOUNT_LABEL, ACCOUNT_SECRET_TYPE, ACCOUNT_USERNAME_LABEL } from '../api/constants.ts';

export { ACCOUNT_LABEL, ACCOUNT_USERNAME_LABEL };
const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'miniapps-operator' };

/** scrypt parameters (OWASP's minimum for scrypt is N=2^17, r=8, p=1: 128 MiB a hash). */
export interface KdfParams {
  N: number;
  r: number;
  p: number;
}
export const DEFAULT_KDF: KdfParams = { N: 2 ** 17, r: 8, p: 1 };

function maxmem(k: KdfParams): number {
  return 128 * k.N * k.r * 2;
}

/** `scrypt$N$r$p$salt$hash` (base64url): a memory-hard hash with its parameters. */
export async function hashPassword(password: string, kdf: KdfParams = DEFAULT_KDF): Promise<string> {
  const salt = randomBytes(16);
  const dk = await scrypt(password.normalize('NFKC'), salt, 32, { ...kdf, maxmem: maxmem(kdf) });
  return ['scrypt', kdf.N, kdf.r, kdf.p, salt.toString('base64url'), dk.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const [scheme, n, r, p, saltB64, hashB64] = encoded.split('$');
  if (scheme !== 'scrypt' || !saltB64 || !hashB64) return false;
  const kdf = { N: Number(n), r: Number(r), p: Number(p) };
  if (![kdf.N, kdf.r, kdf.p].every((v) => Number.isInteger(v) && v > 0)) return false;
  const expected = Buffer.from(hashB64, 'base64url');
  const dk = await scrypt(password.normalize('NFKC'), Buffer.from(saltB64, 'base64url'), expected.length, { ...kdf, maxmem: maxmem(kdf) });
  return dk.length === expected.length && timingSafeEqual(dk, expected);
}

/** A hash of nothing anyone knows: verified against when the account does not exist, so a wrong user name costs the same time as a wrong password. */
let decoyHash: Promise<string> | undefined;

/** Verifies `password` against the decoy hash (made once, with `kdf`): the time a real check takes, for an account that does not exist or has no password. */
export async function verifyDecoy(password: string, kdf: KdfParams): Promise<void> {
  decoyHash ??= hashPassword(randomBytes(16).toString('hex'), kdf);
  await verifyPassword(password, await decoyHash);
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** The account id (`sub`): stable for an email, never the email itself. */
export function accountId(email: string): string {
  return createHash('sha256').update(normalizeEmail(email)).digest('hex').slice(0, 32);
}

function usernameKey(username: string): string {
  return createHash('sha256').update(username.trim().toLowerCase()).digest('hex').slice(0, 40);
}

export function accountSecretName(id: string): string {
  return `account-${id}`;
}

export interface Account {
  id: string;
  username: string;
  email: string;
  firstName: string;
  lastName: string;
  suspended: boolean;
}

export interface NewAccount {
  username: string;
  email: string;
  password: string;
  firstName: string;
  lastName: string;
}

export class AccountExistsError extends Error {
  constructor() {
    super('An account with this user name or email exists');
    this.name = 'AccountExistsError';
  }
}

/** An Account whose private half a Secret is: its owner reference and its name label. */
export interface PrivateHalfOf {
  ownerReferences: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }[];
  labels: Record<string, string>;
}

type SecretObject = {
  metadata: { name: string; namespace?: string; uid?: string; labels?: Record<string, string>; resourceVersion?: string; ownerReferences?: PrivateHalfOf['ownerReferences'] };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  type?: string;
};

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string | undefined) => (s ? Buffer.from(s, 'base64').toString('utf8') : '');

function toAccount(s: SecretObject): Account {
  const d = s.data ?? {};
  return {
    id: s.metadata.name.replace(/^account-/, ''),
    username: unb64(d.username),
    email: unb64(d.email),
    firstName: unb64(d.firstName),
    lastName: unb64(d.lastName),
    suspended: unb64(d.suspended) === 'true',
  };
}

/** Password rules: long enough, not absurdly long (scrypt is costly either way). */
export function passwordProblem(password: string): string | undefined {
  if (password.length < 12) return 'The password must have at least 12 characters';
  if (password.length > 256) return 'The password must have at most 256 characters';
  return undefined;
}

export function usernameProblem(username: string): string | undefined {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{1,62}$/.test(username)) return 'The user name must be 2 to 63 letters, digits, dots, dashes or underscores, starting with a letter or digit';
  return undefined;
}

/** The accounts, on the cluster. */
export class AccountStore {
  private readonly client: KubeClient;
  private readonly namespace: string;
  private readonly kdf: KdfParams;

  constructor(client: KubeClient, namespace: string, opts: { kdf?: KdfParams } = {}) {
    this.client = client;
    this.namespace = namespace;
    this.kdf = opts.kdf ?? DEFAULT_KDF;
  }

  private async secret(id: string): Promise<SecretObject | undefined> {
    if (!/^[0-9a-f]{32}$/.test(id)) return undefined;
    return this.client.get<SecretObject>(Resources.Secret, accountSecretName(id), this.namespace);
  }

  async find(id: string): Promise<Account | undefined> {
    const s = await this.secret(id);
    return s ? toAccount(s) : undefined;
  }

  async findByEmail(email: string): Promise<Account | undefined> {
    return this.find(accountId(email));
  }

  async findByUsername(username: string): Promise<Account | undefined> {
    const list = await this.client.list<SecretObject>(Resources.Secret, { namespace: this.namespace, labelSelector: `${ACCOUNT_USERNAME_LABEL}=${usernameKey(username)}` });
    return list.items[0] ? toAccount(list.items[0]) : undefined;
  }

  /**
   * The account whose user name or email is `login` and whose password is `password`;
   * undefined otherwise, in about the same time whether or not the account exists.
   * A suspended account is returned (the caller refuses it without saying why).
   */
  async authenticate(login: string, password: string): Promise<Account | undefined> {
    const trimmed = login.trim();
    const s = trimmed.includes('@')
      ? await this.secret(accountId(trimmed))
      : (await this.client.list<SecretObject>(Resources.Secret, { namespace: this.namespace, labelSelector: `${ACCOUNT_USERNAME_LABEL}=${usernameKey(trimmed)}` })).items[0];
    const hash = s?.data?.passwordHash ? unb64(s.data.passwordHash) : undefined;
    if (!hash) {
      await verifyDecoy(password, this.kdf);
      return undefined;
    }
    return (await verifyPassword(password, hash)) ? toAccount(s!) : undefined;
  }

  /** Creates the account; AccountExistsError when its email or user name is taken. */
  async create(a: NewAccount): Promise<Account> {
    const email = normalizeEmail(a.email);
    const id = accountId(email);
    if (await this.findByUsername(a.username)) throw new AccountExistsError();
    const passwordHash = await hashPassword(a.password, this.kdf);
    const body: SecretObject = {
      metadata: {
        name: accountSecretName(id),
        namespace: this.namespace,
        labels: { ...MANAGED_BY, [ACCOUNT_LABEL]: 'true', [ACCOUNT_USERNAME_LABEL]: usernameKey(a.username) },
      },
      type: ACCOUNT_SECRET_TYPE,
      data: { username: b64(a.username.trim()), email: b64(email), firstName: b64(a.firstName.trim()), lastName: b64(a.lastName.trim()), passwordHash: b64(passwordHash), suspended: b64('false') },
    };
    try {
      const created = await this.client.create<SecretObject>(Resources.Secret, body);
      return toAccount(created);
    } catch (err) {
      if ((err as { status?: number }).status === 409) throw new AccountExistsError();
      throw err;
    }
  }

  /**
   * Sets or clears the account's suspension. Suspending also deletes every session, grant
   * and refresh token of the account (the provider refuses them anyway: it reads the
   * account at each refresh); an ID or access token already issued works until it expires
   * (--identity-token-ttl).
   */
  async setSuspended(id: string, suspended: boolean): Promise<void> {
    await this.client.patch(Resources.Secret, accountSecretName(id), this.namespace, { data: { suspended: b64(String(suspended)) } });
    if (suspended) await revokeAccount(this.client, this.namespace, id);
  }

  /** Replaces the password (a reset), and ends every session and refresh token of the account. */
  async setPassword(id: string, password: string): Promise<void> {
    await this.client.patch(Resources.Secret, accountSecretName(id), this.namespace, { data: { passwordHash: b64(await hashPassword(password, this.kdf)) } });
    await revokeAccount(this.client, this.namespace, id);
  }

  /**
   * A digest of the account's current password hash: a reset link carries it, so it works once (the next password changes it).
   * An account made without a password (an Account by a provisioning administrator) has one too, of its Secret's uid: its
   * "set your password" link works until a password is set.
   */
  async passwordFingerprint(id: string): Promise<string | undefined> {
    const s = await this.secret(id);
    if (!s) return undefined;
    const basis = s.data?.passwordHash ? unb64(s.data.passwordHash) : s.metadata.uid ? `pending:${s.metadata.uid}` : undefined;
    return basis ? createHash('sha256').update(basis).digest('base64url').slice(0, 22) : undefined;
  }

  /**
   * Creates an account without a password (the person sets one through a "set your password" link), as the private
   * half of an Account (`owner`). AccountExistsError when its email or user name is taken.
   */
  async createPending(a: Omit<NewAccount, 'password'>, owner: PrivateHalfOf): Promise<Account> {
    const email = normalizeEmail(a.email);
    if (await this.findByUsername(a.username)) throw new AccountExistsError();
    const body: SecretObject = {
      metadata: {
        name: accountSecretName(accountId(email)),
        namespace: this.namespace,
        labels: { ...MANAGED_BY, [ACCOUNT_LABEL]: 'true', [ACCOUNT_USERNAME_LABEL]: usernameKey(a.username), ...owner.labels },
        ownerReferences: owner.ownerReferences,
      },
      type: ACCOUNT_SECRET_TYPE,
      data: { username: b64(a.username.trim()), email: b64(email), firstName: b64(a.firstName.trim()), lastName: b64(a.lastName.trim()), suspended: b64('false') },
    };
    try {
      return toAccount(await this.client.create<SecretObject>(Resources.Secret, body));
    } catch (err) {
      if ((err as { status?: number }).status === 409) throw new AccountExistsError();
      throw err;
    }
  }

  /** Whose private half the account is (an Account's owner reference and name label), the first time or again. */
  async adopt(id: string, owner: PrivateHalfOf): Promise<void> {
    await this.client.patch(Resources.Secret, accountSecretName(id), this.namespace, { metadata: { labels: owner.labels, ownerReferences: owner.ownerReferences } });
  }

  /** Changes the user name and names (an Account's spec); AccountExistsError when another account has the user name. */
  async setProfile(id: string, p: { username: string; firstName: string; lastName: string }): Promise<void> {
    const other = await this.findByUsername(p.username);
    if (other && other.id !== id) throw new AccountExistsError();
    await this.client.patch(Resources.Secret, accountSecretName(id), this.namespace, {
      metadata: { labels: { [ACCOUNT_USERNAME_LABEL]: usernameKey(p.username) } },
      data: { username: b64(p.username.trim()), firstName: b64(p.firstName.trim()), lastName: b64(p.lastName.trim()) },
    });
  }

  /** Whether the account has a password (without reading it out). */
  async hasPassword(id: string): Promise<boolean> {
    return !!(await this.secret(id))?.data?.passwordHash;
  }

  /** The account, the owner references of its Secret (whose private half it is) and whether it has a password: one read. */
  async privateHalf(id: string): Promise<{ account: Account; owners: PrivateHalfOf['ownerReferences']; passwordSet: boolean } | undefined> {
    const s = await this.secret(id);
    return s && { account: toAccount(s), owners: s.metadata.ownerReferences ?? [], passwordSet: !!s.data?.passwordHash };
  }
}

/** Sign-in failures per login (user name or email as typed, lowercased), whether or not an account has it: a lockout tells nothing about existence. */
export class FailureCounter {
  private readonly entries = new Map<string, { failures: number; lockedUntil: number }>();
  private readonly max: number;
  private readonly lockoutMs: number;
  constructor(max: number, lockoutMs: number) {
    this.max = max;
    this.lockoutMs = lockoutMs;
  }
  locked(login: string, now: number): boolean {
    const e = this.entries.get(login.trim().toLowerCase());
    return !!e && e.lockedUntil > now;
  }
  fail(login: string, now: number): void {
    const key = login.trim().toLowerCase();
    const e = this.entries.get(key) ?? { failures: 0, lockedUntil: 0 };
    if (e.lockedUntil && e.lockedUntil <= now) Object.assign(e, { failures: 0, lockedUntil: 0 });
    e.failures++;
    if (e.failures >= this.max) e.lockedUntil = now + this.lockoutMs;
    this.entries.delete(key);
    this.entries.set(key, e);
    if (this.entries.size > 100_000) this.entries.delete(this.entries.keys().next().value!);
  }
  succeed(login: string): void {
    this.entries.delete(login.trim().toLowerCase());
  }
}

/** What every refused sign-in says: the same for a wrong password, an unknown account and a suspended one. */
export const SIGN_IN_FAILED = 'The user name or password is wrong, or the account cannot sign in now';

/** A password-reset link's token: the account, when it expires, and the fingerprint of the password it replaces, signed. */
export function resetToken(key: string, accountIdValue: string, fingerprint: string, expiresAtS: number): string {
  const body = Buffer.from(JSON.stringify({ a: accountIdValue, e: expiresAtS, f: fingerprint })).toString('base64url');
  return `${body}.${createHmac('sha256', key).update(`reset:${body}`).digest('base64url')}`;
}

/** The account a reset token names, if its signature holds and it has not expired (the caller checks the fingerprint). */
export function readResetToken(key: string, token: string, nowS: number): { accountId: string; fingerprint: string } | undefined {
  const [body, sig] = token.split('.');
  if (!body || !sig) return undefined;
  const expected = createHmac('sha256', key).update(`reset:${body}`).digest();
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  try {
    const p = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { a?: unknown; e?: unknown; f?: unknown };
    if (typeof p.a !== 'string' || typeof p.e !== 'number' || typeof p.f !== 'string' || p.e <= nowS) return undefined;
    return { accountId: p.a, fingerprint: p.f };
  } catch {
    return undefined;
  }
}
