import { API_KEY_SECRET_KEY, API_KEY_SECRET_TYPE, ApiKeyConditions } from '../../api/constants.ts';
import type { ApiKey, ApiKeyStatus, Membership, Organization } from '../../api/index.ts';
import { Caches, Index, emailKey } from '../../domain/caches.ts';
import { userName } from '../../domain/rbac-types.ts';
import { isActiveMember } from '../../domain/members.ts';
import { needsApply } from '../../runtime/apply.ts';
import type { CacheReader } from '../../runtime/cache.ts';
import { keyOf } from '../../runtime/cache.ts';
import { rfc3339 } from '../../runtime/clock.ts';
import { conditionsFromChecks, replaceConditions } from '../../runtime/conditions.ts';
import type { ConditionInput } from '../../runtime/conditions.ts';
import type { ControllerSpec, ReconcileContext, ReconcileResult, Reconciler } from '../../runtime/controller.ts';
import { errorMessage, isAlreadyExists } from '../../runtime/errors.ts';
import type { AnyObject, ObjectBody } from '../../runtime/kube/client.ts';
import { Resources } from '../../runtime/kube/resource.ts';
import type { ControllerDeps } from '../deps.ts';
import { Kinds } from '../shared.ts';
import { generateKey, parseKey } from './key.ts';
import type { GeneratedKey } from './key.ts';
import { ApiKeyReasons, apiKeyChecks, issuedCheck, keyAccess, keyFields, keySecret, nextWake, ownerCheck, phaseOf, planKey, secretNameFor, validityCheck } from './logic.ts';
import type { IssuedKey, KeyFields } from './logic.ts';

type SecretObject = AnyObject & { type?: string; data?: Record<string, string> };

export interface ApiKeyOptions {
  /** Where keys come from (the platform's CSPRNG; a fixed source in tests only). */
  generate?: () => GeneratedKey;
}

/**
 * Issues, rotates and disables API keys. The protocol, so that a SIGKILL at any line
 * never yields two keys for one revision nor a status that points at a key nobody has:
 * the key of revision r is generated in memory and written as the immutable Secret
 * `<name>-r<r>` with create (never apply); if that Secret already exists (an earlier
 * attempt died after creating it), its key is reused and the fresh one dropped unseen.
 * Only then is the key recorded in status (its id and SHA-256, never the key), with a
 * compare-and-swap on the resourceVersion the decision was made from, so a stale cache
 * cannot write an older revision over a newer one.
 */
export class ApiKeyReconciler implements Reconciler {
  private readonly deps: ControllerDeps;
  private readonly keys: CacheReader<ApiKey>;
  private readonly roles: CacheReader<ObjectBody>;
  private readonly bindings: CacheReader<ObjectBody>;
  private readonly generate: () => GeneratedKey;

  constructor(deps: ControllerDeps, opts: ApiKeyOptions = {}) {
    this.deps = deps;
    this.keys = deps.caches.cache(Caches.apiKeys);
    this.roles = deps.caches.cache(Caches.ownedRoles);
    this.bindings = deps.caches.cache(Caches.ownedRoleBindings);
    this.generate = opts.generate ?? (() => generateKey());
  }

  async reconcile(key: string, _ctx?: ReconcileContext): Promise<ReconcileResult | void> {
    const k = this.keys.get(key);
    if (!k || k.metadata.deletionTimestamp) return; // the garbage collector removes its Secrets and RBAC
    const now = this.deps.clock.now();
    const { condition: valid, valid: isValid } = validityCheck(k, now);
    const owner = ownerCheck(k, this.deps.domain, this.deps.operatorNamespace);
    let plan = planKey(k, now, isValid && owner.status === 'True');
    // The current key's Secret deleted (by an administrator who suspected a leak, or by
    // mistake): nobody can read that key any longer, so a new revision replaces it at once
    // and the old key is refused from then on, as cert-manager reissues a certificate whose
    // Secret is gone. Looked at whenever the ApiKey is reconciled (its changes, the resync).
    const lostSecret = plan.kind === 'keep' && isValid && owner.status === 'True' && k.status?.secretName ? await this.secretMissing(k, k.status.secretName) : false;
    if (lostSecret) plan = { kind: 'issue', revision: (k.status!.rotationRevision ?? 0) + 1, rotation: true, lost: true };
    let issued: IssuedKey | undefined;
    let failure: ConditionInput | undefined;
    if (plan.kind === 'issue') {
      try {
        issued = await this.issue(k, plan.revision);
      } catch (err) {
        failure = { type: ApiKeyConditions.KeyIssued, status: 'False', reason: ApiKeyReasons.IssueFailed, message: `The key of revision ${plan.revision} could not be issued: ${errorMessage(err)}` };
        await this.writeStatus(k, keyFields(k, now), valid, owner, failure);
        this.deps.recorder.event(k, 'Warning', ApiKeyReasons.IssueFailed, failure.message);
        throw new Error(failure.message, { cause: err });
      }
    }
    const fields = keyFields(k, now, issued, { lost: plan.kind === 'issue' && plan.lost });
    if (fields.secretName) await this.grantOwner(k, fields);
    // A Secret that status names now and will not after this reconcile (a previous key whose
    // grace period ended, dropped now or replaced by a rotation, which comes only after that
    // end; the keys of a revoked ApiKey) goes before status stops naming it, so a kill in
    // between only repeats the delete, and no Secret is left behind.
    const kept = new Set([fields.secretName, fields.previousKey?.secretName]);
    for (const name of [k.status?.secretName, k.status?.previousKey?.secretName]) {
      if (name && !kept.has(name)) await this.deps.store.delete(Resources.Secret, name, k.metadata.namespace);
    }
    const written = await this.writeStatus(k, fields, valid, owner);
    // A rotation is news (the holder must pick up the new key); the first key is in status and KeyIssued.
    if (issued && written && plan.kind === 'issue' && plan.lost) {
      this.deps.recorder.event(k, 'Warning', ApiKeyReasons.KeySecretMissing, `Secret ${k.status?.secretName} of key ${k.status?.prefix} (revision ${k.status?.rotationRevision ?? 0}) is gone: that key is refused from now on, and key ${fields.prefix} (revision ${issued.revision}) is issued into Secret ${issued.secretName}`);
    } else if (issued && written && plan.kind === 'issue' && plan.rotation) {
      const grace = fields.previousKey ? `; the previous key ${fields.previousKey.keyId} works until ${fields.previousKey.validUntil}` : '';
      this.deps.recorder.event(k, 'Normal', ApiKeyReasons.KeyRotated, `Key ${fields.prefix} (revision ${issued.revision}) issued into Secret ${issued.secretName}${grace}`);
    }
    const after = nextWake(k, fields, now, isValid && owner.status === 'True');
    return after ? { requeueAfterMs: after } : undefined;
  }

  /** Whether the Secret status names is gone (read fresh: Secrets are not cached). */
  private async secretMissing(k: ApiKey, name: string): Promise<boolean> {
    return (await this.deps.store.get(Resources.Secret, name, k.metadata.namespace)) === undefined;
  }

  /**
   * The key of `revision`: created as its Secret, or the one an earlier attempt already
   * created (reused, never replaced).
   */
  private async issue(k: ApiKey, revision: number): Promise<IssuedKey> {
    const fresh = this.generate();
    const body = keySecret(k, revision, fresh);
    const name = body.metadata.name!;
    const namespace = k.metadata.namespace!;
    let secret: SecretObject;
    try {
      secret = await this.deps.store.create<SecretObject>(Resources.Secret, body);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      const existing = await this.deps.store.get<SecretObject>(Resources.Secret, name, namespace);
      if (!existing) throw new Error(`Secret ${name} existed a moment ago and is gone; trying again`, { cause: err });
      secret = existing;
    }
    return this.issuedFrom(k, secret, revision);
  }

  /** What the Secret holds, once it is checked to be this ApiKey's key of this revision. */
  private issuedFrom(k: ApiKey, secret: SecretObject, revision: number): IssuedKey {
    const name = secret.metadata.name!;
    if (!secret.metadata.ownerReferences?.some((r) => r.uid === k.metadata.uid && r.controller)) {
      throw new Error(`Secret ${name} exists but is owned by another object (a deleted ApiKey of the same name, whose Secret the garbage collector has not removed yet?); it is left alone`);
    }
    const raw = secret.data?.[API_KEY_SECRET_KEY];
    const parsed = raw ? parseKey(Buffer.from(raw, 'base64').toString('utf8')) : undefined;
    if (secret.type !== API_KEY_SECRET_TYPE || !parsed?.ok) throw new Error(`Secret ${name} does not hold an API key in ${API_KEY_SECRET_KEY}; it is left alone`);
    return {
      keyId: parsed.keyId,
      fingerprint: parsed.fingerprint,
      createdAt: secret.metadata.creationTimestamp ?? rfc3339(this.deps.clock.now()),
      secretName: secretNameFor(k.metadata.name, revision),
      revision,
    };
  }

  /** The owner's Role of this key (its Secrets by name) and its binding. */
  private async grantOwner(k: ApiKey, fields: KeyFields): Promise<void> {
    const secrets = [fields.secretName!, ...(fields.previousKey?.secretName ? [fields.previousKey.secretName] : [])];
    const access = keyAccess(k, secrets, this.deps.domain.settings());
    const { name, namespace } = access.role.metadata;
    const writes: Promise<unknown>[] = [];
    if (needsApply(this.roles.getByName(name, namespace), access.role, ['rules'])) writes.push(this.deps.store.apply(Resources.Role, access.role));
    if (needsApply(this.bindings.getByName(name, namespace), access.roleBinding, ['roleRef', 'subjects'])) writes.push(this.deps.store.apply(Resources.RoleBinding, access.roleBinding));
    await Promise.all(writes);
  }

  /**
   * Writes phase, the key fields and the whole condition set, with a compare-and-swap on
   * the version the decision was made from. Returns whether it wrote.
   */
  private async writeStatus(k: ApiKey, fields: KeyFields, valid: ConditionInput, owner: ConditionInput, failure?: ConditionInput): Promise<boolean> {
    const owners = userName(this.deps.domain.settings().userPrefix, k.spec.owner);
    const issued = failure ?? issuedCheck(fields, valid, owner, owners);
    const ready = fields.keyId
      ? { reason: ApiKeyReasons.Ready, message: `Key ${fields.prefix} is active${fields.expiresAt ? ` until ${fields.expiresAt}` : ''}` }
      : { reason: ApiKeyReasons.Ready, message: 'The key is active' };
    const conditions = conditionsFromChecks(apiKeyChecks(valid, owner, issued), ready);
    // Every field this field manager owns, even when unset now: a field left out of the
    // comparison would never be seen to go (server-side apply drops what is not sent).
    const status: ApiKeyStatus = {
      keyId: fields.keyId,
      prefix: fields.prefix,
      fingerprint: fields.fingerprint,
      createdAt: fields.createdAt,
      expiresAt: fields.expiresAt,
      rotationRevision: fields.rotationRevision,
      secretName: fields.secretName,
      previousKey: fields.previousKey,
      phase: phaseOf(k, valid, owner, fields),
      observedGeneration: k.metadata.generation,
      conditions: replaceConditions(k.status?.conditions, conditions, k.metadata.generation, this.deps.clock.now()),
    };
    const written = await this.deps.store.applyStatus(Kinds.ApiKey, k, status as Record<string, unknown>, { resourceVersion: k.metadata.resourceVersion });
    if (!written) return false;
    const before = k.status?.phase;
    if (status.phase !== before && status.phase !== 'Active' && status.phase !== 'Pending') {
      const why = conditions.find((c) => c.type === ApiKeyConditions.Ready)!;
      this.deps.recorder.event(k, 'Warning', why.reason, `The key is ${status.phase}: ${why.message}`);
    }
    return true;
  }
}

/** Whether a Membership change can change what its owner's keys may do. */
const memberStateChanged = (a: AnyObject, b: AnyObject) => {
  const x = a as Membership;
  const y = b as Membership;
  return isActiveMember(x) !== isActiveMember(y) || x.spec.role !== y.spec.role || !!x.metadata.deletionTimestamp !== !!y.metadata.deletionTimestamp;
};

export function apiKeyController(deps: ControllerDeps, opts: ApiKeyOptions = {}, concurrency?: number): ControllerSpec {
  const keys = deps.caches.cache(Caches.apiKeys);
  const inNamespace = (ns: string | undefined) => (ns ? keys.byIndex(Index.namespace, ns).map(keyOf) : []);
  return {
    name: 'apikey',
    for: Caches.apiKeys,
    owns: [Caches.ownedRoles, Caches.ownedRoleBindings],
    watches: [
      // A member's suspension, removal or acceptance enables or disables their keys.
      { cache: Caches.memberships, map: (o) => keys.byIndex(Index.email, emailKey(o.metadata.namespace!, (o as Membership).spec.email)).map(keyOf), changed: memberStateChanged },
      // An organization appearing, going, or having its namespace recorded.
      {
        cache: Caches.organizations,
        map: (o) => inNamespace((o as Organization).status?.namespace),
        changed: (a, b) => (a as Organization).status?.namespace !== (b as Organization).status?.namespace || !!b.metadata.deletionTimestamp !== !!a.metadata.deletionTimestamp,
      },
      // Provisioning administrators and userPrefix concern every key.
      { cache: Caches.platformConfigs, map: () => keys.list().map(keyOf), changed: (a, b) => a.metadata.generation !== b.metadata.generation },
    ],
    reconciler: new ApiKeyReconciler(deps, opts),
    concurrency,
  };
}
