import { describe, expect, it } from 'vitest';
import { TokenBucket, abortableSleep } from './flowcontrol.ts';

describe('TokenBucket', () => {
  it('serves a full burst at once, then one request every 1/qps in the order asked', () => {
    const b = new TokenBucket(10, 3, 0);
    expect([b.reserve(0), b.reserve(0), b.reserve(0)]).toEqual([0, 0, 0]);
    // The fourth waits 100 ms, the fifth 200 ms: reservations queue up.
    expect(b.reserve(0)).toBeCloseTo(100);
    expect(b.reserve(0)).toBeCloseTo(200);
    // 250 ms later the queue has moved on by 2.5 tokens: the next waits until 300 ms.
    expect(b.reserve(250)).toBeCloseTo(50);
  });

  it('refills at qps and never above the burst', () => {
    const b = new TokenBucket(100, 5, 0);
    for (let i = 0; i < 5; i++) b.reserve(0);
    expect(b.available(20)).toBeCloseTo(2);
    expect(b.available(3_600_000)).toBe(5);
    expect([...Array(6)].map(() => b.tryTake(3_600_000))).toEqual([true, true, true, true, true, false]);
  });

  it('takes back the token of a wait that was given up, so those behind it move up', () => {
    const b = new TokenBucket(10, 1, 0);
    expect(b.reserve(0)).toBe(0);
    expect(b.reserve(0)).toBeCloseTo(100);
    b.cancel(0);
    expect(b.reserve(0)).toBeCloseTo(100);
  });

  it('keeps a long run within burst + qps × time', () => {
    // 10 s of callers that each wait their turn: no more than 50 + 200 × 10 go out.
    const b = new TokenBucket(200, 50, 0);
    let sent = 0;
    for (let t = 0; t <= 10_000; t += 1) {
      while (b.available(t) >= 1) {
        expect(b.reserve(t)).toBe(0);
        sent++;
      }
    }
    expect(sent).toBeLessThanOrEqual(50 + 200 * 10);
    expect(sent).toBeGreaterThanOrEqual(50 + 200 * 10 - 1);
  });

  it.each([
    [0, 10],
    [-1, 10],
    [Infinity, 10],
    [5, 0],
  ])('refuses qps %d with burst %d', (qps, burst) => {
    expect(() => new TokenBucket(qps, burst, 0)).toThrow(/qps > 0 and burst ≥ 1/);
  });
});

describe('abortableSleep', () => {
  it('rejects with the reason as soon as the signal aborts, and at once when it already has', async () => {
    const ac = new AbortController();
    const t0 = Date.now();
    const p = abortableSleep(10_000, ac.signal);
    setTimeout(() => ac.abort(new Error('stop')), 20);
    await expect(p).rejects.toThrow('stop');
    expect(Date.now() - t0).toBeLessThan(1_000);
    await expect(abortableSleep(10, ac.signal)).rejects.toThrow('stop');
  });
});
