// The Organization's admission policies: who may change its provisioning (capabilities and
// miniAppTargets), and the confirmation its deletion needs.
import { API_VERSION, CREATED_BY_ANNOTATION, GROUP } from '../constants.ts';
import { PLATFORM_CONFIG_NAME } from '../platformconfig/names.ts';
import { KIND_NAMES } from '../registry.ts';
import { PolicyNames, confirmDeletePolicy, lit, policy } from '../policy.ts';
import type { ConfirmedDeletion, PolicyObject, Validation } from '../policy.ts';
import { PROVISIONING_SUBRESOURCE } from './names.ts';

/**
 * An Organization's `capabilities` and `miniAppTargets` are the provisioning
 * administrators' decision: changing them needs RBAC `update` on the virtual
 * subresource `organizations/provisioning` of that Organization, which the
 * `miniapps:provisioning-administrator` ClusterRole grants (and `system:masters`
 * holds). An organization's own administrators, whom RBAC lets update the
 * Organization, can change everything else.
 */
export function provisioningPolicy(): PolicyObject[] {
  const field = (f: 'capabilities' | 'miniAppTargets'): Validation => ({
    expression: `variables.provisioner || object.spec.?${f} == oldObject.spec.?${f}`,
    messageExpression:
      `'Only provisioning administrators may change spec.${f} of Organization ' + object.metadata.name + ` +
      `' (it needs RBAC update on ${GROUP} organizations/${PROVISIONING_SUBRESOURCE}, which ClusterRole miniapps:provisioning-administrator grants)'`,
    reason: 'Forbidden',
  });
  return policy(PolicyNames.provisioning, {
    resources: ['organizations'],
    operations: ['UPDATE'],
    variables: [
      {
        name: 'provisioner',
        // Variables are evaluated lazily: the authorizer is asked only when a field changed.
        expression: `authorizer.group(${lit(GROUP)}).resource('organizations').subresource(${lit(PROVISIONING_SUBRESOURCE)}).name(object.metadata.name).check('update').allowed()`,
      },
    ],
    validations: [field('capabilities'), field('miniAppTargets')],
  });
}

/** Deleting an Organization deletes its namespace and everything in it (policy.ts confirmDeletePolicy). */
export const ORGANIZATION_DELETION: ConfirmedDeletion = { kind: 'Organization', resource: 'organizations', consequence: 'deletes its namespace and everything in it' };

/**
 * An Organization created by someone who is not a provisioning administrator (App
 * Center's self-service organizations: PlatformConfig organizationModel AppCenter binds
 * create to everyone signed in) names its creator, who becomes its administrator, and
 * does not name miniAppTargets: publishing into another organization's super apps stays
 * the provisioning administrators' decision (changing it later needs them too).
 */
export function selfServiceOrganizationPolicy(): PolicyObject[] {
  return policy(PolicyNames.selfServiceOrganization, {
    resources: ['organizations'],
    operations: ['CREATE'],
    matchConditions: [
      { name: 'not-a-provisioning-administrator', expression: `!authorizer.group(${lit(GROUP)}).resource('organizations').subresource(${lit(PROVISIONING_SUBRESOURCE)}).check('update').allowed()` },
    ],
    validations: [
      {
        expression: `object.metadata.?annotations[?${lit(CREATED_BY_ANNOTATION)}].hasValue()`,
        messageExpression:
          `'An Organization you create yourself names you as its creator, and you become its administrator: annotate ' + object.metadata.name + ` +
          `' with ${CREATED_BY_ANNOTATION}: ' + request.userInfo.username`,
        reason: 'Forbidden',
      },
      {
        // ServiceAccounts (system:serviceaccount:…), nodes and the cluster's own identities are not people: they create no organization of their own.
        expression: `!request.userInfo.username.startsWith('system:')`,
        messageExpression:
          `'Organization ' + object.metadata.name + ': ' + request.userInfo.username + ' is not a person; ` +
          `an Organization is created for itself only by a person, otherwise by a provisioning administrator'`,
        reason: 'Forbidden',
      },
      {
        // Naming the namespace would let anyone signed in take any free name (argocd, monitoring…) before its real owner does.
        expression: `!object.spec.?namespace.hasValue()`,
        messageExpression: `'Organization ' + object.metadata.name + ': spec.namespace is chosen only by a provisioning administrator; leave it out and the organization gets its own namespace named after it'`,
        reason: 'Forbidden',
      },
      {
        expression: `object.spec.?miniAppTargets.orValue([]).size() == 0`,
        messageExpression:
          `'Organization ' + object.metadata.name + ': spec.miniAppTargets (publishing into other organizations\\' super apps) is set only by a provisioning administrator; ` +
          `create the organization without it and ask them'`,
        reason: 'Forbidden',
      },
    ],
  });
}

/**
 * A self-service Organization's creator signed in as a person of the platform's identity
 * provider: their user name starts with PlatformConfig userPrefix (the creator's
 * Membership is named by the email after it). A policy of its own because it reads the
 * PlatformConfig: without one there is no App Center model (nobody but provisioning
 * administrators may create Organizations), and its binding allows (a binding whose
 * parameter is missing refuses every request it matches, before any matchCondition).
 */
export function selfServiceCreatorPolicy(): PolicyObject[] {
  return policy(PolicyNames.selfServiceCreator, {
    resources: ['organizations'],
    operations: ['CREATE'],
    params: { apiVersion: API_VERSION, kind: KIND_NAMES.PlatformConfig.kind, name: PLATFORM_CONFIG_NAME, notFound: 'Allow' },
    matchConditions: [
      { name: 'not-a-provisioning-administrator', expression: `!authorizer.group(${lit(GROUP)}).resource('organizations').subresource(${lit(PROVISIONING_SUBRESOURCE)}).check('update').allowed()` },
    ],
    validations: [
      {
        expression: `request.userInfo.username.startsWith(params.spec.?userPrefix.orValue(''))`,
        messageExpression:
          `'Organization ' + object.metadata.name + ': ' + request.userInfo.username + ' is not a person signed in with PlatformConfig userPrefix (' + params.spec.?userPrefix.orValue('') + '); ` +
          `an Organization is created for itself only by a person, otherwise by a provisioning administrator'`,
        reason: 'Forbidden',
      },
    ],
  });
}

/** This kind's admission policies, in a fixed order (api/policies.ts gathers every kind's in the registry's order). */
export const organizationPolicies = (): PolicyObject[] => [...provisioningPolicy(), ...confirmDeletePolicy(ORGANIZATION_DELETION), ...selfServiceOrganizationPolicy(), ...selfServiceCreatorPolicy()];
