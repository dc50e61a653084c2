// In-memory stand-ins for the caches and the API server, for unit tests of pure parts and
// of single reconcile steps. Integration tests on the real control plane stay the proof
// that a controller works; these only make a step cheap to pin down.
import { isDeepStrictEqual } from 'node:util';
import type { ObjectStore } from './apply.ts';
import { keyOf } from './cache.ts';
import type { AnyCacheDecl, CacheDecl, CacheReader, CacheSource } from './cache.ts';
import { ApiError } from './errors.ts';
import type { AnyObject, ObjectBody } from './kube/client.ts';
import { apiVersionOf } from './kube/resource.ts';
import type { ResourceType } from './kube/resource.ts';

/** A cache over a fixed set of objects, with the declaration's indexes. */
export class MemoryCache<T extends AnyObject> implements CacheReader<T> {
  private readonly decl: CacheDecl<T>;
  private readonly objects = new Map<string, T>();

  constructor(decl: CacheDecl<T>, objects: T[] = []) {
    this.decl = decl;
    for (const o of objects) this.put(o);
  }

  put(obj: T): void {
    this.objects.set(keyOf(obj), this.decl.transform ? this.decl.transform(structuredClone(obj)) : structuredClone(obj));
  }

  remove(key: string): void {
    this.objects.delete(key);
  }

  get(key: string): T | undefined {
    return this.objects.get(key);
  }

  getByName(name: string, namespace?: string): T | undefined {
    return this.objects.get(namespace ? `${namespace}/${name}` : name);
  }

  list(): T[] {
    return [...this.objects.values()];
  }

  byIndex(indexName: string, value: string): T[] {
    const fn = this.decl.indexes?.[indexName];
    if (!fn) throw new Error(`No index ${indexName} on ${this.decl.name}`);
    return this.list().filter((o) => fn(o).includes(value));
  }

  hasSynced(): boolean {
    return true;
  }
}

/** Caches by declaration, as the Manager hands them out. */
export class MemoryCaches implements CacheSource {
  private readonly caches = new Map<AnyCacheDecl, MemoryCache<AnyObject>>();

  cache<T extends AnyObject>(decl: CacheDecl<T>): MemoryCache<T> {
    let c = this.caches.get(decl);
    if (!c) {
      c = new MemoryCache(decl as unknown as CacheDecl<AnyObject>);
      this.caches.set(decl, c);
    }
    return c as unknown as MemoryCache<T>;
  }
}

/** One write the fake API server took, for assertions. */
export interface RecordedWrite {
  verb: 'create' | 'apply' | 'status' | 'finalizer' | 'patch' | 'delete';
  kind: string;
  key: string;
}

/**
 * An in-memory API server for one reconcile step: objects by kind and key, generations
 * and resourceVersions, create that refuses an existing object, status merged by field,
 * and the list of writes made.
 */
export class FakeStore implements ObjectStore {
  readonly writes: RecordedWrite[] = [];
  /** A write this answers with an error fails with it, as the API server or the network would fail it (nothing is written). */
  failing?: (write: RecordedWrite) => Error | undefined;
  private readonly objects = new Map<string, AnyObject>();
  private version = 1;

  private check(verb: RecordedWrite['verb'], rt: ResourceType, key: string): void {
    const err = this.failing?.({ verb, kind: rt.kind, key });
    if (err) throw err;
  }

  private id(rt: ResourceType, key: string): string {
    return `${rt.group}/${rt.plural}/${key}`;
  }

  private stamp<T extends AnyObject>(rt: ResourceType, obj: T): T {
    obj.apiVersion = apiVersionOf(rt);
    obj.kind = rt.kind;
    obj.metadata.resourceVersion = String(++this.version);
    obj.metadata.uid ??= `uid-${obj.metadata.name}`;
    return obj;
  }

  /** Puts an object as it would already be on the server. */
  seed<T extends AnyObject>(rt: ResourceType, obj: T): T {
    const copy = this.stamp(rt, structuredClone(obj));
    this.objects.set(this.id(rt, keyOf(copy)), copy);
    return structuredClone(copy);
  }

  /** Every object of a resource, as the server has them. */
  all<T extends AnyObject>(rt: ResourceType): T[] {
    const prefix = `${rt.group}/${rt.plural}/`;
    return [...this.objects].filter(([id]) => id.startsWith(prefix)).map(([, o]) => structuredClone(o) as T);
  }

  peek<T extends AnyObject>(rt: ResourceType, name: string, namespace?: string): T | undefined {
    const o = this.objects.get(this.id(rt, namespace ? `${namespace}/${name}` : name));
    return o ? (structuredClone(o) as T) : undefined;
  }

  async get<T extends AnyObject>(rt: ResourceType, name: string, namespace?: string): Promise<T | undefined> {
    return this.peek<T>(rt, name, namespace);
  }

  async create<T extends AnyObject>(rt: ResourceType, obj: ObjectBody): Promise<T> {
    const key = keyOf(obj as AnyObject);
    this.check('create', rt, key);
    if (this.objects.has(this.id(rt, key))) throw new ApiError(409, 'AlreadyExists', `${rt.plural} "${obj.metadata.name}" already exists`);
    this.writes.push({ verb: 'create', kind: rt.kind, key });
    return this.seed(rt, obj as AnyObject) as T;
  }

  async apply<T extends AnyObject>(rt: ResourceType, obj: ObjectBody): Promise<T> {
    const key = keyOf(obj as AnyObject);
    this.check('apply', rt, key);
    const existing = this.objects.get(this.id(rt, key));
    this.writes.push({ verb: 'apply', kind: rt.kind, key });
    const merged = { ...(existing ?? {}), ...structuredClone(obj), metadata: { ...(existing?.metadata ?? {}), ...structuredClone(obj.metadata) } } as AnyObject;
    return this.seed(rt, merged) as T;
  }

  async applyStatus<T extends AnyObject>(rt: ResourceType, current: T & { status?: unknown }, status: Record<string, unknown>): Promise<T | undefined> {
    const key = keyOf(current);
    this.check('status', rt, key);
    const existing = this.objects.get(this.id(rt, key)) as (AnyObject & { status?: Record<string, unknown> }) | undefined;
    if (!existing) throw new ApiError(404, 'NotFound', `${rt.plural} "${current.metadata.name}" not found`);
    const now = existing.status ?? {};
    if (Object.entries(status).every(([k, v]) => isDeepStrictEqual(now[k], v))) return undefined;
    this.writes.push({ verb: 'status', kind: rt.kind, key });
    return this.seed(rt, { ...existing, status: { ...now, ...structuredClone(status) } }) as unknown as T;
  }

  async dropStatusFields(rt: ResourceType, obj: AnyObject, fields: string[]): Promise<void> {
    const existing = this.objects.get(this.id(rt, keyOf(obj))) as (AnyObject & { status?: Record<string, unknown> }) | undefined;
    if (!existing || fields.length === 0) return;
    this.writes.push({ verb: 'status', kind: rt.kind, key: keyOf(obj) });
    const status = { ...(existing.status ?? {}) };
    for (const f of fields) delete status[f];
    this.seed(rt, { ...existing, status });
  }

  async addFinalizer<T extends AnyObject>(rt: ResourceType, obj: T, finalizer: string): Promise<T> {
    this.check('finalizer', rt, keyOf(obj));
    const existing = this.objects.get(this.id(rt, keyOf(obj)));
    if (!existing) throw new ApiError(404, 'NotFound', 'not found');
    if (existing.metadata.finalizers?.includes(finalizer)) return structuredClone(existing) as T;
    this.writes.push({ verb: 'finalizer', kind: rt.kind, key: keyOf(obj) });
    return this.seed(rt, { ...existing, metadata: { ...existing.metadata, finalizers: [...(existing.metadata.finalizers ?? []), finalizer] } }) as T;
  }

  async removeFinalizer(rt: ResourceType, obj: AnyObject, finalizer: string): Promise<void> {
    const existing = this.objects.get(this.id(rt, keyOf(obj)));
    if (!existing?.metadata.finalizers?.includes(finalizer)) return;
    this.writes.push({ verb: 'finalizer', kind: rt.kind, key: keyOf(obj) });
    this.seed(rt, { ...existing, metadata: { ...existing.metadata, finalizers: existing.metadata.finalizers.filter((f) => f !== finalizer) } });
  }

  async removeAnnotation(rt: ResourceType, name: string, namespace: string | undefined, key: string, value: string): Promise<void> {
    const id = namespace ? `${namespace}/${name}` : name;
    const existing = this.objects.get(this.id(rt, id));
    if (existing?.metadata.annotations?.[key] !== value) return;
    this.writes.push({ verb: 'patch', kind: rt.kind, key: id });
    const { [key]: _gone, ...annotations } = existing.metadata.annotations;
    this.seed(rt, { ...existing, metadata: { ...existing.metadata, annotations } });
  }

  async delete(rt: ResourceType, name: string, namespace?: string): Promise<boolean> {
    const key = namespace ? `${namespace}/${name}` : name;
    this.check('delete', rt, key);
    this.writes.push({ verb: 'delete', kind: rt.kind, key });
    return this.objects.delete(this.id(rt, key));
  }
}
