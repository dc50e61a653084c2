// The operator's mark on what it records about a key. Status can be written by anyone RBAC
// lets write `apikeys/status` (an admission policy keeps that to the operator, but a policy
// can be removed), so neither the verifier nor the reconciler takes a key id, a hash or a
// Secret's name from status on its word: each record carries a seal, an HMAC-SHA256 under
// a key only the operator holds (the Secret `miniapps-operator-apikey-seal-key` in its own
// namespace), over the ApiKey's namespace, name and uid and every field of the record. A
// record copied from another ApiKey, or made up, does not verify.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ApiKey } from '../../api/index.ts';

/** The Secret in the operator's namespace that holds the seal key (made on first start). */
export const SEAL_KEY_SECRET = 'miniapps-operator-apikey-seal-key';

/** What is sealed of the current key. */
export interface CurrentRecord {
  keyId?: string;
  fingerprint?: string;
  secretName?: string;
  rotationRevision?: number;
}

/** What is sealed of the previous key. */
export interface PreviousRecord {
  keyId: string;
  fingerprint: string;
  secretName?: string;
  validUntil: string;
}

type Who = Pick<ApiKey, 'metadata'>;

export class KeySeal {
  private readonly key: Buffer;

  constructor(key: Buffer) {
    this.key = key;
  }

  private mac(parts: unknown[]): string {
    return createHmac('sha256', this.key).update(JSON.stringify(parts)).digest('hex');
  }

  /** The seal of the current key's record of this ApiKey. */
  current(k: Who, r: CurrentRecord): string {
    return this.mac(['current', k.metadata.namespace, k.metadata.name, k.metadata.uid, r.keyId, r.fingerprint, r.secretName ?? null, r.rotationRevision ?? 0]);
  }

  /** The seal of the previous key's record of this ApiKey. */
  previous(k: Who, r: PreviousRecord): string {
    return this.mac(['previous', k.metadata.namespace, k.metadata.name, k.metadata.uid, r.keyId, r.fingerprint, r.secretName ?? null, r.validUntil]);
  }

  /** Whether status's current key record is the operator's own. */
  currentHolds(k: ApiKey): boolean {
    const s = k.status;
    return !!s?.keyId && same(s.seal, this.current(k, s));
  }

  /** Whether status's previous key record is the operator's own. */
  previousHolds(k: ApiKey): boolean {
    const p = k.status?.previousKey;
    return !!p && same(p.seal, this.previous(k, p));
  }
}

function same(given: string | undefined, expected: string): boolean {
  if (!given || given.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}
