import { isDeepStrictEqual } from 'node:util';
import { ApiError } from './errors.ts';
import type { AnyObject, KubeClient, ObjectBody } from './kube/client.ts';
import { Resources, apiVersionOf } from './kube/resource.ts';
import type { ResourceType } from './kube/resource.ts';
import type { CacheReader } from './cache.ts';

/**
 * The object versions the controllers' own writes produced. A watch event carrying one
 * of them tells the controller nothing it does not know (it wrote that state), so it is
 * not reconciled again for it; anyone else's change has another resourceVersion. Bounded:
 * a write whose event never comes (a no-op) is forgotten eventually.
 */
export class OwnWrites {
  private readonly seen = new Set<string>();
  private readonly max: number;
  constructor(max = 20_000) {
    this.max = max;
  }

  record<T extends AnyObject>(obj: T): T {
    const key = `${obj.metadata.uid}/${obj.metadata.resourceVersion}`;
    this.seen.add(key);
    if (this.seen.size > this.max) this.seen.delete(this.seen.values().next().value!);
    return obj;
  }

  /** True when this version of the object came from our own write (every handler of the event may ask). */
  has(obj: AnyObject): boolean {
    return this.seen.has(`${obj.metadata.uid}/${obj.metadata.resourceVersion}`);
  }
}

/**
 * What reconcilers read fresh from and write to the API server. Reconcilers depend on
 * this interface, not on the HTTP client: a unit test hands them an in-memory fake
 * (runtime/testing.ts); the integration tests use ObjectWriter on a real API server.
 */
export interface ObjectStore {
  /** A fresh read (not the cache); undefined when it does not exist. */
  get<T extends AnyObject>(rt: ResourceType, name: string, namespace?: string): Promise<T | undefined>;
  create<T extends AnyObject>(rt: ResourceType, obj: ObjectBody): Promise<T>;
  apply<T extends AnyObject>(rt: ResourceType, obj: ObjectBody): Promise<T>;
  applyStatus<T extends AnyObject>(
    rt: ResourceType,
    current: T & { status?: unknown },
    status: Record<string, unknown>,
    opts?: { fieldManager?: string; resourceVersion?: string },
  ): Promise<T | undefined>;
  /**
   * Removes these top-level status fields whoever wrote them (a JSON merge patch: server-side
   * apply removes only what its own field manager owns), with a resourceVersion precondition.
   */
  dropStatusFields(rt: ResourceType, obj: AnyObject, fields: string[], resourceVersion?: string): Promise<void>;
  addFinalizer<T extends AnyObject>(rt: ResourceType, obj: T, finalizer: string): Promise<T>;
  removeFinalizer(rt: ResourceType, obj: AnyObject, finalizer: string): Promise<void>;
  /** Removes the annotation `key` whoever set it, only while it still has `value` (a JSON patch test); nothing when it does not. */
  removeAnnotation(rt: ResourceType, name: string, namespace: string | undefined, key: string, value: string): Promise<void>;
  /** Deletes (with a uid precondition when given); false when it did not exist. */
  delete(rt: ResourceType, name: string, namespace?: string, opts?: { uid?: string }): Promise<boolean>;
}

/**
 * How controllers write: server-side apply of the objects they own, status through the
 * status subresource only when it changed, finalizers with optimistic concurrency.
 */
export class ObjectWriter implements ObjectStore {
  readonly client: KubeClient;
  private readonly own?: OwnWrites;
  /** `own`: where the versions this writer produces are noted (the controllers' writer only). */
  constructor(client: KubeClient, own?: OwnWrites) {
    this.client = client;
    this.own = own;
  }

  private note<T extends AnyObject>(obj: T): T {
    return this.own ? this.own.record(obj) : obj;
  }

  get<T extends AnyObject>(rt: ResourceType, name: string, namespace?: string): Promise<T | undefined> {
    return this.client.get<T>(rt, name, namespace);
  }

  delete(rt: ResourceType, name: string, namespace?: string, opts: { uid?: string } = {}): Promise<boolean> {
    return this.client.delete(rt, name, namespace, opts);
  }

  /**
   * Creates an object that must not exist yet (a POST, never an apply): an AlreadyExists
   * error means someone else's object is there, and the operator does not take it over.
   */
  async create<T extends AnyObject>(rt: ResourceType, obj: ObjectBody): Promise<T> {
    return this.note(await this.client.create<T>(rt, obj));
  }

  /** Server-side apply of an owned object under the operator's field manager. */
  async apply<T extends AnyObject>(rt: ResourceType, obj: ObjectBody): Promise<T> {
    return this.note(await this.client.apply<T>(rt, obj));
  }

  /**
   * Applies `status` (the status fields this field manager owns) when one of them differs
   * from the object's current status. Only name, namespace and status are sent. With
   * `resourceVersion`, the write happens only if the object is still at that version
   * (compare-and-swap, for side-effect protocols). Returns the written object, or
   * undefined when nothing needed writing.
   */
  async applyStatus<T extends AnyObject>(
    rt: ResourceType,
    current: T & { status?: unknown },
    status: Record<string, unknown>,
    opts: { fieldManager?: string; resourceVersion?: string } = {},
  ): Promise<T | undefined> {
    const now = (current.status ?? {}) as Record<string, unknown>;
    if (Object.entries(status).every(([k, v]) => isDeepStrictEqual(now[k], v))) return undefined;
    const metadata = { name: current.metadata.name, namespace: current.metadata.namespace, ...(opts.resourceVersion ? { resourceVersion: opts.resourceVersion } : {}) };
    return this.note(await this.client.apply<T>(rt, { apiVersion: apiVersionOf(rt), kind: rt.kind, metadata, status }, { subresource: 'status', fieldManager: opts.fieldManager }));
  }

  async dropStatusFields(rt: ResourceType, obj: AnyObject, fields: string[], resourceVersion?: string): Promise<void> {
    if (fields.length === 0) return;
    const status = Object.fromEntries(fields.map((f) => [f, null]));
    this.note(await this.client.patch(rt, obj.metadata.name!, obj.metadata.namespace, { metadata: resourceVersion ? { resourceVersion } : {}, status }, 'merge', 'status'));
  }

  /** Adds the finalizer if missing. Returns the object as the server has it. */
  async addFinalizer<T extends AnyObject>(rt: ResourceType, obj: T, finalizer: string): Promise<T> {
    const finalizers = obj.metadata.finalizers ?? [];
    if (finalizers.includes(finalizer)) return obj;
    return this.note(
      await this.client.patch<T>(rt, obj.metadata.name!, obj.metadata.namespace, {
        metadata: { finalizers: [...finalizers, finalizer], resourceVersion: obj.metadata.resourceVersion },
      }),
    );
  }

  /** Removes the finalizer if present (a conflict means the object changed: the caller retries). */
  async removeFinalizer(rt: ResourceType, obj: AnyObject, finalizer: string): Promise<void> {
    const finalizers = obj.metadata.finalizers ?? [];
    if (!finalizers.includes(finalizer)) return;
    await this.client.patch(rt, obj.metadata.name!, obj.metadata.namespace, {
      metadata: { finalizers: finalizers.filter((f) => f !== finalizer), resourceVersion: obj.metadata.resourceVersion },
    });
  }

  async removeAnnotation(rt: ResourceType, name: string, namespace: string | undefined, key: string, value: string): Promise<void> {
    const path = `/metadata/annotations/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;
    try {
      await this.client.patch(
        rt,
        name,
        namespace,
        [
          { op: 'test', path, value },
          { op: 'remove', path },
        ],
        'json',
      );
    } catch (err) {
      // 422: the test failed (another value, or no such annotation); 404: the object is gone. Either way nothing names it any more.
      if (!(err instanceof ApiError) || (err.status !== 422 && err.status !== 404)) throw err;
    }
  }
}

/** An ownerReference that makes `owner` the controller of the object it is put on. */
export function controllerRef(owner: AnyObject): NonNullable<AnyObject['metadata']['ownerReferences']>[number] {
  return {
    apiVersion: owner.apiVersion!,
    kind: owner.kind!,
    name: owner.metadata.name!,
    uid: owner.metadata.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/**
 * Whether `desired` would change `current`: a missing object, a desired label,
 * controller owner or finalizer not on it (an object written before its desired form
 * had one gets it), or a difference in one of `fields` (e.g. rules, subjects). Lets
 * controllers skip writes that would change nothing.
 */
export function needsApply(current: ObjectBody | undefined, desired: ObjectBody, fields: readonly string[]): boolean {
  if (!current) return true;
  const labels = current.metadata.labels ?? {};
  if (Object.entries(desired.metadata.labels ?? {}).some(([k, v]) => labels[k] !== v)) return true;
  const owners = current.metadata.ownerReferences ?? [];
  if ((desired.metadata.ownerReferences ?? []).some((want) => !owners.some((o) => o.uid === want.uid && !!o.controller === !!want.controller))) return true;
  if ((desired.metadata.finalizers ?? []).some((f) => !current.metadata.finalizers?.includes(f))) return true;
  return fields.some((f) => !isDeepStrictEqual(current[f], desired[f]));
}

/** The caches of the ClusterRoles and ClusterRoleBindings a controller owns. */
export interface ClusterAccessCaches {
  clusterRoles: CacheReader<ObjectBody>;
  clusterRoleBindings: CacheReader<ObjectBody>;
}

/**
 * A ClusterRole and the ClusterRoleBinding to it, each applied only where its cache shows
 * it differs (needsApply on the rules; on roleRef and subjects), the role first.
 */
export async function ensureClusterAccess(store: ObjectStore, caches: ClusterAccessCaches, access: { clusterRole: ObjectBody; clusterRoleBinding: ObjectBody }): Promise<void> {
  if (needsApply(caches.clusterRoles.getByName(access.clusterRole.metadata.name!), access.clusterRole, ['rules'])) await store.apply(Resources.ClusterRole, access.clusterRole);
  if (needsApply(caches.clusterRoleBindings.getByName(access.clusterRoleBinding.metadata.name!), access.clusterRoleBinding, ['roleRef', 'subjects']))
    await store.apply(Resources.ClusterRoleBinding, access.clusterRoleBinding);
}

/**
 * Deletes the ClusterRoleBinding and the ClusterRole `name`, the binding first, each only
 * when the owner `ownerUid` owns it (a grant nobody holds any more; one made by hand stays).
 */
export async function releaseClusterAccess(store: ObjectStore, caches: ClusterAccessCaches, name: string, ownerUid: string | undefined): Promise<void> {
  for (const [rt, cache] of [
    [Resources.ClusterRoleBinding, caches.clusterRoleBindings],
    [Resources.ClusterRole, caches.clusterRoles],
  ] as const) {
    const have = cache.getByName(name);
    if (have?.metadata.ownerReferences?.some((r) => r.uid === ownerUid)) await store.delete(rt, name, undefined, { uid: have.metadata.uid });
  }
}
