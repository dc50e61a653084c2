// UserGroup: a named set of app roles in a tenant's namespace, and the shapes of
// user groups shared with solution and app manifests.

import type { Static } from '@sinclair/typebox';
import {
  Int,
  Obj,
  ObjectName,
  Optional,
  Status,
  Str,
  StringSet,
  column,
  defineKind,
  printerColumns,
} from './common.ts';
import type { Resource } from './common.ts';
import { KIND_NAMES } from './constants.ts';

export { UserGroupConditions } from './constants.ts';

/** `role:<listingId>:<roleName>`. */
export const ROLE_PATTERN = '^role:[^:]+:[^:]+$';

export const LandingPageSchema = Obj(
  {
    url: Str('Absolute URL or path of the landing page.', { minLength: 1, maxLength: 2048 }),
    rank: Int(
      'Priority of this landing page, 1 being the highest: a user in several groups lands on the page of the group with the lowest rank number.',
      { minimum: 1 },
    ),
  },
  'Where members of the group land after they log in.',
);

export const RoleSchema = Str('An app role, written `role:<listingId>:<roleName>`.', {
  pattern: ROLE_PATTERN,
  maxLength: 512,
});

export const RolesSchema = StringSet(RoleSchema, 'App roles the group grants, each written `role:<listingId>:<roleName>`.', 512);

const userGroupProperties = {
  description: Optional(Str('What the group is for.', { maxLength: 2048 })),
  landingPage: Optional(LandingPageSchema),
  roles: Optional(RolesSchema),
};

/** A user group as manifests declare it: the UserGroup spec plus its name. */
export const ManifestUserGroupSchema = Obj(
  {
    name: ObjectName('Name of the group; the UserGroup made from it in a tenant namespace has this name.'),
    ...userGroupProperties,
  },
  'A user group and the app roles it holds.',
);

export const UserGroupSpecSchema = Obj(userGroupProperties, 'Desired state of the user group.');

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
  },
  'Observed state of the user group.',
);

export type LandingPage = Static<typeof LandingPageSchema>;
export type ManifestUserGroup = Static<typeof ManifestUserGroupSchema>;
export type UserGroupSpec = Static<typeof UserGroupSpecSchema>;
export type UserGroupStatus = Static<typeof UserGroupStatusSchema>;
export type UserGroup = Resource<UserGroupSpec, UserGroupStatus>;

export const userGroupKind = defineKind(
  {
    ...KIND_NAMES.UserGroup,
    shortNames: ['ug'],
    description:
      "UserGroup is a named set of app roles in a tenant's namespace, made by Subscriptions from solution and app manifests, or by hand. Users get roles through the groups they belong to.",
  },
  {
    specSchema: UserGroupSpecSchema,
    statusSchema: UserGroupStatusSchema,
    printerColumns: printerColumns(
      column('Members', '.status.members', 'Users in the group.', 'integer'),
      column('Landing Page', '.spec.landingPage.url', 'Where members land.', 'string', 1),
    ),
  },
);
