// The API server's own answers to "whose token is this" (TokenReview) and "may they"
// (SubjectAccessReview), for the operator's HTTP APIs: callers are authorized as
// themselves, never with the operator's rights. A token's review is reused for a few
// seconds (keyed by its SHA-256) and renewed in the background while the token is in use,
// so a busy caller neither costs a TokenReview per request nor waits for one once warm.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GROUP } from '../api/constants.ts';
import type { KubeClient } from '../runtime/kube/client.ts';
import { resourcePath, Resources } from '../runtime/kube/resource.ts';
import { ReviewCache, clientKey } from '../runtime/ratelimit.ts';
import type { RateLimiter } from '../runtime/ratelimit.ts';
import type { Authority, Caller } from './dataprotection.ts';

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

export class KubeAuthority implements Authority {
  private readonly client: KubeClient;
  private readonly reviews: ReviewCache<Caller | null>;

  constructor(client: KubeClient, opts: { cacheTtlMs?: number } = {}) {
    this.client = client;
    this.reviews = new ReviewCache({ ttlMs: opts.cacheTtlMs ?? 10_000, maxEntries: 1_000 });
  }

  /** `hash`: the token's SHA-256 if the caller has it already (tokenHash). */
  async authenticate(token: string, hash = sha256(token)): Promise<Caller | undefined> {
    return (await this.reviews.get(hash, () => this.review(token))) ?? undefined;
  }

  private async review(token: string): Promise<Caller | null> {
    const review = await this.client.request<{ status?: { authenticated?: boolean; user?: Caller } }>('POST', TOKEN_REVIEWS, {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } },
    });
    return review.status?.authenticated && review.status.user?.username ? review.status.user : null;
  }

  async allowed(caller: Caller, attrs: { verb: string; resource: string; subresource?: string; namespace: string; name: string }): Promise<boolean> {
    const review = await this.client.request<{ status?: { allowed?: boolean } }>('POST', resourcePath(Resources.SubjectAccessReview), {
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: { user: caller.username, uid: caller.uid, groups: caller.groups, extra: caller.extra, resourceAttributes: { group: GROUP, ...attrs } },
      },
    });
    return review.status?.allowed === true;
  }
}

/** An answer of the operator's HTTP APIs other than 200: its status and what to tell the caller. */
export class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
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
  const caller = await authority.authenticate(token, tokenHash(req, token));
  if (!caller) throw new HttpError(401, 'The token was not accepted by the API server');
  return caller;
}
