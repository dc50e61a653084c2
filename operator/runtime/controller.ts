import type { Logger } from 'pino';
import { isDeepStrictEqual } from 'node:util';
import { Informer, keyOf } from './cache.ts';
import type { InformerOptions } from './cache.ts';
import { TerminalError, errorMessage } from './errors.ts';
import type { AnyObject, KubeClient } from './kube/client.ts';
import type { ResourceType } from './kube/resource.ts';
import type { LeaderElector } from './leader.ts';
import type { OperatorMetrics } from './metrics.ts';
import type { OwnWrites } from './apply.ts';
import { WorkQueue } from './workqueue.ts';

export interface ReconcileResult {
  /** Reconcile this key again after this long (a timer, not a failure). */
  requeueAfterMs?: number;
}

/** What a reconcile is given besides its key. */
export interface ReconcileContext {
  /**
   * Aborted when this process must stop acting (leadership lost, shutdown): requests and
   * side effects (email) made with it stop at once, and nothing more is written.
   */
  signal: AbortSignal;
}

/** Level-based: reads the current state for `key` from the caches, converges it, returns. */
export interface Reconciler {
  reconcile(key: string, ctx: ReconcileContext): Promise<ReconcileResult | void>;
}

export interface Watch {
  resource: ResourceType;
  /** Which primary keys an event on this object concerns. */
  map: (obj: AnyObject) => string[];
  labelSelector?: string;
  /** Whether an update matters to the primaries (default: any update); adds and deletes always do. */
  changed?: (oldObj: AnyObject, obj: AnyObject) => boolean;
  /**
   * Enqueue after this delay, so that a burst of events (a hundred memberships
   * arriving) becomes one reconcile of the primary, not a hundred.
   */
  coalesceMs?: number;
}

export interface ControllerSpec {
  name: string;
  /** The primary resource: every event on it enqueues its own key. */
  for: ResourceType;
  /**
   * Updates that change only status are ignored (they are mostly the controller's own
   * writes), except where this says a status change is someone else's input.
   */
  statusChanged?: (oldObj: AnyObject, obj: AnyObject) => boolean;
  /** Objects this controller creates: an event enqueues their controller owner. */
  owns?: { resource: ResourceType; labelSelector?: string }[];
  /** Other objects whose changes concern primaries. */
  watches?: Watch[];
  concurrency?: number;
  reconciler: Reconciler;
}

/** An update matters unless only status (or bookkeeping) changed; resyncs always matter. */
function specOrMetaChanged(oldObj: AnyObject, obj: AnyObject): boolean {
  if (oldObj === obj) return true;
  const strip = (o: AnyObject) => {
    const { status: _s, metadata, ...rest } = o as AnyObject & { status?: unknown };
    const { resourceVersion: _rv, managedFields: _mf, ...meta } = metadata;
    return { ...rest, metadata: meta };
  };
  return !isDeepStrictEqual(strip(oldObj), strip(obj));
}

/** Enqueue the controller owner of kind `ownerKind`. */
function ownerKeys(ownerKind: string, ownerNamespaced: boolean) {
  return (obj: AnyObject): string[] => {
    const ref = obj.metadata.ownerReferences?.find((r) => r.controller && r.kind === ownerKind);
    if (!ref) return [];
    return [ownerNamespaced && obj.metadata.namespace ? `${obj.metadata.namespace}/${ref.name}` : ref.name];
  };
}

export interface ManagerOptions {
  client: KubeClient;
  /** Versions produced by the controllers' own writes: their events wake nobody. */
  ownWrites?: OwnWrites;
  log: Logger;
  metrics: OperatorMetrics;
  elector?: LeaderElector;
  informerDefaults?: Partial<InformerOptions<AnyObject>>;
  defaultConcurrency?: number;
  queue?: { baseDelayMs?: number; maxDelayMs?: number };
}

interface RunningController {
  spec: ControllerSpec;
  queue: WorkQueue;
  log: Logger;
  workers: Promise<void>[];
  /** Called when a reconcile of `key` ended, before the queue may hand the key out again. */
  reconciled(key: string): void;
}

/**
 * Holds the shared caches (one informer per resource and label selector) and the
 * controllers. Caches start at once, so a standby is warm and /readyz means synced;
 * workers start only once this process leads.
 */
export class Manager {
  private readonly opts: ManagerOptions;
  private readonly informers = new Map<string, Informer>();
  private readonly controllers: RunningController[] = [];
  private started = false;
  private leading = false;
  private stopping?: Promise<void>;
  /** The lifetime of this process's reconciles: aborted when it must stop acting. */
  private readonly work = new AbortController();

  constructor(opts: ManagerOptions) {
    this.opts = opts;
  }

  /**
   * The shared informer for a resource and label selector (created on first use; call
   * before start). `transform` applies when this call creates it: the first caller decides.
   */
  informer<T extends AnyObject = AnyObject>(resource: ResourceType, opts: { labelSelector?: string; transform?: (obj: T) => T } = {}): Informer<T> {
    const id = `${resource.group}/${resource.plural}?${opts.labelSelector ?? ''}`;
    let inf = this.informers.get(id);
    if (!inf) {
      const transform = opts.transform as ((obj: AnyObject) => AnyObject) | undefined;
      inf = new Informer(this.opts.client, { ...this.opts.informerDefaults, resource, labelSelector: opts.labelSelector, ...(transform ? { transform } : {}) }, this.opts.log, {
        onWatchRestart: (r, reason) => this.opts.metrics.watchRestarts.inc({ resource: r, reason }),
        onEvent: (r, type) => this.opts.metrics.watchEvents.inc({ resource: r, type }),
      });
      this.informers.set(id, inf);
      if (this.started) inf.start();
    }
    return inf as unknown as Informer<T>;
  }

  add(spec: ControllerSpec): WorkQueue {
    const queue = new WorkQueue(this.opts.queue);
    const log = this.opts.log.child({ controller: spec.name });
    /** Queues `keys`; `reason` ("<resource>:<event>") is what miniapps_reconcile_triggers_total counts the reconcile under. */
    const enqueue = (keys: string[], reason: string, delayMs = 0) => {
      for (const k of keys) delayMs > 0 ? queue.addAfter(k, delayMs, reason) : queue.add(k, reason);
      this.opts.metrics.queueDepth.set({ controller: spec.name }, queue.depth);
    };
    const own = this.opts.ownWrites;
    const ours = (o: AnyObject) => !!own?.has(o);
    /**
     * A watch event can arrive before the answer to the write that caused it: while the
     * reconcile that wrote is in flight, ours() cannot tell an event of its own writes
     * from someone else's change yet. Such events wait for that reconcile to end (every
     * answer is in by then) and queue the key again only if they are not ours.
     */
    const undecided = new Map<string, { obj: AnyObject; reason: string; delayMs: number }[]>();
    const enqueueUnlessOurs = (keys: string[], o: AnyObject, reason: string, delayMs = 0) => {
      if (ours(o)) return;
      for (const k of keys) {
        if (!queue.isProcessing(k)) {
          enqueue([k], reason, delayMs);
          continue;
        }
        let waiting = undecided.get(k);
        if (!waiting) undecided.set(k, (waiting = []));
        waiting.push({ obj: o, reason, delayMs });
      }
    };
    const reconciled = (key: string) => {
      const waiting = undecided.get(key);
      if (!waiting) return;
      undecided.delete(key);
      const news = waiting.find((e) => !ours(e.obj));
      if (news) enqueue([key], news.reason, news.delayMs);
    };
    const forName = spec.for.plural;
    this.informer(spec.for).addHandler({
      onAdd: (o) => enqueue([keyOf(o)], `${forName}:add`),
      onUpdate: (old, o) => {
        if (old === o) return enqueue([keyOf(o)], `${forName}:resync`);
        if (specOrMetaChanged(old, o) || !!spec.statusChanged?.(old, o)) enqueueUnlessOurs([keyOf(o)], o, `${forName}:update`);
      },
      onDelete: (o) => enqueue([keyOf(o)], `${forName}:delete`),
    });
    const owned = new Set((spec.owns ?? []).map((o) => o.resource));
    const watches: Watch[] = [
      ...(spec.owns ?? []).map((o) => ({ resource: o.resource, labelSelector: o.labelSelector, map: ownerKeys(spec.for.kind, spec.for.namespaced) })),
      ...(spec.watches ?? []),
    ];
    for (const w of watches) {
      const delay = w.coalesceMs ?? 0;
      const name = w.resource.plural;
      // An owned object in the state our own write made is no news; its deletion always is.
      const news = owned.has(w.resource) ? enqueueUnlessOurs : (keys: string[], _o: AnyObject, reason: string, delayMs?: number) => enqueue(keys, reason, delayMs);
      this.informer(w.resource, { labelSelector: w.labelSelector }).addHandler({
        onAdd: (o) => news(w.map(o), o, `${name}:add`, delay),
        onUpdate: (old, o) => {
          if (old === o) return enqueue(w.map(o), `${name}:resync`, delay);
          if (w.changed && !w.changed(old, o)) return;
          news([...new Set([...w.map(old), ...w.map(o)])], o, `${name}:update`, delay);
        },
        onDelete: (o) => enqueue(w.map(o), `${name}:delete`, delay),
      });
    }
    const rc: RunningController = { spec, queue, log, workers: [], reconciled };
    this.controllers.push(rc);
    if (this.leading) this.startWorkers(rc);
    return queue;
  }

  /** Starts the caches, then (after winning the election, if any) the workers. */
  async start(onLeadershipLost: (reason: string) => void): Promise<void> {
    this.started = true;
    for (const inf of this.informers.values()) inf.start();
    const { elector } = this.opts;
    if (elector) {
      const won = await elector.acquire(onLeadershipLost);
      if (!won) return;
    }
    this.opts.metrics.isLeader.set(1);
    await this.waitForSync();
    this.leading = true;
    for (const rc of this.controllers) this.startWorkers(rc);
  }

  waitForSync(): Promise<void> {
    return Promise.all([...this.informers.values()].map((i) => i.synced)).then(() => undefined);
  }

  /** True once every cache has listed. */
  hasSynced(): boolean {
    return [...this.informers.values()].every((i) => i.hasSynced());
  }

  get isLeading(): boolean {
    return this.leading;
  }

  private startWorkers(rc: RunningController): void {
    const n = rc.spec.concurrency ?? this.opts.defaultConcurrency ?? 4;
    for (let i = 0; i < n; i++) rc.workers.push(this.worker(rc));
  }

  private async worker(rc: RunningController): Promise<void> {
    const { spec, queue, log } = rc;
    const m = this.opts.metrics;
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      m.reconcileTriggers.inc({ controller: spec.name, trigger: queue.takeReason(key) });
      m.queueDepth.set({ controller: spec.name }, queue.depth);
      m.inFlight.set({ controller: spec.name }, queue.inFlight);
      const end = m.reconcileDuration.startTimer({ controller: spec.name });
      try {
        const res = await spec.reconciler.reconcile(key, { signal: this.work.signal });
        queue.forget(key);
        if (res?.requeueAfterMs) queue.addAfter(key, res.requeueAfterMs, 'requeueAfter');
        m.reconcileTotal.inc({ controller: spec.name, result: res?.requeueAfterMs ? 'requeue' : 'success' });
      } catch (err) {
        m.reconcileErrors.inc({ controller: spec.name });
        if (err instanceof TerminalError) {
          queue.forget(key);
          m.reconcileTotal.inc({ controller: spec.name, result: 'terminal' });
          log.error({ key, err: errorMessage(err) }, 'Reconcile failed; not retrying until the object changes');
        } else {
          const delayMs = queue.addRateLimited(key);
          m.reconcileTotal.inc({ controller: spec.name, result: 'error' });
          log.warn({ key, err: errorMessage(err), cause: errorMessage((err as Error)?.cause ?? ''), retryInMs: delayMs }, 'Reconcile failed; retrying');
        }
      } finally {
        end();
        rc.reconciled(key);
        queue.done(key);
        m.inFlight.set({ controller: spec.name }, queue.inFlight);
      }
    }
  }

  /** Drains in-flight reconciles, releases the lease, stops the caches. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await Promise.all(this.controllers.map(async (rc) => {
        await rc.queue.shutDown();
        await Promise.all(rc.workers);
      }));
      this.leading = false;
      this.opts.metrics.isLeader.set(0);
      await this.opts.elector?.release();
      await Promise.all([...this.informers.values()].map((i) => i.stop()));
    })();
    return this.stopping;
  }
}
