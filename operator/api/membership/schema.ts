// Membership: one person's role in an organization, in the organization's namespace.

import type { Static } from '@sinclair/typebox';
import { Bool, Email, Int, List, Obj, ObjectName, Optional, Status, Str, StringEnum, Timestamp, column, defineKind, immutable, mapList, printerColumns } from '../common.ts';
import type { Resource } from '../common.ts';
import { KIND_NAMES } from '../registry.ts';
import { MAX_RECENT_RESENDS, RESEND_INVITATION_ANNOTATION, Roles } from './names.ts';

export { MAX_RECENT_RESENDS, MembershipConditions, RESEND_INVITATION_ANNOTATION } from './names.ts';

export { AppCenterRoles, MiniAppCenterRoles, Roles } from './names.ts';
export type { AppCenterRole, MiniAppCenterRole, Role } from './names.ts';

export const AcceptanceModes = ['Required', 'Automatic'] as const;
export const MembershipPhases = ['Invited', 'Active', 'Suspended', 'Expired'] as const;
export type MembershipPhase = (typeof MembershipPhases)[number];

export const MembershipSpecSchema = Obj(
  {
    email: Email(
      'Email of the member: where the invitation goes, and the Kubernetes user name (after PlatformConfig userPrefix) their role is bound to. Cannot be changed.',
      immutable('spec.email', 'delete this Membership and create one for the new email'),
    ),
    role: StringEnum(
      Roles,
      "What the member may do in the organization. With PlatformConfig organizationModel MiniAppCenter (the default): OrganizationAdministrator (everything), SuperAppAdministrator (super apps and solutions), MiniAppDeveloper (mini apps and app manifests) or MiniAppReviewer (reviews). With AppCenter: OrganizationAdministrator (App Center's Admin: every app, the settings and the people), Collaborator (creates apps, sees only the apps they belong to, manages reviews) or Member (creates apps, sees only the apps they belong to). A role of the other model grants nothing (Ready False, RoleNotInModel).",
    ),
    apps: Optional(
      List(
        Obj(
          {
            kind: StringEnum(['SuperApp', 'MiniApp'] as const, 'Kind of the app: SuperApp or MiniApp.'),
            name: ObjectName("Name of the app in the organization's namespace."),
          },
          'An app of the organization.',
        ),
        "Limits the member to these apps (someone invited through an app sees only the apps they were invited to). Empty means every app of the organization, except for App Center's Collaborator and Member (PlatformConfig organizationModel AppCenter), who see only the apps listed here and those they created themselves (annotation miniapps.dev/created-by).",
        mapList(['kind', 'name'], 256),
      ),
    ),
    suspended: Optional(
      Bool("Takes the member's access away, from every app, without deleting the Membership. Defaults to false.", {
        default: false,
      }),
    ),
    acceptance: Optional(
      StringEnum(AcceptanceModes, 'Required (default): the person gets an invitation and gains access when they accept it. Automatic: access at once; the person is only notified.', {
        default: 'Required',
      }),
    ),
  },
  'Who the member is and what they may do.',
);

export const MembershipStatusSchema = Status(
  {
    phase: Optional(
      StringEnum(
        MembershipPhases,
        'Invited: waiting for the person to accept. Active: the role is bound. Suspended: spec.suspended is true. Expired: the invitation expired; annotate miniapps.dev/resend-invitation to send a new one.',
      ),
    ),
    invitation: Optional(
      Obj(
        {
          sentAt: Optional(Timestamp('When the current invitation was sent.')),
          expiresAt: Optional(Timestamp('When the current invitation expires (sentAt plus PlatformConfig invitationTTL).')),
          attempts: Optional(Int('Invitations sent for this Membership so far.', { minimum: 0 })),
          messageId: Optional(Str('Message-ID of the current invitation email; also the idempotency key of the send.', { maxLength: 998 })),
          resendRequest: Optional(
            Str(`Value of the ${RESEND_INVITATION_ANNOTATION} annotation the current invitation answered.`, {
              maxLength: 256,
            }),
          ),
          recentResends: Optional(
            List(
              Timestamp(`When an invitation asked for through the ${RESEND_INVITATION_ANNOTATION} annotation was resent.`),
              `When this Membership's invitations asked for through the ${RESEND_INVITATION_ANNOTATION} annotation were resent in the last hour, oldest first (the first invitation and automatic resends on expiry are not listed). The organization's limit on resends per hour counts these across its Memberships.`,
              { maxItems: MAX_RECENT_RESENDS },
            ),
          ),
        },
        'The current invitation. The token itself is never stored here.',
      ),
    ),
    acceptedAt: Optional(Timestamp('When the person accepted the invitation (or, with acceptance Automatic, was granted access).')),
  },
  'Observed state of the membership.',
);

export type MembershipSpec = Static<typeof MembershipSpecSchema>;
export type MembershipStatus = Static<typeof MembershipStatusSchema>;
export type Membership = Resource<MembershipSpec, MembershipStatus>;

// This kind's object type, for what goes over every kind by the registry (domain/caches.ts).
declare module '../registry.ts' {
  interface KindObjects {
    Membership: Membership;
  }
}

export const membershipKind = defineKind(
  {
    ...KIND_NAMES.Membership,
    shortNames: ['mbr'],
    description:
      'Membership gives one person, by email, a role in the organization whose namespace it is in. The operator invites the person, binds the role once they accept, and takes access away on suspension or removal. The last active administrator cannot be removed, demoted or suspended.',
  },
  {
    specSchema: MembershipSpecSchema,
    statusSchema: MembershipStatusSchema,
    printerColumns: printerColumns(
      column('Email', '.spec.email', 'Email of the member.'),
      column('Role', '.spec.role', 'Role of the member.'),
      column('Phase', '.status.phase', 'Invited, Active, Suspended or Expired.'),
    ),
  },
);
