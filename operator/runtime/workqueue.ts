import { TokenBucket, monotonicNow } from './flowcontrol.ts';
import type { MonotonicNow } from './flowcontrol.ts';

/**
 * A work queue keyed by namespace/name, shaped like client-go's: a key waiting is
 * never queued twice; a key being processed is never handed to a second worker (if it
 * changes meanwhile it is queued again when the first finishes); failures back off
 * exponentially per key up to a cap, and all retries together are held to a token
 * bucket (client-go's DefaultControllerRateLimiter: the larger of the per-key delay and
 * the bucket's); addAfter serves requeueAfter; shutDown stops handing out keys and lets
 * in-flight work finish.
 */
export interface WorkQueueOptions {
  baseDelayMs?: number;
  maxDelayMs?: number;
  /**
   * The retry budget: one token per retry, whatever the key. Pass one bucket to several
   * queues to share it. Default: a bucket of this queue's own, of retryQps and retryBurst.
   */
  retryBucket?: TokenBucket;
  /** Retries a second on average, and at once (client-go: 10 and 100). */
  retryQps?: number;
  retryBurst?: number;
  /** For tests: the clock the retry bucket is read with (and, in ms, the one queue and work times are measured with). */
  now?: MonotonicNow;
  /** Told of adds, waits, work and retries (client-go's workqueue metrics: operator/runtime/metrics.ts). */
  hooks?: WorkQueueHooks;
}

/** What client-go's workqueue reports to its MetricsProvider, in seconds. */
export interface WorkQueueHooks {
  /** A key was queued (not folded into a key already waiting). */
  onAdd?(): void;
  /** A worker took a key that had waited `seconds` since it was queued. */
  onGet?(seconds: number): void;
  /** A worker finished a key it had held `seconds`. */
  onDone?(seconds: number): void;
  /** A key was queued again after a failure (addRateLimited). */
  onRetry?(): void;
}

/** client-go's DefaultControllerRateLimiter bucket: 10 retries a second, 100 at once. */
export const DEFAULT_RETRY_QPS = 10;
export const DEFAULT_RETRY_BURST = 100;

export class WorkQueue {
  private readonly queue: string[] = [];
  private head = 0;
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  /** Why each key waits: the reason of the add that queued it (later adds of the same key are folded into it). */
  private readonly reasons = new Map<string, string>();
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  private shuttingDown = false;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly retryBucket: TokenBucket;
  private readonly now: MonotonicNow;
  private drained?: () => void;
  private readonly hooks: WorkQueueHooks;
  /** When each waiting key was queued, and when each key in flight was handed out (ms of `now`). */
  private readonly addedAt = new Map<string, number>();
  private readonly startedAt = new Map<string, number>();

  constructor(opts: WorkQueueOptions = {}) {
    this.baseDelayMs = opts.baseDelayMs ?? 100;
    this.maxDelayMs = opts.maxDelayMs ?? 5 * 60_000;
    this.now = opts.now ?? monotonicNow;
    this.retryBucket = opts.retryBucket ?? new TokenBucket(opts.retryQps ?? DEFAULT_RETRY_QPS, opts.retryBurst ?? DEFAULT_RETRY_BURST, this.now());
    this.hooks = opts.hooks ?? {};
  }

  /** Seconds each key in flight has been held so far (workqueue_unfinished_work_seconds, ..._longest_running_processor_seconds). */
  inFlightSeconds(): number[] {
    const now = this.now();
    return [...this.startedAt.values()].map((t) => (now - t) / 1000);
  }

  /** Hands `key` to a worker: it is in flight from now. */
  private handOut(key: string): void {
    const now = this.now();
    this.dirty.delete(key);
    this.processing.add(key);
    this.startedAt.set(key, now);
    const added = this.addedAt.get(key);
    this.addedAt.delete(key);
    this.hooks.onGet?.(added === undefined ? 0 : (now - added) / 1000);
  }

  /** Keys waiting (not counting those in flight or delayed). */
  get depth(): number {
    return this.queue.length - this.head;
  }

  get inFlight(): number {
    return this.processing.size;
  }

  /** Queues the key; `reason` says why (for metrics: takeReason), the first one wins while it waits. */
  add(key: string, reason = 'unknown'): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    this.addedAt.set(key, this.now());
    if (!this.reasons.has(key)) this.reasons.set(key, reason);
    if (!this.processing.has(key)) this.ready(key);
    this.hooks.onAdd?.();
  }

  /** A dirty key no worker holds: to a waiting worker, else to the end of the queue. */
  private ready(key: string): void {
    const waiter = this.waiters.shift();
    if (waiter) {
      this.handOut(key);
      waiter(key);
    } else {
      this.queue.push(key);
    }
  }

  /** Adds the key after a delay; an earlier pending delay for the same key wins. */
  addAfter(key: string, delayMs: number, reason = 'unknown'): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key, reason);
      return;
    }
    const at = Date.now() + delayMs;
    const pending = this.timers.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key, reason);
    }, delayMs);
    this.timers.set(key, { at, timer });
  }

  /**
   * Requeues after the longer of this key's next backoff delay and the wait for a token of
   * the retry budget (client-go MaxOfRateLimiter: both are consulted, so the retry takes a
   * token either way); reason "retry". Returns the delay.
   */
  addRateLimited(key: string): number {
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    const perKey = Math.min(this.baseDelayMs * 2 ** (n - 1), this.maxDelayMs);
    const delay = Math.max(perKey, Math.ceil(this.retryBucket.reserve(this.now())));
    this.hooks.onRetry?.();
    this.addAfter(key, delay, 'retry');
    return delay;
  }

  /** Why a key just handed out was queued; call once per get(). */
  takeReason(key: string): string {
    const reason = this.reasons.get(key) ?? 'unknown';
    this.reasons.delete(key);
    return reason;
  }

  /** Whether a worker holds the key now. */
  isProcessing(key: string): boolean {
    return this.processing.has(key);
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Clears the key's failure history (after a success). */
  forget(key: string): void {
    this.failures.delete(key);
  }

  /** The next key, or undefined once the queue shuts down. */
  get(): Promise<string | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    if (this.head < this.queue.length) {
      const key = this.queue[this.head++]!;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      this.handOut(key);
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: string): void {
    const started = this.startedAt.get(key);
    this.startedAt.delete(key);
    if (started !== undefined) this.hooks.onDone?.((this.now() - started) / 1000);
    this.processing.delete(key);
    // Changed while in flight: queued again now, its wait counted from that add.
    if (this.dirty.has(key) && !this.shuttingDown) this.ready(key);
    if (this.shuttingDown && this.processing.size === 0) this.drained?.();
  }

  /** Stops handing out keys; resolves when the in-flight keys are done. */
  shutDown(): Promise<void> {
    this.shuttingDown = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.reasons.clear();
    this.addedAt.clear();
    for (const w of this.waiters.splice(0)) w(undefined);
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => (this.drained = resolve));
  }
}
