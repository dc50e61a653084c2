import type { Agent as HttpAgent, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { http } from '../builtins.ts';
import { ApiError } from '../errors.ts';
import { TokenBucket, abortableSleep, monotonicNow } from '../flowcontrol.ts';
import type { MonotonicNow } from '../flowcontrol.ts';
import { loadClusterAccess } from './kubeconfig.ts';
import { nodeSupportsProxy, proxyForDisplay } from './proxy.ts';
import type { ClusterAccess, Impersonation } from './kubeconfig.ts';
import { apiVersionOf, resourcePath } from './resource.ts';
import type { ResourceType } from './resource.ts';

export type { ClusterAccess, Impersonation } from './kubeconfig.ts';

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
  /**
   * Impersonate this user (and groups, uid, extras), as kubectl --as does. It replaces the
   * kubeconfig's impersonation for this request, whole (client-go's impersonating round
   * tripper stands aside when a request sets Impersonate-User).
   */
  as?: Impersonation;
}

export interface KubeClientOptions {
  /** The field manager for server-side apply. */
  fieldManager?: string;
  /** The most connections kept to the API server for requests (watches use their own). */
  connections?: number;
  userAgent?: string;
  /** How long a request may stay silent (no bytes either way) before it fails. Default 30 s; 0: no limit; watches have none. */
  timeoutMs?: number;
  /**
   * An http:// or https:// proxy every request goes through (CONNECT for an https server).
   * Default: the kubeconfig cluster's proxy-url (ClusterAccess.proxyUrl); the plugin passes
   * proxyFromEnvironment's answer when there is none, as kubectl reads HTTPS_PROXY.
   */
  proxyUrl?: string;
  /**
   * Client-side rate limit, as client-go's rest.Config QPS and Burst: requests a second on
   * average, and at once after a quiet spell. Watches are exempt (client-go Request.Watch).
   * Unset or 0: no limit.
   */
  qps?: number;
  burst?: number;
  /** Retries of a request answered 429, or 5xx with Retry-After (client-go: 10). */
  maxRetries?: number;
  /**
   * The longest Retry-After honoured; a longer one is cut to this. Default 32 s, the most
   * API Priority and Fairness asks for (it doubles its Retry-After from 1 s while a
   * priority level keeps rejecting, up to 32 s), so its answer is always honoured in full.
   */
  maxRetryWaitMs?: number;
  /** Told of every attempt's answer, every retry and every wait for the rate limit (metrics). */
  hooks?: KubeClientHooks;
  /** For tests: the monotonic clock of the rate limit, and how waits are made. */
  now?: MonotonicNow;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface KubeClientHooks {
  /** Each attempt's HTTP status (0: no answer); `verb` is the method, or WATCH. */
  onResponse?(verb: string, status: number): void;
  /** An attempt answered `status` is sent again after `waitMs`. */
  onRetry?(verb: string, status: number, waitMs: number): void;
  /** A request waited `waitMs` for the client-side rate limit. */
  onThrottle?(waitMs: number): void;
}

export interface RetryPolicy {
  maxRetries: number;
  maxWaitMs: number;
}

/**
 * How long to wait before sending again a request whose attempt number `retries` (0 for
 * the first) was answered `status`, or undefined when it is not to be sent again. As
 * client-go (rest/with_retry.go IsNextRetry, checkWait): a 429, or any 5xx, that carries
 * Retry-After in whole seconds, up to `maxRetries` times, whatever the verb. A 429 means
 * the API server ran nothing (priority and fairness, max-in-flight and shutdown reject
 * before any handler). A 5xx may come after a create did happen: sent again, it answers
 * 409 AlreadyExists, which callers handle as any create race, so a named POST is retried
 * as client-go does; a POST naming its object by generateName alone would make a second
 * one, and is not retried after a 5xx. The wait is capped at `maxWaitMs`.
 */
export function retryWait(a: { method: string; status: number; retryAfter: string | string[] | undefined; retries: number; generateNameOnly?: boolean }, policy: RetryPolicy): number | undefined {
  if (a.retries >= policy.maxRetries) return undefined;
  if (a.status !== 429 && a.status < 500) return undefined;
  if (a.status !== 429 && a.method === 'POST' && a.generateNameOnly) return undefined;
  const header = Array.isArray(a.retryAfter) ? a.retryAfter[0] : a.retryAfter;
  if (header === undefined || !/^\s*\d+\s*$/.test(header)) return undefined;
  return Math.min(Number(header) * 1000, policy.maxWaitMs);
}

/** True for a body that names its object only by metadata.generateName. */
const generateNameOnly = (body: unknown): boolean => {
  const meta = (body as { metadata?: { name?: unknown; generateName?: unknown } } | undefined)?.metadata;
  return !!meta?.generateName && !meta.name;
};

interface Agents {
  /** The CA, client certificate and key the agents were made with (files and exec plugins may rotate them). */
  ca?: string | Buffer;
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
 * (kubeconfig, in-cluster, exec plugins). Backpressure as client-go's rest client has it:
 * an optional client-side rate limit (qps, burst; none unless given, so test and benchmark
 * clients are not held back) and retries of 429 / 5xx with Retry-After (exchangeWithRetry).
 * It imports neither @kubernetes/client-node nor undici: together they cost the operator
 * process more than 100 MB of memory.
 * Controllers never use it directly: the runtime wraps it in the cache, apply and event
 * helpers.
 */
export class KubeClient {
  readonly server: string;
  readonly fieldManager: string;
  readonly access: ClusterAccess;
  private readonly opts: Required<Pick<KubeClientOptions, 'fieldManager' | 'connections' | 'userAgent' | 'timeoutMs'>>;
  /** The proxy requests go through, if any. */
  readonly proxyUrl?: string;
  /**
   * The connection pools, shared with every view (withSignal) of this client: the current
   * agents, agents replaced (new certificate or CA) that still carry requests or watches
   * (destroyed when the last one ends), and the requests and open watch streams per agent.
   */
  private readonly pool: { agents?: Agents; retired: Set<HttpAgent>; inFlight: Map<HttpAgent, number> } = { retired: new Set(), inFlight: new Map() };
  /** Set on a view: every request it makes ends when this aborts. */
  private signal?: AbortSignal;
  /** The client-side rate limit; none when qps is unset or 0. */
  readonly limiter?: TokenBucket;
  private readonly retry: RetryPolicy;
  private readonly hooks: KubeClientHooks;
  private readonly now: MonotonicNow;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;

  constructor(access: ClusterAccess, opts: KubeClientOptions = {}) {
    this.access = access;
    this.server = access.server.replace(/\/+$/, '');
    this.opts = {
      fieldManager: opts.fieldManager ?? 'miniapps-operator',
      connections: opts.connections ?? 32,
      userAgent: opts.userAgent ?? 'miniapps-operator',
      timeoutMs: opts.timeoutMs ?? 30_000,
    };
    this.fieldManager = this.opts.fieldManager;
    this.proxyUrl = opts.proxyUrl ?? access.proxyUrl;
    if (this.proxyUrl && !nodeSupportsProxy()) {
      throw new Error(`Requests to ${this.server} are to go through the proxy ${proxyForDisplay(this.proxyUrl)}, and Node.js ${process.version} cannot use one: Node.js 22.21 or 24.5 or later can`);
    }
    this.now = opts.now ?? monotonicNow;
    this.sleep = opts.sleep ?? abortableSleep;
    this.hooks = opts.hooks ?? {};
    this.retry = { maxRetries: opts.maxRetries ?? 10, maxWaitMs: opts.maxRetryWaitMs ?? 32_000 };
    if (opts.qps) this.limiter = new TokenBucket(opts.qps, opts.burst ?? Math.max(1, Math.ceil(opts.qps)), this.now());
  }

  /** A client for the kubeconfig at `path`, or wherever kubectl would look without one. */
  static fromKubeconfig(path?: string, opts?: KubeClientOptions): KubeClient {
    return new KubeClient(loadClusterAccess({ path }), opts);
  }

  /**
   * A view of this client whose every request also ends when `signal` aborts (and which
   * makes none once it has): the same connections, credentials, field manager and
   * everything else, so a view costs nothing. The controllers write through one made with
   * the Manager's work signal, so that losing leadership stops their requests in flight;
   * the leader elector bounds each Lease request by what is left of its renew deadline.
   */
  withSignal(signal: AbortSignal): KubeClient {
    const view = Object.create(this) as KubeClient;
    view.signal = this.signal ? AbortSignal.any([this.signal, signal]) : signal;
    return view;
  }

  /** The agents for the current CA and client certificate; new ones when either changed. */
  private agentsFor(): Agents {
    const a = this.access;
    const cur = this.pool.agents;
    const { ca, cert, key } = a;
    if (cur && cur.ca === ca && cur.cert === cert && cur.key === key) return cur;
    // In-flight requests and watches finish on the old agents' sockets; each old agent is
    // destroyed, with its idle keep-alive sockets, as soon as nothing runs on it.
    for (const old of cur ? [cur.requests, cur.watches] : []) {
      if (this.pool.inFlight.has(old)) this.pool.retired.add(old);
      else old.destroy();
    }
    const tls = this.server.startsWith('https:') ? { ca, cert, key, rejectUnauthorized: a.rejectUnauthorized, servername: a.servername } : undefined;
    for (const k of Object.keys(tls ?? {}) as (keyof NonNullable<typeof tls>)[]) if (tls![k] === undefined) delete tls![k];
    // `timeout` closes idle keep-alive sockets after 30 s, before the API server would. On a
    // socket in use it only emits 'timeout' (a request's own setTimeout replaces it; a watch
    // ignores it: the informer's watchdog judges silence).
    // Node's own proxy support, given the one proxy URL for this server's scheme (no NO_PROXY: it was decided before).
    const proxyEnv = this.proxyUrl ? (tls ? { HTTPS_PROXY: this.proxyUrl } : { HTTP_PROXY: this.proxyUrl }) : undefined;
    const make = (maxSockets: number) =>
      tls
        ? new HttpsAgent({ keepAlive: true, maxSockets, timeout: 30_000, ...tls, ...(proxyEnv ? { proxyEnv } : {}) })
        : new http.Agent({ keepAlive: true, maxSockets, timeout: 30_000, ...(proxyEnv ? { proxyEnv } : {}) });
    this.pool.agents = { ca, cert, key, requests: make(this.opts.connections), watches: make(Infinity) };
    return this.pool.agents;
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
    const as = opts.as ?? this.access.impersonate;
    if (as) {
      h['impersonate-user'] = as.user;
      if (as.uid) h['impersonate-uid'] = as.uid;
      // An array value becomes one header line per group (per value of an extra).
      if (as.groups?.length) h['impersonate-group'] = as.groups;
      for (const [k, v] of Object.entries(as.extra ?? {})) if (v.length) h[`impersonate-extra-${headerKeyEscape(k)}`] = v;
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
    const signal = opts.signal; // the view's signal is in it (exchangeWithRetry)
    let refreshed = false;
    let resent = false;
    for (;;) {
      signal?.throwIfAborted();
      const headers = this.headers(await this.access.headers(), opts, body);
      signal?.throwIfAborted();
      const agents = this.agentsFor();
      const agent = stream ? agents.watches : agents.requests;
      let ex: Exchange;
      this.hold(agent);
      try {
        ex = await send({
          method,
          url,
          headers,
          body,
          agent,
          timeoutMs: stream ? undefined : (opts.timeoutMs ?? this.opts.timeoutMs),
          signal,
          stream,
        });
        // A read answer is done with its agent; a stream holds it until it closes.
        if (stream) ex.res.once('close', () => this.release(agent));
        else this.release(agent);
      } catch (err) {
        this.release(agent);
        if (err instanceof StaleSocketError && !resent) {
          resent = true;
          continue;
        }
        throw err;
      }
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

  /**
   * A request as callers see it: first a token of the client-side rate limit (watches are
   * exempt, as in client-go), then attempts (exchange) until one is not to be retried
   * (retryWait): after a 429 or a 5xx with Retry-After it waits what the server asked,
   * capped, and takes a token again. Every wait ends when opts.signal aborts.
   */
  private async exchangeWithRetry(method: string, path: string, given: RequestOpts, stream: boolean): Promise<Exchange> {
    // A view's signal ends this request too, its waits for a token or a retry included.
    const signal = this.signal && given.signal ? AbortSignal.any([this.signal, given.signal]) : (this.signal ?? given.signal);
    const opts = signal ? { ...given, signal } : given;
    const verb = stream ? 'WATCH' : method;
    const named = !generateNameOnly(opts.body);
    for (let retries = 0; ; retries++) {
      if (!stream) await this.throttle(opts.signal);
      let ex: Exchange;
      try {
        ex = await this.exchange(method, path, opts, stream);
      } catch (err) {
        this.hooks.onResponse?.(verb, 0);
        throw err;
      }
      const status = ex.res.statusCode ?? 0;
      this.hooks.onResponse?.(verb, status);
      const waitMs = retryWait({ method, status, retryAfter: ex.res.headers['retry-after'], retries, generateNameOnly: !named }, this.retry);
      if (waitMs === undefined) return ex;
      if (stream) await readText(ex.res); // a short Status: read, so the connection is reused
      this.hooks.onRetry?.(verb, status, waitMs);
      await this.sleep(waitMs, opts.signal);
    }
  }

  /** Waits for a token of the client-side rate limit; gives it back if the signal aborts first. */
  private async throttle(signal?: AbortSignal): Promise<void> {
    const limiter = this.limiter;
    if (!limiter) return;
    const waitMs = limiter.reserve(this.now());
    if (waitMs <= 0) return;
    this.hooks.onThrottle?.(waitMs);
    try {
      await this.sleep(waitMs, signal);
    } catch (err) {
      limiter.cancel(this.now());
      throw err;
    }
  }

  /** One JSON request; throws ApiError for any non-2xx answer. */
  async request<T = unknown>(method: string, path: string, opts: RequestOpts = {}): Promise<T> {
    const { res, text = '' } = await this.exchangeWithRetry(method, path, opts, false);
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
  apply<T extends AnyObject>(rt: ResourceType, obj: ObjectBody, opts: { subresource?: 'status'; force?: boolean; dryRun?: boolean; fieldManager?: string } = {}): Promise<T> {
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
  async delete(
    rt: ResourceType,
    name: string,
    namespace?: string,
    opts: { propagationPolicy?: 'Background' | 'Foreground' | 'Orphan'; uid?: string; resourceVersion?: string; as?: RequestOpts['as'] } = {},
  ): Promise<boolean> {
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
    const { res } = await this.exchangeWithRetry('GET', path, { query, signal: opts.signal }, true);
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

  private hold(agent: HttpAgent): void {
    this.pool.inFlight.set(agent, (this.pool.inFlight.get(agent) ?? 0) + 1);
  }

  private release(agent: HttpAgent): void {
    const n = (this.pool.inFlight.get(agent) ?? 1) - 1;
    if (n > 0) return void this.pool.inFlight.set(agent, n);
    this.pool.inFlight.delete(agent);
    if (this.pool.retired.delete(agent)) agent.destroy();
  }

  /** Connection pools in use: the current two, and retired ones that still carry requests. */
  get pools(): number {
    return (this.pool.agents ? 2 : 0) + this.pool.retired.size;
  }

  /** Closes the connections (of every view too). */
  async close(): Promise<void> {
    for (const agent of [...this.pool.retired, this.pool.agents?.requests, this.pool.agents?.watches]) agent?.destroy();
    this.pool.agents = undefined;
    this.pool.retired.clear();
  }
}

/**
 * An extra's key as an HTTP header name: bytes outside the token characters, and %, are
 * percent-encoded, as client-go's headerKeyEscape does (the API server decodes them).
 */
export function headerKeyEscape(key: string): string {
  let out = '';
  for (const b of Buffer.from(key, 'utf8')) {
    const c = String.fromCharCode(b);
    out += b < 0x80 && c !== '%' && /[!#$&'*+\-.^_`|~0-9A-Za-z]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
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
