// Client-side flow control toward the API server: a token bucket with reservations, as
// client-go's util/flowcontrol (golang.org/x/time/rate underneath) has it, shared by the
// KubeClient (QPS and burst, like rest.Config) and by the work queues (the overall retry
// budget of client-go's DefaultControllerRateLimiter). Time is passed in, in milliseconds of
// a monotonic clock, so tests need no timers.

/** Milliseconds on a monotonic clock (performance.now by default). */
export type MonotonicNow = () => number;
export const monotonicNow: MonotonicNow = () => performance.now();

/**
 * A token bucket that holds `burst` tokens and gains `qps` a second. A reservation always
 * succeeds and says how long to wait: tokens may go below zero, so callers are served in
 * the order they asked, each one 1/qps after the previous (rate.Limiter.Reserve). A caller
 * that gives up before its turn hands its token back (Reservation.Cancel).
 */
export class TokenBucket {
  readonly qps: number;
  readonly burst: number;
  private tokens: number;
  private at: number;
  private readonly perMs: number;

  constructor(qps: number, burst: number, now: number) {
    if (!(qps > 0) || !Number.isFinite(qps) || !(burst >= 1)) throw new Error(`A token bucket needs qps > 0 and burst ≥ 1, got qps ${qps}, burst ${burst}`);
    this.qps = qps;
    this.burst = Math.floor(burst);
    this.perMs = qps / 1000;
    this.tokens = this.burst;
    this.at = now;
  }

  private advance(now: number): void {
    if (now > this.at) {
      this.tokens = Math.min(this.burst, this.tokens + (now - this.at) * this.perMs);
      this.at = now;
    }
  }

  /** Takes a token; returns how many ms to wait before using it (0: at once). */
  reserve(now: number): number {
    this.advance(now);
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : -this.tokens / this.perMs;
  }

  /** Takes a token only if one is there now. */
  tryTake(now: number): boolean {
    this.advance(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Gives back a reserved token whose wait was abandoned. */
  cancel(now: number): void {
    this.advance(now);
    this.tokens = Math.min(this.burst, this.tokens + 1);
  }

  /** Tokens available now (negative: reservations waiting). */
  available(now: number): number {
    this.advance(now);
    return this.tokens;
  }
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. Leaves no timer behind. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * A budget of requests that never queues: a token is taken if one is there now, else the
 * caller is refused at once (to answer 503 rather than wait behind a flood). Part of the
 * bucket (`reserve`, a fraction of burst) is kept for `priority` takers (the renewals of
 * answers already given to known callers): others are refused once the bucket is down to
 * it, so a flood of new work cannot starve the renewals.
 */
export class ReviewBudget {
  private readonly bucket: TokenBucket;
  private readonly reserve: number;
  private readonly now: MonotonicNow;

  constructor(opts: { qps: number; burst: number; reserveFraction?: number; now?: MonotonicNow }) {
    this.now = opts.now ?? monotonicNow;
    this.bucket = new TokenBucket(opts.qps, opts.burst, this.now());
    this.reserve = Math.floor(this.bucket.burst * (opts.reserveFraction ?? 0.25));
  }

  /** Takes a token now if one is there for this kind of taker; false: refuse the work. */
  take(priority: boolean): boolean {
    const now = this.now();
    if (!priority && this.bucket.available(now) < this.reserve + 1) return false;
    return this.bucket.tryTake(now);
  }

  /** Seconds until a new (not priority) taker may find a token: for Retry-After. */
  retryAfterSeconds(): number {
    const missing = this.reserve + 1 - this.bucket.available(this.now());
    return Math.max(1, Math.ceil(missing / this.bucket.qps));
  }
}
