import { MiniAppReviewConditions, MiniAppReviewReasons } from '../../api/miniappreview/names.ts';
import type { MiniApp } from '../../api/miniapp/schema.ts';
import type { MiniAppReview, MiniAppReviewStatus } from '../../api/miniappreview/schema.ts';
import { contentChanges, describeContent, reviewedContentOf, reviewedDigest } from '../../domain/apps.ts';
import type { ReviewedContent } from '../../domain/apps.ts';
import { Caches, Index, targetKey } from '../../domain/caches.ts';
import { AppDirectory } from '../../domain/directory.ts';
import { keyOf } from '../../runtime/cache.ts';
import { conditionsFromChecks } from '../../runtime/conditions.ts';
import type { ConditionInput } from '../../runtime/conditions.ts';
import type { ControllerSpec, ReconcileContext, ReconcileResult, Reconciler } from '../../runtime/controller.ts';
import type { AnyObject } from '../../runtime/kube/client.ts';
import type { ControllerDeps } from '../deps.ts';
import { Kinds } from '../../api/registry.ts';
import { reviewProblem } from './logic.ts';
import { writeStatus } from '../../runtime/status.ts';

/** A MiniAppReview: whether what it names exists and fits (TargetResolved). Its decision is read by the catalogs. */
export class MiniAppReviewReconciler implements Reconciler {
  private readonly deps: ControllerDeps;
  private readonly dir: AppDirectory;

  constructor(deps: ControllerDeps) {
    this.deps = deps;
    this.dir = new AppDirectory(deps.caches, deps.domain);
  }

  async reconcile(key: string, _ctx?: ReconcileContext): Promise<ReconcileResult | void> {
    const review = this.dir.reviews.get(key);
    if (!review || review.metadata.deletionTimestamp) return;
    const problem = reviewProblem(review, this.dir);
    const mini = problem ? undefined : this.dir.miniAppOf(review.spec.miniApp);
    const approvedContent = recordApproval(review, mini, !problem);
    const condition: ConditionInput = problem
      ? { type: MiniAppReviewConditions.TargetResolved, status: 'False', ...problem }
      : {
          type: MiniAppReviewConditions.TargetResolved,
          status: 'True',
          reason: MiniAppReviewReasons.TargetResolved,
          message: `${review.spec.decision} version ${review.spec.version} of MiniApp ${review.spec.miniApp.organization}/${review.spec.miniApp.name} for SuperApp ${review.spec.superApp}${approvedContent && mini ? approvalNote(approvedContent, mini) : ''}`,
        };
    // A mini app, version or super app may still come: not Stalled, except a review outside any organization's namespace.
    const conditions = conditionsFromChecks([{ condition, gatesReady: true, stalled: problem?.reason === MiniAppReviewReasons.NotInOrganization }], {
      reason: MiniAppReviewReasons.Ready,
      message: 'The review applies',
    });
    await writeStatus(this.deps, Kinds.MiniAppReview, review, { fields: approvedContent ? { approvedContent } : {}, conditions });
  }
}

/** What the approval approved, and whether the mini app still has it: the reviewer sees when a new review is needed. */
function approvalNote(approved: ReviewedContent, mini: MiniApp): string {
  const changed = contentChanges(approved, reviewedContentOf(mini));
  return changed.length
    ? `; it approved other content than the mini app has now (${changed.join('; ')}), so it is not listed on this approval: a new review must approve it as it is now`
    : `, as it is: ${describeContent(approved)} (status.approvedContent)`;
}

/**
 * What an Approved review approved: the mini app's catalog content as it is the first time
 * the approval finds its target, recorded in status, which only the operator writes; kept
 * as it is afterwards, whatever the mini app becomes, so the approval counts only for that
 * content. An edit of the review that leaves it Approved (a new comment, another version, a
 * GitOps tool applying it again) keeps the content recorded: it approves nothing new, since
 * nothing says its author looked at the mini app again; a new review does. A Rejected
 * review records nothing (so approving it again is a new approval).
 */
function recordApproval(review: MiniAppReview, mini: MiniApp | undefined, resolved: boolean): MiniAppReviewStatus['approvedContent'] {
  if (review.spec.decision !== 'Approved') return undefined;
  const recorded = review.status?.approvedContent;
  if (recorded) return recorded.observedGeneration === review.metadata.generation ? recorded : { ...recorded, observedGeneration: review.metadata.generation ?? 0 };
  if (!resolved || !mini) return undefined;
  const content = reviewedContentOf(mini);
  return { observedGeneration: review.metadata.generation ?? 0, digest: reviewedDigest(content), ...content };
}

export function miniAppReviewController(deps: ControllerDeps, concurrency?: number): ControllerSpec {
  const dir = new AppDirectory(deps.caches, deps.domain);
  const ofMiniApp = (o: AnyObject) => {
    const org = dir.organizationOf(o);
    return org ? dir.reviews.byIndex(Index.miniApp, targetKey(org.metadata.name, o.metadata.name!)).map(keyOf) : [];
  };
  const ofSuperApp = (o: AnyObject) => dir.reviews.byIndex(Index.superApp, `${o.metadata.namespace}/${o.metadata.name}`).map(keyOf);
  const generation = (a: AnyObject, b: AnyObject) => a.metadata.generation !== b.metadata.generation;
  return {
    name: 'miniappreview',
    for: Caches.miniAppReviews,
    watches: [
      { cache: Caches.miniApps, map: ofMiniApp, changed: generation, coalesceMs: 250 },
      { cache: Caches.superApps, map: ofSuperApp, changed: generation },
    ],
    reconciler: new MiniAppReviewReconciler(deps),
    concurrency,
  };
}
