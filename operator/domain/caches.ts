// Every cache the operator keeps, declared once: resource, label selector, the fields
// kept, the indexes. Controllers, admission rules and HTTP routes ask the Manager for a
// declaration of this table (`manager.cache(Caches.organizations)`); a second
// declaration of the same resource and selector is an error at start.
import { createHash } from 'node:crypto';
import { ADOPTABLE_BY_ANNOTATION, CLAIMED_ID_ANNOTATION, ID_CLAIM_LABEL, lowerAscii, ACCOUNT_LABEL } from '../api/constants.ts';
import { OFFERED_SOLUTIONS_ANNOTATION } from '../api/tenant/names.ts';
import { groupObjectName } from '../api/usergroup/names.ts';
import type { AppManifestContent } from '../api/appmanifest/schema.ts';
import type { SolutionManifest } from '../api/solution/schema.ts';
import type { AnyObject, ObjectBody } from '../runtime/kube/client.ts';
import { Resources } from '../runtime/kube/resource.ts';
import { declareCache, keepOnly } from '../runtime/cache.ts';
import type { CacheDecl } from '../runtime/cache.ts';
import { KIND_LIST, KIND_NAMES, Kinds } from '../api/registry.ts';
import type { KindName, KindObject } from '../api/registry.ts';
import { MANAGED_BY_SELECTOR } from '../runtime/objects.ts';

export const Index = {
  namespace: 'namespace',
  email: 'email',
  uid: 'uid',
  owner: 'owner',
  /**
   * Organizations by the organization/name of each super app in their miniAppTargets;
   * mini apps by each super app they name (see miniAppTargetKeys).
   */
  target: 'target',
  /** Reviews by the mini app they review (`organization/name`). */
  miniApp: 'miniApp',
  /** Reviews by mini app and version (`organization/name@version`). */
  miniAppVersion: 'miniAppVersion',
  /** Reviews by the super app they decide for (`namespace/name`). */
  superApp: 'superApp',
  /** Mini apps by the key-encryption key version their data key is wrapped by (status), or NO_DATA_KEY_YET. */
  kek: 'kek',
  /** ApiKeys by the keyId of their current key and of the previous one (while it is recorded). */
  keyId: 'keyId',
  /** App manifests by `namespace/listingId`. */
  listing: 'listing',
  /** App manifests by appId (across namespaces: who claimed it). */
  appId: 'appId',
  /** App manifests by their listingId, solutions by each listingId their roles name (across namespaces). */
  listingId: 'listingId',
  /** App manifests by each listingId the roles of their last good manifest name. */
  namedListing: 'namedListing',
  /** Solutions by what their spec.onboarding names: `tenant:<name>` and `stack:<stack>` (onboardingKeys). */
  onboarding: 'onboarding',
  /** Claims (Leases of the operator's namespace) by `<kind>:<id>` (claimKey). */
  claim: 'claim',
  /** Subscriptions by the solution they name (`organization/name`). */
  solution: 'solution',
  /** Users by `namespace/group` for each group they belong to (spec.groups and, for tenant administrators, status.groups). */
  group: 'group',
} as const;

export const listingKey = (namespace: string, listingId: string) => `${namespace}/${listingId}`;

/**
 * The listingId of a role: `role:<listingId>:<roleName>`, or `platform:role:<listingId>:<roleName>` (an app's
 * rolesRequired). The role name is the last colon-separated part, the listing id everything before it after
 * `role:` (`role:platform:app:example:users` is role `users` of listing `platform:app:example`: the seed's ids).
 */
export const listingOfRole = (role: string): string => {
  const body = (role.startsWith('platform:') ? role.slice('platform:'.length) : role).slice('role:'.length);
  const last = body.lastIndexOf(':');
  return last > 0 ? body.slice(0, last) : '';
};

/** The listingIds `roles` name, sorted, once each. */
export const listingsNamed = (roles: readonly string[]): string[] => [...new Set(roles.map(listingOfRole))].sort();

/** Every role an app manifest names: its groups' and its rolesRequired. */
export const appRolesOf = (m: AppManifestContent | undefined): string[] => [...(m?.userGroups ?? []).flatMap((g) => g.roles ?? []), ...(m?.rolesRequired ?? [])];
/** Every role a solution manifest names: its required and its admin groups'. */
export const solutionRolesOf = (m: SolutionManifest | undefined): string[] => [...(m?.userGroupsRequired ?? []), ...(m?.adminUserGroups ?? [])].flatMap((g) => g.roles ?? []);
/** What kind of id a claim holds. */
export type ClaimKind = 'appId' | 'listingId';
/** The Lease a claim of `id` is: one name per id, so two organizations asking at once meet in a 409. */
export const claimName = (kind: ClaimKind, id: string): string => `miniapps-${kind === 'appId' ? 'appid' : 'listing'}-${createHash('sha256').update(id).digest('hex').slice(0, 40)}`;
export const claimKey = (kind: ClaimKind, id: string): string => `${kind}:${id}`;
/** A claim: a Lease of the operator's namespace (spec.holderIdentity names the organization; its ownerReference is the truth). */
export type ClaimLease = AnyObject & { spec?: { holderIdentity?: string } };
/** A claim's index key, only when its name is the one of the id it says (a Lease named otherwise holds nothing). */
const claimIndex = (l: ClaimLease): string[] => {
  const kind = l.metadata.labels?.[ID_CLAIM_LABEL];
  const id = l.metadata.annotations?.[CLAIMED_ID_ANNOTATION];
  return (kind === 'appId' || kind === 'listingId') && id !== undefined && l.metadata.name === claimName(kind, id) ? [claimKey(kind, id)] : [];
};
/** What a Solution's spec.onboarding offers it to, as index keys: `tenant:<name>`, `stack:<stack>`. */
export function onboardingKeys(s: KindObject<'Solution'>): string[] {
  const o = s.spec.onboarding;
  return [...(o?.tenants ?? []).map((t) => `tenant:${t}`), ...(o?.stacks ?? []).map((x) => `stack:${x}`)];
}
export const groupKey = (namespace: string, group: string) => `${namespace}/${group}`;

/** The groups a User belongs to: spec.groups and what status.groups adds (a tenant administrator's admin groups). */
export function userGroupKeys(u: KindObject<'User'>): string[] {
  const ns = u.metadata.namespace!;
  return [...new Set([...(u.spec.groups ?? []).map(groupObjectName), ...(u.status?.groups ?? [])])].map((g) => groupKey(ns, g));
}

export const emailKey = (namespace: string, email: string) => `${namespace}/${lowerAscii(email)}`;
export const targetKey = (organization: string, name: string) => `${organization}/${name}`;
/** A target that leaves the organization out (it defaults to the mini app's own), keyed by the mini app's namespace. */
export const localTargetKey = (namespace: string, name: string) => `@${namespace}/${name}`;
export const reviewVersionKey = (organization: string, name: string, version: string) => `${organization}/${name}@${version}`;

/**
 * The index keys of a mini app's targets, from the object alone (an index cannot ask
 * another cache): `organization/name` when the target names its organization,
 * `@namespace/name` when it defaults to the mini app's own. A super app of organization O
 * in namespace N named S is found under `O/S` and `@N/S` (superAppTargetKeys).
 */
export function miniAppTargetKeys(m: KindObject<'MiniApp'>): string[] {
  return (m.spec.superApps ?? []).map((t) => (t.organization ? targetKey(t.organization, t.name) : localTargetKey(m.metadata.namespace!, t.name)));
}

/** Index value of an EnvelopeEncryption mini app whose data key is not recorded in status yet (it may be being made). */
export const NO_DATA_KEY_YET = '-';

/** The key-encryption key version a mini app's data key is wrapped by, as its status says. */
function kekOf(m: KindObject<'MiniApp'>): string[] {
  if (m.status?.dataKey) return [m.status.dataKey.keyEncryptionKeyId];
  return m.spec.dataPrivacy?.protection === 'EnvelopeEncryption' ? [NO_DATA_KEY_YET] : [];
}

/** The keys under which the mini apps naming this super app are indexed. */
export function superAppTargetKeys(organization: string | undefined, namespace: string, name: string): string[] {
  return [...(organization ? [targetKey(organization, name)] : []), localTargetKey(namespace, name)];
}

export type Namespace = AnyObject & { status?: { phase?: string } };

/** An Organization without status.firstInvitations: no reader of the cache needs it (the Membership controller reads it fresh). */
function withoutFirstInvitations(o: KindObject<'Organization'>): KindObject<'Organization'> {
  if (!o.status?.firstInvitations) return o;
  const { firstInvitations: _, ...status } = o.status;
  return { ...o, status };
}

const byNamespace = (o: AnyObject) => (o.metadata.namespace ? [o.metadata.namespace] : []);
const byOwner = (o: AnyObject) => (o.metadata.ownerReferences ?? []).map((r) => r.uid);

/** The RBAC objects the operator made, keeping only what it compares (equal rules shared). */
const ownedRbac = (name: string, resource: (typeof Resources)['Role' | 'RoleBinding' | 'ClusterRole' | 'ClusterRoleBinding'], fields: string[]) =>
  declareCache<ObjectBody>({ name, resource, labelSelector: MANAGED_BY_SELECTOR, transform: keepOnly(fields), indexes: { [Index.owner]: byOwner } });

/** An account of the embedded identity provider as the caches keep it: its email and whether it is suspended, never its password hash. */
export type AccountEntry = AnyObject & { data?: { email?: string; suspended?: string; passwordSet?: string } };

const b64text = (v: string | undefined) => (v ? Buffer.from(v, 'base64').toString('utf8') : '');
/** The lowercased email of an account entry. */
export const accountEmail = (a: AccountEntry): string => lowerAscii(b64text(a.data?.email));
/** Whether an account entry is suspended. */
export const accountSuspended = (a: AccountEntry): boolean => b64text(a.data?.suspended) === 'true';
const PASSWORD_SET = Buffer.from('true').toString('base64');
/** Whether the account has a password (the cache keeps this, never the hash). */
export const accountPasswordSet = (a: AccountEntry): boolean => a.data?.passwordSet === PASSWORD_SET;

/** Where a kind's cache sits in the table: its name in camel case, plural (`memberships`, `apiKeys`, `miniAppReviews`). */
export type KindCacheKey<K extends KindName> = `${Uncapitalize<K>}s`;
const kindCacheKey = <K extends KindName>(kind: K): KindCacheKey<K> => `${uncapitalize(kind)}s`;
const uncapitalize = <S extends string>(s: S): Uncapitalize<S> => `${s.charAt(0).toLowerCase()}${s.slice(1)}` as Uncapitalize<S>;

/** What a kind's cache keeps and how it is indexed, when more than the whole object by namespace/name. */
type KindCacheOptions<T extends AnyObject> = Pick<CacheDecl<T>, 'transform' | 'indexes'>;

/**
 * The indexes (and transforms) of the kinds' caches: what the questions of domain/ and the
 * controllers ask across kinds. A kind named nowhere here is cached whole, with no index.
 */
const KIND_CACHE_OPTIONS: { [K in KindName]?: KindCacheOptions<KindObject<K>> } = {
  /**
   * Organizations, indexed by the namespace they own (the one recorded in status, which
   * the operator records only once it created the namespace or the namespace opted in:
   * spec.namespace alone makes no namespace an organization's) and by mini app target.
   */
  Organization: {
    // The record of first invitations (up to a day's, read fresh by the Membership controller) is kept out of memory.
    transform: withoutFirstInvitations,
    indexes: {
      [Index.namespace]: (o) => (o.status?.namespace ? [o.status.namespace] : []),
      [Index.target]: (o) => (o.spec.miniAppTargets ?? []).map((t) => targetKey(t.organization, t.name)),
    },
  },
  /** Memberships, by namespace, by namespace and lowercased email, and by uid. */
  Membership: {
    indexes: {
      [Index.namespace]: (m) => [m.metadata.namespace!],
      [Index.email]: (m) => [emailKey(m.metadata.namespace!, m.spec.email)],
      [Index.uid]: (m) => (m.metadata.uid ? [m.metadata.uid] : []),
    },
  },
  /**
   * ApiKeys, by the keyIds they answer for (current and previous: what verification looks
   * up), by namespace and lowercased owner email (what a Membership concerns), and by
   * namespace.
   */
  ApiKey: {
    indexes: {
      [Index.keyId]: (k) => [k.status?.keyId, k.status?.previousKey?.keyId].filter((id): id is string => !!id),
      [Index.email]: (k) => [emailKey(k.metadata.namespace!, k.spec.owner)],
      [Index.namespace]: (k) => [k.metadata.namespace!],
    },
  },
  SuperApp: { indexes: { [Index.namespace]: byNamespace } },
  /** Mini apps, by namespace, by each super app they name as a target (miniAppTargetKeys), by key-encryption key version. */
  MiniApp: { indexes: { [Index.namespace]: byNamespace, [Index.target]: miniAppTargetKeys, [Index.kek]: kekOf } },
  /** Reviews, by the mini app they review, by mini app and version, and by super app. */
  MiniAppReview: {
    indexes: {
      [Index.namespace]: byNamespace,
      [Index.miniApp]: (r) => [targetKey(r.spec.miniApp.organization, r.spec.miniApp.name)],
      [Index.miniAppVersion]: (r) => [reviewVersionKey(r.spec.miniApp.organization, r.spec.miniApp.name, r.spec.version)],
      [Index.superApp]: (r) => [`${r.metadata.namespace}/${r.spec.superApp}`],
    },
  },
  /** Tenants, by the namespace they own (recorded in status once it is theirs). */
  Tenant: { indexes: { [Index.namespace]: (t) => (t.status?.namespace ? [t.status.namespace] : []) } },
  /** Solutions, by namespace and by each listingId the roles of their last good manifest name (status.apps). */
  Solution: { indexes: { [Index.namespace]: byNamespace, [Index.listingId]: (s) => s.status?.apps ?? [], [Index.onboarding]: onboardingKeys } },
  /**
   * App manifests, by namespace, by `namespace/listingId` (a solution includes the apps whose
   * listingId its roles name), by appId and by listingId (who claimed them first), and by
   * the listings their own roles name.
   */
  AppManifest: {
    indexes: {
      [Index.namespace]: byNamespace,
      [Index.listing]: (a) => (a.spec.listingId !== undefined ? [listingKey(a.metadata.namespace!, a.spec.listingId)] : []),
      [Index.appId]: (a) => [a.spec.appId],
      [Index.listingId]: (a) => (a.spec.listingId !== undefined ? [a.spec.listingId] : []),
      [Index.namedListing]: (a) => listingsNamed(appRolesOf(a.status?.manifest)),
    },
  },
  /** Subscriptions, by (tenant) namespace and by the solution they name. */
  Subscription: { indexes: { [Index.namespace]: byNamespace, [Index.solution]: (s) => [targetKey(s.spec.solution.organization, s.spec.solution.name)] } },
  /** User groups, by namespace and by the uid of each owner (the subscriptions that declare them). */
  UserGroup: { indexes: { [Index.namespace]: byNamespace, [Index.owner]: byOwner } },
  /** Users, by namespace, by `namespace/group` (userGroupKeys) and by namespace and lowercased email. */
  User: { indexes: { [Index.namespace]: byNamespace, [Index.group]: userGroupKeys, [Index.email]: (u) => [emailKey(u.metadata.namespace!, u.spec.email)] } },
  /** Accounts (the kind: the public face of the account Secrets below), by lowercased email. */
  Account: { indexes: { [Index.email]: (a) => [lowerAscii(a.spec.email)] } },
};

/** The cache of `kind`: named after its plural, of its REST resource, with its options above. */
const kindCache = <K extends KindName>(kind: K): CacheDecl<KindObject<K>> => declareCache<KindObject<K>>({ name: KIND_NAMES[kind].plural, resource: Kinds[kind], ...KIND_CACHE_OPTIONS[kind] });

/** One cache per registry kind, typed by the kind's object (`KindCaches['apiKeys']` is a `CacheDecl<ApiKey>`), derived from the registry. */
export type KindCaches = { readonly [K in KindName as KindCacheKey<K>]: CacheDecl<KindObject<K>> };
const kindCaches = Object.fromEntries(KIND_LIST.map((kind) => [kindCacheKey(kind), kindCache(kind)])) as KindCaches;

export const Caches = {
  ...kindCaches,
  /**
   * Who holds each app and listing id: Leases of the operator's namespace (only it writes
   * there), one per id, owned by the Organization that claimed it first (domain/claims.ts).
   */
  idClaims: declareCache<ClaimLease>({ name: 'idclaims', resource: Resources.Lease, labelSelector: ID_CLAIM_LABEL, inNamespace: 'operator', indexes: { [Index.claim]: claimIndex } }),
  /**
   * Accounts of the embedded identity provider (Secrets of the operator's namespace), by
   * lowercased email and by owner (the Account), keeping only the email, the suspension and whether a password is set (never the hash).
   */
  accountSecrets: declareCache<AccountEntry>({
    name: 'account secrets',
    resource: Resources.Secret,
    labelSelector: ACCOUNT_LABEL,
    inNamespace: 'identity',
    transform: (s) =>
      ({
        metadata: { name: s.metadata.name, namespace: s.metadata.namespace, uid: s.metadata.uid, resourceVersion: s.metadata.resourceVersion, ownerReferences: s.metadata.ownerReferences },
        // Whether a password is set, never the hash.
        data: { email: s.data?.email, suspended: s.data?.suspended, ...((s as { data?: Record<string, string> }).data?.passwordHash ? { passwordSet: PASSWORD_SET } : {}) },
      }) as AccountEntry,
    indexes: { [Index.email]: (a) => [accountEmail(a)], [Index.owner]: byOwner },
  }),
  /**
   * Every namespace (a claimed or foreign one must be seen to be refused): metadata, the
   * adoption opt-in and offered-solutions annotations and phase only.
   */
  namespaces: declareCache<Namespace>({
    name: 'namespaces',
    resource: Resources.Namespace,
    transform: keepOnly<Namespace>(['status'], { annotations: [ADOPTABLE_BY_ANNOTATION, OFFERED_SOLUTIONS_ANNOTATION] }),
  }),
  ownedRoles: ownedRbac('owned roles', Resources.Role, ['rules']),
  ownedRoleBindings: ownedRbac('owned rolebindings', Resources.RoleBinding, ['roleRef', 'subjects']),
  ownedClusterRoles: ownedRbac('owned clusterroles', Resources.ClusterRole, ['rules']),
  ownedClusterRoleBindings: ownedRbac('owned clusterrolebindings', Resources.ClusterRoleBinding, ['roleRef', 'subjects']),
  /** The ResourceQuotas the operator keeps in the namespaces it created (namespaceQuota), by owner. */
  ownedResourceQuotas: declareCache<ObjectBody>({
    name: 'owned resourcequotas',
    resource: Resources.ResourceQuota,
    labelSelector: MANAGED_BY_SELECTOR,
    transform: keepOnly(['spec']),
    indexes: { [Index.owner]: byOwner },
  }),
} as const;
