import { createHmac } from 'node:crypto';
import { FIRST_INVITATIONS_RECORDED, MAX_RECENT_RESENDS, MembershipConditions, RESEND_INVITATION_ANNOTATION } from '../../api/membership/names.ts';
import { lowerAscii } from '../../api/constants.ts';
import type { Membership, MembershipPhase, MembershipStatus } from '../../api/membership/schema.ts';
import type { OrganizationStatus } from '../../api/organization/schema.ts';
import { rfc3339 } from '../../runtime/clock.ts';
import type { ConditionInput } from '../../runtime/conditions.ts';
import { formatDuration } from '../../runtime/config.ts';
import { invitationMessageId } from './message.ts';
import { isActiveMember } from '../../domain/members.ts';

export { isActiveMember };

/** Invitations sent automatically (the first and resends on expiry); a resend annotation always sends one more, within the resend limits. */
export const MAX_AUTOMATIC_ATTEMPTS = 3;

/** A resend asked for through the annotation goes out no sooner than this after the previous invitation (the default of --invitation-resend-interval). */
export const RESEND_MIN_INTERVAL_MS = 10 * 60_000;
/** Resends asked for through the annotation per organization per RESEND_WINDOW_MS (the default of --invitation-resend-limit). */
export const RESEND_LIMIT_PER_ORG = 20;
/** The rolling window of the per-organization limit. */
export const RESEND_WINDOW_MS = 3_600_000;

/** First emails of Memberships (invitation or notification) to one address per organization per FIRST_INVITATION_WINDOW_MS (the default of --invitation-recipient-limit). */
export const FIRST_INVITATIONS_PER_RECIPIENT = 3;
/** First emails of Memberships per organization per FIRST_INVITATION_WINDOW_MS, whoever they go to (the default of --invitation-organization-limit). */
export const FIRST_INVITATIONS_PER_ORGANIZATION = 500;
/** The rolling window of the first-email limits: a day. */
export const FIRST_INVITATION_WINDOW_MS = 86_400_000;

export const MembershipReasons = {
  InvitationSent: 'InvitationSent',
  NotificationSent: 'NotificationSent',
  InvitationPending: 'InvitationPending',
  InvitationExpired: 'InvitationExpired',
  SMTPNotConfigured: 'SMTPNotConfigured',
  SMTPUnavailable: 'SMTPUnavailable',
  RecipientRejected: 'RecipientRejected',
  RoleBound: 'RoleBound',
  AwaitingAcceptance: 'AwaitingAcceptance',
  /** Active, the namespace role bound, and the Organization's ClusterRoleBinding not naming the member yet: not Ready. */
  OrganizationAccessPending: 'OrganizationAccessPending',
  Suspended: 'Suspended',
  OrganizationNotFound: 'OrganizationNotFound',
  DuplicateEmail: 'DuplicateEmail',
  /** The role is not one of PlatformConfig spec.organizationModel's. */
  RoleNotInModel: 'RoleNotInModel',
  Active: 'Active',
  ResendRateLimited: 'ResendRateLimited',
  InvitationRateLimited: 'InvitationRateLimited',
} as const;

export type Invitation = NonNullable<MembershipStatus['invitation']>;

/**
 * The limits on resends asked for through the annotation, and what the organization
 * has used of them. First invitations and automatic resends on expiry are not limited.
 */
export interface ResendPolicy {
  /** A requested resend goes out no sooner than this after the previous invitation's sentAt. */
  intervalMs: number;
  /** Requested resends per organization per RESEND_WINDOW_MS, this membership's included. */
  limitPerOrganization: number;
  /**
   * When the organization's other Memberships had invitations resent on request
   * (their status.invitation.recentResends, RFC 3339); this membership's own come
   * from its status. Times, not a count: the oldest says when a place frees up.
   */
  organizationResends: readonly string[];
}

/** A resend asked for through the annotation that must wait: until when, and which limit holds it. */
export type ResendHold = {
  /** The annotation value waiting for its resend: still pending, answered once allowed. */
  request: string;
  until: Date;
} & ({ limit: 'membership'; intervalMs: number; previousAt: string } | { limit: 'organization'; resends: number; limitPerOrganization: number });

/** What to do about the invitation email now; `hold` is a requested resend that must wait. */
export type InvitationPlan = (
  | { kind: 'none'; recheckAt?: Date }
  | {
      kind: 'send';
      /** The invitation as it must be recorded before the email is sent (the intent). */
      invitation: Invitation;
      /** An access notification (acceptance Automatic) rather than an invitation with a link. */
      notification: boolean;
      /** A resend asked for through the annotation: counted by the organization's limit. */
      requested?: true;
    }
) & { hold?: ResendHold };

const isAutomatic = (m: Membership) => m.spec.acceptance === 'Automatic';

/**
 * Decides whether an invitation (or, with acceptance Automatic, the notification) is
 * due. Pure: time comes in as `now`, the organization's recent resends in `resends`.
 * An attempt whose intent is recorded but whose email is not (status.invitation.sentAt
 * missing) is sent again with the same Message-ID and link, never as a new attempt,
 * unless its link already expired. A new value of the resend annotation sends a new
 * attempt within the resend limits; beyond them it is held (`hold`, still pending) and
 * goes out once allowed, or with an automatic resend on expiry that comes first.
 */
export function planInvitation(m: Membership, now: Date, ttlMs: number, resends: ResendPolicy): InvitationPlan {
  if (m.spec.suspended) return { kind: 'none' };
  const inv = m.status?.invitation;
  const attempts = inv?.attempts ?? 0;
  const uid = m.metadata.uid!;
  const recent = (inv?.recentResends ?? []).filter((t) => Date.parse(t) > now.getTime() - RESEND_WINDOW_MS);
  const fresh = (attempt: number, resendRequest = inv?.resendRequest, requested = false): InvitationPlan => {
    const times = requested ? [...recent, rfc3339(now)].slice(-MAX_RECENT_RESENDS) : recent;
    return {
      kind: 'send',
      notification: isAutomatic(m),
      invitation: {
        attempts: attempt,
        messageId: invitationMessageId(uid, attempt),
        ...(isAutomatic(m) ? {} : { expiresAt: rfc3339(new Date(now.getTime() + ttlMs)) }),
        ...(resendRequest !== undefined ? { resendRequest } : {}),
        ...(times.length > 0 ? { recentResends: times } : {}),
      },
      ...(requested ? { requested: true as const } : {}),
    };
  };
  const pending = (): InvitationPlan => ({ kind: 'send', notification: isAutomatic(m), invitation: { ...inv! } });

  if (isAutomatic(m)) {
    if (inv?.sentAt) return { kind: 'none' };
    return attempts > 0 ? pending() : fresh(1);
  }
  if (m.status?.acceptedAt) return { kind: 'none' };
  const resend = m.metadata.annotations?.[RESEND_INVITATION_ANNOTATION];
  const requested = resendRequested(m);
  const hold = requested ? resendHold(resend!, inv!, recent, now, resends) : undefined;
  if (requested && !hold) return fresh(attempts + 1, resend, true);
  if (attempts === 0) return fresh(1, resend);
  const held = (p: InvitationPlan): InvitationPlan => (hold ? { ...p, hold } : p);
  const expiresAt = inv?.expiresAt ? new Date(inv.expiresAt) : now;
  if (expiresAt > now) return held(inv?.sentAt ? { kind: 'none', recheckAt: expiresAt } : pending());
  // The automatic resend on expiry is bounded by itself; a new invitation all the same, it answers a held request.
  if (attempts < MAX_AUTOMATIC_ATTEMPTS) return fresh(attempts + 1, requested ? resend : inv?.resendRequest);
  return held({ kind: 'none' });
}

/**
 * Whether the Membership asks for a resend through the annotation (a new value, after an
 * invitation went out, while it is not accepted): planInvitation then decides it within the
 * resend limits, which the controller counts per organization, one decision at a time.
 */
export function resendRequested(m: Membership): boolean {
  if (m.spec.suspended || isAutomatic(m) || m.status?.acceptedAt) return false;
  const inv = m.status?.invitation;
  const resend = m.metadata.annotations?.[RESEND_INVITATION_ANNOTATION];
  return resend !== undefined && resend !== (inv?.resendRequest ?? undefined) && (inv?.attempts ?? 0) > 0;
}

/**
 * Why a requested resend must wait, if it must: the previous invitation (or requested
 * resend) of this membership is younger than the interval, or the organization has had
 * its limit of requested resends in the last RESEND_WINDOW_MS. The later time wins.
 */
function resendHold(request: string, inv: Invitation, own: readonly string[], now: Date, policy: ResendPolicy): ResendHold | undefined {
  const t = now.getTime();
  const previous = Math.max(
    ...[inv.sentAt, ...own]
      .filter((x): x is string => !!x)
      .map(Date.parse)
      .filter(Number.isFinite),
  );
  const byMembership = previous + policy.intervalMs > t ? previous + policy.intervalMs : undefined;
  const inWindow = [...policy.organizationResends, ...own]
    .map(Date.parse)
    .filter((x) => x > t - RESEND_WINDOW_MS)
    .sort((a, b) => a - b);
  const limit = policy.limitPerOrganization;
  // With n ≥ limit in the window, a place frees up when all but limit - 1 of them have left it.
  const byOrganization = inWindow.length >= limit ? inWindow[inWindow.length - limit]! + RESEND_WINDOW_MS : undefined;
  if (byOrganization !== undefined && (byMembership === undefined || byOrganization >= byMembership)) {
    return { request, until: new Date(byOrganization), limit: 'organization', resends: inWindow.length, limitPerOrganization: limit };
  }
  if (byMembership !== undefined) return { request, until: new Date(byMembership), limit: 'membership', intervalMs: policy.intervalMs, previousAt: rfc3339(new Date(previous)) };
  return undefined;
}

/** InvitationSent while a requested resend waits: when it goes out, and which limit holds it. */
export function resendHeldCondition(hold: ResendHold): ConditionInput {
  const why =
    hold.limit === 'membership'
      ? `the per membership limit allows one resend every ${formatDuration(hold.intervalMs)} and the previous invitation went out at ${hold.previousAt}`
      : `the per organization limit allows ${hold.limitPerOrganization} resends per rolling hour and the organization has had ${hold.resends}`;
  return {
    type: MembershipConditions.InvitationSent,
    status: 'False',
    reason: MembershipReasons.ResendRateLimited,
    message: `The resend asked for through ${RESEND_INVITATION_ANNOTATION} is held until ${rfc3339(hold.until)}: ${why}; it goes out then by itself`,
  };
}

/** What an Organization records of its Memberships' first emails (status.firstInvitations). */
export type FirstInvitationRecord = NonNullable<OrganizationStatus['firstInvitations']>;

/** The limits on first emails of Memberships, which outlive the Memberships: they are counted in the Organization's status. */
export interface FirstInvitationLimits {
  /** First emails to one address per organization per FIRST_INVITATION_WINDOW_MS. */
  perRecipient: number;
  /** First emails per organization per FIRST_INVITATION_WINDOW_MS (at most FIRST_INVITATIONS_RECORDED). */
  perOrganization: number;
}

/** A first email that must wait: until when, and which limit holds it. */
export interface FirstInvitationHold {
  until: Date;
  limit: 'recipient' | 'organization';
  /** First emails counted in the window by that limit, and the limit. */
  count: number;
  max: number;
}

/**
 * Whether the first email of a Membership to `recipient` (its identifier in the record)
 * may go out now: at most `perRecipient` to one address and `perOrganization` in all per
 * rolling day, counting those of Memberships deleted since. Pure: returns the record to
 * write before sending (this one added, entries older than the window dropped), or the hold.
 */
export function admitFirstInvitation(
  record: FirstInvitationRecord | undefined,
  recipient: string,
  now: Date,
  limits: FirstInvitationLimits,
  membership?: string,
): { record: FirstInvitationRecord } | { hold: FirstInvitationHold } {
  const t = now.getTime();
  const inWindow = (record ?? [])
    .map((e) => ({ e, at: Date.parse(e.sentAt) }))
    .filter(({ at }) => Number.isFinite(at) && at > t - FIRST_INVITATION_WINDOW_MS)
    .sort((a, b) => a.at - b.at);
  // Admitted already (a process that recorded it died before the attempt was recorded): counted once.
  if (membership && inWindow.some(({ e }) => e.membership === membership)) return { record: inWindow.map(({ e }) => e) };
  // With n ≥ max in the window, a place frees up when all but max - 1 of them have left it.
  const freedAt = (times: number[], max: number) => (times.length >= max ? times[times.length - max]! + FIRST_INVITATION_WINDOW_MS : undefined);
  const orgMax = Math.max(1, Math.min(limits.perOrganization, FIRST_INVITATIONS_RECORDED));
  const mine = inWindow.filter(({ e }) => e.recipient === recipient).map(({ at }) => at);
  const byRecipient = freedAt(mine, limits.perRecipient);
  const byOrganization = freedAt(
    inWindow.map(({ at }) => at),
    orgMax,
  );
  if (byOrganization !== undefined && (byRecipient === undefined || byOrganization >= byRecipient)) {
    return { hold: { until: new Date(byOrganization), limit: 'organization', count: inWindow.length, max: orgMax } };
  }
  if (byRecipient !== undefined) return { hold: { until: new Date(byRecipient), limit: 'recipient', count: mine.length, max: limits.perRecipient } };
  return { record: [...inWindow.map(({ e }) => e), { recipient, sentAt: rfc3339(now), ...(membership ? { membership } : {}) }] };
}

/** A Membership as the Organization's record names it: 12 hex digits of an HMAC of its uid. */
export function firstInvitationMembership(key: Buffer, uid: string): string {
  return createHmac('sha256', key).update(`miniapps.dev/first-invitation-membership\n${uid}`).digest('hex').slice(0, 12);
}

/** A recipient as the Organization's record names it: an HMAC of organization and email (ASCII letters lowercased, as RBAC subjects are: lowerAscii), never the address. */
export function firstInvitationRecipient(key: Buffer, organization: string, email: string): string {
  return createHmac('sha256', key)
    .update(`miniapps.dev/first-invitation\n${organization}\n${lowerAscii(email)}`)
    .digest('hex')
    .slice(0, 32);
}

/** InvitationSent while a Membership's first email waits for the first-email limits. */
export function firstInvitationHeldCondition(hold: FirstInvitationHold): ConditionInput {
  const why =
    hold.limit === 'recipient'
      ? `the per recipient limit allows ${hold.max} first emails to one address per organization per rolling day, and this address has had ${hold.count}, Memberships deleted since included`
      : `the per organization limit allows ${hold.max} first emails of Memberships per rolling day, and the organization has had ${hold.count}`;
  return {
    type: MembershipConditions.InvitationSent,
    status: 'False',
    reason: MembershipReasons.InvitationRateLimited,
    message: `The first email of this Membership is held until ${rfc3339(hold.until)}: ${why}; it goes out then by itself`,
  };
}

export function phaseOf(m: Membership, now: Date): MembershipPhase {
  if (m.spec.suspended) return 'Suspended';
  if (isActiveMember(m)) return 'Active';
  const inv = m.status?.invitation;
  if (inv?.sentAt && inv.expiresAt && new Date(inv.expiresAt) <= now && (inv.attempts ?? 0) >= MAX_AUTOMATIC_ATTEMPTS) return 'Expired';
  return 'Invited';
}

/** What access found: whether the member's Role is bound, to whom, and the Organization bindings that do not name them yet. */
export interface AccessState {
  bound: boolean;
  subject: string;
  namespace: string;
  roleName: string;
  /** The Organization's ClusterRoleBindings the member needs (to read it; an administrator's to change it) that do not name them yet. */
  organizationBindingsMissing?: readonly string[];
}

/** The conditions that follow from the phase and the last send outcome: issuing's InvitationSent, access's AccessGranted, and Ready from both. */
export function membershipConditions(m: Membership, phase: MembershipPhase, access: AccessState, sendProblem: ConditionInput | undefined, hold?: ResendHold): ConditionInput[] {
  const sent = invitationSentCondition(m, sendProblem, hold);
  const missing = access.organizationBindingsMissing ?? [];
  const ready =
    phase === 'Active' && access.bound && missing.length > 0
      ? {
          type: MembershipConditions.Ready,
          status: 'False' as const,
          reason: MembershipReasons.OrganizationAccessPending,
          message: `Role ${access.roleName} is bound in ${access.namespace}; ClusterRoleBinding ${missing.join(' and ')} does not name user "${access.subject}" yet (the Organization controller writes it), so they cannot read the Organization`,
        }
      : readyCondition(m, phase, sent, !sendProblem && !!m.status?.invitation?.sentAt, hold);
  return [sent, accessGrantedCondition(m, phase, access), ready];
}

/** Issuing's condition: whether the invitation (or notification) went out, is held, or why not. */
export function invitationSentCondition(m: Membership, sendProblem: ConditionInput | undefined, hold?: ResendHold): ConditionInput {
  const inv = m.status?.invitation;
  if (sendProblem) return sendProblem;
  if (hold) return resendHeldCondition(hold);
  if (inv?.sentAt) {
    return {
      type: MembershipConditions.InvitationSent,
      status: 'True',
      reason: isAutomatic(m) ? MembershipReasons.NotificationSent : MembershipReasons.InvitationSent,
      message: isAutomatic(m) ? `Access notification sent to ${m.spec.email} at ${inv.sentAt}` : `Invitation ${inv.attempts} sent to ${m.spec.email} at ${inv.sentAt}; it expires at ${inv.expiresAt}`,
    };
  }
  // Accepted through the recorded attempt's link before its send was recorded (then nothing more is sent or recorded): it went out.
  if (inv?.attempts && m.status?.acceptedAt && !isAutomatic(m)) {
    return {
      type: MembershipConditions.InvitationSent,
      status: 'True',
      reason: MembershipReasons.InvitationSent,
      message: `Invitation ${inv.attempts} sent to ${m.spec.email}; accepted at ${m.status.acceptedAt}`,
    };
  }
  return {
    type: MembershipConditions.InvitationSent,
    status: 'False',
    reason: m.spec.suspended ? MembershipReasons.Suspended : MembershipReasons.InvitationPending,
    message: m.spec.suspended ? 'No invitation is sent while the membership is suspended' : 'The invitation is about to be sent',
  };
}

/** Access's condition: whether the member's Role is bound, or why not. */
export function accessGrantedCondition(m: Membership, phase: MembershipPhase, access: AccessState): ConditionInput {
  if (access.bound) {
    return {
      type: MembershipConditions.AccessGranted,
      status: 'True',
      reason: MembershipReasons.RoleBound,
      message: `Role ${access.roleName} is bound to user "${access.subject}" in namespace ${access.namespace}`,
    };
  }
  if (phase === 'Suspended') {
    return {
      type: MembershipConditions.AccessGranted,
      status: 'False',
      reason: MembershipReasons.Suspended,
      message: 'The membership is suspended: it grants no access; set spec.suspended to false to restore it',
    };
  }
  return { type: MembershipConditions.AccessGranted, status: 'False', reason: MembershipReasons.AwaitingAcceptance, message: `Access is granted once ${m.spec.email} accepts the invitation` };
}

/**
 * Ready means the operator has done all it can: the member is Active with the role
 * bound and named by the Organization's bindings (they have the access: `kubectl wait`
 * returns when they do), or Suspended with access removed, or Invited with the invitation out (the
 * rest is the person's move). An expired invitation or a failed send is not Ready. A
 * held resend changes nothing: the invitation sent last is still out (and valid,
 * since an expired one is resent automatically or makes the phase Expired).
 */
function readyCondition(m: Membership, phase: MembershipPhase, sent: ConditionInput, delivered: boolean, hold: ResendHold | undefined): ConditionInput {
  const ready = (reason: string, message: string): ConditionInput => ({ type: MembershipConditions.Ready, status: 'True', reason, message });
  switch (phase) {
    case 'Active':
      return ready(MembershipReasons.Active, `${m.spec.email} is an active ${m.spec.role}`);
    case 'Suspended':
      return ready(MembershipReasons.Suspended, `${m.spec.email} is suspended and has no access`);
    case 'Expired':
      return {
        type: MembershipConditions.Ready,
        status: 'False',
        reason: MembershipReasons.InvitationExpired,
        message: hold
          ? `The invitation expired after ${m.status?.invitation?.attempts} attempts; the resend asked for through ${RESEND_INVITATION_ANNOTATION} goes out at ${rfc3339(hold.until)} (see InvitationSent)`
          : `The invitation expired after ${m.status?.invitation?.attempts} attempts; set the annotation ${RESEND_INVITATION_ANNOTATION} to a new value to send another`,
      };
    case 'Invited':
      return delivered ? ready(MembershipReasons.AwaitingAcceptance, `Waiting for ${m.spec.email} to accept the invitation`) : { ...sent, type: MembershipConditions.Ready };
  }
}

/** When the membership needs looking at again without any change (an invitation expiring, a held resend allowed), just after. */
export function nextCheck(m: Membership, now: Date, hold?: ResendHold): number | undefined {
  const exp = m.status?.invitation?.expiresAt;
  const times = [hold?.until.getTime()];
  if (exp && !m.status?.acceptedAt && m.spec.acceptance !== 'Automatic') times.push(new Date(exp).getTime());
  const ms = Math.min(...times.filter((t): t is number => t !== undefined && t > now.getTime())) - now.getTime();
  return Number.isFinite(ms) ? ms + 1000 : undefined;
}
