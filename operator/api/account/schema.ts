// Account: a person's account with the embedded identity provider, cluster-scoped. The
// Account is the public face (who the person is, whether they run the platform, whether
// they may sign in); the password hash stays in its private half, the Secret
// `account-<id>` of the operator's namespace, which only the operator reads.

import type { Static } from '@sinclair/typebox';
import { Bool, Email, Obj, Optional, Status, Str, StringEnum, Timestamp, column, defineKind, immutable, printerColumns } from '../common.ts';
import type { Resource } from '../common.ts';
import { KIND_NAMES } from '../registry.ts';
import { AccountPhases, RESEND_SETUP_ANNOTATION } from './names.ts';

export { AccountConditions, AccountReasons } from './names.ts';

export const AccountSpecSchema = Obj(
  {
    username: Str('User name the person signs in with (or with the email): 2 to 63 letters, digits, dots, dashes or underscores, starting with a letter or digit; unique among accounts.', {
      pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{1,62}$',
      maxLength: 63,
    }),
    email: Email(
      'Email of the person: where the "set your password" email goes, the tokens\' `email` claim, and (after PlatformConfig userPrefix) the Kubernetes user name. Cannot be changed.',
      immutable('spec.email', 'delete this Account and create one for the new email'),
    ),
    firstName: Str('First name.', { minLength: 1, maxLength: 128 }),
    lastName: Str('Last name.', { minLength: 1, maxLength: 128 }),
    provisioningAdministrator: Optional(
      Bool(
        'Whether the person runs the platform (seed 000 "Is provisioning administrator?"): the operator binds them to ClusterRole miniapps:provisioning-administrator, as PlatformConfig provisioningAdministrators does. Nobody changes it on their own Account.',
        { default: false },
      ),
    ),
    suspended: Optional(
      Bool(
        'Suspends the account (seed 001): no sign-in, refresh tokens and sessions revoked at once, API keys refused, no provisioning administrator binding; tokens already issued work until they expire (--identity-token-ttl, 5 minutes by default). Nobody lifts their own suspension.',
        { default: false },
      ),
    ),
  },
  'Desired state of the account, written by a provisioning administrator (or by the operator when an invitee creates their account on the invitation page).',
);

export const AccountStatusSchema = Status(
  {
    phase: Optional(StringEnum(AccountPhases, '`Pending` (no password set yet), `Active` (can sign in), `Suspended`.')),
    accountId: Optional(Str("The account's id: the tokens' `sub` (a digest of the lowercased email, never a secret).", { maxLength: 64 })),
    passwordSetup: Optional(
      Obj(
        {
          sentAt: Optional(Timestamp('When the "set your password" email was sent.')),
          expiresAt: Optional(Timestamp('Until when its link works (afterwards: "Forgot your password?" on the sign-in page sends a new one).')),
          resendAnswered: Optional(Str(`The value of annotation ${RESEND_SETUP_ANNOTATION} this email answered, when one asked for it.`, { maxLength: 256 })),
        },
        'The "set your password" email: sent once when the Account is made by a provisioning administrator, and again when the annotation changes, while no password is set. Never the link itself.',
      ),
    ),
  },
  'Observed state of the account. Never a password, hash or token.',
);

export type AccountSpec = Static<typeof AccountSpecSchema>;
export type AccountStatus = Static<typeof AccountStatusSchema>;
export type Account = Resource<AccountSpec, AccountStatus>;

// This kind's object type, for what goes over every kind by the registry (domain/caches.ts).
declare module '../registry.ts' {
  interface KindObjects {
    Account: Account;
  }
}

export const accountKind = defineKind(
  {
    ...KIND_NAMES.Account,
    shortNames: ['acct'],
    description:
      "Account is a person's account with the embedded identity provider (user name, email, names, whether they are a provisioning administrator, whether the account is suspended). Its password hash is kept in a Secret of the operator's namespace that only the operator reads.",
  },
  {
    specSchema: AccountSpecSchema,
    statusSchema: AccountStatusSchema,
    printerColumns: printerColumns(
      column('Username', '.spec.username', 'User name the person signs in with.'),
      column('Email', '.spec.email', 'Email of the person.'),
      column('Admin', '.spec.provisioningAdministrator', 'Whether the person is a provisioning administrator.', 'boolean'),
      column('Phase', '.status.phase', 'Pending (no password yet), Active or Suspended.'),
    ),
  },
);
