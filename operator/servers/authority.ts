// The API server's own answers to "whose token is this" (TokenReview) and "may they"
// (SubjectAccessReview), for the operator's HTTP APIs: callers are authorized as
// themselves, never with the operator's rights. A token's review is reused for a few
// seconds (keyed by its SHA-256), so a busy caller does not cost a TokenReview per request.
import { createHash } from 'node:crypto';
import { GROUP } from '../api/constants.ts';
import type { KubeClient } from '../runtime/kube/client.ts';
import { resourcePath, Resources } from '../runtime/kube/resource.ts';
import { TtlCache } from '../runtime/ratelimit.ts';
import type { Authority, Caller } from './dataprotection.ts';

const TOKEN_REVIEWS = '/apis/authentication.k8s.io/v1/tokenreviews';

export class KubeAuthority implements Authority {
  private readonly client: KubeClient;
  private readonly reviews: TtlCache<Caller | null>;

  constructor(client: KubeClient, opts: { cacheTtlMs?: number } = {}) {
    this.client = client;
    this.reviews = new TtlCache({ ttlMs: opts.cacheTtlMs ?? 10_000, maxEntries: 1_000 });
  }

  async authenticate(token: string): Promise<Caller | undefined> {
    const key = createHash('sha256').update(token).digest('hex');
    const hit = this.reviews.get(key);
    if (hit !== undefined) return hit ?? undefined;
    const review = await this.client.request<{ status?: { authenticated?: boolean; user?: Caller } }>('POST', TOKEN_REVIEWS, {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } },
    });
    const user = review.status?.authenticated && review.status.user?.username ? review.status.user : undefined;
    this.reviews.set(key, user ?? null);
    return user;
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
