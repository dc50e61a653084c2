import type { Logger } from 'pino';
import { errorMessage, isGone } from './errors.ts';
import type { AnyObject, KubeClient } from './kube/client.ts';
import { apiVersionOf } from './kube/resource.ts';
import type { ResourceType } from './kube/resource.ts';

export type IndexFn<T> = (obj: T) => string[];

export interface CacheHandler<T> {
  onAdd?(obj: T): void;
  onUpdate?(oldObj: T, obj: T): void;
  onDelete?(obj: T): void;
}

export interface InformerOptions<T> {
  resource: ResourceType;
  namespace?: string;
  labelSelector?: string;
  /** Every cached object is handed to onUpdate again this often (0: never), give or take resyncJitter. */
  resyncMs?: number;
  /**
   * Each resync period, the first included, is drawn from resyncMs × (1 ± this), so that
   * caches started together do not resync together (default 0.15; controller-runtime
   * spreads its SyncPeriod by ±10%, kube-controller-manager its by up to +100%).
   */
  resyncJitter?: number;
  /** For tests: the random source of the jitter. */
  random?: () => number;
  /** A watch that delivered nothing (not even a bookmark) for this long is restarted. */
  watchIdleMs?: number;
  /** Asked of the server for each watch; jittered so that watches do not end together. */
  watchTimeoutSeconds?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /**
   * Applied to every object before it is stored, after metadata.managedFields is dropped
   * (which every informer does: no controller reads it, and it is often the larger half
   * of an object).
   */
  transform?: (obj: T) => T;
  /** Objects per page of a relist: each page is transformed before the next is read. */
  pageSize?: number;
}

/**
 * One cache, declared once (operator/domain/caches.ts holds the table): the resource,
 * its label selector, what of each object is kept, and its indexes. Two declarations of
 * the same resource and selector are an error at start, not a silent first-caller-wins.
 */
export interface CacheDecl<T extends AnyObject = AnyObject> {
  /** What the cache is called in messages, e.g. `organizations`. */
  name: string;
  resource: ResourceType;
  labelSelector?: string;
  /**
   * Only the objects of one namespace: `operator`, the operator's own (the Manager's
   * `namespace`: what only the operator writes), or `identity`, the embedded identity
   * provider's (the Manager's `identityNamespace`, default its `namespace`).
   */
  inNamespace?: 'operator' | 'identity';
  /** Applied to every object before it is stored (the default drops managedFields). */
  transform?: (obj: T) => T;
  indexes?: Record<string, IndexFn<T>>;
}

/** A declaration of any object type (where only its identity matters: watches, module lists). */
// biome-ignore lint/suspicious/noExplicitAny: any object type, as the comment says (CacheDecl<AnyObject> would not take a CacheDecl<MiniApp>)
export type AnyCacheDecl = CacheDecl<any>;

/** Declares a cache (typed; no behaviour of its own). */
export const declareCache = <T extends AnyObject>(decl: CacheDecl<T>): CacheDecl<T> => decl;

/** What reconcilers and admission rules read: lookups by key or by index, never scans on a hot path. */
export interface CacheReader<T extends AnyObject = AnyObject> {
  get(key: string): T | undefined;
  getByName(name: string, namespace?: string): T | undefined;
  list(): T[];
  byIndex(indexName: string, value: string): T[];
  hasSynced(): boolean;
}

/** Where declared caches come from: the Manager, or an in-memory fake in unit tests. */
export interface CacheSource {
  cache<T extends AnyObject>(decl: CacheDecl<T>): CacheReader<T>;
}

export interface InformerHooks {
  onWatchRestart?(resource: string, reason: string): void;
  onEvent?(resource: string, type: string): void;
}

export const keyOf = (obj: { metadata: { namespace?: string; name?: string } }): string => (obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : (obj.metadata.name ?? ''));

const dropManagedFields = <T extends AnyObject>(obj: T): T => {
  if (obj.metadata?.managedFields) delete obj.metadata.managedFields;
  return obj;
};
const identity = <T>(obj: T): T => obj;

/** Why a list or watch keeps failing, when the status says (a missing CRD, a missing permission). */
export function likelyCause(err: unknown): string | undefined {
  const status = (err as { status?: number } | undefined)?.status;
  if (status === 404) return 'the resource does not exist on the API server: is its CRD installed (kubectl get crds)?';
  if (status === 403) return "the operator may not list or watch it: check its RBAC (the chart's ClusterRole)";
  if (status === 401) return "the operator's credentials were refused: check the kubeconfig or ServiceAccount token";
  return undefined;
}

/**
 * JSON.parse makes a new copy of every string value, so ten thousand cached objects hold
 * ten thousand copies of "miniapps-operator", of their owner's kind and uid, of each
 * condition's type, reason and message, of the second they were made in. The pool hands
 * out one copy of each value it saw recently: two generations of at most 16,384 values,
 * the older one dropped when the newer fills, so it never holds more than that (objects
 * that arrive together, an organization's Roles and namespace, share theirs). About
 * 50 ns a string, a few µs an object, against its JSON.parse's tens.
 */
class StringPool {
  private current = new Map<string, string>();
  private previous = new Map<string, string>();
  private static readonly GENERATION = 16_384;

  get(s: string): string {
    if (s.length > 128) return s;
    const hit = this.current.get(s);
    if (hit !== undefined) return hit;
    const kept = this.previous.get(s) ?? s;
    if (this.current.size >= StringPool.GENERATION) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(kept, kept);
    return kept;
  }
}

/** Every string value in `value` replaced by the pool's copy, in place; `skip`: a key whose values are never shared (resourceVersion). */
function internStrings(pool: StringPool, value: unknown, skip?: string): void {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (typeof v === 'string') value[i] = pool.get(v);
      else if (v !== null && typeof v === 'object') internStrings(pool, v);
    }
    return;
  }
  const obj = value as Record<string, unknown>;
  for (const k in obj) {
    const v = obj[k];
    if (typeof v === 'string') {
      if (k !== skip) obj[k] = pool.get(v);
    } else if (v !== null && typeof v === 'object') internStrings(pool, v, k === 'metadata' ? 'resourceVersion' : undefined);
  }
}

/** One pool for every informer: the same kinds and owners appear in many resources. */
const strings = new StringPool();

const interned = new Map<string, unknown>();
/** One shared instance per distinct JSON value (the same rules in every organization's Roles). */
function intern(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  const key = JSON.stringify(value);
  const hit = interned.get(key);
  if (hit !== undefined) return hit;
  if (interned.size >= 2_000) interned.clear();
  interned.set(key, value);
  return value;
}

/**
 * A cache transform that keeps only what controllers read of objects they own:
 * identity, labels, owners, deletion, and `fields` (labels, owners and fields shared
 * between objects when equal: an organization's Roles and namespace have the same).
 * Thousands of Roles and bindings then cost a fraction of their JSON.
 */
export function keepOnly<T extends AnyObject>(fields: readonly string[], opts: { annotations?: readonly string[] } = {}): (obj: T) => T {
  return (obj) => {
    const m = obj.metadata;
    const annotations = opts.annotations?.length && m.annotations ? Object.fromEntries(opts.annotations.filter((a) => a in m.annotations!).map((a) => [a, m.annotations![a]!])) : undefined;
    const slim: Record<string, unknown> = {
      apiVersion: obj.apiVersion,
      kind: obj.kind,
      metadata: {
        name: m.name,
        namespace: m.namespace,
        uid: m.uid,
        resourceVersion: m.resourceVersion,
        labels: intern(m.labels),
        ...(annotations && Object.keys(annotations).length ? { annotations } : {}),
        ownerReferences: intern(m.ownerReferences),
        // What needsApply compares with a desired object's finalizers.
        ...(m.finalizers?.length ? { finalizers: intern(m.finalizers) } : {}),
        deletionTimestamp: m.deletionTimestamp,
      },
    };
    for (const f of fields) if (f in obj) slim[f] = intern((obj as Record<string, unknown>)[f]);
    return slim as T;
  };
}

/** `ms` spread uniformly over ms × [1 - fraction, 1 + fraction). */
export function jittered(ms: number, fraction: number, random: () => number = Math.random): number {
  return Math.round(ms * (1 - fraction + 2 * fraction * random()));
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/**
 * A watch-backed cache of one resource: list, then watch from the list's
 * resourceVersion; relist when the server says 410 Gone (as an HTTP status or as an
 * ERROR event in the stream); resume the watch after any other failure with capped
 * exponential backoff; restart a watch that went silent (client-node's informer is
 * known to stall without an error); hand every object to the handlers again each
 * resync period. Lookups go by key or by index, never by scanning.
 */
export class Informer<T extends AnyObject = AnyObject> implements CacheReader<T> {
  readonly resource: ResourceType;
  private readonly client: KubeClient;
  private readonly log: Logger;
  private readonly opts: Required<Omit<InformerOptions<T>, 'namespace' | 'labelSelector'>> & Pick<InformerOptions<T>, 'namespace' | 'labelSelector'>;
  /** What is stored of an object from the API server: without managedFields, then opts.transform. */
  private readonly keep: (obj: T) => T;
  private readonly hooks: InformerHooks;
  private readonly store = new Map<string, T>();
  private readonly indexers = new Map<string, IndexFn<T>>();
  private readonly indices = new Map<string, Map<string, Set<string>>>();
  private readonly handlers: CacheHandler<T>[] = [];
  private resourceVersion = '';
  /** The last list or watch failure, for the sync timeout's message. */
  lastError?: unknown;
  private syncedFlag = false;
  private resolveSynced!: () => void;
  readonly synced: Promise<void> = new Promise((r) => (this.resolveSynced = r));
  private abort?: AbortController;
  private running?: Promise<void>;

  constructor(client: KubeClient, opts: InformerOptions<T>, log: Logger, hooks: InformerHooks = {}) {
    this.client = client;
    this.resource = opts.resource;
    this.log = log.child({ resource: opts.resource.plural });
    this.hooks = hooks;
    this.opts = {
      resyncMs: 60 * 60_000,
      resyncJitter: 0.15,
      random: Math.random,
      watchIdleMs: 5 * 60_000,
      watchTimeoutSeconds: 300,
      backoffBaseMs: 200,
      backoffMaxMs: 30_000,
      transform: identity,
      pageSize: 500,
      ...opts,
    };
    const transform = this.opts.transform;
    this.keep = (obj) => {
      const kept = transform(dropManagedFields(obj));
      internStrings(strings, kept);
      return kept;
    };
  }

  get name(): string {
    return this.opts.labelSelector ? `${this.resource.plural}[${this.opts.labelSelector}]` : this.resource.plural;
  }

  /** Adds an index; the same name with another function is a conflict (client-go's "indexer conflict"). */
  addIndexer(name: string, fn: IndexFn<T>): void {
    const existing = this.indexers.get(name);
    if (existing === fn) return;
    if (existing) throw new Error(`Indexer conflict: ${this.name} already has an index ${name} with another function`);
    if (this.running) throw new Error(`Indexer ${name} added after ${this.name} started`);
    this.indexers.set(name, fn);
    this.indices.set(name, new Map());
  }

  addHandler(handler: CacheHandler<T>): void {
    this.handlers.push(handler);
    if (this.syncedFlag) for (const obj of this.store.values()) handler.onAdd?.(obj);
  }

  hasSynced(): boolean {
    return this.syncedFlag;
  }

  get(key: string): T | undefined {
    return this.store.get(key);
  }

  getByName(name: string, namespace?: string): T | undefined {
    return this.store.get(namespace ? `${namespace}/${name}` : name);
  }

  list(): T[] {
    return [...this.store.values()];
  }

  get size(): number {
    return this.store.size;
  }

  byIndex(indexName: string, value: string): T[] {
    const index = this.indices.get(indexName);
    if (!index) throw new Error(`No index ${indexName} on ${this.name}`);
    const keys = index.get(value);
    if (!keys) return [];
    const out: T[] = [];
    for (const k of keys) {
      const obj = this.store.get(k);
      if (obj) out.push(obj);
    }
    return out;
  }

  start(): void {
    if (this.running) return;
    this.abort = new AbortController();
    this.running = this.run(this.abort.signal);
    if (this.opts.resyncMs > 0) {
      const { signal } = this.abort;
      let timer: NodeJS.Timeout | undefined;
      const next = () => {
        timer = setTimeout(
          () => {
            this.resync();
            if (!signal.aborted) next();
          },
          jittered(this.opts.resyncMs, this.opts.resyncJitter, this.opts.random),
        );
        timer.unref();
      };
      next();
      signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
    }
  }

  async stop(): Promise<void> {
    this.abort?.abort();
    await this.running;
  }

  private resync(): void {
    for (const obj of this.store.values()) for (const h of this.handlers) h.onUpdate?.(obj, obj);
  }

  private async run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      try {
        if (!this.resourceVersion) await this.relist();
        await this.watchOnce(signal);
        failures = 0;
      } catch (err) {
        if (signal.aborted) break;
        if (isGone(err)) {
          this.restarted('gone', 'Watch resourceVersion expired; relisting');
          this.resourceVersion = '';
          continue;
        }
        failures++;
        const delay = Math.min(this.opts.backoffBaseMs * 2 ** (failures - 1), this.opts.backoffMaxMs);
        this.lastError = err;
        const cause = likelyCause(err);
        if (cause) this.log.error({ err: errorMessage(err), cause, delayMs: delay }, 'List or watch refused; retrying');
        this.restarted('error', 'Watch failed; retrying', { err: errorMessage(err), delayMs: delay });
        await sleep(delay * (0.8 + Math.random() * 0.4), signal);
      }
    }
  }

  private restarted(reason: string, msg: string, extra: Record<string, unknown> = {}): void {
    this.hooks.onWatchRestart?.(this.resource.plural, reason);
    this.log.info({ reason, ...extra }, msg);
  }

  /**
   * Lists page by page, storing each page's objects (transformed) before reading the
   * next: a relist of tens of thousands of objects never holds them all as the server
   * sent them, which at a restart would be the process's memory peak.
   */
  private async relist(): Promise<void> {
    const seen = new Set<string>();
    const apiVersion = apiVersionOf(this.resource);
    let cont: string | undefined;
    let resourceVersion = '';
    do {
      const page = await this.client.list<T>(this.resource, { namespace: this.opts.namespace, labelSelector: this.opts.labelSelector, limit: this.opts.pageSize, continue: cont });
      for (const raw of page.items) {
        raw.apiVersion = apiVersion;
        raw.kind = this.resource.kind;
        const obj = this.keep(raw);
        const key = keyOf(obj);
        seen.add(key);
        this.upsert(key, obj);
      }
      cont = page.metadata.continue || undefined;
      resourceVersion = page.metadata.resourceVersion;
    } while (cont);
    for (const [key, obj] of this.store) if (!seen.has(key)) this.remove(key, obj);
    this.resourceVersion = resourceVersion;
    if (!this.syncedFlag) {
      this.syncedFlag = true;
      this.resolveSynced();
      this.log.debug({ count: this.store.size }, 'Cache synced');
    }
  }

  /** Also used by tests to force the expired-resourceVersion path. */
  setResourceVersionForTest(rv: string): void {
    this.resourceVersion = rv;
  }

  private async watchOnce(outer: AbortSignal): Promise<void> {
    const watchAbort = new AbortController();
    // AbortSignal.any also covers an outer signal that aborted before this line.
    const signal = AbortSignal.any([outer, watchAbort.signal]);
    let stalled = false;
    let idle: NodeJS.Timeout | undefined;
    const arm = () => {
      if (idle) clearTimeout(idle);
      idle = setTimeout(() => {
        stalled = true;
        watchAbort.abort();
      }, this.opts.watchIdleMs);
      idle.unref();
    };
    arm();
    const timeoutSeconds = Math.round(this.opts.watchTimeoutSeconds * (1 + Math.random()));
    try {
      for await (const ev of this.client.watch<T>(this.resource, {
        namespace: this.opts.namespace,
        labelSelector: this.opts.labelSelector,
        resourceVersion: this.resourceVersion,
        timeoutSeconds,
        signal,
      })) {
        arm();
        this.hooks.onEvent?.(this.resource.plural, ev.type);
        if (ev.type === 'ERROR') {
          const status = ev.object as unknown as { code?: number; message?: string };
          if (status.code === 410) {
            this.restarted('gone', 'Watch resourceVersion expired; relisting');
            this.resourceVersion = '';
            return;
          }
          throw new Error(`Watch error: ${status.message ?? JSON.stringify(status)}`);
        }
        const obj = this.keep(ev.object);
        if (obj.metadata.resourceVersion) this.resourceVersion = obj.metadata.resourceVersion;
        if (ev.type === 'BOOKMARK') continue;
        obj.apiVersion ??= apiVersionOf(this.resource);
        obj.kind ??= this.resource.kind;
        const key = keyOf(obj);
        if (ev.type === 'DELETED') this.remove(key, this.store.get(key) ?? obj);
        else this.upsert(key, obj);
      }
    } catch (err) {
      if (stalled) {
        this.restarted('stalled', 'Watch went silent; restarting', { idleMs: this.opts.watchIdleMs });
        return;
      }
      if (outer.aborted) return;
      throw err;
    } finally {
      if (idle) clearTimeout(idle);
      watchAbort.abort();
    }
  }

  private upsert(key: string, obj: T): void {
    const old = this.store.get(key);
    if (old && old.metadata.resourceVersion === obj.metadata.resourceVersion) return;
    if (old) this.unindex(key, old);
    this.store.set(key, obj);
    this.index(key, obj);
    for (const h of this.handlers) old ? h.onUpdate?.(old, obj) : h.onAdd?.(obj);
  }

  private remove(key: string, obj: T): void {
    const old = this.store.get(key);
    if (!old) return;
    this.unindex(key, old);
    this.store.delete(key);
    for (const h of this.handlers) h.onDelete?.(obj);
  }

  private index(key: string, obj: T): void {
    for (const [name, fn] of this.indexers) {
      const index = this.indices.get(name)!;
      for (const value of fn(obj)) {
        let keys = index.get(value);
        if (!keys) index.set(value, (keys = new Set()));
        keys.add(key);
      }
    }
  }

  private unindex(key: string, obj: T): void {
    for (const [name, fn] of this.indexers) {
      const index = this.indices.get(name)!;
      for (const value of fn(obj)) {
        const keys = index.get(value);
        keys?.delete(key);
        if (keys?.size === 0) index.delete(value);
      }
    }
  }
}
