// The Account (the kind) of an account the invitation page made. Plain: no provider, no
// keys (the operator process loads oidc-provider and jose only with the identity listener).
import { API_VERSION } from '../api/constants.ts';
import { KIND_NAMES, Kinds } from '../api/registry.ts';
import type { KubeClient } from '../runtime/kube/client.ts';
import type { Account } from './accounts.ts';
import { accountSecretName } from './accounts.ts';

/**
 * The Account (public face) of an account the invitation page made: the operator creates it
 * on the invitee's behalf, because a valid invitation token authorizes exactly that (an
 * account for the invited email, never a provisioning administrator, never suspended).
 * Named after the user name when that is a valid object name, else `account-<id>`; the
 * Account controller then adopts the Secret. Returns the Account's name, or undefined when
 * none could be made (the account still works; a provisioning administrator can create its
 * Account later, which adopts the Secret).
 */
export async function createAccountObject(client: KubeClient, account: Account): Promise<string | undefined> {
  const byUsername = account.username.toLowerCase();
  const names = [...(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(byUsername) ? [byUsername] : []), accountSecretName(account.id)];
  for (const name of names) {
    try {
      await client.create(Kinds.Account, {
        apiVersion: API_VERSION,
        kind: KIND_NAMES.Account.kind,
        metadata: { name },
        spec: { username: account.username, email: account.email, firstName: account.firstName, lastName: account.lastName, provisioningAdministrator: false, suspended: false },
      });
      return name;
    } catch (err) {
      if ((err as { status?: number }).status !== 409) return undefined;
    }
  }
  return undefined;
}
