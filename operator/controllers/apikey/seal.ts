// The operator's mark on what it records about a key. Status can be written by anyone RBAC
// lets write `apikeys/status` (an admission policy keeps that to the operator, but a policy
// can be removed), so neither the verifier nor the reconciler takes a key id, a hash or a
// Secret's name from status on its word: each record carries a seal, an HMAC-SHA256 under
// a key only the operator holds (the Secret `miniapps-operator-apikey-seal-key` in its own
// namespace), over the ApiKey's namespace, name and uid and every field of the record. A
// record copied from another ApiKey, or made up, does not verify. Each key Secret the
// operator creates carries the same kind of mark (annotation `miniapps.dev/key-seal`, over
// the ApiKey's identity, the revision and the key's hash): an ownerReference anyone who
// may create Secrets can set, this mark they cannot.
//
// A seal reads `v1:<key id>:<mac>`: the key id (the first 8 hex digits of the seal key's
// SHA-256) names which key of the ring made it. The ring holds the current key (it seals)
// and every key this process saw before (they still verify), and is reloaded from the
// Secret (periodically, and at once when a seal of an unknown key id is met), so replicas
// that loaded different keys (the Secret deleted and made anew by one of them) converge.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { ApiKey } from '../../api/apikey/schema.ts';
import { API_KEY_SECRET_KEY, API_KEY_SECRET_TYPE } from '../../api/apikey/names.ts';
import { GROUP } from '../../api/constants.ts';
import { parseKey } from './key.ts';

/** The Secret in the operator's namespace that holds the seal key (made on first start). */
export const SEAL_KEY_SECRET = 'miniapps-operator-apikey-seal-key';

/** The annotation of a key Secret holding the operator's seal over it. */
export const SECRET_SEAL_ANNOTATION = `${GROUP}/key-seal`;

/** What is sealed of the current key. */
export interface CurrentRecord {
  keyId?: string;
  fingerprint?: string;
  secretName?: string;
  rotationRevision?: number;
  createdAt?: string;
}

/** What is sealed of the previous key. */
export interface PreviousRecord {
  keyId: string;
  fingerprint: string;
  secretName?: string;
  validUntil: string;
}

/** What is sealed of a key Secret. */
export interface SecretRecord {
  revision: number;
  keyId: string;
  fingerprint: string;
}

type Who = Pick<ApiKey, 'metadata'>;

/** The id of a seal key: not secret (32 bits of its SHA-256). */
export const sealKeyId = (key: Buffer): string => createHash('sha256').update(key).digest('hex').slice(0, 8);

const VERSION = 'v1';

export class KeySeal {
  private readonly ring = new Map<string, Buffer>();
  private currentId: string;
  /**
   * When the first seal key this process knows was made (its Secret's creationTimestamp,
   * set by the API server): a key Secret made before carries no mark, since nothing made
   * marks then; one made after must carry it.
   */
  private since?: number;
  /** Counts changes of the ring (a verifier's cached judgements of seals are of one generation). */
  generation = 0;
  /** Called when a seal names a key id the ring does not hold (the loader reloads). */
  onUnknown?: () => void;

  constructor(key: Buffer, createdAt?: string) {
    this.currentId = sealKeyId(key);
    this.ring.set(this.currentId, key);
    this.use(key, createdAt);
  }

  /** Makes `key` the one that seals; the keys before keep verifying. */
  use(key: Buffer, createdAt?: string): void {
    const id = sealKeyId(key);
    this.ring.set(id, key);
    this.currentId = id;
    this.generation++;
    const t = createdAt ? Date.parse(createdAt) : NaN;
    if (!Number.isNaN(t)) this.since = this.since === undefined ? t : Math.min(this.since, t);
  }

  /** The id of the key that seals now. */
  get keyId(): string {
    return this.currentId;
  }

  private mac(key: Buffer, parts: unknown[]): string {
    return createHmac('sha256', key).update(JSON.stringify(parts)).digest('hex');
  }

  private make(parts: unknown[]): string {
    return `${VERSION}:${this.currentId}:${this.mac(this.ring.get(this.currentId)!, parts)}`;
  }

  /** Whether `given` is a seal over `parts` by a key of the ring ('current' when by the key that seals now). */
  private check(given: string | undefined, parts: unknown[]): false | 'current' | 'older' {
    if (!given) return false;
    const m = /^v1:([0-9a-f]{8}):([0-9a-f]{64})$/.exec(given);
    if (m) {
      const key = this.ring.get(m[1]!);
      if (!key) {
        this.onUnknown?.();
        return false;
      }
      return same(m[2]!, this.mac(key, parts)) ? (m[1] === this.currentId ? 'current' : 'older') : false;
    }
    // A seal from before key ids (a bare MAC): any key of the ring, resealed at the next reconcile.
    for (const key of this.ring.values()) if (same(given, this.mac(key, parts))) return 'older';
    return false;
  }

  private currentParts(k: Who, r: CurrentRecord): unknown[] {
    return ['current', k.metadata.namespace, k.metadata.name, k.metadata.uid, r.keyId, r.fingerprint, r.secretName ?? null, r.rotationRevision ?? 0, r.createdAt ?? null];
  }

  /** The parts of a seal made before createdAt was sealed (still believed, resealed at once). */
  private legacyCurrentParts(k: Who, r: CurrentRecord): unknown[] {
    return ['current', k.metadata.namespace, k.metadata.name, k.metadata.uid, r.keyId, r.fingerprint, r.secretName ?? null, r.rotationRevision ?? 0];
  }

  private previousParts(k: Who, r: PreviousRecord): unknown[] {
    return ['previous', k.metadata.namespace, k.metadata.name, k.metadata.uid, r.keyId, r.fingerprint, r.secretName ?? null, r.validUntil];
  }

  private secretParts(k: Who, r: SecretRecord): unknown[] {
    return ['secret', k.metadata.namespace, k.metadata.name, k.metadata.uid, r.revision, r.keyId, r.fingerprint];
  }

  /** The seal of the current key's record of this ApiKey. */
  current(k: Who, r: CurrentRecord): string {
    return this.make(this.currentParts(k, r));
  }

  /** The seal of the previous key's record of this ApiKey. */
  previous(k: Who, r: PreviousRecord): string {
    return this.make(this.previousParts(k, r));
  }

  /** The seal of a key Secret of this ApiKey (its annotation SECRET_SEAL_ANNOTATION). */
  secret(k: Who, r: SecretRecord): string {
    return this.make(this.secretParts(k, r));
  }

  /** Whether status's current key record is the operator's own. */
  currentHolds(k: ApiKey): boolean {
    const s = k.status;
    return !!s?.keyId && (!!this.check(s.seal, this.currentParts(k, s)) || (!/^v1:/.test(s.seal ?? '') && !!this.check(s.seal, this.legacyCurrentParts(k, s))));
  }

  /** Whether status's previous key record is the operator's own. */
  previousHolds(k: ApiKey): boolean {
    const p = k.status?.previousKey;
    return !!p && !!this.check(p.seal, this.previousParts(k, p));
  }

  /**
   * Whether a Secret holding key `r` as revision `r.revision` of this ApiKey was made by the
   * operator: it carries the operator's seal, or it was made before any seal key existed
   * (`creationTimestamp`, set by the API server, a second or more before the seal key's own).
   */
  secretHolds(k: Who, r: SecretRecord, secret: { metadata: { annotations?: Record<string, string>; creationTimestamp?: string } }): boolean {
    if (this.check(secret.metadata.annotations?.[SECRET_SEAL_ANNOTATION], this.secretParts(k, r))) return true;
    const made = secret.metadata.creationTimestamp ? Date.parse(secret.metadata.creationTimestamp) : NaN;
    // Timestamps are whole seconds: a Secret of the same second as the seal key does not count as before it (it
    // may have been planted just after); an unmarked key Secret of that second is not believed, and its key is reissued.
    return this.since !== undefined && !Number.isNaN(made) && made < this.since;
  }
}

function same(given: string, expected: string): boolean {
  if (given.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}

/** What a key Secret holds, once it is proven to be this ApiKey's own: made by the operator for it. */
export type SecretKey = { own: true; keyId: string; fingerprint: string; revision: number } | { own: false; why: string };

interface KeySecretLike {
  type?: string;
  data?: Record<string, string>;
  metadata: { name?: string; uid?: string; annotations?: Record<string, string>; creationTimestamp?: string; ownerReferences?: { uid?: string; controller?: boolean }[] };
}

/**
 * Whether `secret` is a key Secret the operator made for this ApiKey, and the key it holds:
 * its controller ownerReference names the ApiKey's uid, it is of type miniapps.dev/api-key
 * and holds a well-formed key, and it carries the operator's seal over the ApiKey, its
 * revision and that key (or predates every seal key: KeySeal.secretHolds). The one test of
 * the reconciler (to believe, grant, delete or reuse a Secret) and the verifier's fallback.
 */
export function secretKey(seal: KeySeal, k: Who, secret: KeySecretLike): SecretKey {
  const name = secret.metadata.name;
  if (!secret.metadata.ownerReferences?.some((r) => r.controller && r.uid === k.metadata.uid)) return { own: false, why: `Secret ${name} is owned by another object` };
  const raw = secret.data?.[API_KEY_SECRET_KEY];
  const parsed = raw ? parseKey(Buffer.from(raw, 'base64').toString('utf8')) : undefined;
  if (secret.type !== API_KEY_SECRET_TYPE || !parsed?.ok) return { own: false, why: `Secret ${name} does not hold an API key in ${API_KEY_SECRET_KEY}` };
  const revision = Number(/-r(\d+)$/.exec(name ?? '')?.[1] ?? NaN);
  if (!Number.isSafeInteger(revision) || !seal.secretHolds(k, { revision, keyId: parsed.keyId, fingerprint: parsed.fingerprint }, secret)) {
    return { own: false, why: `Secret ${name} does not carry the operator's seal (annotation ${SECRET_SEAL_ANNOTATION}): the operator did not make it` };
  }
  return { own: true, keyId: parsed.keyId, fingerprint: parsed.fingerprint, revision };
}
