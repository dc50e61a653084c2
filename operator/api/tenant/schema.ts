// Tenant: a customer of solutions. Cluster-scoped; the operator gives it a namespace
// in which its Subscriptions, UserGroups and Users live.

import type { Static } from '@sinclair/typebox';
import { Email, LabelName, List, mapList, Obj, Optional, OwnNamespace, Status, Str, StringEnum, StringSet, column, defineKind, ownNamespaceRules, printerColumns } from '../common.ts';
import type { Resource } from '../common.ts';
import { KIND_NAMES } from '../registry.ts';
import { STACK_LABEL } from './names.ts';
import { GROUP_NAME_PATTERN } from '../usergroup/schema.ts';

export { TenantConditions, STACK_LABEL } from './names.ts';

export const TenantSpecSchema = Obj(
  {
    displayName: Str('Name of the tenant as people read it.', { minLength: 1, maxLength: 128 }),
    administrators: Optional(
      StringSet(
        Email('Email of a tenant administrator.'),
        "The tenant's administrators, by email: the User in the tenant's namespace with this email receives the admin user groups of every solution the tenant subscribes to.",
        64,
      ),
    ),
    stack: Optional(
      Str(`The stack that serves the tenant, e.g. \`eu-1\`; set as the label ${STACK_LABEL} on its namespace.`, {
        pattern: '^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$',
        maxLength: 63,
      }),
    ),
    namespace: OwnNamespace('Tenant', 'namespacePrefix.tenant'),
    designations: Optional(
      List(
        Obj(
          {
            designation: Str('A designation as Users write it in spec.designation (e.g. `new tenant admin`); compared lowercased, every run of spaces, dots, underscores and dashes as one dash.', {
              minLength: 1,
              maxLength: 128,
            }),
            groups: StringSet(
              Str('A user group by the name the manifests write (e.g. `solutions admin`) or by its UserGroup name (`solutions-admin`).', { pattern: GROUP_NAME_PATTERN, minLength: 1, maxLength: 128 }),
              'The groups every User of the tenant with this designation belongs to: one (one to one) or several (one to many).',
              64,
            ),
          },
          'A designation and the user groups it gives.',
        ),
        "Designations mapped to user groups (the seed's createUsers: a User's designation decides groups, one to one or one to many). A User with a listed designation belongs to its groups as well as to its own spec.groups (status.groups lists them all).",
        mapList(['designation'], 128),
      ),
    ),
  },
  'Desired state of the tenant, written by a provisioning administrator.',
);

export const TenantStatusSchema = Status(
  {
    namespace: Optional(LabelName("Name of the tenant's namespace.")),
    solutions: Optional(
      List(
        Obj(
          {
            solution: Str('The solution, `<organization>/<name>`.', { maxLength: 317 }),
            stage: StringEnum(
              ['Offered', 'UserGroupsCreated', 'Subscribed'],
              'Where the tenant stands with it: `Offered` (onboarded to the tenant: its administrators may subscribe), `UserGroupsCreated` (onboarded with forceCreateUserGroup: its user groups are made, before any subscription), `Subscribed` (a Subscription of the tenant names it).',
            ),
            userGroups: Optional(StringSet(Str('Name of a UserGroup.', { maxLength: 253 }), 'At stage UserGroupsCreated: the groups made at onboarding.', 256)),
          },
          'A solution onboarded to the tenant, and its stage.',
        ),
        "The solutions onboarded to the tenant (a Solution's spec.onboarding names it or its stack), each with its stage.",
        mapList(['solution'], 512),
      ),
    ),
  },
  'Observed state of the tenant.',
);

export type TenantSpec = Static<typeof TenantSpecSchema>;
export type TenantStatus = Static<typeof TenantStatusSchema>;
export type Tenant = Resource<TenantSpec, TenantStatus>;

// This kind's object type, for what goes over every kind by the registry (domain/caches.ts).
declare module '../registry.ts' {
  interface KindObjects {
    Tenant: Tenant;
  }
}

export const tenantKind = defineKind(
  {
    ...KIND_NAMES.Tenant,
    shortNames: ['tnt'],
    description: 'Tenant is a customer of solutions. The operator creates its namespace, where its Subscriptions, UserGroups and Users live.',
  },
  {
    specSchema: TenantSpecSchema,
    statusSchema: TenantStatusSchema,
    printerColumns: printerColumns(
      column('Display Name', '.spec.displayName', 'Name of the tenant.', 'string', 1),
      column('Namespace', '.status.namespace', "The tenant's namespace."),
      column('Stack', '.spec.stack', 'The stack that serves the tenant.'),
    ),
    specRules: ownNamespaceRules('Tenant'),
  },
);
