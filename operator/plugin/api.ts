// The plugin's API calls, as the user: their kubeconfig's credentials, and --as/--as-group
// impersonation headers on every request when given (as kubectl sends them).
import type { AnyObject, KubeClient, ListResult, ObjectBody, RequestOpts } from '../runtime/kube/client.ts';
import { apiVersionOf, resourcePath } from '../runtime/kube/resource.ts';
import type { ResourceType } from '../runtime/kube/resource.ts';
import { ApiError } from '../runtime/errors.ts';
import type { PluginApi } from './plugin.ts';

export class KubePluginApi implements PluginApi {
  private readonly client: KubeClient;
  private readonly as?: RequestOpts['as'];

  constructor(client: KubeClient, as?: RequestOpts['as']) {
    this.client = client;
    this.as = as;
  }

  async get<T extends AnyObject>(rt: ResourceType, name: string, namespace?: string): Promise<T | undefined> {
    try {
      return await this.client.request<T>('GET', resourcePath(rt, { namespace, name }), { as: this.as });
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  async list<T extends AnyObject>(rt: ResourceType, namespace?: string): Promise<T[]> {
    const items: T[] = [];
    let cont: string | undefined;
    do {
      const page = await this.client.request<ListResult<T>>('GET', resourcePath(rt, { namespace }), { query: { limit: 500, continue: cont }, as: this.as });
      items.push(...page.items.map((i) => ({ ...i, apiVersion: apiVersionOf(rt), kind: rt.kind })));
      cont = page.metadata.continue || undefined;
    } while (cont);
    return items;
  }

  create<T extends AnyObject>(rt: ResourceType, obj: ObjectBody): Promise<T> {
    return this.client.request<T>('POST', resourcePath(rt, { namespace: obj.metadata.namespace }), {
      body: { ...obj, apiVersion: apiVersionOf(rt), kind: rt.kind },
      query: { fieldManager: 'kubectl-miniapps', fieldValidation: 'Strict' },
      as: this.as,
    });
  }

  patch<T extends AnyObject>(rt: ResourceType, name: string, namespace: string | undefined, patch: unknown): Promise<T> {
    return this.client.request<T>('PATCH', resourcePath(rt, { namespace, name }), {
      body: patch,
      contentType: 'application/merge-patch+json',
      query: { fieldManager: 'kubectl-miniapps' },
      as: this.as,
    });
  }

  async delete(rt: ResourceType, name: string, namespace?: string): Promise<boolean> {
    try {
      await this.client.request('DELETE', resourcePath(rt, { namespace, name }), { as: this.as });
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return false;
      throw err;
    }
  }
}
