// Tenant: a customer of solutions. Cluster-scoped; the operator gives it a namespace
// in which its Subscriptions, UserGroups and Users live.

import type { Static } from '@sinclair/typebox';
import {
  Email,
  LabelName,
  Obj,
  Optional,
  OwnNamespace,
  Status,
  Str,
  StringSet,
  column,
  defineKind,
  ownNamespaceRules,
  printerColumns,
} from '../common.ts';
import type { Resource } from '../common.ts';
import { KIND_NAMES } from '../registry.ts';
import { STACK_LABEL } from './names.ts';

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
  },
  'Desired state of the tenant, written by a provisioning administrator.',
);

export const TenantStatusSchema = Status(
  { namespace: Optional(LabelName("Name of the tenant's namespace.")) },
  'Observed state of the tenant.',
);

export type TenantSpec = Static<typeof TenantSpecSchema>;
export type TenantStatus = Static<typeof TenantStatusSchema>;
export type Tenant = Resource<TenantSpec, TenantStatus>;

export const tenantKind = defineKind(
  {
    ...KIND_NAMES.Tenant,
    shortNames: ['tnt'],
    description:
      "Tenant is a customer of solutions. The operator creates its namespace, where its Subscriptions, UserGroups and Users live.",
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
