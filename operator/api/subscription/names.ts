// The names of the subscription slice: conditions, reasons, labels, annotations and limits, as plain
// values (no TypeBox): the operator process imports them.
import { STALLED_CONDITION } from '../constants.ts';

export const SubscriptionConditions = {
  Ready: 'Ready',
  Stalled: STALLED_CONDITION,
  /** The subscription is in a tenant's namespace. Gates Ready. */
  InTenant: 'InTenant',
  /** The solution (and the requested version) exists and has a good manifest. Gates Ready. */
  SolutionResolved: 'SolutionResolved',
  /** The tenant's user groups match the merged manifests. Gates Ready. */
  UserGroupsSynced: 'UserGroupsSynced',
  /** Groups dropped from the manifest are kept while users belong to them. Reported, does not gate Ready; only while there are such groups. */
  OrphansKept: 'OrphansKept',
} as const;

export const SubscriptionReasons = {
  Ready: 'Ready',
  InTenant: 'InTenant',
  NotInTenant: 'NotInTenant',
  SolutionResolved: 'SolutionResolved',
  OrganizationNotFound: 'OrganizationNotFound',
  SolutionNotFound: 'SolutionNotFound',
  SolutionNotReady: 'SolutionNotReady',
  VersionMismatch: 'VersionMismatch',
  /** An app of the solution has no status yet: its groups are not known (the tenant's stay as they are). */
  AppManifestsNotChecked: 'AppManifestsNotChecked',
  UserGroupsSynced: 'UserGroupsSynced',
  /**
   * A group of the manifest exists in the namespace and was not made by a subscription (it
   * is left alone: no roles added, no owner), or another organization's subscription holds
   * it (groups are never merged across organizations).
   */
  UserGroupConflict: 'UserGroupConflict',
  ApplyFailed: 'ApplyFailed',
  OrphansKept: 'OrphansKept',
} as const;
