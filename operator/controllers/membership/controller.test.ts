// One reconcile step of the Membership controller on the in-memory caches and API server:
// an Active member is Ready only once they have the access: their role bound in the
// namespace (this controller) and the Organization's ClusterRoleBindings naming them
// (the Organization controller), so `kubectl wait --for=condition=Ready` returns when the
// person can act.
import { beforeEach, describe, expect, it } from 'vitest';
import type { Membership } from '../../api/membership/schema.ts';
import type { Organization } from '../../api/organization/schema.ts';
import { Kinds } from '../../api/registry.ts';
import { Caches } from '../../domain/caches.ts';
import { organizationClusterAccess } from '../../domain/rbac.ts';
import { FakeWorld } from '../testing.ts';
import { MembershipReconciler } from './controller.ts';

const signal = new AbortController().signal;
const sentAt = '2026-11-30T00:00:00Z';
let world: FakeWorld;
let reconciler: MembershipReconciler;
let org: Organization;

beforeEach(() => {
  world = new FakeWorld();
  reconciler = new MembershipReconciler(world.deps, { recipientKey: Buffer.alloc(32, 7) });
  org = world.put(Kinds.Organization, Caches.organizations, {
    apiVersion: 'miniapps.dev/v1alpha1',
    kind: 'Organization',
    metadata: { name: 'acme', generation: 1 },
    spec: { displayName: 'Acme' },
    status: { namespace: 'org-acme' },
  } as Organization);
});

/** A member who accepted the invitation (nothing is left to send). */
function accepted(name: string, email: string, role: Membership['spec']['role']): Membership {
  return world.put(Kinds.Membership, Caches.memberships, {
    apiVersion: 'miniapps.dev/v1alpha1',
    kind: 'Membership',
    metadata: { name, namespace: 'org-acme', generation: 1, creationTimestamp: sentAt },
    spec: { email, role },
    status: { invitation: { sentAt, expiresAt: '2026-12-07T00:00:00Z', attempts: 1, messageId: '<m@x>' }, acceptedAt: sentAt },
  } as Membership);
}

const ready = (name: string) => world.store.peek<Membership>(Kinds.Membership, name, 'org-acme')?.status?.conditions?.find((c) => c.type === 'Ready');
const granted = (name: string) => world.store.peek<Membership>(Kinds.Membership, name, 'org-acme')?.status?.conditions?.find((c) => c.type === 'AccessGranted');

/** The Organization controller's bindings for these members, in the cache. */
function organizationBindings(members: { email: string; role: Membership['spec']['role'] }[]) {
  for (const crb of organizationClusterAccess(org, members, world.deps.domain.settings()).clusterRoleBindings) world.caches.cache(Caches.ownedClusterRoleBindings).put(crb);
}

describe('Membership Ready means the person has the access', () => {
  it('an Active member whose name the Organization binding does not carry yet: role bound, not Ready; Ready once it does', async () => {
    accepted('ada', 'ada@acme.example', 'MiniAppDeveloper');
    await reconciler.reconcile('org-acme/ada', { signal });
    expect(granted('ada')).toMatchObject({ status: 'True', reason: 'RoleBound' });
    expect(ready('ada')).toMatchObject({ status: 'False', reason: 'OrganizationAccessPending' });
    expect(ready('ada')?.message).toMatch(/ClusterRoleBinding miniapps:org:acme:member does not name user ".*ada@acme\.example" yet/);

    organizationBindings([{ email: 'ada@acme.example', role: 'MiniAppDeveloper' }]);
    await reconciler.reconcile('org-acme/ada', { signal });
    expect(ready('ada')).toMatchObject({ status: 'True', reason: 'Active' });
  });

  it("an administrator needs the administrator binding too (a member's alone is not enough)", async () => {
    accepted('grace', 'grace@acme.example', 'OrganizationAdministrator');
    organizationBindings([{ email: 'grace@acme.example', role: 'MiniAppDeveloper' }]);
    await reconciler.reconcile('org-acme/grace', { signal });
    expect(ready('grace')).toMatchObject({ status: 'False', reason: 'OrganizationAccessPending' });
    expect(ready('grace')?.message).toContain(':administrator does not name');
    organizationBindings([{ email: 'grace@acme.example', role: 'OrganizationAdministrator' }]);
    await reconciler.reconcile('org-acme/grace', { signal });
    expect(ready('grace')).toMatchObject({ status: 'True', reason: 'Active' });
  });
});
