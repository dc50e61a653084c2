import type { KubeConfig } from '@kubernetes/client-node';
import type { RequestOptions } from 'node:https';
import { Agent, request as undiciRequest } from 'undici';
import type { Dispatcher } from 'undici';
import { ApiError } from '../errors.ts';
import { apiVersionOf, resourcePath } from './resource.ts';
import type { ResourceType } from './resource.ts';

export type ObjectMetaLike = {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }[];
  deletionTimestamp?: string;
  creationTimestamp?: string;
  managedFields?: unknown[];
};

/** Any Kubernetes object: what the runtime needs to know of it. */
export type AnyObject = {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMetaLike;
};

/** An object to send: any fields besides metadata. */
export type ObjectBody = AnyObject & { [key: string]: unknown };

export interface ListResult<T> {
  items: T[];
  metadata: { resourceVersion: string; continue?: string };
}

export interface WatchEvent<T = AnyObject> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

export interface RequestOpts {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Impersonate this user (and groups), as kubectl --as does. */
  as?: { user: string; groups?: string[] };
}

export interface KubeClientOptions {
  /** The field manager for server-side apply. */
  fieldManager?: string;
  /** The most connections kept to the API server for requests (watches use their own). */
  connections?: number;
  userAgent?: string;
  /** How long the authentication headers (tokens from exec plugins, files) are reused. */
  authRefreshMs?: number;
}

interface AuthState {
  headers: Record<string, string>;
  dispatcher: Dispatcher;
  watchDispatcher: Dispatcher;
  at: number;
}

/**
 * A small REST client for the Kubernetes API. It takes cluster address and credentials
 * from a client-node KubeConfig (every authentication kind that client-node supports) and
 * keeps pooled keep-alive connections, which client-node's generated clients do not (they
 * build a new connection pool per request). Controllers never use it directly: the runtime
 * wraps it in the cache, apply and event helpers.
 */
export class KubeClient {
  readonly server: string;
  readonly fieldManager: string;
  private readonly kc: KubeConfig;
  private readonly opts: Required<KubeClientOptions>;
  private auth?: Promise<AuthState>;

  constructor(kc: KubeConfig, opts: KubeClientOptions = {}) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('The kubeconfig has no current cluster');
    this.kc = kc;
    this.server = cluster.server.replace(/\/+$/, '');
    this.opts = {
      fieldManager: opts.fieldManager ?? 'miniapps-operator',
      connections: opts.connections ?? 32,
      userAgent: opts.userAgent ?? 'miniapps-operator',
      authRefreshMs: opts.authRefreshMs ?? 60_000,
    };
    this.fieldManager = this.opts.fieldManager;
  }

  private async authState(forceRefresh = false): Promise<AuthState> {
    const current = this.auth ? await this.auth.catch(() => undefined) : undefined;
    if (current && !forceRefresh && Date.now() - current.at < this.opts.authRefreshMs) return current;
    this.auth = (async () => {
      const https: RequestOptions = {};
      await this.kc.applyToHTTPSOptions(https);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(https.headers ?? {})) if (v !== undefined) headers[k] = String(v);
      const user = this.kc.getCurrentUser();
      if (user?.username) headers.Authorization = `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`;
      const tls = { ca: https.ca, cert: https.cert, key: https.key, rejectUnauthorized: https.rejectUnauthorized, servername: https.servername } as Record<string, unknown>;
      for (const k of Object.keys(tls)) if (tls[k] === undefined) delete tls[k];
      const sameTls = current && JSON.stringify(tls) === (current as AuthState & { tlsKey?: string }).tlsKey;
      const state = {
        headers,
        dispatcher: sameTls ? current!.dispatcher : new Agent({ connect: tls, connections: this.opts.connections, keepAliveTimeout: 30_000, pipelining: 1, headersTimeout: 30_000, bodyTimeout: 30_000 }),
        watchDispatcher: sameTls ? current!.watchDispatcher : new Agent({ connect: tls, keepAliveTimeout: 30_000, bodyTimeout: 0, headersTimeout: 60_000 }),
        at: Date.now(),
        tlsKey: JSON.stringify(tls),
      };
      if (current && !sameTls) {
        void current.dispatcher.close().catch(() => {});
        void current.watchDispatcher.close().catch(() => {});
      }
      return state;
    })();
    return this.auth;
  }

  private url(path: string, query?: RequestOpts['query']): string {
    const u = new URL(this.server + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
    return u.toString();
  }

  private headers(auth: AuthState, opts: RequestOpts): Record<string, string> {
    const h: Record<string, string> = { ...auth.headers, accept: 'application/json', 'user-agent': this.opts.userAgent };
    if (opts.body !== undefined) h['content-type'] = opts.contentType ?? 'application/json';
    if (opts.as) {
      h['impersonate-user'] = opts.as.user;
      // undici takes repeated headers as an array value; typed loosely here.
      if (opts.as.groups?.length) (h as Record<string, unknown>)['impersonate-group'] = opts.as.groups;
    }
    return h;
  }

  /** One JSON request; throws ApiError for any non-2xx answer. */
  async request<T = unknown>(method: string, path: string, opts: RequestOpts = {}): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const auth = await this.authState(attempt > 0);
      // Timeouts come from the dispatcher (headersTimeout, bodyTimeout), not a timer per request.
      const res = await undiciRequest(this.url(path, opts.query), {
        method: method as Dispatcher.HttpMethod,
        headers: this.headers(auth, opts),
        body: opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body),
        dispatcher: auth.dispatcher,
        signal: opts.signal,
        ...(opts.timeoutMs ? { headersTimeout: opts.timeoutMs, bodyTimeout: opts.timeoutMs } : {}),
      });
      const text = await res.body.text();
      if (res.statusCode === 401 && attempt === 0) continue; // credentials may have rotated
      if (res.statusCode >= 200 && res.statusCode < 300) return (text ? JSON.parse(text) : undefined) as T;
      throw toApiError(res.statusCode, text, method, path);
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

  list<T extends AnyObject>(
    rt: ResourceType,
    opts: { namespace?: string; labelSelector?: string; fieldSelector?: string; limit?: number; continue?: string; resourceVersion?: string } = {},
  ): Promise<ListResult<T>> {
    const { namespace, ...query } = opts;
    return this.request<ListResult<T>>('GET', resourcePath(rt, { namespace }), { query, timeoutMs: 120_000 });
  }

  /** Every page of a list, and the list's resourceVersion. */
  async listAll<T extends AnyObject>(rt: ResourceType, opts: { namespace?: string; labelSelector?: string; pageSize?: number } = {}): Promise<ListResult<T>> {
    const items: T[] = [];
    let cont: string | undefined;
    let resourceVersion = '';
    do {
      const page = await this.list<T>(rt, { namespace: opts.namespace, labelSelector: opts.labelSelector, limit: opts.pageSize ?? 500, continue: cont });
      items.push(...page.items);
      cont = page.metadata.continue || undefined;
      resourceVersion = page.metadata.resourceVersion;
    } while (cont);
    return { items, metadata: { resourceVersion } };
  }

  create<T extends AnyObject>(rt: ResourceType, obj: ObjectBody, opts: { as?: RequestOpts['as'] } = {}): Promise<T> {
    return this.request<T>('POST', resourcePath(rt, { namespace: obj.metadata.namespace }), {
      body: { apiVersion: apiVersionOf(rt), kind: rt.kind, ...obj },
      query: { fieldManager: this.fieldManager, fieldValidation: 'Strict' },
      as: opts.as,
    });
  }

  replace<T extends AnyObject>(rt: ResourceType, obj: ObjectBody, opts: { subresource?: string } = {}): Promise<T> {
    return this.request<T>('PUT', resourcePath(rt, { namespace: obj.metadata.namespace, name: obj.metadata.name, subresource: opts.subresource }), {
      body: obj,
      query: { fieldManager: this.fieldManager, fieldValidation: 'Strict' },
    });
  }

  /**
   * Server-side apply under this client's field manager, with strict field validation.
   * `force` takes over fields another manager owns (controllers own what they apply).
   */
  apply<T extends AnyObject>(
    rt: ResourceType,
    obj: ObjectBody,
    opts: { subresource?: 'status'; force?: boolean; dryRun?: boolean; fieldManager?: string } = {},
  ): Promise<T> {
    const body = { ...obj, apiVersion: apiVersionOf(rt), kind: rt.kind };
    return this.request<T>('PATCH', resourcePath(rt, { namespace: obj.metadata.namespace, name: obj.metadata.name, subresource: opts.subresource }), {
      body,
      contentType: 'application/apply-patch+yaml',
      query: { fieldManager: opts.fieldManager ?? this.fieldManager, fieldValidation: 'Strict', force: opts.force ?? true, dryRun: opts.dryRun ? 'All' : undefined },
    });
  }

  patch<T extends AnyObject>(rt: ResourceType, name: string, namespace: string | undefined, patch: unknown, type: 'merge' | 'json' = 'merge', subresource?: string): Promise<T> {
    return this.request<T>('PATCH', resourcePath(rt, { namespace, name, subresource }), {
      body: patch,
      contentType: type === 'merge' ? 'application/merge-patch+json' : 'application/json-patch+json',
      query: { fieldManager: this.fieldManager },
    });
  }

  /** Deletes; a missing object is not an error. */
  async delete(rt: ResourceType, name: string, namespace?: string, opts: { propagationPolicy?: 'Background' | 'Foreground' | 'Orphan'; uid?: string; as?: RequestOpts['as'] } = {}): Promise<boolean> {
    try {
      await this.request('DELETE', resourcePath(rt, { namespace, name }), {
        body: { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: opts.propagationPolicy, preconditions: opts.uid ? { uid: opts.uid } : undefined },
        as: opts.as,
      });
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return false;
      throw err;
    }
  }

  /**
   * Streams watch events until the server ends the watch, the signal aborts, or the
   * connection fails (then it throws). An HTTP 410 becomes ApiError(410).
   */
  async *watch<T extends AnyObject>(
    rt: ResourceType,
    opts: { namespace?: string; resourceVersion: string; labelSelector?: string; timeoutSeconds?: number; signal: AbortSignal },
  ): AsyncGenerator<WatchEvent<T>> {
    const auth = await this.authState();
    const res = await undiciRequest(
      this.url(resourcePath(rt, { namespace: opts.namespace }), {
        watch: 1,
        resourceVersion: opts.resourceVersion,
        allowWatchBookmarks: true,
        labelSelector: opts.labelSelector,
        timeoutSeconds: opts.timeoutSeconds,
      }),
      { method: 'GET', headers: this.headers(auth, {}), dispatcher: auth.watchDispatcher, signal: opts.signal },
    );
    if (res.statusCode !== 200) {
      const text = await res.body.text();
      throw toApiError(res.statusCode, text, 'WATCH', resourcePath(rt, { namespace: opts.namespace }));
    }
    const decoder = new TextDecoder();
    let buffered = '';
    try {
      for await (const chunk of res.body) {
        buffered += decoder.decode(chunk as Uint8Array, { stream: true });
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (line) yield JSON.parse(line) as WatchEvent<T>;
        }
      }
    } finally {
      res.body.destroy();
    }
  }

  async close(): Promise<void> {
    const state = this.auth ? await this.auth.catch(() => undefined) : undefined;
    this.auth = undefined;
    if (state) await Promise.all([state.dispatcher.close(), state.watchDispatcher.destroy()]).catch(() => {});
  }
}

function toApiError(status: number, text: string, method: string, path: string): ApiError {
  try {
    const s = JSON.parse(text) as { reason?: string; message?: string; details?: unknown };
    return new ApiError(status, s.reason ?? String(status), s.message ?? `${method} ${path}: HTTP ${status}`, s.details);
  } catch {
    return new ApiError(status, String(status), `${method} ${path}: HTTP ${status}: ${text.slice(0, 200)}`);
  }
}
