// Subscription: a tenant's subscription to a solution, in the tenant's namespace.

import type { Static } from '@sinclair/typebox';
import { Obj, OrgRef, Optional, Status, Str, StringSet, Version, column, defineKind, printerColumns } from '../common.ts';
import type { Resource } from '../common.ts';
import { KIND_NAMES } from '../registry.ts';

export { SubscriptionConditions } from './names.ts';

const groupNames = (description: string) => Optional(StringSet(Str('Name of a UserGroup in this namespace.', { maxLength: 253 }), description, 256));

export const SubscriptionSpecSchema = Obj(
  {
    solution: OrgRef('solution', 'The solution subscribed to.'),
    version: Optional(
      Version("The solution version subscribed to; must equal the Solution's spec.version, else the subscription waits (SolutionResolved False). Empty follows the solution's current version."),
    ),
  },
  'Desired state of the subscription.',
);

export const SubscriptionStatusSchema = Status(
  {
    version: Optional(Version('The solution version the user groups were last built from.')),
    manifestDigest: Optional(Str('Solution status.manifestDigest the user groups were last built from.', { maxLength: 128 })),
    userGroups: groupNames('User groups the subscription manages.'),
    conflictingUserGroups: groupNames(
      "Groups of the manifests this subscription does not manage: one that exists and was not made by a subscription (left as it is), or one another organization's subscription holds (groups are never merged across organizations). UserGroupsSynced says which is which.",
    ),
    orphanedUserGroups: groupNames(
      'User groups dropped from the manifest that are kept because users still belong to them (remove the users from them, and they are deleted), and groups of an app of the solution whose organization does not hold its ids (IdsOwned False), kept as they are.',
    ),
  },
  'Observed state of the subscription.',
);

export type SubscriptionSpec = Static<typeof SubscriptionSpecSchema>;
export type SubscriptionStatus = Static<typeof SubscriptionStatusSchema>;
export type Subscription = Resource<SubscriptionSpec, SubscriptionStatus>;

// This kind's object type, for what goes over every kind by the registry (domain/caches.ts).
declare module '../registry.ts' {
  interface KindObjects {
    Subscription: Subscription;
  }
}

export const subscriptionKind = defineKind(
  {
    ...KIND_NAMES.Subscription,
    shortNames: ['subs'],
    description:
      "Subscription subscribes the tenant whose namespace it is in to a solution. The operator builds the tenant's user groups from the solution's manifest merged with its apps' manifests, and keeps them up to date.",
  },
  {
    specSchema: SubscriptionSpecSchema,
    statusSchema: SubscriptionStatusSchema,
    printerColumns: printerColumns(
      column('Organization', '.spec.solution.organization', "The solution's organization.", 'string', 1),
      column('Solution', '.spec.solution.name', 'The solution.'),
      column('Version', '.status.version', 'The version the user groups come from.'),
    ),
  },
);
