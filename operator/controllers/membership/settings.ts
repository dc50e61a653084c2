// Membership's flags: the acceptance page's listener and URL, and the limits of invitation
// emails. The module declares them (membershipModule.settings); the operator's configuration,
// --help and docs/reference/flags.md gather them from the registry's modules.
import { defineSettings } from '../../runtime/config.ts';

export const membershipSettings = defineSettings({
  publicBindAddress: {
    flag: 'public-bind-address',
    env: 'MINIAPPS_PUBLIC_BIND_ADDRESS',
    kind: 'address',
    off: true,
    help: 'Listener for the invitation acceptance page (meant for an Ingress); "0" disables it.',
    default: () => ':8081',
  },
  publicUrl: {
    flag: 'public-url',
    env: 'MINIAPPS_PUBLIC_URL',
    kind: 'url',
    help: 'Base URL of the acceptance page as people reach it; invitation links start with it.',
    default: () => 'http://localhost:8081/',
  },
  invitationResendInterval: {
    flag: 'invitation-resend-interval',
    env: 'MINIAPPS_INVITATION_RESEND_INTERVAL',
    kind: 'duration',
    help: 'A resend asked for through the miniapps.dev/resend-invitation annotation goes out no sooner than this after the previous invitation to the same Membership.',
    default: () => '10m',
    min: 0,
  },
  invitationResendLimit: {
    flag: 'invitation-resend-limit',
    env: 'MINIAPPS_INVITATION_RESEND_LIMIT',
    kind: 'int',
    help: 'Resends asked for through the miniapps.dev/resend-invitation annotation per organization per rolling hour; more wait until the oldest leaves the hour.',
    default: () => '20',
    min: 1,
  },
  invitationRecipientLimit: {
    flag: 'invitation-recipient-limit',
    env: 'MINIAPPS_INVITATION_RECIPIENT_LIMIT',
    kind: 'int',
    help: 'First emails of Memberships (invitation or access notification) to one address per organization per rolling day, Memberships deleted since included; more wait until the oldest leaves the day.',
    default: () => '3',
    min: 1,
  },
  invitationOrganizationLimit: {
    flag: 'invitation-organization-limit',
    env: 'MINIAPPS_INVITATION_ORGANIZATION_LIMIT',
    kind: 'int',
    help: 'First emails of Memberships per organization per rolling day, whoever they go to (at most 10000); more wait until the oldest leaves the day.',
    default: () => '500',
    min: 1,
  },
});
