// The names of the user slice: conditions, reasons, labels, annotations and limits, as plain
// values (no TypeBox): the operator process imports them.
import { GROUP } from '../constants.ts';

export const UserConditions = {
  Ready: 'Ready',
  /** Every group the user belongs to exists; when False, the message names the missing ones. Gates Ready. */
  GroupsResolved: 'GroupsResolved',
  /**
   * The user's account: with the embedded identity provider, True once they set their password
   * (PasswordSet), False while the set-password email is on its way or waits for them
   * (PasswordNotSet, SetPasswordEmailFailed); with an external provider True (ExternalProvider).
   * Does not gate Ready (the roles are resolved whether or not the person signed in yet).
   */
  AccountReady: 'AccountReady',
} as const;

export const UserReasons = {
  Ready: 'Ready',
  GroupsResolved: 'GroupsResolved',
  GroupsMissing: 'GroupsMissing',
  PasswordSet: 'PasswordSet',
  PasswordNotSet: 'PasswordNotSet',
  SetPasswordEmailFailed: 'SetPasswordEmailFailed',
  ExternalProvider: 'ExternalProvider',
} as const;

/** status.account.state: whether the user's account exists and has a password, or lives in an external identity provider. */
export const AccountStates = {
  PasswordNotSet: 'PasswordNotSet',
  PasswordSet: 'PasswordSet',
  External: 'External',
} as const;

/** The finalizer with which the operator deletes a User's account (and ends its sessions) before the User goes. */
export const USER_ACCOUNT_FINALIZER = `${GROUP}/user-account`;

/** The roles a frontend app's token carries: the token-roles API's path on the TLS listener, and its JWKS. */
export const TOKEN_ROLES_PATH = '/tokenroles/v1/roles';
export const TOKEN_ROLES_JWKS_PATH = '/tokenroles/v1/jwks.json';
/**
 * A token-roles JWT's audience (`aud`): `<organization>/<appId>`. Organization names have no `/`, so the
 * organization is everything before the first one; an app verifies that the audience is
 * exactly its own organization's name, a slash and its appId.
 */
export const tokenAudience = (organization: string, appId: string): string => `${organization}/${appId}`;
/** The Secret (in the operator's namespace) with the token-roles signing keys. */
export const TOKEN_SIGNING_SECRET = 'miniapps-operator-token-signing-key';
/** Any new value of this annotation on the PlatformConfig asks for a new token signing key. */
export const ROTATE_TOKEN_KEY_ANNOTATION = `${GROUP}/rotate-token-signing-key`;
