// User: a person of a tenant, as the seed's create-users API takes them, in the tenant's namespace.

import type { Static } from '@sinclair/typebox';
import { Email, Obj, StringEnum, Timestamp, Optional, Status, Str, StringSet, column, defineKind, printerColumns } from '../common.ts';
import type { Resource } from '../common.ts';
import { KIND_NAMES } from '../registry.ts';

export { UserConditions } from './names.ts';
import { GROUP_NAME_PATTERN, LandingPageSchema, RoleSchema } from '../usergroup/schema.ts';

const text = (description: string, maxLength = 128) => Optional(Str(description, { maxLength }));
const texts = (itemDescription: string, description: string) => Optional(StringSet(Str(itemDescription, { minLength: 1, maxLength: 128 }), description, 32));

/** A mobile number as the seed's createUsers body writes it: `{countryCode: "+1", number: "5551234567"}`. */
const MobileSchema = (description: string) =>
  Optional(
    Obj(
      {
        countryCode: Str('Country calling code, e.g. `+1`.', { pattern: '^\\+?[0-9]{1,4}$', maxLength: 5 }),
        number: Str('The number without the country code, e.g. `5551234567`.', { pattern: '^[0-9][0-9 ()-]{2,23}$', maxLength: 24 }),
      },
      description,
    ),
  );

export const UserSpecSchema = Obj(
  {
    userCode: Str("Code of the user in the tenant, e.g. an employee number (the seed's `userCode`).", { minLength: 1, maxLength: 64 }),
    userOwnerId: text("Who the user belongs to, as the platform records it (the seed's `userOwnerId`, e.g. `owner456`)."),
    userOwnerType: text("What kind of owner userOwnerId is (the seed's `userOwnerType`, e.g. `solutionprovider`).", 64),
    function: text("The business function of the user (the seed's `function`, e.g. `administration`)."),
    firstName: Str('First name.', { minLength: 1, maxLength: 128 }),
    middleName: text('Middle name or initial.'),
    lastName: text('Last name.'),
    email: Email('Email of the user.'),
    primaryMobile: MobileSchema("Primary mobile number (the seed's `primaryMobile`)."),
    secondaryMobile: MobileSchema("Secondary mobile number (the seed's `secondaryMobile`)."),
    mobiles: Optional(
      StringSet(
        Str('A mobile number, international format preferred, e.g. `+27 82 555 0100`.', {
          pattern: '^\\+?[0-9][0-9 ()-]{2,31}$',
          maxLength: 32,
        }),
        'Mobile numbers of the user, as one list (the form before primaryMobile and secondaryMobile; both may be used).',
        8,
      ),
    ),
    groups: Optional(
      StringSet(
        Str(
          "A user group by the name the manifests write (e.g. `solutions admin`) or by its UserGroup's object name (`solutions-admin`): a name is compared lowercased with every run of spaces, dots, underscores and dashes as one dash, so both name the UserGroup `solutions-admin`.",
          { pattern: GROUP_NAME_PATTERN, minLength: 1, maxLength: 128 },
        ),
        "User groups the user belongs to; with the groups of their designation (the Tenant's spec.designations) they decide the user's roles and landing page.",
        128,
      ),
    ),
    workLocations: texts('A work location.', 'Where the user works.'),
    teams: texts('A team.', 'Teams the user is in.'),
    identification: Optional(
      Obj(
        {
          idType: Str('Kind of identity document, e.g. `passport`.', { minLength: 1, maxLength: 64 }),
          idNum: Str("The document's number. Personal: the operator never copies it into status, events or logs.", { minLength: 1, maxLength: 128 }),
        },
        "Identification of the user as the seed's createUsers body writes it (`idType`, `idNum`).",
      ),
    ),
    fileId: text("Id of a file about the user uploaded to the platform (the seed's `fileId`); kept as written."),
    userType: text('Type of user, as the tenant classifies users (e.g. `admin`, `Internal`).', 64),
    department: text('Department of the user.'),
    aaaId: text("Id of the user in the identity system (the seed's `aaaId`); kept as written."),
    aaaGroups: texts(
      'A group of the identity system.',
      "Groups of the user in the identity system (the seed's `aaaGroups`); kept as written, they grant nothing here (spec.groups and the designation do).",
    ),
    designation: text(
      "Job title or designation (e.g. `new tenant admin`). When the Tenant's spec.designations maps it, the user also belongs to those groups; designations are compared as group names are (lowercased, runs of spaces, dots, underscores and dashes as one dash).",
    ),
    employmentType: text('Employment type, e.g. `full-time`, `Permanent`, `Contract`.', 64),
  },
  "Who the user is and which groups they belong to: the seed's createUsers body, field for field (its `callback` is not a field: the User's conditions and events say when the user is ready, see docs/seed003.md).",
);

export const UserStatusSchema = Status(
  {
    groups: Optional(
      StringSet(
        Str('Name of a UserGroup.', { maxLength: 253 }),
        "Groups the user belongs to, by UserGroup name: spec.groups, the groups the Tenant's spec.designations maps the user's designation to, and the solutions' admin user groups when the user is a tenant administrator.",
        256,
      ),
    ),
    effectiveRoles: Optional(StringSet(RoleSchema, "The user's roles, sorted: the union of the roles of their groups that exist.", 4096)),
    landingPage: Optional(
      Obj(
        {
          ...LandingPageSchema.properties,
          group: Str('The group the landing page comes from.', { maxLength: 253 }),
        },
        'Where the user lands: the landing page of their group with the highest rank (lowest rank number).',
      ),
    ),
    account: Optional(
      Obj(
        {
          state: StringEnum(
            ['PasswordNotSet', 'PasswordSet', 'External'] as const,
            "`PasswordNotSet`: the embedded identity provider holds the user's account in this tenant, and the user has not chosen a password yet (the set-password email says how); `PasswordSet`: they have, and sign in to the tenant's frontend apps with the tenant's name, their email and that password; `External`: the platform uses an external identity provider, where the user signs in with its account.",
          ),
          setPasswordEmailSentAt: Optional(Timestamp('When the set-password email was sent.')),
        },
        "The user's account (never a password or a link).",
      ),
    ),
  },
  'Observed state of the user.',
);

export type UserSpec = Static<typeof UserSpecSchema>;
export type UserStatus = Static<typeof UserStatusSchema>;
export type User = Resource<UserSpec, UserStatus>;

// This kind's object type, for what goes over every kind by the registry (domain/caches.ts).
declare module '../registry.ts' {
  interface KindObjects {
    User: User;
  }
}

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
