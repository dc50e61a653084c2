// The Subscription's admission policy (seed 003): a tenant subscribes only to a solution offered to it.
import { GROUP } from '../constants.ts';
import { PolicyNames, lit, policy } from '../policy.ts';
import type { PolicyObject } from '../policy.ts';
import { PROVISIONING_SUBRESOURCE } from '../organization/names.ts';
import { OFFERED_SOLUTIONS_ANNOTATION } from '../tenant/names.ts';

/**
 * Seed 003: a tenant subscribes only to a solution offered to it. The solution's owners
 * offer it (Solution spec.onboarding: tenants by name, or stacks); the operator records the
 * offers on the tenant's namespace (annotation miniapps.dev/offered-solutions, which tenant
 * administrators cannot write). A Subscription may name a solution (when made, or when
 * spec.solution changes) only if it is listed there, unless the requester is a provisioning
 * administrator (RBAC update on organizations/provisioning: they run the platform, and the
 * plugin's `onboard` subscribes tenants directly for them). An offer withdrawn while the
 * operator is down stays on the namespace until it is back; an offer never appears without
 * the operator (the API server refuses meanwhile).
 */
export function subscriptionOfferedPolicy(): PolicyObject[] {
  const offered = `namespaceObject.metadata.?annotations[?${lit(OFFERED_SOLUTIONS_ANNOTATION)}].orValue('')`;
  return policy(PolicyNames.subscriptionOffered, {
    resources: ['subscriptions'],
    operations: ['CREATE', 'UPDATE'],
    matchConditions: [{ name: 'names-a-solution', expression: `request.operation == 'CREATE' || oldObject.spec.solution != object.spec.solution` }],
    variables: [
      { name: 'solution', expression: `object.spec.solution.organization + '/' + object.spec.solution.name` },
      { name: 'provisioner', expression: `authorizer.group(${lit(GROUP)}).resource('organizations').subresource(${lit(PROVISIONING_SUBRESOURCE)}).check('update').allowed()` },
    ],
    validations: [
      {
        expression: `variables.provisioner || (namespaceObject != null && ${offered}.split(' ').exists(s, s == variables.solution))`,
        messageExpression:
          `'Solution ' + variables.solution + ' is not offered to the tenant of namespace ' + request.namespace + ': a tenant subscribes only to a solution onboarded to it ' + ` +
          `'(its owners name the tenant, or its stack, in the Solution\\'s spec.onboarding; the namespace\\'s annotation ${OFFERED_SOLUTIONS_ANNOTATION} lists the offers)'`,
        reason: 'Forbidden',
      },
    ],
  });
}

/** This kind's admission policies, in a fixed order (api/policies.ts gathers every kind's in the registry's order). */
export const subscriptionPolicies = (): PolicyObject[] => subscriptionOfferedPolicy();
