import { isDeepStrictEqual } from 'node:util';
import { ApiKeyConditions } from '../../api/apikey/names.ts';
import type { ApiKey, ApiKeyStatus } from '../../api/apikey/schema.ts';
import type { Membership } from '../../api/membership/schema.ts';
import type { Organization } from '../../api/organization/schema.ts';
import { lowerAscii } from '../../api/constants.ts';
import { Caches, Index, accountEmail, accountSuspended, emailKey } from '../../domain/caches.ts';
import type { AccountEntry } from '../../domain/caches.ts';
import { userName } from '../../domain/rbac-types.ts';
import { isActiveMember } from '../../domain/members.ts';
import { needsApply } from '../../runtime/apply.ts';
import type { CacheReader } from '../../runtime/cache.ts';
import { keyOf } from '../../runtime/cache.ts';
import { rfc3339 } from '../../runtime/clock.ts';
import { conditionsFromChecks } from '../../runtime/conditions.ts';
import type { ConditionInput } from '../../runtime/conditions.ts';
import type { ControllerSpec, ReconcileContext, ReconcileResult, Reconciler } from '../../runtime/controller.ts';
import { errorMessage, isAlreadyExists } from '../../runtime/errors.ts';
import type { AnyObject, ObjectBody } from '../../runtime/kube/client.ts';
import { Resources } from '../../runtime/kube/resource.ts';
import type { ControllerDeps } from '../deps.ts';
import { Kinds } from '../../api/registry.ts';
import { generateKey } from './key.ts';
import type { GeneratedKey } from './key.ts';
import { ApiKeyReasons, apiKeyChecks, issuedCheck, keyAccess, keyFields, keySecret, nextWake, ownerCheck, phaseOf, planKey, secretNameFor, validityCheck } from './logic.ts';
import type { IssuedKey, KeyFields } from './logic.ts';
import { SECRET_SEAL_ANNOTATION, secretKey } from './seal.ts';
import type { KeySeal } from './seal.ts';
import { writeStatus } from '../../runtime/status.ts';

type SecretObject = AnyObject & { type?: string; data?: Record<string, string> };

export interface ApiKeyOptions {
  /** Where keys come from (the platform's CSPRNG; a fixed source in tests only). */
  generate?: () => GeneratedKey;
  /** Seals what status records of each key, and tells a record of the operator's own from one someone else wrote (seal.ts). */
  seal: KeySeal;
}

/** The status fields that record a key: what a record the operator did not write may have put there. */
const KEY_RECORD_FIELDS = ['keyId', 'prefix', 'fingerprint', 'createdAt', 'rotationRevision', 'secretName', 'previousKey', 'seal'] as const;

/** What a reconcile learned of a Secret status names: this ApiKey's own (made by the operator for it: seal.ts secretKey), missing, or someone else's. */
type SecretState = { state: 'owned'; secret: SecretObject; key: { keyId: string; fingerprint: string } } | { state: 'missing' } | { state: 'foreign'; why: string };

/** Status as the operator may believe it: key records it sealed (or proves from the ApiKey's own Secret); what it ignored, and from which revision to go on. */
interface Trusted {
  k: ApiKey;
  ignored: string[];
  /** The current key's record was not believed: issue the next revision after this one. */
  reissueAfter?: number;
}

/**
 * Issues, rotates and disables API keys. The protocol, so that a SIGKILL at any line
 * never yields two keys for one revision nor a status that points at a key nobody has:
 * the key of revision r is generated in memory and written as the immutable Secret
 * `<name>-r<r>` with create (never apply); if that Secret already exists (an earlier
 * attempt died after creating it), its key is reused and the fresh one dropped unseen.
 * Only then is the key recorded in status (its id and SHA-256, never the key), sealed
 * with the operator's HMAC (seal.ts), with a compare-and-swap on the resourceVersion the
 * decision was made from, so a stale cache cannot write an older revision over a newer
 * one. It takes no authority from status: a record it did not seal is believed only when
 * the Secret it names is this ApiKey's own and holds that very key, and a Secret is
 * granted to the owner or deleted only when this ApiKey owns it.
 */
export class ApiKeyReconciler implements Reconciler {
  private readonly deps: ControllerDeps;
  private readonly keys: CacheReader<ApiKey>;
  private readonly roles: CacheReader<ObjectBody>;
  private readonly bindings: CacheReader<ObjectBody>;
  private readonly generate: () => GeneratedKey;
  private readonly seal: KeySeal;

  constructor(deps: ControllerDeps, opts: ApiKeyOptions) {
    this.deps = deps;
    this.keys = deps.caches.cache(Caches.apiKeys);
    this.roles = deps.caches.cache(Caches.ownedRoles);
    this.bindings = deps.caches.cache(Caches.ownedRoleBindings);
    this.generate = opts.generate ?? (() => generateKey());
    this.seal = opts.seal;
  }

  async reconcile(key: string, ctx?: ReconcileContext): Promise<ReconcileResult | void> {
    const log = ctx?.log ?? this.deps.log.child({ controller: 'apikey', key });
    const raw = this.keys.get(key);
    if (!raw || raw.metadata.deletionTimestamp) return; // the garbage collector removes its Secrets and RBAC
    const now = this.deps.clock.now();
    const secrets = new Map<string, Promise<SecretState>>();
    const secretState = (name: string) => {
      let p = secrets.get(name);
      if (!p) secrets.set(name, (p = this.secretState(raw, name)));
      return p;
    };
    const { k, ignored, reissueAfter } = await this.trusted(raw, secretState);
    const { condition: valid, valid: isValid } = validityCheck(k, now);
    let owner = ownerCheck(k, this.deps.domain, this.deps.operatorNamespace);
    // The per-owner cap stops new keys; a key already issued keeps working.
    if (owner.status === 'True' && !k.status?.keyId) owner = this.keyLimit(k) ?? owner;
    const mayIssue = isValid && owner.status === 'True';
    let plan = planKey(k, now, mayIssue);
    if (mayIssue && reissueAfter !== undefined) plan = { kind: 'issue', revision: reissueAfter + 1, rotation: true, lost: true };
    // The current key's Secret deleted (by an administrator who suspected a leak, or by
    // mistake): nobody can read that key any longer, so a new revision replaces it at once
    // and the old key is refused from then on, as cert-manager reissues a certificate whose
    // Secret is gone. Looked at whenever the ApiKey is reconciled (its changes, the resync).
    // A Secret of that name that is not this ApiKey's own is never handed out: replaced too.
    if (plan.kind === 'keep' && mayIssue && k.status?.secretName) {
      const st = await secretState(k.status.secretName);
      if (st.state === 'foreign') ignored.push(`Secret ${k.status.secretName}, which is not this ApiKey's own (${st.why})`);
      if (st.state !== 'owned') plan = { kind: 'issue', revision: (k.status.rotationRevision ?? 0) + 1, rotation: true, lost: true };
    }
    if (ignored.length) {
      const message = `Status named ${ignored.join(' and ')}, which the operator did not record: ignored (nothing is granted, deleted or verified from it)${plan.kind === 'issue' && plan.lost ? '; a new key is issued' : ''}`;
      log.warn({ ignored }, 'Ignored a status the operator did not write');
      this.deps.recorder.event(k, 'Warning', ApiKeyReasons.StatusNotTrusted, message);
    }
    let issued: IssuedKey | undefined;
    let failure: ConditionInput | undefined;
    if (plan.kind === 'issue') {
      try {
        issued = await this.issue(k, plan.revision);
      } catch (err) {
        failure = { type: ApiKeyConditions.KeyIssued, status: 'False', reason: ApiKeyReasons.IssueFailed, message: `The key of revision ${plan.revision} could not be issued: ${errorMessage(err)}` };
        const kept = keyFields(k, now);
        await this.deleteDropped(k, kept, secretState);
        await this.writeStatus(k, kept, valid, owner, failure);
        this.deps.recorder.event(k, 'Warning', ApiKeyReasons.IssueFailed, failure.message);
        throw new Error(failure.message, { cause: err });
      }
    }
    const fields = keyFields(k, now, issued, { lost: plan.kind === 'issue' && plan.lost });
    if (fields.secretName) await this.grantOwner(k, fields, secretState);
    await this.deleteDropped(k, fields, secretState);
    const written = await this.writeStatus(k, fields, valid, owner, undefined, ignored.length ? raw : undefined);
    // A rotation is news (the holder must pick up the new key); the first key is in status and KeyIssued.
    if (issued && written && plan.kind === 'issue' && plan.lost) {
      this.deps.recorder.event(
        k,
        'Warning',
        ApiKeyReasons.KeySecretMissing,
        `Secret ${raw.status?.secretName} of key ${raw.status?.prefix} (revision ${raw.status?.rotationRevision ?? 0}) is gone, not this ApiKey's own, or not recorded by the operator: that key is refused from now on, and key ${fields.prefix} (revision ${issued.revision}) is issued into Secret ${issued.secretName}`,
      );
    } else if (issued && written && plan.kind === 'issue' && plan.rotation) {
      const grace = fields.previousKey ? `; the previous key ${fields.previousKey.keyId} works until ${fields.previousKey.validUntil}` : '';
      this.deps.recorder.event(k, 'Normal', ApiKeyReasons.KeyRotated, `Key ${fields.prefix} (revision ${issued.revision}) issued into Secret ${issued.secretName}${grace}`);
    }
    const after = nextWake(k, fields, now, isValid && owner.status === 'True');
    return after ? { requeueAfterMs: after } : undefined;
  }

  /**
   * A Secret that status names now and will not once `fields` are written (a previous key
   * whose grace period ended, dropped now or replaced by a rotation, which comes only after
   * that end; the keys of a revoked ApiKey) goes before status stops naming it, so a kill in
   * between only repeats the delete, and no Secret is left behind. Every status write calls
   * it, the failed issue's too (which drops an ended grace: its Secret was once left behind,
   * named by nothing). Only this ApiKey's own.
   */
  private async deleteDropped(k: ApiKey, fields: KeyFields, secretState: (name: string) => Promise<SecretState>): Promise<void> {
    const kept = new Set([fields.secretName, fields.previousKey?.secretName]);
    for (const name of [k.status?.secretName, k.status?.previousKey?.secretName]) {
      if (!name || kept.has(name)) continue;
      const st = await secretState(name);
      if (st.state === 'owned') await this.deps.store.delete(Resources.Secret, name, k.metadata.namespace, { uid: st.secret.metadata.uid });
    }
  }

  /**
   * Status with only the key records the operator may believe: sealed by it, or (a record
   * from before seals existed, or a seal key made anew) proven by the Secret it names,
   * which must be this ApiKey's own and hold that very key. A revoked key's record is kept
   * as it is, for audits: nothing verifies or grants a revoked key, and its Secrets are
   * deleted only when this ApiKey owns them.
   */
  private async trusted(k: ApiKey, secretState: (name: string) => Promise<SecretState>): Promise<Trusted> {
    const s = k.status;
    if (!s || k.spec.revoked) return { k, ignored: [] };
    const ignored: string[] = [];
    let status: ApiKeyStatus = s;
    let reissueAfter: number | undefined;
    const proven = async (keyId: string, fingerprint: string | undefined, name: string | undefined) => {
      if (!name) return false;
      const st = await secretState(name);
      return st.state === 'owned' && st.key.keyId === keyId && st.key.fingerprint === fingerprint;
    };
    if (s.keyId && !this.seal.currentHolds(k) && !(await proven(s.keyId, s.fingerprint, s.secretName))) {
      ignored.push(`key ${s.keyId} in Secret ${s.secretName ?? '(none)'}`);
      const { keyId: _i, prefix: _p, fingerprint: _f, createdAt: _c, secretName: _n, seal: _s, ...rest } = status;
      status = rest;
      reissueAfter = s.rotationRevision ?? 0;
    }
    const prev = s.previousKey;
    if (prev && !this.seal.previousHolds(k) && !(await proven(prev.keyId, prev.fingerprint, prev.secretName))) {
      ignored.push(`previous key ${prev.keyId} in Secret ${prev.secretName ?? '(none)'}`);
      const { previousKey: _x, ...rest } = status;
      status = rest;
    }
    return { k: status === s ? k : { ...k, status }, ignored, reissueAfter };
  }

  /** The Secret `name` of the ApiKey's namespace, as this reconcile found it (read fresh: Secrets are not cached). */
  private async secretState(k: ApiKey, name: string): Promise<SecretState> {
    const secret = await this.deps.store.get<SecretObject>(Resources.Secret, name, k.metadata.namespace);
    if (!secret) return { state: 'missing' };
    const held = secretKey(this.seal, k, secret);
    return held.own ? { state: 'owned', secret, key: held } : { state: 'foreign', why: held.why };
  }

  /**
   * OwnerActive False (TooManyKeys) for a key not issued yet whose owner already holds
   * PlatformConfig spec.quotas.apiKeysPerOwner keys in the namespace (the oldest count
   * first); undefined when it is within the cap.
   */
  private keyLimit(k: ApiKey): ConditionInput | undefined {
    const limit = this.deps.domain.settings().quotas.apiKeysPerOwner;
    const mine = this.keys.byIndex(Index.email, emailKey(k.metadata.namespace!, k.spec.owner)).filter((o) => !o.metadata.deletionTimestamp);
    const ahead = keysAhead(k, mine);
    if (ahead < limit) return undefined;
    return {
      type: ApiKeyConditions.OwnerActive,
      status: 'False',
      reason: ApiKeyReasons.TooManyKeys,
      message: `No key is issued: ${k.spec.owner} already holds ${ahead} ApiKeys in namespace ${k.metadata.namespace}, and the limit is ${limit} (PlatformConfig spec.quotas.apiKeysPerOwner); delete one of them, or ask a provisioning administrator to raise the limit`,
    };
  }

  /**
   * The key of `revision`: created as its Secret, or the one an earlier attempt already
   * created (reused, never replaced).
   */
  private async issue(k: ApiKey, revision: number): Promise<IssuedKey> {
    const fresh = this.generate();
    const body = keySecret(k, revision, fresh);
    body.metadata.annotations = { ...body.metadata.annotations, [SECRET_SEAL_ANNOTATION]: this.seal.secret(k, { revision, keyId: fresh.keyId, fingerprint: fresh.fingerprint }) };
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

  /** What the Secret holds, once it is checked to be this ApiKey's key of this revision, made by the operator. */
  private issuedFrom(k: ApiKey, secret: SecretObject, revision: number): IssuedKey {
    const held = secretKey(this.seal, k, secret);
    if (!held.own)
      throw new Error(
        `${held.why} (a deleted ApiKey of the same name, whose Secret the garbage collector has not removed yet, or a Secret someone else made); it is left alone, and no key is issued from it`,
      );
    return {
      keyId: held.keyId,
      fingerprint: held.fingerprint,
      createdAt: secret.metadata.creationTimestamp ?? rfc3339(this.deps.clock.now()),
      secretName: secretNameFor(k.metadata.name, revision),
      revision,
    };
  }

  /** The owner's Role of this key (its Secrets by name, only those this ApiKey owns) and its binding. */
  private async grantOwner(k: ApiKey, fields: KeyFields, secretState: (name: string) => Promise<SecretState>): Promise<void> {
    const named = [fields.secretName!, ...(fields.previousKey?.secretName ? [fields.previousKey.secretName] : [])];
    const states = await Promise.all(named.map(secretState));
    const secrets = named.filter((_, i) => states[i]!.state === 'owned');
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
  private async writeStatus(k: ApiKey, fields: KeyFields, valid: ConditionInput, owner: ConditionInput, failure?: ConditionInput, untrusted?: ApiKey): Promise<boolean> {
    const owners = userName(this.deps.domain.settings().userPrefix, k.spec.owner);
    const issued = failure ?? issuedCheck(fields, valid, owner, owners);
    const ready = fields.keyId
      ? { reason: ApiKeyReasons.Ready, message: `Key ${fields.prefix} is active${fields.expiresAt ? ` until ${fields.expiresAt}` : ''}` }
      : { reason: ApiKeyReasons.Ready, message: 'The key is active' };
    const conditions = conditionsFromChecks(apiKeyChecks(valid, owner, issued), ready);
    // Every field this field manager owns, even when unset now: a field left out of the
    // comparison would never be seen to go (server-side apply drops what is not sent).
    const previousKey = fields.previousKey ? { ...fields.previousKey, seal: this.seal.previous(k, fields.previousKey) } : undefined;
    const keyStatus: Omit<ApiKeyStatus, 'observedGeneration' | 'conditions'> = {
      seal: fields.keyId ? this.seal.current(k, fields) : undefined,
      keyId: fields.keyId,
      prefix: fields.prefix,
      fingerprint: fields.fingerprint,
      createdAt: fields.createdAt,
      expiresAt: fields.expiresAt,
      rotationRevision: fields.rotationRevision,
      secretName: fields.secretName,
      previousKey,
      phase: phaseOf(k, valid, owner, fields),
    };
    const written = await writeStatus(this.deps, Kinds.ApiKey, k, {
      fields: keyStatus,
      conditions,
      target: untrusted ?? k,
      resourceVersion: k.metadata.resourceVersion,
      // A key that stops working says why, once (when its phase changes to one that does not verify).
      warn: () => {
        const phase = keyStatus.phase;
        if (phase === k.status?.phase || phase === 'Active' || phase === 'Pending') return [];
        const why = conditions.find((c) => c.type === ApiKeyConditions.Ready)!;
        return [{ reason: why.reason, message: `The key is ${phase}: ${why.message}` }];
      },
    });
    // Fields of a record the operator did not believe, written by someone else's field manager: server-side apply leaves them, so they are removed.
    if (untrusted) {
      const stale = KEY_RECORD_FIELDS.filter((f) => untrusted.status?.[f] !== undefined && keyStatus[f] === undefined);
      await this.deps.store.dropStatusFields(Kinds.ApiKey, untrusted, stale, written?.metadata.resourceVersion ?? untrusted.metadata.resourceVersion);
    }
    return !!written;
  }
}

/** Whether a Membership change can change what its owner's keys may do. */
const memberStateChanged = (a: AnyObject, b: AnyObject) => {
  const x = a as Membership;
  const y = b as Membership;
  return isActiveMember(x) !== isActiveMember(y) || x.spec.role !== y.spec.role || !!x.metadata.deletionTimestamp !== !!y.metadata.deletionTimestamp;
};

/** How many of `mine` (the owner's keys in the namespace) come before `k`: by creation, then name. */
export function keysAhead(k: ApiKey, mine: readonly ApiKey[]): number {
  const at = (o: ApiKey) => `${o.metadata.creationTimestamp ?? '~'}/${o.metadata.name}`;
  return mine.filter((o) => o.metadata.uid !== k.metadata.uid && at(o) < at(k)).length;
}

export function apiKeyController(deps: ControllerDeps, opts: ApiKeyOptions, concurrency?: number): ControllerSpec {
  const keys = deps.caches.cache(Caches.apiKeys);
  const inNamespace = (ns: string | undefined) => (ns ? keys.byIndex(Index.namespace, ns).map(keyOf) : []);
  return {
    name: 'apikey',
    for: Caches.apiKeys,
    // A key record changed by someone else (the operator's own writes are told apart): an
    // older sealed record put back, a record removed. Reconciled at once, not at the resync.
    statusChanged: (a, b) => KEY_RECORD_FIELDS.some((f) => !isDeepStrictEqual((a as ApiKey).status?.[f], (b as ApiKey).status?.[f])),
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
      // A key of the same owner going frees a place under the per-owner cap.
      {
        cache: Caches.apiKeys,
        map: (o) =>
          keys
            .byIndex(Index.email, emailKey(o.metadata.namespace!, (o as ApiKey).spec.owner))
            .filter((x) => !x.status?.keyId)
            .map(keyOf),
        changed: (a, b) => !!a.metadata.deletionTimestamp !== !!b.metadata.deletionTimestamp,
      },
      // An account suspended or restored (embedded identity provider) disables or enables its keys everywhere.
      {
        cache: Caches.accountSecrets,
        map: (o) =>
          keys
            .list()
            .filter((k) => lowerAscii(k.spec.owner) === accountEmail(o as AccountEntry))
            .map(keyOf),
        changed: (a, b) => accountSuspended(a as AccountEntry) !== accountSuspended(b as AccountEntry),
      },
      // Provisioning administrators and userPrefix concern every key.
      { cache: Caches.platformConfigs, map: () => keys.list().map(keyOf), changed: (a, b) => a.metadata.generation !== b.metadata.generation },
    ],
    reconciler: new ApiKeyReconciler(deps, opts),
    concurrency,
  };
}
