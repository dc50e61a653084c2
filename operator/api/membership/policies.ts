// The Membership's admission policies: who may name the inviter; one Membership per email
// (which holds while the operator is down: docs/closed-rules.md).
import { PolicyNames, lit, policy } from '../policy.ts';
import type { PolicyObject } from '../policy.ts';
import { API_VERSION } from '../constants.ts';
import { KIND_NAMES } from '../registry.ts';
import { INVITED_BY_ANNOTATION } from './names.ts';

/**
 * `miniapps.dev/invited-by` names who invited the person, and the invitation email shows
 * it: the API server accepts as its value only the authenticated username of whoever
 * sets it, so it cannot be used to put words in someone else's mouth.
 */
export function invitedByPolicy(): PolicyObject[] {
  const key = lit(INVITED_BY_ANNOTATION);
  return policy(PolicyNames.invitedBy, {
    resources: ['memberships'],
    operations: ['CREATE', 'UPDATE'],
    variables: [
      { name: 'inviter', expression: `object.metadata.?annotations[?${key}]` },
      { name: 'before', expression: `request.operation == 'UPDATE' ? oldObject.metadata.?annotations[?${key}] : optional.none()` },
    ],
    validations: [
      {
        expression: `!variables.inviter.hasValue() || variables.inviter == variables.before || variables.inviter.value() == request.userInfo.username`,
        messageExpression:
          `'The annotation ${INVITED_BY_ANNOTATION} must be your own username (' + request.userInfo.username + '), or left out: ' + ` + `'it names the inviter in the invitation email'`,
        reason: 'Forbidden',
      },
    ],
  });
}

/**
 * One Membership per email per organization: every other Membership of the request's
 * namespace is a parameter (selector `{}`, looked up in the request's namespace), and none
 * may hold the same email in ASCII lowercase. The first Membership of a namespace has no
 * parameter: allowed. Judged when a Membership is created (spec.email is immutable);
 * Memberships already duplicated (made before this policy) stay editable.
 *
 * Like the webhook's cache, the API server's view of the other Memberships lags a write by
 * milliseconds: two creates of one email at the same instant can both pass. The Membership
 * controller then reports the later one DuplicateEmail (Stalled) and binds nothing for it.
 */
export function membershipEmailPolicy(): PolicyObject[] {
  return policy(PolicyNames.membershipEmail, {
    resources: ['memberships'],
    // spec.email is immutable (the CRD's rule): only a create brings a new one.
    operations: ['CREATE'],
    params: { apiVersion: API_VERSION, kind: KIND_NAMES.Membership.kind, selector: {}, notFound: 'Allow' },
    validations: [
      {
        expression: `params.metadata.name == object.metadata.name || params.spec.email.lowerAscii() != object.spec.email.lowerAscii()`,
        messageExpression:
          `object.spec.email + ' already has Membership ' + params.metadata.name + ' in namespace ' + request.namespace + ` +
          `' (emails are compared case-insensitively); change that Membership instead'`,
        reason: 'Forbidden',
      },
    ],
  });
}

/**
 * A Membership has no owner: the API server refuses an ownerReference added to one (on
 * create, or a new one on update). An owner would hand its removal to the garbage
 * collector, whose deletions the last-administrator rule never judges (it exempts the
 * cluster's controllers so that a namespace's deletion is never blocked): pointing the
 * last administrator's Membership at an object one may delete would remove them without
 * asking the rule. Removing ownerReferences is allowed (the garbage collector does it when
 * it orphans); the operator makes Memberships without owners.
 */
export function membershipOwnersPolicy(): PolicyObject[] {
  return policy(PolicyNames.membershipOwners, {
    resources: ['memberships'],
    operations: ['CREATE', 'UPDATE'],
    variables: [{ name: 'before', expression: `request.operation == 'UPDATE' ? oldObject.metadata.?ownerReferences.orValue([]) : []` }],
    validations: [
      {
        expression: `object.metadata.?ownerReferences.orValue([]).all(r, variables.before.exists(o, o.uid == r.uid))`,
        messageExpression: `'Membership ' + object.metadata.name + ' cannot be given an owner (metadata.ownerReferences): a Membership is removed by deleting it, which the last-administrator rule judges, never by the garbage collector'`,
        reason: 'Forbidden',
      },
    ],
  });
}

/** This kind's admission policies, in a fixed order (api/policies.ts gathers every kind's in the registry's order). */
export const membershipPolicies = (): PolicyObject[] => [...invitedByPolicy(), ...membershipEmailPolicy(), ...membershipOwnersPolicy()];
