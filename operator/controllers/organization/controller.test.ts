// One reconcile step of the Organization controller on in-memory caches and an
// in-memory API server (runtime/testing.ts): which writes it makes and which condition
// set it reports. The integration tests prove the controller on the real control plane.
import { beforeEach, describe, expect, it } from 'vitest';
import type { Membership } from '../../api/membership/schema.ts';
import type { Organization } from '../../api/organization/schema.ts';
import { Caches } from '../../domain/caches.ts';
import type { Namespace } from '../../domain/caches.ts';
import { NAMESPACE_ACCESS_FINALIZER, OPERATOR_BINDING_NAME, roleTableClusterRoles } from '../../domain/rbac.ts';
import { ApiError } from '../../runtime/errors.ts';
import { Resources } from '../../runtime/kube/resource.ts';
import type { FakeStore, MemoryCaches } from '../../runtime/testing.ts';
import { FakeWorld } from '../testing.ts';
import { CONFIRM_DELETE_ANNOTATION, CONFIRM_DELETE_VALUE } from '../../api/constants.ts';
import { Kinds } from '../../api/registry.ts';
import { OrganizationReconciler, membershipMattersToOrganization } from './controller.ts';

const now = new Date('2026-12-01T00:00:00Z');
let caches: MemoryCaches;
let store: FakeStore;
let events: string[];
let reconciler: OrganizationReconciler;
let world: FakeWorld;

const signal = new AbortController().signal;

function org(spec: Partial<Organization['spec']> = {}): Organization {
  return store.seed(Kinds.Organization, { apiVersion: 'miniapps.dev/v1alpha1', kind: 'Organization', metadata: { name: 'acme', generation: 1 }, spec: { displayName: 'Acme', ...spec } });
}

/** The caches see what the store has (as the informers would after the watch events). */
function sync(o: Organization): void {
  caches.cache(Caches.organizations).put(store.peek<Organization>(Kinds.Organization, o.metadata.name)!);
  const ns = store.peek<Namespace>(Resources.Namespace, `org-${o.metadata.name}`);
  if (ns) caches.cache(Caches.namespaces).put(ns);
}

const conditionTypes = () => store.peek<Organization>(Kinds.Organization, 'acme')?.status?.conditions?.map((c) => c.type);
const condition = (type: string) => store.peek<Organization>(Kinds.Organization, 'acme')?.status?.conditions?.find((c) => c.type === type);

beforeEach(() => {
  world = new FakeWorld(() => now);
  ({ caches, store, events } = world);
  const { deps } = world;
  reconciler = new OrganizationReconciler(deps);
});

describe('OrganizationReconciler, one step', () => {
  it('makes a new organization with at most 5 writes: its create, the finalizer, the namespace, its ResourceQuota and the status', async () => {
    for (const cr of roleTableClusterRoles()) caches.cache(Caches.ownedClusterRoles).put(cr); // the shared role table exists already
    sync(org());
    await reconciler.reconcile('acme', { signal });
    expect(store.writes).toEqual([
      { verb: 'finalizer', kind: 'Organization', key: 'acme' },
      { verb: 'create', kind: 'Namespace', key: 'org-acme' },
      { verb: 'apply', kind: 'ResourceQuota', key: 'org-acme/miniapps-quota' },
      { verb: 'status', kind: 'Organization', key: 'acme' },
    ]);
    expect(store.peek<Namespace>(Resources.Namespace, 'org-acme')?.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Organization', controller: true });
    expect(condition('Ready')).toMatchObject({ status: 'True', observedGeneration: 1 });
  });

  it('makes the role table once, for every organization', async () => {
    sync(org());
    await reconciler.reconcile('acme', { signal });
    expect(
      store.writes
        .filter((w) => w.kind === 'ClusterRole')
        .map((w) => w.key)
        .sort(),
    ).toEqual(
      roleTableClusterRoles()
        .map((r) => r.metadata.name)
        .sort(),
    );
  });

  it('reports the whole declared condition set, and drops a type that no longer applies', async () => {
    sync(org({ icon: { kind: 'ConfigMap', name: 'brand', key: 'icon.png' } }));
    await reconciler.reconcile('acme', { signal });
    expect(conditionTypes()).toEqual(['NamespaceReady', 'RBACReady', 'CapabilitiesRespected', 'IconValid', 'Ready']);
    // The icon is missing: Ready is False with the icon's reason (it gates Ready).
    expect(condition('Ready')).toMatchObject({ status: 'False', reason: 'IconMissing' });

    const withoutIcon = store.peek<Organization>(Kinds.Organization, 'acme')!;
    delete withoutIcon.spec.icon;
    withoutIcon.metadata.generation = 2;
    sync(store.seed(Kinds.Organization, withoutIcon));
    await reconciler.reconcile('acme', { signal });
    expect(conditionTypes()).toEqual(['NamespaceReady', 'RBACReady', 'CapabilitiesRespected', 'Ready']);
    expect(condition('Ready')).toMatchObject({ status: 'True', observedGeneration: 2 });
  });

  it('an icon that is not an image makes Ready False and Stalled True (retrying cannot fix it)', async () => {
    store.seed(Resources.ConfigMap, { metadata: { name: 'brand', namespace: 'org-acme', labels: { 'miniapps.dev/icon': 'true' } }, data: { 'icon.png': 'not an image' } });
    sync(org({ icon: { kind: 'ConfigMap', name: 'brand', key: 'icon.png' } }));
    await reconciler.reconcile('acme', { signal });
    expect(condition('Ready')).toMatchObject({ status: 'False', reason: 'IconNotAnImage' });
    expect(condition('Stalled')).toMatchObject({ status: 'True', reason: 'IconNotAnImage' });
  });

  it('leaves an existing namespace that did not opt in untouched: no write to it, Ready False, Stalled True', async () => {
    const ns = store.seed(Resources.Namespace, { metadata: { name: 'org-acme', labels: { team: 'x' } } });
    caches.cache(Caches.namespaces).put(ns);
    sync(org());
    await reconciler.reconcile('acme', { signal });
    expect(store.writes.filter((w) => w.kind === 'Namespace')).toEqual([]);
    expect(condition('Ready')).toMatchObject({ status: 'False', reason: 'NamespaceNotAdoptable' });
    expect(condition('Stalled')).toMatchObject({ status: 'True', reason: 'NamespaceNotAdoptable' });
    expect(store.peek<Organization>(Kinds.Organization, 'acme')?.status?.namespace).toBeUndefined();
    expect(events).toContain('Warning NamespaceNotAdoptable');
  });

  it('an organization waiting for its first administrator is Ready (a person, not the spec, must act)', async () => {
    sync(org());
    const m = {
      apiVersion: 'miniapps.dev/v1alpha1',
      kind: 'Membership',
      metadata: { name: 'boss', namespace: 'org-acme', uid: 'u1' },
      spec: { email: 'boss@example.com', role: 'OrganizationAdministrator' as const },
    };
    caches.cache(Caches.memberships).put(m);
    // The namespace is recorded by the first step; the members are counted from then on.
    await reconciler.reconcile('acme', { signal });
    sync(store.peek<Organization>(Kinds.Organization, 'acme')!);
    await reconciler.reconcile('acme', { signal });
    expect(condition('AdministratorActive')).toMatchObject({ status: 'False', reason: 'NoActiveAdministrator' });
    expect(condition('Ready')).toMatchObject({ status: 'True' });
  });
});

describe('which Membership changes reconcile the Organization', () => {
  const m = (status: Record<string, unknown>, meta: Record<string, unknown> = {}) =>
    ({ apiVersion: 'miniapps.dev/v1alpha1', kind: 'Membership', metadata: { name: 'm', namespace: 'org-acme', generation: 1, ...meta }, spec: { user: 'a@x.io', role: 'Developer' }, status }) as never;
  const base = { phase: 'Invited', invitation: { sentAt: '2026-12-01T00:00:00Z' } };
  it.each([
    ['a spec change', m(base), m(base, { generation: 2 }), true],
    ['a phase change', m(base), m({ ...base, phase: 'Active' }), true],
    ['an acceptance', m(base), m({ ...base, acceptedAt: '2026-12-01T00:01:00Z' }), true],
    ['a deletion started', m(base), m(base, { deletionTimestamp: '2026-12-01T00:02:00Z' }), true],
    ['invitation bookkeeping', m(base), m({ ...base, invitation: { sentAt: '2026-12-01T00:03:00Z', recentResends: ['x'] } }), false],
    ['its conditions', m(base), m({ ...base, conditions: [{ type: 'Ready', status: 'False' }] }), false],
  ])('%s: %s', (_what, a, b, expected) => expect(membershipMattersToOrganization(a, b)).toBe(expected));
});

describe("the operator's access in a namespace being deleted", () => {
  const access = { serviceAccount: { namespace: 'op', name: 'op' }, clusterRole: 'op-namespace' };
  const binding = () => store.peek<{ metadata: { finalizers?: string[] } } & Organization>(Resources.RoleBinding, OPERATOR_BINDING_NAME, 'org-acme');
  /** The Organization reconciled with the operator's namespace access, its binding made. */
  async function converged(): Promise<void> {
    reconciler = new OrganizationReconciler(world.deps, { namespaceAccess: access });
    for (const cr of roleTableClusterRoles()) caches.cache(Caches.ownedClusterRoles).put(cr);
    sync(org());
    await reconciler.reconcile('acme', { signal });
    sync(store.peek<Organization>(Kinds.Organization, 'acme')!);
    await reconciler.reconcile('acme', { signal });
  }
  /** With a mini app still in the namespace the binding keeps its finalizer; once it is gone, it is let go. */
  async function heldWhileAMiniAppIsLeft(): Promise<void> {
    miniAppStillThere();
    await reconciler.reconcile('acme', { signal });
    expect(binding()?.metadata.finalizers).toEqual([NAMESPACE_ACCESS_FINALIZER]);
    caches.cache(Caches.miniApps).remove('org-acme/pay');
    await reconciler.reconcile('acme', { signal });
    expect(binding()?.metadata.finalizers).toEqual([]);
  }
  const miniAppStillThere = () =>
    caches
      .cache(Caches.miniApps)
      .put({ apiVersion: 'miniapps.dev/v1alpha1', kind: 'MiniApp', metadata: { name: 'pay', namespace: 'org-acme', finalizers: ['miniapps.dev/miniapp'] }, spec: {} } as never);
  it("is held by its RoleBinding's finalizer until nothing it reconciles is left there, then let go", async () => {
    await converged();
    expect(binding()?.metadata.finalizers).toEqual([NAMESPACE_ACCESS_FINALIZER]);

    // Deleted (confirmed); its namespace terminating with a mini app still in it.
    const o = store.peek<Organization>(Kinds.Organization, 'acme')!;
    store.seed(Kinds.Organization, { ...o, metadata: { ...o.metadata, deletionTimestamp: now.toISOString(), annotations: { [CONFIRM_DELETE_ANNOTATION]: CONFIRM_DELETE_VALUE } } });
    const ns = store.peek<Namespace>(Resources.Namespace, 'org-acme')!;
    store.seed(Resources.Namespace, { ...ns, metadata: { ...ns.metadata, deletionTimestamp: now.toISOString() } });
    sync(o);
    await heldWhileAMiniAppIsLeft();
  });

  it('is let go the same way when someone deletes an adopted namespace while its Organization stays', async () => {
    await converged();
    expect(binding()?.metadata.finalizers).toEqual([NAMESPACE_ACCESS_FINALIZER]);
    // Adopted (no controlling owner), then deleted by someone, with a mini app still in it.
    const ns = store.peek<Namespace>(Resources.Namespace, 'org-acme')!;
    const going = { ...ns, metadata: { ...ns.metadata, ownerReferences: [], deletionTimestamp: now.toISOString() } };
    store.seed(Resources.Namespace, going);
    caches.cache(Caches.namespaces).put(going as never);
    await heldWhileAMiniAppIsLeft();
  });
});

describe('OrganizationReconciler: the error contract', () => {
  it('a namespace the API server fails to create: NamespaceReady and Ready False ApplyFailed in status, and the reconcile throws with the cause (the queue backs off)', async () => {
    sync(org());
    store.failing = (w) => (w.verb === 'create' && w.kind === 'Namespace' ? new ApiError(500, 'InternalError', 'etcdserver: request timed out') : undefined);
    const failure = await reconciler.reconcile('acme', { signal }).then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    expect(failure?.message).toMatch(/Namespace org-acme could not be applied/);
    expect((failure?.cause as Error | undefined)?.message).toBe('etcdserver: request timed out');
    expect(condition('NamespaceReady')).toMatchObject({ status: 'False', reason: 'ApplyFailed' });
    expect(condition('Ready')).toMatchObject({ status: 'False', reason: 'ApplyFailed' });
  });
});

describe("OrganizationReconciler: RBACReady checks the members' bindings", () => {
  it("is False (MemberRolesPending, naming the Membership) while an active member's RoleBinding is missing, True once it is there", async () => {
    for (const cr of roleTableClusterRoles()) caches.cache(Caches.ownedClusterRoles).put(cr);
    sync(org());
    caches.cache(Caches.memberships).put({
      apiVersion: 'miniapps.dev/v1alpha1',
      kind: 'Membership',
      metadata: { name: 'dev', namespace: 'org-acme', uid: 'uid-dev' },
      spec: { email: 'dev@acme.example', role: 'MiniAppDeveloper', acceptance: 'Automatic' },
      status: { conditions: [{ type: 'AccessGranted', status: 'True', reason: 'RoleBound', message: '', lastTransitionTime: '2026-12-01T00:00:00Z' }] },
    } as Membership);
    await reconciler.reconcile('acme', { signal });
    sync(store.peek<Organization>(Kinds.Organization, 'acme')!);
    await reconciler.reconcile('acme', { signal });
    expect(condition('RBACReady')).toMatchObject({ status: 'False', reason: 'MemberRolesPending' });
    expect(condition('RBACReady')?.message).toBe('0 of 1 active member(s) have their role bound in org-acme; waiting for the RoleBinding of Membership(s) dev');
    expect(condition('Ready')).toMatchObject({ status: 'False', reason: 'MemberRolesPending' });

    // The Membership controller binds the member's role (a RoleBinding it owns).
    caches.cache(Caches.ownedRoleBindings).put({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'miniapps-member-dev', namespace: 'org-acme', ownerReferences: [{ apiVersion: 'miniapps.dev/v1alpha1', kind: 'Membership', name: 'dev', uid: 'uid-dev', controller: true }] },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'miniapps-member-dev' },
      subjects: [{ kind: 'User', name: 'dev@acme.example' }],
    } as never);
    await reconciler.reconcile('acme', { signal });
    expect(condition('RBACReady')).toMatchObject({ status: 'True', reason: 'RBACApplied' });
    expect(condition('RBACReady')?.message).toContain('the role of each whose Membership says AccessGranted is bound in org-acme');
    expect(condition('Ready')).toMatchObject({ status: 'True' });
  });
});

describe('OrganizationReconciler: App Center makes the creator administrator', () => {
  const platform = (spec: Record<string, unknown>) =>
    caches.cache(Caches.platformConfigs).put({ apiVersion: 'miniapps.dev/v1alpha1', kind: 'PlatformConfig', metadata: { name: 'default' }, spec } as never);
  const creatorOrg = (createdBy: string) =>
    store.seed(Kinds.Organization, {
      apiVersion: 'miniapps.dev/v1alpha1',
      kind: 'Organization',
      metadata: { name: 'acme', generation: 1, uid: 'uid-acme', annotations: { 'miniapps.dev/created-by': createdBy } },
      spec: { displayName: 'Acme' },
    });
  const memberships = () => store.writes.filter((w) => w.kind === 'Membership');

  it('waits for the namespace to be recorded, then makes Membership creator (OrganizationAdministrator, Automatic) for the email after userPrefix', async () => {
    platform({ organizationModel: 'AppCenter', userPrefix: 'oidc:' });
    sync(creatorOrg('oidc:ann@acme.example'));
    await reconciler.reconcile('acme', { signal });
    expect(memberships()).toEqual([]);
    expect(condition('CreatorAdministrator')).toMatchObject({ status: 'Unknown', reason: 'CreatorMembershipPending' });
    sync(store.peek<Organization>(Kinds.Organization, 'acme')!);
    await reconciler.reconcile('acme', { signal });
    expect(memberships()).toEqual([{ verb: 'create', kind: 'Membership', key: 'org-acme/creator' }]);
    expect(store.peek<{ spec: unknown } & Organization>(Kinds.Membership, 'creator', 'org-acme')?.spec).toEqual({
      email: 'ann@acme.example',
      role: 'OrganizationAdministrator',
      acceptance: 'Automatic',
    });
    expect(condition('CreatorAdministrator')).toMatchObject({ status: 'True', reason: 'CreatorMembershipMade' });
    expect(condition('Ready')).toMatchObject({ status: 'True' });
  });

  it.each([
    ['a user name without the userPrefix', 'ann@acme.example'],
    ['a ServiceAccount', 'system:serviceaccount:ci:deployer'],
  ])('makes no Membership for %s, and says why', async (_, createdBy) => {
    platform({ organizationModel: 'AppCenter', userPrefix: 'oidc:' });
    sync(creatorOrg(createdBy));
    await reconciler.reconcile('acme', { signal });
    sync(store.peek<Organization>(Kinds.Organization, 'acme')!);
    await reconciler.reconcile('acme', { signal });
    expect(memberships()).toEqual([]);
    expect(condition('CreatorAdministrator')).toMatchObject({ status: 'False', reason: 'CreatorNotAPerson' });
  });

  it("does nothing for the creator with the Mini App Center's model", async () => {
    platform({ userPrefix: 'oidc:' });
    sync(creatorOrg('oidc:ann@acme.example'));
    await reconciler.reconcile('acme', { signal });
    sync(store.peek<Organization>(Kinds.Organization, 'acme')!);
    await reconciler.reconcile('acme', { signal });
    expect(memberships()).toEqual([]);
    expect(condition('CreatorAdministrator')).toBeUndefined();
  });
});
