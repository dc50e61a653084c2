// MiniAppReview: a super app organization's decision on one version of a mini app.

import type { Static } from '@sinclair/typebox';
import { Int, List, ObjectName, Obj, OrgRef, Optional, Status, Str, StringEnum, Version, column, defineKind, printerColumns } from '../common.ts';
import type { Resource } from '../common.ts';
import { KIND_NAMES } from '../registry.ts';

export { MiniAppReviewConditions } from './names.ts';

export const ReviewDecisions = ['Approved', 'Rejected'] as const;
export type ReviewDecision = (typeof ReviewDecisions)[number];

export const MiniAppReviewSpecSchema = Obj(
  {
    miniApp: OrgRef('mini app', 'The mini app under review.'),
    superApp: ObjectName("Name of the super app, in this review's namespace, the decision applies to."),
    version: Version('The version of the mini app reviewed (one of its spec.versions[].name).'),
    decision: StringEnum(ReviewDecisions, "Approved: the version may appear in the super app's catalog. Rejected: it may not."),
    comment: Optional(Str("Why, for the mini app's developers; say what to fix when rejecting.", { maxLength: 4096 })),
  },
  'The decision.',
);

export const MiniAppReviewStatusSchema = Status(
  {
    approvedContent: Optional(
      Obj(
        {
          observedGeneration: Int(
            'The generation of the review (its spec) this record is of. An edit that leaves the review Approved keeps the content recorded (it approves nothing new); a new review, or one Rejected and approved again, records anew.',
            { minimum: 0 },
          ),
          digest: Str('`sha256:<hex>` of the fields below as canonical JSON.', { maxLength: 80 }),
          appName: Str('spec.appName of the mini app when approved.', { maxLength: 64 }),
          type: Str('spec.type of the mini app when approved.', { maxLength: 64 }),
          domain: Optional(Str('spec.domain of the mini app when approved.', { maxLength: 253 })),
          categories: List(Str('A category.', { maxLength: 64 }), 'spec.categories of the mini app when approved, sorted.', { maxItems: 16 }),
          protection: Str('spec.dataPrivacy.protection of the mini app when approved.', { maxLength: 64 }),
        },
        "What an Approved review approved, recorded by the operator when it first found the review's target: the mini app's catalog content (name, type, domain, categories, data privacy). The approval counts only while the mini app's content is this; a change needs a new review.",
      ),
    ),
  },
  'Observed state of the review.',
);

export type MiniAppReviewSpec = Static<typeof MiniAppReviewSpecSchema>;
export type MiniAppReviewStatus = Static<typeof MiniAppReviewStatusSchema>;
export type MiniAppReview = Resource<MiniAppReviewSpec, MiniAppReviewStatus>;

// This kind's object type, for what goes over every kind by the registry (domain/caches.ts).
declare module '../registry.ts' {
  interface KindObjects {
    MiniAppReview: MiniAppReview;
  }
}

export const miniAppReviewKind = defineKind(
  {
    ...KIND_NAMES.MiniAppReview,
    shortNames: ['mrev'],
    description:
      "MiniAppReview records the decision of a super app's organization on one version of a mini app. It lives in the super app's organization namespace; an approval lets the version into the super app's catalog.",
  },
  {
    specSchema: MiniAppReviewSpecSchema,
    statusSchema: MiniAppReviewStatusSchema,
    printerColumns: printerColumns(
      column('Mini App', '.spec.miniApp.name', 'The mini app reviewed.'),
      column('Organization', '.spec.miniApp.organization', "The mini app's organization.", 'string', 1),
      column('Super App', '.spec.superApp', 'The super app the decision applies to.'),
      column('Version', '.spec.version', 'The version reviewed.'),
      column('Decision', '.spec.decision', 'Approved or Rejected.'),
    ),
  },
);
