// The kind-neutral names of the miniapps.dev API: group and version, the category, the
// annotations and conditions every kind shares. Each kind's own names (conditions,
// reasons, labels, annotations) are in api/<kind>/names.ts; the list of kinds is
// api/registry.ts. Like those, this module holds plain values and imports nothing, so the
// operator process never loads TypeBox (it imports only types from the schema modules).

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

/** Set True, with the reason of the check that failed, when retrying cannot help: the spec must change (kstatus). */
export const STALLED_CONDITION = 'Stalled';

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

/**
 * Who created an Organization, SuperApp or MiniApp: the creator's Kubernetes user name
 * (PlatformConfig userPrefix + the email in lowercase). An admission policy makes the API
 * server accept only the requester's own user name at creation, and no change afterwards:
 * the operator then makes an App Center organization's creator its administrator, and
 * gives an App Center Collaborator or Member the apps they created.
 */
export const CREATED_BY_ANNOTATION = `${GROUP}/created-by`;

/**
 * On a ConfigMap of an organization's namespace (seed 003's "uploaded artifact"): what
 * manifest it holds, `solution` or `app`. Members write only ConfigMaps with this label, and
 * only of a kind they may update (solutions: the solution's owners; appmanifests: the app's
 * developers): admission policy `miniapps.dev-manifest-artifacts`.
 */
export const MANIFEST_LABEL = `${GROUP}/manifest`;

/**
 * On a Solution or AppManifest whose spec.manifestFrom names a ConfigMap (seed 003): read
 * only a manifest artifact (a ConfigMap labelled MANIFEST_LABEL with the object's kind).
 * The admission policy `miniapps.dev-manifest-source` admits a ConfigMap reference from
 * someone RBAC does not let `get` it (a solution's owner, an app's developer: they may only
 * create and patch ConfigMaps) only with this annotation set to "true", so nobody makes the
 * operator read, and report on, a ConfigMap they could not read themselves.
 */
export const MANIFEST_ARTIFACT_ONLY_ANNOTATION = `${GROUP}/manifest-artifact-only`;

// Accounts of the embedded identity provider (operator/identity/): each is a Secret in the
// operator's namespace with ACCOUNT_LABEL; the domain's caches and the identity server read these.
/** Label of every account Secret (value "true"). */
export const ACCOUNT_LABEL = 'miniapps.dev/account';

/** Label holding a digest of the account's lowercased user name (lookups by user name). */
export const ACCOUNT_USERNAME_LABEL = 'miniapps.dev/account-username';

/** Type of the account Secrets. */
export const ACCOUNT_SECRET_TYPE = 'miniapps.dev/account';
