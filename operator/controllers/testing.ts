// One reconcile step's world for unit tests: the declared caches and the API server in
// memory (runtime/testing.ts), the controller dependencies over them, the events recorded.
import { pino } from 'pino';
import type { MiniApp } from '../api/miniapp/schema.ts';
import type { MiniAppReviewStatus } from '../api/miniappreview/schema.ts';
import { reviewedContentOf, reviewedDigest } from '../domain/apps.ts';
import { Domain } from '../domain/lookups.ts';
import type { AnyCacheDecl } from '../runtime/cache.ts';
import type { AnyObject } from '../runtime/kube/client.ts';
import { FakeStore, MemoryCaches } from '../runtime/testing.ts';
import type { ControllerDeps } from './deps.ts';

export class FakeWorld {
  readonly caches = new MemoryCaches();
  readonly store = new FakeStore();
  /** `<type> <reason>` of every event recorded. */
  readonly events: string[] = [];
  readonly deps: ControllerDeps;

  constructor(now: () => Date = () => new Date('2026-12-01T00:00:00Z')) {
    this.deps = {
      caches: this.caches,
      domain: new Domain(this.caches),
      store: this.store,
      clock: { now },
      recorder: { event: (_o, type, reason) => this.events.push(`${type} ${reason}`) },
      log: pino({ level: 'silent' }),
      operatorNamespace: 'miniapps-system',
    };
  }

  /** Puts an object on the fake API server and in its cache, as the informer would then see it. */
  put<T extends AnyObject>(rt: Parameters<FakeStore['seed']>[0], decl: AnyCacheDecl, obj: T): T {
    const seeded = this.store.seed(rt, obj);
    this.caches.cache(decl).put(seeded);
    return seeded;
  }
}

/** The status the MiniAppReview controller records for an approval of `mini` as it is (for generation 1 of the review). */
export function recordedApproval(mini: MiniApp, generation = 1): MiniAppReviewStatus {
  const content = reviewedContentOf(mini);
  return { approvedContent: { observedGeneration: generation, digest: reviewedDigest(content), ...content } };
}
