// The ApiKey's admission policy: who may hold a key for whom.
import { API_VERSION, GROUP } from '../constants.ts';
import { PolicyNames, lit, policy } from '../policy.ts';
import type { PolicyObject } from '../policy.ts';
import { KIND_NAMES } from '../registry.ts';
import { PLATFORM_CONFIG_NAME } from '../platformconfig/names.ts';
import { PROVISIONING_SUBRESOURCE } from '../organization/names.ts';
import { API_KEY_OWNER_SUBRESOURCE, API_KEY_WIDENING_FIELDS } from './names.ts';

/**
 * An API key authenticates as its owner, so who may hold a key for whom is a rule about
 * authority: the API server accepts an ApiKey whose spec.owner is the requester
 * (PlatformConfig userPrefix + the email in ASCII lowercase is their username); or from a
 * provisioning administrator (RBAC `update` on `organizations/provisioning`, which only
 * ClusterRole miniapps:provisioning-administrator grants); or from a requester RBAC allows
 * `update` on the virtual subresource `apikeys/owner` in the key's namespace (the
 * organization's administrators, the role table), unless the owner is a provisioning
 * administrator (PlatformConfig provisioningAdministrators.users, or an Account with
 * provisioningAdministrator, which the operator records in the PlatformConfig's
 * status.accountAdministrators before it binds them): a key that
 * authenticates as someone who runs the platform is made or widened only by a
 * provisioning administrator; an organization administrator may still revoke it or
 * change its description. A PlatformConfig without status (new, the operator not yet run)
 * names no Account's administrators, so a key for someone else is then refused (made by
 * a provisioning administrator only) rather than guessed. That the owner of anyone else's key is an active member needs
 * the operator's caches: the webhook refuses it and the reconciler issues no key for it.
 * The PlatformConfig `default` is the policy's parameter; without it ApiKeys are refused.
 * Deletions are RBAC's alone: a member who is not an administrator may reach only their
 * own keys, by name.
 */
export function apiKeyOwnerPolicy(): PolicyObject[] {
  const unchanged = (f: string) => `object.spec.?${f} == oldObject.spec.?${f}`;
  return policy(PolicyNames.apiKeyOwner, {
    resources: ['apikeys'],
    operations: ['CREATE', 'UPDATE'],
    params: { apiVersion: API_VERSION, kind: KIND_NAMES.PlatformConfig.kind, name: PLATFORM_CONFIG_NAME },
    variables: [
      { name: 'own', expression: `request.userInfo.username == params.spec.?userPrefix.orValue('') + object.spec.owner.lowerAscii()` },
      { name: 'provisioner', expression: `authorizer.group(${lit(GROUP)}).resource('organizations').subresource(${lit(PROVISIONING_SUBRESOURCE)}).check('update').allowed()` },
      {
        name: 'delegated',
        expression: `authorizer.group(${lit(GROUP)}).resource('apikeys').subresource(${lit(API_KEY_OWNER_SUBRESOURCE)}).namespace(object.metadata.namespace).check('update').allowed()`,
      },
      {
        name: 'ownerRunsPlatform',
        expression:
          `params.spec.?provisioningAdministrators.?users.orValue([]).exists(u, u.lowerAscii() == object.spec.owner.lowerAscii()) || ` +
          `params.?status.?accountAdministrators.orValue([]).exists(u, u == object.spec.owner.lowerAscii())`,
      },
      // Revoking, or a new description: what an organization administrator may still do to such a key.
      { name: 'notWidened', expression: `request.operation == 'UPDATE' && ${API_KEY_WIDENING_FIELDS.map(unchanged).join(' && ')}` },
    ],
    validations: [
      {
        expression: 'variables.own || variables.provisioner || variables.delegated',
        messageExpression:
          // On UPDATE the key is someone's who may not be the writer's to know: its owner is named only back to whoever wrote it on CREATE.
          `'ApiKey ' + object.metadata.name + (request.operation == 'CREATE' ? ' is for ' + object.spec.owner + ', and you are ' + request.userInfo.username : ' is not yours') + ': ' + ` +
          `'a key for someone else may be created or changed only by an administrator of the organization (for its members) or a provisioning administrator (for anyone); ' + ` +
          `'it needs RBAC update on ${GROUP} apikeys/${API_KEY_OWNER_SUBRESOURCE} in namespace ' + object.metadata.namespace`,
        reason: 'Forbidden',
      },
      {
        // Until the operator has written the PlatformConfig's status (a new one), the Accounts' administrators are not known: refused, not guessed.
        expression: 'variables.own || variables.provisioner || variables.notWidened || has(params.status)',
        messageExpression:
          `'ApiKey ' + object.metadata.name + ': PlatformConfig ${PLATFORM_CONFIG_NAME} has no status yet (the operator records there which Accounts are provisioning administrators), ' + ` +
          `'so a key for someone else is created or widened only by a provisioning administrator until it has; try again once the operator runs'`,
        reason: 'Forbidden',
      },
      {
        expression: 'variables.own || variables.provisioner || !variables.ownerRunsPlatform || variables.notWidened',
        messageExpression:
          `'ApiKey ' + object.metadata.name + (request.operation == 'CREATE' ? ' is for ' + object.spec.owner + ', a provisioning administrator, and you are ' + request.userInfo.username : ' is not yours') + ': ' + ` +
          `'a key that authenticates as a provisioning administrator is created or widened (scopes, ttl, expiresAt, rotation) only by a provisioning administrator; you may revoke it'`,
        reason: 'Forbidden',
      },
    ],
  });
}

/** This kind's admission policies, in a fixed order (api/policies.ts gathers every kind's in the registry's order). */
export const apiKeyPolicies = (): PolicyObject[] => apiKeyOwnerPolicy();
