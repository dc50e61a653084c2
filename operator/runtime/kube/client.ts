import type { Agent as HttpAgent, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { http } from '../builtins.ts';
import { ApiError } from '../errors.ts';
import { loadClusterAccess } from './kubeconfig.ts';
import type { ClusterAccess } from './kubeconfig.ts';
import { apiVersionOf, resourcePath } from './resource.ts';
import type { ResourceType } from './resource.ts';

export type { ClusterAccess } from './kubeconfig.ts';

export type OwnerReference = {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
};

/** Object metadata as plain JSON from the API server (name optional: a list item may use generateName). */
export type ObjectMetaLike = {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
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
  /** The Kubernetes verb, for KubeClientOptions.onResponse (default: from the method; a GET is a get). */
  verb?: string;
}

export interface KubeClientOptions {
  /** The field manager for server-side apply. */
  fieldManager?: string;
  /** The most connections kept to the API server for requests (watches use their own). */
  connections?: number;
  userAgent?: string;
  /** How long a request may stay silent (no bytes either way) before it fails. Default 30 s; watches have none. */
  timeoutMs?: number;
  /**
   * Called for every answer from the API server, and for every request that got none
   * (code "error"): the operator counts them in miniapps_kube_requests_total.
   */
  onResponse?: (verb: string, code: string) => void;
}

interface Agents {
  /** The client certificate and key the agents were made with (exec plugins may rotate them). */
  cert?: string | Buffer;
  key?: string | Buffer;
  requests: HttpAgent;
  watches: HttpAgent;
}

interface Exchange {
  res: IncomingMessage;
  /** The body, unless the response is streamed (watches). */
  text?: string;
}

/**
 * A small REST client for the Kubernetes API on node:https, with pooled keep-alive
 * connections (watches on a pool of their own) and the credentials of a ClusterAccess
 * (kubeconfig, in-cluster, exec plugins). It imports neither @kubernetes/client-node nor
 * undici: together they cost the operator process more than 100 MB of memory.
 * Controllers never use it directly: the runtime wraps it in the cache, apply and event
 * helpers.
 */
export class KubeClient {
  readonly server: string;
  readonly fieldManager: string;
  readonly access: ClusterAccess;
  private readonly opts: Required<Omit<KubeClientOptions, 'onResponse'>> & Pick<KubeClientOptions, 'onResponse'>;
  private agents?: Agents;
  private retired: HttpAgent[] = [];

  constructor(access: ClusterAccess, opts: KubeClientOptions = {}) {
    this.access = access;
    this.server = access.server.replace(/\/+$/, '');
    this.opts = {
      fieldManager: opts.fieldManager ?? 'miniapps-operator',
      connections: opts.connections ?? 32,
      userAgent: opts.userAgent ?? 'miniapps-operator',
      timeoutMs: opts.timeoutMs ?? 30_000,
      onResponse: opts.onResponse,
    };
    this.fieldManager = this.opts.fieldManager;
  }

  /** A client for the kubeconfig at `path`, or wherever kubectl would look without one. */
  static fromKubeconfig(path?: string, opts?: KubeClientOptions): KubeClient {
    return new KubeClient(loadClusterAccess({ path }), opts);
  }

  /** The agents for the current client certificate; new ones when it changed. */
  private agentsFor(): Agents {
    const a = this.access;
    const cur = this.agents;
    if (cur && cur.cert === a.cert && cur.key === a.key) return cur;
    // In-flight requests and watches finish on the old agents' sockets, which close when idle.
    if (cur) this.retired.push(cur.requests, cur.watches);
    const tls = this.server.startsWith('https:')
      ? { ca: a.ca, cert: a.cert, key: a.key, rejectUnauthorized: a.rejectUnauthorized, servername: a.servername }
      : undefined;
    for (const k of Object.keys(tls ?? {}) as (keyof NonNullable<typeof tls>)[]) if (tls![k] === undefined) delete tls![k];
    // `timeout` closes idle keep-alive sockets after 30 s, before the API server would. On a
    // socket in use it only emits 'timeout' (a request's own setTimeout replaces it; a watch
    // ignores it: the informer's watchdog judges silence).
    const make = (maxSockets: number) =>
      tls ? new HttpsAgent({ keepAlive: true, maxSockets, timeout: 30_000, ...tls }) : new http.Agent({ keepAlive: true, maxSockets, timeout: 30_000 });
    this.agents = { cert: a.cert, key: a.key, requests: make(this.opts.connections), watches: make(Infinity) };
    return this.agents;
  }

  private url(path: string, query?: RequestOpts['query']): string {
    const u = new URL(this.server + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
    return u.toString();
  }

  private headers(auth: Record<string, string>, opts: RequestOpts, body: string | undefined): OutgoingHttpHeaders {
    const h: OutgoingHttpHeaders = { ...auth, accept: 'application/json', 'user-agent': this.opts.userAgent };
    if (body !== undefined) {
      h['content-type'] = opts.contentType ?? 'application/json';
      h['content-length'] = Buffer.byteLength(body);
    }
    if (opts.as) {
      h['impersonate-user'] = opts.as.user;
      // An array value becomes one header line per group.
      if (opts.as.groups?.length) h['impersonate-group'] = opts.as.groups;
    }
    return h;
  }

  /**
   * Sends one request and resolves with the response: its body read, or (`stream`) still
   * streaming. A 401 is sent once more with refreshed credentials; a request that met a
   * keep-alive socket the server had just closed is sent once more.
   */
  private async exchange(method: string, path: string, opts: RequestOpts, stream: boolean): Promise<Exchange> {
    const url = this.url(path, opts.query);
    const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    let refreshed = false;
    let resent = false;
    const verb = opts.verb ?? verbOf(method, opts.contentType, stream);
    for (;;) {
      const headers = this.headers(await this.access.headers(), opts, body);
      const agents = this.agentsFor();
      let ex: Exchange;
      try {
        ex = await send({
          method,
          url,
          headers,
          body,
          agent: stream ? agents.watches : agents.requests,
          timeoutMs: stream ? undefined : (opts.timeoutMs ?? this.opts.timeoutMs),
          signal: opts.signal,
          stream,
        });
      } catch (err) {
        if (err instanceof StaleSocketError && !resent) {
          resent = true;
          continue;
        }
        this.opts.onResponse?.(verb, 'error');
        throw err;
      }
      this.opts.onResponse?.(verb, String(ex.res.statusCode ?? 0));
      if (ex.res.statusCode === 401 && !refreshed) {
        // Credentials may have rotated (bound tokens, exec plugins): ask for them again.
        if (stream) ex.res.destroy();
        refreshed = true;
        this.access.refresh();
        continue;
      }
      return ex;
    }
  }

  /** One JSON request; throws ApiError for any non-2xx answer. */
  async request<T = unknown>(method: string, path: string, opts: RequestOpts = {}): Promise<T> {
    const { res, text = '' } = await this.exchange(method, path, opts, false);
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) return (text ? JSON.parse(text) : undefined) as T;
    throw toApiError(status, text, method, path);
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
    return this.request<ListResult<T>>('GET', resourcePath(rt, { namespace }), { query, timeoutMs: 120_000, verb: 'list' });
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
  async delete(rt: ResourceType, name: string, namespace?: string, opts: { propagationPolicy?: 'Background' | 'Foreground' | 'Orphan'; uid?: string; resourceVersion?: string; as?: RequestOpts['as'] } = {}): Promise<boolean> {
    const preconditions = opts.uid || opts.resourceVersion ? { uid: opts.uid, resourceVersion: opts.resourceVersion } : undefined;
    try {
      await this.request('DELETE', resourcePath(rt, { namespace, name }), {
        body: { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: opts.propagationPolicy, preconditions },
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
    const path = resourcePath(rt, { namespace: opts.namespace });
    const query = { watch: 1, resourceVersion: opts.resourceVersion, allowWatchBookmarks: true, labelSelector: opts.labelSelector, timeoutSeconds: opts.timeoutSeconds };
    const { res } = await this.exchange('GET', path, { query, signal: opts.signal }, true);
    try {
      if (res.statusCode !== 200) throw toApiError(res.statusCode ?? 0, await readText(res), 'WATCH', path);
      const lines = new LineSplitter();
      try {
        for await (const chunk of res) for (const line of lines.push(chunk as Buffer)) yield JSON.parse(line) as WatchEvent<T>;
      } catch (err) {
        throw opts.signal.aborted ? opts.signal.reason : err;
      }
      for (const line of lines.end()) yield JSON.parse(line) as WatchEvent<T>;
      if (opts.signal.aborted) throw opts.signal.reason;
    } finally {
      // A watch the caller left early (or that failed) does not go back to the pool.
      if (!res.complete) res.destroy();
    }
  }

  async close(): Promise<void> {
    for (const agent of [...this.retired, this.agents?.requests, this.agents?.watches]) agent?.destroy();
    this.agents = undefined;
    this.retired = [];
  }
}

/** The Kubernetes verb of a request, as the API server names it in apiserver_request_total (lowercased). */
function verbOf(method: string, contentType: string | undefined, stream: boolean): string {
  if (stream) return 'watch';
  switch (method) {
    case 'GET':
      return 'get';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return contentType === 'application/apply-patch+yaml' ? 'apply' : 'patch';
    default:
      return method.toLowerCase();
  }
}

/** Splits a byte stream into trimmed non-empty lines; chunks may split lines and UTF-8 characters. */
export class LineSplitter {
  private readonly decoder = new TextDecoder();
  private rest = '';

  push(chunk: Uint8Array): string[] {
    const text = this.rest + this.decoder.decode(chunk, { stream: true });
    const out: string[] = [];
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      const line = text.slice(start, nl).trim();
      if (line) out.push(line);
      start = nl + 1;
    }
    this.rest = text.slice(start);
    return out;
  }

  end(): string[] {
    const line = (this.rest + this.decoder.decode()).trim();
    this.rest = '';
    return line ? [line] : [];
  }
}

/** A request that met a keep-alive socket the server had closed: it never reached the server. */
class StaleSocketError extends Error {
  constructor(cause: unknown) {
    super('The API server closed an idle connection as a request went out', { cause });
    this.name = 'StaleSocketError';
  }
}

interface SendArgs {
  method: string;
  url: string;
  headers: OutgoingHttpHeaders;
  body?: string;
  agent: HttpAgent;
  /** Inactivity timeout of the socket while this request has it (no timer of its own). */
  timeoutMs?: number;
  signal?: AbortSignal;
  stream: boolean;
}

function send(a: SendArgs): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    let timedOut = false;
    let responded = false;
    const req = (a.url.startsWith('https:') ? httpsRequest : http.request)(a.url, { method: a.method, headers: a.headers, agent: a.agent, signal: a.signal });
    const what = () => `${a.method} ${new URL(a.url).pathname}`;
    const fail = (err: Error) => {
      if (timedOut) reject(Object.assign(new Error(`${what()}: no answer for ${a.timeoutMs} ms`), { code: 'ETIMEDOUT' }));
      else if (!responded && req.reusedSocket && (err as NodeJS.ErrnoException).code === 'ECONNRESET' && !a.signal?.aborted) reject(new StaleSocketError(err));
      else reject(err);
    };
    req.on('error', fail);
    if (a.timeoutMs) {
      req.setTimeout(a.timeoutMs, () => {
        timedOut = true;
        req.destroy();
      });
    }
    req.on('response', (res) => {
      responded = true;
      if (a.stream) return resolve({ res });
      // Decoded as it arrives: a list of thousands of objects becomes one string, never
      // first one Buffer of its size (which glibc's heap would keep after it is freed).
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ res, text }));
      res.on('error', fail);
      res.on('close', () => {
        if (!res.complete) fail(new Error(`${what()}: the connection closed before the answer was complete`));
      });
    });
    req.end(a.body);
  });
}

async function readText(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function toApiError(status: number, text: string, method: string, path: string): ApiError {
  try {
    const s = JSON.parse(text) as { reason?: string; message?: string; details?: unknown };
    return new ApiError(status, s.reason ?? String(status), s.message ?? `${method} ${path}: HTTP ${status}`, s.details);
  } catch {
    return new ApiError(status, String(status), `${method} ${path}: HTTP ${status}: ${text.slice(0, 200)}`);
  }
}
