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

/**
 * Leader election on a coordination.k8s.io Lease, as client-go's leaderelection does:
 * a lease held by another identity counts as expired only once this process has seen
 * it unchanged for a whole lease duration (local observation, immune to clock skew);
 * the leader renews every retry period and gives up leadership when it could not renew
 * within the renew deadline; on shutdown the leader releases the lease so a standby
 * takes over at once.
 */
export class LeaderElector {
  private readonly client: KubeClient;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly opts: Required<LeaderElectionOptions>;
  private observed?: { record: string; at: number };
  private leading = false;
  private stopped = false;
  private wake?: () => void;

  constructor(client: KubeClient, clock: Clock, log: Logger, opts: LeaderElectionOptions) {
    this.client = client;
    this.clock = clock;
    this.log = log.child({ lease: `${opts.namespace}/${opts.name}`, identity: opts.identity });
    this.opts = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, ...opts };
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /**
   * Resolves once leadership is acquired (or undefined if stopped first). `onLost` is
   * called if leadership is lost afterwards; the caller should stop at once.
   */
  async acquire(onLost: (reason: string) => void): Promise<boolean> {
    while (!this.stopped) {
      if (await this.tryAcquireOrRenew()) {
        this.leading = true;
        this.log.info('Leader lease acquired');
        void this.renewLoop(onLost);
        return true;
      }
      await this.pause(this.opts.retryPeriodMs);
    }
    return false;
  }

  private async renewLoop(onLost: (reason: string) => void): Promise<void> {
    let lastRenew = Date.now();
    while (!this.stopped && this.leading) {
      await this.pause(this.opts.retryPeriodMs);
      if (this.stopped) return;
      if (await this.tryAcquireOrRenew()) {
        lastRenew = Date.now();
        continue;
      }
      if (Date.now() - lastRenew > this.opts.renewDeadlineMs || this.observedHolder !== this.opts.identity) {
        this.leading = false;
        const reason = this.observedHolder && this.observedHolder !== this.opts.identity ? `lease taken by ${this.observedHolder}` : 'lease not renewed within the renew deadline';
        this.log.error({ reason }, 'Leader lease lost');
        onLost(reason);
        return;
      }
    }
  }

  private observedHolder?: string;

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.opts;
    const now = this.clock.now();
    const durationSeconds = Math.ceil(this.opts.leaseDurationMs / 1000);
    try {
      const lease = await this.client.get<Lease>(Resources.Lease, name, namespace);
      if (!lease) {
        await this.client.create(Resources.Lease, {
          metadata: { name, namespace },
          spec: { holderIdentity: identity, leaseDurationSeconds: durationSeconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 },
        });
        this.observedHolder = identity;
        return true;
      }
      const spec = lease.spec ?? {};
      const record = JSON.stringify([spec.holderIdentity, spec.renewTime, spec.acquireTime]);
      if (this.observed?.record !== record) this.observed = { record, at: Date.now() };
      this.observedHolder = spec.holderIdentity ?? undefined;
      const heldByOther = !!spec.holderIdentity && spec.holderIdentity !== identity;
      const expired = Date.now() - this.observed.at > (spec.leaseDurationSeconds ?? durationSeconds) * 1000;
      if (heldByOther && !expired) return false;
      const transitions = (spec.leaseTransitions ?? 0) + (spec.holderIdentity === identity ? 0 : 1);
      await this.client.replace(Resources.Lease, {
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

  /** Stops campaigning; a leader gives the lease up so that a standby need not wait for it to expire. */
  async release(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    if (!this.leading) return;
    this.leading = false;
    try {
      const lease = await this.client.get<Lease>(Resources.Lease, this.opts.name, this.opts.namespace);
      if (lease?.spec?.holderIdentity !== this.opts.identity) return;
      const now = microTime(this.clock.now());
      await this.client.replace(Resources.Lease, { ...lease, spec: { ...lease.spec, holderIdentity: null, leaseDurationSeconds: 1, renewTime: now } });
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
