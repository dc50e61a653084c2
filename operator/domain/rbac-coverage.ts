// Whether one set of RBAC rules covers another, as the API server decides it before it
// lets someone without `escalate` write a Role or ClusterRole (and without `bind` bind
// one): every permission of the new rules must be one the writer holds. The same
// semantics as Kubernetes' `validation.Covers` (pkg/registry/rbac/validation/policy_comparator.go):
// each rule is broken down into single permissions (API group, resource, verb, and
// resource name when it has any), and each must match one rule of the owner, where
// - `*` as a verb or API group matches any;
// - `*` as a resource matches every resource and every subresource; `*/status` matches
//   the status subresource of every resource; otherwise resources match exactly;
// - an owner rule with resourceNames covers only those names, never a permission
//   without names (a rule without names also grants list and create).

import type { PolicyRule } from './rbac-types.ts';

/** One permission: a rule with a single API group, resource, verb and at most one name. */
export type Permission = { apiGroup: string; resource: string; verb: string; resourceName?: string };

/** The single permissions a rule grants. */
export function breakDown(rule: PolicyRule): Permission[] {
  const names: (string | undefined)[] = rule.resourceNames?.length ? rule.resourceNames : [undefined];
  return rule.apiGroups.flatMap((apiGroup) =>
    rule.resources.flatMap((resource) => rule.verbs.flatMap((verb) => names.map((resourceName) => ({ apiGroup, resource, verb, ...(resourceName === undefined ? {} : { resourceName }) })))),
  );
}

function resourceMatches(owner: readonly string[], resource: string): boolean {
  if (owner.includes('*') || owner.includes(resource)) return true;
  const slash = resource.indexOf('/');
  return slash > 0 && owner.includes(`*${resource.slice(slash)}`);
}

/** Whether `owner` grants `p`. */
export function grants(owner: PolicyRule, p: Permission): boolean {
  const names = owner.resourceNames ?? [];
  return (
    (owner.verbs.includes('*') || owner.verbs.includes(p.verb)) &&
    (owner.apiGroups.includes('*') || owner.apiGroups.includes(p.apiGroup)) &&
    resourceMatches(owner.resources, p.resource) &&
    (names.length === 0 || (p.resourceName !== undefined && names.includes(p.resourceName)))
  );
}

/** The permissions of `rules` that no rule of `owner` grants: empty when `owner` covers `rules`. */
export function uncovered(owner: readonly PolicyRule[], rules: readonly PolicyRule[]): Permission[] {
  return rules.flatMap(breakDown).filter((p) => !owner.some((o) => grants(o, p)));
}
