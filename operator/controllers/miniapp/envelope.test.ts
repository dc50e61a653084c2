import { describe, expect, it } from 'vitest';
import { decryptValue, encryptValue, keyCheck, keyCheckMatches, maskValue, newKey, unwrapDataKey, wrapDataKey } from './envelope.ts';

describe('envelope encryption', () => {
  const kek = newKey();
  const dataKey = newKey();

  it('a wrapped data key unwraps to the same 256 bits with the same key-encryption key, version and mini app', () => {
    const wrapped = wrapDataKey(kek, 'v1', dataKey, 'uid-1');
    expect(wrapped.length).toBe(12 + 32 + 16);
    expect(unwrapDataKey(kek, 'v1', wrapped, 'uid-1').equals(dataKey)).toBe(true);
    expect(wrapped.includes(dataKey)).toBe(false);
  });

  it.each([
    ['another mini app', () => unwrapDataKey(kek, 'v1', wrapDataKey(kek, 'v1', dataKey, 'uid-1'), 'uid-2')],
    ['another key-encryption key version', () => unwrapDataKey(kek, 'v2', wrapDataKey(kek, 'v1', dataKey, 'uid-1'), 'uid-1')],
    ['another key-encryption key', () => unwrapDataKey(newKey(), 'v1', wrapDataKey(kek, 'v1', dataKey, 'uid-1'), 'uid-1')],
    [
      'a changed byte',
      () => {
        const w = wrapDataKey(kek, 'v1', dataKey, 'uid-1');
        w[20] ^= 1;
        return unwrapDataKey(kek, 'v1', w, 'uid-1');
      },
    ],
  ])('refuses to unwrap for %s', (_what, fn) => {
    expect(fn).toThrow();
  });

  it('values round-trip through ciphertext bound to the mini app, and each encryption differs', () => {
    const a = encryptValue(dataKey, 'uid-1', 'Jane Doe, +254700123456');
    const b = encryptValue(dataKey, 'uid-1', 'Jane Doe, +254700123456');
    expect(a).toMatch(/^mae1:[A-Za-z0-9_-]+$/);
    expect(a).not.toBe(b);
    expect(decryptValue(dataKey, 'uid-1', a)).toBe('Jane Doe, +254700123456');
    expect(() => decryptValue(dataKey, 'uid-2', a)).toThrow();
    expect(() => decryptValue(newKey(), 'uid-1', a)).toThrow();
    expect(() => decryptValue(dataKey, 'uid-1', 'plain text')).toThrow('not envelope ciphertext');
  });

  it.each([
    ['+254700123456', '*********3456'],
    ['1234567', '*******'],
    ['', ''],
    ['ÄÖÜäöüßé', '****öüßé'],
  ])('masks %j as %j, irreversibly', (value, masked) => {
    expect(maskValue(value)).toBe(masked);
  });

  it('a key check value tells a changed key-encryption key from the one it was made for', () => {
    const check = keyCheck(kek, 'v1');
    expect(keyCheckMatches(kek, 'v1', check)).toBe(true);
    expect(keyCheckMatches(newKey(), 'v1', check)).toBe(false);
    expect(keyCheckMatches(kek, 'v2', check)).toBe(false);
  });
});
