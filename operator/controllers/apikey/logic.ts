// The ApiKey controller's pure parts: who the owner is to the platform, whether the key
// is still valid, which revision is due, what status says about it, and the Secret and
// RBAC that hold it. No clock, no randomness, no API: the reconciler hands in `now` and
// the Secret it found or made.
import { API_KEY_SECRET_KEY, API_KEY_SECRET_TYPE, ApiKeyConditions } from '../../api/apikey/names.ts';
import { GROUP } from '../../api/constants.ts';
import type { ApiKeyPhase } from '../../api/apikey/names.ts';
import type { ApiKey, ApiKeyStatus } from '../../api/apikey/schema.ts';
import type { Membership } from '../../api/membership/schema.ts';
import type { Organization } from '../../api/organization/schema.ts';
import { controllerRef } from '../../runtime/apply.ts';
import { rfc3339 } from '../../runtime/clock.ts';
import type { Check, ConditionInput } from '../../runtime/conditions.ts';
import { parseDuration } from '../../runtime/config.ts';
import type { ObjectBody } from '../../runtime/kube/client.ts';
import { isActiveMember } from '../../domain/members.ts';
import { RBAC_API_VERSION, RBAC_GROUP, shortHash, userSubject } from '../../domain/rbac-types.ts';
import type { RbacRole, RoleBinding } from '../../domain/rbac-types.ts';
import { ownedLabels } from '../../runtime/objects.ts';
import { prefixOf } from './key.ts';

export const ApiKeyReasons = {
  Ready: 'Ready',
  Valid: 'Valid',
  Revoked: 'Revoked',
  Expired: 'Expired',
  OwnerActive: 'OwnerActive',
  OwnerNotMember: 'OwnerNotMember',
  OwnerNotActive: 'OwnerNotActive',
  OwnerSuspended: 'OwnerSuspended',
  /** The owner's account (embedded identity provider) is suspended: no key of theirs works anywhere. */
  AccountSuspended: 'AccountSuspended',
  NotProvisioningAdministrator: 'NotProvisioningAdministrator',
  NotAnOrganizationNamespace: 'NotAnOrganizationNamespace',
  KeyIssued: 'KeyIssued',
  KeyRotated: 'KeyRotated',
  NotIssued: 'NotIssued',
  IssueFailed: 'IssueFailed',
  KeySecretMissing: 'KeySecretMissing',
  /** Status named a key or a Secret the operator did not record (seal.ts): ignored, reported. */
  StatusNotTrusted: 'StatusNotTrusted',
  /** The owner holds PlatformConfig spec.quotas.apiKeysPerOwner keys in the namespace already: no key is issued. */
  TooManyKeys: 'TooManyKeys',
} as const;

/** What the owner checks need to know of the platform (the Domain implements it). */
export interface OwnerLookup {
  organizationOf(namespace: string | undefined): Organization | undefined;
  memberByEmail(namespace: string, email: string): Membership | undefined;
  isProvisioningAdministrator(email: string): boolean;
  /** Whether the owner's account is suspended (suspension is of the account: every key stops). */
  isAccountSuspended?(email: string): boolean;
}

/** Why the owner may not hold a key here now, with what to do about it; undefined when they may. */
export interface OwnerProblem {
  reason: string;
  /** What is wrong and how to fix it, without saying what it does to the key. */
  problem: string;
}

/** Where the owner stands, without words: what verification asks at every call. */
export type OwnerStatus =
  | { may: true; as: 'member'; org: Organization; member: Membership }
  | { may: true; as: 'provisioner'; org?: Organization }
  | { may: false; as: 'notProvisioner' | 'noOrganization' | 'accountSuspended' }
  | { may: false; as: 'suspended' | 'notActive' | 'notMember'; org: Organization };

/**
 * Whether the owner may hold a key here now: in an organization's namespace an active
 * member of that organization or a provisioning administrator; in the operator's own
 * namespace a provisioning administrator only; anywhere else nobody.
 */
export function ownerStatus(k: ApiKey, lookup: OwnerLookup, operatorNamespace: string): OwnerStatus {
  const owner = k.spec.owner;
  const ns = k.metadata.namespace!;
  if (lookup.isAccountSuspended?.(owner)) return { may: false, as: 'accountSuspended' };
  if (ns === operatorNamespace) return lookup.isProvisioningAdministrator(owner) ? { may: true, as: 'provisioner' } : { may: false, as: 'notProvisioner' };
  const org = lookup.organizationOf(ns);
  if (!org) return { may: false, as: 'noOrganization' };
  const m = lookup.memberByEmail(ns, owner);
  if (m && isActiveMember(m)) return { may: true, as: 'member', org, member: m };
  if (lookup.isProvisioningAdministrator(owner)) return { may: true, as: 'provisioner', org };
  if (m?.spec.suspended) return { may: false, as: 'suspended', org };
  return { may: false, as: m ? 'notActive' : 'notMember', org };
}

/** The owner's standing in words: who they are to the platform, or what is wrong and how to fix it. */
export function ownerStanding(k: ApiKey, lookup: OwnerLookup, operatorNamespace: string): { ok: true; who: string } | ({ ok: false } & OwnerProblem) {
  const owner = k.spec.owner;
  const ns = k.metadata.namespace!;
  const st = ownerStatus(k, lookup, operatorNamespace);
  const no = (reason: string, problem: string) => ({ ok: false as const, reason, problem });
  const only = 'a key can be held only by an active member of the organization or a provisioning administrator';
  switch (st.as) {
    case 'member':
      return { ok: true, who: `${owner} is an active ${st.member.spec.role} of Organization ${st.org.metadata.name}` };
    case 'provisioner':
      return { ok: true, who: `${owner} is a provisioning administrator` };
    case 'notProvisioner':
      return no(
        ApiKeyReasons.NotProvisioningAdministrator,
        `${owner} is not a provisioning administrator (PlatformConfig spec.provisioningAdministrators.users), and keys in namespace ${ns} are for provisioning administrators only`,
      );
    case 'accountSuspended':
      return no(ApiKeyReasons.AccountSuspended, `the account of ${owner} is suspended: a suspended account holds no working key, in any organization, until the suspension is lifted`);
    case 'noOrganization':
      return no(
        ApiKeyReasons.NotAnOrganizationNamespace,
        `namespace ${ns} belongs to no Organization: create ApiKeys in an organization's namespace, or in ${operatorNamespace} for provisioning administrators`,
      );
    case 'suspended':
      return no(ApiKeyReasons.OwnerSuspended, `${owner} is suspended in Organization ${st.org.metadata.name} (${only})`);
    case 'notActive':
      return no(ApiKeyReasons.OwnerNotActive, `${owner} has not accepted the invitation to Organization ${st.org.metadata.name} yet (${only})`);
    case 'notMember':
      return no(ApiKeyReasons.OwnerNotMember, `${owner} is not a member of Organization ${st.org.metadata.name} (${only}); add a Membership for ${owner}, or create the key for a member`);
  }
}

/** OwnerActive: the owner may hold the key now, or why the key is disabled. */
export function ownerCheck(k: ApiKey, lookup: OwnerLookup, operatorNamespace: string): ConditionInput {
  const type = ApiKeyConditions.OwnerActive;
  const standing = ownerStanding(k, lookup, operatorNamespace);
  if (standing.ok) return { type, status: 'True', reason: ApiKeyReasons.OwnerActive, message: standing.who };
  return { type, status: 'False', reason: standing.reason, message: `The key is disabled: ${standing.problem}` };
}

/** When the key stops working: spec.expiresAt, or the ApiKey's creation plus spec.ttl. */
export function expiryOf(k: ApiKey): Date | undefined {
  if (k.spec.expiresAt) return new Date(k.spec.expiresAt);
  const ttl = k.spec.ttl ? parseDuration(k.spec.ttl) : undefined;
  if (ttl === undefined || !k.metadata.creationTimestamp) return undefined;
  return new Date(Date.parse(k.metadata.creationTimestamp) + ttl);
}

/** Not revoked and not expired (the first check of the readiness chain). */
export function validityCheck(k: ApiKey, now: Date): { condition: ConditionInput; valid: boolean } {
  const type = ApiKeyConditions.KeyValid;
  if (k.spec.revoked) {
    return { valid: false, condition: { type, status: 'False', reason: ApiKeyReasons.Revoked, message: 'The key is revoked (spec.revoked) and refused for good; create a new ApiKey for a new key' } };
  }
  const expiry = expiryOf(k);
  if (expiry && expiry.getTime() <= now.getTime()) {
    return {
      valid: false,
      condition: {
        type,
        status: 'False',
        reason: ApiKeyReasons.Expired,
        message: `The key expired at ${rfc3339(expiry)} and is refused; set a later spec.expiresAt (or a longer spec.ttl), or create a new ApiKey`,
      },
    };
  }
  return { valid: true, condition: { type, status: 'True', reason: ApiKeyReasons.Valid, message: expiry ? `The key is valid until ${rfc3339(expiry)}` : 'The key is valid' } };
}

const durationMs = (d: string | undefined): number => (d ? (parseDuration(d) ?? 0) : 0);

/** When the current key is due to be replaced, with rotation. */
export function rotationDue(k: ApiKey): Date | undefined {
  const s = k.status;
  if (!k.spec.rotation || !s?.keyId || !s.createdAt) return undefined;
  return new Date(Date.parse(s.createdAt) + durationMs(k.spec.rotation.period));
}

/** `lost`: the current key's Secret is gone, so the next revision replaces it at once, with no grace period for the old key. */
export type KeyPlan = { kind: 'keep' } | { kind: 'issue'; revision: number; rotation: boolean; lost?: boolean };

/** Which key to issue now, if any: the first one, or the next revision when rotation is due. Only while issuing is allowed. */
export function planKey(k: ApiKey, now: Date, mayIssue: boolean): KeyPlan {
  if (!mayIssue) return { kind: 'keep' };
  const s = k.status;
  if (!s?.keyId) return { kind: 'issue', revision: 0, rotation: false };
  const due = rotationDue(k);
  if (due && due.getTime() <= now.getTime()) return { kind: 'issue', revision: (s.rotationRevision ?? 0) + 1, rotation: true };
  return { kind: 'keep' };
}

/** A key as its Secret holds it: what status records of it. */
export interface IssuedKey {
  keyId: string;
  fingerprint: string;
  /** When its Secret was created (RFC 3339). */
  createdAt: string;
  secretName: string;
  revision: number;
}

/** The status fields that describe the key (the rest are phase and conditions). */
export type KeyFields = Pick<ApiKeyStatus, 'keyId' | 'prefix' | 'fingerprint' | 'createdAt' | 'expiresAt' | 'rotationRevision' | 'secretName' | 'previousKey'>;

/**
 * The key fields after this reconcile: those of the key just issued (with the replaced
 * key as previousKey while its grace period lasts), or those already recorded (a previous
 * key whose grace period ended is dropped).
 */
export function keyFields(k: ApiKey, now: Date, issued?: IssuedKey, opts: { lost?: boolean } = {}): KeyFields {
  const s = k.status ?? {};
  const expiry = expiryOf(k);
  const expiresAt = expiry ? rfc3339(expiry) : undefined;
  if (!issued) {
    if (!s.keyId) return expiresAt ? { expiresAt } : {};
    // Revoked is for good (a CRD rule): nothing will ever accept its keys again, so no
    // Secret holds them any longer; status keeps what identifies the key, for audits.
    if (k.spec.revoked) return strip({ keyId: s.keyId, prefix: s.prefix, fingerprint: s.fingerprint, createdAt: s.createdAt, expiresAt, rotationRevision: s.rotationRevision });
    const previous = s.previousKey && Date.parse(s.previousKey.validUntil) > now.getTime() ? s.previousKey : undefined;
    return strip({
      keyId: s.keyId,
      prefix: s.prefix,
      fingerprint: s.fingerprint,
      createdAt: s.createdAt,
      expiresAt,
      rotationRevision: s.rotationRevision,
      secretName: s.secretName,
      previousKey: previous,
    });
  }
  let previousKey: KeyFields['previousKey'];
  if (s.keyId && s.fingerprint && (s.rotationRevision ?? 0) < issued.revision && !opts.lost) {
    // The previous key works for the grace period after the new one took over: from the
    // rotation's due time, or the new key's creation if that came later. It is recorded
    // even without a grace period (valid until the rotation): its Secret is deleted when
    // the next reconcile drops it, never before the new key is recorded.
    const due = rotationDue(k)?.getTime() ?? Date.parse(issued.createdAt);
    const validUntil = Math.max(due, Date.parse(issued.createdAt)) + durationMs(k.spec.rotation?.gracePeriod);
    previousKey = strip({ keyId: s.keyId, fingerprint: s.fingerprint, secretName: s.secretName, validUntil: rfc3339(new Date(validUntil)) }) as KeyFields['previousKey'];
  }
  return strip({
    keyId: issued.keyId,
    prefix: prefixOf(issued.keyId),
    fingerprint: issued.fingerprint,
    createdAt: issued.createdAt,
    expiresAt,
    rotationRevision: issued.revision,
    secretName: issued.secretName,
    previousKey,
  });
}

function strip<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** What verification answers for the current key, in one word. */
export function phaseOf(_k: ApiKey, valid: ConditionInput, owner: ConditionInput, fields: KeyFields): ApiKeyPhase {
  if (valid.reason === ApiKeyReasons.Revoked) return 'Revoked';
  if (valid.reason === ApiKeyReasons.Expired) return 'Expired';
  if (owner.status !== 'True') return 'Disabled';
  return fields.keyId ? 'Active' : 'Pending';
}

/** KeyIssued: the current revision's key is in its Secret and recorded, or why not. */
export function issuedCheck(fields: KeyFields, valid: ConditionInput, owner: ConditionInput, owners: string): ConditionInput {
  const type = ApiKeyConditions.KeyIssued;
  if (fields.keyId && !fields.secretName) {
    return {
      type,
      status: 'False',
      reason: ApiKeyReasons.Revoked,
      message: `Key ${fields.prefix} (revision ${fields.rotationRevision ?? 0}) was revoked and its Secret deleted; create a new ApiKey for a new key`,
    };
  }
  if (fields.keyId) {
    return {
      type,
      status: 'True',
      reason: ApiKeyReasons.KeyIssued,
      message: `Key ${fields.prefix} (revision ${fields.rotationRevision ?? 0}) is in Secret ${fields.secretName}, readable by ${owners} only`,
    };
  }
  const why = valid.status !== 'True' ? valid.message : owner.message;
  return { type, status: 'False', reason: ApiKeyReasons.NotIssued, message: `No key is issued: ${why}` };
}

/** The readiness chain: KeyValid (Stalled: revoked, expired), OwnerActive, KeyIssued. */
export function apiKeyChecks(valid: ConditionInput, owner: ConditionInput, issued: ConditionInput): Check[] {
  return [
    { condition: valid, gatesReady: true, stalled: valid.status !== 'True' },
    { condition: owner, gatesReady: true },
    { condition: issued, gatesReady: true },
  ];
}

/** Longest requeue: timers of weeks would overflow setTimeout; the key is looked at again then anyway. */
export const MAX_WAKE_MS = 12 * 3_600_000;

/** How long until something about the key changes by itself (expiry, rotation, end of a grace period), if ever. */
export function nextWake(k: ApiKey, fields: KeyFields, now: Date, active: boolean): number | undefined {
  const times: number[] = [];
  const expiry = expiryOf(k);
  if (expiry) times.push(expiry.getTime());
  if (fields.previousKey) times.push(Date.parse(fields.previousKey.validUntil));
  if (active && k.spec.rotation && fields.createdAt) times.push(Date.parse(fields.createdAt) + durationMs(k.spec.rotation.period));
  // A previous key past its grace period is dropped (and its Secret deleted) by the next reconcile.
  if (fields.previousKey && Date.parse(fields.previousKey.validUntil) <= now.getTime()) return 100;
  const future = times.filter((t) => t > now.getTime());
  if (future.length === 0) return undefined;
  // A little after the second: verification refuses from that instant on, status follows.
  return Math.min(Math.min(...future) - now.getTime() + 50, MAX_WAKE_MS);
}

const MAX_NAME = 253;
/** `base` + `suffix`, with base cut and followed by a hash of itself when the whole would exceed an object name. */
function fitName(base: string, suffix: string): string {
  if (base.length + suffix.length <= MAX_NAME) return base + suffix;
  return `${base.slice(0, MAX_NAME - suffix.length - 17)}-${shortHash(base)}${suffix}`;
}

/** The Secret of a key revision: `<apikey>-r<revision>`. */
export const secretNameFor = (name: string, revision: number): string => fitName(name, `-r${revision}`);

/** The Role (and RoleBinding) that give the owner their key: `miniapps:apikey:<apikey>`. */
export const keyRoleName = (name: string): string => fitName(`miniapps:apikey:${name}`, '');

/** Annotations of a key's Secret (not secret: they say which key it holds). */
export const SecretAnnotations = { keyId: `${GROUP}/key-id`, revision: `${GROUP}/revision` } as const;

/**
 * The Secret holding one revision of the key: immutable (a revision's key is never
 * replaced), owned by the ApiKey, typed so that it is recognised as an API key.
 */
export function keySecret(k: ApiKey, revision: number, key: { token: string; keyId: string }): ObjectBody {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: API_KEY_SECRET_TYPE,
    immutable: true,
    metadata: {
      name: secretNameFor(k.metadata.name, revision),
      namespace: k.metadata.namespace,
      labels: ownedLabels('ApiKey', k.metadata.name),
      annotations: { [SecretAnnotations.keyId]: key.keyId, [SecretAnnotations.revision]: String(revision) },
      ownerReferences: [controllerRef(k)],
    },
    data: { [API_KEY_SECRET_KEY]: Buffer.from(key.token, 'utf8').toString('base64') },
  };
}

/**
 * What the owner is given: a Role of this key alone (get, watch, update, patch, delete of
 * the ApiKey by name, get of its status, get and watch of the Secrets of its current and
 * previous key by name) and a RoleBinding of it to the owner's Kubernetes user. Owned by
 * the ApiKey. So a member who is not an administrator sees and manages their own keys,
 * and nothing else holds the key.
 */
export function keyAccess(k: ApiKey, secretNames: string[], settings: { userPrefix: string }): { role: RbacRole; roleBinding: RoleBinding } {
  const name = keyRoleName(k.metadata.name);
  const namespace = k.metadata.namespace!;
  const metadata = () => ({ name, namespace, labels: ownedLabels('ApiKey', k.metadata.name), ownerReferences: [controllerRef(k)] });
  const names = [k.metadata.name];
  return {
    role: {
      apiVersion: RBAC_API_VERSION,
      kind: 'Role',
      metadata: metadata(),
      rules: [
        { apiGroups: [GROUP], resources: ['apikeys'], verbs: ['get', 'watch', 'update', 'patch', 'delete'], resourceNames: names },
        { apiGroups: [GROUP], resources: ['apikeys/status'], verbs: ['get'], resourceNames: names },
        ...(secretNames.length ? [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'watch'], resourceNames: [...new Set(secretNames)].sort() }] : []),
      ],
    },
    roleBinding: {
      apiVersion: RBAC_API_VERSION,
      kind: 'RoleBinding',
      metadata: metadata(),
      roleRef: { apiGroup: RBAC_GROUP, kind: 'Role', name },
      subjects: [userSubject(settings.userPrefix, k.spec.owner)],
    },
  };
}

/**
 * What the expiry gauges say of an ApiKey (epoch ms): when it expires and when its current
 * key is due to be replaced, for an Active key only (a revoked, expired or disabled key
 * neither expires again nor rotates; its status says why). Rotation replaces the key, not
 * the ApiKey's expiry.
 */
export function keyTimes(k: ApiKey, now: Date): { expiresAt?: number; rotatesAt?: number } | undefined {
  if (k.status?.phase !== 'Active' || k.spec.revoked || k.metadata.deletionTimestamp) return undefined;
  const expiresAt = expiryOf(k)?.getTime();
  if (expiresAt !== undefined && expiresAt <= now.getTime()) return undefined;
  const rotatesAt = rotationDue(k)?.getTime();
  if (expiresAt === undefined && rotatesAt === undefined) return undefined;
  // A rotation due after the expiry never happens: the key ends first.
  return { expiresAt, rotatesAt: rotatesAt !== undefined && (expiresAt === undefined || rotatesAt < expiresAt) ? rotatesAt : undefined };
}
