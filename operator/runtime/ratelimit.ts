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
