// Envelope encryption for mini apps' data, with node:crypto only: a 256-bit data key per
// mini app, wrapped (AES-256-GCM) by a versioned key-encryption key and bound to the mini
// app's uid and that version; values encrypted (AES-256-GCM) with the data key and bound
// to the uid; and irreversible masking. Pure functions: no I/O, randomness only for keys
// and nonces.
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A new random 256-bit key. */
export const newKey = (): Buffer => randomBytes(KEY_BYTES);

function seal(key: Buffer, plaintext: Buffer, aad: string): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]);
}

function open(key: Buffer, sealed: Buffer, aad: string): Buffer {
  if (sealed.length < IV_BYTES + TAG_BYTES) throw new Error('ciphertext too short');
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
}

const wrapAad = (miniAppUid: string, kekId: string) => `miniapps.dev/data-key\u0000${miniAppUid}\u0000${kekId}`;
const valueAad = (miniAppUid: string) => `miniapps.dev/value\u0000${miniAppUid}`;

/** The data key wrapped by the key-encryption key `kekId`, bound to the mini app (iv | ciphertext | tag). */
export function wrapDataKey(kek: Buffer, kekId: string, dataKey: Buffer, miniAppUid: string): Buffer {
  return seal(kek, dataKey, wrapAad(miniAppUid, kekId));
}

/** Unwraps; throws when the key-encryption key, its version, the mini app or the bytes are not the ones it was wrapped with. */
export function unwrapDataKey(kek: Buffer, kekId: string, wrapped: Buffer, miniAppUid: string): Buffer {
  const key = open(kek, wrapped, wrapAad(miniAppUid, kekId));
  if (key.length !== KEY_BYTES) throw new Error('the unwrapped data key is not 256 bits');
  return key;
}

/** The prefix of envelope ciphertext: `mae1:` then base64url(iv | ciphertext | tag). */
export const CIPHERTEXT_PREFIX = 'mae1:';

export function encryptValue(dataKey: Buffer, miniAppUid: string, value: string): string {
  return CIPHERTEXT_PREFIX + seal(dataKey, Buffer.from(value, 'utf8'), valueAad(miniAppUid)).toString('base64url');
}

/** Decrypts; throws for anything that is not ciphertext of this mini app's key. */
export function decryptValue(dataKey: Buffer, miniAppUid: string, ciphertext: string): string {
  if (!ciphertext.startsWith(CIPHERTEXT_PREFIX)) throw new Error(`not envelope ciphertext (it starts with ${CIPHERTEXT_PREFIX})`);
  return open(dataKey, Buffer.from(ciphertext.slice(CIPHERTEXT_PREFIX.length), 'base64url'), valueAad(miniAppUid)).toString('utf8');
}

/**
 * Irreversible masking: every character is replaced by `*` except the last four of a
 * value of at least eight characters (`+254700123456` → `*********3456`). Nothing of the
 * rest is kept, so no key can bring it back.
 */
export function maskValue(value: string): string {
  const chars = [...value];
  const keep = chars.length >= 8 ? 4 : 0;
  return '*'.repeat(chars.length - keep) + chars.slice(chars.length - keep).join('');
}

/** A key check value: shows that a key-encryption key version is still the bytes it was made with (tampering). */
export function keyCheck(kek: Buffer, kekId: string): string {
  return createHmac('sha256', kek).update(`miniapps.dev key-encryption key ${kekId}`).digest('hex').slice(0, 32);
}

export function keyCheckMatches(kek: Buffer, kekId: string, check: string): boolean {
  const want = Buffer.from(keyCheck(kek, kekId));
  const got = Buffer.from(check);
  return want.length === got.length && timingSafeEqual(want, got);
}
