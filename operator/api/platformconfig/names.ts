// The names of the platformconfig slice: conditions, reasons, labels, annotations and limits, as plain
// values (no TypeBox): the operator process imports them.

export const PLATFORM_CONFIG_NAME = 'default';

/** What the API server fills in when a field is left out. */
export const PlatformConfigDefaults = {
  invitationTTL: '168h',
  namespacePrefix: { organization: 'org-', tenant: 'tenant-' },
  userPrefix: '',
  groupPrefix: '',
  /** spec.quotas: how many ApiKeys one owner may hold in one namespace, and the ResourceQuota of every namespace the operator creates. */
  quotas: { apiKeysPerOwner: 20, organizationsPerCreator: 3, namespace: { apiKeys: 200, secrets: 500 } },
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

/**
 * Which organization model the platform follows (PlatformConfig spec.organizationModel):
 * the Mini App Center's (seed 000: provisioning administrators make organizations; four
 * roles) or App Center's (seed 002: anyone signed in makes their own organization and
 * becomes its Admin; Admin, Collaborator, Member; Collaborators and Members see only the
 * apps they belong to). See docs/people.md.
 */
export const OrganizationModels = ['MiniAppCenter', 'AppCenter'] as const;
export type OrganizationModel = (typeof OrganizationModels)[number];
export const DEFAULT_ORGANIZATION_MODEL: OrganizationModel = 'MiniAppCenter';

/** The ClusterRole of the provisioning administrators (PlatformConfig provisioningAdministrators and Accounts with provisioningAdministrator). */
export const PROVISIONING_ADMINISTRATOR_ROLE = 'miniapps:provisioning-administrator';

/** The ClusterRole that lets people make their own Organizations (bound to system:authenticated with organizationModel AppCenter). */
export const ORGANIZATION_CREATOR_ROLE = 'miniapps:organization-creator';
/** The group every authenticated request carries. */
export const AUTHENTICATED_GROUP = 'system:authenticated';
