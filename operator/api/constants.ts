// The runtime constants of the miniapps.dev API: group and version, kind names, condition
// types, annotations, singleton names and defaults. The operator process imports its values
// from here and only types (`import type`) from the kind modules, which build the TypeBox
// schemas: this module imports nothing, so the operator never loads TypeBox.
// The kind modules re-export what belongs to them, so api/index.ts still exports it all.

export const GROUP = 'miniapps.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** The kubectl category of every kind: `kubectl get miniapps-all -A` lists them all. */
export const CATEGORY = 'miniapps-all';

/** Deleting an Organization or MiniApp needs this annotation set to CONFIRM_DELETE_VALUE. */
export const CONFIRM_DELETE_ANNOTATION = `${GROUP}/confirm-delete`;
export const CONFIRM_DELETE_VALUE = 'CONFIRM DELETE';

/**
 * An existing namespace opts in to being adopted by an Organization or Tenant with this
 * annotation, valued `Organization/<name>` or `Tenant/<name>`. Only someone allowed to
 * update the namespace can set it; without it the operator never touches a namespace
 * it did not create.
 */
export const ADOPTABLE_BY_ANNOTATION = `${GROUP}/adoptable-by`;

/** Namespaces that never belong to an Organization or Tenant (besides the operator's own). */
export const RESERVED_NAMESPACES = { exact: ['default'], prefix: 'kube-' } as const;

/** Whether `name` is one of the cluster's own namespaces or the operator's. */
export function isReservedNamespace(name: string, operatorNamespace: string): boolean {
  return name === operatorNamespace || (RESERVED_NAMESPACES.exact as readonly string[]).includes(name) || name.startsWith(RESERVED_NAMESPACES.prefix);
}

/**
 * Set on a Membership, it names who invited the person; an admission policy makes the
 * API server accept only the requester's own authenticated username as its value.
 */
export const INVITED_BY_ANNOTATION = `${GROUP}/invited-by`;

/**
 * The virtual subresource `organizations/provisioning`: RBAC `update` on it is what
 * allows changing an Organization's capabilities and miniAppTargets (an admission
 * policy asks the authorizer). The provisioning administrators' ClusterRole grants it.
 */
export const PROVISIONING_SUBRESOURCE = 'provisioning';

// ---------------------------------------------------------------------------
// Kind names. defineKind takes them from here, so the CRDs and the operator's REST
// resources agree; the order is ALL_KINDS's (cluster-scoped first, then organization
// kinds, then tenant kinds).

export interface KindNames {
  kind: string;
  plural: string;
  scope: 'Cluster' | 'Namespaced';
}

/** Checks that every entry's kind is its key. */
const kindTable = <const T extends { readonly [K in keyof T]: KindNames & { readonly kind: K } }>(table: T): T => table;

export const KIND_NAMES = kindTable({
  PlatformConfig: { kind: 'PlatformConfig', plural: 'platformconfigs', scope: 'Cluster' },
  Organization: { kind: 'Organization', plural: 'organizations', scope: 'Cluster' },
  Tenant: { kind: 'Tenant', plural: 'tenants', scope: 'Cluster' },
  Membership: { kind: 'Membership', plural: 'memberships', scope: 'Namespaced' },
  SuperApp: { kind: 'SuperApp', plural: 'superapps', scope: 'Namespaced' },
  MiniApp: { kind: 'MiniApp', plural: 'miniapps', scope: 'Namespaced' },
  MiniAppReview: { kind: 'MiniAppReview', plural: 'miniappreviews', scope: 'Namespaced' },
  ApiKey: { kind: 'ApiKey', plural: 'apikeys', scope: 'Namespaced' },
  Solution: { kind: 'Solution', plural: 'solutions', scope: 'Namespaced' },
  AppManifest: { kind: 'AppManifest', plural: 'appmanifests', scope: 'Namespaced' },
  Subscription: { kind: 'Subscription', plural: 'subscriptions', scope: 'Namespaced' },
  UserGroup: { kind: 'UserGroup', plural: 'usergroups', scope: 'Namespaced' },
  User: { kind: 'User', plural: 'users', scope: 'Namespaced' },
});

export type KindName = keyof typeof KIND_NAMES;

// ---------------------------------------------------------------------------
// PlatformConfig

export const PLATFORM_CONFIG_NAME = 'default';

/** What the API server fills in when a field is left out. */
export const PlatformConfigDefaults = {
  invitationTTL: '168h',
  namespacePrefix: { organization: 'org-', tenant: 'tenant-' },
  userPrefix: '',
  groupPrefix: '',
  /** spec.quotas: how many ApiKeys one owner may hold in one namespace, and the ResourceQuota of every namespace the operator creates. */
  quotas: { apiKeysPerOwner: 20, namespace: { apiKeys: 200, secrets: 500 } },
} as const;

/** Secrets the namespace quota must allow beyond two per ApiKey (data keys, icons): PlatformConfig refuses less. */
export const QUOTA_SECRETS_MARGIN = 50;

/** The ResourceQuota the operator puts into every organization and tenant namespace it creates. */
export const NAMESPACE_QUOTA_NAME = 'miniapps-quota';

export const PlatformConfigConditions = {
  Ready: 'Ready',
  /** The provisioning administrators are bound to the provisioning ClusterRole. */
  AdministratorsBound: 'AdministratorsBound',
  /** True when the spec cannot be used as it is (kstatus' convention: Flux reports Failed). */
  Stalled: 'Stalled',
} as const;

// ---------------------------------------------------------------------------
// Organization

/** Set True, with the reason of the check that failed, when retrying cannot help: the spec must change (kstatus). */
export const STALLED_CONDITION = 'Stalled';

export const OrganizationConditions = {
  Ready: 'Ready',
  Stalled: STALLED_CONDITION,
  /** The organization's namespace exists and belongs to it. Gates Ready. */
  NamespaceReady: 'NamespaceReady',
  /** The RBAC that grants members their roles and the Organization itself is in place. Gates Ready. */
  RBACReady: 'RBACReady',
  /** Every app in the namespace is allowed by spec.capabilities (reported when one slipped past admission). Gates Ready. */
  CapabilitiesRespected: 'CapabilitiesRespected',
  /** spec.icon names an image of at most 512×512 pixels and 1 MiB. Gates Ready; only while spec.icon is set. */
  IconValid: 'IconValid',
  /** Every spec.miniAppTargets entry exists. Reported, does not gate Ready (a target may come later); only while targets are set. */
  MiniAppTargetsResolved: 'MiniAppTargetsResolved',
  /** The organization has an active administrator. Reported, does not gate Ready (it waits for a person); only while it has members. */
  AdministratorActive: 'AdministratorActive',
} as const;

export const OrganizationReasons = {
  Ready: 'Ready',
  NamespaceCreated: 'NamespaceCreated',
  NamespaceAdopted: 'NamespaceAdopted',
  InvalidNamespaceName: 'InvalidNamespaceName',
  NamespaceConflict: 'NamespaceConflict',
  NamespaceTerminating: 'NamespaceTerminating',
  NamespaceReserved: 'NamespaceReserved',
  NamespaceNotAdoptable: 'NamespaceNotAdoptable',
  RBACApplied: 'RBACApplied',
  ApplyFailed: 'ApplyFailed',
  CapabilitiesRespected: 'CapabilitiesRespected',
  CapabilityMissing: 'CapabilityMissing',
  TargetsResolved: 'TargetsResolved',
  TargetNotFound: 'TargetNotFound',
  AdministratorActive: 'AdministratorActive',
  NoActiveAdministrator: 'NoActiveAdministrator',
  IconValid: 'IconValid',
  IconMissing: 'IconMissing',
  IconNotAnImage: 'IconNotAnImage',
  IconTooLarge: 'IconTooLarge',
  IconTooWide: 'IconTooWide',
  DeletionNotConfirmed: 'DeletionNotConfirmed',
} as const;

/**
 * A Secret holds an organization's icon only if it carries this label with the value
 * "true" (set by someone who may update the Secret): the icon check then never tells
 * anything about a Secret that did not opt in. ConfigMaps need no label.
 */
export const ICON_OPT_IN_LABEL = `${GROUP}/icon`;

/** Limits the operator checks an icon against (reported by IconValid). */
export const IconLimits = { maxWidth: 512, maxHeight: 512, maxBytes: 1024 * 1024 } as const;

// ---------------------------------------------------------------------------
// Tenant

export const TenantConditions = {
  Ready: 'Ready',
  Stalled: STALLED_CONDITION,
  /** The tenant's namespace exists and belongs to it. Gates Ready. */
  NamespaceReady: 'NamespaceReady',
  /** The administrators' RoleBinding is in place. Gates Ready. */
  RBACReady: 'RBACReady',
  /** Every administrator has a User in the namespace (the operator makes missing ones). Gates Ready. */
  AdministratorsReady: 'AdministratorsReady',
  /** Seed 003: the solutions onboarded to the tenant are recorded, and the groups of those onboarded with forceCreateUserGroup made (status.solutions). Gates Ready. */
  SolutionsOnboarded: 'SolutionsOnboarded',
} as const;

/** The namespace label that carries spec.stack. */
export const STACK_LABEL = `${GROUP}/stack`;

// ---------------------------------------------------------------------------
// Membership

export const MembershipConditions = {
  Ready: 'Ready',
  /** The current invitation email went out (or, with acceptance Automatic, the notification). */
  InvitationSent: 'InvitationSent',
  /** The member's role is bound to their Kubernetes user. */
  AccessGranted: 'AccessGranted',
} as const;

/** Annotation whose every new value asks the operator to resend the invitation. */
export const RESEND_INVITATION_ANNOTATION = `${GROUP}/resend-invitation`;

/** At most this many resend times are kept in a Membership's status.invitation.recentResends (the newest). */
export const MAX_RECENT_RESENDS = 100;

/**
 * The most first emails of Memberships an Organization's status.firstInvitations records
 * (a rolling day's): a per-organization limit above it holds at it.
 */
export const FIRST_INVITATIONS_RECORDED = 10_000;

// ---------------------------------------------------------------------------
// Organization kinds

export const SuperAppConditions = {
  Ready: 'Ready',
  Stalled: STALLED_CONDITION,
  /** The super app is in an organization's namespace and the organization has the superApps capability. Gates Ready. */
  Allowed: 'Allowed',
  /** spec.platforms are all allowed by PlatformConfig. Gates Ready (the catalog is still published). */
  PlatformsValid: 'PlatformsValid',
  /** The catalog ConfigMap is up to date. Gates Ready. */
  CatalogPublished: 'CatalogPublished',
  /** Every spec.versions entry has its snapshot ConfigMap. Gates Ready; only while spec.versions is set. */
  SnapshotsPublished: 'SnapshotsPublished',
  /** Every spec.featured entry is in the catalog. Reported, does not gate Ready; only while spec.featured is set. */
  FeaturedListed: 'FeaturedListed',
} as const;

export const SuperAppReasons = {
  Ready: 'Ready',
  Allowed: 'Allowed',
  OrganizationNotFound: 'OrganizationNotFound',
  CapabilityMissing: 'CapabilityMissing',
  PlatformsValid: 'PlatformsValid',
  PlatformNotAllowed: 'PlatformNotAllowed',
  CatalogPublished: 'CatalogPublished',
  CatalogConflict: 'CatalogConflict',
  ApplyFailed: 'ApplyFailed',
  SnapshotsPublished: 'SnapshotsPublished',
  SnapshotConflict: 'SnapshotConflict',
  FeaturedListed: 'FeaturedListed',
  FeaturedNotListed: 'FeaturedNotListed',
} as const;

export const MiniAppConditions = {
  Ready: 'Ready',
  Stalled: STALLED_CONDITION,
  /** The mini app is in an organization's namespace and the organization has the miniApps capability. Gates Ready. */
  Allowed: 'Allowed',
  /** Every spec.superApps target is the organization's own or in its miniAppTargets. Gates Ready. */
  TargetsValid: 'TargetsValid',
  /** spec.categories are all allowed by PlatformConfig. Gates Ready. */
  CategoriesValid: 'CategoriesValid',
  /** With EnvelopeEncryption: the data key exists, wrapped by the current key-encryption key. Gates Ready; only with EnvelopeEncryption. */
  DataKeyReady: 'DataKeyReady',
  /** Every spec.superApps target exists. Reported, does not gate Ready (a target may come later); only while targets are set. */
  TargetsResolved: 'TargetsResolved',
} as const;

export const MiniAppReasons = {
  Ready: 'Ready',
  Allowed: 'Allowed',
  OrganizationNotFound: 'OrganizationNotFound',
  CapabilityMissing: 'CapabilityMissing',
  TargetsValid: 'TargetsValid',
  TargetNotAllowed: 'TargetNotAllowed',
  CategoriesValid: 'CategoriesValid',
  CategoryNotAllowed: 'CategoryNotAllowed',
  TargetsResolved: 'TargetsResolved',
  TargetNotFound: 'TargetNotFound',
  DataKeyReady: 'DataKeyReady',
  /** The key-encryption key Secret is missing, malformed or tampered with: nothing is wrapped or rewrapped with it. */
  KeyEncryptionKeyInvalid: 'KeyEncryptionKeyInvalid',
  /** The wrapped data key does not unwrap (a changed key-encryption key, a changed Secret): it is kept, never replaced. */
  DataKeyUnwrapFailed: 'DataKeyUnwrapFailed',
  /** The data key Secret recorded in status is gone: ciphertext made with it cannot be revealed; a new one is not made silently. */
  DataKeyMissing: 'DataKeyMissing',
  /** A Secret of the data key's name exists that is not this mini app's: it is left alone. */
  DataKeyConflict: 'DataKeyConflict',
  ApplyFailed: 'ApplyFailed',
  DeletionNotConfirmed: 'DeletionNotConfirmed',
} as const;

/** How a mini app's data is protected (spec.dataPrivacy.protection). */
export const DATA_PROTECTION_MODES = ['None', 'IrreversibleMasking', 'EnvelopeEncryption'] as const;

/** Where a mini app stands in one target super app (status.superApps[].state). */
export const MiniAppTargetStates = ['Listed', 'AwaitingReview', 'Rejected', 'NotAllowed', 'NotFound', 'Unpublished'] as const;
export type MiniAppTargetState = (typeof MiniAppTargetStates)[number];

export const MiniAppReviewConditions = {
  Ready: 'Ready',
  Stalled: STALLED_CONDITION,
  /** The mini app, its version and the super app exist, and the super app is a target of the mini app. Gates Ready. */
  TargetResolved: 'TargetResolved',
} as const;

export const MiniAppReviewReasons = {
  Ready: 'Ready',
  TargetResolved: 'TargetResolved',
  NotInOrganization: 'NotInOrganization',
  SuperAppNotFound: 'SuperAppNotFound',
  MiniAppNotFound: 'MiniAppNotFound',
  VersionNotFound: 'VersionNotFound',
} as const;

/** The data key of a mini app with EnvelopeEncryption, in its namespace: `<miniapp>-data-key`. */
export const DATA_KEY_SECRET_SUFFIX = '-data-key';

/**
 * Any new value of this annotation on the PlatformConfig asks for a new version of the
 * key-encryption key: every data key is rewrapped with it, and the old version is retired
 * once nothing uses it.
 */
export const ROTATE_KEK_ANNOTATION = `${GROUP}/rotate-key-encryption-key`;

/**
 * The virtual subresource `miniapps/reveal`: the data-protection API decrypts a mini
 * app's ciphertext only for a caller the authorizer allows `create` on it (for that mini
 * app, in its namespace). Nobody holds it unless a Role grants it. Protecting values
 * needs only `get` on the mini app: it reveals nothing.
 */
export const REVEAL_SUBRESOURCE = 'reveal';

export const ApiKeyConditions = {
  Ready: 'Ready',
  Stalled: STALLED_CONDITION,
  /** Not revoked, not expired. Gates Ready (Stalled: revoked, or expired until the expiry changes). */
  KeyValid: 'KeyValid',
  /** The owner is an active member of the key's organization, or a provisioning administrator. Gates Ready. */
  OwnerActive: 'OwnerActive',
  /** The key of the current revision is generated, in its Secret, and recorded in status. Gates Ready. */
  KeyIssued: 'KeyIssued',
} as const;

/** status.phase of an ApiKey: what verification answers for its current key. */
export const ApiKeyPhases = ['Pending', 'Active', 'Expired', 'Revoked', 'Disabled'] as const;
export type ApiKeyPhase = (typeof ApiKeyPhases)[number];

/** Key in the key's Secret that holds the key itself. */
export const API_KEY_SECRET_KEY = 'apiKey';

/** Type of the Secrets that hold API keys (one per key revision, owned by the ApiKey). */
export const API_KEY_SECRET_TYPE = `${GROUP}/api-key`;

/** Every key starts with this: secret scanners and people recognise a miniapps API key by it. */
export const API_KEY_PREFIX = 'mak_';

/**
 * The scope that lets a key authenticate to the Kubernetes API (kubectl --token): a key
 * whose spec.scopes is not empty and leaves it out serves only the verify endpoint.
 */
export const KUBERNETES_SCOPE = 'kubernetes';

/**
 * The virtual subresource `apikeys/owner`: RBAC `update` on it, in the key's namespace, is
 * what lets someone hold a key for another owner (an admission policy asks the
 * authorizer). Organization administrators (the role table) and provisioning
 * administrators (by name, in their ClusterRole) hold it.
 */
export const API_KEY_OWNER_SUBRESOURCE = 'owner';

/** The ApiKey spec fields that make a key do more or for longer: not changed for an owner who may not hold a key (the admission policy and the webhook). */
export const API_KEY_WIDENING_FIELDS = ['scopes', 'ttl', 'expiresAt', 'rotation'] as const;

/**
 * The virtual subresource `apikeys/verify`: RBAC `create` on it, cluster-wide, is what
 * lets an API gateway ask the operator's verify endpoint about a key (ClusterRole
 * `miniapps:api-key-verifier`).
 */
export const API_KEY_VERIFY_SUBRESOURCE = 'verify';

/** Extra fields of a key's identity in a TokenReview answer (`user.extra`). */
export const ApiKeyExtra = {
  keyId: `${GROUP}/api-key-id`,
  apiKey: `${GROUP}/api-key`,
  scopes: `${GROUP}/api-key-scopes`,
} as const;

export const SolutionConditions = {
  Ready: 'Ready',
  Stalled: STALLED_CONDITION,
  /** The manifest (inline or from the ConfigMap) is valid; when False the last good one stays in force. Gates Ready. */
  ManifestValid: 'ManifestValid',
  /**
   * Every role of the last good manifest names a listing the solution's organization holds
   * (the solution claims those no one holds). When False the message names the others:
   * they are left out of every tenant's groups. Gates Ready.
   */
  RolesOwned: 'RolesOwned',
} as const;

/** Why ids and roles are or are not an organization's (Solution and AppManifest conditions IdsOwned and RolesOwned). */
export const OwnershipReasons = {
  IdsOwned: 'IdsOwned',
  /** Another organization holds the appId (it claimed it first): this AppManifest is used nowhere. */
  AppIdClaimed: 'AppIdClaimed',
  /** Another organization holds the listingId (it claimed it first): this AppManifest is used nowhere. */
  ListingIdClaimed: 'ListingIdClaimed',
  /** Another organization is claiming an id (at the same moment: 409, or by its older AppManifest naming it): looked at again in a moment. */
  ClaimPending: 'ClaimPending',
  /** The AppManifest's namespace is no organization's: only an organization claims ids, so it is used nowhere. */
  NotInOrganization: 'NotInOrganization',
  RolesOwned: 'RolesOwned',
  /** Roles name listings the organization does not own: left out of groups and tokens. */
  ListingNotOwned: 'ListingNotOwned',
} as const;

export const SolutionReasons = {
  Ready: 'Ready',
  ManifestValid: 'ManifestValid',
  /** The ConfigMap or its key named by spec.manifestFrom does not exist (it may still come). */
  ManifestNotFound: 'ManifestNotFound',
  /** The manifest is not YAML. */
  ManifestNotYAML: 'ManifestNotYAML',
  /** The manifest breaks the published JSON Schema (the message names line, column and field). */
  ManifestSchemaInvalid: 'ManifestSchemaInvalid',
  /** A group is named twice, or the manifest's solutionId is not spec.solutionId. */
  ManifestInconsistent: 'ManifestInconsistent',
} as const;

export const AppManifestConditions = {
  Ready: 'Ready',
  Stalled: STALLED_CONDITION,
  /** The manifest names no group twice. Gates Ready. */
  ManifestValid: 'ManifestValid',
  /**
   * The app's organization holds its appId and listingId (domain/claims.ts: the first
   * organization to claim an id holds it for as long as it exists). When False the app is
   * used nowhere (no groups, no token); Unknown (ClaimPending) for a moment when another
   * organization claimed at the same time. Gates Ready; Stalled when False.
   */
  IdsOwned: 'IdsOwned',
  /** Every role of the last good manifest names a listing the organization owns; the others are left out (status.unownedRoles). Gates Ready. */
  RolesOwned: 'RolesOwned',
} as const;

/** Where a solution's manifest is read from: the key of its ConfigMap is looked at again this often. */
export const MANIFEST_RECHECK_SECONDS = 30;

/**
 * How emails and user names are compared and put into RBAC subjects, everywhere: only the
 * ASCII letters A-Z are lowercased, exactly as CEL's `lowerAscii()` does in the admission
 * policies. Unicode lowercasing (`toLowerCase()`) maps some non-ASCII letters onto ASCII
 * ones (the Kelvin sign U+212A onto `k`), so two different names the API server tells
 * apart would become one person to the operator.
 */
export function lowerAscii(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

/**
 * The name of the UserGroup made from a manifest's group name (`solutions owner` →
 * `solutions-owner`): lowercased, every run of characters other than letters and digits
 * one dash, none at either end.
 */
export function groupObjectName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
}

// ---------------------------------------------------------------------------
// Tenant kinds

export const TenantReasons = {
  Ready: 'Ready',
  RBACApplied: 'RBACApplied',
  AdministratorsPresent: 'AdministratorsPresent',
  ApplyFailed: 'ApplyFailed',
  /** Every onboarded solution is recorded at its stage (status.solutions). */
  SolutionsOnboarded: 'SolutionsOnboarded',
} as const;

export const SubscriptionConditions = {
  Ready: 'Ready',
  Stalled: STALLED_CONDITION,
  /** The subscription is in a tenant's namespace. Gates Ready. */
  InTenant: 'InTenant',
  /** The solution (and the requested version) exists and has a good manifest. Gates Ready. */
  SolutionResolved: 'SolutionResolved',
  /** The tenant's user groups match the merged manifests. Gates Ready. */
  UserGroupsSynced: 'UserGroupsSynced',
  /** Groups dropped from the manifest are kept while users belong to them. Reported, does not gate Ready; only while there are such groups. */
  OrphansKept: 'OrphansKept',
} as const;

export const SubscriptionReasons = {
  Ready: 'Ready',
  InTenant: 'InTenant',
  NotInTenant: 'NotInTenant',
  SolutionResolved: 'SolutionResolved',
  OrganizationNotFound: 'OrganizationNotFound',
  SolutionNotFound: 'SolutionNotFound',
  SolutionNotReady: 'SolutionNotReady',
  VersionMismatch: 'VersionMismatch',
  /** An app of the solution has no status yet: its groups are not known (the tenant's stay as they are). */
  AppManifestsNotChecked: 'AppManifestsNotChecked',
  UserGroupsSynced: 'UserGroupsSynced',
  /**
   * A group of the manifest exists in the namespace and was not made by a subscription (it
   * is left alone: no roles added, no owner), or another organization's subscription holds
   * it (groups are never merged across organizations).
   */
  UserGroupConflict: 'UserGroupConflict',
  ApplyFailed: 'ApplyFailed',
  OrphansKept: 'OrphansKept',
} as const;

/**
 * A landing page people's browsers are sent to: an `https://` URL with a host, or a path on
 * the app's own origin (`/owner/home`; not `//host`, which leaves it). Never another scheme
 * (`javascript:`, `data:`, `http:`), never whitespace or a backslash (browsers read `/\host`
 * as `//host`).
 */
export const LANDING_PAGE_PATTERN = String.raw`^(https://[^/?#\s\\]+([/?#][^\s\\]*)?|/([^/\s\\][^\s\\]*)?)$`;

/** Whether `url` is a landing page people may be sent to (LANDING_PAGE_PATTERN): what the schema admits, checked again where one is used. */
const LANDING_PAGE = new RegExp(LANDING_PAGE_PATTERN);
export const isSafeLandingPage = (url: string | undefined): boolean => !!url && LANDING_PAGE.test(url);

/**
 * A claim of an app or listing id (domain/claims.ts) is a Lease of the operator's namespace,
 * named after a digest of the id, held by (an ownerReference to) the Organization that
 * claimed it first; this label says which kind of id it is (`appId` or `listingId`).
 */
export const ID_CLAIM_LABEL = `${GROUP}/id-claim`;
/** On a claim's Lease: the id it holds (its name is a digest of it). */
export const CLAIMED_ID_ANNOTATION = `${GROUP}/claimed-id`;

/** On a UserGroup a subscription manages: SHA-256 of what the operator last applied to it (what it compares to decide whether to apply again). */
export const GROUP_DIGEST_ANNOTATION = `${GROUP}/applied-digest`;

export const UserGroupConditions = {
  Ready: 'Ready',
  /**
   * Only while subscriptions name the group that may not manage it (it was made by hand, or
   * another organization's subscriptions made it): False, naming them. Does not gate Ready.
   */
  Uncontested: 'Uncontested',
} as const;

export const UserGroupReasons = {
  Ready: 'Ready',
  /** Subscriptions name the group but may not manage it (see UserGroupConditions.Uncontested). */
  UserGroupConflict: 'UserGroupConflict',
} as const;

export const UserConditions = {
  Ready: 'Ready',
  /** Every group the user belongs to exists; when False, the message names the missing ones. Gates Ready. */
  GroupsResolved: 'GroupsResolved',
} as const;

export const UserReasons = {
  Ready: 'Ready',
  GroupsResolved: 'GroupsResolved',
  GroupsMissing: 'GroupsMissing',
} as const;

/** The roles a frontend app's token carries: the token-roles API's path on the TLS listener, and its JWKS. */
export const TOKEN_ROLES_PATH = '/tokenroles/v1/roles';
export const TOKEN_ROLES_JWKS_PATH = '/tokenroles/v1/jwks.json';
/**
 * A token-roles JWT's audience (`aud`): `<organization>/<appId>`. Organization names have no `/`, so the
 * organization is everything before the first one; an app verifies that the audience is
 * exactly its own organization's name, a slash and its appId.
 */
export const tokenAudience = (organization: string, appId: string): string => `${organization}/${appId}`;
/** The Secret (in the operator's namespace) with the token-roles signing keys. */
export const TOKEN_SIGNING_SECRET = 'miniapps-operator-token-signing-key';
/** Any new value of this annotation on the PlatformConfig asks for a new token signing key. */
export const ROTATE_TOKEN_KEY_ANNOTATION = `${GROUP}/rotate-token-signing-key`;

// ---------------------------------------------------------------------------
// Seed 003: onboarding, offers and manifest artifacts (docs/seed003.md)

/**
 * On a tenant's namespace: the solutions onboarded to the tenant, `<organization>/<name>`
 * separated by spaces, written by the operator (Tenant controller) from the Solutions'
 * spec.onboarding. The admission policy `miniapps.dev-subscription-offered` reads it: a
 * Subscription may name only a solution listed here. Tenant administrators cannot write
 * namespaces, so they cannot offer themselves a solution.
 */
export const OFFERED_SOLUTIONS_ANNOTATION = `${GROUP}/offered-solutions`;

/**
 * On a ConfigMap of an organization's namespace: what manifest it holds, `solution` or
 * `app` (the seed's "uploaded artifact"). Members write only ConfigMaps with this label,
 * and only of a kind they may update (solutions: the solution's owners; appmanifests: the
 * app's developers): admission policy `miniapps.dev-manifest-artifacts`.
 */
export const MANIFEST_LABEL = `${GROUP}/manifest`;

/**
 * Virtual subresource `organizations/configmaps`: RBAC `update` on it (for an Organization)
 * lets one write any ConfigMap of its namespace (catalogs, snapshots, icons), not only
 * manifest artifacts. The operator (miniapps.dev `*`) and cluster administrators hold it.
 */
export const CONFIGMAPS_SUBRESOURCE = 'configmaps';

/** On a UserGroup made at onboarding (forceCreateUserGroup), before any subscription: the solution, `<organization>.<name>`. */
export const ONBOARDED_BY_LABEL = `${GROUP}/onboarded-solution`;
