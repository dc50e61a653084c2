import { PLATFORM_CONFIG_NAME, PlatformConfigConditions, PlatformConfigDefaults } from '../../api/constants.ts';
import type { PlatformConfig, PlatformConfigSpec } from '../../api/index.ts';
import type { ConditionInput } from '../../runtime/conditions.ts';
import { parseDuration } from '../../runtime/config.ts';

export const PlatformConfigReasons = {
  Valid: 'Valid',
  NotSingleton: 'NotSingleton',
  InvalidInvitationTTL: 'InvalidInvitationTTL',
} as const;

/** The settings every controller reads, with the contract's defaults filled in. */
export interface PlatformSettings {
  invitationTTLMs: number;
  namespacePrefix: { organization: string; tenant: string };
  userPrefix: string;
  groupPrefix: string;
  categories: string[];
  platforms: string[];
  provisioningAdministrators: { users: string[]; groups: string[] };
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
  };
}

/** What can be wrong with a PlatformConfig that the schema cannot see. */
export function validatePlatformConfig(pc: PlatformConfig): ConditionInput | undefined {
  if (pc.metadata.name !== PLATFORM_CONFIG_NAME) {
    return {
      type: PlatformConfigConditions.Ready,
      status: 'False',
      reason: PlatformConfigReasons.NotSingleton,
      message: `Only the PlatformConfig named "${PLATFORM_CONFIG_NAME}" is used; rename this one to "${PLATFORM_CONFIG_NAME}" or delete it`,
    };
  }
  const ttl = spec(pc).invitationTTL;
  if (ttl !== undefined && !((parseDuration(ttl) ?? 0) > 0)) {
    return {
      type: PlatformConfigConditions.Ready,
      status: 'False',
      reason: PlatformConfigReasons.InvalidInvitationTTL,
      message: `spec.invitationTTL "${ttl}" must be a positive duration such as 168h; invitations use the default of 168h until it is fixed`,
    };
  }
  return undefined;
}

const spec = (pc: PlatformConfig): PlatformConfigSpec => pc.spec ?? {};
