// SuperApp: a host application whose catalog lists the mini apps approved for it.

import type { Static } from '@sinclair/typebox';
import { Int, LabelName, List, LocalOrgRef, Obj, ObjectName, Optional, Status, Str, StringEnum, StringSet, Timestamp, Version, column, defineKind, mapList, printerColumns } from '../common.ts';
import type { Resource } from '../common.ts';
import { KIND_NAMES } from '../registry.ts';

export { SuperAppConditions } from './names.ts';

export const ReviewPolicies = ['Required', 'SameOrganization'] as const;

export const SuperAppSpecSchema = Obj(
  {
    displayName: Str('Name of the super app as people read it.', { minLength: 1, maxLength: 128 }),
    platforms: Optional(
      StringSet(
        Str('A platform from PlatformConfig spec.platforms, e.g. `Android`.', { minLength: 1, maxLength: 64 }),
        'Platforms the super app runs on; each must be listed in PlatformConfig spec.platforms.',
        16,
      ),
    ),
    featured: Optional(List(LocalOrgRef('mini app', 'A mini app shown first.', "the super app's organization"), 'Mini apps shown first in the catalog, in this order.', { maxItems: 64 })),
    reviewPolicy: Optional(
      StringEnum(
        ReviewPolicies,
        "Required (default): a mini app appears in the catalog once a MiniAppReview of this super app approved it. SameOrganization: mini apps of the super app's own organization need no review.",
        { default: 'Required' },
      ),
    ),
    versions: Optional(
      List(
        Obj(
          {
            name: Version('The version, e.g. `1.4.0`.'),
            description: Optional(Str('What the version is, e.g. release notes.', { maxLength: 2048 })),
          },
          'A version of the super app.',
        ),
        'Versions of the super app. Adding an entry freezes the catalog at that moment into a ConfigMap snapshot that never changes afterwards.',
        mapList(['name'], 256),
      ),
    ),
  },
  'Desired state of the super app.',
);

export const SuperAppStatusSchema = Status(
  {
    organization: Optional(LabelName("The super app's organization (whose namespace this is).")),
    catalog: Optional(
      Obj(
        {
          configMapName: ObjectName("Name of the catalog ConfigMap, in the super app's namespace."),
          miniApps: Int('Mini apps listed.', { minimum: 0 }),
          hash: Optional(Str('SHA-256 of the catalog JSON as published (`sha256:<hex>`): equal hashes, equal catalogs.', { maxLength: 80 })),
        },
        'The live catalog: approved mini apps with their published version, featured first.',
      ),
    ),
    versions: Optional(
      List(
        Obj(
          {
            name: Version('The version (spec.versions[].name).'),
            configMapName: ObjectName('Name of the immutable snapshot ConfigMap.'),
            miniApps: Int('Mini apps listed in the snapshot.', { minimum: 0 }),
            frozenAt: Timestamp('When the snapshot was taken.'),
            hash: Optional(Str('SHA-256 of the snapshot JSON (`sha256:<hex>`).', { maxLength: 80 })),
          },
          'The frozen catalog of one version.',
        ),
        'Snapshots of the catalog, one per spec.versions entry.',
        mapList(['name'], 256),
      ),
    ),
    awaitingReview: Optional(Int('How many mini apps wait for a MiniAppReview in this super app (reviewQueue lists the first ones).', { minimum: 0 })),
    reviewQueue: Optional(
      List(
        Obj(
          {
            organization: LabelName("The mini app's organization (this one, or a partner whose miniAppTargets name this super app)."),
            name: ObjectName("The MiniApp's name, in its organization's namespace."),
            version: Version("The version waiting for a review: the mini app's spec.publishedVersion."),
            appName: Str('spec.appName of the mini app now.', { maxLength: 64 }),
            type: Str('spec.type of the mini app now.', { maxLength: 64 }),
            domain: Optional(Str('spec.domain of the mini app now.', { maxLength: 253 })),
            categories: List(Str('A category.', { maxLength: 64 }), 'spec.categories of the mini app now, sorted.', { maxItems: 16 }),
            protection: Str('spec.dataPrivacy.protection of the mini app now.', { maxLength: 64 }),
            digest: Str('`sha256:<hex>` of the content above: what an Approved MiniAppReview written now would approve (its status.approvedContent.digest).', { maxLength: 80 }),
          },
          'A mini app version waiting for a review, with the content a review approves.',
        ),
        "The reviewers' queue: the mini apps (of this organization or a partner's) whose published version waits for an Approved or Rejected MiniAppReview in this super app, with the content a review would approve, sorted by organization and name (at most 100: awaitingReview counts them all). Reviewers read it here, where they may read: a partner's MiniApp itself lives in the partner's namespace.",
        { maxItems: 100 },
      ),
    ),
  },
  'Observed state of the super app.',
);

export type SuperAppSpec = Static<typeof SuperAppSpecSchema>;
export type SuperAppStatus = Static<typeof SuperAppStatusSchema>;
export type SuperApp = Resource<SuperAppSpec, SuperAppStatus>;

// This kind's object type, for what goes over every kind by the registry (domain/caches.ts).
declare module '../registry.ts' {
  interface KindObjects {
    SuperApp: SuperApp;
  }
}

export const superAppKind = defineKind(
  {
    ...KIND_NAMES.SuperApp,
    shortNames: ['sapp'],
    description: 'SuperApp is a host application in which mini apps run. The operator publishes its catalog of approved mini apps as a ConfigMap, and an immutable snapshot ConfigMap per version.',
  },
  {
    specSchema: SuperAppSpecSchema,
    statusSchema: SuperAppStatusSchema,
    printerColumns: printerColumns(
      column('Display Name', '.spec.displayName', 'Name of the super app.'),
      column('Review Policy', '.spec.reviewPolicy', 'Whether mini apps need a review.', 'string', 1),
      column('Mini Apps', '.status.catalog.miniApps', 'Mini apps in the catalog.', 'integer'),
      column('Awaiting Review', '.status.awaitingReview', 'Mini apps waiting for a review in this super app (status.reviewQueue).', 'integer'),
    ),
  },
);
