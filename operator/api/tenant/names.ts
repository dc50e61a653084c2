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
  /** Seed 003: the solutions onboarded to the tenant are recorded, and the groups of those onboarded with forceCreateUserGroup made (status.solutions). Gates Ready. */
  SolutionsOnboarded: 'SolutionsOnboarded',
} as const;

/** The namespace label that carries spec.stack. */
export const STACK_LABEL = `${GROUP}/stack`;

export const TenantReasons = {
  Ready: 'Ready',
  RBACApplied: 'RBACApplied',
  AdministratorsPresent: 'AdministratorsPresent',
  ApplyFailed: 'ApplyFailed',
  /** Every onboarded solution is recorded at its stage (status.solutions). */
  SolutionsOnboarded: 'SolutionsOnboarded',
} as const;

/**
 * On a tenant's namespace: the solutions onboarded to the tenant, `<organization>/<name>`
 * separated by spaces, written by the operator (Tenant controller) from the Solutions'
 * spec.onboarding. The admission policy `miniapps.dev-subscription-offered` reads it: a
 * Subscription may name only a solution listed here. Tenant administrators cannot write
 * namespaces, so they cannot offer themselves a solution.
 */
export const OFFERED_SOLUTIONS_ANNOTATION = `${GROUP}/offered-solutions`;

/** On a UserGroup made at onboarding (forceCreateUserGroup), before any subscription: a digest of the solution `<organization>/<name>`. */
export const ONBOARDED_BY_LABEL = `${GROUP}/onboarded-solution`;
