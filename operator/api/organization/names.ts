// The names of the organization slice: conditions, reasons, labels, annotations and limits, as plain
// values (no TypeBox): the operator process imports them.
import { GROUP, STALLED_CONDITION } from '../constants.ts';

/**
 * The virtual subresource `organizations/provisioning`: RBAC `update` on it is what
 * allows changing an Organization's capabilities and miniAppTargets (an admission
 * policy asks the authorizer). The provisioning administrators' ClusterRole grants it.
 */
export const PROVISIONING_SUBRESOURCE = 'provisioning';

/**
 * Virtual subresource `organizations/configmaps` (seed 003): RBAC `update` on it (for an
 * Organization) lets one write any ConfigMap of its namespace (catalogs, snapshots, icons),
 * not only manifest artifacts (MANIFEST_LABEL). The operator (miniapps.dev `*`) and cluster
 * administrators hold it.
 */
export const CONFIGMAPS_SUBRESOURCE = 'configmaps';

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
  /** A self-service Organization beyond PlatformConfig spec.quotas.organizationsPerCreator of its creator's: no namespace. */
  CreatorLimitReached: 'CreatorLimitReached',
  NamespaceConflict: 'NamespaceConflict',
  NamespaceTerminating: 'NamespaceTerminating',
  NamespaceReserved: 'NamespaceReserved',
  NamespaceNotAdoptable: 'NamespaceNotAdoptable',
  RBACApplied: 'RBACApplied',
  /** An active member's role is not bound in the namespace yet (their Membership's RoleBinding is missing). */
  MemberRolesPending: 'MemberRolesPending',
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

/** The Membership the operator makes for an App Center organization's creator. */
export const CREATOR_MEMBERSHIP_NAME = 'creator';

/**
 * The condition an App Center Organization reports about its creator (with
 * organizationModel AppCenter and the miniapps.dev/created-by annotation; it does not gate
 * Ready): the creator's Membership (OrganizationAdministrator, acceptance Automatic) was
 * made, or why not.
 */
export const CREATOR_CONDITION = 'CreatorAdministrator';
export const CreatorReasons = {
  /** The creator's Membership exists (or the organization already has members: it is made only for an organization without any). */
  CreatorMembershipMade: 'CreatorMembershipMade',
  /** The organization's namespace is not recorded yet (a Membership is admitted only there). */
  CreatorMembershipPending: 'CreatorMembershipPending',
  /** The creator's user name is not PlatformConfig userPrefix followed by an email: no Membership can name them. */
  CreatorNotAPerson: 'CreatorNotAPerson',
} as const;

/**
 * The ConfigMap the operator makes, empty and labelled miniapps.dev/icon=true, in each
 * organization namespace (seed 002's organization icon): the organization's
 * administrators may get and patch it by name (and nothing else of the namespace's
 * ConfigMaps), so they set the icon with their own rights, e.g. `kubectl create configmap
 * organization-icon --from-file=icon.png --dry-run=client -o yaml | kubectl apply
 * --server-side -f -`, then point spec.icon at it.
 */
export const ORGANIZATION_ICON_CONFIGMAP = 'organization-icon';
