// UserGroup: its effective roles (spec.roles sorted), its member count (Users whose
// groups include it, by the group index), and where each role comes from (the manifests
// the namespace's subscriptions merge; `spec` for a role someone added by hand).
import { UserGroupConditions, UserGroupReasons } from '../../api/usergroup/names.ts';
import type { RoleSource, UserGroup } from '../../api/usergroup/schema.ts';
import type { Subscription } from '../../api/subscription/schema.ts';
import type { User } from '../../api/user/schema.ts';
import { Caches, Index, groupKey, userGroupKeys } from '../../domain/caches.ts';
import { SolutionLookups, madeBySubscription } from '../../domain/solutions.ts';
import type { DeclaredGroup } from '../../domain/solutions.ts';
import type { CacheReader } from '../../runtime/cache.ts';
import { conditionsFromChecks } from '../../runtime/conditions.ts';
import type { Check } from '../../runtime/conditions.ts';
import type { ControllerSpec, Reconciler } from '../../runtime/controller.ts';
import type { ControllerDeps } from '../deps.ts';
import { Kinds } from '../../api/registry.ts';
import { writeStatus } from '../../runtime/status.ts';

/** Each role of the group with its sources, sorted by role: the manifests' (if declared), `spec` for one no manifest grants. */
export function roleSources(roles: readonly string[], declared: DeclaredGroup | undefined): RoleSource[] {
  return [...new Set(roles)].sort().map((role) => ({ role, sources: declared?.roles.has(role) ? [...declared.roles.get(role)!].sort() : ['spec'] }));
}

export class UserGroupReconciler implements Reconciler {
  private readonly deps: ControllerDeps;
  private readonly lookups: SolutionLookups;
  private readonly groups: CacheReader<UserGroup>;
  private readonly users: CacheReader<User>;

  constructor(deps: ControllerDeps) {
    this.deps = deps;
    this.lookups = new SolutionLookups(deps.caches);
    this.groups = deps.caches.cache(Caches.userGroups);
    this.users = deps.caches.cache(Caches.users);
  }

  async reconcile(key: string): Promise<void> {
    const group = this.groups.get(key);
    if (!group || group.metadata.deletionTimestamp) return;
    const ns = group.metadata.namespace!;
    const roles = [...new Set(group.spec.roles ?? [])].sort();
    const { groups, conflicts } = this.lookups.declaredIn(ns);
    const declared = groups.get(group.metadata.name!);
    const members = this.users.byIndex(Index.group, groupKey(ns, group.metadata.name!)).length;
    // Subscriptions that name this group but may not manage it (made by hand, or another organization's).
    const contesting = [...conflicts]
      .filter(([, list]) => list.some((c) => c.group === group.metadata.name))
      .map(([sub]) => sub)
      .sort();
    const checks: Check[] = contesting.length
      ? [
          {
            gatesReady: false,
            condition: {
              type: UserGroupConditions.Uncontested,
              status: 'False',
              reason: UserGroupReasons.UserGroupConflict,
              message: `Subscription(s) ${contesting.join(', ')} name this group but may not manage it (${madeBySubscription(group) ? "another organization's subscriptions made it" : 'it was not made by a subscription'}): they add nothing to it; see their UserGroupsSynced condition`,
            },
          },
        ]
      : [];
    const conditions = conditionsFromChecks(checks, { reason: UserGroupReasons.Ready, message: `${roles.length} role(s), ${members} member(s)` });
    await writeStatus(this.deps, Kinds.UserGroup, group, { fields: { effectiveRoles: roles, members, roleSources: roleSources(roles, declared) }, conditions });
  }
}

export function userGroupController(deps: ControllerDeps): ControllerSpec {
  const groups = deps.caches.cache(Caches.userGroups);
  return {
    name: 'usergroup',
    for: Caches.userGroups,
    watches: [
      // Its own spec, also when the operator wrote it (a subscription applying new roles): the primary's
      // handler passes over the operator's own writes, a watch does not.
      { cache: Caches.userGroups, map: (g) => [`${g.metadata.namespace}/${g.metadata.name}`], changed: (a, b) => a.metadata.generation !== b.metadata.generation },
      // Member counts: the groups a user joined or left (the map sees the old and the new object); a burst is one reconcile.
      // (A member count may lag a few seconds: while thousands of users arrive, each group's count is written every 5 s, not on every user.)
      { cache: Caches.users, map: (u) => userGroupKeys(u as User), changed: (a, b) => JSON.stringify(userGroupKeys(a as User)) !== JSON.stringify(userGroupKeys(b as User)), coalesceMs: 5_000 },
      // Role sources: what the namespace's subscriptions resolve to.
      {
        cache: Caches.subscriptions,
        map: (s) => groups.byIndex(Index.namespace, s.metadata.namespace!).map((g) => `${g.metadata.namespace}/${g.metadata.name}`),
        changed: (a, b) => a.metadata.generation !== b.metadata.generation || (a as Subscription).status?.manifestDigest !== (b as Subscription).status?.manifestDigest,
        coalesceMs: 500,
      },
    ],
    reconciler: new UserGroupReconciler(deps),
  };
}
