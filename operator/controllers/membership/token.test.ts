import { describe, expect, it } from 'vitest';
import { ApiError } from '../../runtime/errors.ts';
import type { KubeClient } from '../../runtime/kube/client.ts';
import { loadInvitationKey, signToken, verifyToken } from './token.ts';
import type { TokenClaims } from './token.ts';

const key = Buffer.alloc(32, 7);
const claims: TokenClaims = { uid: '6f1c2a4e-0d5b-4c1e-9a77-2f3b1d0c9e11', email: 'dev@example.com', attempt: 2, expiresAt: '2030-01-02T03:04:05Z' };
const before = new Date('2030-01-01T00:00:00Z');
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Flips one character of the part at `index` (0: payload, 1: signature). */
function flip(token: string, index: 0 | 1): string {
  const parts = token.split('.');
  const s = parts[index];
  parts[index] = (s[5] === 'A' ? 'B' : 'A') + s.slice(1, 5) + (s[5] === 'A' ? 'B' : 'A') + s.slice(6);
  return parts.join('.');
}

describe('acceptance tokens', () => {
  it('round-trips the claims and is URL-safe', () => {
    const token = signToken(key, claims);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(encodeURIComponent(token)).toBe(token);
    expect(verifyToken(key, token, before)).toEqual({ ok: true, claims });
  });

  it.each([
    ['a changed payload', (t: string) => flip(t, 0)],
    ['a changed signature', (t: string) => flip(t, 1)],
    ['a shortened signature', (t: string) => `${t.split('.')[0]}.${Buffer.from(t.split('.')[1], 'base64url').subarray(0, -3).toString('base64url')}`],
    ['claims signed by a different key', () => signToken(Buffer.alloc(32, 8), claims)],
    ['a payload with another attempt re-used with the old signature', (t: string) => `${signToken(key, { ...claims, attempt: 3 }).split('.')[0]}.${t.split('.')[1]}`],
  ])('refuses %s as tampered', (_name, change) => {
    expect(verifyToken(key, change(signToken(key, claims)), before)).toEqual({ ok: false, reason: 'tampered' });
  });

  it('refuses the non-canonical spellings of a token (four valid spellings of one token)', () => {
    // The last character of a base64url part carries unused low bits when the byte count is not a
    // multiple of 3 (the 32-byte MAC: 2 bits; this 119-byte payload: 2 bits); a lenient decoder
    // ignores them, so each part had 4 spellings of the same bytes.
    const token = signToken(key, claims);
    const [payload, signature] = token.split('.');
    const spellings = (part: string): string[] => {
      const bytes = Buffer.from(part, 'base64url');
      const unusedBits = part.length * 6 - bytes.length * 8;
      const last = ALPHABET.indexOf(part.at(-1)!);
      return Array.from({ length: 2 ** unusedBits }, (_, low) => part.slice(0, -1) + ALPHABET[(last & ~(2 ** unusedBits - 1)) | low]);
    };
    expect(spellings(payload)).toHaveLength(4);
    expect(spellings(signature)).toHaveLength(4);
    const variants = spellings(payload).flatMap((p) => spellings(signature).map((s) => `${p}.${s}`));
    expect(new Set(variants).size).toBe(16);
    for (const variant of variants) {
      if (variant === token) expect(verifyToken(key, variant, before)).toEqual({ ok: true, claims });
      else expect(verifyToken(key, variant, before), variant).toEqual({ ok: false, reason: 'malformed' });
    }
    // A trailing character that decodes to no byte at all is another spelling of the same bytes.
    expect(verifyToken(key, `${payload}.${signature}A`, before).ok).toBe(false);
    expect(verifyToken(key, `${payload}A.${signature}`, before).ok).toBe(false);
  });

  it('refuses a token at and after its expiry', () => {
    const token = signToken(key, claims);
    expect(verifyToken(key, token, new Date('2030-01-02T03:04:04.999Z')).ok).toBe(true);
    expect(verifyToken(key, token, new Date('2030-01-02T03:04:05Z'))).toEqual({ ok: false, reason: 'expired' });
    expect(verifyToken(key, token, new Date('2031-01-01T00:00:00Z'))).toEqual({ ok: false, reason: 'expired' });
  });

  it.each([
    ['an empty string', ''],
    ['no separator', 'abcdef'],
    ['three parts', 'a.b.c'],
    ['characters outside base64url', 'ab+c.de/f'],
    ['a huge token', `${'a'.repeat(5000)}.b`],
  ])('refuses %s as malformed', (_name, token) => {
    expect(verifyToken(key, token, before)).toEqual({ ok: false, reason: 'malformed' });
  });

  it.each([
    ['a fractional attempt', { ...claims, attempt: 1.5 }],
    ['an expiry that is not a time', { ...claims, expiresAt: 'next week' }],
  ])('refuses correctly signed claims with %s as malformed', (_name, bad) => {
    expect(verifyToken(key, signToken(key, bad), before)).toEqual({ ok: false, reason: 'malformed' });
  });
});

/** A KubeClient that keeps Secrets in a map, enough for get and create. */
function fakeClient(): { client: KubeClient; store: Map<string, { data?: Record<string, string> }>; creates: () => number } {
  const store = new Map<string, { metadata: { name?: string; namespace?: string }; data?: Record<string, string> }>();
  let creates = 0;
  const client = {
    async get(_rt: unknown, name: string, namespace: string) {
      await Promise.resolve();
      return structuredClone(store.get(`${namespace}/${name}`));
    },
    async create(_rt: unknown, obj: { metadata: { name: string; namespace: string }; data?: Record<string, string> }) {
      await Promise.resolve();
      creates++;
      const k = `${obj.metadata.namespace}/${obj.metadata.name}`;
      if (store.has(k)) throw new ApiError(409, 'AlreadyExists', `secrets "${obj.metadata.name}" already exists`);
      store.set(k, structuredClone(obj));
      return structuredClone(obj);
    },
  } as unknown as KubeClient;
  return { client, store, creates: () => creates };
}

describe('loadInvitationKey (runtime/signing-key.ts)', () => {
  it('creates a 32-byte key on first start and reads the same key afterwards', async () => {
    const { client, store } = fakeClient();
    const first = await loadInvitationKey(client, 'miniapps-system');
    expect(first).toHaveLength(32);
    expect(store.has('miniapps-system/miniapps-operator-invitation-key')).toBe(true);
    expect(await loadInvitationKey(client, 'miniapps-system')).toEqual(first);
  });

  it('gives two replicas starting at once the same key (the loser of the create reads the winner)', async () => {
    const { client, creates } = fakeClient();
    const [a, b] = await Promise.all([loadInvitationKey(client, 'ns'), loadInvitationKey(client, 'ns')]);
    expect(creates()).toBe(2);
    expect(a).toEqual(b);
  });

  it('refuses a Secret without a usable key, without showing its content', async () => {
    const { client, store } = fakeClient();
    store.set('ns/k', { data: { key: Buffer.from('short-secret').toString('base64') } });
    await expect(loadInvitationKey(client, 'ns', 'k')).rejects.toThrow(/Secret ns\/k has no usable signing key/);
    await expect(loadInvitationKey(client, 'ns', 'k')).rejects.not.toThrow(/short-secret/);
  });
});
