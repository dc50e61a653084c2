// The names of the tenant slice: conditions, reasons, labels, annotations and limits, as plain
// values (no TypeBox): the operator process imports them.
import { GROUP, STALLED_CONDITION } from '../constants.ts';

export const TenantConditions = {
  Ready: 'Ready',
  Stalled: STALLED_CONDITION,
  /** The tenant's namespace exists and belongs to it. Gates Ready. */
  NamespaceReady: 'NamespaceReady',
  /** The administrators' RoleBinding is in place. Gates Ready. */
  RBACReady: 'RBACReady',
  /** Every administrator has a User in the namespace (the operator makes missing ones). Gates Ready. */
  AdministratorsReady: 'AdministratorsReady',
} as const;

/** The namespace label that carries spec.stack. */
export const STACK_LABEL = `${GROUP}/stack`;

export const TenantReasons = {
  Ready: 'Ready',
  RBACApplied: 'RBACApplied',
  AdministratorsPresent: 'AdministratorsPresent',
  ApplyFailed: 'ApplyFailed',
} as const;
