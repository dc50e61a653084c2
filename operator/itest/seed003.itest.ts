// Seed 003 ("the solution side, as written") on the real control plane with the operator
// running: the seed's own files (operator/manifests/testdata/seed003/, typed from its
// examples with the punctuation restored as ../shared/seeds/README.md says) uploaded with
// `kubectl apply` by the solution's owner and the app's developer, the solution onboarded
// to tenants by its owner (with and without forceCreateUserGroup), a tenant administrator
// subscribing, the seed's createUsers body applied as a User, designations mapped to
// groups, and the frontend app's token holding the intersection of the user's roles and
// its rolesRequired. Every authority rule is shown refused and allowed by the API server:
// people act by impersonation, as the API server authorizes them.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppManifest } from '../api/appmanifest/schema.ts';
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
import { eventually, kubectl, testKubeconfig, uniqueName } from '../testenv/index.ts';
import { OperatorProcess, operatorRequest } from '../testenv/operator-process.ts';

const seedFile = (name: string) => readFileSync(new URL(`../manifests/testdata/seed003/${name}`, import.meta.url), 'utf8');
const SOLUTION_FILE = seedFile('solution-manifest.yaml');
const FRONTEND_FILE = seedFile('frontend-app.yaml');
/** The seed's createUsers body, every field (its callback too, which a User does not take). */
const CREATE_USERS = JSON.parse(seedFile('create-users.json')) as Record<string, unknown>;
const { callback: _callback, ...USER_SPEC } = CREATE_USERS;

const admin = testClient();
const opNamespace = uniqueName('op-seed003');
let operator: OperatorProcess;
let caPEM = '';

const org = uniqueName('seed003');
const orgNs = `org-${org}`;
const OWNER = `owner@${org}.example`; // a super app administrator: the solution's owner
const DEVELOPER = `dev@${org}.example`; // a mini app developer: the apps' developer
const REVIEWER = `reviewer@${org}.example`;
const [tenantA, tenantB, tenantC] = [uniqueName('tenant-a'), uniqueName('tenant-b'), uniqueName('tenant-c')];
const nsOf = (t: string) => `tenant-${t}`;
const adminOf = (t: string) => `admin@${t}.example`;
const STACK = 'sb1';
const as = (user: string) => ({ as: { user } });

type WithConditions = { status?: { conditions?: { type: string; status: string; reason: string; message: string }[]; observedGeneration?: number }; metadata: { generation?: number } };
const cond = (o: WithConditions | undefined, type: string) => o?.status?.conditions?.find((c) => c.type === type);

/**
 * `kubectl apply --server-side -f -` of `doc` (YAML or JSON) as `user`: the exit code and what kubectl said. Server-side:
 * the owners may create and patch manifest ConfigMaps, never read ConfigMaps (client-side apply reads first).
 */
async function applyAs(user: string, doc: string): Promise<{ code: number; out: string }> {
  const r = await kubectl(['apply', '--server-side', '-f', '-'], { as: user, stdin: doc, allowFailure: true });
  return { code: r.exitCode, out: `${r.stdout}${r.stderr}` };
}

/** A manifest artifact: the seed's file in a ConfigMap labelled with what it holds. */
const artifact = (name: string, kind: 'solution' | 'app' | undefined, file: string) =>
  JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: orgNs, ...(kind ? { labels: { 'miniapps.dev/manifest': kind } } : {}) }, data: { 'manifest.yaml': file } });

/** A JSON merge patch as `user`. */
const patchAs = (user: string, rt: typeof Kinds.Solution, name: string, ns: string, body: unknown) =>
  admin.request('PATCH', `/apis/miniapps.dev/v1alpha1/namespaces/${ns}/${rt.plural}/${name}`, { body, contentType: 'application/merge-patch+json', as: { user } });

const offered = async (ns: string) => ((await admin.get<AnyObject>(Resources.Namespace, ns))?.metadata.annotations?.['miniapps.dev/offered-solutions'] ?? '').split(' ').filter(Boolean);
const stageOf = (t: Tenant | undefined, solution: string) => t?.status?.solutions?.find((s) => s.solution === solution);
const SOLUTION = `${org}/gated`;

async function member(name: string, email: string, role: string): Promise<void> {
  await admin.create(Kinds.Membership, { metadata: { name, namespace: orgNs }, spec: { email, role, acceptance: 'Automatic' } });
}

/** `kubectl miniapps ...` through the plugin's own code, as the cluster administrator. */
async function plugin(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(argv, {
    io: { out: (t) => out.push(t), err: (t) => err.push(t), readLine: async () => undefined },
    connect: () => ({ api: new KubePluginApi(admin), defaultNamespace: 'default' }),
  });
  return { code, out: out.join(''), err: err.join('') };
}

beforeAll(async () => {
  operator = await OperatorProcess.start({ kubeconfig: testKubeconfig(), namespace: opNamespace });
  const reg = await eventually(
    async () => (await admin.get<AnyObject & { webhooks?: { clientConfig: { caBundle: string } }[] }>(Resources.ValidatingWebhookConfiguration, webhookRegistrationName(opNamespace))) ?? false,
    { describe: 'the webhook registration' },
  );
  caPEM = Buffer.from(reg.webhooks![0]!.clientConfig.caBundle, 'base64').toString();
  await admin.create<Organization>(Kinds.Organization, { metadata: { name: org }, spec: { displayName: 'Gated', capabilities: { superApps: true, miniApps: true } } });
  await untilObject<Organization>(admin, Kinds.Organization, org, undefined, (o) => cond(o, 'Ready')?.status === 'True', `Organization ${org} Ready`);
  await member('owner', OWNER, 'SuperAppAdministrator');
  await member('dev', DEVELOPER, 'MiniAppDeveloper');
  await member('reviewer', REVIEWER, 'MiniAppReviewer');
  for (const [who, verb, resource] of [
    [OWNER, 'update', 'solutions'],
    [DEVELOPER, 'update', 'appmanifests'],
    [REVIEWER, 'get', 'solutions'],
  ] as const) {
    await eventually(async () => accessAllowed(admin, who, { verb, resource, namespace: orgNs }), { timeoutMs: 60_000, describe: `${who} may ${verb} ${resource}` });
  }
  await admin.create<Tenant>(Kinds.Tenant, {
    metadata: { name: tenantA },
    spec: {
      displayName: 'Tenant A',
      administrators: [adminOf(tenantA)],
      // Designations to groups, one to many and one to one (the groups by the names the seed writes).
      designations: [
        { designation: 'new tenant admin', groups: ['solutions admin', 'business owner'] },
        { designation: 'field agent', groups: ['field executive'] },
      ],
    },
  });
  await admin.create<Tenant>(Kinds.Tenant, { metadata: { name: tenantB }, spec: { displayName: 'Tenant B', administrators: [adminOf(tenantB)], stack: STACK } });
  await admin.create<Tenant>(Kinds.Tenant, { metadata: { name: tenantC }, spec: { displayName: 'Tenant C', administrators: [adminOf(tenantC)] } });
  for (const t of [tenantA, tenantB, tenantC]) {
    await untilObject<Tenant>(admin, Kinds.Tenant, t, undefined, (o) => cond(o, 'Ready')?.status === 'True', `Tenant ${t} Ready`);
    await eventually(async () => accessAllowed(admin, adminOf(t), { verb: 'create', resource: 'subscriptions', namespace: nsOf(t) }), {
      timeoutMs: 60_000,
      describe: `${adminOf(t)} may create Subscriptions`,
    });
  }
}, 300_000);

afterAll(async () => {
  for (const t of [tenantA, tenantB, tenantC]) await admin.delete(Kinds.Tenant, t);
  await deleteOrganizationsAndWait(admin, [org]);
  const exit = await operator?.stop();
  expect(exit?.code).toBe(0);
}, 180_000);

describe('seed 003: the manifests, uploaded by their owners as the seed writes them', () => {
  it("the solution's owner uploads the seed's solution manifest with kubectl apply; the app's developer may not, nor may anyone write another ConfigMap", async () => {
    // Refused: the developer writing a solution manifest, the owner writing a ConfigMap that is no manifest, a reviewer any.
    const dev = await applyAs(DEVELOPER, artifact('gated-manifest', 'solution', SOLUTION_FILE));
    expect(dev.code).not.toBe(0);
    expect(dev.out).toMatch(/holds a solution manifest: only who may update Solutions/);
    const unlabelled = await applyAs(OWNER, artifact('not-a-manifest', undefined, 'x: 1\n'));
    expect(unlabelled.code).not.toBe(0);
    expect(unlabelled.out).toMatch(/you may write only manifest ConfigMaps/);
    const reviewer = await applyAs(REVIEWER, artifact('gated-manifest', 'solution', SOLUTION_FILE));
    expect(reviewer.code).not.toBe(0);
    expect(reviewer.out).toMatch(/forbidden/i);
    // Allowed: the owner, created and then updated (kubectl apply reads it, then patches it).
    const owner = await applyAs(OWNER, artifact('gated-manifest', 'solution', SOLUTION_FILE));
    expect(owner, owner.out).toMatchObject({ code: 0 });
    const again = await applyAs(OWNER, artifact('gated-manifest', 'solution', `${SOLUTION_FILE}# uploaded again\n`));
    expect(again, again.out).toMatchObject({ code: 0 });
    // And the owner may not relabel it into an app manifest (app manifests are the developers').
    const relabel = await applyAs(OWNER, artifact('gated-manifest', 'app', SOLUTION_FILE));
    expect(relabel.code).not.toBe(0);
  });

  it("the app's developer uploads the seed's frontend app file; the solution's owner may not", async () => {
    const owner = await applyAs(OWNER, artifact('example-client', 'app', FRONTEND_FILE));
    expect(owner.code).not.toBe(0);
    expect(owner.out).toMatch(/holds an app manifest: only who may update AppManifests/);
    const dev = await applyAs(DEVELOPER, artifact('example-client', 'app', FRONTEND_FILE));
    expect(dev, dev.out).toMatchObject({ code: 0 });
  });

  it('the Solution reads the seed manifest: its groups, and adminUserGroups as a list of names', async () => {
    // The owner may write manifest ConfigMaps, never read the namespace's ConfigMaps: a reference is admitted only
    // with the artifacts-only annotation (then the operator reads only a ConfigMap labelled as a solution manifest).
    expect(await accessAllowed(admin, OWNER, { group: '', verb: 'get', resource: 'configmaps', namespace: orgNs })).toBe(false);
    const solution = (annotations: Record<string, string>) =>
      JSON.stringify({
        apiVersion: 'miniapps.dev/v1alpha1',
        kind: 'Solution',
        metadata: { name: 'gated', namespace: orgNs, annotations },
        spec: { solutionId: 'gated-solution', version: '1.0.0', manifestFrom: { configMapKeyRef: { name: 'gated-manifest', key: 'manifest.yaml' } } },
      });
    const refused = await applyAs(OWNER, solution({}));
    expect(refused.code).not.toBe(0);
    expect(refused.out).toMatch(/which you may not read/);
    const made = await applyAs(OWNER, solution({ 'miniapps.dev/manifest-artifact-only': 'true' }));
    expect(made, made.out).toMatchObject({ code: 0 });
    const sol = await untilObject<Solution>(admin, Kinds.Solution, 'gated', orgNs, (s) => cond(s, 'ManifestValid')?.status === 'True' && !!s.status?.manifestDigest, 'the seed manifest valid');
    expect([...(sol.status?.userGroups ?? [])].sort()).toEqual(['field-executive', 'solutions-owner']);
    expect(sol.status?.adminUserGroups).toEqual(['solutions-admin']);
    expect(sol.status?.manifest?.adminUserGroups).toEqual([{ name: 'solutions-admin' }]);
    expect([...(sol.status?.apps ?? [])].sort()).toEqual(['dispatch-orders-app', 'dispatch-routes-app', 'dispatch-users-app']);
  });

  it("the frontend app's file is read as written: appId platform:app:example-client, rolesRequired/roles, no listingId", async () => {
    // The backend apps whose roles it requires are the organization's (their listings claimed by their AppManifests).
    for (const [name, id] of [
      ['example', 'platform:app:example'],
      ['dispatch', 'platform:app:dispatch'],
    ] as const) {
      await admin.create(Kinds.AppManifest, { metadata: { name, namespace: orgNs }, spec: { appId: id, listingId: id } }, as(DEVELOPER));
    }
    // An app of the solution adds a role to the admin group the solution names but does not define.
    await admin.create(
      Kinds.AppManifest,
      {
        metadata: { name: 'dispatch-users', namespace: orgNs },
        spec: { appId: 'dispatch-users-app', listingId: 'dispatch-users-app', userGroups: [{ name: 'solutions admin', roles: ['role:dispatch-users-app:dispatch-manage-users'] }] },
      },
      as(DEVELOPER),
    );
    const made = await applyAs(
      DEVELOPER,
      JSON.stringify({
        apiVersion: 'miniapps.dev/v1alpha1',
        kind: 'AppManifest',
        metadata: { name: 'example-client', namespace: orgNs, annotations: { 'miniapps.dev/manifest-artifact-only': 'true' } },
        spec: { appId: 'platform:app:example-client', manifestFrom: { configMapKeyRef: { name: 'example-client', key: 'manifest.yaml' } } },
      }),
    );
    expect(made, made.out).toMatchObject({ code: 0 });
    const app = await untilObject<AppManifest>(admin, Kinds.AppManifest, 'example-client', orgNs, (a) => cond(a, 'Ready')?.status === 'True', 'the frontend app Ready', 90_000);
    expect(app.spec.listingId).toBeUndefined();
    expect(app.status?.manifest?.rolesRequired).toEqual([
      'platform:role:platform:app:example:users',
      'platform:role:platform:app:example:users-admin',
      'platform:role:platform:app:dispatch:viewer',
      'platform:role:platform:app:dispatch:editor',
    ]);
    expect(app.status?.unownedRoles).toBeUndefined();
  });

  it('with the artifacts-only annotation, a ConfigMap that is no manifest artifact of that kind is never read: it is reported as missing, its content untold', async () => {
    await admin.create(Resources.ConfigMap, { metadata: { name: 'payroll', namespace: orgNs }, data: { 'manifest.yaml': 'solutionId: payroll-secret-value\n' } });
    for (const name of ['payroll', 'example-client']) {
      const doc = JSON.stringify({
        apiVersion: 'miniapps.dev/v1alpha1',
        kind: 'Solution',
        metadata: { name: `peek-${name}`, namespace: orgNs, annotations: { 'miniapps.dev/manifest-artifact-only': 'true' } },
        spec: { solutionId: 'peek', version: '1.0.0', manifestFrom: { configMapKeyRef: { name, key: 'manifest.yaml' } } },
      });
      const made = await applyAs(OWNER, doc);
      expect(made, made.out).toMatchObject({ code: 0 });
      const sol = await untilObject<Solution>(admin, Kinds.Solution, `peek-${name}`, orgNs, (s) => !!cond(s, 'ManifestValid'), `Solution peek-${name} checked`);
      expect(cond(sol, 'ManifestValid')).toMatchObject({ status: 'False', reason: 'ManifestNotFound' });
      expect(cond(sol, 'ManifestValid')?.message).toContain('is no solution manifest artifact');
      expect(JSON.stringify(sol.status)).not.toContain('payroll-secret-value');
      await admin.delete(Kinds.Solution, `peek-${name}`, orgNs);
    }
  });
});

describe('seed 003: onboarding by the solution owner, subscription only to what is offered', () => {
  it('a tenant administrator cannot subscribe to a solution not onboarded to the tenant', async () => {
    await expect(
      admin.create(Kinds.Subscription, { metadata: { name: 'gated', namespace: nsOf(tenantA) }, spec: { solution: { organization: org, name: 'gated' } } }, as(adminOf(tenantA))),
    ).rejects.toThrow(new RegExp(`Solution ${SOLUTION} is not offered to the tenant of namespace ${nsOf(tenantA)}`));
  });

  it("only the solution's owners onboard it: the developer and the reviewer are refused, the owner is not", async () => {
    for (const who of [DEVELOPER, REVIEWER]) {
      await expect(patchAs(who, Kinds.Solution, 'gated', orgNs, { spec: { onboarding: { tenants: [tenantA] } } })).rejects.toThrow(/forbidden/i);
    }
    // The seed's onboarding request: tenant ids (here tenant A), no forceCreateUserGroup.
    await patchAs(OWNER, Kinds.Solution, 'gated', orgNs, { spec: { onboarding: { tenants: [tenantA] } } });
    await eventually(async () => (await offered(nsOf(tenantA))).includes(SOLUTION), { timeoutMs: 60_000, describe: 'the offer recorded on tenant A' });
    const t = await untilObject<Tenant>(admin, Kinds.Tenant, tenantA, undefined, (x) => stageOf(x, SOLUTION)?.stage === 'Offered', 'tenant A at stage Offered');
    expect(cond(t, 'SolutionsOnboarded')?.status).toBe('True');
    // Offered only: no group is made before the tenant subscribes (the seed's default).
    expect((await admin.list<UserGroup>(Kinds.UserGroup, { namespace: nsOf(tenantA) })).items).toEqual([]);
    expect(await offered(nsOf(tenantC))).toEqual([]);
  });

  it('forceCreateUserGroup: the groups are made at onboarding, before any subscription, a stage of its own', async () => {
    // The seed's stackId: every tenant of the stack (tenant B), with forceCreateUserGroup.
    await patchAs(OWNER, Kinds.Solution, 'gated', orgNs, { spec: { onboarding: { tenants: [tenantA], stacks: [STACK], forceCreateUserGroup: true } } });
    const t = await untilObject<Tenant>(admin, Kinds.Tenant, tenantB, undefined, (x) => stageOf(x, SOLUTION)?.stage === 'UserGroupsCreated', 'tenant B at stage UserGroupsCreated');
    expect(stageOf(t, SOLUTION)?.userGroups).toEqual(['field-executive', 'solutions-admin', 'solutions-owner']);
    const groups = (await admin.list<UserGroup>(Kinds.UserGroup, { namespace: nsOf(tenantB) })).items;
    expect(groups.map((g) => g.metadata.name).sort()).toEqual(['field-executive', 'solutions-admin', 'solutions-owner']);
    expect(groups.find((g) => g.metadata.name === 'solutions-owner')?.spec.roles).toEqual(['role:dispatch-orders-app:dispatch-get-orders', 'role:dispatch-orders-app:dispatch-view-orders']);
    // The admin group the manifest only names: made, with the role an app of the solution adds to it.
    expect(groups.find((g) => g.metadata.name === 'solutions-admin')?.spec).toMatchObject({ displayName: 'solutions-admin', roles: ['role:dispatch-users-app:dispatch-manage-users'] });
    expect(groups.every((g) => !g.metadata.ownerReferences?.some((r) => r.kind === 'Subscription'))).toBe(true);
    const events = (await admin.list<AnyObject & { reason?: string; note?: string; regarding?: { name?: string } }>(Resources.Event, { namespace: 'default' })).items;
    expect(events.some((e) => e.regarding?.name === tenantB && e.reason === 'UserGroupsCreated')).toBe(true);
  });

  it('the tenant administrator subscribes to the offered solution; a subscription takes over the groups made at onboarding', async () => {
    await admin.create(Kinds.Subscription, { metadata: { name: 'gated', namespace: nsOf(tenantB) }, spec: { solution: { organization: org, name: 'gated' } } }, as(adminOf(tenantB)));
    await untilObject<Subscription>(admin, Kinds.Subscription, 'gated', nsOf(tenantB), (s) => cond(s, 'Ready')?.status === 'True', 'the subscription of tenant B Ready');
    await untilObject<Tenant>(admin, Kinds.Tenant, tenantB, undefined, (x) => stageOf(x, SOLUTION)?.stage === 'Subscribed', 'tenant B at stage Subscribed');
    const owned = await untilObject<UserGroup>(
      admin,
      Kinds.UserGroup,
      'solutions-owner',
      nsOf(tenantB),
      (g) => !!g.metadata.ownerReferences?.some((r) => r.kind === 'Subscription'),
      'the group taken over by the subscription',
    );
    expect(owned.spec.roles).toEqual(['role:dispatch-orders-app:dispatch-get-orders', 'role:dispatch-orders-app:dispatch-view-orders']);
    // Tenant A subscribes too; tenant C, never offered, is still refused; and tenant A may not re-point its subscription
    // at a solution not offered to it.
    await admin.create(Kinds.Subscription, { metadata: { name: 'gated', namespace: nsOf(tenantA) }, spec: { solution: { organization: org, name: 'gated' } } }, as(adminOf(tenantA)));
    await untilObject<Subscription>(admin, Kinds.Subscription, 'gated', nsOf(tenantA), (s) => cond(s, 'Ready')?.status === 'True', 'the subscription of tenant A Ready');
    await expect(
      admin.create(Kinds.Subscription, { metadata: { name: 'gated', namespace: nsOf(tenantC) }, spec: { solution: { organization: org, name: 'gated' } } }, as(adminOf(tenantC))),
    ).rejects.toThrow(/is not offered to the tenant/);
    await expect(
      admin.request('PATCH', `/apis/miniapps.dev/v1alpha1/namespaces/${nsOf(tenantA)}/subscriptions/gated`, {
        body: { spec: { solution: { organization: org, name: 'other' } } },
        contentType: 'application/merge-patch+json',
        as: { user: adminOf(tenantA) },
      }),
    ).rejects.toThrow(/is not offered to the tenant/);
  });

  it("the tenant's administrator gets the admin group the manifest names", async () => {
    const admins = await eventually(async () => (await admin.list<User>(Kinds.User, { namespace: nsOf(tenantA) })).items.find((u) => u.spec.email === adminOf(tenantA)) ?? false, {
      timeoutMs: 60_000,
      describe: 'the administrator User',
    });
    const u = await untilObject<User>(admin, Kinds.User, admins.metadata.name!, nsOf(tenantA), (x) => !!x.status?.groups?.includes('solutions-admin'), 'the administrator in solutions-admin');
    expect(u.status?.effectiveRoles).toContain('role:dispatch-users-app:dispatch-manage-users');
  });
});

describe("seed 003: the createUsers body, designations, and the frontend app's token", () => {
  it("a User with the seed's callback is refused (a User has no callback: its status and events say when it is ready)", async () => {
    await expect(admin.create(Kinds.User, { metadata: { name: 'user123', namespace: nsOf(tenantA) }, spec: CREATE_USERS } as never, as(adminOf(tenantA)))).rejects.toThrow(
      /unknown field "spec\.callback"/,
    );
  });

  it("the seed's createUsers body, every other field as the seed writes it, is a User: its groups by the seed's names and designation resolve", async () => {
    // "business owner" is no group of the manifest: made by hand in the tenant (with the roles the seed's token example needs).
    await admin.create<UserGroup>(Kinds.UserGroup, {
      metadata: { name: 'business-owner', namespace: nsOf(tenantA) },
      spec: { displayName: 'business owner', roles: ['role:platform:app:example:users', 'role:platform:app:dispatch:viewer', 'role:dispatch-orders-app:dispatch-get-orders'] },
    });
    const made = await admin.create<User>(Kinds.User, { metadata: { name: 'user123', namespace: nsOf(tenantA) }, spec: USER_SPEC } as never, as(adminOf(tenantA)));
    // Every field of the body is kept as written (nothing pruned).
    expect(made.spec).toEqual(USER_SPEC);
    const u = await untilObject<User>(admin, Kinds.User, 'user123', nsOf(tenantA), (x) => cond(x, 'Ready')?.status === 'True', 'user123 Ready');
    expect(u.status?.groups).toEqual(['business-owner', 'solutions-admin']);
    // a, b, c and d of the seed's example.
    expect(u.status?.effectiveRoles).toEqual([
      'role:dispatch-orders-app:dispatch-get-orders',
      'role:dispatch-users-app:dispatch-manage-users',
      'role:platform:app:dispatch:viewer',
      'role:platform:app:example:users',
    ]);
    // Nothing personal beyond the spec in status or events: no email, mobile, identification or ids.
    const userEvents = async () =>
      (await admin.list<AnyObject & { reason?: string; note?: string; regarding?: { name?: string } }>(Resources.Event, { namespace: nsOf(tenantA) })).items.filter(
        (e) => e.regarding?.name === 'user123',
      );
    // The Ready event is recorded after the status that says Ready (events are sent in the background): wait for it.
    await eventually(async () => (await userEvents()).some((e) => e.reason === 'Ready'), { timeoutMs: 30_000, describe: "user123's Ready event" });
    const events = await userEvents();
    const said = JSON.stringify([u.status, events]);
    for (const secret of ['john.doe@example.com', '5551234567', '5557654321', 'p123456789', 'aaa123456', 'file123456', 'owner456']) expect(said).not.toContain(secret);
  });

  it('designations map to groups: one to many, one to one, as the tenant declares them; a changed mapping reaches the users', async () => {
    await admin.create(
      Kinds.User,
      { metadata: { name: 'designated', namespace: nsOf(tenantA) }, spec: { userCode: 'u2', firstName: 'Jane', email: 'jane@a.example', designation: 'New Tenant Admin' } },
      as(adminOf(tenantA)),
    );
    await admin.create(
      Kinds.User,
      { metadata: { name: 'agent', namespace: nsOf(tenantA) }, spec: { userCode: 'u3', firstName: 'Ann', email: 'ann@a.example', designation: 'field agent' } },
      as(adminOf(tenantA)),
    );
    await untilObject<User>(
      admin,
      Kinds.User,
      'designated',
      nsOf(tenantA),
      (x) => JSON.stringify(x.status?.groups) === JSON.stringify(['business-owner', 'solutions-admin']),
      'one designation, two groups',
    );
    const agent = await untilObject<User>(admin, Kinds.User, 'agent', nsOf(tenantA), (x) => JSON.stringify(x.status?.groups) === JSON.stringify(['field-executive']), 'one designation, one group');
    expect(agent.status?.effectiveRoles).toEqual(['role:dispatch-routes-app:dispatch-list-routes', 'role:dispatch-routes-app:dispatch-view-routes', 'role:dispatch-users-app:dispatch-view-users']);
    expect(agent.status?.landingPage).toEqual({ url: '/app-b', rank: 1, group: 'field-executive' });
    // A tenant administrator cannot change the mapping (the Tenant is the provisioning administrators'); they can.
    await expect(
      admin.request('PATCH', `/apis/miniapps.dev/v1alpha1/tenants/${tenantA}`, { body: { spec: { designations: [] } }, contentType: 'application/merge-patch+json', as: { user: adminOf(tenantA) } }),
    ).rejects.toThrow(/forbidden/i);
    await admin.patch(Kinds.Tenant, tenantA, undefined, { spec: { designations: [{ designation: 'field agent', groups: ['field executive', 'solutions owner'] }] } });
    await untilObject<User>(admin, Kinds.User, 'agent', nsOf(tenantA), (x) => JSON.stringify(x.status?.groups) === JSON.stringify(['field-executive', 'solutions-owner']), 'the new mapping applied');
    await untilObject<User>(
      admin,
      Kinds.User,
      'designated',
      nsOf(tenantA),
      (x) => (x.status?.groups ?? []).length === 0 && cond(x, 'Ready')?.status === 'True',
      'a designation no longer mapped gives nothing',
    );
  });

  it("the frontend app's token carries the intersection: the user has a, b, c and d, the app requires a and b (and two more), the token holds a and b", async () => {
    const want = ['role:platform:app:dispatch:viewer', 'role:platform:app:example:users'];
    // The plugin, from what the person reads.
    const p = await plugin('token-roles', 'user123', '--app', `${org}/example-client`, '-n', nsOf(tenantA), '-o', 'json');
    expect(p.code, p.err).toBe(EXIT.ok);
    expect(JSON.parse(p.out)).toMatchObject({ audience: `${org}/platform:app:example-client`, roles: want });
    // The operator's token-roles API, as a gateway holding what the tenant administrator holds.
    await admin.create(Resources.ServiceAccount, { metadata: { name: 'gateway', namespace: nsOf(tenantA) } });
    await admin.create(Resources.RoleBinding, {
      metadata: { name: 'gateway', namespace: nsOf(tenantA) },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'miniapps:tenant-administrator' },
      subjects: [{ kind: 'ServiceAccount', name: 'gateway', namespace: nsOf(tenantA) }],
    });
    const token = (
      await admin.request<{ status: { token: string } }>('POST', `/api/v1/namespaces/${nsOf(tenantA)}/serviceaccounts/gateway/token`, {
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
      })
    ).status.token;
    const answer = await eventually(
      async () => {
        const r = await operatorRequest(operator.apiPort, caPEM, 'POST', '/tokenroles/v1/roles', token, {
          namespace: nsOf(tenantA),
          user: 'user123',
          app: { organization: org, name: 'example-client' },
        });
        return r.status === 200 ? r : false;
      },
      { timeoutMs: 30_000, describe: 'the token-roles API answers' },
    );
    expect((answer.body as { roles: string[] }).roles).toEqual(want);
    // Tenant C subscribes to nothing: the app serves it no token.
    const none = await operatorRequest(operator.apiPort, caPEM, 'POST', '/tokenroles/v1/roles', token, {
      namespace: nsOf(tenantC),
      user: 'user123',
      app: { organization: org, name: 'example-client' },
    });
    expect(none.status).not.toBe(200);
  });
});
