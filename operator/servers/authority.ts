// The API server's own answers to "whose token is this" (TokenReview) and "may they"
// (SubjectAccessReview), for the operator's HTTP APIs: callers are authorized as
// themselves, never with the operator's rights. A token's review is reused for a few
// seconds (keyed by its SHA-256) and renewed in the background while the token is in use,
// so a busy caller neither costs a TokenReview per request nor waits for one once warm;
// a token nobody knows costs its address part of a budget, on a client of the reviews' own.
// Every review takes a token of one budget (--review-qps) or is refused at once (503): no
// queue; renewals of answers already given (known tokens, decisions in use) may dip into a
// reserve that new work may not touch, so a flood cannot starve known callers.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GROUP } from '../api/constants.ts';
import type { KubeClient } from '../runtime/kube/client.ts';
import { resourcePath, Resources } from '../runtime/kube/resource.ts';
import type { Clock } from '../runtime/clock.ts';
import { ReviewBudget } from '../runtime/flowcontrol.ts';
import type { MonotonicNow } from '../runtime/flowcontrol.ts';
import { RateLimiter, ReviewCache, TtlCache, clientKey } from '../runtime/ratelimit.ts';
import type { RateLimit } from '../runtime/ratelimit.ts';

/** Who a token belongs to, as TokenReview says. */
export interface Caller {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

/** The API server's answers: whose token, and may they. */
export interface Authority {
  /**
   * `hash`: the token's SHA-256 (base64url) when the caller has it, to remember the answer by;
   * `from`: the client address, whose budget a token not remembered costs (HttpError 429 beyond it).
   */
  authenticate(token: string, hash?: string, from?: string): Promise<Caller | undefined>;
  /** One SubjectAccessReview (uncached); `renewal`: of a decision in use (AccessDecisions), which may use the budget's reserve. */
  allowed(caller: Caller, attrs: { verb: string; resource: string; subresource?: string; namespace: string; name: string }, how?: { renewal?: boolean }): Promise<boolean>;
}

const TOKEN_REVIEWS = '/apis/authentication.k8s.io/v1/tokenreviews';

const sha256 = (s: string) => createHash('sha256').update(s).digest('base64url');

/**
 * The SHA-256 of a request's bearer token (what its review is remembered by; the token
 * itself is not kept), remembered per connection while the connection sends the same token
 * (a gateway's keep-alive connection does, request after request).
 */
const lastToken = new WeakMap<object, { token: string; hash: string }>();
export function tokenHash(req: IncomingMessage, token: string): string {
  const seen = lastToken.get(req.socket);
  if (seen?.token === token) return seen.hash;
  const hash = sha256(token);
  lastToken.set(req.socket, { token, hash });
  return hash;
}

/** What the authority asks the API server with: a KubeClient of its own (reviewClient in app.ts), or a fake. */
export type ReviewRequester = Pick<KubeClient, 'request'>;

export interface KubeAuthorityOptions {
  /** How long an accepted token is reused (default 10 s, renewed in the background while in use); 0 keeps none. */
  cacheTtlMs?: number;
  /** How long a refused token is remembered (default 2 s): the same bad token sent again costs no review. */
  negativeTtlMs?: number;
  /** Accepted tokens remembered at most (default 10,000): refused ones are kept apart, and never push them out. */
  maxEntries?: number;
  /** Refused tokens remembered at most (default 10,000). */
  maxNegativeEntries?: number;
  /** Reviews of tokens not remembered, per client address (default 600 a minute in bursts of 100): 429 beyond. */
  perAddress?: RateLimit;
  /**
   * Reviews a second and at once (--review-qps, --review-burst) for every API together;
   * beyond, a review is not sent and the request is answered 503 with Retry-After at once.
   * A quarter of the burst is kept for renewals of answers in use. Unset: no budget.
   */
  budget?: { qps: number; burst: number };
  /** The budget's clock (monotonic ms; tests pass their own). */
  now?: MonotonicNow;
  clock?: Clock;
  /** Counts each review asked of the API server (`throttled`: not sent, the budget spent). */
  onReview?: (review: 'token' | 'access', result: 'allowed' | 'refused' | 'error' | 'throttled') => void;
}

export const DEFAULT_REVIEW_ADDRESS_LIMIT: RateLimit = { perMinute: 600, burst: 100 };

/**
 * The API server's answers for every API of the operator (data protection, token roles,
 * verify, /metrics): one instance, on a client of its own with its own request budget
 * (`--review-qps`), so that callers' reviews never queue behind the reconcilers' requests
 * nor take their budget. Accepted tokens are reused for a few seconds; refused ones are
 * remembered apart, briefly, so a flood of random tokens cannot push an accepted one out;
 * and a token not remembered costs its client address one request of a budget (429 beyond).
 */
export class KubeAuthority implements Authority {
  private readonly client: ReviewRequester;
  private readonly accepted: ReviewCache<Caller | null>;
  private readonly refused: TtlCache<true>;
  private readonly perAddress: RateLimiter;
  private readonly budget?: ReviewBudget;
  private readonly onReview: NonNullable<KubeAuthorityOptions['onReview']>;

  constructor(client: ReviewRequester, opts: KubeAuthorityOptions = {}) {
    this.client = client;
    const ttl = opts.cacheTtlMs ?? 10_000;
    // Only acceptances are kept here: a refusal (null) has a ttl of 0.
    this.accepted = new ReviewCache({ ttlMs: (v) => (v ? ttl : 0), maxEntries: opts.maxEntries ?? 10_000, clock: opts.clock });
    this.refused = new TtlCache({ ttlMs: opts.negativeTtlMs ?? 2_000, maxEntries: opts.maxNegativeEntries ?? 10_000, clock: opts.clock });
    this.perAddress = new RateLimiter(opts.perAddress ?? DEFAULT_REVIEW_ADDRESS_LIMIT, opts.clock);
    this.onReview = opts.onReview ?? (() => {});
    if (opts.budget) this.budget = new ReviewBudget({ ...opts.budget, now: opts.now });
  }

  /** A token of the budget for one review, or HttpError 503 (nothing sent). `renewal`: of an answer in use, may use the reserve. */
  private spend(review: 'token' | 'access', renewal: boolean): void {
    if (!this.budget || this.budget.take(renewal)) return;
    this.onReview(review, 'throttled');
    throw new HttpError(503, 'The operator is asking the API server about too many callers right now; try again shortly', { 'retry-after': String(this.budget.retryAfterSeconds()) });
  }

  /**
   * Whose token this is, from what is remembered, else from a TokenReview once the client
   * address `from` is within its budget (HttpError 429 otherwise). `hash`: the token's
   * SHA-256 if the caller has it already (tokenHash).
   */
  async authenticate(token: string, hash = sha256(token), from?: string): Promise<Caller | undefined> {
    const known = this.accepted.peek(hash, () => this.review(token, hash, true));
    if (known) return known;
    if (this.refused.get(hash)) return undefined;
    if (from !== undefined) {
      const admitted = this.perAddress.take(clientKey(from));
      if (!admitted.ok) throw new HttpError(429, 'Too many unknown tokens from this address; try again later', { 'retry-after': String(admitted.retryAfterSeconds) });
    }
    return (await this.accepted.get(hash, () => this.review(token, hash, false))) ?? undefined;
  }

  private async review(token: string, hash: string, renewal: boolean): Promise<Caller | null> {
    this.spend('token', renewal);
    let review: { status?: { authenticated?: boolean; user?: Caller } };
    try {
      review = await this.client.request('POST', TOKEN_REVIEWS, { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } } });
    } catch (err) {
      this.onReview('token', 'error');
      throw err;
    }
    const user = review.status?.authenticated && review.status.user?.username ? review.status.user : null;
    this.onReview('token', user ? 'allowed' : 'refused');
    if (!user) {
      this.accepted.forget(hash); // a renewal that finds the token refused ends its reuse now
      this.refused.set(hash, true);
    }
    return user;
  }

  /** One SubjectAccessReview, uncached (AccessDecisions remembers them); `renewal`: of a decision in use. */
  async allowed(caller: Caller, attrs: AccessAttributes, how?: { renewal?: boolean }): Promise<boolean> {
    return this.access(caller, { resourceAttributes: { group: GROUP, ...attrs } }, how?.renewal ?? false);
  }

  /** May the caller `verb` the non-resource URL `path` (e.g. get /metrics)? */
  async allowedPath(caller: Caller, attrs: { verb: string; path: string }, how?: { renewal?: boolean }): Promise<boolean> {
    return this.access(caller, { nonResourceAttributes: attrs }, how?.renewal ?? false);
  }

  private async access(caller: Caller, attributes: Record<string, unknown>, renewal: boolean): Promise<boolean> {
    this.spend('access', renewal);
    let review: { status?: { allowed?: boolean } };
    try {
      review = await this.client.request('POST', resourcePath(Resources.SubjectAccessReview), {
        body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { user: caller.username, uid: caller.uid, groups: caller.groups, extra: caller.extra, ...attributes } },
      });
    } catch (err) {
      this.onReview('access', 'error');
      throw err;
    }
    const ok = review.status?.allowed === true;
    this.onReview('access', ok ? 'allowed' : 'refused');
    return ok;
  }
}

export type AccessAttributes = { verb: string; resource: string; subresource?: string; namespace: string; name: string };

/**
 * An API's access decisions, remembered for a few seconds by who asks (user name, groups,
 * extra) and what (the attributes), renewed in the background while in use (a renewal may
 * use the budget's reserve), over the authority's uncached SubjectAccessReviews: one layer
 * of cache, so a revoked grant stops answering within `ttlMs`. `refusalTtlMs`: how long a
 * refusal is remembered (0: never, when a refusal must cost the same review every time).
 */
export class AccessDecisions {
  private readonly authority: Authority;
  /** One cache per caller, so that what one caller asks (its own choice of namespaces and names) only ever pushes out its own decisions. */
  private readonly byCaller = new Map<string, ReviewCache<boolean>>();
  private readonly maxEntries: number;
  private readonly newCache: () => ReviewCache<boolean>;

  constructor(authority: Authority, opts: { ttlMs?: number; refusalTtlMs?: number; maxEntries?: number; clock?: Clock } = {}) {
    this.authority = authority;
    const ttl = opts.ttlMs ?? 10_000;
    const refusal = opts.refusalTtlMs ?? ttl;
    this.maxEntries = opts.maxEntries ?? 10_000;
    this.newCache = () => new ReviewCache<boolean>({ ttlMs: (ok) => (ok ? ttl : refusal), maxEntries: this.maxEntries, clock: opts.clock });
  }

  allowed(caller: Caller, attrs: AccessAttributes): Promise<boolean> {
    const who = JSON.stringify([caller.username, caller.groups ?? [], caller.extra ?? {}]);
    let decisions = this.byCaller.get(who);
    if (!decisions) this.byCaller.set(who, (decisions = this.newCache()));
    const key = JSON.stringify(attrs);
    const known = decisions.peek(key, () => this.authority.allowed(caller, attrs, { renewal: true }));
    if (known !== undefined) return Promise.resolve(known);
    return decisions.get(key, () => this.authority.allowed(caller, attrs)).finally(() => this.trim());
  }

  /** Past maxEntries in all, the caller holding the most gives up its oldest decision. */
  private trim(): void {
    let total = 0;
    for (const [who, c] of this.byCaller) {
      if (!c.size) this.byCaller.delete(who);
      total += c.size;
    }
    while (total > this.maxEntries) {
      let largest: ReviewCache<boolean> | undefined;
      for (const c of this.byCaller.values()) if (!largest || c.size > largest.size) largest = c;
      largest!.evictOldest();
      total--;
    }
  }
}

/** An answer of the operator's HTTP APIs other than 200: its status and what to tell the caller. */
export class HttpError extends Error {
  readonly status: number;
  readonly headers?: Record<string, string>;
  constructor(status: number, message: string, headers?: Record<string, string>) {
    super(message);
    this.status = status;
    this.headers = headers;
  }
}

/**
 * The start of an authenticated POST of the operator's HTTP APIs: POST only (405), the
 * client address's rate limit (429 with Retry-After). Answers itself and returns false
 * when the request goes no further.
 */
export function admitPost(req: IncomingMessage, res: ServerResponse, limiter: RateLimiter): boolean {
  if (req.method !== 'POST') {
    res.writeHead(405, { allow: 'POST' }).end();
    return false;
  }
  const admitted = limiter.take(clientKey(req.socket.remoteAddress));
  if (!admitted.ok) {
    res.writeHead(429, { 'retry-after': String(admitted.retryAfterSeconds), 'content-type': 'application/json' }).end(JSON.stringify({ error: 'Too many requests; try again later' }));
    return false;
  }
  return true;
}

/** The caller of a request, by its bearer token and the API server's TokenReview; HttpError 401 otherwise. */
export async function callerOf(req: IncomingMessage, authority: Authority): Promise<Caller> {
  const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
  if (!token) throw new HttpError(401, 'A Kubernetes bearer token is required (Authorization: Bearer <token>)');
  // A caller who hung up costs no review.
  if (req.destroyed) throw new HttpError(499, 'The client closed the request');
  const caller = await authority.authenticate(token, tokenHash(req, token), req.socket.remoteAddress ?? '');
  if (!caller) throw new HttpError(401, 'The token was not accepted by the API server');
  return caller;
}
