// Proves the RBAC model against a real API server: the objects rbac.ts and
// platformconfig/rbac.ts generate are applied with the admin client (no operator
// runs), then SubjectAccessReviews ask what each person may do. The expected answers
// are written here from the contract's role table (api.md), not taken from rbac.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MiniAppCenterRoles as Roles } from '../../api/membership/schema.ts';
import { PLATFORM_CONFIG_NAME } from '../../api/platformconfig/schema.ts';
import type { Membership, MiniAppCenterRole as Role } from '../../api/membership/schema.ts';
import type { Organization } from '../../api/organization/schema.ts';
import type { PlatformConfig } from '../../api/platformconfig/schema.ts';
import { Resources } from '../../runtime/kube/resource.ts';
import { deleteOrganization, testClient } from '../../testenv/clients.ts';
import { accessAllowed } from '../../testenv/access.ts';
import type { AccessAttributes } from '../../testenv/access.ts';
import { eventually, kubectl, uniqueName } from '../../testenv/index.ts';
import { provisioningAccess } from '../platformconfig/rbac.ts';
import { userName } from '../../domain/rbac-types.ts';
import type { ClusterRole, ClusterRoleBinding, RbacRole, RoleBinding } from '../../domain/rbac-types.ts';
import { Kinds } from '../../api/registry.ts';
import { memberAccess, organizationClusterAccess, roleTableClusterRoles } from '../../domain/rbac.ts';

const client = testClient();
const USER_PREFIX = 'oidc:';
const GROUP_PREFIX = 'oidc:';

// The contract's table. "own" API keys: the role table grants create only (an admission
// policy accepts only the requester's own keys); each owner is then given their keys by
// name by the ApiKey controller (apikey/apikeys.itest.ts proves that part).
type Grant = 'all' | 'read' | 'own';
const CONTRACT: Record<Role, Record<string, Grant>> = {
  OrganizationAdministrator: { superapps: 'all', miniapps: 'all', miniappreviews: 'read', memberships: 'all', apikeys: 'all', solutions: 'all', appmanifests: 'all' },
  SuperAppAdministrator: { superapps: 'all', miniapps: 'read', miniappreviews: 'read', memberships: 'read', apikeys: 'own', solutions: 'all', appmanifests: 'read' },
  MiniAppDeveloper: { superapps: 'read', miniapps: 'all', miniappreviews: 'read', memberships: 'read', apikeys: 'own', solutions: 'read', appmanifests: 'all' },
  MiniAppReviewer: { superapps: 'read', miniapps: 'read', miniappreviews: 'all', memberships: 'read', apikeys: 'own', solutions: 'read', appmanifests: 'read' },
};
const KINDS = ['superapps', 'miniapps', 'miniappreviews', 'memberships', 'apikeys', 'solutions', 'appmanifests'];
const VERBS = ['get', 'list', 'create', 'update', 'delete'];
const grants = (grant: Grant, verb: string) => grant === 'all' || (grant === 'read' ? verb === 'get' || verb === 'list' : verb === 'create');
/** get, update and delete name an object; list and create do not. */
const nameFor = (verb: string) => (verb === 'list' || verb === 'create' ? undefined : 'some-object');

const org = uniqueName('rbac');
const otherOrg = uniqueName('rbac-other');
const ns = uniqueName('rbac-ns');
const otherNs = uniqueName('rbac-other-ns');
/** One member per role; the administrator's email is written in mixed case. */
const EMAILS: Record<Role, string> = {
  OrganizationAdministrator: `Ada.Admin@${org}.example.com`,
  SuperAppAdministrator: `sam@${org}.example.com`,
  MiniAppDeveloper: `dev@${org}.example.com`,
  MiniAppReviewer: `rev@${org}.example.com`,
};
const user = (email: string) => userName(USER_PREFIX, email);
const limitedEmail = `limited@${org}.example.com`;
const otherAdminEmail = `admin@${otherOrg}.example.com`;
const provisioningEmail = `prov@${org}.example.com`;

type Attributes = AccessAttributes;

/** What a SubjectAccessReview answers for `userName` (as an authenticated user, with `groups`). */
const allowed = (userName: string, attrs: Attributes, groups: string[] = []) => accessAllowed(client, userName, attrs, groups);

/** The answers for every kind and verb of the table, in the organization's namespace. */
const everything = (userName: string, namespace = ns) => Promise.all(KINDS.flatMap((resource) => VERBS.map((verb) => allowed(userName, { verb, resource, namespace, name: nameFor(verb) }))));

const orgAttrs = (verb: string, name = org): Attributes => ({ verb, resource: 'organizations', name });

async function createOrganization(name: string, namespace: string): Promise<Organization> {
  const created = await client.create<Organization>(Kinds.Organization, { metadata: { name }, spec: { displayName: name } });
  await client.create(Resources.Namespace, { metadata: { name: namespace } });
  return created;
}

async function createMembership(namespace: string, email: string, role: Role, apps?: Membership['spec']['apps']): Promise<Membership> {
  const name = uniqueName(role.toLowerCase());
  return client.create<Membership>(Kinds.Membership, { metadata: { name, namespace }, spec: { email, role, ...(apps ? { apps } : {}) } });
}

async function applyAll(objects: (RbacRole | RoleBinding | ClusterRole | ClusterRoleBinding)[]): Promise<void> {
  for (const o of objects) await client.apply(Resources[o.kind], o);
}

let createdPlatformConfig = false;
const members: { membership: Membership; role: Role }[] = [];

beforeAll(async () => {
  const settings = { userPrefix: USER_PREFIX };
  const theOrg = await createOrganization(org, ns);
  const theOtherOrg = await createOrganization(otherOrg, otherNs);

  for (const role of Roles) members.push({ membership: await createMembership(ns, EMAILS[role], role), role });
  const limited = await createMembership(ns, limitedEmail, 'MiniAppDeveloper', [{ kind: 'MiniApp', name: 'wallet' }]);
  const otherAdmin = await createMembership(otherNs, otherAdminEmail, 'OrganizationAdministrator');

  const access = [...members.map((m) => m.membership), limited].map((m) => memberAccess(m, theOrg, ns, settings));
  const orgAccess = organizationClusterAccess(theOrg, [...Roles.map((role) => ({ email: EMAILS[role], role })), { email: limitedEmail, role: 'MiniAppDeveloper' }], settings);
  const otherAccess = organizationClusterAccess(theOtherOrg, [{ email: otherAdminEmail, role: 'OrganizationAdministrator' }], settings);

  let platformConfig = await client.get<PlatformConfig>(Kinds.PlatformConfig, PLATFORM_CONFIG_NAME);
  if (!platformConfig) {
    platformConfig = await client.create<PlatformConfig>(Kinds.PlatformConfig, { metadata: { name: PLATFORM_CONFIG_NAME }, spec: {} });
    createdPlatformConfig = true;
  }
  const provisioning = provisioningAccess({ users: [provisioningEmail], groups: ['platform-team'], userPrefix: USER_PREFIX, groupPrefix: GROUP_PREFIX }, platformConfig);

  await applyAll([
    ...roleTableClusterRoles(),
    ...access.flatMap((a) => [a.role, a.roleBinding]),
    ...Object.values(memberAccess(otherAdmin, theOtherOrg, otherNs, settings)),
    ...orgAccess.clusterRoles,
    ...orgAccess.clusterRoleBindings,
    ...otherAccess.clusterRoles,
    ...otherAccess.clusterRoleBindings,
    provisioning.clusterRole,
    provisioning.clusterRoleBinding,
  ]);

  // The authorizer sees new RBAC objects through its informers: wait until every binding counts.
  await eventually(
    async () =>
      (
        await Promise.all([
          ...Roles.map((role) => allowed(user(EMAILS[role]), { verb: 'get', resource: 'superapps', namespace: ns, name: 'x' })),
          allowed(user(limitedEmail), { verb: 'get', resource: 'miniapps', namespace: ns, name: 'wallet' }),
          allowed(user(otherAdminEmail), { verb: 'get', resource: 'superapps', namespace: otherNs, name: 'x' }),
          ...[...Object.values(EMAILS), limitedEmail].map((e) => allowed(user(e), orgAttrs('get'))),
          allowed(user(EMAILS.OrganizationAdministrator), orgAttrs('update')),
          allowed(user(otherAdminEmail), orgAttrs('update', otherOrg)),
          allowed(user(provisioningEmail), { verb: 'create', resource: 'organizations' }),
          allowed('someone', { verb: 'create', resource: 'organizations' }, [`${GROUP_PREFIX}platform-team`]),
        ])
      ).every(Boolean),
    { describe: 'every generated binding to take effect', timeoutMs: 30_000 },
  );
});

afterAll(async () => {
  for (const name of [org, otherOrg]) await deleteOrganization(client, name);
  for (const name of [ns, otherNs]) await client.delete(Resources.Namespace, name);
  if (createdPlatformConfig) await client.delete(Kinds.PlatformConfig, PLATFORM_CONFIG_NAME);
});

describe('the role table, as SubjectAccessReviews in the organization namespace', () => {
  const rows = Roles.flatMap((role) =>
    KINDS.flatMap((resource) =>
      VERBS.map((verb) => {
        const expected = grants(CONTRACT[role][resource]!, verb);
        return [`a ${role} ${expected ? 'may' : 'may not'} ${verb} ${resource}`, role, resource, verb, expected] as const;
      }),
    ),
  );

  it.each(rows)('%s', async (_, role, resource, verb, expected) => {
    expect(await allowed(user(EMAILS[role]), { verb, resource, namespace: ns, name: nameFor(verb) })).toBe(expected);
  });
});

describe('a member limited to one mini app', () => {
  const miniapp = (verb: string, name?: string): Attributes => ({ verb, resource: 'miniapps', namespace: ns, name });
  it.each<[string, Attributes, boolean]>([
    ['may get their mini app', miniapp('get', 'wallet'), true],
    ['may update their mini app', miniapp('update', 'wallet'), true],
    ['may watch their mini app by name', miniapp('watch', 'wallet'), true],
    ['may not get another mini app', miniapp('get', 'budget'), false],
    ['may not update another mini app', miniapp('update', 'budget'), false],
    ['may not list mini apps', miniapp('list'), false],
    ['may not create mini apps', miniapp('create'), false],
    ['may not get any super app', { verb: 'get', resource: 'superapps', namespace: ns, name: 'bank' }, false],
    ['keeps the rest of the role: may create app manifests', { verb: 'create', resource: 'appmanifests', namespace: ns }, true],
    ['keeps the rest of the role: may list memberships', { verb: 'list', resource: 'memberships', namespace: ns }, true],
  ])('%s', async (_, attrs, expected) => {
    expect(await allowed(user(limitedEmail), attrs)).toBe(expected);
  });
});

describe('leaving', () => {
  it('a member who may only read memberships may delete their own Membership, and no other', async () => {
    const reviewer = members.find((m) => m.role === 'MiniAppReviewer')!.membership;
    const other = members.find((m) => m.role === 'MiniAppDeveloper')!.membership;
    const del = (name: string): Attributes => ({ verb: 'delete', resource: 'memberships', namespace: ns, name });
    expect(await allowed(user(EMAILS.MiniAppReviewer), del(reviewer.metadata.name))).toBe(true);
    expect(await allowed(user(EMAILS.MiniAppReviewer), del(other.metadata.name))).toBe(false);
    expect(await allowed(user(EMAILS.MiniAppReviewer), { verb: 'update', resource: 'memberships', namespace: ns, name: reviewer.metadata.name })).toBe(false);
  });
});

describe('people without a binding in the namespace', () => {
  it('a member of another organization may do nothing in this namespace', async () => {
    expect(await allowed(user(otherAdminEmail), { verb: 'create', resource: 'superapps', namespace: otherNs })).toBe(true);
    expect(new Set(await everything(user(otherAdminEmail)))).toEqual(new Set([false]));
  });

  it.each([
    ['an invited, not yet active, member', user(`invited@${org}.example.com`)],
    ['a suspended member', user(`suspended@${org}.example.com`)],
    ["a member's email without the authenticator's userPrefix", EMAILS.MiniAppDeveloper.toLowerCase()],
    ["a member's email in another case than the lowercased subject", `${USER_PREFIX}${EMAILS.OrganizationAdministrator}`],
  ])('%s may do nothing', async (_, userName) => {
    expect(new Set(await everything(userName))).toEqual(new Set([false]));
  });
});

describe('access to the Organization itself', () => {
  const people = [...Roles.map((role) => [role, EMAILS[role]] as const), ['member limited to an app', limitedEmail] as const];
  it.each(
    people.flatMap(([who, email]) =>
      ['get', 'update', 'delete'].map((verb) => {
        const expected = verb === 'get' || who === 'OrganizationAdministrator';
        return [`a ${who} ${expected ? 'may' : 'may not'} ${verb} their Organization`, email, verb, expected] as const;
      }),
    ),
  )('%s', async (_, email, verb, expected) => {
    expect(await allowed(user(email), orgAttrs(verb))).toBe(expected);
  });

  it.each(['get', 'list', 'update', 'delete'])('a member of another organization may not %s this Organization', async (verb) => {
    expect(await allowed(user(otherAdminEmail), orgAttrs(verb, verb === 'list' ? undefined : org))).toBe(false);
  });

  it('no member may list Organizations', async () => {
    expect(await allowed(user(EMAILS.OrganizationAdministrator), { verb: 'list', resource: 'organizations' })).toBe(false);
  });
});

describe('provisioning administrators', () => {
  const prov = user(provisioningEmail);
  it.each<[string, string, string[], Attributes, boolean]>([
    ['a provisioning administrator named by email may create Organizations', prov, [], { verb: 'create', resource: 'organizations' }, true],
    ['a member of a provisioning group may create Organizations', 'someone', [`${GROUP_PREFIX}platform-team`], { verb: 'create', resource: 'organizations' }, true],
    ['a provisioning administrator may create Tenants', prov, [], { verb: 'create', resource: 'tenants' }, true],
    ['a provisioning administrator may update the PlatformConfig', prov, [], { verb: 'update', resource: 'platformconfigs', name: PLATFORM_CONFIG_NAME }, true],
    ['a provisioning administrator may create mini apps in any organization', prov, [], { verb: 'create', resource: 'miniapps', namespace: ns }, true],
    ['a provisioning administrator may list namespaces', prov, [], { group: '', verb: 'list', resource: 'namespaces' }, true],
    ['a provisioning administrator may not read Secrets', prov, [], { group: '', verb: 'get', resource: 'secrets', namespace: ns, name: 'x' }, false],
    ['an organization administrator may not create Organizations', user(EMAILS.OrganizationAdministrator), [], { verb: 'create', resource: 'organizations' }, false],
    ['a plain member may not create Organizations', user(EMAILS.MiniAppDeveloper), [], { verb: 'create', resource: 'organizations' }, false],
  ])('%s', async (_, userName, groups, attrs, expected) => {
    expect(await allowed(userName, attrs, groups)).toBe(expected);
  });
});

describe('real impersonation agrees with the SubjectAccessReview', () => {
  it.each(Roles.map((role) => [role, CONTRACT[role].miniapps === 'all'] as const))('kubectl auth can-i create miniapps as a %s answers as the table says', async (role, expected) => {
    const result = await kubectl(['auth', 'can-i', 'create', 'miniapps.miniapps.dev', '-n', ns], { as: user(EMAILS[role]), allowFailure: true });
    expect(result.stdout.trim()).toBe(expected ? 'yes' : 'no');
    expect(result.exitCode).toBe(expected ? 0 : 1);
    expect(await allowed(user(EMAILS[role]), { verb: 'create', resource: 'miniapps', namespace: ns })).toBe(expected);
  });
});
