// Subscription: builds the tenant's UserGroups from the subscribed solution's last good
// manifest merged with its apps' manifests (domain/solutions.ts), and keeps them up to
// date as the manifests change. Two subscriptions of one organization's solutions that
// name one group give it the union of their roles; two organizations' never share one:
// the one that made it keeps it, the other reports a conflict (UserGroupConflict), and so
// does every subscription naming a group someone made by hand, which is left untouched
// (never given an owner, so unsubscribing never deletes it). A group no manifest declares
// any more is kept while users belong to it (reported in status.orphanedUserGroups and
// OrphansKept), and deleted once nobody does.
import { GROUP_DIGEST_ANNOTATION } from '../../api/usergroup/names.ts';
import { SubscriptionConditions, SubscriptionReasons } from '../../api/subscription/names.ts';
import type { Subscription, SubscriptionStatus } from '../../api/subscription/schema.ts';
import type { Solution } from '../../api/solution/schema.ts';
import type { User } from '../../api/user/schema.ts';
import type { UserGroup } from '../../api/usergroup/schema.ts';
import type { AppManifest } from '../../api/appmanifest/schema.ts';
import type { Tenant } from '../../api/tenant/schema.ts';
import { Caches, Index, groupKey, targetKey } from '../../domain/caches.ts';
import type { ClaimLease } from '../../domain/caches.ts';
import { AppClaims } from '../../domain/claims.ts';
import { SolutionLookups } from '../../domain/solutions.ts';
import type { GroupConflict } from '../../domain/solutions.ts';
import type { CacheReader } from '../../runtime/cache.ts';
import { keyOf } from '../../runtime/cache.ts';
import { conditionsFromChecks } from '../../runtime/conditions.ts';
import type { Check, ConditionInput } from '../../runtime/conditions.ts';
import type { ControllerSpec, ReconcileResult, Reconciler } from '../../runtime/controller.ts';
import { ApiError, errorMessage } from '../../runtime/errors.ts';
import type { AnyObject, ObjectBody } from '../../runtime/kube/client.ts';
import type { ControllerDeps } from '../deps.ts';
import { Kinds } from '../../api/registry.ts';
import { writeStatus } from '../../runtime/status.ts';
import { desiredUserGroup, groupNeedsApply, madeBySubscription } from './logic.ts';

/** A solution or organization that is not there yet is looked for again this often (besides the watches). */
const RECHECK_UNRESOLVED_MS = 30_000;

export class SubscriptionReconciler implements Reconciler {
  private readonly deps: ControllerDeps;
  private readonly lookups: SolutionLookups;
  private readonly subscriptions: CacheReader<Subscription>;
  private readonly userGroups: CacheReader<UserGroup>;
  private readonly users: CacheReader<User>;

  constructor(deps: ControllerDeps) {
    this.deps = deps;
    this.lookups = new SolutionLookups(deps.caches);
    this.subscriptions = deps.caches.cache(Caches.subscriptions);
    this.userGroups = deps.caches.cache(Caches.userGroups);
    this.users = deps.caches.cache(Caches.users);
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const sub = this.subscriptions.get(key);
    if (!sub || sub.metadata.deletionTimestamp) return;
    const ns = sub.metadata.namespace!;
    const last = sub.status ?? {};
    const keep: Partial<SubscriptionStatus> = {
      version: last.version,
      manifestDigest: last.manifestDigest,
      userGroups: last.userGroups,
      conflictingUserGroups: last.conflictingUserGroups,
      orphanedUserGroups: last.orphanedUserGroups,
    };
    const tenant = this.lookups.tenantOf(ns);
    const checks: Check[] = [];
    if (!tenant) {
      checks.push({
        gatesReady: true,
        stalled: true,
        condition: {
          type: SubscriptionConditions.InTenant,
          status: 'False',
          reason: SubscriptionReasons.NotInTenant,
          message: `Namespace ${ns} is not a tenant's namespace; create the Subscription in the namespace of a Tenant (kubectl get tenants)`,
        },
      });
      return this.finish(sub, checks, keep);
    }
    checks.push({
      gatesReady: true,
      condition: { type: SubscriptionConditions.InTenant, status: 'True', reason: SubscriptionReasons.InTenant, message: `In the namespace of Tenant ${tenant.metadata.name}` },
    });
    const resolved = this.lookups.resolve(sub);
    if (!resolved.ok) {
      // Nothing is changed while the solution cannot be resolved: the groups stay as they are.
      checks.push({ condition: resolved.condition, gatesReady: true, stalled: resolved.stalled });
      await this.finish(sub, checks, keep);
      return { requeueAfterMs: RECHECK_UNRESOLVED_MS };
    }
    const ref = sub.spec.solution;
    const solStatus = resolved.solution.status!;
    checks.push({
      gatesReady: true,
      condition: {
        type: SubscriptionConditions.SolutionResolved,
        status: 'True',
        reason: SubscriptionReasons.SolutionResolved,
        message: `Solution ${ref.organization}/${ref.name} version ${solStatus.manifestVersion}, with ${resolved.apps.length} app manifest(s)${resolved.note ? `; ${resolved.note}` : ''}`,
      },
    });
    const sync = await this.syncGroups(sub, tenant, [...resolved.groups.keys()], new Set(resolved.withheld));
    checks.push({ condition: sync.condition, gatesReady: true });
    if (sync.orphans.length > 0 || sync.withheld.length > 0) {
      const why = [
        ...(sync.orphans.length > 0
          ? [`Group(s) ${sync.orphans.join(', ')} are no longer in the manifests but are kept while users belong to them; remove the users from them and they are deleted`]
          : []),
        ...(sync.withheld.length > 0
          ? [
              `Group(s) ${sync.withheld.join(', ')} of app(s) whose organization does not hold their ids (IdsOwned False) are kept as they are, not updated, until the app holds them again or leaves the solution`,
            ]
          : []),
      ];
      checks.push({ gatesReady: false, condition: { type: SubscriptionConditions.OrphansKept, status: 'False', reason: SubscriptionReasons.OrphansKept, message: why.join('; ') } });
    }
    const conflicting = sync.conflicts.map((c) => c.group).sort();
    await this.finish(sub, checks, {
      version: solStatus.manifestVersion,
      manifestDigest: solStatus.manifestDigest,
      userGroups: [...resolved.groups.keys()].filter((g) => !conflicting.includes(g)).sort(),
      conflictingUserGroups: conflicting.length > 0 ? conflicting : undefined,
      orphanedUserGroups: sync.orphans.length + sync.withheld.length > 0 ? [...sync.orphans, ...sync.withheld].sort() : undefined,
    });
    // Status says what failed; the error, with its cause, backs the key off until the write goes through.
    if (!sync.ok) throw new Error(sync.condition.message, { cause: sync.error });
  }

  /**
   * Applies every group this subscription declares (with what every other subscription
   * of the namespace declares for it: the union), and deals with the groups it made that
   * no manifest declares any more: kept while users belong to them, else deleted.
   */
  private async syncGroups(
    sub: Subscription,
    tenant: Tenant,
    mine: string[],
    withheld: ReadonlySet<string>,
  ): Promise<{ ok: boolean; error?: unknown; condition: ConditionInput; orphans: string[]; withheld: string[]; conflicts: GroupConflict[] }> {
    const ns = sub.metadata.namespace!;
    const { groups, declaredBy, conflicts: all } = this.lookups.declaredIn(ns);
    const conflicts = all.get(sub.metadata.name) ?? [];
    const contested = new Set(conflicts.map((c) => c.group));
    const owned = this.userGroups.byIndex(Index.owner, sub.metadata.uid!).filter((g) => g.metadata.namespace === ns);
    const names = [...new Set([...mine, ...owned.map((g) => g.metadata.name!)])].sort();
    const orphans: string[] = [];
    const kept: string[] = [];
    let applied = 0;
    let deleted = 0;
    try {
      for (const name of names) {
        const existing = this.userGroups.getByName(name, ns);
        // A group someone made by hand, or another organization's: not this subscription's to write.
        if (contested.has(name)) continue;
        const declared = groups.get(name);
        if (declared) {
          const desired = desiredUserGroup(ns, tenant.metadata.name, declared, declaredBy.get(name) ?? [sub]);
          if (groupNeedsApply(existing, desired)) {
            // The cache says there is none: made with a POST first (only the operator's marker), so one that someone made
            // a moment ago, not in the cache yet, is a 409 and never adopted by the apply that follows.
            if (!existing && !(await this.createGroup(desired))) {
              conflicts.push({
                group: name,
                message: `UserGroup ${name} was made by someone else a moment ago: it is left as it is (no roles added, no owner) while it was not made by a subscription`,
              });
              continue;
            }
            await this.deps.store.apply(Kinds.UserGroup, desired);
            applied++;
          }
          continue;
        }
        if (!existing || !madeBySubscription(existing)) continue;
        // Declared by an app of the solution that does not hold its ids now: kept as it is, never deleted for that.
        if (withheld.has(name)) {
          kept.push(name);
          continue;
        }
        if (this.users.byIndex(Index.group, groupKey(ns, name)).length > 0) orphans.push(name);
        else {
          await this.deps.store.delete(Kinds.UserGroup, name, ns, { uid: existing.metadata.uid });
          deleted++;
          this.deps.recorder.event(sub, 'Normal', 'UserGroupDeleted', `Deleted UserGroup ${name}: no manifest declares it and no user belongs to it`);
        }
      }
    } catch (err) {
      return {
        ok: false,
        error: err,
        orphans,
        withheld: kept,
        conflicts,
        condition: { type: SubscriptionConditions.UserGroupsSynced, status: 'False', reason: SubscriptionReasons.ApplyFailed, message: `The user groups could not be written: ${errorMessage(err)}` },
      };
    }
    const condition: ConditionInput =
      conflicts.length > 0
        ? {
            type: SubscriptionConditions.UserGroupsSynced,
            status: 'False',
            reason: SubscriptionReasons.UserGroupConflict,
            message: `${mine.length - conflicts.length} of ${mine.length} user group(s) in place; not managed by this subscription: ${conflicts.map((c) => c.message).join('; ')}`,
          }
        : {
            type: SubscriptionConditions.UserGroupsSynced,
            status: 'True',
            reason: SubscriptionReasons.UserGroupsSynced,
            message: `${mine.length} user group(s) in place${applied ? ` (${applied} written now)` : ''}${deleted ? `, ${deleted} dropped group(s) deleted` : ''}`,
          };
    return { ok: true, orphans, withheld: kept, conflicts, condition };
  }

  /** Makes the group empty, marked as a subscription's (the apply then writes it): false when it exists already (409). */
  private async createGroup(desired: ObjectBody): Promise<boolean> {
    try {
      await this.deps.store.create(Kinds.UserGroup, {
        apiVersion: desired.apiVersion,
        kind: desired.kind,
        metadata: { name: desired.metadata.name, namespace: desired.metadata.namespace, annotations: { [GROUP_DIGEST_ANNOTATION]: 'creating' } },
        spec: {},
      });
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) return false;
      throw err;
    }
  }

  private async finish(sub: Subscription, checks: Check[], fields: Partial<SubscriptionStatus>): Promise<void> {
    const conditions = conditionsFromChecks(checks, { reason: SubscriptionReasons.Ready, message: "The tenant's user groups match the solution and its apps" });
    await writeStatus(this.deps, Kinds.Subscription, sub, { fields, conditions });
  }
}

export function subscriptionController(deps: ControllerDeps): ControllerSpec {
  const lookups = new SolutionLookups(deps.caches);
  const subs = lookups.subscriptions;
  const inNamespace = (ns: string | undefined) => (ns ? subs.byIndex(Index.namespace, ns).map(keyOf) : []);
  const ofSolution = (sol: AnyObject) => {
    const org = deps.domain.organizationOf(sol.metadata.namespace);
    return org ? subs.byIndex(Index.solution, targetKey(org.metadata.name, sol.metadata.name!)).map(keyOf) : [];
  };
  return {
    name: 'subscription',
    for: Caches.subscriptions,
    watches: [
      // Another subscription of the tenant: the groups they share are the union of both.
      {
        cache: Caches.subscriptions,
        map: (s) => inNamespace(s.metadata.namespace).filter((k) => k !== keyOf(s)),
        changed: (a, b) => a.metadata.generation !== b.metadata.generation || (a as Subscription).status?.manifestDigest !== (b as Subscription).status?.manifestDigest,
      },
      // A new good manifest (or version) of the solution reaches every subscribed tenant.
      {
        cache: Caches.solutions,
        map: ofSolution,
        changed: (a, b) => {
          const [x, y] = [(a as Solution).status, (b as Solution).status];
          return (
            x?.manifestDigest !== y?.manifestDigest ||
            x?.manifestVersion !== y?.manifestVersion ||
            JSON.stringify(x?.conditions?.find((c) => c.type === 'ManifestValid')?.status) !== JSON.stringify(y?.conditions?.find((c) => c.type === 'ManifestValid')?.status)
          );
        },
      },
      // A new good app manifest (its status, not its spec: the spec's may be broken or in a ConfigMap) reaches the
      // subscriptions of every solution whose roles name its listing (old and new).
      {
        cache: Caches.appManifests,
        map: (a) => {
          const listing = (a as AppManifest).spec.listingId;
          return listing !== undefined ? lookups.solutions.byIndex(Index.listingId, listing).flatMap(ofSolution) : [];
        },
        changed: (a, b) => {
          const [x, y] = [a as AppManifest, b as AppManifest];
          // Its first status too: a subscription waits for its apps to be checked (AppManifestsNotChecked).
          return (
            x.status?.manifestDigest !== y.status?.manifestDigest ||
            x.spec.listingId !== y.spec.listingId ||
            x.spec.appId !== y.spec.appId ||
            x.metadata.deletionTimestamp !== y.metadata.deletionTimestamp ||
            (x.status?.observedGeneration === undefined) !== (y.status?.observedGeneration === undefined)
          );
        },
      },
      // An id claimed, or its claim gone: the subscriptions of every solution naming that listing (or the listing of
      // an app with that appId).
      {
        cache: Caches.idClaims,
        map: (l) => {
          const claimed = AppClaims.idOf(l as ClaimLease);
          if (!claimed) return [];
          const listings =
            claimed.kind === 'listingId' ? [claimed.id] : lookups.appManifests.byIndex(Index.appId, claimed.id).flatMap((a) => (a.spec.listingId !== undefined ? [a.spec.listingId] : []));
          return [...new Set(listings)].flatMap((id) => lookups.solutions.byIndex(Index.listingId, id)).flatMap(ofSolution);
        },
      },
      // The tenant's namespace recorded (or changed).
      { cache: Caches.tenants, map: (t) => inNamespace((t as Tenant).status?.namespace), changed: (a, b) => (a as Tenant).status?.namespace !== (b as Tenant).status?.namespace },
      // A group changed or deleted by someone else: apply it again. A group in conflict (made by hand, or another
      // organization's) that changes hands or goes: the subscriptions that reported it look again.
      {
        cache: Caches.userGroups,
        map: (g) => [
          ...(g.metadata.ownerReferences ?? []).filter((r) => r.kind === 'Subscription').map((r) => `${g.metadata.namespace}/${r.name}`),
          ...inNamespace(g.metadata.namespace).filter((k) => subs.get(k)?.status?.conflictingUserGroups?.includes(g.metadata.name!)),
        ],
        changed: (a, b) => a.metadata.annotations?.[GROUP_DIGEST_ANNOTATION] !== b.metadata.annotations?.[GROUP_DIGEST_ANNOTATION] || a.metadata.deletionTimestamp !== b.metadata.deletionTimestamp,
      },
      // The last user leaving an orphaned group: the subscriptions that report it delete it.
      {
        cache: Caches.users,
        map: (u) => {
          const ns = u.metadata.namespace!;
          const groups = new Set([...((u as User).spec.groups ?? []), ...((u as User).status?.groups ?? [])]);
          return subs
            .byIndex(Index.namespace, ns)
            .filter((s) => s.status?.orphanedUserGroups?.some((g) => groups.has(g)))
            .map(keyOf);
        },
        changed: (a, b) =>
          JSON.stringify((a as User).spec.groups) !== JSON.stringify((b as User).spec.groups) || JSON.stringify((a as User).status?.groups) !== JSON.stringify((b as User).status?.groups),
        coalesceMs: 1_000,
      },
    ],
    reconciler: new SubscriptionReconciler(deps),
  };
}
