import { GROUP, OrganizationConditions } from '../../api/constants.ts';
import type { Organization } from '../../api/index.ts';
import type { ConditionInput } from '../../runtime/conditions.ts';
import type { AnyObject } from '../../runtime/kube/client.ts';
import { controllerRef } from '../../runtime/apply.ts';
import { ownedLabels } from '../shared.ts';

export const OrganizationReasons = {
  Ready: 'Ready',
  NamespaceCreated: 'NamespaceCreated',
  InvalidNamespaceName: 'InvalidNamespaceName',
  NamespaceConflict: 'NamespaceConflict',
  NamespaceTerminating: 'NamespaceTerminating',
} as const;

export type Namespace = AnyObject & { status?: { phase?: string } };

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * The organization's namespace: spec.namespace, else the one already recorded in
 * status (a later prefix change does not move it), else prefix + name.
 */
export function namespaceNameFor(org: Organization, prefix: string): string {
  return org.spec.namespace ?? org.status?.namespace ?? `${prefix}${org.metadata.name}`;
}

export function namespaceNameProblem(name: string): ConditionInput | undefined {
  if (DNS_LABEL.test(name)) return undefined;
  return {
    type: OrganizationConditions.NamespaceReady,
    status: 'False',
    reason: OrganizationReasons.InvalidNamespaceName,
    message: `The namespace name "${name}" is not a valid DNS-1123 label (at most 63 lowercase letters, digits and dashes); set spec.namespace to a valid name`,
  };
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

/** Whether an existing namespace may be used by this organization, and in what state it is. */
export function namespaceProblem(org: Organization, ns: Namespace | undefined): ConditionInput | undefined {
  if (!ns) return undefined;
  const claim = claimOf(ns);
  const otherOwner = ns.metadata.ownerReferences?.find((r) => r.controller && r.uid !== org.metadata.uid);
  if ((claim && !(claim.kind === 'organization' && claim.name === org.metadata.name)) || otherOwner) {
    const who = claim ? `${claim.kind === 'organization' ? 'Organization' : 'Tenant'} "${claim.name}"` : `${otherOwner!.kind} "${otherOwner!.name}"`;
    return {
      type: OrganizationConditions.NamespaceReady,
      status: 'False',
      reason: OrganizationReasons.NamespaceConflict,
      message: `Namespace "${ns.metadata.name}" belongs to ${who}; set spec.namespace to a free name or free the namespace`,
    };
  }
  if (ns.metadata.deletionTimestamp || ns.status?.phase === 'Terminating') {
    return {
      type: OrganizationConditions.NamespaceReady,
      status: 'False',
      reason: OrganizationReasons.NamespaceTerminating,
      message: `Namespace "${ns.metadata.name}" is being deleted; it will be created again once it is gone`,
    };
  }
  return undefined;
}

export function desiredNamespace(org: Organization, name: string): Namespace {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: ownedLabels('Organization', org.metadata.name), ownerReferences: [controllerRef(org)] },
  };
}
