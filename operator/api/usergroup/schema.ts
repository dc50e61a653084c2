// UserGroup: a named set of app roles in a tenant's namespace, and the shapes of
// user groups shared with solution and app manifests.

import type { Static } from '@sinclair/typebox';
import { Int, List, mapList, Obj, Optional, Status, Str, StringSet, column, defineKind, printerColumns } from '../common.ts';
import type { Resource } from '../common.ts';
import { KIND_NAMES } from '../registry.ts';
import { LANDING_PAGE_PATTERN } from '../constants.ts';

export { UserGroupConditions } from './names.ts';

/**
 * `role:<listingId>:<roleName>`, where the listing id may itself hold colons
 * (`role:platform:app:example:users`): the role name is the last colon-separated part,
 * the listing id everything between `role:` and it (domain/caches.ts listingOfRole).
 */
export const ROLE_PATTERN = '^role:[^:\\s]+(:[^:\\s]+)+$';

/** How a role id is read, for the schemas' descriptions. */
export const ROLE_ID_RULE =
  'The role name is the last colon-separated part and the listing id everything between `role:` and it, so a listing id may hold colons: `role:platform:app:example:users` is role `users` of listing `platform:app:example`.';

/**
 * A group's name as manifests write it (the seed's `solutions owner`): letters, digits,
 * spaces, dots, underscores and dashes, starting and ending with a letter or digit. The
 * UserGroup made from it is named by groupObjectName (lowercased, every other run of
 * characters a dash: `solutions-owner`); two names that give the same object name are
 * the same group, and a manifest may not name it twice.
 */
export const GROUP_NAME_PATTERN = '^[A-Za-z0-9]([A-Za-z0-9 ._-]*[A-Za-z0-9])?$';

export const LandingPageSchema = Obj(
  {
    url: Str(
      "Where the group's members land: an `https://` URL, or a path on the app's own origin starting with a single `/` (e.g. `/owner/home`). Other schemes (`javascript:`, `http:`) are refused.",
      {
        minLength: 1,
        maxLength: 2048,
        pattern: LANDING_PAGE_PATTERN,
      },
    ),
    rank: Int('Priority of this landing page, 1 being the highest: a user in several groups lands on the page of the group with the lowest rank number.', { minimum: 1 }),
  },
  'Where members of the group land after they log in.',
);

export const RoleSchema = Str(`An app role, written \`role:<listingId>:<roleName>\`. ${ROLE_ID_RULE}`, {
  pattern: ROLE_PATTERN,
  maxLength: 512,
});

export const RolesSchema = StringSet(RoleSchema, 'App roles the group grants, each written `role:<listingId>:<roleName>` (the last part is the role name).', 512);

const userGroupProperties = {
  description: Optional(Str('What the group is for.', { maxLength: 2048 })),
  landingPage: Optional(LandingPageSchema),
  roles: Optional(RolesSchema),
};

/** A user group as manifests declare it: the UserGroup spec plus its name. */
export const ManifestUserGroupSchema = Obj(
  {
    name: Str(
      'Name of the group, e.g. `solutions owner`. The UserGroup made from it in a tenant namespace is named by lowercasing it and turning every run of other characters into a dash (`solutions-owner`).',
      { pattern: GROUP_NAME_PATTERN, minLength: 1, maxLength: 128 },
    ),
    ...userGroupProperties,
  },
  'A user group and the app roles it holds.',
);

export const UserGroupSpecSchema = Obj(
  {
    displayName: Optional(Str("The group's name as the manifest writes it (e.g. `solutions owner`).", { maxLength: 128 })),
    ...userGroupProperties,
  },
  'Desired state of the user group.',
);

export const RoleSourceSchema = Obj(
  {
    role: RoleSchema,
    sources: StringSet(
      Str('Where the role comes from: `Solution <organization>/<name>`, `AppManifest <organization>/<name>`, or `spec` (added by hand).', { maxLength: 512 }),
      'Every manifest that grants the role to the group.',
      64,
    ),
  },
  'A role of the group and where it comes from.',
);

export const UserGroupStatusSchema = Status(
  {
    effectiveRoles: Optional(
      StringSet(
        RoleSchema,
        'Roles the group grants, sorted, as the operator last resolved them from spec.roles (which subscriptions and people may each add to: the list is a set merged across field managers).',
        2048,
      ),
    ),
    members: Optional(Int('Users in the tenant namespace that belong to the group.', { minimum: 0 })),
    roleSources: Optional(List(RoleSourceSchema, 'Each role of the group with the manifests that grant it (the subscriptions of the namespace merged), sorted by role.', mapList(['role'], 2048))),
  },
  'Observed state of the user group.',
);

export type RoleSource = Static<typeof RoleSourceSchema>;
export type LandingPage = Static<typeof LandingPageSchema>;
export type ManifestUserGroup = Static<typeof ManifestUserGroupSchema>;
export type UserGroupSpec = Static<typeof UserGroupSpecSchema>;
export type UserGroupStatus = Static<typeof UserGroupStatusSchema>;
export type UserGroup = Resource<UserGroupSpec, UserGroupStatus>;

// This kind's object type, for what goes over every kind by the registry (domain/caches.ts).
declare module '../registry.ts' {
  interface KindObjects {
    UserGroup: UserGroup;
  }
}

export const userGroupKind = defineKind(
  {
    ...KIND_NAMES.UserGroup,
    shortNames: ['ug'],
    description: "UserGroup is a named set of app roles in a tenant's namespace, made by Subscriptions from solution and app manifests, or by hand. Users get roles through the groups they belong to.",
  },
  {
    specSchema: UserGroupSpecSchema,
    statusSchema: UserGroupStatusSchema,
    printerColumns: printerColumns(column('Members', '.status.members', 'Users in the group.', 'integer'), column('Landing Page', '.spec.landingPage.url', 'Where members land.', 'string', 1)),
  },
);
