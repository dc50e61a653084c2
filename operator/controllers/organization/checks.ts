import type { Membership } from '../../api/membership/schema.ts';
import type { Organization } from '../../api/organization/schema.ts';
import type { ConditionInput } from '../../runtime/conditions.ts';
import type { AnyObject } from '../../runtime/kube/client.ts';
import { isActiveAdministrator } from '../../domain/members.ts';
import { OrganizationConditions, OrganizationReasons } from '../../api/organization/names.ts';
import { missingCapability } from '../../domain/organizations.ts';

const OrganizationCheckReasons = OrganizationReasons;
const ExtraConditions = OrganizationConditions;

export interface MemberCounts {
  active: number;
  invited: number;
  suspended: number;
  administrators: number;
}

export function countMembers(members: readonly Membership[]): MemberCounts {
  const counts = { active: 0, invited: 0, suspended: 0, administrators: 0 };
  for (const m of members) {
    const phase = m.status?.phase;
    if (phase === 'Active') counts.active++;
    else if (phase === 'Invited' || phase === 'Expired') counts.invited++;
    else if (phase === 'Suspended') counts.suspended++;
    if (isActiveAdministrator(m)) counts.administrators++;
  }
  return counts;
}

/** Apps that exist although the organization lacks the capability (the webhook was down). */
export function capabilityCheck(org: Organization, superApps: readonly AnyObject[], miniApps: readonly AnyObject[]): ConditionInput {
  const offenders = [
    ...(superApps.length && missingCapability(org, 'SuperApp') ? superApps.map((a) => `SuperApp ${a.metadata.name}`) : []),
    ...(miniApps.length && missingCapability(org, 'MiniApp') ? miniApps.map((a) => `MiniApp ${a.metadata.name}`) : []),
  ];
  if (offenders.length === 0) {
    return {
      type: ExtraConditions.CapabilitiesRespected,
      status: 'True',
      reason: OrganizationCheckReasons.CapabilitiesRespected,
      message: 'Every app in the namespace is allowed by spec.capabilities',
    };
  }
  return {
    type: ExtraConditions.CapabilitiesRespected,
    status: 'False',
    reason: OrganizationCheckReasons.CapabilityMissing,
    message: `${offenders.slice(0, 10).join(', ')}${offenders.length > 10 ? ` and ${offenders.length - 10} more` : ''} exist although spec.capabilities does not allow them; delete them or grant the capability`,
  };
}

/** Each miniAppTargets entry names an existing super app of an existing organization. */
export function targetsCheck(org: Organization, superAppExists: (organization: string, name: string) => boolean): ConditionInput | undefined {
  const targets = org.spec.miniAppTargets ?? [];
  if (targets.length === 0) return undefined;
  const missing = targets.filter((t) => !superAppExists(t.organization, t.name)).map((t) => `${t.organization}/${t.name}`);
  if (missing.length === 0) {
    return { type: ExtraConditions.MiniAppTargetsResolved, status: 'True', reason: OrganizationCheckReasons.TargetsResolved, message: `All ${targets.length} mini app targets exist` };
  }
  return {
    type: ExtraConditions.MiniAppTargetsResolved,
    status: 'False',
    reason: OrganizationCheckReasons.TargetNotFound,
    message: `These super apps in spec.miniAppTargets do not exist (yet): ${missing.join(', ')}; mini apps can be published to them once they do`,
  };
}

/** The reconciler's guard for the last-administrator rule, should the webhook have been bypassed. */
export function administratorCheck(counts: MemberCounts, memberCount: number): ConditionInput | undefined {
  if (memberCount === 0) return undefined;
  if (counts.administrators > 0) {
    return { type: ExtraConditions.AdministratorActive, status: 'True', reason: OrganizationCheckReasons.AdministratorActive, message: `${counts.administrators} active administrator(s)` };
  }
  return {
    type: ExtraConditions.AdministratorActive,
    status: 'False',
    reason: OrganizationCheckReasons.NoActiveAdministrator,
    message: 'The organization has no active OrganizationAdministrator; add a Membership with that role (acceptance Automatic) or have an invited administrator accept',
  };
}
