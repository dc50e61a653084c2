// The indexed caches several controllers, the webhook and the acceptance page share.
import { ADOPTABLE_BY_ANNOTATION } from '../api/constants.ts';
import type { Membership, Organization } from '../api/index.ts';
import type { AnyObject, ObjectBody } from '../runtime/kube/client.ts';
import { Resources } from '../runtime/kube/resource.ts';
import { keepOnly } from '../runtime/cache.ts';
import type { Informer } from '../runtime/cache.ts';
import type { Manager } from '../runtime/controller.ts';
import { Kinds, MANAGED_BY_SELECTOR } from './shared.ts';

export const Index = {
  namespace: 'namespace',
  email: 'email',
  uid: 'uid',
  owner: 'owner',
} as const;

export const emailKey = (namespace: string, email: string) => `${namespace}/${email.toLowerCase()}`;

/**
 * Organizations, indexed by the namespace they own: the one recorded in status, which
 * the operator records only once it created the namespace or the namespace opted in
 * (spec.namespace alone makes no namespace an organization's).
 */
export function organizations(manager: Manager): Informer<Organization> {
  const inf = manager.informer<Organization>(Kinds.Organization);
  inf.addIndexer(Index.namespace, (o) => (o.status?.namespace ? [o.status.namespace] : []));
  return inf;
}

/** The Organization whose namespace this is, if any. */
export function organizationOf(orgs: Informer<Organization>, namespace: string | undefined): Organization | undefined {
  return namespace ? orgs.byIndex(Index.namespace, namespace)[0] : undefined;
}

/** Memberships, indexed by namespace, by namespace and lowercased email, and by uid. */
export function memberships(manager: Manager): Informer<Membership> {
  const inf = manager.informer<Membership>(Kinds.Membership);
  inf.addIndexer(Index.namespace, (m) => [m.metadata.namespace!]);
  inf.addIndexer(Index.email, (m) => [emailKey(m.metadata.namespace!, m.spec.email)]);
  inf.addIndexer(Index.uid, (m) => (m.metadata.uid ? [m.metadata.uid] : []));
  return inf;
}

const byOwner = (o: AnyObject) => (o.metadata.ownerReferences ?? []).map((r) => r.uid);


/** The RoleBindings the operator made (only what it compares), indexed by owner uid. */
export function ownedBindings(manager: Manager): Informer<ObjectBody> {
  const inf = manager.informer<ObjectBody>(Resources.RoleBinding, { labelSelector: MANAGED_BY_SELECTOR, transform: keepOnly(['roleRef', 'subjects']) });
  inf.addIndexer(Index.owner, byOwner);
  return inf;
}

/** The RBAC objects the operator made, keeping only what it compares. */
export const ownedRbac = {
  roles: (m: Manager) => m.informer<ObjectBody>(Resources.Role, { labelSelector: MANAGED_BY_SELECTOR, transform: keepOnly(['rules']) }),
  clusterRoles: (m: Manager) => m.informer<ObjectBody>(Resources.ClusterRole, { labelSelector: MANAGED_BY_SELECTOR, transform: keepOnly(['rules']) }),
  clusterRoleBindings: (m: Manager) => m.informer<ObjectBody>(Resources.ClusterRoleBinding, { labelSelector: MANAGED_BY_SELECTOR, transform: keepOnly(['roleRef', 'subjects']) }),
};

/**
 * Every namespace (a claimed or foreign one must be seen to be refused): metadata, the
 * adoption opt-in annotation and phase only.
 */
export function allNamespaces<T extends AnyObject>(manager: Manager): Informer<T> {
  return manager.informer<T>(Resources.Namespace, { transform: keepOnly<T>(['status'], { annotations: [ADOPTABLE_BY_ANNOTATION] }) });
}
