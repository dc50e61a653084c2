import { MiniAppReviewReasons } from '../../api/miniappreview/names.ts';
import type { MiniAppReview } from '../../api/miniappreview/schema.ts';
import { refKey, targetRefusal } from '../../domain/apps.ts';
import { missingCapability } from '../../domain/organizations.ts';
import type { AppDirectory } from '../../domain/directory.ts';

/**
 * What is wrong with a review, if anything: it must live in an organization's namespace,
 * name a SuperApp of that namespace, and a mini app that names this super app among its
 * targets and may publish there (one answer when it does not, whether or not it exists),
 * and has that version. The webhook refuses with the message; the
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
  const target = { organization: org.metadata.name, name: superApp.metadata.name };
  // One answer whether the mini app does not exist, does not name this super app, or may
  // not publish there: a reviewer learns nothing of mini apps that do not ask to be in
  // their super app, and their versions only once the target is established.
  const mini = dir.miniAppOf(ref);
  const miniOrg = mini ? dir.organizationOf(mini) : undefined;
  if (!mini || !miniOrg || !dir.names(mini, miniOrg, target) || missingCapability(miniOrg, 'MiniApp') || targetRefusal(miniOrg, target)) {
    return {
      reason: MiniAppReviewReasons.MiniAppNotFound,
      message: `No MiniApp ${refKey(ref)} asks to be in super app ${refKey(target)}: it does not exist, does not name super app ${refKey(target)} in spec.superApps, or may not publish into it; fix spec.miniApp (organization and name) or spec.superApp`,
    };
  }
  const versions = (mini.spec.versions ?? []).map((v) => v.name);
  if (!versions.includes(review.spec.version)) {
    return {
      reason: MiniAppReviewReasons.VersionNotFound,
      message: `MiniApp ${refKey(ref)} has no version ${review.spec.version} (its spec.versions: ${versions.join(', ') || 'none'}); review one of those`,
    };
  }
  return undefined;
}
