import { ADOPTABLE_BY_ANNOTATION, GROUP, OrganizationConditions, OrganizationReasons, isReservedNamespace } from '../../api/constants.ts';
import type { Organization } from '../../api/index.ts';
import type { ConditionInput } from '../../runtime/conditions.ts';
import type { AnyObject } from '../../runtime/kube/client.ts';
import { controllerRef } from '../../runtime/apply.ts';
import { ownedLabels } from '../shared.ts';

export { OrganizationReasons };

export type { Namespace } from '../../domain/caches.ts';
import type { Namespace } from '../../domain/caches.ts';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * The organization's namespace: spec.namespace, else the one already recorded in
 * status (a later prefix change does not move it), else prefix + name.
 */
export function namespaceNameFor(org: Organization, prefix: string): string {
  return org.spec.namespace ?? org.status?.namespace ?? `${prefix}${org.metadata.name}`;
}

export function namespaceNameProblem(name: string, operatorNamespace: string): ConditionInput | undefined {
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
      message: `Namespace "${name}" is reserved (default, kube-* and the operator's own namespace never belong to an organization); set spec.namespace to another name`,
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

/** The opt-in value that lets `org` adopt an existing namespace. */
export const adoptionValue = (org: Organization) => `Organization/${org.metadata.name}`;

/** Whether the operator created this namespace for this organization (it alone sets that controlling owner). */
export function createdFor(org: Organization, ns: AnyObject): boolean {
  return !!ns.metadata.ownerReferences?.some((r) => r.controller && r.uid === org.metadata.uid);
}

/**
 * What to do with the organization's namespace:
 * - `create`: it does not exist; the operator creates it (and only then owns it);
 * - `owned`: the operator created it for this organization (controlling ownerReference);
 * - `adopted`: it existed and opted in with `miniapps.dev/adoptable-by: Organization/<name>`
 *   (set by someone allowed to update the namespace); it gets the labels, never an
 *   ownerReference, and is released, not deleted, with the organization;
 * - a problem: claimed by another Organization or Tenant, terminating, or not opted in.
 */
export type NamespacePlan = { action: 'create' | 'owned' | 'adopted' } | { action: 'none'; problem: ConditionInput };

export function namespacePlan(org: Organization, ns: Namespace | undefined): NamespacePlan {
  if (!ns) return { action: 'create' };
  const problem = (reason: string, message: string): NamespacePlan => ({ action: 'none', problem: { type: OrganizationConditions.NamespaceReady, status: 'False', reason, message } });
  const name = ns.metadata.name;
  const claim = claimOf(ns);
  const otherOwner = ns.metadata.ownerReferences?.find((r) => r.controller && r.uid !== org.metadata.uid);
  if ((claim && !(claim.kind === 'organization' && claim.name === org.metadata.name)) || otherOwner) {
    const who = claim ? `${claim.kind === 'organization' ? 'Organization' : 'Tenant'} "${claim.name}"` : `${otherOwner!.kind} "${otherOwner!.name}"`;
    return problem(OrganizationReasons.NamespaceConflict, `Namespace "${name}" belongs to ${who}; set spec.namespace to a free name or free the namespace`);
  }
  if (ns.metadata.deletionTimestamp || ns.status?.phase === 'Terminating') {
    return problem(OrganizationReasons.NamespaceTerminating, `Namespace "${name}" is being deleted; it will be created again once it is gone`);
  }
  if (createdFor(org, ns)) return { action: 'owned' };
  if (ns.metadata.annotations?.[ADOPTABLE_BY_ANNOTATION] === adoptionValue(org)) return { action: 'adopted' };
  return problem(
    OrganizationReasons.NamespaceNotAdoptable,
    `Namespace "${name}" already exists and the operator did not create it, so it is left untouched; to let this organization adopt it, ` +
      `someone allowed to update the namespace runs: kubectl annotate namespace ${name} ${ADOPTABLE_BY_ANNOTATION}=${adoptionValue(org)}; or set spec.namespace to a free name`,
  );
}

/**
 * The namespace as the operator writes it: its labels, and a controlling ownerReference
 * only on a namespace it creates (an adopted one is never the organization's to delete).
 */
export function desiredNamespace(org: Organization, name: string, created: boolean): Namespace {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: ownedLabels('Organization', org.metadata.name), ...(created ? { ownerReferences: [controllerRef(org)] } : {}) },
  };
}
