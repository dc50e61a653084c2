import { describe, expect, it } from 'vitest';
import { accessFrom, can, heldByName, ownMembershipName } from './me.ts';

// A member's rules in their organization's namespace, as SelfSubjectRulesReview answers
// them for the Role the operator makes (operator/domain/rbac.ts memberAccess).
const developer = {
  status: {
    resourceRules: [
      { verbs: ['get', 'list', 'watch'], apiGroups: ['miniapps.dev'], resources: ['superapps'] },
      { verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'], apiGroups: ['miniapps.dev'], resources: ['miniapps'] },
      { verbs: ['create'], apiGroups: ['miniapps.dev'], resources: ['apikeys'] },
      { verbs: ['get', 'watch', 'update', 'patch', 'delete'], apiGroups: ['miniapps.dev'], resources: ['apikeys'], resourceNames: ['key-1'] },
      { verbs: ['get', 'list', 'watch'], apiGroups: ['miniapps.dev'], resources: ['memberships'] },
      { verbs: ['get', 'delete'], apiGroups: ['miniapps.dev'], resources: ['memberships'], resourceNames: ['dev'] },
      { verbs: ['get'], apiGroups: ['miniapps.dev'], resources: ['organizations'], resourceNames: ['bank'] },
      { verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews'] },
    ],
  },
};

describe('what the rules review says a person may do', () => {
  const a = accessFrom(developer);
  it.each([
    ['miniapps', 'delete', undefined, true],
    ['superapps', 'create', undefined, false],
    ['apikeys', 'list', undefined, false],
    ['apikeys', 'create', undefined, true],
    ['apikeys', 'patch', 'key-1', true],
    ['apikeys', 'patch', 'key-2', false],
    ['memberships', 'delete', 'someone-else', false],
    ['memberships', 'delete', 'dev', true],
    ['selfsubjectaccessreviews', 'create', undefined, false],
  ] as const)('%s %s %s: %s', (resource, verb, name, expected) => {
    expect(can(a, resource, verb, name)).toBe(expected);
  });

  it("finds the person's own Membership: the only one they may delete by name", () => {
    expect(ownMembershipName(a)).toBe('dev');
  });

  it("finds an administrator's own Membership beside their right to delete every one", () => {
    const admin = accessFrom({
      status: {
        resourceRules: [
          { verbs: ['*'], apiGroups: ['miniapps.dev'], resources: ['memberships'] },
          { verbs: ['get', 'delete'], apiGroups: ['miniapps.dev'], resources: ['memberships'], resourceNames: ['boss'] },
        ],
      },
    });
    expect(ownMembershipName(admin)).toBe('boss');
    expect(can(admin, 'memberships', 'deletecollection')).toBe(true);
  });

  it('names the organizations held by name, which is how a member finds theirs', () => {
    expect(a.named.organizations).toEqual({ bank: ['get'] });
  });
});

describe("a tenant administrator's rules (operator/domain/rbac.ts tenantClusterAccess)", () => {
  // What SelfSubjectRulesReview answers for an administrator of two tenants who is a member of no organization.
  const cluster = accessFrom({
    status: {
      resourceRules: [
        { verbs: ['get', 'watch'], apiGroups: ['miniapps.dev'], resources: ['tenants'], resourceNames: ['acme'] },
        { verbs: ['get'], apiGroups: ['miniapps.dev'], resources: ['tenants/status'], resourceNames: ['acme'] },
        { verbs: ['get', 'watch'], apiGroups: ['miniapps.dev'], resources: ['tenants'], resourceNames: ['globex'] },
        { verbs: ['watch'], apiGroups: ['miniapps.dev'], resources: ['tenants'], resourceNames: ['watch-only'] },
        { verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectrulesreviews'] },
      ],
    },
  });

  it('finds their tenants: the Tenants they may get by name, and no others', () => {
    expect(heldByName(cluster, 'tenants')).toEqual(['acme', 'globex']);
    expect(heldByName(cluster, 'organizations')).toEqual([]);
  });

  it('may neither list Tenants nor change their own', () => {
    expect(can(cluster, 'tenants', 'list')).toBe(false);
    expect(can(cluster, 'tenants', 'patch', 'acme')).toBe(false);
    expect(can(cluster, 'tenants', 'get', 'acme')).toBe(true);
  });
});
