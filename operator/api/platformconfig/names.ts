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
