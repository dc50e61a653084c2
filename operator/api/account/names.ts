// The names of the account slice: conditions, reasons, labels and limits, as plain values
// (no TypeBox): the operator process imports them.
import { GROUP, STALLED_CONDITION } from '../constants.ts';

export const AccountConditions = {
  /** The account's private half (its Secret) holds the spec, the suspension is in force, and a provisioning administrator is bound. */
  Ready: 'Ready',
  Stalled: STALLED_CONDITION,
  /** The Secret `account-<id>` in the operator's namespace exists, is this Account's, and holds its user name, names and suspension. Gates Ready. */
  Stored: 'Stored',
  /** spec.provisioningAdministrator: the person holds ClusterRole miniapps:provisioning-administrator (or, for false, holds nothing through this Account). Gates Ready. */
  AdministratorBound: 'AdministratorBound',
  /** The person has set a password (through the "set your password" email, the invitation page or a reset): they can sign in. Informational: does not gate Ready. */
  PasswordSet: 'PasswordSet',
} as const;

export const AccountReasons = {
  Ready: 'Ready',
  Stored: 'Stored',
  /** Another Account, or another person's account Secret, has this email. */
  EmailTaken: 'EmailTaken',
  /** Another account has this user name. */
  UsernameTaken: 'UsernameTaken',
  /** The user name is not one the sign-in page accepts. */
  InvalidUsername: 'InvalidUsername',
  /** The operator runs without the embedded identity provider: the account has no private half (the person signs in with the external provider). */
  EmbeddedIdentityDisabled: 'EmbeddedIdentityDisabled',
  Bound: 'Bound',
  NotAdministrator: 'NotAdministrator',
  /** A suspended account holds no provisioning administrator's binding. */
  Suspended: 'Suspended',
  ApplyFailed: 'ApplyFailed',
  PasswordSet: 'PasswordSet',
  /** No password yet: the "set your password" email was sent (status.passwordSetup). */
  PasswordSetupSent: 'PasswordSetupSent',
  /** No password yet, and no email could be sent (no SMTP server, or it refused). */
  PasswordSetupNotSent: 'PasswordSetupNotSent',
} as const;

/** status.phase: `Pending` (no password yet), `Active` (can sign in), `Suspended`. */
export const AccountPhases = ['Pending', 'Active', 'Suspended'] as const;
export type AccountPhase = (typeof AccountPhases)[number];

/** On an account Secret: the name of the Account whose private half it is (the Secret also has it as controller owner). */
export const ACCOUNT_NAME_LABEL = `${GROUP}/account-name`;

/** Prefix of the ClusterRoleBinding that makes an Account's person a provisioning administrator: `<prefix><account name>`. */
export const ACCOUNT_ADMIN_BINDING_PREFIX = 'miniapps:provisioning-administrator:account:';

/** Changing it sends the "set your password" email again (when the person has not set one yet). */
export const RESEND_SETUP_ANNOTATION = `${GROUP}/resend-password-setup`;

/** How long the "set your password" link works (the PlatformConfig's invitationTTL would be as long; a week). */
export const PASSWORD_SETUP_TTL_MS = 7 * 24 * 3600_000;
