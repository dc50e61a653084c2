import { isDeepStrictEqual } from 'node:util';
import type { AnyObject, KubeClient, ObjectBody } from './kube/client.ts';
import { apiVersionOf } from './kube/resource.ts';
import type { ResourceType } from './kube/resource.ts';

/**
 * How controllers write: server-side apply of the objects they own, status through the
 * status subresource only when it changed, finalizers with optimistic concurrency.
 */
export class ObjectWriter {
  readonly client: KubeClient;
  constructor(client: KubeClient) {
    this.client = client;
  }

  /** Server-side apply of an owned object under the operator's field manager. */
  apply<T extends AnyObject>(rt: ResourceType, obj: ObjectBody): Promise<T> {
    return this.client.apply<T>(rt, obj);
  }

  /**
   * Applies `status` (the whole status the operator owns) when it differs from the
   * object's current status. Only name, namespace and status are sent. Returns whether
   * anything was written.
   */
  async applyStatus(rt: ResourceType, current: AnyObject & { status?: unknown }, status: unknown): Promise<boolean> {
    if (isDeepStrictEqual(current.status ?? {}, status)) return false;
    await this.client.apply(
      rt,
      { apiVersion: apiVersionOf(rt), kind: rt.kind, metadata: { name: current.metadata.name, namespace: current.metadata.namespace }, status },
      { subresource: 'status' },
    );
    return true;
  }

  /** Adds the finalizer if missing. Returns the object as the server has it. */
  async addFinalizer<T extends AnyObject>(rt: ResourceType, obj: T, finalizer: string): Promise<T> {
    const finalizers = obj.metadata.finalizers ?? [];
    if (finalizers.includes(finalizer)) return obj;
    return this.client.patch<T>(rt, obj.metadata.name!, obj.metadata.namespace, {
      metadata: { finalizers: [...finalizers, finalizer], resourceVersion: obj.metadata.resourceVersion },
    });
  }

  /** Removes the finalizer if present (a conflict means the object changed: the caller retries). */
  async removeFinalizer(rt: ResourceType, obj: AnyObject, finalizer: string): Promise<void> {
    const finalizers = obj.metadata.finalizers ?? [];
    if (!finalizers.includes(finalizer)) return;
    await this.client.patch(rt, obj.metadata.name!, obj.metadata.namespace, {
      metadata: { finalizers: finalizers.filter((f) => f !== finalizer), resourceVersion: obj.metadata.resourceVersion },
    });
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
