// The Account controller: keeps the account's private half (the Secret account-<id> of the
// provider's namespace, --identity-namespace, which holds the password hash) in step with the Account, puts
// suspension in force, binds a provisioning administrator, and sends the "set your
// password" email to a person whose account was made without a password.
import { AccountConditions, AccountReasons, PASSWORD_SETUP_TTL_MS, RESEND_SETUP_ANNOTATION } from '../../api/account/names.ts';
import type { Account, AccountStatus } from '../../api/account/schema.ts';

type PasswordSetup = NonNullable<AccountStatus['passwordSetup']>;
import { PROVISIONING_ADMINISTRATOR_ROLE } from '../../api/platformconfig/names.ts';
import { lowerAscii } from '../../api/constants.ts';
import { Kinds } from '../../api/registry.ts';
import { Caches } from '../../domain/caches.ts';
import { AccountExistsError, accountId, accountSecretName } from '../../identity/accounts.ts';
import type { AccountStore } from '../../identity/accounts.ts';
import { needsApply } from '../../runtime/apply.ts';
import type { CacheReader } from '../../runtime/cache.ts';
import type { Check, ConditionInput } from '../../runtime/conditions.ts';
import type { ControllerSpec, Reconciler } from '../../runtime/controller.ts';
import { errorMessage } from '../../runtime/errors.ts';
import type { KubeClient, ObjectBody } from '../../runtime/kube/client.ts';
import { Resources } from '../../runtime/kube/resource.ts';
import { MailRejected } from '../../runtime/mail/mailer.ts';
import type { Mailer } from '../../runtime/mail/mailer.ts';
import { writeStatus } from '../../runtime/status.ts';
import type { ControllerDeps } from '../deps.ts';
import { adminBinding, adminBindingName, isSuspended, phaseOf, privateHalfOf, setupEmailDue, wantsAdministrator } from './logic.ts';

export interface AccountControllerOptions {
  /** The embedded identity provider's accounts; without it (external mode) an Account has no private half. */
  accounts?: AccountStore;
  /** Reads the provider's keys (the link's signature). */
  client?: KubeClient;
  /** Where the provider's keys are (--identity-namespace); default the operator's namespace. */
  identityNamespace?: string;
  /** The provider's issuer URL: the "set your password" link's base. */
  issuer?: string;
  mailer?: Mailer;
  setupTtlMs?: number;
}

/** The field manager of PlatformConfig status.accountAdministrators. */
export const ACCOUNT_ADMINISTRATORS_FIELD_MANAGER = 'miniapps-operator-accounts';

const when = (d: Date) => d.toISOString().replace(/\.\d+Z$/, 'Z');

export class AccountReconciler implements Reconciler {
  private readonly deps: ControllerDeps;
  private readonly opts: AccountControllerOptions;
  private readonly cache: CacheReader<Account>;
  private readonly bindings: CacheReader<ObjectBody>;
  private readonly roles: CacheReader<ObjectBody>;
  /** The status.accountAdministrators this process last wrote (JSON), by PlatformConfig uid: its cache may not show it yet. */
  private written?: { uid: string | undefined; list: string };

  constructor(deps: ControllerDeps, opts: AccountControllerOptions) {
    this.deps = deps;
    this.opts = opts;
    this.cache = deps.caches.cache(Caches.accounts);
    this.bindings = deps.caches.cache(Caches.ownedClusterRoleBindings);
    this.roles = deps.caches.cache(Caches.ownedClusterRoles);
  }

  async reconcile(key: string): Promise<void> {
    // Before any binding: the admission policies learn who runs the platform before RBAC says so.
    await this.recordAdministrators();
    const a = this.cache.get(key);
    if (!a || a.metadata.deletionTimestamp) return;
    const id = accountId(a.spec.email);
    let stored: { condition: ConditionInput; stalled?: boolean; passwordSet?: boolean };
    let bound: ConditionInput;
    try {
      stored = await this.store(a, id);
      bound = await this.bind(a);
    } catch (err) {
      const failed = {
        type: AccountConditions.Ready,
        status: 'False' as const,
        reason: AccountReasons.ApplyFailed,
        message: `The account could not be brought in line: ${errorMessage(err)}; retrying`,
      };
      await writeStatus(this.deps, Kinds.Account, a, { conditions: [failed], mode: 'merge', fields: this.fields(a, id, undefined, a.status?.passwordSetup), warn: () => [failed] });
      throw err;
    }
    const chain: Check[] = [
      { condition: stored.condition, gatesReady: true, stalled: stored.stalled },
      { condition: bound, gatesReady: true },
    ];
    let setup = a.status?.passwordSetup;
    let mailError: unknown;
    if (stored.passwordSet !== undefined) {
      const password = await this.password(a, id, stored.passwordSet).catch((err: unknown) => {
        mailError = err;
        return {
          condition: {
            type: AccountConditions.PasswordSet,
            status: 'False' as const,
            reason: AccountReasons.PasswordSetupNotSent,
            message: `No password yet, and the "set your password" email could not be sent: ${errorMessage(err)}; retrying`,
          },
          setup,
        };
      });
      setup = password.setup;
      chain.push({ condition: password.condition, gatesReady: false });
    }
    await writeStatus(this.deps, Kinds.Account, a, {
      checks: { chain, ready: { reason: AccountReasons.Ready, message: readyMessage(a, stored.passwordSet) } },
      fields: this.fields(a, id, stored.passwordSet, setup),
      // A False PasswordSet only waits for the person: a Warning only when the email failed.
      warn: ({ conditions }) =>
        conditions
          .filter((c) => c.status === 'False' && c.type !== 'Ready' && c.type !== 'Stalled' && c.reason !== AccountReasons.PasswordSetupSent)
          .map((c) => ({ reason: c.reason, message: c.message })),
    });
    if (mailError) throw mailError;
  }

  /**
   * PlatformConfig status.accountAdministrators: the emails of every Account with
   * provisioningAdministrator (suspended ones too: a key for them stays a provisioning
   * administrator's to make), under a field manager of its own. Without a PlatformConfig
   * there is no provisioning administrators' ClusterRole, so nothing to record.
   */
  private async recordAdministrators(): Promise<void> {
    const pc = this.deps.domain.platformConfig();
    if (!pc) return;
    const emails = [
      ...new Set(
        this.cache
          .list()
          .filter((a) => a.spec.provisioningAdministrator && !a.metadata.deletionTimestamp)
          .map((a) => lowerAscii(a.spec.email)),
      ),
    ].sort();
    const want = JSON.stringify(emails);
    // Skipped only when the cache and this process's last write both say so: a cache behind that write can still show the list before it.
    const written = this.written && this.written.uid === pc.metadata.uid ? this.written.list : undefined;
    if (JSON.stringify(pc.status?.accountAdministrators ?? []) === want && (written === undefined || written === want)) return;
    await this.deps.store.applyStatus(Kinds.PlatformConfig, pc, { accountAdministrators: emails }, { fieldManager: ACCOUNT_ADMINISTRATORS_FIELD_MANAGER });
    this.written = { uid: pc.metadata.uid, list: want };
  }

  private fields(a: Account, id: string, passwordSet: boolean | undefined, passwordSetup: PasswordSetup | undefined) {
    return { phase: phaseOf(a, passwordSet), accountId: id, passwordSetup };
  }

  /** The Secret account-<id>: made (without a password), adopted (made by the invitation page, or before Accounts existed), kept in step. */
  private async store(a: Account, id: string): Promise<{ condition: ConditionInput; stalled?: boolean; passwordSet?: boolean }> {
    const accounts = this.opts.accounts;
    const ok = (message: string) => ({ type: AccountConditions.Stored, status: 'True' as const, reason: AccountReasons.Stored, message });
    const fail = (reason: string, message: string) => ({ condition: { type: AccountConditions.Stored, status: 'False' as const, reason, message }, stalled: true });
    if (!accounts) {
      return {
        condition: {
          type: AccountConditions.Stored,
          status: 'True',
          reason: AccountReasons.EmbeddedIdentityDisabled,
          message: 'No private half: the operator runs without the embedded identity provider (--identity-bind-address or --identity-embedded), so the person signs in with your own provider',
        },
      };
    }
    const secretName = accountSecretName(id);
    const where = `Secret ${secretName} in namespace ${this.opts.identityNamespace ?? this.deps.operatorNamespace}`;
    const half = await accounts.privateHalf(id);
    if (!half) {
      try {
        await accounts.createPending({ username: a.spec.username, email: a.spec.email, firstName: a.spec.firstName, lastName: a.spec.lastName }, privateHalfOf(a));
      } catch (err) {
        if (err instanceof AccountExistsError) return fail(AccountReasons.UsernameTaken, `Another account has the user name ${a.spec.username}: choose another spec.username`);
        throw err;
      }
      if (isSuspended(a)) await accounts.setSuspended(id, true);
      this.deps.log.info({ account: a.metadata.name }, 'Account created');
      return { condition: ok(`The account is stored in ${where}, without a password yet`), passwordSet: false };
    }
    const { account: current, owners, passwordSet } = half;
    const controller = owners.find((o) => o.controller);
    if (controller && controller.uid !== a.metadata.uid) {
      return fail(
        AccountReasons.EmailTaken,
        `The email ${a.spec.email} has an account already, whose Account is ${controller.kind === 'Account' ? controller.name : 'another object'}: change that Account instead, or delete it first`,
      );
    }
    if (!controller) await accounts.adopt(id, privateHalfOf(a));
    if (current.username !== a.spec.username || current.firstName !== a.spec.firstName || current.lastName !== a.spec.lastName) {
      try {
        await accounts.setProfile(id, { username: a.spec.username, firstName: a.spec.firstName, lastName: a.spec.lastName });
      } catch (err) {
        if (err instanceof AccountExistsError) return fail(AccountReasons.UsernameTaken, `Another account has the user name ${a.spec.username}: choose another spec.username`);
        throw err;
      }
    }
    if (current.suspended !== isSuspended(a)) {
      // Suspending also deletes every session, grant and refresh token of the account (AccountStore.setSuspended).
      await accounts.setSuspended(id, isSuspended(a));
      this.deps.log.info({ account: a.metadata.name, suspended: isSuspended(a) }, isSuspended(a) ? 'Account suspended' : 'Account suspension lifted');
    }
    return { condition: ok(`The account is stored in ${where}`), passwordSet };
  }

  /** spec.provisioningAdministrator (and not suspended): the ClusterRoleBinding to the provisioning administrators' ClusterRole; otherwise none. */
  private async bind(a: Account): Promise<ConditionInput> {
    const name = adminBindingName(a.metadata.name);
    const have = this.bindings.getByName(name);
    if (!wantsAdministrator(a)) {
      if (have?.metadata.ownerReferences?.some((r) => r.uid === a.metadata.uid)) await this.deps.store.delete(Resources.ClusterRoleBinding, name, undefined, { uid: have.metadata.uid });
      return {
        type: AccountConditions.AdministratorBound,
        status: 'True',
        reason: isSuspended(a) && a.spec.provisioningAdministrator ? AccountReasons.Suspended : AccountReasons.NotAdministrator,
        message:
          isSuspended(a) && a.spec.provisioningAdministrator
            ? 'Suspended: the person holds no provisioning administrator binding until the suspension is lifted'
            : 'Not a provisioning administrator: no binding',
      };
    }
    const desired = adminBinding(a, this.deps.domain.settings().userPrefix);
    if (needsApply(have, desired, ['roleRef', 'subjects'])) await this.deps.store.apply(Resources.ClusterRoleBinding, desired);
    if (!this.roles.getByName(PROVISIONING_ADMINISTRATOR_ROLE)) {
      return {
        type: AccountConditions.AdministratorBound,
        status: 'False',
        reason: 'RoleMissing',
        message: `ClusterRoleBinding ${name} is in place, but ClusterRole ${PROVISIONING_ADMINISTRATOR_ROLE} does not exist yet: the operator makes it from the PlatformConfig "default"; create one`,
      };
    }
    return {
      type: AccountConditions.AdministratorBound,
      status: 'True',
      reason: AccountReasons.Bound,
      message: `${desired.subjects[0]!.name} holds ClusterRole ${PROVISIONING_ADMINISTRATOR_ROLE} (ClusterRoleBinding ${name})`,
    };
  }

  /**
   * PasswordSet, and the "set your password" email while none is set: sent at most once per
   * request (the status records it before the server gets the final dot: a restart at any
   * point does not send twice).
   */
  private async password(a: Account, id: string, passwordSet: boolean): Promise<{ condition: ConditionInput; setup: PasswordSetup | undefined }> {
    let setup = a.status?.passwordSetup;
    const cond = (status: 'True' | 'False', reason: string, message: string) => ({ condition: { type: AccountConditions.PasswordSet, status, reason, message }, setup });
    if (passwordSet) return cond('True', AccountReasons.PasswordSet, 'A password is set: the person can sign in');
    if (isSuspended(a)) return cond('False', AccountReasons.PasswordSetupNotSent, 'No password yet, and no "set your password" email while the account is suspended');
    const { due, request } = setupEmailDue(a);
    if (due) {
      const { mailer, issuer, client } = this.opts;
      if (!mailer || !issuer || !client)
        return cond(
          'False',
          AccountReasons.PasswordSetupNotSent,
          'No password yet, and no SMTP server is configured (--smtp-host) to send the "set your password" email: configure one, or the person uses "Forgot your password?"',
        );
      const now = this.deps.clock.now();
      // Loaded with the first email: it brings the provider's keys (jose), which the operator process loads only when it needs them.
      const { passwordSetupEmail } = await import('../../identity/setup.ts');
      const email = await passwordSetupEmail({
        client,
        namespace: this.opts.identityNamespace ?? this.deps.operatorNamespace,
        accounts: this.opts.accounts!,
        issuer,
        id,
        nowMs: now.getTime(),
        ttlMs: this.opts.setupTtlMs ?? PASSWORD_SETUP_TTL_MS,
        messageKey: `${a.metadata.uid}.${request ?? '0'}`,
      });
      if (!email) throw new Error(`The account's Secret ${accountSecretName(id)} was not found`);
      const next = { sentAt: when(now), expiresAt: when(email.expiresAt), ...(request !== undefined ? { resendAnswered: request } : {}) };
      try {
        await mailer.send(email.message, async () => {
          // Recorded before the final dot, with a compare-and-swap: a second replica or a restart sees it and sends nothing.
          await writeStatus(this.deps, Kinds.Account, a, { conditions: [], mode: 'merge', fields: this.fields(a, id, false, next), resourceVersion: a.metadata.resourceVersion, warn: 'none' });
        });
      } catch (err) {
        if (err instanceof MailRejected)
          return cond('False', AccountReasons.PasswordSetupNotSent, `No password yet, and the mail server refused the "set your password" email to ${a.spec.email}: ${err.message}`);
        throw err;
      }
      setup = next;
      this.deps.recorder.event(a, 'Normal', AccountReasons.PasswordSetupSent, `The "set your password" email was sent to ${a.spec.email}`);
    }
    return cond(
      'False',
      AccountReasons.PasswordSetupSent,
      `No password yet: the "set your password" email was sent to ${a.spec.email}${setup?.sentAt ? ` at ${setup.sentAt}` : ''}; its link works until ${setup?.expiresAt ?? 'it expires'}. To send it again, set annotation ${RESEND_SETUP_ANNOTATION} to a new value`,
    );
  }
}

function readyMessage(a: Account, passwordSet: boolean | undefined): string {
  if (isSuspended(a)) return 'The account is suspended: no sign-in, no refresh, no API keys';
  if (passwordSet === false) return 'The account is stored; the person has not set a password yet';
  return 'The account is stored and can sign in';
}

export function accountController(deps: ControllerDeps, opts: AccountControllerOptions): ControllerSpec {
  const accounts = deps.caches.cache(Caches.accounts);
  return {
    name: 'account',
    for: Caches.accounts,
    owns: [Caches.accountSecrets, Caches.ownedClusterRoleBindings],
    watches: [
      // userPrefix (the binding's subject), and the provisioning administrators' ClusterRole appearing.
      {
        cache: Caches.platformConfigs,
        map: () =>
          accounts
            .list()
            .filter((a) => a.spec.provisioningAdministrator)
            .map((a) => a.metadata.name),
      },
      {
        cache: Caches.ownedClusterRoles,
        map: (o) =>
          o.metadata.name === PROVISIONING_ADMINISTRATOR_ROLE
            ? accounts
                .list()
                .filter((a) => a.spec.provisioningAdministrator)
                .map((a) => a.metadata.name)
            : [],
      },
    ],
    reconciler: new AccountReconciler(deps, opts),
    concurrency: 2,
  };
}
