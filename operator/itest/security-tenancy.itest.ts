// Issue 16, items 3 and 11, on the real control plane with the operator running: one
// organization reaching into another's tokens, and a Subscription adopting a hand-made
// UserGroup. The people of the attack act by impersonation: Mallory, an administrator of
// organization B (the attacker's), and the administrator of a tenant (who subscribes the
// tenant to B's solution, as any tenant administrator may). Organization A sells the
// seed's "gated solution" (its apps gated-frontend and gated-backoffice) to that tenant.
//
// What the webhook would refuse is also made while the operator is down (its webhook fails
// open, as the chart installs it), to show the reconcilers refuse to use it anyway.
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { AppManifest } from '../api/appmanifest/schema.ts';
import type { Membership } from '../api/membership/schema.ts';
import type { Organization } from '../api/organization/schema.ts';
import type { Solution } from '../api/solution/schema.ts';
import type { Subscription } from '../api/subscription/schema.ts';
import type { Tenant } from '../api/tenant/schema.ts';
import type { User } from '../api/user/schema.ts';
import type { UserGroup } from '../api/usergroup/schema.ts';
import { Kinds } from '../api/registry.ts';
import { KubePluginApi } from '../plugin/api.ts';
import { EXIT, run } from '../plugin/plugin.ts';
import type { AnyObject } from '../runtime/kube/client.ts';
import { Resources } from '../runtime/kube/resource.ts';
import { webhookRegistrationName } from '../servers/webhook.ts';
import { accessAllowed } from '../testenv/access.ts';
import { deleteOrganizationsAndWait, testClient, untilObject } from '../testenv/clients.ts';
import { eventually, testKubeconfig, uniqueName } from '../testenv/index.ts';
import { OperatorProcess, operatorRequest } from '../testenv/operator-process.ts';

const SEED = readFileSync(new URL('../manifests/testdata/gated-solution.yaml', import.meta.url), 'utf8');
const FRONTEND = parse(readFileSync(new URL('../manifests/testdata/gated-frontend.yaml', import.meta.url), 'utf8')) as AppManifest['spec'];

const admin = testClient();
const opNamespace = uniqueName('op-tenancy');
let operator: OperatorProcess;
let caPEM = '';

const orgA = uniqueName('victim-org');
const orgB = uniqueName('attacker-org');
const [nsA, nsB] = [`org-${orgA}`, `org-${orgB}`];
const MALLORY = `mallory@${orgB}.example`;
const tenant = uniqueName('tenant-x');
const tenantNs = `tenant-${tenant}`;
const TENANT_ADMIN = `admin@${tenant}.example`;
const tenant2 = uniqueName('tenant-y');
const tenant2Ns = `tenant-${tenant2}`;
const TENANT2_ADMIN = `admin@${tenant2}.example`;

const asMallory = { as: { user: MALLORY } };
const asTenantAdmin = (email: string) => ({ as: { user: email } });

type WithConditions = { status?: { conditions?: { type: string; status: string; reason: string; message: string }[] } };
const cond = (o: WithConditions | undefined, type: string) => o?.status?.conditions?.find((c) => c.type === type);

async function startOperator(): Promise<void> {
  operator = await OperatorProcess.start({ kubeconfig: testKubeconfig(), namespace: opNamespace });
  const reg = await eventually(
    async () => (await admin.get<AnyObject & { webhooks?: { clientConfig: { caBundle: string } }[] }>(Resources.ValidatingWebhookConfiguration, webhookRegistrationName(opNamespace))) ?? false,
    { describe: 'the webhook registration' },
  );
  caPEM = Buffer.from(reg.webhooks![0]!.clientConfig.caBundle, 'base64').toString();
}

let gateway = '';

/** The token-roles API, as a gateway holding what a tenant administrator holds in the tenant namespace. */
const tokenRolesOf = (user: string, app: { organization: string; name: string }) =>
  operatorRequest(operator.apiPort, caPEM, 'POST', '/tokenroles/v1/roles', gateway, { namespace: tenantNs, user, app, jwt: true });

/** `kubectl miniapps ...` through the plugin's own code (as the cluster administrator: it reads the app's status). */
async function plugin(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(argv, {
    io: { out: (t) => out.push(t), err: (t) => err.push(t), readLine: async () => undefined },
    connect: () => ({ api: new KubePluginApi(admin), defaultNamespace: 'default' }),
  });
  return { code, out: out.join(''), err: err.join('') };
}

/** The User the Tenant controller made for an administrator. */
/**
 * Seed 003: a tenant subscribes only to a solution offered to it (the Solution's spec.onboarding); the operator records
 * the offer on the tenant's namespace, and the API server refuses a tenant administrator's Subscription until it has.
 */
async function offeredTo(ns: string, solution: string): Promise<void> {
  await eventually(async () => ((await admin.get<AnyObject>(Resources.Namespace, ns))?.metadata.annotations?.['miniapps.dev/offered-solutions'] ?? '').split(' ').includes(solution), {
    timeoutMs: 60_000,
    describe: `${solution} offered to ${ns}`,
  });
}

async function userOf(ns: string, email: string): Promise<User> {
  return eventually(async () => (await admin.list<User>(Kinds.User, { namespace: ns })).items.find((u) => u.spec.email === email) ?? false, { timeoutMs: 60_000, describe: `the User of ${email}` });
}

const A_ROLES = (roles: readonly string[]) => roles.filter((r) => r.startsWith('role:gated-frontend:') || r.startsWith('role:gated-backoffice:'));

// What Mallory makes while the operator (and with it the webhook) is down.
const COPYCAT = {
  appId: FRONTEND.appId,
  listingId: 'gated-frontend',
  rolesRequired: ['platform:role:gated-frontend:admin', 'platform:role:gated-frontend:owner'],
  userGroups: [{ name: 'mallory crew', roles: ['role:gated-frontend:owner'] }],
};
const EVIL_FRONTEND = {
  appId: 'evil-frontend-app',
  listingId: 'evil-listing',
  rolesRequired: ['platform:role:gated-frontend:admin', 'platform:role:gated-frontend:owner', 'platform:role:evil-listing:user'],
};
const EVIL_SOLUTION = {
  solutionId: 'evil',
  version: '1.0.0',
  manifest: {
    userGroupsRequired: [{ name: 'mallory crew', roles: ['role:gated-frontend:admin', 'role:evil-listing:user'] }],
    // A's admin group by name, with A's roles and a landing page of Mallory's.
    adminUserGroups: [{ name: 'solutions admin', landingPage: { url: '/evil/home', rank: 1 }, roles: ['role:gated-frontend:admin', 'role:gated-frontend:owner', 'role:evil-listing:user'] }],
  },
};

beforeAll(async () => {
  await startOperator();
  for (const name of [orgA, orgB]) await admin.create<Organization>(Kinds.Organization, { metadata: { name }, spec: { displayName: name } });
  for (const name of [orgA, orgB]) await untilObject<Organization>(admin, Kinds.Organization, name, undefined, (o) => cond(o, 'Ready')?.status === 'True', `Organization ${name} Ready`);
  // Organization A: the seed's solution, its two apps (each claims its listing: A's first).
  await admin.create(Resources.ConfigMap, { metadata: { name: 'gated-manifest', namespace: nsA }, data: { 'manifest.yaml': SEED } });
  await admin.create<Solution>(Kinds.Solution, {
    metadata: { name: 'gated', namespace: nsA },
    spec: { solutionId: 'gated-solution', version: '1.0.0', onboarding: { tenants: [tenant, tenant2] }, manifestFrom: { configMapKeyRef: { name: 'gated-manifest', key: 'manifest.yaml' } } },
  });
  await admin.create<AppManifest>(Kinds.AppManifest, { metadata: { name: 'gated-frontend', namespace: nsA }, spec: FRONTEND });
  await admin.create<AppManifest>(Kinds.AppManifest, {
    metadata: { name: 'gated-backoffice', namespace: nsA },
    spec: { appId: 'gated-backoffice-app', listingId: 'gated-backoffice', rolesRequired: ['platform:role:gated-backoffice:admin'] },
  });
  // Mallory administers organization B.
  await admin.create<Membership>(Kinds.Membership, { metadata: { name: 'mallory', namespace: nsB }, spec: { email: MALLORY, role: 'OrganizationAdministrator', acceptance: 'Automatic' } });
  await eventually(async () => accessAllowed(admin, MALLORY, { verb: 'create', resource: 'appmanifests', namespace: nsB }), {
    timeoutMs: 60_000,
    describe: `${MALLORY} may create AppManifests in ${nsB}`,
  });
  // Two tenants; the first subscribes to A's solution.
  for (const [t, email] of [
    [tenant, TENANT_ADMIN],
    [tenant2, TENANT2_ADMIN],
  ] as const)
    await admin.create<Tenant>(Kinds.Tenant, { metadata: { name: t }, spec: { displayName: t, administrators: [email] } });
  for (const t of [tenant, tenant2]) await untilObject<Tenant>(admin, Kinds.Tenant, t, undefined, (o) => cond(o, 'Ready')?.status === 'True', `Tenant ${t} Ready`);
  await eventually(async () => accessAllowed(admin, TENANT_ADMIN, { verb: 'create', resource: 'subscriptions', namespace: tenantNs }), {
    timeoutMs: 60_000,
    describe: `${TENANT_ADMIN} may subscribe`,
  });
  await offeredTo(tenantNs, `${orgA}/gated`);
  await admin.create(Kinds.Subscription, { metadata: { name: 'gated', namespace: tenantNs }, spec: { solution: { organization: orgA, name: 'gated' } } }, asTenantAdmin(TENANT_ADMIN));
  await untilObject<Subscription>(admin, Kinds.Subscription, 'gated', tenantNs, (s) => cond(s, 'Ready')?.status === 'True', 'the subscription to A Ready');
  // The gateway the token-roles API answers (it holds what the tenant administrator holds).
  await admin.create(Resources.ServiceAccount, { metadata: { name: 'gateway', namespace: tenantNs } });
  await admin.create(Resources.RoleBinding, {
    metadata: { name: 'gateway', namespace: tenantNs },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'miniapps:tenant-administrator' },
    subjects: [{ kind: 'ServiceAccount', name: 'gateway', namespace: tenantNs }],
  });
  gateway = (
    await admin.request<{ status: { token: string } }>('POST', `/api/v1/namespaces/${tenantNs}/serviceaccounts/gateway/token`, {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
    })
  ).status.token;

  // The operator goes down: its webhook fails open. Mallory makes what it would refuse, and the tenant is subscribed to
  // B's solution (by a provisioning administrator: seed 003 lets a tenant administrator subscribe only to a solution
  // offered to the tenant, and B's is made while the operator, which records offers, is down).
  expect((await operator.stop()).code).toBe(0);
  await admin.create(Kinds.AppManifest, { metadata: { name: 'copycat', namespace: nsB }, spec: COPYCAT }, asMallory);
  await admin.create(Kinds.AppManifest, { metadata: { name: 'evil-frontend', namespace: nsB }, spec: EVIL_FRONTEND }, asMallory);
  await admin.create(Kinds.Solution, { metadata: { name: 'evil', namespace: nsB }, spec: EVIL_SOLUTION }, asMallory);
  await admin.create(Kinds.Subscription, { metadata: { name: 'evil', namespace: tenantNs }, spec: { solution: { organization: orgB, name: 'evil' } } });
  await startOperator();
}, 300_000);

afterAll(async () => {
  for (const t of [tenant, tenant2]) await admin.delete(Kinds.Tenant, t);
  await deleteOrganizationsAndWait(admin, [orgA, orgB]).catch(() => undefined);
  const exit = await operator?.stop();
  expect(exit?.code).toBe(0);
}, 180_000);

describe("issue 16 item 3: one organization reaches into another's tokens", () => {
  it('item 3a: an appId or listingId another organization claimed first is refused at admission, and one that slipped past is reported and used nowhere', async () => {
    // With the webhook up: refused, whoever asks.
    await expect(admin.create(Kinds.AppManifest, { metadata: { name: 'copycat-2', namespace: nsB }, spec: { appId: FRONTEND.appId, listingId: 'mallory-listing' } }, asMallory)).rejects.toThrow(
      /spec\.appId: "gated-frontend-app" is another organization's/,
    );
    await expect(admin.create(Kinds.AppManifest, { metadata: { name: 'copycat-3', namespace: nsB }, spec: { appId: 'mallory-app', listingId: 'gated-frontend' } }, asMallory)).rejects.toThrow(
      /spec\.listingId: "gated-frontend" is another organization's/,
    );
    // Nor by renaming an app of one's own into it.
    await expect(admin.patch(Kinds.AppManifest, 'evil-frontend', nsB, { spec: { appId: 'gated-backoffice-app' } })).rejects.toThrow(/spec\.appId: "gated-backoffice-app" is another organization's/);
    // The one made while the webhook was down: reported, Stalled, and A's keeps its ids.
    const copycat = await untilObject<AppManifest>(admin, Kinds.AppManifest, 'copycat', nsB, (a) => cond(a, 'IdsOwned')?.status === 'False', 'copycat IdsOwned False');
    expect(cond(copycat, 'IdsOwned')).toMatchObject({ reason: 'AppIdClaimed', message: expect.stringContaining('claimed first by another organization') });
    expect(cond(copycat, 'IdsOwned')?.message).not.toContain(orgA);
    expect(cond(copycat, 'Ready')?.status).toBe('False');
    expect(cond(copycat, 'Stalled')?.status).toBe('True');
    const original = await untilObject<AppManifest>(admin, Kinds.AppManifest, 'gated-frontend', nsA, (a) => cond(a, 'IdsOwned')?.status === 'True', "A's gated-frontend holds its ids");
    expect(cond(original, 'Ready')?.status).toBe('True');
    // Used nowhere: no token for it, no role in the plugin, and no group of the tenant from it.
    const admin1 = await userOf(tenantNs, TENANT_ADMIN);
    const asked = await tokenRolesOf(admin1.metadata.name, { organization: orgB, name: 'copycat' });
    expect(asked.status).toBe(404);
    expect(asked.body.token).toBeUndefined();
    const viaPlugin = await plugin('token-roles', admin1.metadata.name, '--app', `${orgB}/copycat`, '-n', tenantNs, '-o', 'json');
    expect(viaPlugin.code).toBe(EXIT.ok);
    expect(JSON.parse(viaPlugin.out).roles).toEqual([]);
    const groups = (await admin.list<UserGroup>(Kinds.UserGroup, { namespace: tenantNs })).items;
    expect(groups.flatMap((g) => g.status?.roleSources ?? []).flatMap((r) => r.sources)).not.toContain(`AppManifest ${orgB}/copycat`);
  });

  it("item 3b: a manifest grants only roles of listings its own organization owns; another's are refused at admission, and reported and left out of groups and tokens when they slip past", async () => {
    // With the webhook up: refused in an inline Solution and an inline AppManifest.
    const grab = { solutionId: 'grab', version: '1', manifest: { userGroupsRequired: [{ name: 'grabbers', roles: ['role:gated-frontend:admin'] }] } };
    await expect(admin.create(Kinds.Solution, { metadata: { name: 'grab', namespace: nsB }, spec: grab }, asMallory)).rejects.toThrow(
      /spec\.manifest: role:gated-frontend:admin name listing\(s\) another organization owns/,
    );
    await expect(
      admin.create(
        Kinds.AppManifest,
        { metadata: { name: 'grab', namespace: nsB }, spec: { appId: 'grab-app', listingId: 'grab-listing', rolesRequired: ['platform:role:gated-backoffice:admin'] } },
        asMallory,
      ),
    ).rejects.toThrow(/platform:role:gated-backoffice:admin name listing\(s\) another organization owns/);
    // What slipped past is reported: the Solution's and the app's RolesOwned.
    const evil = await untilObject<Solution>(admin, Kinds.Solution, 'evil', nsB, (s) => cond(s, 'RolesOwned')?.status === 'False', 'Solution evil RolesOwned False');
    expect(cond(evil, 'RolesOwned')).toMatchObject({ reason: 'ListingNotOwned', message: expect.stringContaining('role:gated-frontend:admin') });
    expect(cond(evil, 'Ready')?.status).toBe('False');
    const evilApp = await untilObject<AppManifest>(admin, Kinds.AppManifest, 'evil-frontend', nsB, (a) => cond(a, 'RolesOwned')?.status === 'False', 'evil-frontend RolesOwned False');
    expect(evilApp.status?.unownedRoles).toEqual(['platform:role:gated-frontend:admin', 'platform:role:gated-frontend:owner']);
    // B's subscription makes B's own group with B's own role only; no group of the tenant holds an A role from B.
    const crew = await untilObject<UserGroup>(admin, Kinds.UserGroup, 'mallory-crew', tenantNs, (g) => (g.status?.effectiveRoles?.length ?? 0) > 0, 'mallory-crew made');
    expect(crew.spec.roles).toEqual(['role:evil-listing:user']);
    const groups = (await admin.list<UserGroup>(Kinds.UserGroup, { namespace: tenantNs })).items;
    for (const g of groups) {
      for (const r of g.status?.roleSources ?? []) if (A_ROLES([r.role]).length) expect(r.sources.every((s) => s === `Solution ${orgA}/gated` || s.startsWith(`AppManifest ${orgA}/`))).toBe(true);
    }
    // The tenant administrator holds A's admin roles from A's solution, nothing A's from B.
    const admin1 = await untilObject<User>(
      admin,
      Kinds.User,
      (await userOf(tenantNs, TENANT_ADMIN)).metadata.name,
      tenantNs,
      (u) => !!u.status?.groups?.includes('solutions-admin'),
      'the tenant administrator in solutions-admin',
    );
    expect(A_ROLES(admin1.status?.effectiveRoles ?? [])).toEqual(['role:gated-backoffice:admin', 'role:gated-frontend:admin']);
    expect(admin1.status?.effectiveRoles).not.toContain('role:gated-frontend:owner');
  });

  it("item 3c: a token's audience names the organization: <organization>/<appId>, in the JWT, the JSON answer and the plugin", async () => {
    const admin1 = await userOf(tenantNs, TENANT_ADMIN);
    const jwks = await operatorRequest(operator.apiPort, caPEM, 'GET', '/tokenroles/v1/jwks.json');
    const keys = createLocalJWKSet(jwks.body as never);
    // A's own app: the audience is A's, and A's app verifies it.
    const own = await eventually(
      async () => {
        const r = await tokenRolesOf(admin1.metadata.name, { organization: orgA, name: 'gated-frontend' });
        if (r.status !== 200) throw new Error(JSON.stringify(r));
        return r;
      },
      { timeoutMs: 60_000, describe: "a token of A's frontend" },
    );
    expect(own.body.audience).toBe(`${orgA}/gated-frontend-app`);
    const { payload } = await jwtVerify(String(own.body.token), keys, { issuer: 'miniapps-operator', audience: `${orgA}/gated-frontend-app` });
    expect(payload).toMatchObject({ organization: orgA, appId: 'gated-frontend-app', roles: ['role:gated-frontend:admin'] });
    // B's app that requires A's roles: a token of B's audience, with none of A's roles, which A's app refuses.
    const theirs = await tokenRolesOf(admin1.metadata.name, { organization: orgB, name: 'evil-frontend' });
    expect(theirs.status).toBe(200);
    expect(theirs.body.audience).toBe(`${orgB}/evil-frontend-app`);
    expect(theirs.body.roles).toEqual([]);
    expect(decodeJwt(String(theirs.body.token))).toMatchObject({ aud: `${orgB}/evil-frontend-app`, roles: [] });
    await expect(jwtVerify(String(theirs.body.token), keys, { issuer: 'miniapps-operator', audience: `${orgA}/gated-frontend-app` })).rejects.toThrow(/aud/);
    // The plugin says the same.
    const viaPlugin = await plugin('token-roles', admin1.metadata.name, '--app', `${orgA}/gated-frontend`, '-n', tenantNs, '-o', 'json');
    expect(JSON.parse(viaPlugin.out)).toMatchObject({ audience: `${orgA}/gated-frontend-app`, roles: own.body.roles });
    const theirsViaPlugin = await plugin('token-roles', admin1.metadata.name, '--app', `${orgB}/evil-frontend`, '-n', tenantNs, '-o', 'json');
    expect(JSON.parse(theirsViaPlugin.out)).toMatchObject({ audience: `${orgB}/evil-frontend-app`, roles: [] });
  });

  it("item 3d: groups are never merged across organizations: a group of two organizations' solutions is a conflict, not a union", async () => {
    const sub = await untilObject<Subscription>(
      admin,
      Kinds.Subscription,
      'evil',
      tenantNs,
      (s) => cond(s, 'UserGroupsSynced')?.reason === 'UserGroupConflict',
      "B's subscription reports the conflict",
    );
    expect(sub.status?.conflictingUserGroups).toEqual(['solutions-admin']);
    expect(cond(sub, 'UserGroupsSynced')?.message).toContain('never merged across organizations');
    expect(cond(sub, 'Ready')?.status).toBe('False');
    const group = await admin.get<UserGroup>(Kinds.UserGroup, 'solutions-admin', tenantNs);
    expect(group?.metadata.ownerReferences?.map((r) => r.name)).toEqual(['gated']);
    expect(group?.spec.landingPage).toEqual({ url: '/admin/home', rank: 1 });
    expect(group?.spec.roles).toEqual(['role:gated-backoffice:admin', 'role:gated-frontend:admin']);
    expect(group?.status?.roleSources?.flatMap((r) => r.sources)).not.toContain(`Solution ${orgB}/evil`);
    await untilObject<UserGroup>(admin, Kinds.UserGroup, 'solutions-admin', tenantNs, (g) => cond(g, 'Uncontested')?.reason === 'UserGroupConflict', 'the UserGroup reports the conflict too');
    // A's subscription is unaffected; the tenant administrator lands on A's page.
    expect(cond(await admin.get<Subscription>(Kinds.Subscription, 'gated', tenantNs), 'Ready')?.status).toBe('True');
    const admin1 = await userOf(tenantNs, TENANT_ADMIN);
    expect((await admin.get<User>(Kinds.User, admin1.metadata.name, tenantNs))?.status?.landingPage).toEqual({ url: '/admin/home', rank: 1, group: 'solutions-admin' });
  });

  it('item 3e: landing pages are only https: URLs or paths: javascript: and http: are refused at admission and in manifest validation', async () => {
    const withPage = (url: string) => ({
      solutionId: 'pages',
      version: '1',
      manifest: { userGroupsRequired: [{ name: 'evil evil', landingPage: { url, rank: 1 }, roles: ['role:evil-listing:user'] }] },
    });
    for (const url of ['javascript:alert(document.cookie)', 'http://evil.example/', '//evil.example/', 'JAVASCRIPT:alert(1)']) {
      await expect(admin.create(Kinds.Solution, { metadata: { name: uniqueName('pages'), namespace: nsB }, spec: withPage(url) }, asMallory)).rejects.toThrow(/landingPage\.url/);
    }
    await expect(
      admin.create(
        Kinds.AppManifest,
        { metadata: { name: 'pages', namespace: nsB }, spec: { appId: 'pages-app', listingId: 'pages-listing', userGroups: [{ name: 'x', landingPage: { url: 'javascript:alert(1)', rank: 1 } }] } },
        asMallory,
      ),
    ).rejects.toThrow(/landingPage\.url/);
    await expect(admin.create(Kinds.UserGroup, { metadata: { name: 'by-hand', namespace: tenantNs }, spec: { landingPage: { url: 'javascript:alert(1)', rank: 1 } } })).rejects.toThrow(
      /landingPage\.url/,
    );
    // https and paths are fine.
    await admin.create(Kinds.Solution, { metadata: { name: 'pages-ok', namespace: nsB }, spec: withPage('https://evil.example/home') }, asMallory);
    // A manifest file with one: ManifestValid False, naming file, line, column and field.
    const file = 'solutionId: pages\nuserGroupsRequired:\n  - name: evil evil\n    landingPage:\n      url: javascript:alert(1)\n      rank: 1\n';
    await admin.create(Resources.ConfigMap, { metadata: { name: 'pages-manifest', namespace: nsB }, data: { 'manifest.yaml': file } });
    await admin.create(Kinds.Solution, {
      metadata: { name: 'pages-file', namespace: nsB },
      spec: { solutionId: 'pages', version: '1', manifestFrom: { configMapKeyRef: { name: 'pages-manifest', key: 'manifest.yaml' } } },
    });
    const sol = await untilObject<Solution>(admin, Kinds.Solution, 'pages-file', nsB, (s) => cond(s, 'ManifestValid')?.status === 'False', 'ManifestValid False');
    expect(cond(sol, 'ManifestValid')).toMatchObject({
      reason: 'ManifestSchemaInvalid',
      message: expect.stringContaining('configmap/pages-manifest/manifest.yaml:5:12 userGroupsRequired[0].landingPage.url: must be an https:// URL or a path'),
    });
    expect(sol.status?.manifest).toBeUndefined();
  });
});

describe('issue 16 item 11: a Subscription adopts a hand-made UserGroup', () => {
  it('item 11: a Subscription naming a hand-made UserGroup reports a conflict; the group is left untouched, never owned, and survives the Subscription', async () => {
    const handMade = { description: 'Made by hand', landingPage: { url: '/local/home', rank: 3 }, roles: ['role:local-app:clerk'] };
    await admin.create<UserGroup>(Kinds.UserGroup, { metadata: { name: 'field-executive', namespace: tenant2Ns }, spec: handMade });
    await admin.create<User>(Kinds.User, { metadata: { name: 'clerk', namespace: tenant2Ns }, spec: { userCode: 'C1', firstName: 'Clerk', email: 'clerk@y.example', groups: ['field-executive'] } });
    await eventually(async () => accessAllowed(admin, TENANT2_ADMIN, { verb: 'create', resource: 'subscriptions', namespace: tenant2Ns }), {
      timeoutMs: 60_000,
      describe: `${TENANT2_ADMIN} may subscribe`,
    });
    await offeredTo(tenant2Ns, `${orgA}/gated`);
    await admin.create(Kinds.Subscription, { metadata: { name: 'gated', namespace: tenant2Ns }, spec: { solution: { organization: orgA, name: 'gated' } } }, asTenantAdmin(TENANT2_ADMIN));
    const sub = await untilObject<Subscription>(admin, Kinds.Subscription, 'gated', tenant2Ns, (s) => cond(s, 'UserGroupsSynced')?.reason === 'UserGroupConflict', 'the conflict reported');
    expect(sub.status?.conflictingUserGroups).toEqual(['field-executive']);
    expect(cond(sub, 'UserGroupsSynced')?.message).toContain('UserGroup field-executive exists and was not made by a subscription');
    expect(sub.status?.userGroups).toEqual(['solutions-admin', 'solutions-owner']);
    await untilObject<UserGroup>(admin, Kinds.UserGroup, 'solutions-owner', tenant2Ns, () => true, 'the other groups made');
    const group = await admin.get<UserGroup>(Kinds.UserGroup, 'field-executive', tenant2Ns);
    expect(group?.metadata.ownerReferences).toBeUndefined();
    expect(group?.metadata.annotations?.['miniapps.dev/applied-digest']).toBeUndefined();
    expect(group?.spec).toEqual(handMade);
    await untilObject<UserGroup>(
      admin,
      Kinds.UserGroup,
      'field-executive',
      tenant2Ns,
      (g) => cond(g, 'Uncontested')?.reason === 'UserGroupConflict',
      'the hand-made UserGroup reports the subscription that names it',
    );
    // Unsubscribing deletes the groups the subscription made, never the hand-made one or its member.
    await admin.delete(Kinds.Subscription, 'gated', tenant2Ns, asTenantAdmin(TENANT2_ADMIN));
    await eventually(async () => !(await admin.get(Kinds.UserGroup, 'solutions-owner', tenant2Ns)), { timeoutMs: 60_000, describe: 'the groups of the subscription gone' });
    expect((await admin.get<UserGroup>(Kinds.UserGroup, 'field-executive', tenant2Ns))?.spec).toEqual(handMade);
    expect((await admin.get<User>(Kinds.User, 'clerk', tenant2Ns))?.spec.groups).toEqual(['field-executive']);
  });
});

// The review of items 3 and 11 (merge babd0eb): holes in who holds an id, and in which organization keeps a group.
describe('review of items 3 and 11: claims that hold, groups that stay', () => {
  it('finding 2: an AppManifest in a namespace of no organization claims nothing (NotInOrganization) and keeps no organization from an id', async () => {
    const teamX = uniqueName('team-x');
    await admin.create(Resources.Namespace, { metadata: { name: teamX } });
    // Made first, in a namespace no Organization holds.
    await admin.create<AppManifest>(Kinds.AppManifest, { metadata: { name: 'stray', namespace: teamX }, spec: { appId: `${teamX}-app`, listingId: `${teamX}-listing` } });
    const stray = await untilObject<AppManifest>(admin, Kinds.AppManifest, 'stray', teamX, (a) => !!cond(a, 'IdsOwned'), 'the stray AppManifest checked');
    expect(cond(stray, 'IdsOwned')).toMatchObject({ status: 'False', reason: 'NotInOrganization' });
    // An organization claims the listing afterwards: admitted, and it holds it.
    await admin.create(Kinds.AppManifest, { metadata: { name: 'own-listing', namespace: nsB }, spec: { appId: `${teamX}-b-app`, listingId: `${teamX}-listing` } }, asMallory);
    const own = await untilObject<AppManifest>(admin, Kinds.AppManifest, 'own-listing', nsB, (a) => !!cond(a, 'IdsOwned'), "B's AppManifest checked");
    expect(cond(own, 'IdsOwned')?.status).toBe('True');
    expect(cond(await admin.get<AppManifest>(Kinds.AppManifest, 'stray', teamX), 'IdsOwned')?.status).toBe('False');
    await admin.delete(Resources.Namespace, teamX);
  });

  it("finding 8: a solution's roles of a listing no AppManifest describes are claimed by its organization: they reach the tenant, and no one can squat the listing later", async () => {
    const listing = uniqueName('dispatch-orders-app');
    const manifest = { userGroupsRequired: [{ name: 'dispatchers', roles: [`role:${listing}:dispatcher`] }] };
    await admin.create(Kinds.Solution, { metadata: { name: 'dispatch', namespace: nsA }, spec: { solutionId: 'dispatch', version: '1.0.0', manifest, onboarding: { tenants: [tenant] } } });
    const sol = await untilObject<Solution>(admin, Kinds.Solution, 'dispatch', nsA, (s) => cond(s, 'RolesOwned')?.status === 'True', 'the dispatch solution holds its listing');
    expect(cond(sol, 'Ready')?.status).toBe('True');
    await offeredTo(tenantNs, `${orgA}/dispatch`);
    await admin.create(Kinds.Subscription, { metadata: { name: 'dispatch', namespace: tenantNs }, spec: { solution: { organization: orgA, name: 'dispatch' } } }, asTenantAdmin(TENANT_ADMIN));
    const group = await untilObject<UserGroup>(admin, Kinds.UserGroup, 'dispatchers', tenantNs, (g) => (g.spec.roles?.length ?? 0) > 0, 'the dispatchers group made');
    expect(group.spec.roles).toEqual([`role:${listing}:dispatcher`]);
    // Mallory comes later: the listing is A's.
    await expect(admin.create(Kinds.AppManifest, { metadata: { name: 'squat', namespace: nsB }, spec: { appId: `${listing}-squat`, listingId: listing } }, asMallory)).rejects.toThrow(
      new RegExp(`spec\\.listingId: "${listing}" is another organization's`),
    );
    await admin.delete(Kinds.Subscription, 'dispatch', tenantNs, asTenantAdmin(TENANT_ADMIN));
  });

  it('finding 3: a group two organizations shared before the upgrade goes to the organization subscribed first, whatever the subscriptions are named', async () => {
    await eventually(async () => accessAllowed(admin, TENANT2_ADMIN, { verb: 'create', resource: 'subscriptions', namespace: tenant2Ns }), {
      timeoutMs: 60_000,
      describe: `${TENANT2_ADMIN} may subscribe`,
    });
    await admin.create(Kinds.Solution, {
      metadata: { name: 'legacy-a', namespace: nsA },
      spec: { solutionId: 'legacy-a', version: '1', onboarding: { tenants: [tenant2] }, manifest: { userGroupsRequired: [{ name: 'legacy crew', roles: ['role:gated-frontend:viewer'] }] } },
    });
    await admin.create(
      Kinds.Solution,
      {
        metadata: { name: 'legacy-b', namespace: nsB },
        spec: { solutionId: 'legacy-b', version: '1', onboarding: { tenants: [tenant2] }, manifest: { userGroupsRequired: [{ name: 'legacy crew', roles: ['role:evil-listing:user'] }] } },
      },
      asMallory,
    );
    for (const [name, ns] of [
      ['legacy-a', nsA],
      ['legacy-b', nsB],
    ] as const)
      await untilObject<Solution>(admin, Kinds.Solution, name, ns, (s) => cond(s, 'Ready')?.status === 'True', `Solution ${name} Ready`);
    for (const s of [`${orgA}/legacy-a`, `${orgB}/legacy-b`]) await offeredTo(tenant2Ns, s);
    // Before the upgrade: the operator down, A's subscription first ("zeta"), B's a second later ("alpha", which sorts
    // first), and the group both made, its owners in name order as the operator before the fix wrote them.
    expect((await operator.stop()).code).toBe(0);
    const zeta = await admin.create<Subscription>(
      Kinds.Subscription,
      { metadata: { name: 'zeta', namespace: tenant2Ns }, spec: { solution: { organization: orgA, name: 'legacy-a' } } },
      asTenantAdmin(TENANT2_ADMIN),
    );
    await new Promise((r) => setTimeout(r, 1_100));
    const alpha = await admin.create<Subscription>(
      Kinds.Subscription,
      { metadata: { name: 'alpha', namespace: tenant2Ns }, spec: { solution: { organization: orgB, name: 'legacy-b' } } },
      asTenantAdmin(TENANT2_ADMIN),
    );
    const owner = (s: Subscription) => ({ apiVersion: 'miniapps.dev/v1alpha1', kind: 'Subscription', name: s.metadata.name!, uid: s.metadata.uid! });
    // Applied under the operator's field manager, as the operator before the fix applied it.
    await admin.apply<UserGroup>(
      Kinds.UserGroup,
      {
        metadata: { name: 'legacy-crew', namespace: tenant2Ns, annotations: { 'miniapps.dev/applied-digest': 'from-before-the-upgrade' }, ownerReferences: [owner(alpha), owner(zeta)] },
        spec: { displayName: 'legacy crew', roles: ['role:evil-listing:user', 'role:gated-frontend:viewer'] },
      },
      { fieldManager: 'miniapps-operator' },
    );
    await startOperator();
    const group = await untilObject<UserGroup>(
      admin,
      Kinds.UserGroup,
      'legacy-crew',
      tenant2Ns,
      (g) => g.metadata.annotations?.['miniapps.dev/applied-digest'] !== 'from-before-the-upgrade',
      'the operator applied the group',
    );
    expect(group.spec.roles).toEqual(['role:gated-frontend:viewer']);
    const b = await untilObject<Subscription>(
      admin,
      Kinds.Subscription,
      'alpha',
      tenant2Ns,
      (s) => cond(s, 'UserGroupsSynced')?.reason === 'UserGroupConflict',
      "B's subscription reports the conflict",
    );
    expect(b.status?.conflictingUserGroups).toEqual(['legacy-crew']);
    // (A's gated-frontend app also declares "field executive", which the hand-made group of item 11 holds there.)
    const a = await untilObject<Subscription>(admin, Kinds.Subscription, 'zeta', tenant2Ns, (s) => !!s.status?.userGroups?.includes('legacy-crew'), "A's subscription keeps the group");
    expect(a.status?.conflictingUserGroups ?? []).not.toContain('legacy-crew');
  }, 120_000);

  it("finding 1: a claim is durable: an AppManifest refused for another organization's id is never promoted when that organization deletes, re-creates or renames its own, and nobody takes an id in the gap", async () => {
    // The copycat made while the webhook was down is refused.
    await untilObject<AppManifest>(admin, Kinds.AppManifest, 'copycat', nsB, (a) => cond(a, 'IdsOwned')?.status === 'False', 'copycat IdsOwned False');
    // A deletes its AppManifest (a GitOps replace, kubectl replace --force): the copycat stays refused.
    await admin.delete(Kinds.AppManifest, 'gated-frontend', nsA);
    await eventually(async () => !(await admin.get(Kinds.AppManifest, 'gated-frontend', nsA)), { describe: "A's AppManifest gone" });
    // In the gap, with the webhook up: Mallory cannot take the id.
    await expect(admin.create(Kinds.AppManifest, { metadata: { name: 'gap', namespace: nsB }, spec: { appId: FRONTEND.appId, listingId: 'gap-listing' } }, asMallory)).rejects.toThrow(
      /spec\.appId: "gated-frontend-app" is another organization's/,
    );
    await new Promise((r) => setTimeout(r, 3_000));
    expect(cond(await admin.get<AppManifest>(Kinds.AppManifest, 'copycat', nsB), 'IdsOwned')?.status).toBe('False');
    // A re-creates it: A's holds its ids again, the copycat does not.
    await admin.create<AppManifest>(Kinds.AppManifest, { metadata: { name: 'gated-frontend', namespace: nsA }, spec: FRONTEND });
    await untilObject<AppManifest>(admin, Kinds.AppManifest, 'gated-frontend', nsA, (a) => cond(a, 'IdsOwned')?.status === 'True', "A's re-created AppManifest holds its ids");
    const copycat = await admin.get<AppManifest>(Kinds.AppManifest, 'copycat', nsB);
    expect(cond(copycat, 'IdsOwned')?.status).toBe('False');
    // A renames its back-office app's ids: the old ones stay A's.
    await admin.patch(Kinds.AppManifest, 'gated-backoffice', nsA, { spec: { appId: 'gated-backoffice-app-2' } });
    await untilObject<AppManifest>(admin, Kinds.AppManifest, 'gated-backoffice', nsA, (a) => cond(a, 'IdsOwned')?.message?.includes('gated-backoffice-app-2') ?? false, "A's renamed app checked");
    await expect(admin.create(Kinds.AppManifest, { metadata: { name: 'renamed', namespace: nsB }, spec: { appId: 'gated-backoffice-app', listingId: 'renamed-listing' } }, asMallory)).rejects.toThrow(
      /spec\.appId: "gated-backoffice-app" is another organization's/,
    );
    await admin.patch(Kinds.AppManifest, 'gated-backoffice', nsA, { spec: { appId: 'gated-backoffice-app' } });
    // B's tenant groups got nothing of A's listing, and the copycat has no token.
    const admin1 = await userOf(tenantNs, TENANT_ADMIN);
    expect((await tokenRolesOf(admin1.metadata.name, { organization: orgB, name: 'copycat' })).status).toBe(404);
    const groups = (await admin.list<UserGroup>(Kinds.UserGroup, { namespace: tenantNs })).items;
    expect(groups.flatMap((g) => g.status?.roleSources ?? []).flatMap((r) => r.sources)).not.toContain(`AppManifest ${orgB}/copycat`);
    expect((await admin.get<UserGroup>(Kinds.UserGroup, 'mallory-crew', tenantNs))?.spec.roles).toEqual(['role:evil-listing:user']);
  }, 120_000);

  it('finding 9: the groups of an app that loses its ids are kept as they are (orphaned and kept), never deleted for it', async () => {
    await admin.create<AppManifest>(Kinds.AppManifest, {
      metadata: { name: 'kiosk', namespace: nsA },
      spec: { appId: 'kiosk-app', listingId: 'gated-frontend', userGroups: [{ name: 'kiosk crew', roles: ['role:gated-frontend:viewer'] }] },
    });
    const made = await untilObject<UserGroup>(admin, Kinds.UserGroup, 'kiosk-crew', tenantNs, (g) => (g.spec.roles?.length ?? 0) > 0, "the kiosk app's group made");
    // With the webhook down, renamed into an appId organization B holds: the app is used nowhere.
    expect((await operator.stop()).code).toBe(0);
    await admin.patch(Kinds.AppManifest, 'kiosk', nsA, { spec: { appId: EVIL_FRONTEND.appId } });
    await startOperator();
    await untilObject<AppManifest>(admin, Kinds.AppManifest, 'kiosk', nsA, (a) => cond(a, 'IdsOwned')?.reason === 'AppIdClaimed', 'kiosk IdsOwned False');
    const sub = await untilObject<Subscription>(admin, Kinds.Subscription, 'gated', tenantNs, (s) => !!s.status?.orphanedUserGroups?.includes('kiosk-crew'), 'the group kept, as orphaned');
    expect(cond(sub, 'OrphansKept')?.message).toContain('does not hold their ids');
    expect((await admin.get<UserGroup>(Kinds.UserGroup, 'kiosk-crew', tenantNs))?.spec).toEqual(made.spec);
  }, 120_000);

  it("finding 1: a claim is a Lease of the operator's namespace owned by the organization, and it goes only with the organization", async () => {
    const orgC = uniqueName('leaving-org');
    const appId = `${orgC}-app`;
    await admin.create<Organization>(Kinds.Organization, { metadata: { name: orgC }, spec: { displayName: orgC } });
    const org = await untilObject<Organization>(admin, Kinds.Organization, orgC, undefined, (o) => cond(o, 'Ready')?.status === 'True', `Organization ${orgC} Ready`);
    await admin.create<AppManifest>(Kinds.AppManifest, { metadata: { name: 'leaving', namespace: `org-${orgC}` }, spec: { appId, listingId: `${orgC}-listing` } });
    await untilObject<AppManifest>(admin, Kinds.AppManifest, 'leaving', `org-${orgC}`, (a) => cond(a, 'IdsOwned')?.status === 'True', 'the app holds its ids');
    const claimsOf = async () =>
      (await admin.list<AnyObject & { spec?: { holderIdentity?: string } }>(Resources.Lease, { namespace: opNamespace, labelSelector: 'miniapps.dev/id-claim' })).items.filter((l) =>
        l.metadata.ownerReferences?.some((r) => r.uid === org.metadata.uid),
      );
    const held = await claimsOf();
    expect(held.map((l) => [l.metadata.labels?.['miniapps.dev/id-claim'], l.metadata.annotations?.['miniapps.dev/claimed-id'], l.spec?.holderIdentity]).sort()).toEqual([
      ['appId', appId, orgC],
      ['listingId', `${orgC}-listing`, orgC],
    ]);
    // Nobody but the operator (and cluster administrators) writes there: not an organization's administrator.
    await expect(admin.create(Resources.Lease, { metadata: { name: 'forged', namespace: opNamespace, labels: { 'miniapps.dev/id-claim': 'appId' } }, spec: {} }, asMallory)).rejects.toThrow(
      /forbidden/i,
    );
    // The AppManifest deleted: the claim stays; another organization is still refused.
    await admin.delete(Kinds.AppManifest, 'leaving', `org-${orgC}`);
    await expect(admin.create(Kinds.AppManifest, { metadata: { name: 'after', namespace: nsB }, spec: { appId, listingId: `${orgC}-b` } }, asMallory)).rejects.toThrow(/is another organization's/);
    expect(await claimsOf()).toHaveLength(2);
    // The organization deleted: its claims go with it, and the id is free.
    await deleteOrganizationsAndWait(admin, [orgC]);
    await eventually(async () => (await claimsOf()).length === 0, { timeoutMs: 60_000, describe: 'the claims of the deleted organization gone' });
    // The webhook reads its cache of claims, which sees the Leases go a moment after the API server does.
    // (A create the API server made but whose answer was lost is a 409 on the next try: made all the same.)
    await eventually(
      () =>
        admin.create(Kinds.AppManifest, { metadata: { name: 'after', namespace: nsB }, spec: { appId, listingId: `${orgC}-b` } }, asMallory).catch((err: { status?: number }) => {
          if (err.status === 409) return true;
          throw err;
        }),
      {
        timeoutMs: 30_000,
        describe: 'the freed id accepted',
      },
    );
    await untilObject<AppManifest>(admin, Kinds.AppManifest, 'after', nsB, (a) => cond(a, 'IdsOwned')?.status === 'True', 'B holds the freed id');
  }, 240_000);
});
