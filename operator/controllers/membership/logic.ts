import { MembershipConditions, RESEND_INVITATION_ANNOTATION } from '../../api/constants.ts';
import type { Membership, MembershipPhase, MembershipStatus } from '../../api/index.ts';
import { rfc3339 } from '../../runtime/clock.ts';
import type { ConditionInput } from '../../runtime/conditions.ts';
import { invitationMessageId } from '../../invitations/message.ts';

/** Invitations sent automatically (the first and resends on expiry); a resend annotation always sends one more. */
export const MAX_AUTOMATIC_ATTEMPTS = 3;

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
  Suspended: 'Suspended',
  OrganizationNotFound: 'OrganizationNotFound',
  DuplicateEmail: 'DuplicateEmail',
  Active: 'Active',
} as const;

export type Invitation = NonNullable<MembershipStatus['invitation']>;

/** What to do about the invitation email now. */
export type InvitationPlan =
  | { kind: 'none'; recheckAt?: Date }
  | {
      kind: 'send';
      /** The invitation as it must be recorded before the email is sent (the intent). */
      invitation: Invitation;
      /** An access notification (acceptance Automatic) rather than an invitation with a link. */
      notification: boolean;
    };


const isAutomatic = (m: Membership) => m.spec.acceptance === 'Automatic';

/**
 * Decides whether an invitation (or, with acceptance Automatic, the notification) is
 * due. Pure: time comes in as `now`. An attempt whose intent is recorded but whose
 * email is not (status.invitation.sentAt missing) is sent again with the same
 * Message-ID and link, never as a new attempt, unless its link already expired.
 */
export function planInvitation(m: Membership, now: Date, ttlMs: number): InvitationPlan {
  if (m.spec.suspended) return { kind: 'none' };
  const inv = m.status?.invitation;
  const attempts = inv?.attempts ?? 0;
  const uid = m.metadata.uid!;
  const fresh = (attempt: number, resendRequest = inv?.resendRequest): InvitationPlan => ({
    kind: 'send',
    notification: isAutomatic(m),
    invitation: {
      attempts: attempt,
      messageId: invitationMessageId(uid, attempt),
      ...(isAutomatic(m) ? {} : { expiresAt: rfc3339(new Date(now.getTime() + ttlMs)) }),
      ...(resendRequest !== undefined ? { resendRequest } : {}),
    },
  });
  const pending = (): InvitationPlan => ({ kind: 'send', notification: isAutomatic(m), invitation: { ...inv! } });

  if (isAutomatic(m)) {
    if (inv?.sentAt) return { kind: 'none' };
    return attempts > 0 ? pending() : fresh(1);
  }
  if (m.status?.acceptedAt) return { kind: 'none' };
  const resend = m.metadata.annotations?.[RESEND_INVITATION_ANNOTATION];
  if (resend !== undefined && resend !== (inv?.resendRequest ?? undefined) && attempts > 0) return fresh(attempts + 1, resend);
  if (attempts === 0) return fresh(1, resend);
  const expiresAt = inv?.expiresAt ? new Date(inv.expiresAt) : now;
  if (expiresAt > now) return inv?.sentAt ? { kind: 'none', recheckAt: expiresAt } : pending();
  return attempts < MAX_AUTOMATIC_ATTEMPTS ? fresh(attempts + 1) : { kind: 'none' };
}

/** A member whose role is bound: accepted (or automatic) and not suspended. */
export function isActiveMember(m: Membership): boolean {
  return !m.spec.suspended && (isAutomatic(m) || !!m.status?.acceptedAt);
}

export function phaseOf(m: Membership, now: Date): MembershipPhase {
  if (m.spec.suspended) return 'Suspended';
  if (isActiveMember(m)) return 'Active';
  const inv = m.status?.invitation;
  if (inv?.sentAt && inv.expiresAt && new Date(inv.expiresAt) <= now && (inv.attempts ?? 0) >= MAX_AUTOMATIC_ATTEMPTS) return 'Expired';
  return 'Invited';
}

/** The conditions that follow from the phase and the last send outcome. */
export function membershipConditions(
  m: Membership,
  phase: MembershipPhase,
  access: { bound: boolean; subject: string; namespace: string; roleName: string },
  sendProblem: ConditionInput | undefined,
): ConditionInput[] {
  const inv = m.status?.invitation;
  const sent: ConditionInput = sendProblem ?? (inv?.sentAt
    ? {
        type: MembershipConditions.InvitationSent,
        status: 'True',
        reason: isAutomatic(m) ? MembershipReasons.NotificationSent : MembershipReasons.InvitationSent,
        message: isAutomatic(m)
          ? `Access notification sent to ${m.spec.email} at ${inv.sentAt}`
          : `Invitation ${inv.attempts} sent to ${m.spec.email} at ${inv.sentAt}; it expires at ${inv.expiresAt}`,
      }
    : {
        type: MembershipConditions.InvitationSent,
        status: 'False',
        reason: m.spec.suspended ? MembershipReasons.Suspended : MembershipReasons.InvitationPending,
        message: m.spec.suspended ? 'No invitation is sent while the membership is suspended' : 'The invitation is about to be sent',
      });
  const granted: ConditionInput = access.bound
    ? { type: MembershipConditions.AccessGranted, status: 'True', reason: MembershipReasons.RoleBound, message: `Role ${access.roleName} is bound to user "${access.subject}" in namespace ${access.namespace}` }
    : phase === 'Suspended'
      ? { type: MembershipConditions.AccessGranted, status: 'False', reason: MembershipReasons.Suspended, message: 'The membership is suspended: it grants no access; set spec.suspended to false to restore it' }
      : { type: MembershipConditions.AccessGranted, status: 'False', reason: MembershipReasons.AwaitingAcceptance, message: `Access is granted once ${m.spec.email} accepts the invitation` };
  return [sent, granted, readyCondition(m, phase, sent)];
}

/**
 * Ready means the operator has done all it can: the member is Active with the role
 * bound, or Suspended with access removed, or Invited with the invitation out (the
 * rest is the person's move). An expired invitation or a failed send is not Ready.
 */
function readyCondition(m: Membership, phase: MembershipPhase, sent: ConditionInput): ConditionInput {
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
        message: `The invitation expired after ${m.status?.invitation?.attempts} attempts; set the annotation ${RESEND_INVITATION_ANNOTATION} to a new value to send another`,
      };
    case 'Invited':
      return sent.status === 'True'
        ? ready(MembershipReasons.AwaitingAcceptance, `Waiting for ${m.spec.email} to accept the invitation`)
        : { ...sent, type: MembershipConditions.Ready };
  }
}

/** When the membership needs looking at again without any change (an invitation expiring). */
export function nextCheck(m: Membership, now: Date): number | undefined {
  const exp = m.status?.invitation?.expiresAt;
  if (!exp || m.status?.acceptedAt || m.spec.acceptance === 'Automatic') return undefined;
  const ms = new Date(exp).getTime() - now.getTime();
  return ms > 0 ? ms + 1000 : undefined;
}
