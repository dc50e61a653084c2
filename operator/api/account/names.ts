// The names of accounts of the embedded identity provider (operator/identity/): each account
// is a Secret in the operator's namespace with this label. Plain values: the operator
// process, the domain's caches and the identity server import them.

/** Label of every account Secret (value "true"). */
export const ACCOUNT_LABEL = 'miniapps.dev/account';

/** Label holding a digest of the account's lowercased user name (lookups by user name). */
export const ACCOUNT_USERNAME_LABEL = 'miniapps.dev/account-username';

/** Type of the account Secrets. */
export const ACCOUNT_SECRET_TYPE = 'miniapps.dev/account';
