// The plugin's API calls, as the user: their kubeconfig's credentials, and --as/--as-group
// impersonation headers on every request when given (as kubectl sends them), each request
// bounded by --request-timeout when given.
import type { AnyObject, KubeClient, ListResult, ObjectBody, RequestOpts } from '../runtime/kube/client.ts';
import { apiVersionOf, resourcePath } from '../runtime/kube/resource.ts';
import type { ResourceType } from '../runtime/kube/resource.ts';
import { ApiError } from '../runtime/errors.ts';
import type { PluginApi } from './core.ts';

/** A request that had no complete answer within --request-timeout. */
export class RequestTimeoutError extends Error {}

export class KubePluginApi implements PluginApi {
  private readonly client: KubeClient;
  private readonly as?: RequestOpts['as'];
  private readonly timeout?: { ms: number; text: string };

  constructor(client: KubeClient, as?: RequestOpts['as'], timeout?: { ms: number; text: string }) {
    this.client = client;
    this.as = as;
    this.timeout = timeout?.ms ? timeout : undefined;
  }

  /** One request as the user, within the timeout. */
  private async request<T>(method: string, path: string, opts: RequestOpts = {}): Promise<T> {
    const t = this.timeout;
    if (!t) return this.client.request<T>(method, path, { ...opts, as: this.as });
    const signal = AbortSignal.timeout(t.ms);
    try {
      return await this.client.request<T>(method, path, { ...opts, as: this.as, signal });
    } catch (err) {
      if (signal.aborted && !(err instanceof ApiError))
        throw new RequestTimeoutError(`the API server ${this.client.server} did not answer ${method} ${path.split('?')[0]} within ${t.text} (--request-timeout)`);
      throw err;
    }
  }

  async get<T extends AnyObject>(rt: ResourceType, name: string, namespace?: string): Promise<T | undefined> {
    try {
      return await this.request<T>('GET', resourcePath(rt, { namespace, name }));
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  async list<T extends AnyObject>(rt: ResourceType, namespace?: string): Promise<T[]> {
    const items: T[] = [];
    let cont: string | undefined;
    do {
      const page = await this.request<ListResult<T>>('GET', resourcePath(rt, { namespace }), { query: { limit: 500, continue: cont } });
      items.push(...page.items.map((i) => ({ ...i, apiVersion: apiVersionOf(rt), kind: rt.kind })));
      cont = page.metadata.continue || undefined;
    } while (cont);
    return items;
  }

  create<T extends AnyObject>(rt: ResourceType, obj: ObjectBody): Promise<T> {
    return this.request<T>('POST', resourcePath(rt, { namespace: obj.metadata.namespace }), {
      body: { ...obj, apiVersion: apiVersionOf(rt), kind: rt.kind },
      query: { fieldManager: 'kubectl-miniapps', fieldValidation: 'Strict' },
    });
  }

  patch<T extends AnyObject>(rt: ResourceType, name: string, namespace: string | undefined, patch: unknown): Promise<T> {
    return this.request<T>('PATCH', resourcePath(rt, { namespace, name }), {
      body: patch,
      contentType: 'application/merge-patch+json',
      query: { fieldManager: 'kubectl-miniapps' },
    });
  }

  async delete(rt: ResourceType, name: string, namespace?: string): Promise<boolean> {
    try {
      await this.request('DELETE', resourcePath(rt, { namespace, name }));
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return false;
      throw err;
    }
  }
}
