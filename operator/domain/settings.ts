// The platform settings every controller reads, from the PlatformConfig singleton with the
// contract's defaults filled in.
import { DEFAULT_ORGANIZATION_MODEL, PlatformConfigDefaults } from '../api/platformconfig/names.ts';
import type { OrganizationModel } from '../api/platformconfig/names.ts';
import type { PlatformConfigSpec } from '../api/platformconfig/schema.ts';
import { parseDuration } from '../runtime/config.ts';

/** The settings every controller reads, with the contract's defaults filled in. */
export interface PlatformSettings {
  invitationTTLMs: number;
  namespacePrefix: { organization: string; tenant: string };
  userPrefix: string;
  groupPrefix: string;
  categories: string[];
  platforms: string[];
  provisioningAdministrators: { users: string[]; groups: string[] };
  quotas: { apiKeysPerOwner: number; organizationsPerCreator: number; namespace: { apiKeys: number; secrets: number } };
  /** MiniAppCenter (seed 000) or AppCenter (seed 002): see api/platformconfig/names.ts. */
  organizationModel: OrganizationModel;
}

export const DEFAULT_SETTINGS: PlatformSettings = settingsOf(undefined);

/** Reads the settings from the PlatformConfig (or the defaults when there is none). */
export function settingsOf(spec: PlatformConfigSpec | undefined): PlatformSettings {
  const ttl = parseDuration(spec?.invitationTTL ?? PlatformConfigDefaults.invitationTTL);
  return {
    invitationTTLMs: ttl && ttl > 0 ? ttl : parseDuration(PlatformConfigDefaults.invitationTTL)!,
    namespacePrefix: {
      organization: spec?.namespacePrefix?.organization ?? PlatformConfigDefaults.namespacePrefix.organization,
      tenant: spec?.namespacePrefix?.tenant ?? PlatformConfigDefaults.namespacePrefix.tenant,
    },
    userPrefix: spec?.userPrefix ?? '',
    groupPrefix: spec?.groupPrefix ?? '',
    categories: spec?.categories ?? [],
    platforms: spec?.platforms ?? [],
    provisioningAdministrators: {
      users: spec?.provisioningAdministrators?.users ?? [],
      groups: spec?.provisioningAdministrators?.groups ?? [],
    },
    organizationModel: spec?.organizationModel ?? DEFAULT_ORGANIZATION_MODEL,
    quotas: {
      apiKeysPerOwner: spec?.quotas?.apiKeysPerOwner ?? PlatformConfigDefaults.quotas.apiKeysPerOwner,
      organizationsPerCreator: spec?.quotas?.organizationsPerCreator ?? PlatformConfigDefaults.quotas.organizationsPerCreator,
      namespace: {
        apiKeys: spec?.quotas?.namespace?.apiKeys ?? PlatformConfigDefaults.quotas.namespace.apiKeys,
        secrets: spec?.quotas?.namespace?.secrets ?? PlatformConfigDefaults.quotas.namespace.secrets,
      },
    },
  };
}
