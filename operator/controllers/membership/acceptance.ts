import type { Account as AccountObject } from '../../api/account/schema.ts';
import type { Membership } from '../../api/membership/schema.ts';
import type { Organization } from '../../api/organization/schema.ts';
import { lowerAscii } from '../../api/constants.ts';
import type { Domain } from '../../domain/lookups.ts';
import { rfc3339 } from '../../runtime/clock.ts';
import type { Clock } from '../../runtime/clock.ts';
import { isConflict } from '../../runtime/errors.ts';
import type { KubeClient } from '../../runtime/kube/client.ts';
import { ObjectWriter } from '../../runtime/apply.ts';
import { verifyToken } from './token.ts';
import type { AcceptBackend, AcceptResult, AcceptView, AccountCredentials, AccountField, SignInHelp } from './accept.ts';
import type { SignInFailures } from '../../identity/lockout.ts';
import { AccountExistsError, FailureCounter, SIGN_IN_FAILED, accountId, passwordProblem, usernameProblem } from '../../identity/accounts.ts';
import type { Account, AccountStore } from '../../identity/accounts.ts';
import { createAccountObject } from '../../identity/account-object.ts';
import { Index } from '../../domain/caches.ts';
import { Kinds } from '../../api/registry.ts';

/** The field manager of acceptedAt: the acceptance page, not the reconciler, records it. */
export const ACCEPTANCE_FIELD_MANAGER = 'miniapps-operator-acceptance';

type Refusal = Exclude<AcceptView, { state: 'valid' }>;

/**
 * What the acceptance page asks of Memberships. A link is good only for the
 * Membership (uid) and email it was made for, for the current attempt (a newer
 * invitation voids older links), until it expires, and once: accepting records
 * status.acceptedAt with a compare-and-swap on a fresh read, so two clicks, two
 * replicas or a stale cache cannot accept twice.
 */
export class MembershipAcceptance implements AcceptBackend {
  private readonly client: KubeClient;
  private readonly writer: ObjectWriter;
  private readonly domain: Domain;
  private readonly signingKey: Buffer;
  private readonly clock: Clock;
  /** The embedded provider's accounts: accepting then needs one (made here, or signed in to). */
  private readonly accounts?: AccountStore;
  private readonly signIn?: SignInHelp;
  private readonly failures: SignInFailures;

  constructor(opts: { client: KubeClient; domain: Domain; signingKey: Buffer; clock: Clock; accounts?: AccountStore; signIn?: SignInHelp; failures?: SignInFailures }) {
    this.failures = opts.failures ?? new FailureCounter(5, 15 * 60_000);
    this.accounts = opts.accounts;
    this.signIn = opts.signIn;
    this.client = opts.client;
    this.writer = new ObjectWriter(opts.client);
    this.domain = opts.domain;
    this.signingKey = opts.signingKey;
    this.clock = opts.clock;
  }

  async describe(token: string): Promise<AcceptView> {
    const found = await this.resolve(token);
    if ('state' in found) return found;
    const { membership: m, org } = found;
    return this.view(m, org);
  }

  private view(m: Membership, org: Organization | undefined): Extract<AcceptView, { state: 'valid' }> {
    return {
      state: 'valid',
      organization: org?.spec.displayName ?? m.metadata.namespace!,
      role: m.spec.role,
      email: m.spec.email,
      expiresAt: m.status!.invitation!.expiresAt!,
      accounts: !!this.accounts,
    };
  }

  /** Whether an Account (the kind) names `email`: a fresh list, since the page decides on it. */
  private async accountObjectNames(email: string): Promise<boolean> {
    return (await this.client.listAll<AccountObject>(Kinds.Account)).items.some((a) => lowerAscii(a.spec.email) === lowerAscii(email));
  }

  /**
   * The account the person has once the form is taken: made from the seed's fields (the
   * email is the invitation's), or the invited email's own, signed in to with its password.
   * Bad input makes nothing; a refused sign-in says the same whatever the reason.
   */
  private async account(m: Membership, org: Organization | undefined, creds: AccountCredentials | undefined): Promise<Account | Extract<AcceptResult, { state: 'retry' }>> {
    const accounts = this.accounts!;
    const retry = (message: string, status = 400, field?: AccountField, fields?: Record<string, string>) => ({ state: 'retry' as const, message, status, view: this.view(m, org), field, fields });
    if (!creds) return retry('Create your account, or sign in with the one you have, to accept the invitation.');
    if (creds.action === 'create') {
      const fields = { username: creds.username, firstName: creds.firstName, lastName: creds.lastName };
      const checks: [AccountField, string | undefined][] = [
        ['username', usernameProblem(creds.username)],
        ['password', passwordProblem(creds.password)],
        ['firstName', creds.firstName ? undefined : 'Give your first name and last name'],
        ['lastName', creds.lastName ? undefined : 'Give your first name and last name'],
      ];
      const problem = checks.find(([, p]) => p);
      if (problem) return retry(`${problem[1]}.`, 400, problem[0], fields);
      // An Account names this email but its account is not stored yet (a provisioning administrator's decision, perhaps
      // suspended, that the operator has not acted on): that Account makes the account, not the page, which would otherwise
      // make one that Account may never govern. An account already stored is create's AccountExistsError below, whose
      // answer (sign in below) is the right one for someone who made theirs on an earlier invitation.
      if (!(await accounts.find(accountId(m.spec.email))) && (await this.accountObjectNames(m.spec.email)))
        return retry(
          'A provisioning administrator already made an account for this email: choose its password with the link of the "Set your password" email, then sign in below.',
          409,
          undefined,
          fields,
        );
      try {
        const made = await accounts.create({ email: m.spec.email, username: creds.username, password: creds.password, firstName: creds.firstName, lastName: creds.lastName });
        // Its public face, made on the invitee's behalf (the invitation token authorizes exactly this account).
        await createAccountObject(this.client, made);
        return made;
      } catch (err) {
        if (err instanceof AccountExistsError)
          return retry('That user name is taken, or this email already has an account: choose another user name, or sign in below with the account you have.', 409, 'username', fields);
        throw err;
      }
    }
    const now = this.clock.now().getTime();
    if (await this.failures.locked(m.spec.email, now)) return retry('Too many sign-in attempts. Wait a few minutes and try again.', 429, 'signin-password');
    const a = await accounts.authenticate(m.spec.email, creds.password);
    if (!a || a.suspended) {
      await this.failures.fail(m.spec.email, now);
      return retry(`${SIGN_IN_FAILED}.`, 401, 'signin-password');
    }
    await this.failures.succeed(m.spec.email);
    return a;
  }

  async accept(token: string, creds?: AccountCredentials): Promise<AcceptResult> {
    let account: Account | undefined;
    for (let attempt = 0; attempt < 5; attempt++) {
      const found = await this.resolve(token);
      if ('state' in found) return found;
      const { membership: m, org } = found;
      if (this.accounts && !account) {
        const got = await this.account(m, org, creds);
        if ('state' in got) return got;
        account = got;
      }
      try {
        await this.writer.applyStatus(Kinds.Membership, m, { acceptedAt: rfc3339(this.clock.now()) }, { fieldManager: ACCEPTANCE_FIELD_MANAGER, resourceVersion: m.metadata.resourceVersion });
        return {
          state: 'accepted',
          organization: org?.spec.displayName ?? m.metadata.namespace!,
          role: m.spec.role,
          email: m.spec.email,
          namespace: m.metadata.namespace,
          username: account?.username,
          signIn: this.signIn,
        };
      } catch (err) {
        if (!isConflict(err)) throw err; // changed meanwhile: read again and decide again
      }
    }
    throw new Error('The membership kept changing; try again');
  }

  /** The Membership a token is good for, read fresh from the API server, or why there is none. */
  private async resolve(token: string): Promise<{ membership: Membership; org?: Organization } | Refusal> {
    const verified = verifyToken(this.signingKey, token, this.clock.now());
    if (!verified.ok) {
      return verified.reason === 'expired'
        ? { state: 'expired', message: 'This invitation has expired. Ask an administrator of the organization to send a new one.' }
        : { state: 'invalid', message: 'This invitation link is not valid. Check that you opened the whole link from the email.' };
    }
    const { claims } = verified;
    const cached = this.domain.memberships.byIndex(Index.uid, claims.uid)[0];
    const m = cached && (await this.client.get<Membership>(Kinds.Membership, cached.metadata.name, cached.metadata.namespace));
    if (!m || m.metadata.uid !== claims.uid || m.metadata.deletionTimestamp || lowerAscii(m.spec.email) !== lowerAscii(claims.email)) {
      return { state: 'unknown', message: 'This invitation no longer exists. Ask an administrator of the organization to invite you again.' };
    }
    if (m.status?.acceptedAt) return { state: 'used', message: 'This invitation has already been accepted.' };
    if (m.spec.suspended) return { state: 'invalid', message: 'This membership is suspended. Ask an administrator of the organization.' };
    // The recorded attempt's link, also before its send is recorded (sentAt): the email may be read before that write lands.
    if (m.status?.invitation?.attempts !== claims.attempt) {
      return { state: 'expired', message: 'A newer invitation was sent for this membership. Use the link in the most recent email.' };
    }
    return { membership: m, org: this.domain.organizationOf(m.metadata.namespace) };
  }
}
