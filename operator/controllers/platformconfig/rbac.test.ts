import { describe, expect, it } from 'vitest';
import type { PlatformConfig } from '../../api/index.ts';
import { PROVISIONING_ADMINISTRATOR_ROLE, provisioningAccess } from './rbac.ts';

const config: PlatformConfig = { apiVersion: 'miniapps.dev/v1alpha1', kind: 'PlatformConfig', metadata: { name: 'default', uid: 'uid-pc' }, spec: {} };
const settings = { users: ['Zoe@Example.com', 'amy@example.com', 'zoe@example.com'], groups: ['platform-team'], userPrefix: 'oidc:', groupPrefix: 'grp:' };

describe('provisioningAccess', () => {
  const { clusterRole, clusterRoleBinding } = provisioningAccess(settings, config);

  it('grants every verb on every miniapps.dev resource, and reading namespaces', () => {
    expect(clusterRole.metadata.name).toBe('miniapps:provisioning-administrator');
    expect(clusterRole.rules).toEqual([
      { apiGroups: ['miniapps.dev'], resources: ['*'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'] },
      { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list', 'watch'] },
    ]);
  });

  it('binds the users (prefixed, lowercased) and groups (prefixed), sorted and without duplicates', () => {
    expect(clusterRoleBinding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: PROVISIONING_ADMINISTRATOR_ROLE });
    expect(clusterRoleBinding.subjects).toEqual([
      { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'grp:platform-team' },
      { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'oidc:amy@example.com' },
      { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'oidc:zoe@example.com' },
    ]);
  });

  it('labels both and makes the PlatformConfig their controller', () => {
    for (const o of [clusterRole, clusterRoleBinding]) {
      expect(o.metadata.labels).toEqual({ 'app.kubernetes.io/managed-by': 'miniapps-operator', 'miniapps.dev/platformconfig': 'default' });
      expect(o.metadata.ownerReferences).toEqual([
        { apiVersion: 'miniapps.dev/v1alpha1', kind: 'PlatformConfig', name: 'default', uid: 'uid-pc', controller: true, blockOwnerDeletion: true },
      ]);
    }
  });

  it('is deterministic: the same input gives deep-equal output', () => {
    expect(provisioningAccess({ ...settings, users: [...settings.users].reverse() }, config)).toEqual({ clusterRole, clusterRoleBinding });
  });
});
