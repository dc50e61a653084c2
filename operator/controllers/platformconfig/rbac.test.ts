import { describe, expect, it } from 'vitest';
import type { PlatformConfig } from '../../api/platformconfig/schema.ts';
import { PROVISIONING_ADMINISTRATOR_ROLE, provisioningAccess } from './rbac.ts';

const config: PlatformConfig = { apiVersion: 'miniapps.dev/v1alpha1', kind: 'PlatformConfig', metadata: { name: 'default', uid: 'uid-pc' }, spec: {} };
const settings = { users: ['Zoe@Example.com', 'amy@example.com', 'zoe@example.com'], groups: ['platform-team'], userPrefix: 'oidc:', groupPrefix: 'grp:' };

describe('provisioningAccess', () => {
  const { clusterRole, clusterRoleBinding } = provisioningAccess(settings, config);

  it('grants every verb on every miniapps.dev resource, named (no "*"), reading their status, provisioning and keys for others, and reading namespaces', () => {
    expect(clusterRole.metadata.name).toBe('miniapps:provisioning-administrator');
    const kinds = [
      'accounts',
      'apikeys',
      'appmanifests',
      'memberships',
      'miniappreviews',
      'miniapps',
      'organizations',
      'platformconfigs',
      'solutions',
      'subscriptions',
      'superapps',
      'tenants',
      'usergroups',
      'users',
    ];
    expect(clusterRole.rules).toEqual([
      { apiGroups: ['miniapps.dev'], resources: kinds, verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'] },
      { apiGroups: ['miniapps.dev'], resources: kinds.map((k) => `${k}/status`), verbs: ['get'] },
      { apiGroups: ['miniapps.dev'], resources: ['organizations/provisioning', 'apikeys/owner'], verbs: ['update'] },
      { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list', 'watch'] },
    ]);
  });

  it('item 2: grants no status write and none of the virtual subresources made for other roles (reveal, token roles, verify)', () => {
    const granted = clusterRole.rules.flatMap((r) => r.resources.flatMap((res) => r.verbs.map((v) => `${v} ${res}`)));
    expect(granted.some((g) => g.includes('*'))).toBe(false);
    for (const g of ['create miniapps/reveal', 'get users/tokenroles', 'create apikeys/verify', 'update apikeys/status', 'patch organizations/status']) expect(granted).not.toContain(g);
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
      expect(o.metadata.ownerReferences).toEqual([{ apiVersion: 'miniapps.dev/v1alpha1', kind: 'PlatformConfig', name: 'default', uid: 'uid-pc', controller: true, blockOwnerDeletion: true }]);
    }
  });

  it('is deterministic: the same input gives deep-equal output', () => {
    expect(provisioningAccess({ ...settings, users: [...settings.users].reverse() }, config)).toEqual({ clusterRole, clusterRoleBinding });
  });
});
