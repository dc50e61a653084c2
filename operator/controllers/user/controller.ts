// User: the roles and landing page its groups give it (spec.groups, and for a tenant
// administrator every subscribed solution's adminUserGroups), and GroupsResolved False
// naming every group that does not exist. Nothing secret is in status.
import { AccountStates, USER_ACCOUNT_FINALIZER, UserConditions, UserReasons } from '../../api/user/names.ts';
import { lowerAscii } from '../../api/constants.ts';
import type { Solution } from '../../api/solution/schema.ts';
import type { Subscription } from '../../api/subscription/schema.ts';
import type { Tenant } from '../../api/tenant/schema.ts';
import type { User } from '../../api/user/schema.ts';
import type { UserGroup } from '../../api/usergroup/schema.ts';
import { Caches, Index, emailKey, groupKey, targetKey } from '../../domain/caches.ts';
import { SolutionLookups } from '../../domain/solutions.ts';
import type { CacheReader } from '../../runtime/cache.ts';
import { keyOf } from '../../runtime/cache.ts';
import { conditionsFromChecks } from '../../runtime/conditions.ts';
import type { ConditionInput } from '../../runtime/conditions.ts';
import type { ControllerSpec, ReconcileResult, Reconciler } from '../../runtime/controller.ts';
import type { ControllerDeps } from '../deps.ts';
import { Kinds } from '../../api/registry.ts';
import { newFailures, writeStatus } from '../../runtime/status.ts';
import { memberGroups, resolveUser } from './logic.ts';
import { EXTERNAL_ACCOUNT, PASSWORD_CHECK_INTERVAL_MS } from './accounts.ts';
import type { UserAccounts } from './accounts.ts';

/** Whether the user is one of the tenant's administrators (emails compared lowercased). */
export const isTenantAdministrator = (tenant: Tenant | undefined, user: User) => !!tenant?.spec.administrators?.some((e) => lowerAscii(e) === lowerAscii(user.spec.email));

export class UserReconciler implements Reconciler {
  private readonly deps: ControllerDeps;
  private readonly lookups: SolutionLookups;
  private readonly users: CacheReader<User>;
  private readonly groups: CacheReader<UserGroup>;
  /** The users' accounts with the embedded identity provider; undefined with an external one. */
  private readonly accounts?: UserAccounts;

  constructor(deps: ControllerDeps, accounts?: UserAccounts) {
    this.deps = deps;
    this.accounts = accounts;
    this.lookups = new SolutionLookups(deps.caches);
    this.users = deps.caches.cache(Caches.users);
    this.groups = deps.caches.cache(Caches.userGroups);
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    let user = this.users.get(key);
    if (!user) return;
    if (user.metadata.deletionTimestamp) {
      // The account goes with the User, and every session, grant and token of it.
      if (!user.metadata.finalizers?.includes(USER_ACCOUNT_FINALIZER)) return;
      if (this.accounts) await this.accounts.remove(user.metadata.namespace!, user.metadata.name!);
      await this.deps.store.removeFinalizer(Kinds.User, user, USER_ACCOUNT_FINALIZER);
      return;
    }
    if (this.accounts) user = await this.deps.store.addFinalizer(Kinds.User, user, USER_ACCOUNT_FINALIZER);
    const account = this.accounts ? await this.accounts.reconcile(user, this.deps.clock.now()) : EXTERNAL_ACCOUNT;
    const ns = user.metadata.namespace!;
    const tenant = this.lookups.tenantOf(ns);
    const admin = isTenantAdministrator(tenant, user);
    const r = resolveUser(memberGroups(user, tenant), admin ? this.lookups.adminGroupsIn(ns) : [], (name) => this.groups.getByName(name, ns));
    const condition: ConditionInput =
      r.missing.length > 0
        ? {
            type: UserConditions.GroupsResolved,
            status: 'False',
            reason: UserReasons.GroupsMissing,
            message: `Group(s) ${r.missing.join(', ')} do not exist in namespace ${ns}, so they give no roles; fix spec.groups or the Tenant's spec.designations (kubectl get usergroups -n ${ns}), or subscribe to the solution that has them`,
          }
        : {
            type: UserConditions.GroupsResolved,
            status: 'True',
            reason: UserReasons.GroupsResolved,
            message: `${r.groups.length} group(s)${admin ? ' (with the admin groups of a tenant administrator)' : ''}, ${r.effectiveRoles.length} role(s)`,
          };
    const conditions = conditionsFromChecks(
      [
        { condition, gatesReady: true },
        { condition: account.condition, gatesReady: false },
      ],
      { reason: UserReasons.Ready, message: "The user's roles are resolved" },
    );
    const wasReady = user.status?.conditions?.find((c) => c.type === UserConditions.Ready)?.status === 'True';
    const written = await writeStatus(this.deps, Kinds.User, user, {
      fields: { groups: r.groups, effectiveRoles: r.effectiveRoles, landingPage: r.landingPage, account: account.account },
      conditions,
      // A password not chosen yet is the normal state of a new user: no Warning for it (a failed email has one).
      warn: (w) => newFailures(w.before?.conditions, w.conditions).filter((e) => e.reason !== UserReasons.PasswordNotSet),
    });
    // What the seed's createUsers `callback` told: the user is made and usable. Watchers see it as this event and the
    // Ready condition (kubectl wait --for=condition=Ready); counts only, nothing personal from the spec.
    if (written && !wasReady && r.missing.length === 0) {
      this.deps.recorder.event(user, 'Normal', UserReasons.Ready, `User is ready: ${r.groups.length} group(s), ${r.effectiveRoles.length} role(s)`);
    }
    // The email is tried again with backoff (its condition and Warning event are written above).
    if (account.retry) throw new Error(account.problem);
    // Until the person sets their password: looked at again, so that status.account follows.
    return account.account.state === AccountStates.PasswordNotSet ? { requeueAfterMs: PASSWORD_CHECK_INTERVAL_MS } : undefined;
  }
}

export function userController(deps: ControllerDeps, accounts?: UserAccounts): ControllerSpec {
  const lookups = new SolutionLookups(deps.caches);
  const users = deps.caches.cache(Caches.users);
  /** The Users of the tenant's administrators (by email index). */
  const administratorsOf = (tenant: Tenant | undefined) => {
    const ns = tenant?.status?.namespace;
    return ns ? (tenant.spec.administrators ?? []).flatMap((e) => users.byIndex(Index.email, emailKey(ns, e))).map(keyOf) : [];
  };
  return {
    name: 'user',
    for: Caches.users,
    watches: [
      // A group's roles or landing page: exactly its members (by the group index), nobody else; and when a subscription
      // made it or its owners changed, the tenant's administrators (an admin group counts only once the subscription
      // of its solution made it).
      {
        cache: Caches.userGroups,
        map: (g) => [
          ...users.byIndex(Index.group, groupKey(g.metadata.namespace!, g.metadata.name!)).map(keyOf),
          ...(g.metadata.ownerReferences?.some((r) => r.kind === 'Subscription') ? administratorsOf(lookups.tenantOf(g.metadata.namespace)) : []),
        ],
        changed: (a, b) =>
          a.metadata.generation !== b.metadata.generation ||
          a.metadata.deletionTimestamp !== b.metadata.deletionTimestamp ||
          JSON.stringify(a.metadata.ownerReferences?.map((r) => r.uid)) !== JSON.stringify(b.metadata.ownerReferences?.map((r) => r.uid)),
      },
      // Who the administrators are (old and new ones: the map sees both objects); a change of designations: every User
      // of the tenant with a designation.
      {
        cache: Caches.tenants,
        map: (t) => {
          const ns = (t as Tenant).status?.namespace;
          const designated =
            ns && (t as Tenant).spec.designations?.length
              ? users
                  .byIndex(Index.namespace, ns)
                  .filter((u) => !!u.spec.designation)
                  .map(keyOf)
              : [];
          return [...new Set([...administratorsOf(t as Tenant), ...designated])];
        },
        changed: (a, b) => a.metadata.generation !== b.metadata.generation || (a as Tenant).status?.namespace !== (b as Tenant).status?.namespace,
      },
      // The admin groups of the tenant's solutions: a subscription added, removed or re-pinned.
      { cache: Caches.subscriptions, map: (s) => administratorsOf(lookups.tenantOf(s.metadata.namespace)), changed: (a, b) => a.metadata.generation !== b.metadata.generation },
      // A solution's admin groups changed: the administrators of every tenant subscribed to it.
      {
        cache: Caches.solutions,
        map: (sol) => {
          const org = deps.domain.organizationOf(sol.metadata.namespace);
          if (!org) return [];
          return lookups.subscriptions.byIndex(Index.solution, targetKey(org.metadata.name, sol.metadata.name!)).flatMap((s: Subscription) => administratorsOf(lookups.tenantOf(s.metadata.namespace)));
        },
        changed: (a, b) =>
          JSON.stringify((a as Solution).status?.adminUserGroups) !== JSON.stringify((b as Solution).status?.adminUserGroups) ||
          (a as Solution).status?.manifestVersion !== (b as Solution).status?.manifestVersion,
      },
    ],
    reconciler: new UserReconciler(deps, accounts),
  };
}
