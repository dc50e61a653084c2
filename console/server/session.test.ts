// Sessions kept in a backend (as on the cluster): another replica, or the console after a
// restart, finds them by the browser's cookie; what is stored opens only with that cookie.
import { describe, expect, it } from 'vitest';
import { SessionStore, hash, seal, unseal } from './session.ts';
import type { SessionBackend, StoredSession } from './session.ts';

function memoryBackend(): SessionBackend & { records: Map<string, StoredSession>; writes: number } {
  const records = new Map<string, StoredSession>();
  const b = {
    records,
    writes: 0,
    read: async (key: string) => records.get(key),
    write: async (key: string, r: StoredSession, existing?: boolean) => {
      b.writes++;
      // As on the cluster: a session saved again replaces its record only while it is there.
      if (!existing || records.has(key)) records.set(key, r);
    },
    remove: async (key: string) => {
      records.delete(key);
    },
  };
  return b;
}

describe('sessions kept in a backend', () => {
  it('another store (a replica, or the console restarted) finds a saved session by its cookie id, with its CSRF token and tokens', async () => {
    const backend = memoryBackend();
    const a = new SessionStore({ backend });
    const s = a.create();
    s.tokens = { bearer: 'person-token', refreshToken: 'refresh-me' };
    await a.save(s);
    const b = new SessionStore({ backend });
    const found = await b.load(s.id);
    expect(found?.csrf).toBe(s.csrf);
    expect(found?.tokens).toEqual({ bearer: 'person-token', refreshToken: 'refresh-me' });
    expect(await b.load('made-up')).toBeUndefined();
    expect(await new SessionStore().load(s.id)).toBeUndefined();
  });

  it('stores neither the cookie id nor a token in the clear, under a hash of the id; the record opens only with that id', async () => {
    const backend = memoryBackend();
    const store = new SessionStore({ backend });
    const s = store.create();
    s.tokens = { bearer: 'eyJhbGciOi.secret-bearer', idToken: 'eyJhbGciOi.secret-bearer' };
    await store.save(s);
    expect([...backend.records.keys()]).toEqual([hash(s.id)]);
    const record = backend.records.get(hash(s.id))!;
    const stored = `${record.sealed.toString('latin1')}${record.sealed.toString('base64')}`;
    expect(stored).not.toContain('secret-bearer');
    expect(stored).not.toContain(s.id);
    expect(unseal(s.id, record.sealed)?.tokens?.bearer).toBe('eyJhbGciOi.secret-bearer');
    expect(unseal(`${s.id}x`, record.sealed)).toBeUndefined();
    const altered = Buffer.from(record.sealed);
    altered[altered.length - 1] ^= 1;
    expect(unseal(s.id, altered)).toBeUndefined();
    expect(seal(s.id, { csrf: 'c' }).equals(seal(s.id, { csrf: 'c' }))).toBe(false);
  });

  it('a sign-out on one replica stays: another replica moving the expiry or saving refreshed tokens within recheckMs does not store the session again', async () => {
    let now = 1_000_000;
    const backend = memoryBackend();
    const a = new SessionStore({ backend, now: () => now, recheckMs: 5_000, touchMs: 1_000 });
    const b = new SessionStore({ backend, now: () => now, recheckMs: 5_000, touchMs: 1_000 });
    const s = a.create();
    s.tokens = { bearer: 't' };
    await a.save(s);
    const onB = (await b.load(s.id))!;
    await a.destroy(s.id);
    now += 2_000;
    // Trusted from B's memory for a moment, its stored expiry due to move forward.
    expect(await b.load(s.id)).toBe(onB);
    onB.tokens = { bearer: 'refreshed' };
    await b.save(onB);
    expect(backend.records.size).toBe(0);
    expect(await new SessionStore({ backend, now: () => now }).load(s.id)).toBeUndefined();
    now += 5_000;
    expect(await b.load(s.id)).toBeUndefined();
  });

  it('a refresh token the provider refused is not taken back from the store (no refresh again every recheck), a newer one saved by another replica is', async () => {
    let now = 1_000_000;
    const backend = memoryBackend();
    const a = new SessionStore({ backend, now: () => now, recheckMs: 5_000 });
    const b = new SessionStore({ backend, now: () => now, recheckMs: 5_000 });
    const s = a.create();
    s.tokens = { bearer: 'old', refreshToken: 'r1', expiresAt: now - 1 };
    await a.save(s);
    // Refused by the provider on a (the account suspended, say): signed out there.
    s.refusedRefreshToken = 'r1';
    s.tokens = undefined;
    now += 5_000;
    expect((await a.load(s.id))?.tokens).toBeUndefined();
    // b refreshed first (a rotated refresh token works once) and saved the new tokens: a uses them.
    const onB = (await b.load(s.id))!;
    onB.tokens = { bearer: 'new', refreshToken: 'r2' };
    await b.save(onB);
    now += 5_000;
    expect((await a.load(s.id))?.tokens?.bearer).toBe('new');
  });

  it('a sign-out on one replica ends the session on another within recheckMs', async () => {
    let now = 1_000_000;
    const backend = memoryBackend();
    const a = new SessionStore({ backend, now: () => now, recheckMs: 5_000 });
    const b = new SessionStore({ backend, now: () => now, recheckMs: 5_000 });
    const s = a.create();
    s.tokens = { bearer: 't' };
    await a.save(s);
    expect(await b.load(s.id)).toBeDefined();
    await a.destroy(s.id);
    expect(backend.records.size).toBe(0);
    now += 5_000;
    expect(await b.load(s.id)).toBeUndefined();
  });

  it('a session never saved (no tokens, no sign-in in progress) stays in memory and writes nothing', async () => {
    const backend = memoryBackend();
    const store = new SessionStore({ backend });
    const s = store.create();
    expect(await store.load(s.id)).toBe(s);
    expect(backend.writes).toBe(0);
  });

  it('moves the stored expiry forward at most every touchMs, and an expired record is deleted when found', async () => {
    let now = 0;
    const backend = memoryBackend();
    const store = new SessionStore({ backend, now: () => now, idleMs: 60_000, recheckMs: 1_000, touchMs: 10_000 });
    const s = store.create();
    s.tokens = { bearer: 't' };
    await store.save(s);
    expect(backend.writes).toBe(1);
    for (let i = 0; i < 9; i++) {
      now += 1_000;
      expect(await store.load(s.id)).toBeDefined();
    }
    expect(backend.writes).toBe(1);
    now += 1_000;
    await store.load(s.id);
    expect(backend.writes).toBe(2);
    expect(backend.records.get(hash(s.id))!.expiresAt).toBe(now + 60_000);
    const other = new SessionStore({ backend, now: () => now });
    now += 60_001;
    expect(await other.load(s.id)).toBeUndefined();
    expect(backend.records.size).toBe(0);
  });
});
