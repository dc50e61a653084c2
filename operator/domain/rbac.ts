// The role table of the contract (api.md, "Kinds in an organization's namespace") as
// Kubernetes RBAC: pure functions from an Organization and its members to the Roles,
// RoleBindings, ClusterRoles and ClusterRoleBindings that grant it. The controllers
// apply what these return; nothing here calls the API.
//
// What RBAC cannot say, and who says it instead:
// - "their own" API keys: RBAC cannot match spec.owner, so a member who is not an
//   administrator may only create and patch apikeys here (an admission policy makes the API server
//   accept only keys, created or patched, whose spec.owner is the requester, unless RBAC allows `update` on
//   `apikeys/owner`, which administrators hold); each key's owner is then given that key
//   alone, by name (get, watch, update, patch, delete, its status and its Secrets), by
//   the ApiKey controller. So a non-administrator neither lists nor reads anyone else's
//   keys.
// - "Creating a super app or mini app also needs the organization's capability": the
//   webhook checks spec.capabilities; RBAC only grants create.
// - Watching one object by name (`kubectl get -w NAME`, `kubectl wait`) is allowed
//   wherever `get` is limited by resourceNames, so those rules grant `watch` too.

import { API_KEY_OWNER_SUBRESOURCE } from '../api/apikey/names.ts';
import { GROUP, lowerAscii } from '../api/constants.ts';
import { AppCenterRoles, MiniAppCenterRoles } from '../api/membership/names.ts';
import { ORGANIZATION_ICON_CONFIGMAP } from '../api/organization/names.ts';
import { DEFAULT_ORGANIZATION_MODEL } from '../api/platformconfig/names.ts';
import type { OrganizationModel } from '../api/platformconfig/names.ts';
import type { AppCenterRole, Membership, MiniAppCenterRole, Role } from '../api/membership/schema.ts';
import type { Organization } from '../api/organization/schema.ts';
import { controllerRef } from '../runtime/apply.ts';
import type { ObjectMetaLike } from '../runtime/kube/client.ts';
import { MANAGED_BY, ownedLabels } from '../runtime/objects.ts';
import { ALL_VERBS, READ_VERBS, RBAC_API_VERSION, RBAC_GROUP, shortHash, sortedSubjects, userSubject } from './rbac-types.ts';
import type { ClusterRole, ClusterRoleBinding, PolicyRule, RbacRole, RoleBinding } from './rbac-types.ts';

/**
 * "Their own" API keys: create here, and patch, so that `kubectl apply --server-side -f
 * key.yaml` (a PATCH that creates) works as it does for every other object; the admission
 * policy apikey-owner refuses any create or patch of a key whose spec.owner is not the
 * requester (and spec.owner cannot change), so patch reaches only their own keys. No get
 * or list: the ApiKey controller grants each owner their own keys by name.
 */
export const OWN_KEY_VERBS = ['create', 'patch'] as const;
/** What a rule limited by resourceNames can grant (list and create never name an object). */
const NAMED_VERBS: readonly string[] = ['get', 'watch', 'update', 'patch', 'delete'];

/** The resources of an organization's namespace that the role table covers, in rule order. */
export const ORGANIZATION_RESOURCES = ['superapps', 'miniapps', 'miniappreviews', 'memberships', 'apikeys', 'solutions', 'appmanifests'] as const;
export type OrganizationResource = (typeof ORGANIZATION_RESOURCES)[number];

/** The contract's role table (Mini App Center, seed 000): verbs per role and resource. Reading is everyone's. */
export const ROLE_TABLE: Record<MiniAppCenterRole, Record<OrganizationResource, readonly string[]>> = {
  OrganizationAdministrator: {
    superapps: ALL_VERBS,
    miniapps: ALL_VERBS,
    miniappreviews: READ_VERBS,
    memberships: ALL_VERBS,
    apikeys: ALL_VERBS,
    solutions: ALL_VERBS,
    appmanifests: ALL_VERBS,
  },
  SuperAppAdministrator: {
    superapps: ALL_VERBS,
    miniapps: READ_VERBS,
    miniappreviews: READ_VERBS,
    memberships: READ_VERBS,
    apikeys: OWN_KEY_VERBS,
    solutions: ALL_VERBS,
    appmanifests: READ_VERBS,
  },
  MiniAppDeveloper: {
    superapps: READ_VERBS,
    miniapps: ALL_VERBS,
    miniappreviews: READ_VERBS,
    memberships: READ_VERBS,
    apikeys: OWN_KEY_VERBS,
    solutions: READ_VERBS,
    appmanifests: ALL_VERBS,
  },
  MiniAppReviewer: {
    superapps: READ_VERBS,
    miniapps: READ_VERBS,
    miniappreviews: ALL_VERBS,
    memberships: READ_VERBS,
    apikeys: OWN_KEY_VERBS,
    solutions: READ_VERBS,
    appmanifests: READ_VERBS,
  },
};

const NONE: readonly string[] = [];

/**
 * App Center's matrix (seed 002) as the same kind of table. Its columns, here: "create
 * apps" is create on super apps and mini apps (the organization's capabilities still
 * apply); "see every app" is read on all of them, else only those the member belongs to
 * (Membership spec.apps and the apps they created: see memberAccess); "manage the
 * settings" is update of the Organization; "add people" is writing Memberships;
 * "distribution groups and shared teams" is deciding which mini apps reach the
 * organization's super apps: MiniAppReviews. Solutions and app manifests are not App
 * Center's: only its Admin has them.
 */
export const APP_CENTER_TABLE: Record<AppCenterRole, Record<OrganizationResource, readonly string[]>> = {
  OrganizationAdministrator: {
    superapps: ALL_VERBS,
    miniapps: ALL_VERBS,
    miniappreviews: ALL_VERBS,
    memberships: ALL_VERBS,
    apikeys: ALL_VERBS,
    solutions: ALL_VERBS,
    appmanifests: ALL_VERBS,
  },
  Collaborator: {
    superapps: ALL_VERBS,
    miniapps: ALL_VERBS,
    miniappreviews: ALL_VERBS,
    memberships: READ_VERBS,
    apikeys: OWN_KEY_VERBS,
    solutions: NONE,
    appmanifests: NONE,
  },
  Member: {
    superapps: ALL_VERBS,
    miniapps: ALL_VERBS,
    miniappreviews: NONE,
    memberships: READ_VERBS,
    apikeys: OWN_KEY_VERBS,
    solutions: NONE,
    appmanifests: NONE,
  },
};

/** Whether `role` is one of `model`'s roles. */
export const roleInModel = (role: Role, model: OrganizationModel): boolean =>
  (model === 'AppCenter' ? (AppCenterRoles as readonly string[]) : (MiniAppCenterRoles as readonly string[])).includes(role);

/** The model a role's rules come from: its own model's, OrganizationAdministrator's from `model`. */
const modelOf = (role: Role, model: OrganizationModel): OrganizationModel =>
  role === 'OrganizationAdministrator' ? model : (AppCenterRoles as readonly string[]).includes(role) ? 'AppCenter' : 'MiniAppCenter';

/** The verbs `role` holds on `resource` under `model`. */
export function tableVerbs(role: Role, resource: OrganizationResource, model: OrganizationModel = DEFAULT_ORGANIZATION_MODEL): readonly string[] {
  return modelOf(role, model) === 'AppCenter' ? APP_CENTER_TABLE[role as AppCenterRole][resource] : ROLE_TABLE[role as MiniAppCenterRole][resource];
}

/** App Center's Collaborator and Member see only the apps they belong to, whatever spec.apps says. */
export const seesOnlyOwnApps = (role: Role): boolean => role === 'Collaborator' || role === 'Member';

/** The Role (in the organization's namespace) of each organization role. */
export const ORGANIZATION_ROLE_NAMES: Record<MiniAppCenterRole, string> = {
  OrganizationAdministrator: 'miniapps:organization-administrator',
  SuperAppAdministrator: 'miniapps:superapp-administrator',
  MiniAppDeveloper: 'miniapps:miniapp-developer',
  MiniAppReviewer: 'miniapps:miniapp-reviewer',
};

/** Which resource a Membership's spec.apps entry limits. */
const APP_RESOURCES: Record<NonNullable<Membership['spec']['apps']>[number]['kind'], OrganizationResource> = {
  SuperApp: 'superapps',
  MiniApp: 'miniapps',
};

type Apps = NonNullable<Membership['spec']['apps']>;

const rule = (resources: string[], verbs: readonly string[], resourceNames?: string[]): PolicyRule => ({
  apiGroups: [GROUP],
  resources,
  verbs: [...verbs],
  ...(resourceNames ? { resourceNames } : {}),
});

/**
 * The rules of `role`: per resource, the table's verbs and `get` of its status. With
 * `apps`, super apps and mini apps are limited to the named ones (no list, no create);
 * a kind with no named app is not granted at all. App Center's Collaborator and Member
 * (who always pass `apps`: what they belong to) keep `create`: they make apps, and then
 * belong to what they made.
 */
export function roleRules(role: Role, apps?: Apps, model: OrganizationModel = DEFAULT_ORGANIZATION_MODEL): PolicyRule[] {
  return ORGANIZATION_RESOURCES.flatMap((resource) => {
    const verbs = tableVerbs(role, resource, model);
    if (verbs.length === 0) return [];
    // Keys: only their own, by name (the ApiKey controller); administrators hold any key for anyone.
    if (resource === 'apikeys' && verbs === OWN_KEY_VERBS) return [rule([resource], verbs)];
    if (resource === 'apikeys') return [rule([resource], verbs), rule([`${resource}/status`], ['get']), rule([`${resource}/${API_KEY_OWNER_SUBRESOURCE}`], ['update'])];
    const limited = apps !== undefined && Object.values(APP_RESOURCES).includes(resource);
    if (!limited) return [rule([resource], verbs), rule([`${resource}/status`], ['get'])];
    const names = [...new Set(apps.filter((a) => APP_RESOURCES[a.kind] === resource).map((a) => a.name))].sort();
    const create = seesOnlyOwnApps(role) && verbs.includes('create') ? [rule([resource], ['create'])] : [];
    if (names.length === 0) return create;
    return [
      ...create,
      rule(
        [resource],
        verbs.filter((v) => NAMED_VERBS.includes(v)),
        names,
      ),
      rule([`${resource}/status`], ['get'], names),
    ];
  });
}

/**
 * Seed 003's uploaded artifacts: a member who may update Solutions or AppManifests (a
 * solution's owners, an app's developers) may create and patch ConfigMaps of the
 * namespace, by their member Role (not the role table's ClusterRoles, which grant nothing
 * outside miniapps.dev). No get, list or watch: the namespace's other ConfigMaps (an icon
 * candidate, anything a person keeps there) stay unreadable to them; they upload with
 * `kubectl create -f` or `kubectl apply --server-side -f`, and their Solution or AppManifest
 * carries the annotation miniapps.dev/manifest-artifact-only (the manifest-source policy);
 * the admission policy
 * miniapps.dev-manifest-artifacts limits that to ConfigMaps labelled miniapps.dev/manifest
 * of a kind they may update. The verbs are the operator's own there (namespace access), so
 * the operator may grant them; no delete (clear the Solution's manifestFrom instead).
 */
export const MANIFEST_ARTIFACT_VERBS = ['create', 'patch'] as const;
export function manifestArtifactRules(role: Role, model: OrganizationModel = DEFAULT_ORGANIZATION_MODEL): PolicyRule[] {
  const writes = tableVerbs(role, 'solutions', model).includes('update') || tableVerbs(role, 'appmanifests', model).includes('update');
  return writes ? [{ apiGroups: [''], resources: ['configmaps'], verbs: [...MANIFEST_ARTIFACT_VERBS] }] : [];
}

const organizationLabels = (org: Organization) => ownedLabels('Organization', org.metadata.name);

/** Labels the role table's shared ClusterRoles. */
export const ROLE_TABLE_LABELS = { ...MANAGED_BY, [`${GROUP}/role-table`]: 'true' } as const;

/**
 * The role table as four shared ClusterRoles (`miniapps:organization-administrator`,
 * ...), made once for the whole platform, as Kubernetes does with `admin`, `edit` and
 * `view`: a RoleBinding in an organization's namespace grants a role there (e.g. to an
 * identity provider's group, by hand). Members get a Role of their own (memberAccess),
 * so a new organization costs no RBAC writes at all.
 */
export function roleTableClusterRoles(): ClusterRole[] {
  return (Object.keys(ORGANIZATION_ROLE_NAMES) as MiniAppCenterRole[]).map((role) => ({
    apiVersion: RBAC_API_VERSION,
    kind: 'ClusterRole',
    metadata: { name: ORGANIZATION_ROLE_NAMES[role], labels: { ...ROLE_TABLE_LABELS } },
    rules: roleRules(role),
  }));
}

/** `miniapps:member:<16 hex digits of SHA-256 of the lowercased email>`: stable, and free of the email. */
export function memberBindingName(email: string): string {
  return `miniapps:member:${shortHash(lowerAscii(email))}`;
}

/**
 * What the operator knows of the organization's namespace beyond the Membership: the apps
 * each person created (annotation miniapps.dev/created-by, checked by the API server at
 * creation) and each super app's catalog ConfigMaps (the live one and the snapshots).
 */
export interface NamespaceReach {
  /** The apps whose miniapps.dev/created-by is this member's user name. */
  created?: Apps;
  /** Every super app of the namespace and the names of its catalog ConfigMaps. */
  catalogs?: { superApp: string; configMaps: string[] }[];
}

/**
 * The rules of a member: their role's (under the platform's organization model), the
 * super app and mini app rules limited to spec.apps when it is not empty (for App
 * Center's Collaborator and Member always: spec.apps and the apps they created), `get`
 * of the catalog ConfigMaps of every super app they may update (the people who manage a
 * super app read what it publishes; ConfigMaps by name, nothing else of the namespace),
 * and get and delete of their own Membership (so they can leave).
 */
export function memberRules(membership: Membership, model: OrganizationModel = DEFAULT_ORGANIZATION_MODEL, reach: NamespaceReach = {}): PolicyRule[] {
  const { role: memberRole, apps } = membership.spec;
  const own = seesOnlyOwnApps(memberRole);
  const listed = apps ?? [];
  const belongs: Apps | undefined = own ? [...listed, ...(reach.created ?? [])] : listed.length > 0 ? listed : undefined;
  const rules = roleRules(memberRole, belongs, model);
  const updatesSuperApps = tableVerbs(memberRole, 'superapps', model).includes('update');
  const managed = !updatesSuperApps ? [] : (reach.catalogs ?? []).filter((c) => belongs === undefined || belongs.some((a) => a.kind === 'SuperApp' && a.name === c.superApp));
  const catalogNames = [...new Set(managed.flatMap((c) => c.configMaps))].sort();
  if (catalogNames.length > 0) rules.push({ apiGroups: [''], resources: ['configmaps'], verbs: ['get'], resourceNames: catalogNames });
  // The organization icon's ConfigMap (the operator makes it): its administrators set the icon with their own rights.
  if (memberRole === 'OrganizationAdministrator') rules.push({ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'patch'], resourceNames: [ORGANIZATION_ICON_CONFIGMAP] });
  // Events: RBAC cannot limit them to the objects they regard, so only administrators, who read every object here (others' API keys included), read them.
  if (memberRole === 'OrganizationAdministrator') rules.push({ apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: [...READ_VERBS] });
  rules.push(...manifestArtifactRules(memberRole, model));
  rules.push(rule(['memberships'], ['get', 'delete'], [membership.metadata.name]));
  return rules;
}

/**
 * What an active member is granted in the organization's namespace: a Role of their
 * own (named by memberBindingName) with memberRules; and a RoleBinding of that Role to
 * the member's Kubernetes user (`userPrefix` + the lowercased email, see userName). Both
 * are owned by the Membership. The roleRef is always the member's own Role, so a change
 * of role or apps limit only rewrites the Role's rules. Invited, expired and suspended
 * members get nothing: the caller deletes what exists.
 */
export function memberAccess(
  membership: Membership,
  org: Organization,
  namespace: string,
  settings: { userPrefix: string; organizationModel?: OrganizationModel },
  reach: NamespaceReach = {},
): { role: RbacRole; roleBinding: RoleBinding } {
  const { email } = membership.spec;
  const name = memberBindingName(email);
  const metadata = () => ({
    name,
    namespace,
    labels: { ...organizationLabels(org), ...ownedLabels('Membership', membership.metadata.name) },
    ownerReferences: [controllerRef(membership)],
  });
  return {
    role: { apiVersion: RBAC_API_VERSION, kind: 'Role', metadata: metadata(), rules: memberRules(membership, settings.organizationModel, reach) },
    roleBinding: {
      apiVersion: RBAC_API_VERSION,
      kind: 'RoleBinding',
      metadata: metadata(),
      roleRef: { apiGroup: RBAC_GROUP, kind: 'Role', name },
      subjects: [userSubject(settings.userPrefix, email)],
    },
  };
}

const ORG_PREFIX = 'miniapps:org:';
const LONGEST_SUFFIX = ':administrator';
const MAX_NAME = 253;

/**
 * `miniapps:org:<org>:<suffix>`. An organization name too long for the 253 characters
 * of an object name is cut and followed by a hash of the whole name, so names stay
 * distinct and the member and administrator names share the same middle.
 */
export function organizationClusterName(org: string, suffix: 'member' | 'administrator'): string {
  return boundedName(ORG_PREFIX, org, `:${suffix}`, LONGEST_SUFFIX.length);
}

/**
 * `<prefix><key><suffix>` within MAX_NAME: a key too long is cut and followed by a hash of
 * the whole key (names stay distinct). The room is left for a suffix of `suffixRoom`
 * characters, so names of one key with shorter suffixes share the same middle.
 */
function boundedName(prefix: string, key: string, suffix: string, suffixRoom = suffix.length): string {
  const room = MAX_NAME - prefix.length - suffixRoom;
  return `${prefix}${key.length <= room ? key : `${key.slice(0, room - 17)}-${shortHash(key)}`}${suffix}`;
}

/**
 * Access to the cluster-scoped Organization itself: every active member may get (and
 * watch, by name) it; administrators may also update, patch and delete it. Two
 * ClusterRoles limited by resourceNames to the Organization, and two ClusterRoleBindings
 * whose subjects are all `members` and the administrators among them (sorted, without
 * duplicates; possibly none). Owned by the Organization. `members` are the active ones.
 */
export function organizationClusterAccess(
  org: Organization,
  members: { email: string; role: Role }[],
  settings: { userPrefix: string },
): { clusterRoles: ClusterRole[]; clusterRoleBindings: ClusterRoleBinding[] } {
  const orgName = org.metadata.name;
  const metadata = (name: string): ObjectMetaLike & { name: string } => ({
    name,
    labels: organizationLabels(org),
    ownerReferences: [controllerRef(org)],
  });
  const orgRules = (verbs: readonly string[]): PolicyRule[] => [
    { apiGroups: [GROUP], resources: ['organizations'], verbs: [...verbs], resourceNames: [orgName] },
    { apiGroups: [GROUP], resources: ['organizations/status'], verbs: ['get'], resourceNames: [orgName] },
  ];
  const grants = [
    { suffix: 'member', verbs: ['get', 'watch'], who: members },
    {
      suffix: 'administrator',
      verbs: ['get', 'watch', 'update', 'patch', 'delete'],
      who: members.filter((m) => m.role === 'OrganizationAdministrator'),
    },
  ] as const;
  // A grant nobody holds is not made at all (a binding without subjects grants nothing):
  // an organization without members costs no cluster-scoped objects.
  const named = grants.filter((g) => g.who.length > 0).map((g) => ({ ...g, name: organizationClusterName(orgName, g.suffix) }));
  return {
    clusterRoles: named.map((g) => ({ apiVersion: RBAC_API_VERSION, kind: 'ClusterRole', metadata: metadata(g.name), rules: orgRules(g.verbs) })),
    clusterRoleBindings: named.map((g) => ({
      apiVersion: RBAC_API_VERSION,
      kind: 'ClusterRoleBinding',
      metadata: metadata(g.name),
      roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: g.name },
      subjects: sortedSubjects(g.who.map((m) => userSubject(settings.userPrefix, m.email))),
    })),
  };
}

/** The operator's own access inside the namespaces it manages (see the chart's namespace-access ClusterRole). */
export interface NamespaceAccess {
  /** The operator's ServiceAccount. */
  serviceAccount: { namespace: string; name: string };
  /** The ClusterRole with the Secrets and ConfigMaps verbs the operator needs in an organization namespace. */
  clusterRole: string;
}

/** Name of the RoleBinding that gives the operator its namespace access. */
export const OPERATOR_BINDING_NAME = 'miniapps-operator';

/**
 * A RoleBinding in the organization's namespace of the namespace-access ClusterRole to
 * the operator's ServiceAccount: the operator reads and writes Secrets and ConfigMaps
 * only in the namespaces it manages, never cluster-wide. Owned by the Organization.
 */
/**
 * On the operator's RoleBinding in an organization namespace: the namespace controller
 * deletes what a namespace holds in no particular order, and without this the binding
 * could go before a mini app's finalizer has shredded its data key (which the operator
 * may read and delete only through that binding). The Organization controller removes it
 * once nothing it reconciles is left in the namespace.
 */
export const NAMESPACE_ACCESS_FINALIZER = 'miniapps.dev/namespace-access';

export function operatorNamespaceAccess(org: Organization, namespace: string, access: NamespaceAccess): RoleBinding {
  return {
    apiVersion: RBAC_API_VERSION,
    kind: 'RoleBinding',
    // The finalizer keeps the operator's access while the namespace is deleted, until nothing it reconciles is left there (see the Organization controller).
    metadata: { name: OPERATOR_BINDING_NAME, namespace, labels: organizationLabels(org), ownerReferences: [controllerRef(org)], finalizers: [NAMESPACE_ACCESS_FINALIZER] },
    roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: access.clusterRole },
    subjects: [{ kind: 'ServiceAccount', name: access.serviceAccount.name, namespace: access.serviceAccount.namespace }],
  };
}

// ---------------------------------------------------------------------------
// Tenants

/** The shared ClusterRole of tenant administrators, bound in each tenant's namespace. */
export const TENANT_ADMINISTRATOR_ROLE = 'miniapps:tenant-administrator';
/** The RoleBinding of it in a tenant's namespace. */
export const TENANT_ADMINISTRATORS_BINDING = 'miniapps:tenant-administrators';
/**
 * The virtual subresource `users/tokenroles`: the token-roles API answers for a User only
 * to a caller the authorizer allows `get` on it (for that User, in its namespace). Tenant
 * administrators hold it; a gateway's ServiceAccount gets it from a Role of its own.
 */
export const TOKEN_ROLES_SUBRESOURCE = 'tokenroles';

/**
 * What a tenant administrator may do in the tenant's namespace: manage Users and
 * Subscriptions, read UserGroups (subscriptions make them), read every status, and ask
 * the token-roles API about the tenant's users.
 */
export function tenantAdministratorRules(): PolicyRule[] {
  return [
    rule(['users', 'subscriptions'], ALL_VERBS),
    rule(['usergroups'], READ_VERBS),
    rule(['users/status', 'subscriptions/status', 'usergroups/status'], ['get']),
    rule([`users/${TOKEN_ROLES_SUBRESOURCE}`], ['get']),
  ];
}

/** The shared ClusterRole `miniapps:tenant-administrator` (made once, like the role table's). */
export function tenantAdministratorClusterRole(): ClusterRole {
  return { apiVersion: RBAC_API_VERSION, kind: 'ClusterRole', metadata: { name: TENANT_ADMINISTRATOR_ROLE, labels: { ...ROLE_TABLE_LABELS } }, rules: tenantAdministratorRules() };
}

/**
 * The RoleBinding of `miniapps:tenant-administrator` in the tenant's namespace to each
 * administrator's Kubernetes user (userPrefix + the lowercased email), owned by the
 * Tenant; undefined when it has no administrators (the caller deletes what exists).
 */
export function tenantAdministratorBinding(
  tenant: { metadata: { name: string; uid?: string }; apiVersion?: string; kind?: string; spec: { administrators?: string[] } },
  namespace: string,
  settings: { userPrefix: string },
): RoleBinding | undefined {
  const admins = tenant.spec.administrators ?? [];
  if (admins.length === 0) return undefined;
  return {
    apiVersion: RBAC_API_VERSION,
    kind: 'RoleBinding',
    metadata: { name: TENANT_ADMINISTRATORS_BINDING, namespace, labels: ownedLabels('Tenant', tenant.metadata.name), ownerReferences: [controllerRef(tenant as never)] },
    roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: TENANT_ADMINISTRATOR_ROLE },
    subjects: sortedSubjects(admins.map((e) => userSubject(settings.userPrefix, e))),
  };
}

const TENANT_PREFIX = 'miniapps:tenant:';
const TENANT_SUFFIX = ':administrator';

/**
 * `miniapps:tenant:<tenant>:administrator`: a tenant name too long for an object name is
 * cut and followed by a hash of the whole name (as organizationClusterName).
 */
export function tenantClusterName(tenant: string): string {
  return boundedName(TENANT_PREFIX, tenant, TENANT_SUFFIX);
}

/**
 * Access to the cluster-scoped Tenant itself, as Organizations give it to their members
 * (organizationClusterAccess): each administrator may `get` (and `watch`, by name) their
 * own Tenant and read its status, so "my tenants" is answered from their own identity
 * (a SelfSubjectRulesReview names it) and `kubectl get tenant <name>` works for them.
 * Nothing more: the spec (administrators, designations) stays the provisioning
 * administrators'. A ClusterRole limited by resourceNames and its ClusterRoleBinding to the
 * administrators (userPrefix + the lowercased email), owned by the Tenant; undefined when
 * it has no administrators (the caller deletes what exists).
 */
export function tenantClusterAccess(
  tenant: { metadata: { name: string; uid?: string }; apiVersion?: string; kind?: string; spec: { administrators?: string[] } },
  settings: { userPrefix: string },
): { clusterRole: ClusterRole; clusterRoleBinding: ClusterRoleBinding } | undefined {
  const admins = tenant.spec.administrators ?? [];
  if (admins.length === 0) return undefined;
  const name = tenantClusterName(tenant.metadata.name);
  const metadata = () => ({ name, labels: ownedLabels('Tenant', tenant.metadata.name), ownerReferences: [controllerRef(tenant as never)] });
  return {
    clusterRole: {
      apiVersion: RBAC_API_VERSION,
      kind: 'ClusterRole',
      metadata: metadata(),
      rules: [
        { apiGroups: [GROUP], resources: ['tenants'], verbs: ['get', 'watch'], resourceNames: [tenant.metadata.name] },
        { apiGroups: [GROUP], resources: ['tenants/status'], verbs: ['get'], resourceNames: [tenant.metadata.name] },
      ],
    },
    clusterRoleBinding: {
      apiVersion: RBAC_API_VERSION,
      kind: 'ClusterRoleBinding',
      metadata: metadata(),
      roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name },
      subjects: sortedSubjects(admins.map((e) => userSubject(settings.userPrefix, e))),
    },
  };
}
