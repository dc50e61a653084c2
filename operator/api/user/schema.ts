// User: a person of a tenant, as the seed's create-users API takes them, in the tenant's namespace.

import type { Static } from '@sinclair/typebox';
import {
  Email,
  ObjectName,
  Obj,
  Optional,
  Status,
  Str,
  StringSet,
  column,
  defineKind,
  printerColumns,
} from '../common.ts';
import type { Resource } from '../common.ts';
import { KIND_NAMES } from '../registry.ts';

export { UserConditions } from './names.ts';
import { LandingPageSchema, RoleSchema } from '../usergroup/schema.ts';

const text = (description: string, maxLength = 128) => Optional(Str(description, { maxLength }));
const texts = (itemDescription: string, description: string) =>
  Optional(StringSet(Str(itemDescription, { minLength: 1, maxLength: 128 }), description, 32));

export const UserSpecSchema = Obj(
  {
    userCode: Str('Code of the user in the tenant, e.g. an employee number.', { minLength: 1, maxLength: 64 }),
    firstName: Str('First name.', { minLength: 1, maxLength: 128 }),
    lastName: text('Last name.'),
    email: Email('Email of the user.'),
    mobiles: Optional(
      StringSet(
        Str('A mobile number, international format preferred, e.g. `+27 82 555 0100`.', {
          pattern: '^\\+?[0-9][0-9 ()-]{2,31}$',
          maxLength: 32,
        }),
        'Mobile numbers of the user.',
        8,
      ),
    ),
    groups: Optional(
      StringSet(
        ObjectName('Name of a UserGroup in this namespace.'),
        'User groups the user belongs to; they decide the user\'s roles and landing page.',
        128,
      ),
    ),
    designation: text('Job title.'),
    workLocations: texts('A work location.', 'Where the user works.'),
    teams: texts('A team.', 'Teams the user is in.'),
    identification: text('Identification of the user, as the tenant\'s HR system records it (e.g. a staff ID number).'),
    userType: text('Type of user, as the tenant classifies users (e.g. `Internal`, `External`).', 64),
    department: text('Department of the user.'),
    employmentType: text('Employment type, e.g. `Permanent`, `Contract`.', 64),
  },
  'Who the user is and which groups they belong to.',
);

export const UserStatusSchema = Status(
  {
    groups: Optional(
      StringSet(
        Str('Name of a UserGroup.', { maxLength: 253 }),
        "Groups the user belongs to: spec.groups, plus the solutions' admin user groups when the user is a tenant administrator.",
        256,
      ),
    ),
    effectiveRoles: Optional(
      StringSet(RoleSchema, "The user's roles, sorted: the union of the roles of their groups that exist.", 4096),
    ),
    landingPage: Optional(
      Obj(
        {
          ...LandingPageSchema.properties,
          group: Str('The group the landing page comes from.', { maxLength: 253 }),
        },
        'Where the user lands: the landing page of their group with the highest rank (lowest rank number).',
      ),
    ),
  },
  'Observed state of the user.',
);

export type UserSpec = Static<typeof UserSpecSchema>;
export type UserStatus = Static<typeof UserStatusSchema>;
export type User = Resource<UserSpec, UserStatus>;

export const userKind = defineKind(
  {
    ...KIND_NAMES.User,
    shortNames: ['usr'],
    description:
      "User is a person of the tenant whose namespace it is in. Their roles are the union of their groups' roles; the operator reports them with the landing page, and names any group that does not exist.",
  },
  {
    specSchema: UserSpecSchema,
    statusSchema: UserStatusSchema,
    printerColumns: printerColumns(
      column('Code', '.spec.userCode', 'Code of the user.'),
      column('Email', '.spec.email', 'Email of the user.'),
      column('Groups', '.spec.groups', 'Groups of the user.', 'string', 1),
    ),
  },
);
