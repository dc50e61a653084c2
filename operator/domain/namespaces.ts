// The namespace an Organization or a Tenant owns, and the rules for it (docs/design/threat-model.md):
// created by the operator with a POST (never an apply onto someone's namespace),
// an existing one adopted only when it opted in with `miniapps.dev/adoptable-by:
// <Kind>/<name>`, never a reserved one (default, kube-*, the operator's own), never one
// another Organization or Tenant claims; released, not deleted, when adopted.
import { ADOPTABLE_BY_ANNOTATION, CREATED_BY_ANNOTATION, GROUP, isReservedNamespace } from '../api/constants.ts';
import { NAMESPACE_QUOTA_NAME } from '../api/platformconfig/names.ts';
import { OrganizationConditions, OrganizationReasons } from '../api/organization/names.ts';
import type { ConditionInput } from '../runtime/conditions.ts';
import type { AnyObject, ObjectBody } from '../runtime/kube/client.ts';
import { controllerRef } from '../runtime/apply.ts';
import { ownedLabels } from '../runtime/objects.ts';
import type { Namespace } from './caches.ts';

/** Who may own a namespace. */
export type NamespaceOwnerKind = 'Organization' | 'Tenant';
/** An Organization or a Tenant: its name, uid, and the namespace in its spec and status. */
export type NamespaceOwner = AnyObject & { metadata: { name: string }; spec: { namespace?: string }; status?: { namespace?: string } };

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const word = (kind: NamespaceOwnerKind) => kind.toLowerCase();

/**
 * The owner's namespace: spec.namespace, else the one already recorded in status (a
 * later prefix change does not move it), else prefix + name.
 */
export function namespaceNameFor(owner: NamespaceOwner, prefix: string): string {
  return owner.spec.namespace ?? owner.status?.namespace ?? `${prefix}${owner.metadata.name}`;
}

export function namespaceNameProblem(name: string, operatorNamespace: string, kind: NamespaceOwnerKind = 'Organization'): ConditionInput | undefined {
  if (!DNS_LABEL.test(name)) {
    return {
      type: OrganizationConditions.NamespaceReady,
      status: 'False',
      reason: OrganizationReasons.InvalidNamespaceName,
      message: `The namespace name "${name}" is not a valid DNS-1123 label (at most 63 lowercase letters, digits and dashes); set spec.namespace to a valid name`,
    };
  }
  if (isReservedNamespace(name, operatorNamespace)) {
    return {
      type: OrganizationConditions.NamespaceReady,
      status: 'False',
      reason: OrganizationReasons.NamespaceReserved,
      message: `Namespace "${name}" is reserved (default, kube-* and the operator's own namespace never belong to an ${word(kind)}); set spec.namespace to another name`,
    };
  }
  return undefined;
}

/** Who claims a namespace through the operator's labels, if anyone. */
export function claimOf(ns: AnyObject): { kind: 'organization' | 'tenant'; name: string } | undefined {
  const labels = ns.metadata.labels ?? {};
  for (const kind of ['organization', 'tenant'] as const) {
    const name = labels[`${GROUP}/${kind}`];
    if (name) return { kind, name };
  }
  return undefined;
}

/** The opt-in value that lets the owner adopt an existing namespace. */
export const adoptionValue = (owner: NamespaceOwner, kind: NamespaceOwnerKind = 'Organization') => `${kind}/${owner.metadata.name}`;

/** Whether the operator created this namespace for this owner (it alone sets that controlling owner). */
export function createdFor(owner: AnyObject, ns: AnyObject): boolean {
  return !!ns.metadata.ownerReferences?.some((r) => r.controller && r.uid === owner.metadata.uid);
}

/**
 * What to do with the owner's namespace:
 * - `create`: it does not exist; the operator creates it (and only then owns it);
 * - `owned`: the operator created it for this owner (controlling ownerReference);
 * - `adopted`: it existed and opted in with `miniapps.dev/adoptable-by: <Kind>/<name>`
 *   (set by someone allowed to update the namespace); it gets the labels, never an
 *   ownerReference, and is released, not deleted, with its owner;
 * - a problem: claimed by another Organization or Tenant, terminating, or not opted in.
 */
export type NamespacePlan = { action: 'create' | 'owned' | 'adopted' } | { action: 'none'; problem: ConditionInput };

export function namespacePlan(owner: NamespaceOwner, ns: Namespace | undefined, kind: NamespaceOwnerKind = 'Organization'): NamespacePlan {
  if (!ns) return { action: 'create' };
  const problem = (reason: string, message: string): NamespacePlan => ({ action: 'none', problem: { type: OrganizationConditions.NamespaceReady, status: 'False', reason, message } });
  const name = ns.metadata.name;
  const claim = claimOf(ns);
  const otherOwner = ns.metadata.ownerReferences?.find((r) => r.controller && r.uid !== owner.metadata.uid);
  if ((claim && !(claim.kind === word(kind) && claim.name === owner.metadata.name)) || otherOwner) {
    const who = claim ? `${claim.kind === 'organization' ? 'Organization' : 'Tenant'} "${claim.name}"` : `${otherOwner!.kind} "${otherOwner!.name}"`;
    return problem(OrganizationReasons.NamespaceConflict, `Namespace "${name}" belongs to ${who}; set spec.namespace to a free name or free the namespace`);
  }
  if (ns.metadata.deletionTimestamp || ns.status?.phase === 'Terminating') {
    return problem(OrganizationReasons.NamespaceTerminating, `Namespace "${name}" is being deleted; it will be created again once it is gone`);
  }
  if (createdFor(owner, ns)) return { action: 'owned' };
  if (ns.metadata.annotations?.[ADOPTABLE_BY_ANNOTATION] === adoptionValue(owner, kind)) {
    // A self-service Organization (App Center: anyone signed in may create one, and becomes its administrator) never adopts:
    // the opt-in names an Organization by name, and whoever creates one of that name would otherwise take the namespace over.
    if (owner.metadata.annotations?.[CREATED_BY_ANNOTATION] === undefined) return { action: 'adopted' };
    return problem(
      OrganizationReasons.NamespaceNotAdoptable,
      `Namespace "${name}" already exists and the operator did not create it; an Organization created by ${CREATED_BY_ANNOTATION} (self-service) never adopts a namespace, whatever ${ADOPTABLE_BY_ANNOTATION} says: leave spec.namespace out, or a provisioning administrator creates the Organization`,
    );
  }
  return problem(
    OrganizationReasons.NamespaceNotAdoptable,
    `Namespace "${name}" already exists and the operator did not create it, so it is left untouched; to let this ${word(kind)} adopt it, ` +
      `someone allowed to update the namespace runs: kubectl annotate namespace ${name} ${ADOPTABLE_BY_ANNOTATION}=${adoptionValue(owner, kind)}; or set spec.namespace to a free name`,
  );
}

/**
 * The ResourceQuota `miniapps-quota` of a namespace the operator created for an
 * Organization or Tenant (PlatformConfig spec.quotas.namespace): how many ApiKeys and
 * Secrets it may hold, enforced by the API server itself, so that no member can flood the
 * API server or the operator (each ApiKey costs a Secret, a Role and a RoleBinding). Owned
 * by the Organization or Tenant. An adopted namespace gets none: its owners keep their own.
 */
export function namespaceQuota(owner: AnyObject & { metadata: { name: string } }, namespace: string, kind: NamespaceOwnerKind, quota: { apiKeys: number; secrets: number }): ObjectBody {
  return {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: { name: NAMESPACE_QUOTA_NAME, namespace, labels: ownedLabels(kind, owner.metadata.name), ownerReferences: [controllerRef(owner)] },
    spec: { hard: { [`count/apikeys.${GROUP}`]: String(quota.apiKeys), 'count/secrets': String(quota.secrets) } },
  };
}

/**
 * The namespace as the operator writes it: its labels (plus `extraLabels`, a Tenant's
 * stack), and a controlling ownerReference only on a namespace it creates (an adopted
 * one is never its owner's to delete).
 */
export function desiredNamespace(
  owner: AnyObject & { metadata: { name: string } },
  name: string,
  created: boolean,
  kind: NamespaceOwnerKind = 'Organization',
  extraLabels: Record<string, string> = {},
): Namespace {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { ...ownedLabels(kind, owner.metadata.name), ...extraLabels }, ...(created ? { ownerReferences: [controllerRef(owner)] } : {}) },
  };
}
