// The API key itself, in the manner of GitHub's token format: a recognizable prefix, a
// non-secret key id, 256 random bits from the platform's CSPRNG, and a checksum, so that
// secret scanners and people can tell a key from noise and a mistyped or truncated key is
// refused before any lookup.
//
//   mak_<keyId: 16 hex>_<secret: 43 base62 = 32 random bytes><checksum: 6 base62 = CRC32>
//   e.g. mak_3f9a0c1d2e4b5a69_2b9XkQ...          70 characters; regex KEY_PATTERN
//
// Only the SHA-256 of a key (its fingerprint) is kept outside its Secret: a hash of 256
// random bits reveals nothing of them, so verification needs ApiKey objects only.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { API_KEY_PREFIX } from '../../api/apikey/names.ts';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SECRET_BYTES = 32;
/** ⌈256 / log2(62)⌉: 62^43 > 2^256. */
const SECRET_CHARS = 43;
const CHECKSUM_CHARS = 6;
const KEY_ID_BYTES = 8;

/** What a miniapps API key looks like, for secret scanners. */
export const KEY_PATTERN = new RegExp(`^${API_KEY_PREFIX}([0-9a-f]{${KEY_ID_BYTES * 2}})_([0-9A-Za-z]{${SECRET_CHARS}})([0-9A-Za-z]{${CHECKSUM_CHARS}})$`);
/** The same, to find keys inside other text (logs, events). */
export const KEY_IN_TEXT = new RegExp(`${API_KEY_PREFIX}[0-9a-f]{${KEY_ID_BYTES * 2}}_[0-9A-Za-z]{${SECRET_CHARS + CHECKSUM_CHARS}}`, 'g');
export const KEY_LENGTH = API_KEY_PREFIX.length + KEY_ID_BYTES * 2 + 1 + SECRET_CHARS + CHECKSUM_CHARS;

/** `bytes` as a big-endian number in base 62, left-padded with zeros to `length` characters. */
export function base62(bytes: Uint8Array, length: number): string {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  let out = '';
  while (n > 0n) {
    out = ALPHABET[Number(n % 62n)] + out;
    n /= 62n;
  }
  if (out.length > length) throw new Error(`${bytes.length} bytes do not fit in ${length} base62 characters`);
  return out.padStart(length, '0');
}

/** node:zlib's crc32, loaded with the first key (zlib is not on the operator's start path: app.imports.test.ts). */
let zlibCrc32: ((data: string) => number) | undefined;
const crc32 = () => (zlibCrc32 ??= process.getBuiltinModule('node:zlib').crc32);

/** CRC32 of the key's body in 6 base62 digits (62^6 > 2^32), without BigInt: it is on the verification path. */
function checksum(body: string): string {
  let c = crc32()(body);
  let out = '';
  for (let i = 0; i < CHECKSUM_CHARS; i++) {
    out = ALPHABET[c % 62] + out;
    c = Math.floor(c / 62);
  }
  return out;
}

/** SHA-256 of the key, hex: its fingerprint, the only form of it kept outside its Secret. */
export function fingerprintOf(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export interface GeneratedKey {
  /** The key itself: written to its Secret, and nowhere else. */
  token: string;
  keyId: string;
  fingerprint: string;
}

/** A new key from the platform's CSPRNG (`random` for tests only). */
export function generateKey(random: (n: number) => Buffer = randomBytes): GeneratedKey {
  const keyId = random(KEY_ID_BYTES).toString('hex');
  const body = `${API_KEY_PREFIX}${keyId}_${base62(random(SECRET_BYTES), SECRET_CHARS)}`;
  const token = body + checksum(body);
  return { token, keyId, fingerprint: fingerprintOf(token) };
}

export type ParsedKey = { ok: true; keyId: string; fingerprint: string /** The same SHA-256, as bytes (for constant-time comparison). */; digest: Buffer } | { ok: false; reason: string };

/**
 * Checks a presented key's shape and checksum (no lookup): a tampered, mistyped or
 * truncated key is refused here with the reason.
 */
export function parseKey(token: string): ParsedKey {
  if (!token.startsWith(API_KEY_PREFIX)) return { ok: false, reason: `not a miniapps API key (they start with ${API_KEY_PREFIX})` };
  const m = KEY_PATTERN.exec(token);
  if (!m) {
    const why = token.length < KEY_LENGTH ? 'truncated' : token.length > KEY_LENGTH ? 'too long' : 'malformed';
    return { ok: false, reason: `the API key is ${why}: a key is ${KEY_LENGTH} characters, ${API_KEY_PREFIX}, 16 hex digits, _ and 49 letters or digits` };
  }
  if (checksum(token.slice(0, -CHECKSUM_CHARS)) !== m[3]) return { ok: false, reason: 'the API key fails its checksum: it was mistyped or tampered with' };
  const digest = createHash('sha256').update(token, 'utf8').digest();
  return { ok: true, keyId: m[1]!, fingerprint: digest.toString('hex'), digest };
}

/** Compares two fingerprints (hex, or SHA-256 bytes) in constant time. */
export function sameFingerprint(a: string | Buffer, b: string | Buffer): boolean {
  const x = typeof a === 'string' ? Buffer.from(a, 'hex') : a;
  const y = typeof b === 'string' ? Buffer.from(b, 'hex') : b;
  return x.length === 32 && y.length === 32 && timingSafeEqual(x, y);
}

/** The recognizable, non-secret start of a key with this id (status.prefix). */
export const prefixOf = (keyId: string): string => `${API_KEY_PREFIX}${keyId}`;
