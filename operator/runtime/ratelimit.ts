// Rate limits and a short cache for public endpoints (the acceptance page now, the API-key
// verify endpoint later): token buckets per key, and a TTL map, both bounded in size so that a
// flood of distinct keys (addresses, tokens) cannot grow memory without limit.

import { isIPv6 } from 'node:net';
import { systemClock } from './clock.ts';
import type { Clock } from './clock.ts';

/** A token bucket: `burst` requests at once, refilled at `perMinute`. */
export interface RateLimit {
  perMinute: number;
  burst: number;
  /** Keys remembered at most (default 10,000); the least recently seen is forgotten first. */
  maxKeys?: number;
}

export type Admission = { ok: true } | { ok: false; retryAfterSeconds: number };

/**
 * One token bucket per key. A forgotten key starts again with a full bucket, which is what an
 * idle key has anyway; forgetting a busy one takes `maxKeys` other keys seen after it.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly perMs: number;
  private readonly burst: number;
  private readonly maxKeys: number;
  private readonly clock: Clock;

  constructor(limit: RateLimit, clock: Clock = systemClock) {
    if (!(limit.perMinute > 0) || !(limit.burst >= 1)) throw new Error(`A rate limit needs perMinute > 0 and burst ≥ 1, got ${JSON.stringify(limit)}`);
    this.perMs = limit.perMinute / 60_000;
    this.burst = limit.burst;
    this.maxKeys = limit.maxKeys ?? 10_000;
    this.clock = clock;
  }

  /** Takes one request from the key's bucket, or says how many seconds until one is there. */
  take(key: string): Admission {
    const now = this.clock.now().getTime();
    const bucket = this.buckets.get(key);
    let tokens = this.burst;
    if (bucket) {
      tokens = Math.min(this.burst, bucket.tokens + Math.max(0, now - bucket.at) * this.perMs);
      this.buckets.delete(key); // re-inserted below: the Map's order is the order of use
    }
    const admitted = tokens >= 1;
    if (admitted) tokens -= 1;
    this.buckets.set(key, { tokens, at: now });
    if (this.buckets.size > this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    return admitted ? { ok: true } : { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / this.perMs / 1000)) };
  }

  /** Keys remembered now. */
  get size(): number {
    return this.buckets.size;
  }
}

/** A map whose entries expire `ttlMs` after they were set, holding `maxEntries` at most (least recently set dropped first). */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; expires: number }>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly clock: Clock;

  constructor(opts: { ttlMs: number; maxEntries: number; clock?: Clock }) {
    this.ttlMs = opts.ttlMs;
    this.maxEntries = opts.maxEntries;
    this.clock = opts.clock ?? systemClock;
  }

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (this.clock.now().getTime() < entry.expires) return entry.value;
    this.entries.delete(key);
    return undefined;
  }

  set(key: string, value: V): void {
    if (this.ttlMs <= 0 || this.maxEntries <= 0) return;
    this.entries.delete(key);
    this.entries.set(key, { value, expires: this.clock.now().getTime() + this.ttlMs });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}

/**
 * The key a client is limited by: its IPv4 address, or the /64 of its IPv6 address (one
 * subscriber usually holds a whole /64, so counting single IPv6 addresses would give one
 * client 2^64 budgets). IPv4-mapped IPv6 addresses count as IPv4.
 */
export function clientKey(remoteAddress: string | undefined): string {
  if (!remoteAddress) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remoteAddress);
  if (mapped) return mapped[1];
  if (!isIPv6(remoteAddress.split('%')[0])) return remoteAddress;
  const [head, tail] = remoteAddress.split('%')[0].split('::');
  const hex = (part: string | undefined): string[] =>
    (part ? part.split(':') : []).flatMap((g) => {
      const v4 = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(g);
      return v4 ? [((+v4[1] << 8) | +v4[2]).toString(16), ((+v4[3] << 8) | +v4[4]).toString(16)] : [g];
    });
  const h = hex(head);
  const t = hex(tail);
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return `${groups
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}

/**
 * The answers of an authority (the API server's TokenReviews and SubjectAccessReviews) for
 * the operator's HTTP APIs, reused for a short time: an answer is never served older than
 * its ttl, one lookup per key runs at a time (callers asking at once share it), and an
 * answer still in use is looked up again in the background once it is `refreshAfter` old
 * (half its ttl by default), so a steady caller never waits for the API server once warm.
 * A background lookup that fails leaves the answer to expire at its time.
 */
export class ReviewCache<V> {
  private readonly entries = new Map<string, { value: V; at: number; expires: number }>();
  private readonly inflight = new Map<string, Promise<V>>();
  private readonly ttlOf: (value: V) => number;
  private readonly refreshFraction: number;
  private readonly maxEntries: number;
  private readonly clock: Clock;

  constructor(opts: {
    /** How long an answer is reused, by answer (e.g. a refusal for less time than an acceptance); 0 keeps nothing. */
    ttlMs: number | ((value: V) => number);
    maxEntries: number;
    /** The fraction of its ttl after which a used answer is looked up again in the background (default 0.5). */
    refreshAfter?: number;
    clock?: Clock;
  }) {
    const ttl = opts.ttlMs;
    this.ttlOf = typeof ttl === 'function' ? ttl : () => ttl;
    this.refreshFraction = opts.refreshAfter ?? 0.5;
    this.maxEntries = opts.maxEntries;
    this.clock = opts.clock ?? systemClock;
  }

  /** The answer for `key` if one is remembered (no waiting); starts a background lookup with `load` when it is old enough. */
  peek(key: string, load: () => Promise<V>): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    const now = this.clock.now().getTime();
    if (now >= entry.expires) {
      this.entries.delete(key);
      return undefined;
    }
    if (now - entry.at >= (entry.expires - entry.at) * this.refreshFraction && !this.inflight.has(key)) {
      this.lookup(key, load).catch(() => undefined);
    }
    return entry.value;
  }

  /** The remembered answer, or the one `load` gives (shared with every caller asking for `key` meanwhile). */
  get(key: string, load: () => Promise<V>): Promise<V> {
    const hit = this.peek(key, load);
    return hit !== undefined ? Promise.resolve(hit) : this.lookup(key, load);
  }

  private lookup(key: string, load: () => Promise<V>): Promise<V> {
    let p = this.inflight.get(key);
    if (p) return p;
    const at = this.clock.now().getTime();
    p = load().then((value) => {
      const ttl = this.ttlOf(value);
      // A renewal's answer replaces the old one, also when it is not to be kept (ttl 0).
      this.entries.delete(key);
      if (ttl > 0 && this.maxEntries > 0) {
        this.entries.set(key, { value, at, expires: at + ttl });
        if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
      }
      return value;
    });
    this.inflight.set(key, p);
    p.finally(() => this.inflight.delete(key)).catch(() => undefined);
    return p;
  }

  forget(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Drops the answer kept longest (to make room elsewhere). */
  evictOldest(): void {
    const oldest = this.entries.keys().next();
    if (!oldest.done) this.entries.delete(oldest.value);
  }
}
