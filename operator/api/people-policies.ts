// Who may say who created what (App Center's model, docs/people.md), enforced by the API
// server: the operator makes an Organization's creator its administrator and gives App
// Center's Collaborators and Members the apps they created, from the annotation
// miniapps.dev/created-by, so the API server accepts only the requester's own user name
// there, and never a change of it.

import { GROUP, PROVISIONING_SUBRESOURCE } from './constants.ts';
import { CREATED_BY_ANNOTATION } from './organization-model.ts';
import { PolicyNames, lit, policy } from './policies.ts';
import type { PolicyObject } from './policies.ts';

// Functions, not constants: policies.ts imports this module (a cycle), so nothing of it is used at load.
const creator = () => `object.metadata.?annotations[?${lit(CREATED_BY_ANNOTATION)}]`;
const provisioner = () => `authorizer.group(${lit(GROUP)}).resource('organizations').subresource(${lit(PROVISIONING_SUBRESOURCE)}).check('update').allowed()`;

/**
 * miniapps.dev/created-by on an Organization, SuperApp or MiniApp: at creation only the
 * requester's own user name; afterwards unchanged. And an app made by someone who may not
 * list that kind in the namespace (App Center's Collaborator and Member see only their
 * own apps) must carry it, or they would make an app they cannot see.
 */
function createdByPolicy(): PolicyObject[] {
  const key = lit(CREATED_BY_ANNOTATION);
  return policy(PolicyNames.createdBy, {
    resources: ['organizations', 'superapps', 'miniapps'],
    operations: ['CREATE', 'UPDATE'],
    variables: [
      { name: 'creator', expression: creator() },
      { name: 'before', expression: `request.operation == 'UPDATE' ? oldObject.metadata.?annotations[?${key}] : optional.none()` },
    ],
    validations: [
      {
        expression: `request.operation == 'UPDATE' || !variables.creator.hasValue() || variables.creator.value() == request.userInfo.username`,
        messageExpression:
          `'The annotation ${CREATED_BY_ANNOTATION} must be your own user name (' + request.userInfo.username + '), or left out: ' + ` +
          `'it names who created ' + request.kind.kind + ' ' + object.metadata.name + ', and that person gets access to it'`,
        reason: 'Forbidden',
      },
      {
        expression: `request.operation == 'CREATE' || variables.creator == variables.before`,
        messageExpression: `'The annotation ${CREATED_BY_ANNOTATION} of ' + request.kind.kind + ' ' + object.metadata.name + ' cannot be changed or removed: it names who created it'`,
        reason: 'Forbidden',
      },
      {
        expression:
          `request.operation == 'UPDATE' || request.kind.kind == 'Organization' || variables.creator.hasValue() || ` +
          `authorizer.group(${lit(GROUP)}).resource(request.resource.resource).namespace(request.namespace).check('list').allowed()`,
        messageExpression:
          `'You see only the apps you belong to in namespace ' + request.namespace + ', so annotate the new ' + request.kind.kind + ' ' + object.metadata.name + ` +
          `' with ${CREATED_BY_ANNOTATION}: ' + request.userInfo.username + ' (you then belong to it); without it you could not see what you made'`,
        reason: 'Forbidden',
      },
    ],
  });
}

/**
 * An Organization created by someone who is not a provisioning administrator (App
 * Center's self-service organizations: PlatformConfig organizationModel AppCenter binds
 * create to everyone signed in) names its creator, who becomes its administrator, and
 * does not name miniAppTargets: publishing into another organization's super apps stays
 * the provisioning administrators' decision (changing it later needs them too).
 */
function selfServiceOrganizationPolicy(): PolicyObject[] {
  return policy(PolicyNames.selfServiceOrganization, {
    resources: ['organizations'],
    operations: ['CREATE'],
    matchConditions: [{ name: 'not-a-provisioning-administrator', expression: `!${provisioner()}` }],
    validations: [
      {
        expression: `${creator()}.hasValue()`,
        messageExpression:
          `'An Organization you create yourself names you as its creator, and you become its administrator: annotate ' + object.metadata.name + ` +
          `' with ${CREATED_BY_ANNOTATION}: ' + request.userInfo.username`,
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

export function peoplePolicies(): PolicyObject[] {
  return [...createdByPolicy(), ...selfServiceOrganizationPolicy()];
}
