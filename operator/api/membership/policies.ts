// The Membership's admission policy: who may name the inviter.
import { PolicyNames, lit, policy } from '../policy.ts';
import type { PolicyObject } from '../policy.ts';
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
          `'The annotation ${INVITED_BY_ANNOTATION} must be your own username (' + request.userInfo.username + '), or left out: ' + ` +
          `'it names the inviter in the invitation email'`,
        reason: 'Forbidden',
      },
    ],
  });
}
