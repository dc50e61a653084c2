// Every cache the operator keeps, declared once: resource, label selector, the fields
// kept, the indexes. Controllers, admission rules and HTTP routes ask the Manager for a
// declaration of this table (`manager.cache(Caches.organizations)`); a second
// declaration of the same resource and selector is an error at start.
import { ADOPTABLE_BY_ANNOTATION } from '../api/constants.ts';
import type { ApiKey, Membership, Organization, PlatformConfig } from '../api/index.ts';
import type { AnyObject, ObjectBody } from '../runtime/kube/client.ts';
import { Resources } from '../runtime/kube/resource.ts';
import { declareCache, keepOnly } from '../runtime/cache.ts';
import { Kinds, MANAGED_BY_SELECTOR } from '../controllers/shared.ts';

export const Index = {
  namespace: 'namespace',
  email: 'email',
  uid: 'uid',
  owner: 'owner',
  /** Organizations by the organization/name of each super app in their miniAppTargets. */
  target: 'target',
  /** ApiKeys by the keyId of their current key and of the previous one (while it is recorded). */
  keyId: 'keyId',
} as const;

export const emailKey = (namespace: string, email: string) => `${namespace}/${email.toLowerCase()}`;
export const targetKey = (organization: string, name: string) => `${organization}/${name}`;

export type Namespace = AnyObject & { status?: { phase?: string } };

const byNamespace = (o: AnyObject) => (o.metadata.namespace ? [o.metadata.namespace] : []);
const byOwner = (o: AnyObject) => (o.metadata.ownerReferences ?? []).map((r) => r.uid);

/** The RBAC objects the operator made, keeping only what it compares (equal rules shared). */
const ownedRbac = (name: string, resource: (typeof Resources)['Role' | 'RoleBinding' | 'ClusterRole' | 'ClusterRoleBinding'], fields: string[]) =>
  declareCache<ObjectBody>({ name, resource, labelSelector: MANAGED_BY_SELECTOR, transform: keepOnly(fields), indexes: { [Index.owner]: byOwner } });

export const Caches = {
  platformConfigs: declareCache<PlatformConfig>({ name: 'platformconfigs', resource: Kinds.PlatformConfig }),
  /**
   * Organizations, indexed by the namespace they own (the one recorded in status, which
   * the operator records only once it created the namespace or the namespace opted in:
   * spec.namespace alone makes no namespace an organization's) and by mini app target.
   */
  organizations: declareCache<Organization>({
    name: 'organizations',
    resource: Kinds.Organization,
    indexes: {
      [Index.namespace]: (o) => (o.status?.namespace ? [o.status.namespace] : []),
      [Index.target]: (o) => (o.spec.miniAppTargets ?? []).map((t) => targetKey(t.organization, t.name)),
    },
  }),
  /** Memberships, by namespace, by namespace and lowercased email, and by uid. */
  memberships: declareCache<Membership>({
    name: 'memberships',
    resource: Kinds.Membership,
    indexes: {
      [Index.namespace]: (m) => [m.metadata.namespace!],
      [Index.email]: (m) => [emailKey(m.metadata.namespace!, m.spec.email)],
      [Index.uid]: (m) => (m.metadata.uid ? [m.metadata.uid] : []),
    },
  }),
  /**
   * ApiKeys, by the keyIds they answer for (current and previous: what verification looks
   * up), by namespace and lowercased owner email (what a Membership concerns), and by
   * namespace.
   */
  apiKeys: declareCache<ApiKey>({
    name: 'apikeys',
    resource: Kinds.ApiKey,
    indexes: {
      [Index.keyId]: (k) => [k.status?.keyId, k.status?.previousKey?.keyId].filter((id): id is string => !!id),
      [Index.email]: (k) => [emailKey(k.metadata.namespace!, k.spec.owner)],
      [Index.namespace]: (k) => [k.metadata.namespace!],
    },
  }),
  superApps: declareCache({ name: 'superapps', resource: Kinds.SuperApp, indexes: { [Index.namespace]: byNamespace } }),
  miniApps: declareCache({ name: 'miniapps', resource: Kinds.MiniApp, indexes: { [Index.namespace]: byNamespace } }),
  /**
   * Every namespace (a claimed or foreign one must be seen to be refused): metadata, the
   * adoption opt-in annotation and phase only.
   */
  namespaces: declareCache<Namespace>({ name: 'namespaces', resource: Resources.Namespace, transform: keepOnly<Namespace>(['status'], { annotations: [ADOPTABLE_BY_ANNOTATION] }) }),
  ownedRoles: ownedRbac('owned roles', Resources.Role, ['rules']),
  ownedRoleBindings: ownedRbac('owned rolebindings', Resources.RoleBinding, ['roleRef', 'subjects']),
  ownedClusterRoles: ownedRbac('owned clusterroles', Resources.ClusterRole, ['rules']),
  ownedClusterRoleBindings: ownedRbac('owned clusterrolebindings', Resources.ClusterRoleBinding, ['roleRef', 'subjects']),
} as const;
