// The seed's solution flow on the real control plane, with its own example manifests:
// the "gated solution" (groups "solutions owner" and "field executive", admin group
// "solutions admin") uploaded as a ConfigMap, a frontend app's manifest with its
// rolesRequired, two tenants onboarded, the groups built from the union, users with
// groups and designation, the tenant administrator in the admin group, a manifest update
// reaching both tenants, and the bad inputs: each refused at admission or reported.
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { AppManifest } from '../../api/appmanifest/schema.ts';
import type { Organization } from '../../api/organization/schema.ts';
import type { Solution } from '../../api/solution/schema.ts';
import type { Subscription } from '../../api/subscription/schema.ts';
import type { Tenant } from '../../api/tenant/schema.ts';
import type { User } from '../../api/user/schema.ts';
import type { UserGroup } from '../../api/usergroup/schema.ts';
import { Resources } from '../../runtime/kube/resource.ts';
import type { AnyObject } from '../../runtime/kube/client.ts';
import { deleteOrganizationsAndWait, testClient, untilObject } from '../../testenv/clients.ts';
import { eventually, testKubeconfig, uniqueName } from '../../testenv/index.ts';
import { OperatorProcess, operatorRequest } from '../../testenv/operator-process.ts';
import { accessAllowed } from '../../testenv/access.ts';
import { KubePluginApi } from '../../plugin/api.ts';
import { EXIT, run } from '../../plugin/plugin.ts';
import { webhookRegistrationName } from '../../servers/webhook.ts';
import { Kinds } from '../../api/registry.ts';

const SEED = readFileSync(new URL('../../manifests/testdata/gated-solution.yaml', import.meta.url), 'utf8');
const FRONTEND = parse(readFileSync(new URL('../../manifests/testdata/gated-frontend.yaml', import.meta.url), 'utf8')) as AppManifest['spec'];

const client = testClient();
let operator: OperatorProcess;
const operatorNamespace = uniqueName('op-tenants');
const org = uniqueName('gated-org');
const orgNs = `org-${org}`;
const tenants = [uniqueName('tenant-a'), uniqueName('tenant-b')];
const tenantNs = (t: string) => `tenant-${t}`;
const adminEmail = (t: string) => `admin@${t}.example`;

type WithConditions = { status?: { conditions?: { type: string; status: string; reason: string; message: string }[]; observedGeneration?: number }; metadata: { generation?: number } };
const cond = (o: WithConditions | undefined, type: string) => o?.status?.conditions?.find((c) => c.type === type);
const fresh = (o: WithConditions | undefined) => !!o && o.status?.observedGeneration === o.metadata.generation;

/** testenv's untilObject with this file's client and a 30 s default. */
const until = <T extends AnyObject>(rt: Parameters<typeof client.get>[0], name: string, ns: string | undefined, test: (o: T) => boolean, what: string, timeoutMs = 30_000): Promise<T> =>
  untilObject<T>(client, rt, name, ns, test, what, timeoutMs);

let caPEM: string;

/** A ServiceAccount token (TokenRequest), as an identity provider's gateway would hold. */
async function tokenFor(ns: string, sa: string): Promise<string> {
  const res = await client.request<{ status: { token: string } }>('POST', `/api/v1/namespaces/${ns}/serviceaccounts/${sa}/token`, {
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
  });
  return res.status.token;
}

/** A request to the operator's TLS listener, trusting the CA it registered its webhook with. */
const call = (method: 'GET' | 'POST', path: string, token?: string, body?: unknown) => operatorRequest(operator.apiPort, caPEM, method, path, token, body);

/** `kubectl miniapps ...` as the admin, through the plugin's own code. */
async function plugin(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(argv, {
    io: { out: (t) => out.push(t), err: (t) => err.push(t), readLine: async () => undefined },
    connect: () => ({ api: new KubePluginApi(client), defaultNamespace: 'default' }),
  });
  return { code, out: out.join(''), err: err.join('') };
}

const setManifest = (text: string) =>
  client.apply(Resources.ConfigMap, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'gated-manifest', namespace: orgNs }, data: { 'manifest.yaml': text } });
/** Any annotation change makes the Solution look at its ConfigMap now (it looks every 30 s anyway). */
const nudge = () => client.patch(Kinds.Solution, 'gated', orgNs, { metadata: { annotations: { 'example.com/reload': String(Date.now()) } } });

beforeAll(async () => {
  operator = await OperatorProcess.start({ kubeconfig: testKubeconfig(), namespace: operatorNamespace });
  const reg = await eventually(
    async () => (await client.get<AnyObject & { webhooks?: { clientConfig: { caBundle: string } }[] }>(Resources.ValidatingWebhookConfiguration, webhookRegistrationName(operatorNamespace))) ?? false,
    { describe: 'the webhook registration' },
  );
  caPEM = Buffer.from(reg.webhooks![0]!.clientConfig.caBundle, 'base64').toString();
  await client.create<Organization>(Kinds.Organization, { metadata: { name: org }, spec: { displayName: 'Gated', capabilities: { superApps: true, miniApps: true } } });
  await until<Organization>(Kinds.Organization, org, undefined, (o) => cond(o as never, 'Ready')?.status === 'True', `Organization ${org} Ready`);
  await setManifest(SEED);
  await client.create<Solution>(Kinds.Solution, {
    metadata: { name: 'gated', namespace: orgNs },
    spec: { solutionId: 'gated-solution', version: '1.0.0', manifestFrom: { configMapKeyRef: { name: 'gated-manifest', key: 'manifest.yaml' } } },
  });
  await client.create<AppManifest>(Kinds.AppManifest, { metadata: { name: 'gated-frontend', namespace: orgNs }, spec: FRONTEND });
  // The solution's back-office listing is the organization's: only the organization that claims a listing with an
  // AppManifest grants its roles (issue 16 item 3). Its own manifest comes later (from a ConfigMap, below).
  await client.create<AppManifest>(Kinds.AppManifest, { metadata: { name: 'gated-backoffice-listing', namespace: orgNs }, spec: { appId: 'gated-backoffice-listing', listingId: 'gated-backoffice' } });
  for (const t of tenants) await client.create<Tenant>(Kinds.Tenant, { metadata: { name: t }, spec: { displayName: t, administrators: [adminEmail(t)] } });
}, 120_000);

afterAll(async () => {
  for (const t of tenants) await client.delete(Kinds.Tenant, t);
  // The organization goes too, while the operator runs its finalizers: its AppManifests name
  // the seed's app and listing ids, which a later file's organization claims for itself
  // (the oldest AppManifest of a live organization would hold them first).
  await deleteOrganizationsAndWait(client, [org]);
  const exit = await operator?.stop();
  expect(exit?.code).toBe(0);
}, 120_000);

describe('solutions, tenants, subscriptions, groups and users', () => {
  it('accepts the seed manifest from its ConfigMap and keeps it in status', async () => {
    const sol = await until<Solution>(Kinds.Solution, 'gated', orgNs, (s) => fresh(s) && cond(s, 'Ready')?.status === 'True', 'Solution gated Ready');
    expect(sol.status?.userGroups).toEqual(['solutions owner', 'field executive']);
    expect(sol.status?.adminUserGroups).toEqual(['solutions admin']);
    expect(sol.status?.apps).toEqual(['gated-backoffice', 'gated-frontend']);
    expect(sol.status?.manifestVersion).toBe('1.0.0');
  });

  it('gives each tenant its namespace, the administrators their RBAC there and a User', async () => {
    for (const t of tenants) {
      const tenant = await until<Tenant>(Kinds.Tenant, t, undefined, (o) => fresh(o) && cond(o, 'Ready')?.status === 'True', `Tenant ${t} Ready`);
      expect(tenant.status?.namespace).toBe(tenantNs(t));
      const binding = await client.get<AnyObject & { subjects: { name: string }[] }>(Resources.RoleBinding, 'miniapps:tenant-administrators', tenantNs(t));
      expect(binding?.subjects.map((s) => s.name)).toEqual([adminEmail(t)]);
      const users = await client.list<User>(Kinds.User, { namespace: tenantNs(t) });
      expect(users.items.map((u) => u.spec.email)).toEqual([adminEmail(t)]);
    }
    // What that RBAC lets the first tenant's administrator do, as the API server decides it.
    const [a, b] = tenants.map(tenantNs) as [string, string];
    const can = (verb: string, resource: string, namespace: string) => {
      const [res, subresource] = resource.split('/');
      return accessAllowed(client, adminEmail(tenants[0]!), { verb, resource: res!, namespace, ...(subresource ? { subresource } : {}) } as Parameters<typeof accessAllowed>[2]);
    };
    expect({
      createUsers: await can('create', 'users', a),
      createSubscriptions: await can('create', 'subscriptions', a),
      readGroups: await can('list', 'usergroups', a),
      writeGroups: await can('create', 'usergroups', a),
      tokenRoles: await can('get', 'users/tokenroles', a),
      usersOfAnotherTenant: await can('create', 'users', b),
      solutions: await can('get', 'solutions', orgNs),
    }).toEqual({ createUsers: true, createSubscriptions: true, readGroups: true, writeGroups: false, tokenRoles: true, usersOfAnotherTenant: false, solutions: false });
  });

  it('onboards both tenants: groups from the union of the solution and the app manifests, each role with its source', async () => {
    const onboarded = await plugin('onboard', `${org}/gated`, '--tenants', tenants.join(','));
    expect(onboarded).toMatchObject({ code: EXIT.ok, err: '' });
    expect(onboarded.out).toContain(`subscription.miniapps.dev/gated created in ${tenantNs(tenants[1]!)}`);
    for (const t of tenants) {
      const sub = await until<Subscription>(Kinds.Subscription, 'gated', tenantNs(t), (s) => fresh(s) && cond(s, 'Ready')?.status === 'True', `Subscription in ${t} Ready`);
      expect(sub.status?.userGroups).toEqual(['field-executive', 'solutions-admin', 'solutions-owner']);
      const field = await until<UserGroup>(Kinds.UserGroup, 'field-executive', tenantNs(t), (g) => (g.status?.roleSources?.length ?? 0) === 3, `field-executive in ${t} with its sources`);
      expect(field.spec.displayName).toBe('field executive');
      expect(field.status?.effectiveRoles).toEqual(['role:gated-frontend:field-entry', 'role:gated-frontend:offline-sync', 'role:gated-frontend:viewer']);
      expect(field.status?.roleSources?.find((r) => r.role === 'role:gated-frontend:offline-sync')?.sources).toEqual([`AppManifest ${org}/gated-frontend`]);
      expect(field.metadata.ownerReferences?.map((r) => r.kind)).toEqual(['Subscription']);
    }
  });

  it('creates users with groups and designation; the tenant administrator is in the admin group', async () => {
    const ns = tenantNs(tenants[0]!);
    await client.create<User>(Kinds.User, {
      metadata: { name: 'thandi', namespace: ns },
      spec: {
        userCode: 'E100',
        firstName: 'Thandi',
        lastName: 'Mokoena',
        email: 'thandi@a.example',
        groups: ['field-executive', 'solutions-owner'],
        designation: 'Field executive',
        workLocations: ['Durban'],
        userType: 'Internal',
        employmentType: 'Permanent',
      },
    });
    const u = await until<User>(Kinds.User, 'thandi', ns, (x) => fresh(x) && cond(x, 'Ready')?.status === 'True', 'User thandi Ready');
    expect(u.spec.designation).toBe('Field executive');
    expect(u.status?.effectiveRoles).toEqual([
      'role:gated-backoffice:approver',
      'role:gated-frontend:field-entry',
      'role:gated-frontend:offline-sync',
      'role:gated-frontend:owner',
      'role:gated-frontend:viewer',
    ]);
    expect(u.status?.landingPage).toEqual({ url: '/owner/home', rank: 1, group: 'solutions-owner' });
    // No embedded identity provider here: the user signs in with the external one (docs/identity.md), and has no account Secret.
    expect(u.status?.account).toEqual({ state: 'External' });
    expect(cond(u, 'AccountReady')).toMatchObject({ status: 'True', reason: 'ExternalProvider' });
    expect(u.metadata.finalizers ?? []).toEqual([]);
    const admins = (await client.list<User>(Kinds.User, { namespace: ns })).items.filter((x) => x.spec.email === adminEmail(tenants[0]!));
    const admin = await until<User>(Kinds.User, admins[0]!.metadata.name!, ns, (x) => !!x.status?.groups?.includes('solutions-admin'), 'the administrator in solutions-admin');
    expect(admin.status?.effectiveRoles).toEqual(['role:gated-backoffice:admin', 'role:gated-frontend:admin']);
    await until<UserGroup>(Kinds.UserGroup, 'field-executive', ns, (g) => g.status?.members === 1, 'field-executive has 1 member');
  });

  it('answers the token roles over HTTP for a caller the authorizer allows, as JSON and as a JWT that verifies with the JWKS; and in the plugin', async () => {
    const ns = tenantNs(tenants[0]!);
    for (const sa of ['gateway', 'nobody']) await client.create(Resources.ServiceAccount, { metadata: { name: sa, namespace: ns } });
    // The gateway holds what a tenant administrator holds in the namespace (users/tokenroles among it).
    await client.create(Resources.RoleBinding, {
      metadata: { name: 'gateway', namespace: ns },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'miniapps:tenant-administrator' },
      subjects: [{ kind: 'ServiceAccount', name: 'gateway', namespace: ns }],
    });
    const [gateway, nobody] = [await tokenFor(ns, 'gateway'), await tokenFor(ns, 'nobody')];
    const question = { namespace: ns, user: 'thandi', app: { organization: org, name: 'gated-frontend' }, jwt: true };
    const res = await eventually(
      async () => {
        const r = await call('POST', '/tokenroles/v1/roles', gateway, question);
        if (r.status !== 200) throw new Error(JSON.stringify(r)); // the RoleBinding may take a moment to reach the authorizer
        return r;
      },
      { describe: 'the token roles for the gateway' },
    );
    // thandi has owner, viewer, field-entry, offline-sync and approver; the frontend requires owner, viewer, field-entry and admin.
    expect(res.body.roles).toEqual(['role:gated-frontend:field-entry', 'role:gated-frontend:owner', 'role:gated-frontend:viewer']);
    const jwks = await call('GET', '/tokenroles/v1/jwks.json');
    const { payload } = await jwtVerify(String(res.body.token), createLocalJWKSet(jwks.body as never), { issuer: 'miniapps-operator', audience: `${org}/${FRONTEND.appId}` });
    expect(payload.roles).toEqual(res.body.roles);
    expect(payload.sub).toBe(`${ns}/thandi`);
    expect(JSON.stringify(jwks.body)).not.toContain('"d"');
    expect((await call('POST', '/tokenroles/v1/roles', nobody, question)).status).toBe(404);
    expect((await call('POST', '/tokenroles/v1/roles', 'not-a-token', question)).status).toBe(401);
    expect((await call('POST', '/tokenroles/v1/roles', gateway, { ...question, namespace: tenantNs(tenants[1]!) })).status).toBe(404);
    const viaPlugin = await plugin('token-roles', 'thandi', '--app', `${org}/gated-frontend`, '-n', ns, '-o', 'json');
    expect(viaPlugin.code).toBe(EXIT.ok);
    expect(JSON.parse(viaPlugin.out).roles).toEqual(res.body.roles);
    // The signing key lives in the operator's namespace, never in a status or event.
    expect(await client.get(Resources.Secret, 'miniapps-operator-token-signing-key', operatorNamespace)).toBeDefined();
  });

  it('keeps a role someone added by hand, and brings a manifest update to both tenants', async () => {
    const ns0 = tenantNs(tenants[0]!);
    // A provisioning administrator adds a role with their own field manager.
    await client.apply(
      Kinds.UserGroup,
      { apiVersion: 'miniapps.dev/v1alpha1', kind: 'UserGroup', metadata: { name: 'solutions-owner', namespace: ns0 }, spec: { roles: ['role:local-app:extra'] } },
      { fieldManager: 'someone', force: false },
    );
    await setManifest(SEED.replace('      - role:gated-backoffice:approver\n', '      - role:gated-backoffice:approver\n      - role:gated-backoffice:auditor\n'));
    await nudge();
    for (const t of tenants) {
      const g = await until<UserGroup>(Kinds.UserGroup, 'solutions-owner', tenantNs(t), (x) => !!x.spec.roles?.includes('role:gated-backoffice:auditor'), `the new role in ${t}`);
      if (t === tenants[0]) {
        expect(g.spec.roles).toContain('role:local-app:extra');
        await until<UserGroup>(
          Kinds.UserGroup,
          'solutions-owner',
          ns0,
          (x) => x.status?.roleSources?.find((r) => r.role === 'role:local-app:extra')?.sources[0] === 'spec',
          'the hand-added role reported as spec',
        );
      }
    }
    await until<User>(Kinds.User, 'thandi', ns0, (u) => !!u.status?.effectiveRoles?.includes('role:gated-backoffice:auditor'), "thandi's roles updated");
  });

  it('keeps the last good manifest when a broken one is uploaded: the groups stay, the Solution names line and field', async () => {
    const before = await client.get<UserGroup>(Kinds.UserGroup, 'field-executive', tenantNs(tenants[1]!));
    await setManifest(SEED.replace('- role:gated-frontend:field-entry', '- gated-frontend:field-entry'));
    await nudge();
    const sol = await until<Solution>(Kinds.Solution, 'gated', orgNs, (s) => cond(s, 'ManifestValid')?.status === 'False', 'ManifestValid False');
    expect(cond(sol, 'ManifestValid')?.reason).toBe('ManifestSchemaInvalid');
    expect(cond(sol, 'ManifestValid')?.message).toContain('configmap/gated-manifest/manifest.yaml:21:9 userGroupsRequired[1].roles[1]: must match role:<listingId>:<roleName>');
    expect(cond(sol, 'Stalled')?.status).toBe('True');
    const events = await client.list<AnyObject & { reason?: string; regarding?: { name?: string } }>(Resources.Event, { namespace: orgNs });
    expect(events.items.some((e) => e.reason === 'ManifestSchemaInvalid' && e.regarding?.name === 'gated')).toBe(true);
    const after = await client.get<UserGroup>(Kinds.UserGroup, 'field-executive', tenantNs(tenants[1]!));
    expect(after?.spec).toEqual(before?.spec);
    for (const text of ['solutionId: [\n', SEED.replace('- name: solutions admin', '- name: Field Executive')]) {
      await setManifest(text);
      await nudge();
      await until<Solution>(
        Kinds.Solution,
        'gated',
        orgNs,
        (s) => cond(s, 'ManifestValid')?.reason === (text.startsWith('solutionId: [') ? 'ManifestNotYAML' : 'ManifestInconsistent'),
        'the next bad manifest reported',
      );
    }
    expect((await client.get<UserGroup>(Kinds.UserGroup, 'field-executive', tenantNs(tenants[1]!)))?.spec).toEqual(before?.spec);
    await setManifest(SEED);
    await nudge();
    await until<Solution>(Kinds.Solution, 'gated', orgNs, (s) => cond(s, 'Ready')?.status === 'True', 'Solution Ready again');
  });

  it('reads an app manifest from a ConfigMap key: its groups reach the tenants, and a broken edit keeps them while ManifestValid names line and field', async () => {
    const file = (role: string) => `appId: gated-backoffice-app\nlistingId: gated-backoffice\nuserGroups:\n  - name: back office clerk\n    roles:\n      - ${role}\n`;
    const setAppFile = (text: string) =>
      client.apply(Resources.ConfigMap, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'backoffice-manifest', namespace: orgNs }, data: { 'app.yaml': text } });
    const manifestFrom = { configMapKeyRef: { name: 'backoffice-manifest', key: 'app.yaml' } };
    // Inline fields and manifestFrom at once: refused at admission.
    await expect(
      client.create(Kinds.AppManifest, {
        metadata: { name: uniqueName('both'), namespace: orgNs },
        spec: { appId: 'x', listingId: 'gated-backoffice', rolesRequired: ['platform:role:gated-backoffice:clerk'], manifestFrom },
      }),
    ).rejects.toThrow(/not both/);
    await setAppFile(file('role:gated-backoffice:clerk'));
    await client.create<AppManifest>(Kinds.AppManifest, {
      metadata: { name: 'gated-backoffice', namespace: orgNs },
      spec: { appId: 'gated-backoffice-app', listingId: 'gated-backoffice', manifestFrom },
    });
    const app = await until<AppManifest>(Kinds.AppManifest, 'gated-backoffice', orgNs, (a) => fresh(a) && cond(a, 'Ready')?.status === 'True', 'AppManifest gated-backoffice Ready');
    expect(app.status?.manifest?.userGroups?.map((g) => g.name)).toEqual(['back office clerk']);
    for (const t of tenants) {
      const g = await until<UserGroup>(Kinds.UserGroup, 'back-office-clerk', tenantNs(t), (x) => !!x.spec.roles?.includes('role:gated-backoffice:clerk'), `back-office-clerk in ${t}`);
      await until<UserGroup>(
        Kinds.UserGroup,
        g.metadata.name!,
        tenantNs(t),
        (x) => x.status?.roleSources?.[0]?.sources[0] === `AppManifest ${org}/gated-backoffice`,
        `the clerk role's source in ${t}`,
      );
    }
    const before = await client.get<UserGroup>(Kinds.UserGroup, 'back-office-clerk', tenantNs(tenants[1]!));
    await setAppFile(file('gated-backoffice:clerk'));
    await client.patch(Kinds.AppManifest, 'gated-backoffice', orgNs, { metadata: { annotations: { 'example.com/reload': String(Date.now()) } } });
    const broken = await until<AppManifest>(Kinds.AppManifest, 'gated-backoffice', orgNs, (a) => cond(a, 'ManifestValid')?.status === 'False', 'AppManifest ManifestValid False');
    expect(cond(broken, 'ManifestValid')?.reason).toBe('ManifestSchemaInvalid');
    expect(cond(broken, 'ManifestValid')?.message).toContain('configmap/backoffice-manifest/app.yaml:6:9 userGroups[0].roles[0]: must match role:<listingId>:<roleName>');
    expect(cond(broken, 'Stalled')?.status).toBe('True');
    expect(broken.status?.manifestDigest).toBe(app.status?.manifestDigest);
    const events = await client.list<AnyObject & { reason?: string; regarding?: { name?: string; kind?: string } }>(Resources.Event, { namespace: orgNs });
    expect(events.items.some((e) => e.reason === 'ManifestSchemaInvalid' && e.regarding?.kind === 'AppManifest' && e.regarding?.name === 'gated-backoffice')).toBe(true);
    for (const t of tenants) expect((await client.get<UserGroup>(Kinds.UserGroup, 'back-office-clerk', tenantNs(t)))?.spec.roles).toEqual(['role:gated-backoffice:clerk']);
    expect((await client.get<UserGroup>(Kinds.UserGroup, 'back-office-clerk', tenantNs(tenants[1]!)))?.spec).toEqual(before?.spec);
  });

  it('refuses at admission an inline manifest with a role in the wrong format or a group named twice', async () => {
    const inline = (manifest: unknown) => client.create(Kinds.Solution, { metadata: { name: uniqueName('bad'), namespace: orgNs }, spec: { solutionId: 'x', version: '1', manifest } });
    await expect(inline({ userGroupsRequired: [{ name: 'g', roles: ['not-a-role'] }] })).rejects.toThrow(/roles\[0\]/);
    await expect(inline({ userGroupsRequired: [{ name: 'g' }, { name: 'g' }] })).rejects.toThrow(/Duplicate value/);
  });

  it('reports a Subscription to a missing Solution and to one that is not Ready, and a User in a missing group', async () => {
    const ns = tenantNs(tenants[1]!);
    await client.create(Kinds.Subscription, { metadata: { name: 'missing', namespace: ns }, spec: { solution: { organization: org, name: 'nope' } } });
    const sub = await until<Subscription>(Kinds.Subscription, 'missing', ns, (s) => cond(s, 'SolutionResolved')?.status === 'False', 'SolutionResolved False');
    expect(cond(sub, 'SolutionResolved')?.reason).toBe('SolutionNotFound');
    // A Solution that never had a good manifest (its ConfigMap is missing): not Ready, and the subscription waits.
    await client.create(Kinds.Solution, {
      metadata: { name: 'unready', namespace: orgNs },
      spec: { solutionId: 'unready', version: '1', manifestFrom: { configMapKeyRef: { name: 'no-such-configmap', key: 'manifest.yaml' } } },
    });
    const unready = await until<Solution>(Kinds.Solution, 'unready', orgNs, (x) => cond(x, 'ManifestValid')?.status === 'False', 'Solution unready reported');
    expect(cond(unready, 'ManifestValid')?.reason).toBe('ManifestNotFound');
    await client.create(Kinds.Subscription, { metadata: { name: 'unready', namespace: ns }, spec: { solution: { organization: org, name: 'unready' } } });
    const waiting = await until<Subscription>(Kinds.Subscription, 'unready', ns, (x) => cond(x, 'SolutionResolved')?.status === 'False', 'subscription to a not-Ready solution waits');
    expect(cond(waiting, 'SolutionResolved')?.reason).toBe('SolutionNotReady');
    expect(cond(waiting, 'SolutionResolved')?.message).toContain('ConfigMap no-such-configmap does not exist');
    await client.delete(Kinds.Subscription, 'unready', ns);
    await client.create(Kinds.User, { metadata: { name: 'lost', namespace: ns }, spec: { userCode: 'E2', firstName: 'Lost', email: 'lost@b.example', groups: ['field-executive', 'no-such-group'] } });
    const u = await until<User>(Kinds.User, 'lost', ns, (x) => cond(x, 'GroupsResolved')?.status === 'False', 'GroupsResolved False');
    expect(cond(u, 'GroupsResolved')?.message).toContain('no-such-group');
    expect(u.status?.effectiveRoles).toContain('role:gated-frontend:field-entry');
    await client.delete(Kinds.Subscription, 'missing', ns);
  });

  it("reports a Tenant whose namespace another organization's claims, and takes nothing", async () => {
    const t = uniqueName('claimer');
    await client.create(Kinds.Tenant, { metadata: { name: t }, spec: { displayName: t, namespace: orgNs } });
    const tenant = await until<Tenant>(Kinds.Tenant, t, undefined, (o) => cond(o, 'NamespaceReady')?.status === 'False', 'NamespaceReady False');
    expect(cond(tenant, 'NamespaceReady')?.reason).toBe('NamespaceConflict');
    expect(cond(tenant, 'Stalled')?.status).toBe('True');
    const ns = await client.get<AnyObject>(Resources.Namespace, orgNs);
    expect(ns?.metadata.labels?.['miniapps.dev/tenant']).toBeUndefined();
    await client.delete(Kinds.Tenant, t);
  });

  it('deletes a group dropped from the manifests once nobody is in it, and keeps it while someone is', async () => {
    const noField = SEED.replace(/ {2}- name: field executive[\s\S]*?(?=adminUserGroups)/, '');
    // The app names "field executive" too: drop it there as well (a merge patch replaces the whole list).
    await client.patch(Kinds.AppManifest, 'gated-frontend', orgNs, { spec: { userGroups: [] } });
    await setManifest(noField);
    await nudge();
    const [a, b] = tenants.map(tenantNs) as [string, string];
    // Tenant b's field-executive has the user "lost"; tenant a's has thandi.
    await until<Subscription>(Kinds.Subscription, 'gated', a, (s) => !!s.status?.orphanedUserGroups?.includes('field-executive'), 'field-executive kept as orphan in a');
    await client.patch(Kinds.User, 'thandi', a, { spec: { groups: ['solutions-owner'] } });
    await eventually(async () => !(await client.get(Kinds.UserGroup, 'field-executive', a)), { timeoutMs: 30_000, describe: 'field-executive deleted in a once thandi left' });
    expect(await client.get(Kinds.UserGroup, 'field-executive', b)).toBeDefined();
    const sub = await until<Subscription>(Kinds.Subscription, 'gated', a, (s) => !s.status?.orphanedUserGroups, 'no orphan left in a');
    expect(cond(sub, 'OrphansKept')).toBeUndefined();
  });
});
