// Solution: a bundle of apps sold to tenants, with the manifest of user groups
// tenants get when they subscribe.

import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { Bool, List, ObjectName, ManifestDigest, ManifestFrom, Obj, Optional, Status, Str, StringSet, Version, column, defineKind, mapList, printerColumns } from '../common.ts';
import type { Resource } from '../common.ts';
import { KIND_NAMES } from '../registry.ts';

export { SolutionConditions } from './names.ts';
import { GROUP_NAME_PATTERN, ManifestUserGroupSchema } from '../usergroup/schema.ts';

const userGroups = (description: string) => List(ManifestUserGroupSchema, description, mapList(['name'], 128));

/**
 * The solution manifest: inline in spec.manifest, or the YAML document held by
 * the ConfigMap key spec.manifestFrom names (the seed's "uploaded artifact").
 */
export const SolutionManifestSchema = Obj(
  {
    userGroupsRequired: Optional(userGroups('User groups every subscribing tenant gets.')),
    adminUserGroups: Optional(userGroups("User groups the tenant's administrators get, in addition.")),
  },
  'The user groups a subscribing tenant gets, and the app roles each holds.',
);

export const SolutionSpecSchema = Obj(
  {
    solutionId: Str("Identifier of the solution in the platform's marketplace.", { minLength: 1, maxLength: 128 }),
    version: Version('Version of the solution, e.g. `2.1.0`. Changing it (with the manifest) updates subscribed tenants.'),
    manifest: Optional(SolutionManifestSchema),
    onboarding: Optional(
      Obj(
        {
          tenants: Optional(StringSet(ObjectName("A Tenant, by name (the seed's tenantIds)."), 'The tenants the solution is offered to.', 256)),
          stacks: Optional(
            StringSet(
              Str("A stack (the seed's stackId): every Tenant whose spec.stack is this.", { pattern: '^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$', maxLength: 63 }),
              'The stacks whose tenants the solution is offered to.',
              16,
            ),
          ),
          forceCreateUserGroup: Optional(
            Bool(
              "Make the manifest's user groups in each onboarded tenant now, before it subscribes (the seed's forceCreateUserGroup); by default they are made when the tenant subscribes. The Tenant's status.solutions shows the stage (UserGroupsCreated), and a later Subscription takes the groups over.",
            ),
          ),
        },
        "Onboarding (the seed's onboarding API, for spec.version): the tenants this solution is offered to. Only an offered solution can be subscribed to (the API server refuses a Subscription to any other, admission policy miniapps.dev-subscription-offered), and only the solution's owners (who may update it: its organization's administrators and super app administrators) change this.",
      ),
    ),
    manifestFrom: ManifestFrom(
      'Where to read the manifest from: a ConfigMap key holding the manifest as YAML. The operator validates it and reports errors with line and field in the ManifestValid condition.',
    ),
  },
  'Desired state of the solution. Set exactly one of manifest and manifestFrom.',
);

export const SolutionStatusSchema = Status(
  {
    manifestDigest: ManifestDigest('SHA-256 (hex) of the last good manifest, the one subscribed tenants are built from; changes when it does.'),
    manifestVersion: Optional(Version("spec.version when the last good manifest was accepted: what a Subscription's spec.version is compared with.")),
    manifest: Optional({
      ...SolutionManifestSchema,
      description: 'The last good manifest, as parsed: what subscribed tenants are built from. A new manifest that does not validate never replaces it (ManifestValid says what is wrong).',
    }),
    apps: Optional(
      StringSet(Str('The listingId of an app.', { maxLength: 128 }), "The listingIds the manifest's roles name: the AppManifests of this namespace with these listingIds are merged into it.", 256),
    ),
    userGroups: Optional(StringSet(Str('Name of a user group.', { maxLength: 253 }), "Names of the manifest's userGroupsRequired.", 128)),
    adminUserGroups: Optional(StringSet(Str('Name of a user group.', { maxLength: 253 }), "Names of the manifest's adminUserGroups.", 128)),
  },
  'Observed state of the solution.',
);

export type SolutionManifest = Static<typeof SolutionManifestSchema>;
export type SolutionSpec = Static<typeof SolutionSpecSchema>;
export type SolutionStatus = Static<typeof SolutionStatusSchema>;
export type Solution = Resource<SolutionSpec, SolutionStatus>;

// This kind's object type, for what goes over every kind by the registry (domain/caches.ts).
declare module '../registry.ts' {
  interface KindObjects {
    Solution: Solution;
  }
}

export const solutionKind = defineKind(
  {
    ...KIND_NAMES.Solution,
    shortNames: ['sol'],
    description:
      'Solution is a bundle of apps sold to tenants. Its manifest lists the user groups a subscribing tenant gets and the app roles each holds; it is written inline or read from a ConfigMap.',
  },
  {
    specSchema: SolutionSpecSchema,
    statusSchema: SolutionStatusSchema,
    printerColumns: printerColumns(column('Solution ID', '.spec.solutionId', 'Identifier of the solution.'), column('Version', '.spec.version', 'Version of the solution.')),
    specRules: [
      {
        rule: 'has(self.manifest) != has(self.manifestFrom)',
        message: 'set exactly one of spec.manifest (inline) and spec.manifestFrom (a ConfigMap key)',
        reason: 'FieldValueInvalid',
      },
    ],
  },
);

/**
 * adminUserGroups in a file: as the seed writes it, a list of group names
 * (`- solutions admin`), or, as before, groups written whole; the two may be mixed.
 */
export const FileAdminUserGroups = List(
  Type.Union([
    Str(
      "A group by name (the seed's form, e.g. `solutions admin`): a group of userGroupsRequired, or of an app manifest, or one no manifest defines, which is then made empty in each subscribing tenant (apps' manifests may add roles to it). The tenant's administrators get it.",
      { pattern: GROUP_NAME_PATTERN, minLength: 1, maxLength: 128 },
    ),
    ManifestUserGroupSchema,
  ]),
  "The user groups the tenant's administrators get: names (the seed's form), or groups written whole (name, description, landingPage, roles).",
  { maxItems: 128 },
);
