import { PLATFORM_CONFIG_NAME, PlatformConfigConditions } from '../../api/platformconfig/names.ts';
import type { PlatformConfig, PlatformConfigSpec } from '../../api/platformconfig/schema.ts';
import type { ConditionInput } from '../../runtime/conditions.ts';
import { parseDuration } from '../../runtime/config.ts';

export const PlatformConfigReasons = {
  Valid: 'Valid',
  NotSingleton: 'NotSingleton',
  InvalidInvitationTTL: 'InvalidInvitationTTL',
} as const;

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
