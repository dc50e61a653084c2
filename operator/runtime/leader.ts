import type { Logger } from 'pino';
import type { Clock } from './clock.ts';
import { ApiError, errorMessage } from './errors.ts';
import type { AnyObject, KubeClient } from './kube/client.ts';
import { Resources } from './kube/resource.ts';

interface Lease extends AnyObject {
  spec?: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

const microTime = (d: Date) => d.toISOString().replace('Z', '000Z');

/** Milliseconds on a clock that never jumps (durations only, never written anywhere). */
const monotonic = () => performance.now();

/**
 * Leader election on a coordination.k8s.io Lease, as client-go's leaderelection does:
 * a lease held by another identity counts as expired only once this process has seen
 * it unchanged for a whole lease duration (local observation, immune to clock skew);
 * the leader renews every retry period and gives up leadership when it could not renew
 * within the renew deadline; on shutdown the leader releases the lease so a standby
 * takes over at once.
 *
 * Leadership is a fence in time: this process leads until `renewDeadline` after the start
 * of its last successful renewal, and not a moment longer, while a standby waits a whole
 * `leaseDuration` (longer) after it saw that renewal. So every Lease request (get, create,
 * update, release) is bounded by what is left of the renew deadline, not by the client's
 * idle timeout: a request that stalls (a partition, an API server that hangs) cannot keep
 * this process believing it leads after a standby may have taken over. When the deadline
 * passes `onLost` runs at once; the caller cancels its work and exits.
 */
export class LeaderElector {
  private readonly client: KubeClient;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly opts: Required<LeaderElectionOptions>;
  private observed?: { record: string; at: number };
  private observedHolder?: string;
  private state: 'standby' | 'leading' | 'lost' | 'released' = 'standby';
  /** When the last successful acquisition or renewal began (monotonic ms). */
  private renewedAt = 0;
  private stopped = false;
  private wake?: () => void;

  constructor(client: KubeClient, clock: Clock, log: Logger, opts: LeaderElectionOptions) {
    this.client = client;
    this.clock = clock;
    this.log = log.child({ lease: `${opts.namespace}/${opts.name}`, identity: opts.identity });
    this.opts = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, ...opts };
  }

  get isLeader(): boolean {
    return this.state === 'leading';
  }

  /**
   * Liveness: a standby is healthy; a leader only while its last renewal began less than
   * the renew deadline ago (a renew loop that hangs, or a process too starved to renew,
   * fails it, so that it is restarted); a process that lost the lease never is again.
   */
  healthy(): boolean {
    if (this.state === 'lost') return false;
    return this.state !== 'leading' || monotonic() - this.renewedAt <= this.opts.renewDeadlineMs;
  }

  /**
   * Resolves once leadership is acquired (or undefined if stopped first). `onLost` is
   * called if leadership is lost afterwards; the caller should stop at once.
   */
  async acquire(onLost: (reason: string) => void): Promise<boolean> {
    while (!this.stopped) {
      const started = monotonic();
      if (await this.tryAcquireOrRenew(started + this.opts.renewDeadlineMs)) {
        this.renewedAt = started;
        this.state = 'leading';
        this.log.info('Leader lease acquired');
        void this.renewLoop(onLost);
        return true;
      }
      await this.pause(this.opts.retryPeriodMs);
    }
    return false;
  }

  private async renewLoop(onLost: (reason: string) => void): Promise<void> {
    const { identity, retryPeriodMs, renewDeadlineMs } = this.opts;
    while (!this.stopped && this.state === 'leading') {
      await this.pause(retryPeriodMs);
      if (this.stopped) return;
      const deadline = this.renewedAt + renewDeadlineMs;
      const started = monotonic();
      if (started < deadline && (await this.tryAcquireOrRenew(deadline))) {
        this.renewedAt = started;
        continue;
      }
      if (this.stopped) return;
      const takenBy = this.observedHolder !== identity ? this.observedHolder : undefined;
      if (monotonic() < deadline && this.observedHolder === identity) continue; // retry within the deadline
      this.state = 'lost';
      const reason = takenBy ? `lease taken by ${takenBy}` : `lease not renewed within the renew deadline (${renewDeadlineMs} ms)`;
      this.log.error({ reason }, 'Leader lease lost');
      onLost(reason);
      return;
    }
  }

  /** One attempt; its requests end at `deadline` (monotonic ms), and it fails then. */
  private async tryAcquireOrRenew(deadline: number): Promise<boolean> {
    const { namespace, name, identity } = this.opts;
    const client = this.client.withSignal(AbortSignal.timeout(Math.max(1, Math.ceil(deadline - monotonic()))));
    const now = this.clock.now();
    const durationSeconds = Math.ceil(this.opts.leaseDurationMs / 1000);
    try {
      const lease = await client.get<Lease>(Resources.Lease, name, namespace);
      if (!lease) {
        await client.create(Resources.Lease, {
          metadata: { name, namespace },
          spec: { holderIdentity: identity, leaseDurationSeconds: durationSeconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 },
        });
        this.observedHolder = identity;
        return true;
      }
      const spec = lease.spec ?? {};
      const record = JSON.stringify([spec.holderIdentity, spec.renewTime, spec.acquireTime]);
      if (this.observed?.record !== record) this.observed = { record, at: monotonic() };
      this.observedHolder = spec.holderIdentity ?? undefined;
      const heldByOther = !!spec.holderIdentity && spec.holderIdentity !== identity;
      const expired = monotonic() - this.observed.at > (spec.leaseDurationSeconds ?? durationSeconds) * 1000;
      if (heldByOther && !expired) return false;
      const transitions = (spec.leaseTransitions ?? 0) + (spec.holderIdentity === identity ? 0 : 1);
      await client.replace(Resources.Lease, {
        ...lease,
        spec: {
          holderIdentity: identity,
          leaseDurationSeconds: durationSeconds,
          acquireTime: spec.holderIdentity === identity && spec.acquireTime ? spec.acquireTime : microTime(now),
          renewTime: microTime(now),
          leaseTransitions: transitions,
        },
      });
      this.observedHolder = identity;
      return true;
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 409)) this.log.warn({ err: errorMessage(err) }, 'Leader lease not acquired or renewed');
      return false;
    }
  }

  /**
   * Stops campaigning; a leader gives the lease up so that a standby need not wait for it
   * to expire, within what is left of its renew deadline (after it, the lease is no longer
   * this process's to give).
   */
  async release(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    if (this.state !== 'leading') return;
    this.state = 'released';
    const left = this.renewedAt + this.opts.renewDeadlineMs - monotonic();
    if (left <= 0) {
      this.log.warn('Leader lease not released: the renew deadline had passed');
      return;
    }
    const client = this.client.withSignal(AbortSignal.timeout(Math.ceil(left)));
    try {
      const lease = await client.get<Lease>(Resources.Lease, this.opts.name, this.opts.namespace);
      if (lease?.spec?.holderIdentity !== this.opts.identity) return;
      const now = microTime(this.clock.now());
      await client.replace(Resources.Lease, { ...lease, spec: { ...lease.spec, holderIdentity: null, leaseDurationSeconds: 1, renewTime: now } });
      this.log.info('Leader lease released');
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'Leader lease not released');
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
}
