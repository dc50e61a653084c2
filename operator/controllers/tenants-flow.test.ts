// The seed's solution flow, one reconcile step at a time on in-memory caches and an
// in-memory API server: a solution manifest from a ConfigMap, an app manifest merged into
// it, a subscription building the tenant's groups, users getting roles and a landing
// page, a broken manifest that changes nothing, a dropped group kept while it has members.
// The integration test (tenants.itest.ts) walks the same flow on the real control plane.
import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { AppManifest } from '../api/appmanifest/schema.ts';
import type { Organization } from '../api/organization/schema.ts';
import type { Solution } from '../api/solution/schema.ts';
import type { Subscription } from '../api/subscription/schema.ts';
import type { Tenant } from '../api/tenant/schema.ts';
import type { User } from '../api/user/schema.ts';
import type { UserGroup } from '../api/usergroup/schema.ts';
import { Caches } from '../domain/caches.ts';
import type { AnyCacheDecl } from '../runtime/cache.ts';
import { ApiError } from '../runtime/errors.ts';
import type { AnyObject } from '../runtime/kube/client.ts';
import { Resources } from '../runtime/kube/resource.ts';
import type { ResourceType } from '../runtime/kube/resource.ts';
import { FakeWorld } from './testing.ts';
import { Kinds } from '../api/registry.ts';
import { SolutionReconciler } from './solution/controller.ts';
import { SubscriptionReconciler } from './subscription/controller.ts';
import { UserGroupReconciler } from './usergroup/controller.ts';
import { UserReconciler } from './user/controller.ts';
import { TenantReconciler } from './tenant/controller.ts';
import { tokenRoles } from '../domain/solutions.ts';
import { AppManifestReconciler } from './appmanifest/controller.ts';

const SEED = readFileSync(new URL('../manifests/testdata/gated-solution.yaml', import.meta.url), 'utf8');
const FRONTEND = parse(readFileSync(new URL('../manifests/testdata/gated-frontend.yaml', import.meta.url), 'utf8')) as AppManifest['spec'];
const API = 'miniapps.dev/v1alpha1';

let world: FakeWorld;
const put = <T extends AnyObject>(rt: ResourceType, decl: AnyCacheDecl, obj: T): T => world.put(rt, decl, obj);

/** The caches as the watches would show the store. */
function sync(): void {
  const pairs: [ResourceType, AnyCacheDecl][] = [
    [Kinds.Solution, Caches.solutions],
    [Kinds.Subscription, Caches.subscriptions],
    [Kinds.UserGroup, Caches.userGroups],
    [Kinds.User, Caches.users],
    [Kinds.Tenant, Caches.tenants],
    [Kinds.AppManifest, Caches.appManifests],
    [Resources.Namespace, Caches.namespaces],
    [Resources.Lease, Caches.idClaims],
  ];
  for (const [rt, decl] of pairs) {
    const cache = world.caches.cache(decl);
    const now = world.store.all(rt);
    const keys = new Set(now.map((o) => (o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name!)));
    for (const o of cache.list()) {
      const k = o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name!;
      if (!keys.has(k)) cache.remove(k);
    }
    for (const o of now) cache.put(o);
  }
}

const manifestConfigMap = (text: string) =>
  put(Resources.ConfigMap, Caches.namespaces /* unused cache */, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'gated-manifest', namespace: 'org-acme' },
    data: { 'manifest.yaml': text },
  } as AnyObject);
const setManifest = (text: string) =>
  world.store.seed(Resources.ConfigMap, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'gated-manifest', namespace: 'org-acme' }, data: { 'manifest.yaml': text } } as AnyObject);

const subscription = (ns: string, name = 'gated', version?: string) =>
  put(Kinds.Subscription, Caches.subscriptions, {
    apiVersion: API,
    kind: 'Subscription',
    metadata: { name, namespace: ns, uid: `uid-sub-${ns}-${name}`, generation: 1 },
    spec: { solution: { organization: 'acme', name: 'gated' }, ...(version ? { version } : {}) },
  } as Subscription);
const user = (ns: string, name: string, groups: string[], email = `${name}@t.example`) =>
  put(Kinds.User, Caches.users, {
    apiVersion: API,
    kind: 'User',
    metadata: { name, namespace: ns, generation: 1 },
    spec: { userCode: name, firstName: name, email, groups, designation: 'Field officer' },
  } as User);

const get = <T extends AnyObject>(rt: ResourceType, name: string, ns?: string) => world.store.peek<T>(rt, name, ns);
const condition = (o: { status?: { conditions?: { type: string; status: string; reason: string; message: string }[] } } | undefined, type: string) =>
  o?.status?.conditions?.find((c) => c.type === type);

let solutions: SolutionReconciler;
let subscriptions: SubscriptionReconciler;
let groups: UserGroupReconciler;
let users: UserReconciler;
let apps: AppManifestReconciler;

/** Every controller over every object once, the caches synced after each kind (as the watches would). */
async function converge(rounds = 2): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    for (const a of world.store.all<AppManifest>(Kinds.AppManifest)) await apps.reconcile(`${a.metadata.namespace}/${a.metadata.name}`);
    sync();
    for (const s of world.store.all<Solution>(Kinds.Solution)) await solutions.reconcile(`${s.metadata.namespace}/${s.metadata.name}`);
    sync();
    for (const s of world.store.all<Subscription>(Kinds.Subscription)) await subscriptions.reconcile(`${s.metadata.namespace}/${s.metadata.name}`);
    sync();
    for (const u of world.store.all<User>(Kinds.User)) await users.reconcile(`${u.metadata.namespace}/${u.metadata.name}`);
    sync();
    for (const g of world.store.all<UserGroup>(Kinds.UserGroup)) await groups.reconcile(`${g.metadata.namespace}/${g.metadata.name}`);
    sync();
  }
}

beforeEach(() => {
  world = new FakeWorld();
  const { deps } = world;
  solutions = new SolutionReconciler(deps);
  subscriptions = new SubscriptionReconciler(deps);
  groups = new UserGroupReconciler(deps);
  users = new UserReconciler(deps);
  apps = new AppManifestReconciler(deps);
  put(Kinds.Organization, Caches.organizations, {
    apiVersion: API,
    kind: 'Organization',
    metadata: { name: 'acme', uid: 'uid-acme' },
    spec: { displayName: 'Acme' },
    status: { namespace: 'org-acme' },
  } as Organization);
  for (const t of ['t1', 't2']) {
    put(Kinds.Tenant, Caches.tenants, {
      apiVersion: API,
      kind: 'Tenant',
      metadata: { name: t, uid: `uid-${t}` },
      spec: { displayName: t, administrators: [`ada@${t}.example`] },
      status: { namespace: `tenant-${t}` },
    } as Tenant);
  }
  manifestConfigMap(SEED);
  put(Kinds.Solution, Caches.solutions, {
    apiVersion: API,
    kind: 'Solution',
    metadata: { name: 'gated', namespace: 'org-acme', generation: 1 },
    spec: { solutionId: 'gated-solution', version: '1.0.0', manifestFrom: { configMapKeyRef: { name: 'gated-manifest', key: 'manifest.yaml' } } },
  } as Solution);
  put(Kinds.AppManifest, Caches.appManifests, { apiVersion: API, kind: 'AppManifest', metadata: { name: 'gated-frontend', namespace: 'org-acme', generation: 1 }, spec: FRONTEND } as AppManifest);
  // The solution's other listing is the organization's too: only the organization that claims a listing with an
  // AppManifest grants its roles (item 3 of issue 16).
  put(Kinds.AppManifest, Caches.appManifests, {
    apiVersion: API,
    kind: 'AppManifest',
    metadata: { name: 'gated-backoffice', namespace: 'org-acme', generation: 1 },
    spec: { appId: 'gated-backoffice-app', listingId: 'gated-backoffice' },
  } as AppManifest);
});

describe('the seed flow, step by step', () => {
  it("builds each subscribed tenant's groups from the union of the solution's and the app's manifests, with each role's source", async () => {
    subscription('tenant-t1');
    subscription('tenant-t2');
    await converge();
    for (const ns of ['tenant-t1', 'tenant-t2']) {
      const field = get<UserGroup>(Kinds.UserGroup, 'field-executive', ns)!;
      expect(field.spec.displayName).toBe('field executive');
      expect(field.spec.roles).toEqual(['role:gated-frontend:field-entry', 'role:gated-frontend:offline-sync', 'role:gated-frontend:viewer']);
      expect(field.status?.roleSources).toEqual([
        { role: 'role:gated-frontend:field-entry', sources: ['Solution acme/gated'] },
        { role: 'role:gated-frontend:offline-sync', sources: ['AppManifest acme/gated-frontend'] },
        { role: 'role:gated-frontend:viewer', sources: ['Solution acme/gated'] },
      ]);
      expect(get<UserGroup>(Kinds.UserGroup, 'solutions-owner', ns)?.spec.landingPage).toEqual({ url: '/owner/home', rank: 1 });
      expect(get<UserGroup>(Kinds.UserGroup, 'solutions-admin', ns)).toBeDefined();
      const sub = get<Subscription>(Kinds.Subscription, 'gated', ns)!;
      expect(sub.status?.userGroups).toEqual(['field-executive', 'solutions-admin', 'solutions-owner']);
      expect(condition(sub, 'Ready')?.status).toBe('True');
    }
    expect(condition(get<Solution>(Kinds.Solution, 'gated', 'org-acme'), 'ManifestValid')?.status).toBe('True');
  });

  it('keeps the groups as they are while an app of the solution has not been checked yet (an AppManifest from before its status held the manifest)', async () => {
    subscription('tenant-t1');
    await converge();
    const before = get<UserGroup>(Kinds.UserGroup, 'field-executive', 'tenant-t1')!.spec;
    expect(before.roles).toContain('role:gated-frontend:offline-sync');
    // As after an upgrade: the AppManifest without status, and the subscription reconciled before the app.
    put(Kinds.AppManifest, Caches.appManifests, { apiVersion: API, kind: 'AppManifest', metadata: { name: 'gated-frontend', namespace: 'org-acme', generation: 1 }, spec: FRONTEND } as AppManifest);
    sync();
    await subscriptions.reconcile('tenant-t1/gated');
    sync();
    expect(get<UserGroup>(Kinds.UserGroup, 'field-executive', 'tenant-t1')!.spec).toEqual(before);
    expect(condition(get<Subscription>(Kinds.Subscription, 'gated', 'tenant-t1'), 'SolutionResolved')).toMatchObject({
      status: 'False',
      reason: 'AppManifestsNotChecked',
      message: expect.stringContaining('gated-frontend'),
    });
    await converge();
    expect(condition(get<Subscription>(Kinds.Subscription, 'gated', 'tenant-t1'), 'Ready')?.status).toBe('True');
    expect(get<UserGroup>(Kinds.UserGroup, 'field-executive', 'tenant-t1')!.spec).toEqual(before);
  });

  it("gives users the union of their groups' roles, the landing page of the lowest rank, and names missing groups", async () => {
    subscription('tenant-t1');
    user('tenant-t1', 'fe', ['field-executive']);
    user('tenant-t1', 'both', ['field-executive', 'solutions-owner']);
    user('tenant-t1', 'lost', ['field-executive', 'nope', 'gone']);
    await converge();
    const both = get<User>(Kinds.User, 'both', 'tenant-t1')!;
    expect(both.status?.effectiveRoles).toEqual([
      'role:gated-backoffice:approver',
      'role:gated-frontend:field-entry',
      'role:gated-frontend:offline-sync',
      'role:gated-frontend:owner',
      'role:gated-frontend:viewer',
    ]);
    expect(both.status?.landingPage).toEqual({ url: '/owner/home', rank: 1, group: 'solutions-owner' });
    expect(get<User>(Kinds.User, 'fe', 'tenant-t1')!.status?.landingPage).toEqual({ url: '/field/home', rank: 2, group: 'field-executive' });
    const lost = get<User>(Kinds.User, 'lost', 'tenant-t1')!;
    expect(condition(lost, 'GroupsResolved')).toMatchObject({ status: 'False', reason: 'GroupsMissing' });
    expect(condition(lost, 'GroupsResolved')?.message).toContain('Group(s) gone, nope do not exist in namespace tenant-t1');
    expect(condition(lost, 'Ready')?.status).toBe('False');
    expect(lost.status?.effectiveRoles).toContain('role:gated-frontend:field-entry');
    expect(get<UserGroup>(Kinds.UserGroup, 'field-executive', 'tenant-t1')!.status?.members).toBe(3);
    expect(world.events).toContain('Warning GroupsMissing');
  });

  it("puts a tenant administrator's User in the solution's admin groups, and nobody else", async () => {
    subscription('tenant-t1');
    user('tenant-t1', 'ada', [], 'Ada@t1.example');
    user('tenant-t1', 'bob', []);
    await converge();
    const ada = get<User>(Kinds.User, 'ada', 'tenant-t1')!;
    expect(ada.status?.groups).toEqual(['solutions-admin']);
    expect(ada.status?.effectiveRoles).toEqual(['role:gated-backoffice:admin', 'role:gated-frontend:admin']);
    expect(get<User>(Kinds.User, 'bob', 'tenant-t1')!.status?.groups).toEqual([]);
    expect(get<UserGroup>(Kinds.UserGroup, 'solutions-admin', 'tenant-t1')!.status?.members).toBe(1);
  });

  it('keeps the last good manifest when a new one breaks: the groups stay, the Solution says where', async () => {
    subscription('tenant-t1');
    await converge();
    const before = get<UserGroup>(Kinds.UserGroup, 'field-executive', 'tenant-t1')!;
    setManifest(SEED.replace('- role:gated-frontend:field-entry', '- gated-frontend:field-entry'));
    await converge();
    const sol = get<Solution>(Kinds.Solution, 'gated', 'org-acme')!;
    expect(condition(sol, 'ManifestValid')).toMatchObject({ status: 'False', reason: 'ManifestSchemaInvalid' });
    expect(condition(sol, 'ManifestValid')?.message).toMatch(/configmap\/gated-manifest\/manifest\.yaml:21:9 userGroupsRequired\[1\]\.roles\[1\]: must match role:<listingId>:<roleName>/);
    expect(condition(sol, 'Stalled')?.status).toBe('True');
    expect(sol.status?.manifest?.userGroupsRequired?.[1]?.roles).toContain('role:gated-frontend:field-entry');
    expect(world.events).toContain('Warning ManifestSchemaInvalid');
    expect(get<UserGroup>(Kinds.UserGroup, 'field-executive', 'tenant-t1')!.spec).toEqual(before.spec);
    expect(condition(get<Subscription>(Kinds.Subscription, 'gated', 'tenant-t1'), 'SolutionResolved')?.message).toContain("the solution's newest manifest is invalid, so its last good one stands");
  });

  it.each([
    { case: 'not YAML', text: 'solutionId: [\n', reason: 'ManifestNotYAML' },
    { case: 'a group twice', text: SEED.replace('- name: solutions admin', '- name: Solutions Owner'), reason: 'ManifestInconsistent' },
    { case: 'another solutionId', text: SEED.replace('solutionId: gated-solution', 'solutionId: other'), reason: 'ManifestInconsistent' },
  ])('refuses a manifest that is $case, and no tenant gets groups from it', async ({ text, reason }) => {
    setManifest(text);
    subscription('tenant-t1');
    await converge();
    expect(condition(get<Solution>(Kinds.Solution, 'gated', 'org-acme'), 'ManifestValid')).toMatchObject({ status: 'False', reason });
    const sub = get<Subscription>(Kinds.Subscription, 'gated', 'tenant-t1')!;
    expect(condition(sub, 'SolutionResolved')).toMatchObject({ status: 'False', reason: 'SolutionNotReady' });
    expect(world.store.all(Kinds.UserGroup)).toEqual([]);
  });

  it('brings a manifest update to every subscribed tenant, and deletes a dropped group only once nobody is in it', async () => {
    subscription('tenant-t1');
    subscription('tenant-t2');
    user('tenant-t1', 'fe', ['field-executive']);
    await converge();
    // Version 2 drops "field executive" and adds a role to "solutions owner".
    const v2 = SEED.replace('version: 1.0.0', 'version: 2.0.0')
      .replace('      - role:gated-backoffice:approver\n', '      - role:gated-backoffice:approver\n      - role:gated-backoffice:auditor\n')
      .replace(/ {2}- name: field executive[\s\S]*?(?=adminUserGroups)/, '');
    setManifest(v2);
    // The app still names "field executive": drop it there too.
    put(Kinds.AppManifest, Caches.appManifests, {
      apiVersion: API,
      kind: 'AppManifest',
      metadata: { name: 'gated-frontend', namespace: 'org-acme', generation: 2 },
      spec: { ...FRONTEND, userGroups: [] },
    } as AppManifest);
    await converge();
    for (const ns of ['tenant-t1', 'tenant-t2']) expect(get<UserGroup>(Kinds.UserGroup, 'solutions-owner', ns)!.spec.roles).toContain('role:gated-backoffice:auditor');
    // Kept in t1 (a user is in it), gone in t2.
    expect(get<UserGroup>(Kinds.UserGroup, 'field-executive', 'tenant-t1')).toBeDefined();
    expect(get<UserGroup>(Kinds.UserGroup, 'field-executive', 'tenant-t2')).toBeUndefined();
    const sub1 = get<Subscription>(Kinds.Subscription, 'gated', 'tenant-t1')!;
    expect(sub1.status?.orphanedUserGroups).toEqual(['field-executive']);
    expect(condition(sub1, 'OrphansKept')).toMatchObject({ status: 'False', reason: 'OrphansKept' });
    expect(condition(sub1, 'Ready')?.status).toBe('True');
    // The user leaves: the group goes.
    put(Kinds.User, Caches.users, { ...get<User>(Kinds.User, 'fe', 'tenant-t1')!, spec: { ...get<User>(Kinds.User, 'fe', 'tenant-t1')!.spec, groups: ['solutions-owner'] }, status: undefined });
    await converge();
    expect(get<UserGroup>(Kinds.UserGroup, 'field-executive', 'tenant-t1')).toBeUndefined();
    expect(get<Subscription>(Kinds.Subscription, 'gated', 'tenant-t1')!.status?.orphanedUserGroups).toBeUndefined();
  });

  it('leaves out an app manifest that names a group twice, and says so in its ManifestValid', async () => {
    put(Kinds.AppManifest, Caches.appManifests, {
      apiVersion: API,
      kind: 'AppManifest',
      metadata: { name: 'gated-frontend', namespace: 'org-acme', generation: 2 },
      spec: {
        ...FRONTEND,
        userGroups: [
          { name: 'field executive', roles: ['role:gated-frontend:offline-sync'] },
          { name: 'Field-Executive', roles: ['role:gated-frontend:x'] },
        ],
      },
    } as AppManifest);
    await new AppManifestReconciler(world.deps).reconcile('org-acme/gated-frontend');
    const app = get<AppManifest>(Kinds.AppManifest, 'gated-frontend', 'org-acme')!;
    expect(app.status?.conditions?.find((c) => c.type === 'ManifestValid')).toMatchObject({ status: 'False', reason: 'ManifestInconsistent' });
    expect(app.status?.conditions?.find((c) => c.type === 'ManifestValid')?.message).toContain('spec.userGroups[1].name: names the group "Field-Executive" again');
    subscription('tenant-t1');
    await converge();
    expect(get<UserGroup>(Kinds.UserGroup, 'field-executive', 'tenant-t1')!.spec.roles).toEqual(['role:gated-frontend:field-entry', 'role:gated-frontend:viewer']);
  });

  it('reads an app manifest from a ConfigMap key: its groups reach the tenants; a broken edit keeps them and names line and field', async () => {
    const appFile = (text: string) =>
      world.store.seed(Resources.ConfigMap, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'frontend-manifest', namespace: 'org-acme' }, data: { 'app.yaml': text } } as AnyObject);
    const FILE = readFileSync(new URL('../manifests/testdata/gated-frontend.yaml', import.meta.url), 'utf8').replace('role:gated-frontend:offline-sync', 'role:gated-frontend:from-file');
    appFile(FILE);
    put(Kinds.AppManifest, Caches.appManifests, {
      apiVersion: API,
      kind: 'AppManifest',
      metadata: { name: 'gated-frontend', namespace: 'org-acme', generation: 2 },
      spec: { appId: FRONTEND.appId, listingId: FRONTEND.listingId, manifestFrom: { configMapKeyRef: { name: 'frontend-manifest', key: 'app.yaml' } } },
    } as AppManifest);
    subscription('tenant-t1');
    await converge();
    const app = () => get<AppManifest>(Kinds.AppManifest, 'gated-frontend', 'org-acme')!;
    expect(app().status?.manifest?.rolesRequired).toEqual(FRONTEND.rolesRequired);
    expect(condition(app(), 'Ready')?.status).toBe('True');
    const roles = () => get<UserGroup>(Kinds.UserGroup, 'field-executive', 'tenant-t1')!.spec.roles;
    expect(roles()).toEqual(['role:gated-frontend:field-entry', 'role:gated-frontend:from-file', 'role:gated-frontend:viewer']);
    const digest = app().status?.manifestDigest;
    // A broken edit: a role in the wrong format. The last good manifest stays; the tenant keeps its groups.
    appFile(FILE.replace('- role:gated-frontend:from-file', '- gated-frontend:from-file').replace('  - platform:role:gated-frontend:owner\n', ''));
    await converge();
    expect(condition(app(), 'ManifestValid')).toMatchObject({ status: 'False', reason: 'ManifestSchemaInvalid' });
    expect(condition(app(), 'ManifestValid')?.message).toContain('configmap/frontend-manifest/app.yaml:7:9 userGroups[0].roles[0]: must match role:<listingId>:<roleName>');
    expect(condition(app(), 'Stalled')?.status).toBe('True');
    expect(world.events).toContain('Warning ManifestSchemaInvalid');
    expect(app().status?.manifestDigest).toBe(digest);
    expect(app().status?.manifest?.rolesRequired).toEqual(FRONTEND.rolesRequired);
    expect(roles()).toContain('role:gated-frontend:from-file');
    // A file of another listing: refused, naming the line and field.
    appFile(FILE.replace('listingId: gated-frontend', 'listingId: gated-other'));
    await converge();
    expect(condition(app(), 'ManifestValid')?.message).toContain('configmap/frontend-manifest/app.yaml:3:12 listingId: is "gated-other", but the AppManifest\'s spec.listingId is "gated-frontend"');
    // A good edit replaces it.
    appFile(FILE.replace('role:gated-frontend:from-file', 'role:gated-frontend:from-file-v2'));
    await converge();
    expect(condition(app(), 'ManifestValid')?.status).toBe('True');
    expect(roles()).toContain('role:gated-frontend:from-file-v2');
    expect(roles()).not.toContain('role:gated-frontend:from-file');
  });

  it('keeps the last good inline app manifest when its spec is edited into one naming a group twice', async () => {
    subscription('tenant-t1');
    await converge();
    put(Kinds.AppManifest, Caches.appManifests, {
      ...get<AppManifest>(Kinds.AppManifest, 'gated-frontend', 'org-acme')!,
      metadata: { name: 'gated-frontend', namespace: 'org-acme', generation: 2 },
      spec: { ...FRONTEND, userGroups: [{ name: 'field executive', roles: ['role:gated-frontend:x'] }, { name: 'Field-Executive' }] },
    } as AppManifest);
    await converge();
    expect(condition(get<AppManifest>(Kinds.AppManifest, 'gated-frontend', 'org-acme'), 'ManifestValid')?.reason).toBe('ManifestInconsistent');
    expect(get<UserGroup>(Kinds.UserGroup, 'field-executive', 'tenant-t1')!.spec.roles).toEqual(['role:gated-frontend:field-entry', 'role:gated-frontend:offline-sync', 'role:gated-frontend:viewer']);
  });

  it('refuses an inline manifest naming a group twice (by the UserGroup it makes), keeping no groups from it', async () => {
    put(Kinds.Solution, Caches.solutions, {
      apiVersion: API,
      kind: 'Solution',
      metadata: { name: 'gated', namespace: 'org-acme', generation: 2 },
      spec: { solutionId: 'gated-solution', version: '1.0.0', manifest: { userGroupsRequired: [{ name: 'Owner' }], adminUserGroups: [{ name: 'owner', description: 'written whole a second time' }] } },
    } as Solution);
    await converge();
    const sol = get<Solution>(Kinds.Solution, 'gated', 'org-acme')!;
    expect(condition(sol, 'ManifestValid')).toMatchObject({ status: 'False', reason: 'ManifestInconsistent' });
    expect(condition(sol, 'ManifestValid')?.message).toContain('Solution gated spec.manifest.adminUserGroups[0].name');
    expect(sol.status?.manifest).toBeUndefined();
  });

  it('gives two subscriptions naming one group the union of both', async () => {
    subscription('tenant-t1', 'gated');
    // A second solution of the same organization that also has "field executive".
    manifestConfigMap(SEED); // unchanged for the first
    world.store.seed(Resources.ConfigMap, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'other-manifest', namespace: 'org-acme' },
      data: { 'm.yaml': 'solutionId: other\nuserGroupsRequired:\n  - name: Field Executive\n    roles: [role:other-app:reporter]\n' },
    } as AnyObject);
    put(Kinds.Solution, Caches.solutions, {
      apiVersion: API,
      kind: 'Solution',
      metadata: { name: 'other', namespace: 'org-acme', generation: 1 },
      spec: { solutionId: 'other', version: '1', manifestFrom: { configMapKeyRef: { name: 'other-manifest', key: 'm.yaml' } } },
    } as Solution);
    put(Kinds.Subscription, Caches.subscriptions, {
      apiVersion: API,
      kind: 'Subscription',
      metadata: { name: 'other', namespace: 'tenant-t1', uid: 'uid-sub-other', generation: 1 },
      spec: { solution: { organization: 'acme', name: 'other' } },
    } as Subscription);
    // The listing of the second solution's role is the organization's (it claims it with an AppManifest).
    put(Kinds.AppManifest, Caches.appManifests, {
      apiVersion: API,
      kind: 'AppManifest',
      metadata: { name: 'other-app', namespace: 'org-acme', generation: 1 },
      spec: { appId: 'other-app', listingId: 'other-app' },
    } as AppManifest);
    await converge();
    const g = get<UserGroup>(Kinds.UserGroup, 'field-executive', 'tenant-t1')!;
    expect(g.spec.roles).toContain('role:other-app:reporter');
    expect(g.spec.roles).toContain('role:gated-frontend:field-entry');
    expect(g.metadata.ownerReferences?.map((r) => r.name).sort()).toEqual(['gated', 'other']);
    expect(g.status?.roleSources?.find((r) => r.role === 'role:other-app:reporter')?.sources).toEqual(['Solution acme/other']);
  });

  it.each([
    { case: 'names a solution that does not exist', spec: { solution: { organization: 'acme', name: 'missing' } }, reason: 'SolutionNotFound' },
    { case: 'names an organization that does not exist', spec: { solution: { organization: 'nobody', name: 'gated' } }, reason: 'OrganizationNotFound' },
    { case: 'pins another version', spec: { solution: { organization: 'acme', name: 'gated' }, version: '9.9.9' }, reason: 'VersionMismatch' },
  ])('waits, with a reason, when the subscription $case', async ({ spec, reason }) => {
    put(Kinds.Subscription, Caches.subscriptions, { apiVersion: API, kind: 'Subscription', metadata: { name: 's', namespace: 'tenant-t1', uid: 'uid-s', generation: 1 }, spec } as Subscription);
    await converge();
    const sub = get<Subscription>(Kinds.Subscription, 's', 'tenant-t1')!;
    expect(condition(sub, 'SolutionResolved')).toMatchObject({ status: 'False', reason });
    expect(condition(sub, 'Ready')).toMatchObject({ status: 'False', reason });
    expect(world.store.all(Kinds.UserGroup)).toEqual([]);
  });

  it("refuses a subscription outside a tenant's namespace (Stalled)", async () => {
    subscription('org-acme');
    await converge();
    const sub = get<Subscription>(Kinds.Subscription, 'gated', 'org-acme')!;
    expect(condition(sub, 'InTenant')).toMatchObject({ status: 'False', reason: 'NotInTenant' });
    expect(condition(sub, 'Stalled')?.status).toBe('True');
  });

  it("answers the seed's token question from the user's effective roles and the app's rolesRequired", async () => {
    subscription('tenant-t1');
    user('tenant-t1', 'both', ['field-executive', 'solutions-owner']);
    await converge();
    const roles = get<User>(Kinds.User, 'both', 'tenant-t1')!.status!.effectiveRoles!;
    expect(tokenRoles(roles, FRONTEND.rolesRequired!)).toEqual(['role:gated-frontend:field-entry', 'role:gated-frontend:owner', 'role:gated-frontend:viewer']);
  });
});

describe('issue 16: nothing crosses organizations, nothing hand-made is taken', () => {
  const evilOrg = () =>
    put(Kinds.Organization, Caches.organizations, {
      apiVersion: API,
      kind: 'Organization',
      metadata: { name: 'evil', uid: 'uid-evil' },
      spec: { displayName: 'Evil' },
      status: { namespace: 'org-evil' },
    } as Organization);
  const evilSolution = (manifest: Solution['spec']['manifest']) =>
    put(Kinds.Solution, Caches.solutions, {
      apiVersion: API,
      kind: 'Solution',
      metadata: { name: 'evil', namespace: 'org-evil', generation: 1, creationTimestamp: '2026-12-02T00:00:00Z' },
      spec: { solutionId: 'evil', version: '1', manifest },
    } as Solution);
  const evilApp = (name: string, spec: AppManifest['spec'], creationTimestamp = '2026-12-02T00:00:00Z') =>
    put(Kinds.AppManifest, Caches.appManifests, { apiVersion: API, kind: 'AppManifest', metadata: { name, namespace: 'org-evil', generation: 1, creationTimestamp }, spec } as AppManifest);
  const subscribeEvil = () =>
    put(Kinds.Subscription, Caches.subscriptions, {
      apiVersion: API,
      kind: 'Subscription',
      metadata: { name: 'evil', namespace: 'tenant-t1', uid: 'uid-sub-evil', generation: 1, creationTimestamp: '2026-12-03T00:00:00Z' },
      spec: { solution: { organization: 'evil', name: 'evil' } },
    } as Subscription);

  it("item 3: an app whose appId another organization claimed first is IdsOwned False and contributes nothing; roles of another organization's listing are left out and reported", async () => {
    // Acme's apps claim their ids first (a claim is made once, and then never moves).
    await converge(1);
    evilOrg();
    evilApp('copycat', { appId: FRONTEND.appId, listingId: 'gated-frontend', userGroups: [{ name: 'crew', roles: ['role:gated-frontend:owner'] }] });
    evilApp('own', { appId: 'own-app', listingId: 'own', rolesRequired: ['platform:role:own:user', 'platform:role:gated-frontend:admin'] });
    evilSolution({ userGroupsRequired: [{ name: 'crew', roles: ['role:gated-frontend:admin', 'role:own:user', 'role:nobodys:x'] }] });
    subscription('tenant-t1');
    subscribeEvil();
    await converge(3);
    const copycat = get<AppManifest>(Kinds.AppManifest, 'copycat', 'org-evil')!;
    expect(condition(copycat, 'IdsOwned')).toMatchObject({ status: 'False', reason: 'AppIdClaimed' });
    expect(condition(copycat, 'Stalled')?.status).toBe('True');
    // The first claim keeps its ids.
    expect(condition(get<AppManifest>(Kinds.AppManifest, 'gated-frontend', 'org-acme'), 'IdsOwned')?.status).toBe('True');
    const own = get<AppManifest>(Kinds.AppManifest, 'own', 'org-evil')!;
    expect(own.status?.unownedRoles).toEqual(['platform:role:gated-frontend:admin']);
    expect(condition(own, 'RolesOwned')).toMatchObject({ status: 'False', reason: 'ListingNotOwned' });
    const sol = get<Solution>(Kinds.Solution, 'evil', 'org-evil')!;
    // One message whatever the reason; a listing nobody held ("nobodys") is the solution's organization's now (first come).
    expect(condition(sol, 'RolesOwned')).toMatchObject({
      status: 'False',
      reason: 'ListingNotOwned',
      message: expect.stringContaining('role:gated-frontend:admin name listing(s) "gated-frontend" that this organization does not hold'),
    });
    expect(condition(sol, 'RolesOwned')?.message).not.toContain('nobodys');
    expect(get<UserGroup>(Kinds.UserGroup, 'crew', 'tenant-t1')!.spec.roles).toEqual(['role:nobodys:x', 'role:own:user']);
  });

  it('item 3 (review finding 9): the groups of an app that loses its ids are kept as they are (orphaned and kept), never deleted for it', async () => {
    const backOffice = (appId: string, generation: number) =>
      put(Kinds.AppManifest, Caches.appManifests, {
        apiVersion: API,
        kind: 'AppManifest',
        metadata: { name: 'gated-backoffice', namespace: 'org-acme', generation },
        spec: { appId, listingId: 'gated-backoffice', userGroups: [{ name: 'back office', roles: ['role:gated-backoffice:approver'] }] },
      } as AppManifest);
    backOffice('gated-backoffice-app', 2);
    evilOrg();
    evilApp('own', { appId: 'evil-app', listingId: 'own' });
    subscription('tenant-t1');
    await converge();
    const made = get<UserGroup>(Kinds.UserGroup, 'back-office', 'tenant-t1')!;
    expect(made.spec.roles).toEqual(['role:gated-backoffice:approver']);
    // Renamed (with the webhook down) into an appId another organization holds: the app is used nowhere.
    backOffice('evil-app', 3);
    await converge(3);
    expect(condition(get<AppManifest>(Kinds.AppManifest, 'gated-backoffice', 'org-acme'), 'IdsOwned')).toMatchObject({ status: 'False', reason: 'AppIdClaimed' });
    expect(get<UserGroup>(Kinds.UserGroup, 'back-office', 'tenant-t1')?.spec).toEqual(made.spec);
    const sub = get<Subscription>(Kinds.Subscription, 'gated', 'tenant-t1')!;
    expect(sub.status?.orphanedUserGroups).toEqual(['back-office']);
    expect(condition(sub, 'OrphansKept')).toMatchObject({ status: 'False', message: expect.stringContaining('does not hold their ids') });
  });

  it('item 3: two organizations naming one group: the one that made it keeps it, the other reports a conflict and its administrators get nothing from it', async () => {
    evilOrg();
    evilApp('own', { appId: 'own-app', listingId: 'own' });
    evilSolution({ adminUserGroups: [{ name: 'Solutions Admin', landingPage: { url: '/evil', rank: 1 }, roles: ['role:own:admin'] }] });
    subscription('tenant-t1');
    user('tenant-t1', 'ada', [], 'ada@t1.example');
    await converge();
    const before = get<UserGroup>(Kinds.UserGroup, 'solutions-admin', 'tenant-t1')!;
    subscribeEvil();
    await converge();
    const group = get<UserGroup>(Kinds.UserGroup, 'solutions-admin', 'tenant-t1')!;
    expect(group.spec).toEqual(before.spec);
    expect(group.metadata.ownerReferences?.map((r) => r.name)).toEqual(['gated']);
    const evil = get<Subscription>(Kinds.Subscription, 'evil', 'tenant-t1')!;
    expect(condition(evil, 'UserGroupsSynced')).toMatchObject({ status: 'False', reason: 'UserGroupConflict' });
    expect(evil.status?.conflictingUserGroups).toEqual(['solutions-admin']);
    expect(condition(group, 'Uncontested')).toMatchObject({
      status: 'False',
      message: expect.stringContaining("Subscription(s) evil name this group but may not manage it (another organization's subscriptions made it)"),
    });
    expect(condition(get<Subscription>(Kinds.Subscription, 'gated', 'tenant-t1'), 'Ready')?.status).toBe('True');
    expect(get<User>(Kinds.User, 'ada', 'tenant-t1')!.status?.effectiveRoles).not.toContain('role:own:admin');
  });

  it('item 11: a group made by hand is left untouched and never owned; the subscription reports it', async () => {
    const handMade = { roles: ['role:local:clerk'], landingPage: { url: '/local', rank: 3 } };
    put(Kinds.UserGroup, Caches.userGroups, { apiVersion: API, kind: 'UserGroup', metadata: { name: 'field-executive', namespace: 'tenant-t1', generation: 1 }, spec: handMade } as UserGroup);
    subscription('tenant-t1');
    await converge();
    const g = get<UserGroup>(Kinds.UserGroup, 'field-executive', 'tenant-t1')!;
    expect(g.spec).toEqual(handMade);
    expect(g.metadata.ownerReferences).toBeUndefined();
    expect(condition(g, 'Uncontested')).toMatchObject({
      status: 'False',
      reason: 'UserGroupConflict',
      message: expect.stringContaining('Subscription(s) gated name this group but may not manage it (it was not made by a subscription)'),
    });
    expect(condition(g, 'Ready')?.status).toBe('True');
    const sub = get<Subscription>(Kinds.Subscription, 'gated', 'tenant-t1')!;
    expect(condition(sub, 'UserGroupsSynced')).toMatchObject({ status: 'False', reason: 'UserGroupConflict', message: expect.stringContaining('was not made by a subscription') });
    expect(sub.status?.userGroups).toEqual(['solutions-admin', 'solutions-owner']);
    const writes = world.store.writes.filter((w) => w.kind === 'UserGroup' && w.key === 'tenant-t1/field-executive');
    expect(writes.length).toBeGreaterThan(0); // its status (members, roles), by the UserGroup controller
    expect(writes.filter((w) => w.verb !== 'status')).toEqual([]);
  });

  it('item 11 (review finding 4): a group made by hand a moment ago, not in the cache yet, is not adopted: the POST meets it (409), nothing is applied to it', async () => {
    await converge(1);
    subscription('tenant-t1');
    const handMade = { roles: ['role:local:clerk'] };
    // Someone makes it; the subscription reconciles before the cache shows it.
    world.store.seed(Kinds.UserGroup, { apiVersion: API, kind: 'UserGroup', metadata: { name: 'field-executive', namespace: 'tenant-t1' }, spec: handMade } as AnyObject);
    const before = world.store.writes.length;
    await subscriptions.reconcile('tenant-t1/gated');
    const g = get<UserGroup>(Kinds.UserGroup, 'field-executive', 'tenant-t1')!;
    expect(g.spec).toEqual(handMade);
    expect(g.metadata.ownerReferences).toBeUndefined();
    expect(world.store.writes.slice(before).filter((w) => w.key === 'tenant-t1/field-executive' && w.verb === 'apply')).toEqual([]);
    const sub = get<Subscription>(Kinds.Subscription, 'gated', 'tenant-t1')!;
    expect(condition(sub, 'UserGroupsSynced')).toMatchObject({
      status: 'False',
      reason: 'UserGroupConflict',
      message: expect.stringContaining('UserGroup field-executive was made by someone else a moment ago'),
    });
  });
});

describe('TenantReconciler', () => {
  it('creates the namespace, binds the administrators, and makes a User for each administrator who has none', async () => {
    world = new FakeWorld();
    const t = put(Kinds.Tenant, Caches.tenants, {
      apiVersion: API,
      kind: 'Tenant',
      metadata: { name: 'bank', uid: 'uid-bank', generation: 1 },
      spec: { displayName: 'Bank', administrators: ['Ada.Lovelace@bank.example'], stack: 'eu-1' },
    } as Tenant);
    const r = new TenantReconciler(world.deps);
    await r.reconcile('bank');
    sync();
    await r.reconcile('bank');
    const ns = get<AnyObject>(Resources.Namespace, 'tenant-bank')!;
    expect(ns.metadata.labels).toMatchObject({ 'miniapps.dev/tenant': 'bank', 'miniapps.dev/stack': 'eu-1' });
    expect(ns.metadata.ownerReferences?.[0]?.uid).toBe(t.metadata.uid);
    const binding = get<AnyObject & { subjects: { name: string }[]; roleRef: { name: string } }>(Resources.RoleBinding, 'miniapps:tenant-administrators', 'tenant-bank')!;
    expect(binding.subjects.map((s) => s.name)).toEqual(['ada.lovelace@bank.example']);
    expect(binding.roleRef.name).toBe('miniapps:tenant-administrator');
    const made = world.store.all<User>(Kinds.User);
    expect(made.map((u) => [u.metadata.name, u.spec.email])).toEqual([[expect.stringMatching(/^ada-lovelace-[0-9a-f]{8}$/), 'Ada.Lovelace@bank.example']]);
    // Made once: the second reconcile found it by email.
    expect(world.store.writes.filter((w) => w.verb === 'create' && w.kind === 'User')).toHaveLength(1);
    const tenant = get<Tenant>(Kinds.Tenant, 'bank')!;
    expect(tenant.status?.namespace).toBe('tenant-bank');
    expect(condition(tenant, 'Ready')?.status).toBe('True');
  });

  it.each([
    { case: 'claimed by an organization', labels: { 'miniapps.dev/organization': 'acme' }, annotations: {}, reason: 'NamespaceConflict' },
    { case: 'not opted in', labels: {}, annotations: {}, reason: 'NamespaceNotAdoptable' },
    { case: 'opted in for another tenant', labels: {}, annotations: { 'miniapps.dev/adoptable-by': 'Tenant/other' }, reason: 'NamespaceNotAdoptable' },
  ])('leaves an existing namespace $case alone (Stalled)', async ({ labels, annotations, reason }) => {
    world = new FakeWorld();
    put(Resources.Namespace, Caches.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'tenant-bank', labels, annotations } } as AnyObject);
    put(Kinds.Tenant, Caches.tenants, {
      apiVersion: API,
      kind: 'Tenant',
      metadata: { name: 'bank', uid: 'uid-bank', generation: 1 },
      spec: { displayName: 'Bank', administrators: ['ada@bank.example'] },
    } as Tenant);
    await new TenantReconciler(world.deps).reconcile('bank');
    const tenant = get<Tenant>(Kinds.Tenant, 'bank')!;
    expect(condition(tenant, 'NamespaceReady')).toMatchObject({ status: 'False', reason });
    expect(condition(tenant, 'Stalled')?.status).toBe('True');
    expect(tenant.status?.namespace).toBeUndefined();
    expect(world.store.writes.filter((w) => w.kind === 'Namespace' || w.kind === 'RoleBinding' || w.kind === 'User')).toEqual([]);
  });

  it('adopts a namespace that opted in for it, without an ownerReference', async () => {
    world = new FakeWorld();
    put(Resources.Namespace, Caches.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'tenant-bank', annotations: { 'miniapps.dev/adoptable-by': 'Tenant/bank' } } } as AnyObject);
    put(Kinds.Tenant, Caches.tenants, { apiVersion: API, kind: 'Tenant', metadata: { name: 'bank', uid: 'uid-bank', generation: 1 }, spec: { displayName: 'Bank' } } as Tenant);
    await new TenantReconciler(world.deps).reconcile('bank');
    expect(condition(get<Tenant>(Kinds.Tenant, 'bank'), 'NamespaceReady')).toMatchObject({ status: 'True', reason: 'NamespaceAdopted' });
    const ns = get<AnyObject>(Resources.Namespace, 'tenant-bank')!;
    expect(ns.metadata.labels?.['miniapps.dev/tenant']).toBe('bank');
    expect(ns.metadata.ownerReferences).toBeUndefined();
  });

  it.each([
    { case: 'deletes a namespace it created for the tenant', adopted: false, deleted: true },
    { case: 'releases an adopted namespace (its labels off), never deleting it', adopted: true, deleted: false },
  ])('on deletion, $case, then lets the Tenant go', async ({ adopted, deleted }) => {
    world = new FakeWorld();
    const ns = adopted
      ? { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'tenant-bank', labels: { 'miniapps.dev/tenant': 'bank' } } }
      : {
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name: 'tenant-bank', labels: { 'miniapps.dev/tenant': 'bank' }, ownerReferences: [{ apiVersion: API, kind: 'Tenant', name: 'bank', uid: 'uid-bank', controller: true }] },
        };
    put(Resources.Namespace, Caches.namespaces, ns as AnyObject);
    put(Kinds.Tenant, Caches.tenants, {
      apiVersion: API,
      kind: 'Tenant',
      metadata: { name: 'bank', uid: 'uid-bank', generation: 1, deletionTimestamp: '2026-12-01T00:00:00Z', finalizers: ['miniapps.dev/tenant'] },
      spec: { displayName: 'Bank' },
      status: { namespace: 'tenant-bank' },
    } as Tenant);
    const r = new TenantReconciler(world.deps);
    await r.reconcile('bank');
    if (deleted) {
      expect(world.store.writes).toContainEqual({ verb: 'delete', kind: 'Namespace', key: 'tenant-bank' });
      await r.reconcile('bank'); // the namespace is gone now
    } else {
      expect(world.store.writes.filter((w) => w.verb === 'delete')).toEqual([]);
      expect(world.store.writes).toContainEqual({ verb: 'apply', kind: 'Namespace', key: 'tenant-bank' });
    }
    expect(get<Tenant>(Kinds.Tenant, 'bank')!.metadata.finalizers).toEqual([]);
  });
});

describe('the error contract (a failed write is in status, and thrown with its cause so the queue backs off)', () => {
  it('a UserGroup the API server fails to write: UserGroupsSynced False ApplyFailed, and the Subscription reconcile throws with the cause', async () => {
    subscription('tenant-t1');
    await converge(1);
    world.store.failing = (w) => (w.kind === 'UserGroup' && w.verb !== 'status' ? new ApiError(500, 'InternalError', 'etcdserver: leader changed') : undefined);
    for (const g of world.store.all<UserGroup>(Kinds.UserGroup)) world.caches.cache(Caches.userGroups).remove(`${g.metadata.namespace}/${g.metadata.name}`);
    const failure = await subscriptions.reconcile('tenant-t1/gated').then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    expect(failure?.message).toMatch(/The user groups could not be written/);
    expect((failure?.cause as Error | undefined)?.message).toBe('etcdserver: leader changed');
    expect(condition(get<Subscription>(Kinds.Subscription, 'gated', 'tenant-t1'), 'UserGroupsSynced')).toMatchObject({ status: 'False', reason: 'ApplyFailed' });
  });
});
