// Verification of a presented key: one code path for the Kubernetes API server's
// authentication webhook (TokenReview) and the verify endpoint for API gateways. It reads
// only the caches (ApiKeys, Memberships, Organizations, the PlatformConfig), never a
// Secret: status holds each key's SHA-256, compared in constant time after a lookup by the
// key's non-secret id, and a record counts only with the operator's seal (seal.ts), or,
// when it carries none this process can check (an older version still leads during an
// upgrade; another replica loaded a new seal key), when the Secret it names is one the
// operator made for this ApiKey and holds that key (read once per version): a key id and
// hash that someone else wrote into status never verify. Time and the owner are checked at every call, so an expiry, a
// revocation, a suspension or a removal holds from the moment the cache sees it.
import type { ApiKey } from '../../api/apikey/schema.ts';
import { Index } from '../../domain/caches.ts';
import { userName } from '../../domain/rbac-types.ts';
import type { CacheReader } from '../../runtime/cache.ts';
import type { Clock } from '../../runtime/clock.ts';
import { rfc3339 } from '../../runtime/clock.ts';
import { parseKey, sameFingerprint } from './key.ts';
import { secretKey } from './seal.ts';
import type { KeySeal } from './seal.ts';
import { expiryOf, ownerStanding, ownerStatus, validityCheck } from './logic.ts';
import type { OwnerLookup } from './logic.ts';

/** What verification needs of an ApiKey, computed once per version of it (the cache replaces the object on every change). */
interface Derived {
  expiryMs?: number;
  expiresAt?: string;
  /** Only from a record the operator sealed. */
  current?: Buffer;
  previous?: Buffer;
  previousUntilMs?: number;
  /** The seal ring's generation these were judged under. */
  generation: number;
  /** A record not sealed (or by a key this process does not hold): proven, once, from the Secret it names (fallback). */
  proofs: Map<string, Promise<boolean>>;
}

/** Reads a Secret of a namespace (the verifier's fallback only: undefined when there is none). */
export type SecretReader = (namespace: string, name: string) => Promise<KeySecret | undefined>;
type KeySecret = Parameters<typeof secretKey>[2];

/** Who a valid key authenticates as, and what it may be used for. */
export interface KeyIdentity {
  /** The owner's Kubernetes user name: PlatformConfig userPrefix + the lowercased email. */
  username: string;
  owner: string;
  /** The ApiKey. */
  namespace: string;
  name: string;
  /** The organization whose namespace holds the key; undefined in the operator's namespace. */
  organization?: string;
  keyId: string;
  /** spec.scopes; empty means everything the owner may do. */
  scopes: string[];
  expiresAt?: string;
  /** True for the previous key during its grace period after a rotation. */
  previous: boolean;
}

export type Verdict = { ok: true; identity: KeyIdentity } | { ok: false; reason: string };

/** Whether `scopes` (a key's spec.scopes) allow `wanted`: empty allows everything; `x*` allows every scope starting with x. */
export function scopeAllows(scopes: readonly string[] | undefined, wanted: string): boolean {
  if (!scopes || scopes.length === 0) return true;
  return scopes.some((s) => s === wanted || (s.endsWith('*') && wanted.startsWith(s.slice(0, -1))));
}

export interface VerifierLookup extends OwnerLookup {
  settings(): { userPrefix: string };
}

export class KeyVerifier {
  private readonly keys: CacheReader<ApiKey>;
  private readonly lookup: VerifierLookup;
  private readonly clock: Clock;
  private readonly operatorNamespace: string;
  private readonly seal: KeySeal;
  private readonly derived = new WeakMap<ApiKey, Derived>();

  private readonly secrets?: SecretReader;

  constructor(keys: CacheReader<ApiKey>, lookup: VerifierLookup, clock: Clock, operatorNamespace: string, seal: KeySeal, secrets?: SecretReader) {
    this.keys = keys;
    this.secrets = secrets;
    this.seal = seal;
    this.lookup = lookup;
    this.clock = clock;
    this.operatorNamespace = operatorNamespace;
  }

  private derive(k: ApiKey): Derived {
    let d = this.derived.get(k);
    if (!d || d.generation !== this.seal.generation) {
      const s = k.status;
      const expiry = expiryOf(k);
      d = {
        expiryMs: expiry?.getTime(),
        expiresAt: expiry ? rfc3339(expiry) : undefined,
        current: s?.fingerprint && this.seal.currentHolds(k) ? Buffer.from(s.fingerprint, 'hex') : undefined,
        previous: s?.previousKey?.fingerprint && this.seal.previousHolds(k) ? Buffer.from(s.previousKey.fingerprint, 'hex') : undefined,
        previousUntilMs: s?.previousKey ? Date.parse(s.previousKey.validUntil) : undefined,
        generation: this.seal.generation,
        proofs: new Map(),
      };
      this.derived.set(k, d);
    }
    return d;
  }

  /**
   * Whether a record the operator did not seal (or sealed under a key this process does not
   * hold: written by an older version still leading during an upgrade, or by a replica that
   * loaded another seal key) names a Secret the operator made for this ApiKey holding this
   * very key: the reconciler's own test (seal.ts secretKey). One read per version of the
   * ApiKey and record; a failed read is tried again at the next call.
   */
  private proven(k: ApiKey, d: Derived, which: 'current' | 'previous'): Promise<boolean> {
    const rec = which === 'current' ? k.status : k.status?.previousKey;
    const name = rec?.secretName;
    if (!this.secrets || !rec?.keyId || !rec.fingerprint || !name) return Promise.resolve(false);
    let p = d.proofs.get(which);
    if (!p) {
      const { keyId, fingerprint } = rec;
      p = this.secrets(k.metadata.namespace!, name).then(
        (secret) => {
          if (!secret) return false;
          const held = secretKey(this.seal, k, secret);
          return held.own && held.keyId === keyId && held.fingerprint === fingerprint;
        },
        () => {
          d.proofs.delete(which);
          return false;
        },
      );
      d.proofs.set(which, p);
    }
    return p;
  }

  /** Whether `token` is a key that works now (for `scope`, when given), and whose it is. Words are built only for a refusal. */
  async verify(token: string, scope?: string): Promise<Verdict> {
    const parsed = parseKey(token);
    if (!parsed.ok) return parsed;
    const nowMs = this.clock.now().getTime();
    for (const k of this.keys.byIndex(Index.keyId, parsed.keyId)) {
      const s = k.status;
      const d = this.derive(k);
      const matches = (fingerprint: string | undefined, sealed: Buffer | undefined, which: 'current' | 'previous') =>
        sealed
          ? sameFingerprint(sealed, parsed.digest)
          : !!fingerprint && /^[0-9a-f]{64}$/.test(fingerprint) && sameFingerprint(Buffer.from(fingerprint, 'hex'), parsed.digest) && this.proven(k, d, which);
      const current = s?.keyId === parsed.keyId && (await matches(s.fingerprint, d.current, 'current'));
      const previous = !current && s?.previousKey?.keyId === parsed.keyId && (await matches(s.previousKey.fingerprint, d.previous, 'previous'));
      if (!current && !previous) continue;
      const what = () => `API key ${parsed.keyId} (ApiKey ${k.metadata.namespace}/${k.metadata.name})`;
      if (k.metadata.deletionTimestamp) return { ok: false, reason: `${what()} is being deleted` };
      if (k.spec.revoked || (d.expiryMs !== undefined && d.expiryMs <= nowMs)) return { ok: false, reason: `${what()}: ${validityCheck(k, new Date(nowMs)).condition.message}` };
      if (previous && d.previousUntilMs! <= nowMs) {
        return { ok: false, reason: `${what()} was rotated out: the grace period after its rotation ended at ${s!.previousKey!.validUntil}; use the key in Secret ${s!.secretName}` };
      }
      const owner = ownerStatus(k, this.lookup, this.operatorNamespace);
      if (!owner.may) {
        const standing = ownerStanding(k, this.lookup, this.operatorNamespace);
        return { ok: false, reason: `${what()} is disabled: ${standing.ok ? 'its owner changed meanwhile' : standing.problem}` };
      }
      if (scope !== undefined && !scopeAllows(k.spec.scopes, scope)) return { ok: false, reason: `${what()} does not have the scope ${scope} (spec.scopes: ${k.spec.scopes!.join(', ')})` };
      return {
        ok: true,
        identity: {
          username: userName(this.lookup.settings().userPrefix, k.spec.owner),
          owner: k.spec.owner,
          namespace: k.metadata.namespace!,
          name: k.metadata.name,
          organization: owner.org?.metadata.name,
          keyId: parsed.keyId,
          scopes: k.spec.scopes ?? [],
          ...(d.expiresAt ? { expiresAt: d.expiresAt } : {}),
          previous,
        },
      };
    }
    return { ok: false, reason: `unknown API key ${parsed.keyId}: no ApiKey holds it (deleted, or never issued)` };
  }
}
