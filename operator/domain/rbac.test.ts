import { describe, expect, it } from 'vitest';
import { MiniAppCenterRoles as Roles } from '../api/membership/schema.ts';
import type { Membership, Role } from '../api/membership/schema.ts';
import type { Organization } from '../api/organization/schema.ts';
import { userName } from './rbac-types.ts';
import {
  ORGANIZATION_ROLE_NAMES,
  memberAccess,
  memberRules,
  memberBindingName,
  organizationClusterAccess,
  organizationClusterName,
  tenantClusterAccess,
  tenantClusterName,
  roleTableClusterRoles,
  roleRules,
  manifestArtifactRules,
} from './rbac.ts';

const NS = 'org-acme';

const anOrg = (name = 'acme'): Organization => ({
  apiVersion: 'miniapps.dev/v1alpha1',
  kind: 'Organization',
  metadata: { name, uid: `uid-${name}` },
  spec: { displayName: name },
});

const aMembership = (spec: Partial<Membership['spec']> = {}): Membership => ({
  apiVersion: 'miniapps.dev/v1alpha1',
  kind: 'Membership',
  metadata: { name: 'alice', namespace: NS, uid: 'uid-alice' },
  spec: { email: 'Alice@Example.com', role: 'MiniAppDeveloper', ...spec },
});

const orgOwner = { apiVersion: 'miniapps.dev/v1alpha1', kind: 'Organization', name: 'acme', uid: 'uid-acme', controller: true, blockOwnerDeletion: true };
const membershipOwner = { apiVersion: 'miniapps.dev/v1alpha1', kind: 'Membership', name: 'alice', uid: 'uid-alice', controller: true, blockOwnerDeletion: true };
const orgLabels = { 'app.kubernetes.io/managed-by': 'miniapps-operator', 'miniapps.dev/organization': 'acme' };

describe('roleTableClusterRoles', () => {
  const roles = roleTableClusterRoles();

  it('makes one shared ClusterRole per organization role, named after it (as admin, edit and view are)', () => {
    expect(roles.map((r) => [r.kind, r.metadata.name])).toEqual(Roles.map((role) => ['ClusterRole', ORGANIZATION_ROLE_NAMES[role]]));
    expect(ORGANIZATION_ROLE_NAMES).toEqual({
      OrganizationAdministrator: 'miniapps:organization-administrator',
      SuperAppAdministrator: 'miniapps:superapp-administrator',
      MiniAppDeveloper: 'miniapps:miniapp-developer',
      MiniAppReviewer: 'miniapps:miniapp-reviewer',
    });
  });

  it('labels each ClusterRole as the role table, owned by no organization', () => {
    for (const r of roles) {
      expect(r.metadata.labels).toEqual({ 'app.kubernetes.io/managed-by': 'miniapps-operator', 'miniapps.dev/role-table': 'true' });
      expect(r.metadata).not.toHaveProperty('ownerReferences');
    }
  });

  it('grants no Secrets and nothing outside miniapps.dev', () => {
    const rules = roles.flatMap((r) => r.rules);
    expect(new Set(rules.flatMap((r) => r.apiGroups))).toEqual(new Set(['miniapps.dev']));
    expect(rules.flatMap((r) => r.resources)).not.toContain('secrets');
  });

  it('lets every role read the status of every kind, but only administrators that of every API key', () => {
    for (const r of roles) {
      const status = r.rules.filter((rule) => rule.resources[0]!.endsWith('/status'));
      const kinds = ['superapps', 'miniapps', 'miniappreviews', 'memberships', 'apikeys', 'solutions', 'appmanifests'];
      const seen = r.metadata.name === 'miniapps:organization-administrator' ? kinds : kinds.filter((k) => k !== 'apikeys');
      expect(status.map((s) => s.resources[0])).toEqual(seen.map((k) => `${k}/status`));
      expect(status.every((s) => s.verbs.join() === 'get')).toBe(true);
    }
  });

  it.each<[Role, string[][]]>([
    [
      'OrganizationAdministrator',
      [
        ['apikeys', 'get,list,watch,create,update,patch,delete,deletecollection'],
        ['apikeys/status', 'get'],
        ['apikeys/owner', 'update'],
      ],
    ],
    ['MiniAppDeveloper', [['apikeys', 'create,patch']]],
    ['MiniAppReviewer', [['apikeys', 'create,patch']]],
  ])(
    'gives a %s these rules on API keys (others only create and patch, which the apikey-owner policy limits to their own; the ApiKey controller grants each owner their keys by name)',
    (role, rules) => {
      expect(
        roleRules(role)
          .filter((r) => r.resources[0]!.startsWith('apikeys'))
          .map((r) => [r.resources[0], r.verbs.join()]),
      ).toEqual(rules);
    },
  );

  it('is deterministic: the same input gives deep-equal output', () => {
    expect(roleTableClusterRoles()).toEqual(roles);
  });
});

describe('memberAccess', () => {
  it('binds the member to a Role of their own as the lowercased, prefixed user, owned by the Membership', () => {
    const { role, roleBinding } = memberAccess(aMembership(), anOrg(), NS, { userPrefix: 'oidc:' });
    // The role table's rules, then (seed 003) the manifest artifacts' ConfigMaps, then leaving.
    expect(role.rules.slice(0, -1)).toEqual([...roleRules('MiniAppDeveloper'), ...manifestArtifactRules('MiniAppDeveloper')]);
    expect(role.metadata).toEqual(roleBinding.metadata);
    expect(roleBinding).toEqual({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: {
        name: memberBindingName('alice@example.com'),
        namespace: NS,
        labels: { ...orgLabels, 'miniapps.dev/membership': 'alice' },
        ownerReferences: [membershipOwner],
      },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: memberBindingName('alice@example.com') },
      subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'oidc:alice@example.com' }],
    });
  });

  it('lets the member get and delete their own Membership (leave), and no other', () => {
    const { role } = memberAccess(aMembership(), anOrg(), NS, { userPrefix: '' });
    expect(role.rules.at(-1)).toEqual({ apiGroups: ['miniapps.dev'], resources: ['memberships'], verbs: ['get', 'delete'], resourceNames: ['alice'] });
  });

  it('names the binding by a short hash of the email that ignores case and hides the email', () => {
    const name = memberBindingName('Alice@Example.com');
    expect(name).toMatch(/^miniapps:member:[0-9a-f]{16}$/);
    expect(name).toBe(memberBindingName('alice@example.com'));
    expect(name).not.toBe(memberBindingName('bob@example.com'));
  });

  it('treats an empty apps list as no limit', () => {
    expect(memberAccess(aMembership({ apps: [] }), anOrg(), NS, { userPrefix: '' }).role.rules.slice(0, -1)).toEqual([...roleRules('MiniAppDeveloper'), ...manifestArtifactRules('MiniAppDeveloper')]);
  });

  describe('for a member limited to some apps', () => {
    const membership = aMembership({
      apps: [
        { kind: 'MiniApp', name: 'wallet' },
        { kind: 'MiniApp', name: 'budget' },
      ],
    });
    const { role, roleBinding } = memberAccess(membership, anOrg(), NS, { userPrefix: '' });
    const rulesOf = (resource: string) => role!.rules.filter((r) => r.resources[0] === resource);

    it('binds a Role of their own, with the binding name, labels and owner', () => {
      expect(roleBinding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: roleBinding.metadata.name });
      expect(role!.metadata).toEqual(roleBinding.metadata);
    });

    it('grants the named mini apps only, without list or create', () => {
      expect(rulesOf('miniapps')).toEqual([{ apiGroups: ['miniapps.dev'], resources: ['miniapps'], verbs: ['get', 'watch', 'update', 'patch', 'delete'], resourceNames: ['budget', 'wallet'] }]);
      expect(rulesOf('miniapps/status')[0]?.resourceNames).toEqual(['budget', 'wallet']);
    });

    it('grants no super app when none is named', () => {
      expect(rulesOf('superapps')).toEqual([]);
      expect(rulesOf('superapps/status')).toEqual([]);
    });

    it('keeps the rules of the role for the other kinds', () => {
      const others = (rules: ReturnType<typeof roleRules>) => rules.filter((r) => !/^(super|mini)apps(\/status)?$/.test(r.resources[0]!));
      expect(others(role.rules.slice(0, -1))).toEqual(others([...roleRules('MiniAppDeveloper'), ...manifestArtifactRules('MiniAppDeveloper')]));
    });

    it('limits a read-only role to reading the named apps', () => {
      const rules = roleRules('MiniAppReviewer', [{ kind: 'SuperApp', name: 'bank' }]);
      expect(rules.find((r) => r.resources[0] === 'superapps')).toMatchObject({ verbs: ['get', 'watch'], resourceNames: ['bank'] });
    });
  });

  it('is deterministic: the same input gives deep-equal output', () => {
    const m = aMembership({
      apps: [
        { kind: 'SuperApp', name: 'b' },
        { kind: 'SuperApp', name: 'a' },
      ],
    });
    expect(memberAccess(m, anOrg(), NS, { userPrefix: 'x:' })).toEqual(memberAccess(structuredClone(m), anOrg(), NS, { userPrefix: 'x:' }));
  });
});

describe('organizationClusterAccess', () => {
  const members = [
    { email: 'zed@example.com', role: 'MiniAppReviewer' as const },
    { email: 'Ann@Example.com', role: 'OrganizationAdministrator' as const },
    { email: 'ann@example.com', role: 'OrganizationAdministrator' as const },
    { email: 'bob@example.com', role: 'MiniAppDeveloper' as const },
  ];
  const access = organizationClusterAccess(anOrg(), members, { userPrefix: 'oidc:' });

  it('names ClusterRoles and bindings after the organization', () => {
    expect(access.clusterRoles.map((r) => r.metadata.name)).toEqual(['miniapps:org:acme:member', 'miniapps:org:acme:administrator']);
    expect(access.clusterRoleBindings.map((b) => [b.metadata.name, b.roleRef.name])).toEqual([
      ['miniapps:org:acme:member', 'miniapps:org:acme:member'],
      ['miniapps:org:acme:administrator', 'miniapps:org:acme:administrator'],
    ]);
  });

  it('limits the rules to the organization by name: members get it, administrators also change it', () => {
    expect(access.clusterRoles.map((r) => r.rules[0])).toEqual([
      { apiGroups: ['miniapps.dev'], resources: ['organizations'], verbs: ['get', 'watch'], resourceNames: ['acme'] },
      { apiGroups: ['miniapps.dev'], resources: ['organizations'], verbs: ['get', 'watch', 'update', 'patch', 'delete'], resourceNames: ['acme'] },
    ]);
  });

  it('binds every member, and the administrators, sorted and without duplicates', () => {
    expect(access.clusterRoleBindings.map((b) => b.subjects.map((s) => s.name))).toEqual([['oidc:ann@example.com', 'oidc:bob@example.com', 'oidc:zed@example.com'], ['oidc:ann@example.com']]);
  });

  it('labels everything and makes the Organization its controller', () => {
    for (const o of [...access.clusterRoles, ...access.clusterRoleBindings]) {
      expect(o.metadata.labels).toEqual(orgLabels);
      expect(o.metadata.ownerReferences).toEqual([orgOwner]);
    }
  });

  it('makes no grant that nobody holds: nothing without members, only the member grant without administrators', () => {
    expect(organizationClusterAccess(anOrg(), [], { userPrefix: '' })).toEqual({ clusterRoles: [], clusterRoleBindings: [] });
    const readersOnly = organizationClusterAccess(anOrg(), [{ email: 'r@example.com', role: 'MiniAppReviewer' }], { userPrefix: '' });
    expect(readersOnly.clusterRoleBindings.map((b) => b.metadata.name)).toEqual(['miniapps:org:acme:member']);
  });

  it('keeps names of a very long organization within 253 characters, distinct and sharing one middle', () => {
    const long = 'a'.repeat(253);
    const other = `${'a'.repeat(252)}b`;
    const names = [organizationClusterName(long, 'member'), organizationClusterName(long, 'administrator')];
    expect(Math.max(...names.map((n) => n.length))).toBeLessThanOrEqual(253);
    expect(organizationClusterName(long, 'administrator')).toHaveLength(253);
    expect(names[0]!.replace(/:member$/, '')).toBe(names[1]!.replace(/:administrator$/, ''));
    expect(organizationClusterName(other, 'member')).not.toBe(names[0]);
  });

  it('is deterministic: the same input gives deep-equal output', () => {
    expect(organizationClusterAccess(anOrg(), [...members].reverse(), { userPrefix: 'oidc:' })).toEqual(access);
  });
});

describe('tenantClusterAccess', () => {
  const tenant = {
    apiVersion: 'miniapps.dev/v1alpha1',
    kind: 'Tenant',
    metadata: { name: 'devtenant1', uid: 'uid-t1' },
    spec: { administrators: ['Zoe@Example.com', 'adam@example.com', 'zoe@example.com'] },
  };
  const access = tenantClusterAccess(tenant, { userPrefix: 'oidc:' })!;

  it('lets each administrator get (and watch) their own Tenant by name and read its status, nothing more', () => {
    expect(access.clusterRole.metadata.name).toBe('miniapps:tenant:devtenant1:administrator');
    expect(access.clusterRole.rules).toEqual([
      { apiGroups: ['miniapps.dev'], resources: ['tenants'], verbs: ['get', 'watch'], resourceNames: ['devtenant1'] },
      { apiGroups: ['miniapps.dev'], resources: ['tenants/status'], verbs: ['get'], resourceNames: ['devtenant1'] },
    ]);
  });

  it('binds the administrators (userPrefix + the lowercased email, sorted, once each), owned by the Tenant', () => {
    expect(access.clusterRoleBinding.roleRef.name).toBe(access.clusterRole.metadata.name);
    expect(access.clusterRoleBinding.subjects.map((x) => x.name)).toEqual(['oidc:adam@example.com', 'oidc:zoe@example.com']);
    for (const o of [access.clusterRole, access.clusterRoleBinding]) {
      expect(o.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'Tenant', name: 'devtenant1', uid: 'uid-t1', controller: true })]);
      expect(o.metadata.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'miniapps-operator', 'miniapps.dev/tenant': 'devtenant1' });
    }
  });

  it('grants nothing to a tenant without administrators (the controller deletes what it made)', () => {
    expect(tenantClusterAccess({ ...tenant, spec: {} }, { userPrefix: '' })).toBeUndefined();
    expect(tenantClusterAccess({ ...tenant, spec: { administrators: [] } }, { userPrefix: '' })).toBeUndefined();
  });

  it('keeps the name of a very long tenant within 253 characters and distinct', () => {
    const long = 'a'.repeat(253);
    expect(tenantClusterName(long).length).toBeLessThanOrEqual(253);
    expect(tenantClusterName(`${'a'.repeat(252)}b`)).not.toBe(tenantClusterName(long));
  });
});

describe('rbac-types', () => {
  it('makes the user name from the prefix and the lowercased email', () => {
    expect(userName('oidc:', 'Alice@Example.COM')).toBe('oidc:alice@example.com');
  });
});

describe('memberRules: what the namespace adds (apps people created, catalogs)', () => {
  const reach = {
    created: [{ kind: 'MiniApp' as const, name: 'mine' }],
    catalogs: [
      { superApp: 'shop', configMaps: ['shop-catalog', 'shop-catalog-1.0.0'] },
      { superApp: 'bank', configMaps: ['bank-catalog'] },
    ],
  };
  const catalogRule = (rules: ReturnType<typeof memberRules>) => rules.find((r) => r.resources.includes('configmaps'));
  const named = (rules: ReturnType<typeof memberRules>, resource: string) => rules.find((r) => r.resources[0] === resource && r.resourceNames)?.resourceNames;

  it.each<[string, Membership['spec'], 'MiniAppCenter' | 'AppCenter', string[] | undefined]>([
    ["a SuperAppAdministrator reads every super app's catalogs", { email: 'a@x.com', role: 'SuperAppAdministrator' }, 'MiniAppCenter', ['bank-catalog', 'shop-catalog', 'shop-catalog-1.0.0']],
    ["an OrganizationAdministrator reads every super app's catalogs", { email: 'a@x.com', role: 'OrganizationAdministrator' }, 'MiniAppCenter', ['bank-catalog', 'shop-catalog', 'shop-catalog-1.0.0']],
    [
      'a SuperAppAdministrator limited to shop reads only its catalogs',
      { email: 'a@x.com', role: 'SuperAppAdministrator', apps: [{ kind: 'SuperApp', name: 'shop' }] },
      'MiniAppCenter',
      ['shop-catalog', 'shop-catalog-1.0.0'],
    ],
    ['a MiniAppDeveloper (who may not update super apps) reads none', { email: 'a@x.com', role: 'MiniAppDeveloper' }, 'MiniAppCenter', undefined],
    ['a MiniAppReviewer reads none', { email: 'a@x.com', role: 'MiniAppReviewer' }, 'MiniAppCenter', undefined],
    ['an App Center Member reads the catalogs of the super apps they belong to', { email: 'a@x.com', role: 'Member', apps: [{ kind: 'SuperApp', name: 'bank' }] }, 'AppCenter', ['bank-catalog']],
    ['an App Center Member of no super app reads none', { email: 'a@x.com', role: 'Member' }, 'AppCenter', undefined],
  ])('%s', (_, spec, model, names) => {
    expect(catalogRule(memberRules(aMembership(spec), model, reach))?.resourceNames).toEqual(names);
  });

  it("gives App Center's Collaborator and Member the apps they created and were added to, and the Mini App Center's roles nothing for what they created", () => {
    expect(named(memberRules(aMembership({ role: 'Member', apps: [{ kind: 'MiniApp', name: 'added' }] }), 'AppCenter', reach), 'miniapps')).toEqual(['added', 'mine']);
    expect(named(memberRules(aMembership({ role: 'MiniAppDeveloper' }), 'MiniAppCenter', reach), 'miniapps')).toBeUndefined();
  });

  it("keeps the App Center Admin's full table (reviews included) and the Mini App Center administrator's (reviews read)", () => {
    const reviews = (model: 'MiniAppCenter' | 'AppCenter') => memberRules(aMembership({ role: 'OrganizationAdministrator' }), model).find((r) => r.resources[0] === 'miniappreviews')?.verbs;
    expect(reviews('AppCenter')).toContain('create');
    expect(reviews('MiniAppCenter')).toEqual(['get', 'list', 'watch']);
  });
});

describe('manifest artifacts (seed 003: the owners upload their manifest ConfigMaps)', () => {
  it.each<[Role, string[]]>([
    ['OrganizationAdministrator', ['create', 'patch']],
    ['SuperAppAdministrator', ['create', 'patch']],
    ['MiniAppDeveloper', ['create', 'patch']],
    ['MiniAppReviewer', []],
  ])("a %s member Role gets ConfigMaps %j (who may update solutions or app manifests): never get, list or delete (the namespace's other ConfigMaps stay unreadable)", (role, verbs) => {
    const rules = memberAccess(aMembership({ role }), anOrg(), NS, { userPrefix: '' }).role.rules.filter((r) => r.resources.includes('configmaps') && !r.resourceNames);
    expect(rules.flatMap((r) => r.verbs)).toEqual(verbs);
    expect(rules.every((r) => r.apiGroups.join() === '')).toBe(true);
  });
});
