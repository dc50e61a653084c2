// Accounts of tenant users (seed 003's createUsers): one per User, kept like the platform's
// accounts (a Secret in the provider's namespace, readable by the operator and the provider alone, the
// password as an scrypt hash) but scoped to the tenant: the account id (the tokens' `sub`)
// is derived from the tenant's namespace and the email, so the same email in two tenants is
// two accounts, and a tenant account is never a platform account (its id has another shape,
// `t` and 32 hex digits, and its Secret another label), so it cannot sign in to the
// platform's own clients (kubectl, console). The account is made without a password; the
// person chooses one through a set-password link, the password reset link of the
// provider (accounts.ts resetToken), which works once: its fingerprint is of the random
// nonce the account is made with until a password is set, then of the password's hash.
import { createHash, randomBytes } from 'node:crypto';
import { ApiError } from '../runtime/errors.ts';
import type { KubeClient } from '../runtime/kube/client.ts';
import { Resources } from '../runtime/kube/resource.ts';
import { DEFAULT_KDF, hashPassword, normalizeEmail, resetToken, verifyDecoy, verifyPassword } from './accounts.ts';
import type { KdfParams } from './accounts.ts';
import { revokeAccount } from './adapter.ts';

export const TENANT_ACCOUNT_LABEL = 'miniapps.dev/tenant-account';
/** A digest of the User (`<namespace>/<name>`) the account is for: what deleting the User finds it by. */
export const TENANT_USER_LABEL = 'miniapps.dev/tenant-user';
/** A digest of the lowercased email: what a password reset asked for an email finds its tenant accounts by. */
export const TENANT_EMAIL_LABEL = 'miniapps.dev/tenant-account-email';
export const TENANT_ACCOUNT_SECRET_TYPE = 'miniapps.dev/tenant-account';

const digest = (v: string, len: number) => createHash('sha256').update(v).digest('hex').slice(0, len);
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string | undefined) => (s ? Buffer.from(s, 'base64').toString('utf8') : '');

/** The tenant account id (`sub`): `t` and 32 hex digits of the tenant namespace and the lowercased email. */
export function tenantAccountId(tenantNamespace: string, email: string): string {
  return `t${digest(`tenant:${tenantNamespace}\n${normalizeEmail(email)}`, 32)}`;
}

/**
 * The lockout counter's key for a tenant sign-in: the tenant and the email normalized as the
 * account id normalizes it, so every spelling that reaches one account (`' Ada@X.io'`,
 * `'ada@x.io'`) counts towards one lockout.
 */
export function tenantLockoutKey(tenant: string, login: string): string {
  return `${tenant.trim()}/${normalizeEmail(login)}`;
}

export const isTenantAccountId = (id: string) => /^t[0-9a-f]{32}$/.test(id);

export function tenantAccountSecretName(id: string): string {
  return `tenant-account-${id}`;
}

const emailKey = (email: string) => digest(`email:${normalizeEmail(email)}`, 40);

export const tenantUserKey = (namespace: string, name: string) => digest(`${namespace}/${name}`, 40);

export interface TenantAccount {
  id: string;
  /** The tenant's namespace. */
  tenant: string;
  /** The User's name in that namespace. */
  user: string;
  email: string;
  firstName: string;
  lastName: string;
  passwordSet: boolean;
  /** When the set-password email was recorded as sent (ISO), if it was. */
  setPasswordSentAt?: string;
}

type SecretObject = {
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; resourceVersion?: string };
  data?: Record<string, string>;
  type?: string;
};

function toAccount(s: SecretObject): TenantAccount {
  const d = s.data ?? {};
  return {
    id: s.metadata.name.replace(/^tenant-account-/, ''),
    tenant: unb64(d.tenant),
    user: unb64(d.user),
    email: unb64(d.email),
    firstName: unb64(d.firstName),
    lastName: unb64(d.lastName),
    passwordSet: !!d.passwordHash,
    setPasswordSentAt: unb64(d.setPasswordSentAt) || undefined,
  };
}

export interface TenantUserIdentity {
  tenant: string;
  user: string;
  email: string;
  firstName?: string;
  lastName?: string;
}

/** Tenant users' accounts, on the cluster (Secrets in the provider's namespace). */
export class TenantAccountStore {
  private readonly client: KubeClient;
  private readonly namespace: string;
  private readonly kdf: KdfParams;

  constructor(client: KubeClient, namespace: string, opts: { kdf?: KdfParams } = {}) {
    this.client = client;
    this.namespace = namespace;
    this.kdf = opts.kdf ?? DEFAULT_KDF;
  }

  private secret(id: string): Promise<SecretObject | undefined> {
    if (!isTenantAccountId(id)) return Promise.resolve(undefined);
    return this.client.get<SecretObject>(Resources.Secret, tenantAccountSecretName(id), this.namespace);
  }

  async find(id: string): Promise<TenantAccount | undefined> {
    const s = await this.secret(id);
    return s ? toAccount(s) : undefined;
  }

  /** The accounts of `email`, one per tenant that has a User with it. */
  async findByEmail(email: string): Promise<TenantAccount[]> {
    const list = await this.client.list<SecretObject>(Resources.Secret, { namespace: this.namespace, labelSelector: `${TENANT_ACCOUNT_LABEL},${TENANT_EMAIL_LABEL}=${emailKey(email)}` });
    return list.items.map(toAccount).filter((a) => a.email === normalizeEmail(email));
  }

  /**
   * The account of the User, made (without a password) when it does not exist yet; its
   * names follow the User's. `created` says whether this call made it.
   */
  async ensure(u: TenantUserIdentity): Promise<{ account: TenantAccount; created: boolean }> {
    const id = tenantAccountId(u.tenant, u.email);
    const existing = await this.secret(id);
    const names = { firstName: b64((u.firstName ?? '').trim()), lastName: b64((u.lastName ?? '').trim()) };
    if (existing) {
      if (existing.data?.firstName !== names.firstName || existing.data?.lastName !== names.lastName || existing.data?.user !== b64(u.user)) {
        const patched = await this.client.patch<SecretObject>(Resources.Secret, existing.metadata.name, this.namespace, {
          metadata: { labels: { [TENANT_USER_LABEL]: tenantUserKey(u.tenant, u.user) } },
          data: { ...names, user: b64(u.user) },
        });
        return { account: toAccount(patched), created: false };
      }
      return { account: toAccount(existing), created: false };
    }
    const body: SecretObject = {
      metadata: {
        name: tenantAccountSecretName(id),
        namespace: this.namespace,
        labels: {
          'app.kubernetes.io/managed-by': 'miniapps-operator',
          [TENANT_ACCOUNT_LABEL]: 'true',
          [TENANT_USER_LABEL]: tenantUserKey(u.tenant, u.user),
          [TENANT_EMAIL_LABEL]: emailKey(u.email),
        },
      },
      type: TENANT_ACCOUNT_SECRET_TYPE,
      data: { tenant: b64(u.tenant), user: b64(u.user), email: b64(normalizeEmail(u.email)), ...names, nonce: b64(randomBytes(16).toString('base64url')) },
    };
    try {
      return { account: toAccount(await this.client.create<SecretObject>(Resources.Secret, body)), created: true };
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) return this.ensure(u);
      throw err;
    }
  }

  /**
   * Records that the set-password email is being sent, by compare-and-swap: true for the one
   * caller that recorded it (and so sends), false when it was recorded already.
   */
  async recordSetPasswordEmail(id: string, at: Date): Promise<boolean> {
    const s = await this.secret(id);
    if (!s || s.data?.setPasswordSentAt) return false;
    try {
      await this.client.replace(Resources.Secret, { ...s, data: { ...s.data, setPasswordSentAt: b64(at.toISOString()) } });
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) return false;
      throw err;
    }
  }

  /** Forgets the record of the set-password email (it could not be sent): the next reconcile sends it again. */
  async clearSetPasswordEmail(id: string): Promise<void> {
    const s = await this.secret(id);
    if (!s?.data?.setPasswordSentAt) return;
    const { setPasswordSentAt: _sent, ...data } = s.data;
    await this.client.replace(Resources.Secret, { ...s, data });
  }

  /** The account of `email` in the tenant whose password is `password`; undefined otherwise, in about the same time either way. */
  async authenticate(tenant: string, email: string, password: string): Promise<TenantAccount | undefined> {
    const s = await this.secret(tenantAccountId(tenant, email));
    const hash = s?.data?.passwordHash ? unb64(s.data.passwordHash) : undefined;
    if (!hash) {
      await verifyDecoy(password, this.kdf);
      return undefined;
    }
    return (await verifyPassword(password, hash)) ? toAccount(s!) : undefined;
  }

  /** Sets the password (through the set-password or reset link), and ends every session and refresh token of the account. */
  async setPassword(id: string, password: string): Promise<void> {
    await this.client.patch(Resources.Secret, tenantAccountSecretName(id), this.namespace, { data: { passwordHash: b64(await hashPassword(password, this.kdf)) } });
    await revokeAccount(this.client, this.namespace, id);
  }

  /** What a set-password or reset link carries: a digest of the password's hash, or before there is one of the account's nonce; the next password changes it. */
  async passwordFingerprint(id: string): Promise<string | undefined> {
    const s = await this.secret(id);
    const basis = s?.data?.passwordHash ?? (s?.data?.nonce ? `nonce:${s.data.nonce}` : undefined);
    return basis
      ? createHash('sha256')
          .update(unb64(basis) || basis)
          .digest('base64url')
          .slice(0, 22)
      : undefined;
  }

  /**
   * Deletes the accounts of the User (found by its namespace and name) and every session,
   * grant and token of them, but the one whose id is `keep` (the account of the User's current
   * email: the others were made for an email it no longer has); how many accounts.
   */
  async deleteForUser(tenant: string, user: string, keep?: string): Promise<number> {
    const list = await this.client.listAll<SecretObject>(Resources.Secret, { namespace: this.namespace, labelSelector: `${TENANT_ACCOUNT_LABEL},${TENANT_USER_LABEL}=${tenantUserKey(tenant, user)}` });
    const gone = list.items.filter((s) => s.metadata.name !== (keep && tenantAccountSecretName(keep)));
    for (const s of gone) {
      const id = s.metadata.name.replace(/^tenant-account-/, '');
      await revokeAccount(this.client, this.namespace, id);
      await this.client.delete(Resources.Secret, s.metadata.name, this.namespace);
      await revokeAccount(this.client, this.namespace, id);
    }
    return gone.length;
  }

  /**
   * The set-password link of the account at `issuer`: the provider's reset link
   * (/reset/confirm), signed with its current cookie key, working once until `expiresAtMs`.
   */
  async setPasswordLink(issuer: string, id: string, nowMs: number, expiresAtMs: number): Promise<string | undefined> {
    const fingerprint = await this.passwordFingerprint(id);
    if (!fingerprint) return undefined;
    // Loaded when a link is made: jose stays out of an operator that sends none.
    const { ensureKeys } = await import('./keys.ts');
    const keys = await ensureKeys(this.client, this.namespace, nowMs);
    return `${issuer.replace(/\/$/, '')}/reset/confirm?token=${resetToken(keys.cookieKeys[0]!, id, fingerprint, Math.floor(expiresAtMs / 1000))}`;
  }
}
