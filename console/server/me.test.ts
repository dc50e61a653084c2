import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessFrom, can, heldByName, ownMembershipName, whoAmI } from './me.ts';
import { createUpstream } from './upstream.ts';
import type { Upstream } from './upstream.ts';

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

  it("keeps the organization icon's ConfigMap and the provisioning subresource, which decide the settings screen", () => {
    const admin = accessFrom({
      status: {
        resourceRules: [
          { verbs: ['get', 'patch'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['organization-icon'] },
          { verbs: ['get', 'update', 'patch', 'delete'], apiGroups: ['miniapps.dev'], resources: ['organizations'], resourceNames: ['bank'] },
          { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] },
        ],
      },
    });
    expect(can(admin, 'configmaps', 'patch', 'organization-icon')).toBe(true);
    expect(can(admin, 'configmaps', 'patch', 'other')).toBe(false);
    expect(can(admin, 'organizations', 'patch', 'bank')).toBe(true);
    expect(can(admin, 'pods', 'list')).toBe(false);
    const provisioner = accessFrom({ status: { resourceRules: [{ verbs: ['update'], apiGroups: ['miniapps.dev'], resources: ['organizations/provisioning', 'apikeys/owner'] }] } });
    expect(can(provisioner, 'organizations/provisioning', 'update')).toBe(true);
    expect(can(admin, 'organizations/provisioning', 'update')).toBe(false);
  });
});

describe('who am I, against a stand-in API server', () => {
  let api: Server;
  let up: Upstream;
  // Per token: the rules a cluster-wide rules review answers.
  const rules: Record<string, unknown[]> = {
    provisioner: [{ verbs: ['*'], apiGroups: ['miniapps.dev'], resources: ['organizations'] }],
    member: [{ verbs: ['get'], apiGroups: ['miniapps.dev'], resources: ['organizations'], resourceNames: ['bank'] }],
  };
  beforeAll(async () => {
    api = createServer((req, res) => {
      const token = (req.headers.authorization ?? '').replace('Bearer ', '');
      res.writeHead(200, { 'content-type': 'application/json' });
      if (req.url!.endsWith('/selfsubjectreviews')) return res.end(JSON.stringify({ status: { userInfo: { username: `${token}@example.com`, groups: [] } } }));
      if (req.url!.endsWith('/selfsubjectrulesreviews')) return res.end(JSON.stringify({ status: { resourceRules: rules[token] ?? [] } }));
      if (req.url!.endsWith('/organizations')) return res.end(JSON.stringify({ items: [] }));
      return res.end(JSON.stringify({ metadata: { name: 'bank' }, spec: { displayName: 'Bank' } }));
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    up = createUpstream({ server: `http://127.0.0.1:${(api.address() as { port: number }).port}` });
  });
  afterAll(async () => new Promise((r) => api?.close(r)));

  it("tells the operator's namespace to provisioning administrators only, with the cluster-wide rules", async () => {
    const provisioner = await whoAmI(up, 'provisioner', 'miniapps-system');
    expect(provisioner).toMatchObject({ provisioningAdministrator: true, operatorNamespace: 'miniapps-system' });
    expect(can(provisioner.cluster, 'organizations', 'create')).toBe(true);
    const member = await whoAmI(up, 'member', 'miniapps-system');
    expect(member.provisioningAdministrator).toBe(false);
    expect(member.operatorNamespace).toBeUndefined();
    expect(member.organizations.map((o) => o.name)).toEqual(['bank']);
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

describe('an Organization or Tenant held by name that cannot be read', () => {
  let api: Server;
  let up: Upstream;
  beforeAll(async () => {
    api = createServer((req, res) => {
      res.writeHead(req.url!.includes('/tenants/') ? 503 : 200, { 'content-type': 'application/json' });
      if (req.url!.endsWith('/selfsubjectreviews')) return res.end(JSON.stringify({ status: { userInfo: { username: 'tina@example.com', groups: [] } } }));
      if (req.url!.endsWith('/selfsubjectrulesreviews'))
        return res.end(JSON.stringify({ status: { resourceRules: [{ verbs: ['get'], apiGroups: ['miniapps.dev'], resources: ['tenants'], resourceNames: ['acme'] }] } }));
      return res.end(JSON.stringify({ kind: 'Status', message: 'etcdserver: request timed out' }));
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    up = createUpstream({ server: `http://127.0.0.1:${(api.address() as { port: number }).port}` });
  });
  afterAll(async () => new Promise((r) => api?.close(r)));

  it('says why, not that it has no namespace yet', async () => {
    const me = await whoAmI(up, 'tina');
    expect(me.tenants).toEqual([{ name: 'acme', problem: 'etcdserver: request timed out' }]);
  });
});
