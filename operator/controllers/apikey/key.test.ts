import { describe, expect, it } from 'vitest';
import { KEY_LENGTH, KEY_PATTERN, base62, fingerprintOf, generateKey, parseKey, prefixOf, sameFingerprint } from './key.ts';

describe('generateKey', () => {
  it('makes a 70-character key with the prefix, a hex key id, 256 random bits and a checksum', () => {
    const k = generateKey();
    expect(k.token).toHaveLength(KEY_LENGTH);
    expect(KEY_LENGTH).toBe(70);
    expect(k.token).toMatch(KEY_PATTERN);
    expect(k.token.startsWith(prefixOf(k.keyId) + '_')).toBe(true);
    expect(k.fingerprint).toBe(fingerprintOf(k.token));
    expect(k.fingerprint).toMatch(/^[0-9a-f]{64}$/);
  });

  it('never repeats itself (1,000 keys, 1,000 ids)', () => {
    const keys = Array.from({ length: 1000 }, () => generateKey());
    expect(new Set(keys.map((k) => k.token)).size).toBe(1000);
    expect(new Set(keys.map((k) => k.keyId)).size).toBe(1000);
  });

  it('encodes all 256 bits: the largest secret still fits, and distinct secrets stay distinct', () => {
    expect(base62(Buffer.alloc(32, 0xff), 43)).toHaveLength(43);
    expect(base62(Buffer.alloc(32, 0), 43)).toBe('0'.repeat(43));
    expect(() => base62(Buffer.alloc(33, 0xff), 43)).toThrow(/do not fit/);
  });
});

describe('parseKey', () => {
  const { token, keyId, fingerprint } = generateKey();
  const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'a' ? 'b' : 'a') + s.slice(i + 1);

  it('accepts a key and returns its id and fingerprint', () => {
    expect(parseKey(token)).toMatchObject({ ok: true, keyId, fingerprint, digest: Buffer.from(fingerprint, 'hex') });
  });

  it.each<[string, string, RegExp]>([
    ['another kind of token', 'ghp_0123456789abcdef', /not a miniapps API key/],
    ['a truncated key', token.slice(0, -1), /truncated/],
    ['a key with a character added', `${token}x`, /too long/],
    ['a key with a character out of the alphabet', `${token.slice(0, 30)}-${token.slice(31)}`, /malformed/],
    ['a tampered secret', flip(token, 40), /checksum/],
    ['a tampered key id', flip(token, 6), /checksum/],
  ])('refuses %s with the reason', (_what, bad, reason) => {
    const parsed = parseKey(bad);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.reason).toMatch(reason);
  });
});

describe('sameFingerprint', () => {
  it('compares SHA-256 fingerprints, and refuses anything that is not one', () => {
    const a = fingerprintOf('a');
    expect(sameFingerprint(a, a)).toBe(true);
    expect(sameFingerprint(a, fingerprintOf('b'))).toBe(false);
    expect(sameFingerprint(a, a.slice(0, 62))).toBe(false);
    expect(sameFingerprint('', '')).toBe(false);
  });
});
