// The names of the membership slice: conditions, reasons, labels, annotations and limits, as plain
// values (no TypeBox): the operator process imports them.
import { GROUP } from '../constants.ts';

/**
 * Set on a Membership, it names who invited the person; an admission policy makes the
 * API server accept only the requester's own authenticated username as its value.
 */
export const INVITED_BY_ANNOTATION = `${GROUP}/invited-by`;

export const MembershipConditions = {
  /**
   * The operator has done its part: an Active member can act (AccessGranted, and the
   * Organization's ClusterRoleBindings name them: OrganizationAccessPending until then); an
   * invited person's invitation went out (AwaitingAcceptance); a suspended one has no access.
   * False while the invitation has not gone out (InvitationSent's reason: pending, held,
   * failed), once it expired, and when the Membership grants nothing (no Organization, a
   * role outside the model, a second Membership for the email).
   */
  Ready: 'Ready',
  /** The current invitation email went out (or, with acceptance Automatic, the notification). */
  InvitationSent: 'InvitationSent',
  /** The member's role is bound to their Kubernetes user. */
  AccessGranted: 'AccessGranted',
} as const;

/** Annotation whose every new value asks the operator to resend the invitation. */
export const RESEND_INVITATION_ANNOTATION = `${GROUP}/resend-invitation`;

/** At most this many resend times are kept in a Membership's status.invitation.recentResends (the newest). */
export const MAX_RECENT_RESENDS = 100;

/**
 * The most first emails of Memberships an Organization's status.firstInvitations records
 * (a rolling day's): a per-organization limit above it holds at it.
 */
export const FIRST_INVITATIONS_RECORDED = 10_000;

// The organization models' roles (PlatformConfig spec.organizationModel; docs/people.md).

/** The roles of the Mini App Center's organization model (seed 000; organizationModel MiniAppCenter). */
export const MiniAppCenterRoles = ['OrganizationAdministrator', 'SuperAppAdministrator', 'MiniAppDeveloper', 'MiniAppReviewer'] as const;
export type MiniAppCenterRole = (typeof MiniAppCenterRoles)[number];
/**
 * The roles of App Center's organization model (seed 002; organizationModel AppCenter):
 * its Admin is OrganizationAdministrator (administrator of every app, the settings and
 * the people: the same role, so the last-administrator rule is one rule), Collaborator
 * and Member.
 */
export const AppCenterRoles = ['OrganizationAdministrator', 'Collaborator', 'Member'] as const;
export type AppCenterRole = (typeof AppCenterRoles)[number];
/** Every role a Membership may name; which of them apply is PlatformConfig organizationModel's choice. */
export const Roles = ['OrganizationAdministrator', 'SuperAppAdministrator', 'MiniAppDeveloper', 'MiniAppReviewer', 'Collaborator', 'Member'] as const;
export type Role = (typeof Roles)[number];
