import { describe, expect, it } from 'vitest';
import type { Clock } from './clock.ts';
import { clientKey, RateLimiter, ReviewCache, TtlCache } from './ratelimit.ts';

function fakeClock(start = Date.parse('2030-01-01T00:00:00Z')): Clock & { advance(ms: number): void } {
  let t = start;
  return { now: () => new Date(t), advance: (ms) => void (t += ms) };
}

describe('RateLimiter', () => {
  it('admits a burst, then refuses with the seconds until the next request is refilled', () => {
    const clock = fakeClock();
    const limiter = new RateLimiter({ perMinute: 30, burst: 3 }, clock);
    for (let i = 0; i < 3; i++) expect(limiter.take('a')).toEqual({ ok: true });
    expect(limiter.take('a')).toEqual({ ok: false, retryAfterSeconds: 2 });
    clock.advance(1_000);
    expect(limiter.take('a')).toEqual({ ok: false, retryAfterSeconds: 1 });
    clock.advance(1_000);
    expect(limiter.take('a')).toEqual({ ok: true });
    expect(limiter.take('a')).toEqual({ ok: false, retryAfterSeconds: 2 });
  });

  it('refills at the rate and never above the burst', () => {
    const clock = fakeClock();
    const limiter = new RateLimiter({ perMinute: 60, burst: 2 }, clock);
    limiter.take('a');
    limiter.take('a');
    clock.advance(3_600_000);
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')].map((a) => a.ok)).toEqual([true, true, false]);
  });

  it('keeps one bucket per key', () => {
    const limiter = new RateLimiter({ perMinute: 1, burst: 1 }, fakeClock());
    expect(limiter.take('a').ok).toBe(true);
    expect(limiter.take('a').ok).toBe(false);
    expect(limiter.take('b').ok).toBe(true);
  });

  it('does not refill when the clock goes backwards', () => {
    const clock = fakeClock();
    const limiter = new RateLimiter({ perMinute: 60, burst: 1 }, clock);
    limiter.take('a');
    clock.advance(-60_000);
    expect(limiter.take('a').ok).toBe(false);
  });

  it('remembers at most maxKeys keys under a flood of distinct keys, forgetting the least recently seen', () => {
    const limiter = new RateLimiter({ perMinute: 1, burst: 1, maxKeys: 100 }, fakeClock());
    limiter.take('busy');
    for (let i = 0; i < 10_000; i++) {
      limiter.take(`flood-${i}`);
      if (i % 50 === 0) expect(limiter.take('busy').ok).toBe(false); // seen recently: kept
    }
    expect(limiter.size).toBe(100);
    expect(limiter.take('flood-0').ok).toBe(true); // forgotten: a full bucket again
  });

  it.each([[{ perMinute: 0, burst: 1 }], [{ perMinute: 10, burst: 0 }]])('refuses a limit that admits nothing: %j', (limit) => {
    expect(() => new RateLimiter(limit)).toThrow(/perMinute > 0 and burst ≥ 1/);
  });
});

describe('TtlCache', () => {
  it('answers until the entry expires', () => {
    const clock = fakeClock();
    const cache = new TtlCache<string>({ ttlMs: 5_000, maxEntries: 10, clock });
    cache.set('k', 'v');
    clock.advance(4_999);
    expect(cache.get('k')).toBe('v');
    clock.advance(1);
    expect(cache.get('k')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('holds at most maxEntries, dropping the oldest', () => {
    const cache = new TtlCache<number>({ ttlMs: 5_000, maxEntries: 3, clock: fakeClock() });
    for (let i = 0; i < 1_000; i++) cache.set(`k${i}`, i);
    expect(cache.size).toBe(3);
    expect([cache.get('k996'), cache.get('k997'), cache.get('k999')]).toEqual([undefined, 997, 999]);
  });

  it('forgets a deleted entry, and keeps nothing with a ttl of 0', () => {
    const cache = new TtlCache<number>({ ttlMs: 5_000, maxEntries: 3, clock: fakeClock() });
    cache.set('k', 1);
    cache.delete('k');
    expect(cache.get('k')).toBeUndefined();
    const off = new TtlCache<number>({ ttlMs: 0, maxEntries: 3 });
    off.set('k', 1);
    expect(off.get('k')).toBeUndefined();
  });
});

describe('clientKey', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002::1', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['64:ff9b::203.0.113.7', '64:ff9b:0:0::/64'],
    [undefined, 'unknown'],
  ])('counts %s as %s', (address, key) => {
    expect(clientKey(address)).toBe(key);
  });
});

describe('ReviewCache', () => {
  /** A loader whose answers the test settles by hand, counting the lookups. */
  function loader<V>() {
    const pending: { resolve: (v: V) => void; reject: (e: Error) => void }[] = [];
    const load = () => new Promise<V>((resolve, reject) => void pending.push({ resolve, reject }));
    return { load, pending };
  }
  const tick = () => new Promise((r) => setImmediate(r));

  it('shares one lookup among callers asking at once, then answers from memory until half the ttl', async () => {
    const clock = fakeClock();
    const cache = new ReviewCache<boolean>({ ttlMs: 10_000, maxEntries: 10, clock });
    const l = loader<boolean>();
    const asked = [cache.get('k', l.load), cache.get('k', l.load), cache.get('k', l.load)];
    expect(l.pending).toHaveLength(1);
    l.pending[0]!.resolve(true);
    expect(await Promise.all(asked)).toEqual([true, true, true]);
    clock.advance(4_999);
    expect(cache.peek('k', l.load)).toBe(true);
    expect(l.pending).toHaveLength(1);
  });

  it('renews an answer in use in the background from half its ttl, never serving one older than the ttl', async () => {
    const clock = fakeClock();
    const cache = new ReviewCache<string>({ ttlMs: 10_000, maxEntries: 10, clock });
    const l = loader<string>();
    const first = cache.get('k', l.load);
    l.pending[0]!.resolve('old');
    await first;
    clock.advance(5_000);
    // Old enough: answered at once from memory, and one renewal starts (not one per request).
    expect(cache.peek('k', l.load)).toBe('old');
    expect(await cache.get('k', l.load)).toBe('old');
    expect(l.pending).toHaveLength(2);
    l.pending[1]!.resolve('new');
    await tick();
    expect(cache.peek('k', l.load)).toBe('new');
    // The renewed answer counts its age from when it was asked for (t = 5 s): gone at 15 s.
    clock.advance(9_999);
    expect(cache.peek('k', l.load)).toBe('new');
    clock.advance(1);
    expect(cache.peek('k', l.load)).toBeUndefined();
  });

  it('lets an answer expire at its time when its renewal fails, and then asks again', async () => {
    const clock = fakeClock();
    const cache = new ReviewCache<string>({ ttlMs: 10_000, maxEntries: 10, clock });
    const l = loader<string>();
    const first = cache.get('k', l.load);
    l.pending[0]!.resolve('a');
    await first;
    clock.advance(6_000);
    expect(cache.peek('k', l.load)).toBe('a');
    l.pending[1]!.reject(new Error('API server unreachable'));
    await tick();
    expect(cache.peek('k', l.load)).toBe('a');
    clock.advance(4_000);
    const again = cache.get('k', l.load);
    expect(l.pending).toHaveLength(3);
    l.pending[2]!.reject(new Error('still unreachable'));
    await expect(again).rejects.toThrow('still unreachable');
    expect(cache.size).toBe(0);
  });

  it('keeps each answer for its own ttl, nothing with a ttl of 0, and at most maxEntries', async () => {
    const clock = fakeClock();
    const cache = new ReviewCache<boolean>({ ttlMs: (ok) => (ok ? 10_000 : 0), maxEntries: 2, clock });
    expect(await cache.get('no', async () => false)).toBe(false);
    expect(cache.peek('no', async () => false)).toBeUndefined();
    for (const k of ['a', 'b', 'c']) await cache.get(k, async () => true);
    expect(cache.size).toBe(2);
    expect(cache.peek('a', async () => true)).toBeUndefined();
    expect(cache.peek('c', async () => true)).toBe(true);
  });
});
