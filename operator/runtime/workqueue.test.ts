import { describe, expect, it } from 'vitest';
import { TokenBucket } from './flowcontrol.ts';
import { WorkQueue } from './workqueue.ts';

describe('WorkQueue', () => {
  it('hands out a key added twice only once', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('a');
    q.add('b');
    expect(q.depth).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
    expect(q.depth).toBe(0);
  });

  it('never hands a key in flight to a second worker, and requeues it once done if it changed meanwhile', async () => {
    const q = new WorkQueue();
    q.add('a');
    const first = await q.get();
    q.add('a'); // changed while in flight
    expect(q.depth).toBe(0);
    let second: string | undefined;
    void q.get().then((k) => (second = k));
    await Promise.resolve();
    expect(second).toBeUndefined();
    q.done(first!);
    await Promise.resolve();
    expect(second).toBe('a');
  });

  it('backs off exponentially per key up to the cap, and forget resets it', () => {
    const q = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 50 });
    expect([q.addRateLimited('a'), q.addRateLimited('a'), q.addRateLimited('a'), q.addRateLimited('a')]).toEqual([10, 20, 40, 50]);
    expect(q.addRateLimited('b')).toBe(10);
    q.forget('a');
    expect(q.addRateLimited('a')).toBe(10);
    void q.shutDown();
  });

  it('holds all retries to the retry budget on top of per-key backoff: a burst, then retryQps', () => {
    let t = 0;
    const q = new WorkQueue({ baseDelayMs: 10, retryQps: 10, retryBurst: 3, now: () => t });
    // Five keys fail at once: three go on their own backoff, the rest wait their token.
    expect(['a', 'b', 'c', 'd', 'e'].map((k) => q.addRateLimited(k))).toEqual([10, 10, 10, 100, 200]);
    // A key whose own backoff is longer than the budget's wait keeps its own.
    t = 10_000;
    for (let i = 0; i < 7; i++) q.addRateLimited('slow');
    expect(q.numRequeues('slow')).toBe(7);
    expect(q.addRateLimited('slow')).toBe(1280);
    void q.shutDown();
  });

  it('shares one retry budget between the queues given the same bucket (an outage across controllers is no stampede)', () => {
    const t = 0;
    const bucket = new TokenBucket(10, 2, t);
    const orgs = new WorkQueue({ baseDelayMs: 5, retryBucket: bucket, now: () => t });
    const members = new WorkQueue({ baseDelayMs: 5, retryBucket: bucket, now: () => t });
    expect([orgs.addRateLimited('o1'), orgs.addRateLimited('o2')]).toEqual([5, 5]);
    expect([members.addRateLimited('m1'), members.addRateLimited('m2')]).toEqual([100, 200]);
    void orgs.shutDown();
    void members.shutDown();
  });

  it('adds a key after its delay, and the earliest pending delay wins', async () => {
    const q = new WorkQueue();
    q.addAfter('a', 200);
    q.addAfter('a', 20);
    q.addAfter('a', 500);
    const started = Date.now();
    expect(await q.get()).toBe('a');
    expect(Date.now() - started).toBeLessThan(190);
  });

  it('lets in-flight work finish on shutdown and hands out nothing more', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('b');
    const key = await q.get();
    let drained = false;
    const done = q.shutDown().then(() => (drained = true));
    expect(await q.get()).toBeUndefined(); // 'b' waits for the next process
    await Promise.resolve();
    expect(drained).toBe(false);
    q.done(key!);
    await done;
    expect(drained).toBe(true);
    expect(await q.get()).toBeUndefined();
  });

  it('says why each key was queued: the first reason while it waits, a new one once it was handed out', async () => {
    const q = new WorkQueue({ baseDelayMs: 1 });
    q.add('a', 'organizations:add');
    q.add('a', 'namespaces:add'); // folded into the first
    expect(await q.get()).toBe('a');
    expect(q.takeReason('a')).toBe('organizations:add');
    expect(q.isProcessing('a')).toBe(true);
    q.add('a', 'roles:update'); // while in flight: queued again once done
    q.done('a');
    expect(await q.get()).toBe('a');
    expect(q.takeReason('a')).toBe('roles:update');
    q.addRateLimited('a');
    q.done('a');
    expect(q.isProcessing('a')).toBe(false);
    expect(await q.get()).toBe('a');
    expect(q.takeReason('a')).toBe('retry');
    q.addAfter('a', 1, 'requeueAfter');
    q.done('a');
    expect(await q.get()).toBe('a');
    expect(q.takeReason('a')).toBe('requeueAfter');
    expect(q.takeReason('a')).toBe('unknown');
  });
});

describe('WorkQueue hooks (the workqueue_* metrics)', () => {
  it('counts each add once, measures the wait from the add that queued the key and the work from get to done, and tells of retries', async () => {
    let t = 0;
    const seen: string[] = [];
    const q = new WorkQueue({
      now: () => t,
      hooks: { onAdd: () => seen.push('add'), onGet: (s) => seen.push(`get ${s}`), onDone: (s) => seen.push(`done ${s}`), onRetry: () => seen.push('retry') },
    });
    q.add('a');
    t = 250;
    expect(await q.get()).toBe('a');
    q.add('a'); // changed while in flight: queued again when done, its wait counted from now
    q.add('a'); // folded into the one waiting
    t = 1000;
    expect(q.inFlightSeconds()).toEqual([0.75]);
    q.done('a');
    t = 1500;
    expect(await q.get()).toBe('a');
    q.addRateLimited('a');
    q.done('a');
    await q.shutDown();
    expect(seen).toEqual(['add', 'get 0.25', 'add', 'done 0.75', 'get 1.25', 'retry', 'done 0']);
  });
});
