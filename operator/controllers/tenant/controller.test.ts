// The Tenant controller's error contract, one reconcile step on the in-memory caches and
// API server (controllers/testing.ts): a write that fails is recorded in status (a False
// condition saying what could not be written) and thrown, so the work queue backs off and
// retries; what retrying cannot fix (a reserved namespace name) is Stalled and not thrown.
import { beforeEach, describe, expect, it } from 'vitest';
import type { Tenant } from '../../api/tenant/schema.ts';
import { Caches } from '../../domain/caches.ts';
import { ApiError } from '../../runtime/errors.ts';
import type { RecordedWrite } from '../../runtime/testing.ts';
import { FakeWorld } from '../testing.ts';
import { Kinds } from '../../api/registry.ts';
import { TenantReconciler } from './controller.ts';

const signal = new AbortController().signal;
let world: FakeWorld;
let reconciler: TenantReconciler;

beforeEach(() => {
  world = new FakeWorld();
  reconciler = new TenantReconciler(world.deps);
});

function tenant(name = 'acme', spec: Partial<Tenant['spec']> = {}): Tenant {
  return world.put(Kinds.Tenant, Caches.tenants, {
    apiVersion: 'miniapps.dev/v1alpha1',
    kind: 'Tenant',
    metadata: { name, generation: 1 },
    spec: { displayName: 'Acme', administrators: ['ada@acme.example'], ...spec },
  } as Tenant);
}

const conditions = (name = 'acme') => Object.fromEntries((world.store.peek<Tenant>(Kinds.Tenant, name)?.status?.conditions ?? []).map((c) => [c.type, `${c.status} ${c.reason}`]));
const failOn = (match: (w: RecordedWrite) => boolean, err: Error = new ApiError(500, 'InternalError', 'etcdserver: request timed out')) => {
  world.store.failing = (w) => (match(w) ? err : undefined);
};

describe('Tenant controller: a failed write backs off, what cannot be retried stalls', () => {
  it('a namespace the API server fails to create: NamespaceReady False ApplyFailed in status, and the reconcile throws with the cause', async () => {
    tenant();
    failOn((w) => w.verb === 'create' && w.kind === 'Namespace');
    const failure = await reconciler.reconcile('acme', { signal }).then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    expect(failure?.message).toMatch(/Namespace tenant-acme could not be written/);
    expect((failure?.cause as Error | undefined)?.message).toBe('etcdserver: request timed out');
    expect(conditions()).toMatchObject({ NamespaceReady: 'False ApplyFailed', Ready: 'False ApplyFailed' });
  });

  it("the administrators' RBAC or a User that cannot be written: its condition False, and the reconcile throws", async () => {
    tenant();
    failOn((w) => w.kind === 'RoleBinding');
    await expect(reconciler.reconcile('acme', { signal })).rejects.toThrow(/RBAC could not be applied/);
    expect(conditions()).toMatchObject({ RBACReady: 'False ApplyFailed', Ready: 'False ApplyFailed' });

    world = new FakeWorld();
    reconciler = new TenantReconciler(world.deps);
    tenant();
    failOn((w) => w.verb === 'create' && w.kind === 'User');
    await expect(reconciler.reconcile('acme', { signal })).rejects.toThrow(/User for an administrator could not be created/);
    expect(conditions()).toMatchObject({ AdministratorsReady: 'False ApplyFailed', Ready: 'False ApplyFailed' });
  });

  it('a namespace that appeared meanwhile (AlreadyExists) throws to decide again, without an ApplyFailed condition', async () => {
    tenant();
    failOn((w) => w.verb === 'create' && w.kind === 'Namespace', new ApiError(409, 'AlreadyExists', 'namespaces "tenant-acme" already exists'));
    await expect(reconciler.reconcile('acme', { signal })).rejects.toThrow(/appeared meanwhile/);
    expect(conditions().NamespaceReady).toBeUndefined();
  });

  it('a reserved namespace name is Stalled, and not thrown (retrying cannot fix it); a good one is Ready', async () => {
    tenant('kube-system', { namespace: 'kube-system' } as Partial<Tenant['spec']>);
    await expect(reconciler.reconcile('kube-system', { signal })).resolves.not.toThrow();
    expect(conditions('kube-system')).toMatchObject({ Ready: 'False NamespaceReserved', Stalled: 'True NamespaceReserved' });

    tenant();
    await reconciler.reconcile('acme', { signal });
    expect(conditions()).toMatchObject({ NamespaceReady: 'True NamespaceCreated', RBACReady: 'True RBACApplied', Ready: 'True Ready' });
  });
});
