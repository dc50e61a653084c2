import type { Logger } from 'pino';
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { Informer, keyOf, likelyCause } from './cache.ts';
import type { AnyCacheDecl, CacheDecl, CacheSource, InformerOptions } from './cache.ts';
import { TerminalError, errorMessage } from './errors.ts';
import type { AnyObject, KubeClient } from './kube/client.ts';
import type { LeaderElector } from './leader.ts';
import type { OperatorMetrics } from './metrics.ts';
import type { OwnWrites } from './apply.ts';
import { TokenBucket, monotonicNow } from './flowcontrol.ts';
import { DEFAULT_RETRY_BURST, DEFAULT_RETRY_QPS, WorkQueue } from './workqueue.ts';

export interface ReconcileResult {
  /** Reconcile this key again after this long (a timer, not a failure). */
  requeueAfterMs?: number;
}

/** What a reconcile is given besides its key. */
export interface ReconcileContext {
  /**
   * Aborted when this process must stop acting (it lost the lease): requests and side
   * effects (email) made with it stop at once, and nothing more is written. A SIGTERM does
   * not abort it: in-flight reconciles drain, then the lease is released.
   */
  signal: AbortSignal;
  /**
   * The controller's logger for this reconcile, as controller-runtime's: the controller's
   * name, group and kind, the object's namespace and name, and a reconcileID that every
   * line of this one reconcile shares. Log errors under `err` (the Error itself: its
   * message and stack with their causes). Absent only where a test calls reconcile itself.
   */
  log?: Logger;
}

/** Level-based: reads the current state for `key` from the caches, converges it, returns. */
export interface Reconciler {
  reconcile(key: string, ctx: ReconcileContext): Promise<ReconcileResult | void>;
}

export interface Watch {
  /** The declared cache whose events concern the primaries. */
  cache: AnyCacheDecl;
  /** Which primary keys an event on this object concerns. */
  map: (obj: AnyObject) => string[];
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
  /** The primary resource's cache: every event on it enqueues its own key. */
  for: AnyCacheDecl;
  /**
   * Updates that change only status are ignored (they are mostly the controller's own
   * writes), except where this says a status change is someone else's input.
   */
  statusChanged?: (oldObj: AnyObject, obj: AnyObject) => boolean;
  /** Caches of the objects this controller creates: an event enqueues their controller owner. */
  owns?: AnyCacheDecl[];
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

/** The API group of an apiVersion ("apps/v1": apps; "v1": the core group, ""). */
const groupOf = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '');

/** Enqueue the controller owner of the primary's group and kind (a kind of the same name in another API group is not ours). */
function ownerKeys(owner: { group: string; kind: string; namespaced: boolean }) {
  return (obj: AnyObject): string[] => {
    const ref = obj.metadata.ownerReferences?.find((r) => r.controller && r.kind === owner.kind && groupOf(r.apiVersion) === owner.group);
    if (!ref) return [];
    return [owner.namespaced && obj.metadata.namespace ? `${obj.metadata.namespace}/${ref.name}` : ref.name];
  };
}

export interface ManagerOptions {
  client: KubeClient;
  /** The operator's own namespace: where the caches declared `inNamespace: 'operator'` look (and nowhere else). */
  namespace?: string;
  /** The embedded identity provider's namespace: where the caches declared `inNamespace: 'identity'` look (default `namespace`). */
  identityNamespace?: string;
  /** Versions produced by the controllers' own writes: their events wake nobody. */
  ownWrites?: OwnWrites;
  log: Logger;
  metrics: OperatorMetrics;
  elector?: LeaderElector;
  informerDefaults?: Partial<InformerOptions<AnyObject>>;
  defaultConcurrency?: number;
  /**
   * Per-key backoff of failed reconciles, and the retry budget all controllers share
   * (default client-go's 10 a second, 100 at once): when the API server is down for every
   * controller, retries come back at that pace, not all at once.
   */
  queue?: { baseDelayMs?: number; maxDelayMs?: number; retryQps?: number; retryBurst?: number };
  /** How long start waits for every cache to list before it gives up, naming the ones that did not (default 2 min). */
  cacheSyncTimeoutMs?: number;
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
export class Manager implements CacheSource {
  private readonly opts: ManagerOptions;
  private readonly informers = new Map<string, Informer>();
  private readonly decls = new Map<string, CacheDecl>();
  private readonly controllers: RunningController[] = [];
  private started = false;
  private leading = false;
  private stopping?: Promise<void>;
  /** The lifetime of this process's reconciles: aborted when it must stop acting. */
  private readonly work = new AbortController();
  /** One retry budget for every controller's queue. */
  private readonly retryBucket: TokenBucket;

  constructor(opts: ManagerOptions) {
    this.opts = opts;
    this.retryBucket = new TokenBucket(opts.queue?.retryQps ?? DEFAULT_RETRY_QPS, opts.queue?.retryBurst ?? DEFAULT_RETRY_BURST, monotonicNow());
  }

  /**
   * The shared cache of a declaration (created on first use; call before start). A
   * resource and selector has one declaration: another one for it is a conflict, so no
   * controller silently inherits a cache shaped for someone else.
   */
  cache<T extends AnyObject>(decl: CacheDecl<T>): Informer<T> {
    const namespace = decl.inNamespace === 'identity' ? (this.opts.identityNamespace ?? this.opts.namespace) : decl.inNamespace && this.opts.namespace;
    if (decl.inNamespace && !namespace) throw new Error(`Cache ${decl.name} reads the ${decl.inNamespace} namespace, and the Manager was given none`);
    const id = `${decl.resource.group}/${decl.resource.plural}?${decl.labelSelector ?? ''}${namespace ? `@${namespace}` : ''}`;
    const known = this.decls.get(id);
    if (known && known !== (decl as unknown as CacheDecl)) {
      throw new Error(
        `Cache conflict: ${decl.resource.plural}${decl.labelSelector ? ` [${decl.labelSelector}]` : ''} is declared twice (as "${known.name}" and "${decl.name}"); declare each cache once, in operator/domain/caches.ts`,
      );
    }
    let inf = this.informers.get(id);
    if (!inf) {
      const transform = decl.transform as ((obj: AnyObject) => AnyObject) | undefined;
      inf = new Informer(
        this.opts.client,
        { ...this.opts.informerDefaults, resource: decl.resource, labelSelector: decl.labelSelector, ...(namespace ? { namespace } : {}), ...(transform ? { transform } : {}) },
        this.opts.log,
        {
          onWatchRestart: (r, reason) => this.opts.metrics.watchRestarts.inc({ resource: r, reason }),
          onEvent: (r, type) => this.opts.metrics.watchEvents.inc({ resource: r, type }),
        },
      );
      for (const [name, fn] of Object.entries(decl.indexes ?? {})) inf.addIndexer(name, fn as (o: AnyObject) => string[]);
      this.informers.set(id, inf);
      this.decls.set(id, decl as unknown as CacheDecl);
      if (this.started) inf.start();
    }
    return inf as unknown as Informer<T>;
  }

  add(spec: ControllerSpec): WorkQueue {
    const queue: WorkQueue = new WorkQueue({
      baseDelayMs: this.opts.queue?.baseDelayMs,
      maxDelayMs: this.opts.queue?.maxDelayMs,
      retryBucket: this.retryBucket,
      hooks: this.opts.metrics.workQueueHooks(spec.name, () => queue),
    });
    const log = this.opts.log.child({ controller: spec.name, controllerGroup: spec.for.resource.group, controllerKind: spec.for.resource.kind });
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
    const forName = spec.for.resource.plural;
    this.cache(spec.for).addHandler({
      onAdd: (o) => enqueue([keyOf(o)], `${forName}:add`),
      onUpdate: (old, o) => {
        if (old === o) return enqueue([keyOf(o)], `${forName}:resync`);
        if (specOrMetaChanged(old, o) || spec.statusChanged?.(old, o)) enqueueUnlessOurs([keyOf(o)], o, `${forName}:update`);
      },
      onDelete: (o) => enqueue([keyOf(o)], `${forName}:delete`),
    });
    const owned = new Set<AnyCacheDecl>(spec.owns ?? []);
    const primary = spec.for.resource;
    const watches: Watch[] = [...(spec.owns ?? []).map((cache) => ({ cache, map: ownerKeys(primary) })), ...(spec.watches ?? [])];
    for (const w of watches) {
      const delay = w.coalesceMs ?? 0;
      const name = w.cache.resource.plural;
      // An owned object in the state our own write made is no news; its deletion always is.
      const news = owned.has(w.cache) ? enqueueUnlessOurs : (keys: string[], _o: AnyObject, reason: string, delayMs?: number) => enqueue(keys, reason, delayMs);
      this.cache(w.cache).addHandler({
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

  /**
   * Aborted when this process must stop acting (leadership lost): the signal of every
   * reconcile, and of the client the controllers write with (KubeClient.withSignal).
   */
  get signal(): AbortSignal {
    return this.work.signal;
  }

  /**
   * Starts the caches, then (after winning the election, if any) the workers. On losing
   * the lease, in-flight work is cancelled at once and `onLeadershipLost` is told, so the
   * process can exit without draining (as controller-runtime does): two leaders never act
   * at once.
   */
  async start(onLeadershipLost: (reason: string) => void): Promise<void> {
    this.started = true;
    for (const inf of this.informers.values()) inf.start();
    const { elector } = this.opts;
    if (elector) {
      const won = await elector.acquire((reason) => this.leadershipLost(reason, onLeadershipLost));
      if (!won) return;
    }
    this.opts.metrics.isLeader.set(1);
    await this.waitForSync();
    if (this.work.signal.aborted) return;
    this.leading = true;
    for (const rc of this.controllers) this.startWorkers(rc);
  }

  /** Stops acting now: reconciles in flight are cancelled (their requests and emails with them), no worker takes another key. */
  private leadershipLost(reason: string, notify: (reason: string) => void): void {
    this.leading = false;
    this.opts.metrics.isLeader.set(0);
    this.work.abort(new Error(`Leadership lost: ${reason}`));
    for (const rc of this.controllers) void rc.queue.shutDown();
    notify(reason);
  }

  /** Liveness: false when the lease was not renewed in time or was lost (a standby, or no election, is healthy). */
  healthy(): boolean {
    return this.opts.elector?.healthy() ?? true;
  }

  /**
   * Resolves once every cache has listed; rejects after the sync timeout, naming each
   * cache that did not and the likely cause (a CRD or a permission missing).
   */
  async waitForSync(): Promise<void> {
    const timeoutMs = this.opts.cacheSyncTimeoutMs ?? 120_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const pending = [...this.informers.values()].filter((i) => !i.hasSynced());
        const what = pending.map((i) => `${i.name} (${likelyCause(i.lastError) ?? (i.lastError ? errorMessage(i.lastError) : 'no answer yet')})`);
        reject(new Error(`Caches not synced after ${Math.round(timeoutMs / 1000)}s: ${what.join('; ')}`));
      }, timeoutMs);
    });
    try {
      await Promise.race([Promise.all([...this.informers.values()].map((i) => i.synced)), timeout]);
    } finally {
      clearTimeout(timer);
    }
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
    this.opts.metrics.crMaxConcurrent.set({ controller: rc.spec.name }, n);
    for (let i = 0; i < n; i++) rc.workers.push(this.worker(rc));
  }

  private async worker(rc: RunningController): Promise<void> {
    const { spec, queue, log } = rc;
    const m = this.opts.metrics;
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      if (this.work.signal.aborted) {
        queue.done(key);
        return;
      }
      m.reconcileTriggers.inc({ controller: spec.name, trigger: queue.takeReason(key) });
      m.queueDepth.set({ controller: spec.name }, queue.depth);
      m.inFlight.set({ controller: spec.name }, queue.inFlight);
      m.crActiveWorkers.inc({ controller: spec.name });
      const controller = { controller: spec.name };
      const slash = key.indexOf('/');
      const reconcileLog = log.child({ ...(slash >= 0 ? { namespace: key.slice(0, slash) } : {}), name: key.slice(slash + 1), reconcileID: randomUUID() });
      const end = m.reconcileDuration.startTimer(controller);
      const endTime = m.crReconcileTime.startTimer(controller);
      try {
        const res = await spec.reconciler.reconcile(key, { signal: this.work.signal, log: reconcileLog });
        queue.forget(key);
        if (res?.requeueAfterMs) queue.addAfter(key, res.requeueAfterMs, 'requeueAfter');
        m.reconcileTotal.inc({ controller: spec.name, result: res?.requeueAfterMs ? 'requeue' : 'success' });
        m.crReconcileTotal.inc({ controller: spec.name, result: res?.requeueAfterMs ? 'requeue_after' : 'success' });
      } catch (err) {
        m.reconcileErrors.inc(controller);
        m.crReconcileErrors.inc(controller);
        m.crReconcileTotal.inc({ controller: spec.name, result: 'error' });
        if (err instanceof TerminalError) {
          queue.forget(key);
          m.reconcileTotal.inc({ controller: spec.name, result: 'terminal' });
          m.crTerminalErrors.inc(controller);
          reconcileLog.error({ err }, 'Reconcile failed; not retrying until the object changes');
        } else {
          const delayMs = queue.addRateLimited(key);
          m.reconcileTotal.inc({ controller: spec.name, result: 'error' });
          reconcileLog.warn({ err, retryInMs: delayMs }, 'Reconcile failed; retrying');
        }
      } finally {
        end();
        endTime();
        m.crActiveWorkers.dec(controller);
        rc.reconciled(key);
        queue.done(key);
        m.inFlight.set({ controller: spec.name }, queue.inFlight);
      }
    }
  }

  /** Drains in-flight reconciles, releases the lease, stops the caches. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await Promise.all(
        this.controllers.map(async (rc) => {
          await rc.queue.shutDown();
          await Promise.all(rc.workers);
        }),
      );
      this.leading = false;
      this.opts.metrics.isLeader.set(0);
      await this.opts.elector?.release();
      await Promise.all([...this.informers.values()].map((i) => i.stop()));
    })();
    return this.stopping;
  }
}
