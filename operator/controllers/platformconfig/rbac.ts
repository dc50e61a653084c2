// Who runs the platform, as Kubernetes RBAC: a pure function from the PlatformConfig's
// provisioningAdministrators to the ClusterRole and ClusterRoleBinding that grant it.

import { API_KEY_OWNER_SUBRESOURCE } from '../../api/apikey/names.ts';
import { GROUP } from '../../api/constants.ts';
import { KIND_NAMES } from '../../api/registry.ts';
import { PROVISIONING_SUBRESOURCE } from '../../api/organization/names.ts';
import type { PlatformConfig } from '../../api/platformconfig/schema.ts';
import { AUTHENTICATED_GROUP, ORGANIZATION_CREATOR_ROLE, PROVISIONING_ADMINISTRATOR_ROLE } from '../../api/platformconfig/names.ts';
import { controllerRef } from '../../runtime/apply.ts';
import { ownedLabels } from '../../runtime/objects.ts';
import { ALL_VERBS, READ_VERBS, RBAC_API_VERSION, RBAC_GROUP, groupSubject, sortedSubjects, userSubject } from '../../domain/rbac-types.ts';
import type { ClusterRole, ClusterRoleBinding, PolicyRule } from '../../domain/rbac-types.ts';

export { PROVISIONING_ADMINISTRATOR_ROLE };

/** Every miniapps.dev resource, by name: what the provisioning administrators manage. */
const RESOURCES = Object.values(KIND_NAMES)
  .map((k) => k.plural)
  .sort();

/**
 * The provisioning administrators' rules, every resource named (no `*`, which would also
 * grant every status write and every virtual subresource): all verbs on every kind, `get`
 * of every status (the operator alone writes status), the provisioning decision
 * (`organizations/provisioning`) and keys for others (`apikeys/owner`). Not
 * `miniapps/reveal`, `users/tokenroles` nor `apikeys/verify`: revealing data, token roles
 * and verifying keys come only through roles made for them (a Role granting reveal,
 * `miniapps:tenant-administrator` in a tenant's namespace, `miniapps:api-key-verifier`).
 */
export function provisioningRules(): PolicyRule[] {
  return [
    { apiGroups: [GROUP], resources: [...RESOURCES], verbs: [...ALL_VERBS] },
    { apiGroups: [GROUP], resources: RESOURCES.map((r) => `${r}/status`), verbs: ['get'] },
    { apiGroups: [GROUP], resources: [`organizations/${PROVISIONING_SUBRESOURCE}`, `apikeys/${API_KEY_OWNER_SUBRESOURCE}`], verbs: ['update'] },
    { apiGroups: [''], resources: ['namespaces'], verbs: [...READ_VERBS] },
  ];
}

/**
 * The ClusterRole `miniapps:provisioning-administrator`, which manages every miniapps.dev
 * kind (Organizations, Tenants, the PlatformConfig, and everything in every namespace)
 * and reads namespaces, and its ClusterRoleBinding to `users` (userPrefix + the email
 * lowercased, see userName) and `groups` (groupPrefix + group). Both owned by the
 * PlatformConfig. This is the only grant of create on organizations.
 */
export function provisioningAccess(
  settings: { users: string[]; groups: string[]; userPrefix: string; groupPrefix: string },
  owner: PlatformConfig,
): { clusterRole: ClusterRole; clusterRoleBinding: ClusterRoleBinding } {
  const metadata = () => ({
    name: PROVISIONING_ADMINISTRATOR_ROLE,
    labels: ownedLabels('PlatformConfig', owner.metadata.name),
    ownerReferences: [controllerRef(owner)],
  });
  return {
    clusterRole: {
      apiVersion: RBAC_API_VERSION,
      kind: 'ClusterRole',
      metadata: metadata(),
      rules: provisioningRules(),
    },
    clusterRoleBinding: {
      apiVersion: RBAC_API_VERSION,
      kind: 'ClusterRoleBinding',
      metadata: metadata(),
      roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: PROVISIONING_ADMINISTRATOR_ROLE },
      subjects: sortedSubjects([...settings.users.map((u) => userSubject(settings.userPrefix, u)), ...settings.groups.map((g) => groupSubject(settings.groupPrefix, g))]),
    },
  };
}

/**
 * App Center's self-service organizations (PlatformConfig organizationModel AppCenter):
 * the ClusterRole `miniapps:organization-creator` (create Organizations, nothing else) and
 * its ClusterRoleBinding to every signed-in person (`system:authenticated`), owned by the
 * PlatformConfig. An admission policy then makes each such Organization name its creator
 * (miniapps.dev/created-by), whom the operator makes its administrator, and keeps
 * miniAppTargets the provisioning administrators'. Not made with the Mini App Center's
 * model (there, only provisioning administrators create Organizations).
 */
export function organizationCreatorAccess(owner: PlatformConfig): { clusterRole: ClusterRole; clusterRoleBinding: ClusterRoleBinding } {
  const metadata = () => ({ name: ORGANIZATION_CREATOR_ROLE, labels: ownedLabels('PlatformConfig', owner.metadata.name), ownerReferences: [controllerRef(owner)] });
  return {
    clusterRole: { apiVersion: RBAC_API_VERSION, kind: 'ClusterRole', metadata: metadata(), rules: [{ apiGroups: [GROUP], resources: ['organizations'], verbs: ['create'] }] },
    clusterRoleBinding: {
      apiVersion: RBAC_API_VERSION,
      kind: 'ClusterRoleBinding',
      metadata: metadata(),
      roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: ORGANIZATION_CREATOR_ROLE },
      subjects: [{ kind: 'Group', apiGroup: RBAC_GROUP, name: AUTHENTICATED_GROUP }],
    },
  };
}
