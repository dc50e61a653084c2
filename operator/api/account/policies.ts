// The Account's admission policy: what RBAC cannot say about who changes an Account.
import { API_VERSION } from '../constants.ts';
import { PolicyNames, policy } from '../policy.ts';
import type { PolicyObject } from '../policy.ts';
import { KIND_NAMES } from '../registry.ts';
import { PLATFORM_CONFIG_NAME } from '../platformconfig/names.ts';

/**
 * Only provisioning administrators write Accounts (RBAC: ClusterRole
 * miniapps:provisioning-administrator holds every verb on `accounts`, and no other role
 * the operator hands out names them). What RBAC cannot say: nobody lifts the suspension
 * of their own Account, and nobody changes their own `provisioningAdministrator` (a
 * suspended administrator cannot reinstate themselves in the minutes their token still
 * works; an administrator cannot quietly give up or grant themselves the role: another
 * one decides), nor deletes or creates their own Account (deleting a suspended Account and
 * creating it again would lift the suspension). "Own" is the requester's user name being PlatformConfig userPrefix + the
 * Account's email in ASCII lowercase, as the operator binds it. The email itself is
 * immutable (a CEL rule of the schema). Without a PlatformConfig there is no provisioning
 * administrator to write Accounts, and the policy is not evaluated (notFound Allow).
 */
export function accountSelfPolicy(): PolicyObject[] {
  return policy(PolicyNames.accountSelf, {
    resources: ['accounts'],
    operations: ['CREATE', 'UPDATE', 'DELETE'],
    params: { apiVersion: API_VERSION, kind: KIND_NAMES.PlatformConfig.kind, name: PLATFORM_CONFIG_NAME, notFound: 'Allow' },
    variables: [
      // The Account as it is (UPDATE, DELETE) or is to be (CREATE).
      { name: 'account', expression: `request.operation == 'CREATE' ? object : oldObject` },
      { name: 'own', expression: `request.userInfo.username == params.spec.?userPrefix.orValue('') + variables.account.spec.email.lowerAscii()` },
    ],
    validations: [
      {
        expression: `request.operation != 'UPDATE' || !variables.own || !oldObject.spec.?suspended.orValue(false) || object.spec.?suspended.orValue(false)`,
        messageExpression: `'Account ' + object.metadata.name + ' is yours (' + request.userInfo.username + '): nobody lifts the suspension of their own account; another provisioning administrator may'`,
        reason: 'Forbidden',
      },
      {
        expression: `request.operation != 'UPDATE' || !variables.own || object.spec.?provisioningAdministrator.orValue(false) == oldObject.spec.?provisioningAdministrator.orValue(false)`,
        messageExpression: `'Account ' + object.metadata.name + ' is yours (' + request.userInfo.username + '): nobody changes provisioningAdministrator on their own account; another provisioning administrator may'`,
        reason: 'Forbidden',
      },
      {
        expression: `request.operation != 'DELETE' || !variables.own`,
        messageExpression: `'Account ' + oldObject.metadata.name + ' is yours (' + request.userInfo.username + '): nobody deletes their own account (deleting and re-creating it would lift a suspension); another provisioning administrator may'`,
        reason: 'Forbidden',
      },
      {
        expression: `request.operation != 'CREATE' || !variables.own`,
        messageExpression: `'Account ' + object.metadata.name + ' would be yours (' + request.userInfo.username + '): nobody creates an account for their own email (re-creating a deleted one would lift a suspension); another provisioning administrator may'`,
        reason: 'Forbidden',
      },
    ],
  });
}

/** This kind's admission policies, in a fixed order (api/policies.ts gathers every kind's in the registry's order). */
export const accountPolicies = (): PolicyObject[] => accountSelfPolicy();
