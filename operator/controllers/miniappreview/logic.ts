import { MiniAppReviewReasons } from '../../api/constants.ts';
import type { MiniAppReview } from '../../api/index.ts';
import { refKey } from '../../domain/apps.ts';
import type { AppDirectory } from '../../domain/directory.ts';

/**
 * What is wrong with a review, if anything: it must live in an organization's namespace,
 * name a SuperApp of that namespace, and a mini app that exists, has that version and
 * names this super app among its targets. The webhook refuses with the message; the
 * reconciler reports what slipped past (or what changed since) as TargetResolved=False.
 */
export function reviewProblem(review: MiniAppReview, dir: AppDirectory): { reason: string; message: string } | undefined {
  const ns = review.metadata.namespace!;
  const org = dir.domain.organizationOf(ns);
  if (!org) return { reason: MiniAppReviewReasons.NotInOrganization, message: `Namespace ${ns} belongs to no Organization: a MiniAppReview lives in the namespace of the super app it decides for` };
  const superApp = dir.superApps.getByName(review.spec.superApp, ns);
  if (!superApp) {
    return {
      reason: MiniAppReviewReasons.SuperAppNotFound,
      message: `SuperApp ${review.spec.superApp} does not exist in namespace ${ns} (Organization ${org.metadata.name}): a MiniAppReview lives in the namespace of the super app it decides for; create it there, or fix spec.superApp`,
    };
  }
  const ref = review.spec.miniApp;
  const mini = dir.miniAppOf(ref);
  if (!mini) return { reason: MiniAppReviewReasons.MiniAppNotFound, message: `MiniApp ${refKey(ref)} does not exist: fix spec.miniApp (organization and name)` };
  const versions = (mini.spec.versions ?? []).map((v) => v.name);
  if (!versions.includes(review.spec.version)) {
    return {
      reason: MiniAppReviewReasons.VersionNotFound,
      message: `MiniApp ${refKey(ref)} has no version ${review.spec.version} (its spec.versions: ${versions.join(', ') || 'none'}); review one of those`,
    };
  }
  const miniOrg = dir.organizationOf(mini)!;
  const target = { organization: org.metadata.name, name: superApp.metadata.name };
  if (!dir.names(mini, miniOrg, target)) {
    return { reason: MiniAppReviewReasons.NotATarget, message: `MiniApp ${refKey(ref)} does not name super app ${refKey(target)} in spec.superApps: a review decides only for a super app the mini app asks to be in` };
  }
  return undefined;
}
