// The Account's pure parts: its phase, the provisioning administrator's ClusterRoleBinding,
// and whether the "set your password" email is due.
import { ACCOUNT_ADMIN_BINDING_PREFIX, ACCOUNT_NAME_LABEL, RESEND_SETUP_ANNOTATION } from '../../api/account/names.ts';
import type { AccountPhase } from '../../api/account/names.ts';
import type { Account } from '../../api/account/schema.ts';
import { PROVISIONING_ADMINISTRATOR_ROLE } from '../../api/platformconfig/names.ts';
import { controllerRef } from '../../runtime/apply.ts';
import { ownedLabels } from '../../runtime/objects.ts';
import { RBAC_API_VERSION, RBAC_GROUP, userSubject } from '../../domain/rbac-types.ts';
import type { ClusterRoleBinding } from '../../domain/rbac-types.ts';
import { createHash } from 'node:crypto';

export const isSuspended = (a: Account): boolean => a.spec.suspended === true;

/** Whether the Account's person should hold the provisioning administrators' ClusterRole now. */
export const wantsAdministrator = (a: Account): boolean => a.spec.provisioningAdministrator === true && !isSuspended(a);

/** `Suspended` wins; then `Active` once a password is set (or there is no private half: an external provider signs the person in); else `Pending`. */
export function phaseOf(a: Account, passwordSet: boolean | undefined): AccountPhase {
  if (isSuspended(a)) return 'Suspended';
  return passwordSet === false ? 'Pending' : 'Active';
}

/** The ClusterRoleBinding's name: the prefix and the Account's name (a digest when that would be too long for a name). */
export function adminBindingName(accountName: string): string {
  const name = `${ACCOUNT_ADMIN_BINDING_PREFIX}${accountName}`;
  return name.length <= 253 ? name : `${ACCOUNT_ADMIN_BINDING_PREFIX}${createHash('sha256').update(accountName).digest('hex').slice(0, 40)}`;
}

/**
 * The binding that makes the Account's person a provisioning administrator: ClusterRole
 * miniapps:provisioning-administrator (the one PlatformConfig's provisioningAdministrators
 * hold) to the user PlatformConfig userPrefix + the email lowercased, owned by the Account
 * (deleting it removes the binding, operator running or not).
 */
export function adminBinding(a: Account, userPrefix: string): ClusterRoleBinding {
  return {
    apiVersion: RBAC_API_VERSION,
    kind: 'ClusterRoleBinding',
    metadata: { name: adminBindingName(a.metadata.name), labels: ownedLabels('Account', a.metadata.name), ownerReferences: [controllerRef(a)] },
    roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: PROVISIONING_ADMINISTRATOR_ROLE },
    subjects: [userSubject(userPrefix, a.spec.email)],
  };
}

/** The Secret's owner reference and name label: whose private half it is. */
export function privateHalfOf(a: Account) {
  return { ownerReferences: [controllerRef(a)], labels: { [ACCOUNT_NAME_LABEL]: a.metadata.name } };
}

/**
 * Whether the "set your password" email is due: never sent for this Account, or the resend
 * annotation has a value the last email did not answer. Only while no password is set and
 * the account is not suspended (the caller checks those).
 */
export function setupEmailDue(a: Account): { due: boolean; request?: string } {
  const request = a.metadata.annotations?.[RESEND_SETUP_ANNOTATION];
  const sent = a.status?.passwordSetup;
  if (!sent?.sentAt) return { due: true, request };
  return { due: request !== undefined && request !== sent.resendAnswered, request };
}
