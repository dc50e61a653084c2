// Tenant: its namespace (the Organization's rules: created with a POST, an existing one
// adopted only when it opted in with `miniapps.dev/adoptable-by: Tenant/<name>`, never a
// reserved one, never one another Organization or Tenant claims; an adopted one
// released, not deleted), the administrators' RBAC there, and a User for each
// administrator (made when missing; the User controller gives it every subscribed
// solution's adminUserGroups).
import { NAMESPACE_QUOTA_NAME } from '../../api/platformconfig/names.ts';
import { OrganizationReasons } from '../../api/organization/names.ts';
import { OFFERED_SOLUTIONS_ANNOTATION, ONBOARDED_BY_LABEL, STACK_LABEL, TenantConditions, TenantReasons } from '../../api/tenant/names.ts';
import { GROUP_DIGEST_ANNOTATION } from '../../api/usergroup/names.ts';
import { lowerAscii } from '../../api/constants.ts';
import type { Solution } from '../../api/solution/schema.ts';
import type { Subscription } from '../../api/subscription/schema.ts';
import type { Tenant, TenantStatus } from '../../api/tenant/schema.ts';
import type { User } from '../../api/user/schema.ts';
import type { UserGroup } from '../../api/usergroup/schema.ts';
import { Caches, Index, emailKey } from '../../domain/caches.ts';
import type { Namespace } from '../../domain/caches.ts';
import { claimOf, createdFor, desiredNamespace, namespaceNameFor, namespaceNameProblem, namespacePlan, namespaceQuota } from '../../domain/namespaces.ts';
import { TENANT_ADMINISTRATORS_BINDING, tenantAdministratorBinding, tenantAdministratorClusterRole, tenantClusterAccess, tenantClusterName } from '../../domain/rbac.ts';
import { shortHash } from '../../domain/rbac-types.ts';
import { ensureClusterAccess, needsApply, releaseClusterAccess } from '../../runtime/apply.ts';
import type { CacheReader } from '../../runtime/cache.ts';
import { keyOf } from '../../runtime/cache.ts';
import { conditionsFromChecks } from '../../runtime/conditions.ts';
import type { Check, ConditionInput } from '../../runtime/conditions.ts';
import type { ControllerSpec, ReconcileContext, ReconcileResult, Reconciler } from '../../runtime/controller.ts';
import { errorMessage, isAlreadyExists } from '../../runtime/errors.ts';
import type { ObjectBody } from '../../runtime/kube/client.ts';
import { Resources } from '../../runtime/kube/resource.ts';
import type { ControllerDeps } from '../deps.ts';
import { Kinds } from '../../api/registry.ts';
import { ownedLabels } from '../../runtime/objects.ts';
import { writeStatus } from '../../runtime/status.ts';
import { Onboarding, offeredAnnotation, tenantsOnboardedBy } from './onboarding.ts';

export const TENANT_FINALIZER = 'miniapps.dev/tenant';

const RECHECK_CONFLICT_MS = 60_000;
const RECHECK_TERMINATING_MS = 2_000;
const STALLED_NAMESPACE = new Set<string>([
  OrganizationReasons.InvalidNamespaceName,
  OrganizationReasons.NamespaceReserved,
  OrganizationReasons.NamespaceConflict,
  OrganizationReasons.NamespaceNotAdoptable,
]);

/** The User the operator makes for an administrator who has none: `<local part>-<8 hex digits of the email's hash>`. */
export function administratorUser(tenant: Tenant, namespace: string, email: string): User {
  const local = email.split('@')[0]!;
  const slug =
    local
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'admin';
  return {
    apiVersion: 'miniapps.dev/v1alpha1',
    kind: 'User',
    metadata: { name: `${slug}-${shortHash(lowerAscii(email)).slice(0, 8)}`, namespace, labels: ownedLabels('Tenant', tenant.metadata.name) },
    spec: { userCode: local.slice(0, 64), firstName: local.slice(0, 128), email, designation: 'Tenant administrator' },
  };
}

/**
 * A write that failed: the False condition that says so, for status, and the error, which
 * the reconcile throws on after writing status so that the work queue backs off and
 * retries (the controllers' error contract: throw what retrying may fix; a Stalled
 * condition, not an error, for what it cannot).
 */
class WriteFailed extends Error {
  readonly condition: ConditionInput;
  constructor(condition: ConditionInput, cause: unknown) {
    super(condition.message, { cause });
    this.name = 'WriteFailed';
    this.condition = condition;
  }
}

export class TenantReconciler implements Reconciler {
  private readonly deps: ControllerDeps;
  private readonly tenants: CacheReader<Tenant>;
  private readonly namespaces: CacheReader<Namespace>;
  private readonly bindings: CacheReader<ObjectBody>;
  private readonly clusterRoles: CacheReader<ObjectBody>;
  private readonly clusterRoleBindings: CacheReader<ObjectBody>;
  private readonly users: CacheReader<User>;
  private readonly quotas: CacheReader<ObjectBody>;
  private readonly onboarding: Onboarding;

  constructor(deps: ControllerDeps) {
    this.deps = deps;
    this.onboarding = new Onboarding(deps);
    const c = deps.caches;
    this.tenants = c.cache(Caches.tenants);
    this.namespaces = c.cache(Caches.namespaces);
    this.bindings = c.cache(Caches.ownedRoleBindings);
    this.clusterRoles = c.cache(Caches.ownedClusterRoles);
    this.clusterRoleBindings = c.cache(Caches.ownedClusterRoleBindings);
    this.users = c.cache(Caches.users);
    this.quotas = c.cache(Caches.ownedResourceQuotas);
  }

  async reconcile(key: string, _ctx?: ReconcileContext): Promise<ReconcileResult | void> {
    let tenant = this.tenants.get(key);
    if (!tenant) return;
    if (tenant.metadata.deletionTimestamp) return this.finalize(tenant);
    tenant = await this.deps.store.addFinalizer(Kinds.Tenant, tenant, TENANT_FINALIZER);
    const nsName = namespaceNameFor(tenant, this.deps.domain.settings().namespacePrefix.tenant);
    const offered = this.onboarding.offered(tenant);
    const checks: Check[] = [];
    let ns: Awaited<ReturnType<TenantReconciler['ensureNamespace']>> | undefined;
    let failed: WriteFailed | undefined;
    let solutions = tenant.status?.solutions;
    try {
      ns = await this.ensureNamespace(tenant, nsName, offeredAnnotation(offered.map((o) => o.key)));
      checks.push({ condition: ns.condition, gatesReady: true, stalled: STALLED_NAMESPACE.has(ns.condition.reason) });
      if (ns.ok) {
        checks.push({ condition: await this.ensureRbac(tenant, nsName), gatesReady: true });
        checks.push({ condition: await this.ensureAdministrators(tenant, nsName), gatesReady: true });
        const onboarded = await this.ensureOnboarding(tenant, nsName, offered);
        checks.push({ condition: onboarded.condition, gatesReady: true });
        if (onboarded.stages) solutions = onboarded.stages.length > 0 ? onboarded.stages : undefined;
      }
    } catch (err) {
      if (!(err instanceof WriteFailed)) throw err;
      failed = err;
      checks.push({ condition: err.condition, gatesReady: true });
    }
    const conditions = conditionsFromChecks(checks, { reason: TenantReasons.Ready, message: `The tenant is ready in namespace ${nsName}` });
    const namespace = ns?.recordName ? nsName : tenant.status?.namespace;
    await writeStatus(this.deps, Kinds.Tenant, tenant, { fields: { namespace, solutions }, conditions });
    // Status says what failed; the error backs the key off (exponentially, per key) until the write goes through.
    if (failed) throw failed;
    return ns?.requeueAfterMs ? { requeueAfterMs: ns.requeueAfterMs } : undefined;
  }

  /** Seed 003: each onboarded solution at its stage, the groups of a forceCreateUserGroup onboarding made before any subscription. */
  private async ensureOnboarding(tenant: Tenant, nsName: string, offered: { key: string; solution: Solution }[]): Promise<{ condition: ConditionInput; stages?: TenantStatus['solutions'] }> {
    try {
      const { stages, created } = await this.onboarding.reconcile(tenant, nsName, offered);
      if (created.length > 0) {
        this.deps.recorder.event(tenant, 'Normal', 'UserGroupsCreated', `Created UserGroup(s) ${created.join(', ')} in ${nsName} at onboarding (forceCreateUserGroup), before any subscription`);
      }
      const count = (stage: string) => stages.filter((s) => s.stage === stage).length;
      return {
        stages,
        condition: {
          type: TenantConditions.SolutionsOnboarded,
          status: 'True',
          reason: TenantReasons.SolutionsOnboarded,
          message: `${stages.length} solution(s): ${count('Offered')} offered, ${count('UserGroupsCreated')} with user groups made at onboarding, ${count('Subscribed')} subscribed (status.solutions)`,
        },
      };
    } catch (err) {
      throw new WriteFailed(
        {
          type: TenantConditions.SolutionsOnboarded,
          status: 'False',
          reason: TenantReasons.ApplyFailed,
          message: `The user groups of an onboarded solution could not be written: ${errorMessage(err)}`,
        },
        err,
      );
    }
  }

  private async ensureNamespace(tenant: Tenant, nsName: string, offered: string): Promise<{ ok: boolean; condition: ConditionInput; requeueAfterMs?: number; recordName: boolean }> {
    const invalid = namespaceNameProblem(nsName, this.deps.operatorNamespace, 'Tenant');
    if (invalid) return { ok: false, condition: invalid, recordName: false };
    const ns = this.namespaces.getByName(nsName);
    const plan = namespacePlan(tenant, ns, 'Tenant');
    if (plan.action === 'none') {
      const terminating = plan.problem.reason === OrganizationReasons.NamespaceTerminating;
      return { ok: false, condition: plan.problem, requeueAfterMs: terminating ? RECHECK_TERMINATING_MS : RECHECK_CONFLICT_MS, recordName: terminating };
    }
    const stack: Record<string, string> = tenant.spec.stack ? { [STACK_LABEL]: tenant.spec.stack } : {};
    // The solutions offered to the tenant (seed 003), for the admission policy that lets a Subscription name only those.
    // Applied (never in the POST): the operator's apply owns it, so an empty list removes it.
    const withOffers = (n: ReturnType<typeof desiredNamespace>) => (offered ? { ...n, metadata: { ...n.metadata, annotations: { [OFFERED_SOLUTIONS_ANNOTATION]: offered } } } : n);
    if (plan.action === 'create') {
      try {
        await this.deps.store.create(Resources.Namespace, desiredNamespace(tenant, nsName, true, 'Tenant', stack));
      } catch (err) {
        // Someone's namespace appeared first: decide again once the cache shows it (a retry, no failure to report).
        if (isAlreadyExists(err)) throw new Error(`Namespace ${nsName} appeared meanwhile; deciding again`, { cause: err });
        throw this.namespaceFailed(nsName, err);
      }
    }
    try {
      if (plan.action === 'create') {
        if (offered) await this.deps.store.apply(Resources.Namespace, withOffers(desiredNamespace(tenant, nsName, true, 'Tenant', stack)));
      } else {
        const desired = withOffers(desiredNamespace(tenant, nsName, plan.action === 'owned', 'Tenant', stack));
        if (needsApply(ns, desired, []) || (ns?.metadata.annotations?.[OFFERED_SOLUTIONS_ANNOTATION] ?? '') !== offered) await this.deps.store.apply(Resources.Namespace, desired);
      }
      if (plan.action !== 'adopted') {
        const quota = namespaceQuota(tenant, nsName, 'Tenant', this.deps.domain.settings().quotas.namespace);
        if (needsApply(this.quotas.getByName(NAMESPACE_QUOTA_NAME, nsName), quota, ['spec'])) await this.deps.store.apply(Resources.ResourceQuota, quota);
      }
    } catch (err) {
      throw this.namespaceFailed(nsName, err);
    }
    const adopted = plan.action === 'adopted';
    return {
      ok: true,
      recordName: true,
      condition: {
        type: TenantConditions.NamespaceReady,
        status: 'True',
        reason: adopted ? OrganizationReasons.NamespaceAdopted : OrganizationReasons.NamespaceCreated,
        message: adopted ? `Namespace ${nsName} is adopted (it opted in); it will be released, not deleted, with the tenant` : `Namespace ${nsName} is in place`,
      },
    };
  }

  private namespaceFailed(nsName: string, err: unknown): WriteFailed {
    return new WriteFailed(
      { type: TenantConditions.NamespaceReady, status: 'False', reason: TenantReasons.ApplyFailed, message: `Namespace ${nsName} could not be written: ${errorMessage(err)}` },
      err,
    );
  }

  /** The shared tenant-administrator ClusterRole and its RoleBinding to the administrators in the namespace. */
  private async ensureRbac(tenant: Tenant, nsName: string): Promise<ConditionInput> {
    try {
      const role = tenantAdministratorClusterRole();
      if (needsApply(this.clusterRoles.getByName(role.metadata.name), role, ['rules'])) await this.deps.store.apply(Resources.ClusterRole, role);
      const binding = tenantAdministratorBinding(tenant, nsName, this.deps.domain.settings());
      const have = this.bindings.getByName(TENANT_ADMINISTRATORS_BINDING, nsName);
      if (binding) {
        if (needsApply(have, binding, ['roleRef', 'subjects'])) await this.deps.store.apply(Resources.RoleBinding, binding);
      } else if (have?.metadata.ownerReferences?.some((r) => r.uid === tenant.metadata.uid)) {
        await this.deps.store.delete(Resources.RoleBinding, TENANT_ADMINISTRATORS_BINDING, nsName, { uid: have.metadata.uid });
      }
      // Each administrator may get their own Tenant by name (how they find it from their own identity, as members find their
      // Organizations); removed when nobody administers it any more.
      const access = tenantClusterAccess(tenant, this.deps.domain.settings());
      const caches = { clusterRoles: this.clusterRoles, clusterRoleBindings: this.clusterRoleBindings };
      if (access) await ensureClusterAccess(this.deps.store, caches, access);
      else await releaseClusterAccess(this.deps.store, caches, tenantClusterName(tenant.metadata.name), tenant.metadata.uid);
      const n = tenant.spec.administrators?.length ?? 0;
      return {
        type: TenantConditions.RBACReady,
        status: 'True',
        reason: TenantReasons.RBACApplied,
        message: n ? `${n} administrator(s) may read Tenant ${tenant.metadata.name} and manage Users and Subscriptions in ${nsName}` : 'The tenant has no administrators',
      };
    } catch (err) {
      throw new WriteFailed(
        { type: TenantConditions.RBACReady, status: 'False', reason: TenantReasons.ApplyFailed, message: `The administrators' RBAC could not be applied: ${errorMessage(err)}` },
        err,
      );
    }
  }

  /** A User for each administrator: one with the email is used as it is; a missing one is created (POST, never over someone's User). */
  private async ensureAdministrators(tenant: Tenant, nsName: string): Promise<ConditionInput> {
    const made: string[] = [];
    try {
      for (const email of tenant.spec.administrators ?? []) {
        if (this.users.byIndex(Index.email, emailKey(nsName, email)).length > 0) continue;
        const user = administratorUser(tenant, nsName, email);
        try {
          await this.deps.store.create(Kinds.User, user as unknown as ObjectBody);
          made.push(user.metadata.name!);
        } catch (err) {
          // Made by an earlier reconcile whose event has not arrived, or someone's User of that name: the index decides next time.
          if (!isAlreadyExists(err)) throw err;
        }
      }
    } catch (err) {
      throw new WriteFailed(
        { type: TenantConditions.AdministratorsReady, status: 'False', reason: TenantReasons.ApplyFailed, message: `A User for an administrator could not be created: ${errorMessage(err)}` },
        err,
      );
    }
    if (made.length > 0) this.deps.recorder.event(tenant, 'Normal', 'AdministratorUsersCreated', `Created User(s) ${made.join(', ')} for the tenant's administrators in ${nsName}`);
    const n = tenant.spec.administrators?.length ?? 0;
    return {
      type: TenantConditions.AdministratorsReady,
      status: 'True',
      reason: TenantReasons.AdministratorsPresent,
      message: `${n} administrator(s) have a User in ${nsName}; they get every subscribed solution's admin user groups`,
    };
  }

  /** A namespace created for the tenant is deleted (and everything in it); an adopted one is released: its labels come off, it stays. */
  private async finalize(tenant: Tenant): Promise<ReconcileResult | void> {
    if (!tenant.metadata.finalizers?.includes(TENANT_FINALIZER)) return;
    const nsName = tenant.status?.namespace;
    if (nsName) {
      const ns = await this.deps.store.get<Namespace>(Resources.Namespace, nsName);
      if (ns && createdFor(tenant, ns)) {
        if (!ns.metadata.deletionTimestamp) {
          await this.deps.store.delete(Resources.Namespace, nsName, undefined, { uid: ns.metadata.uid });
          this.deps.recorder.event(tenant, 'Normal', 'NamespaceDeleting', `Deleting namespace ${nsName} and everything in it`, 'Delete');
        }
        return { requeueAfterMs: RECHECK_TERMINATING_MS };
      }
      const claim = ns && claimOf(ns);
      if (claim?.kind === 'tenant' && claim.name === tenant.metadata.name) {
        await this.deps.store.apply(Resources.Namespace, { metadata: { name: nsName } });
        this.deps.recorder.event(tenant, 'Normal', 'NamespaceReleased', `Released adopted namespace ${nsName}: it is kept, without the tenant's labels`, 'Release');
      }
    }
    await this.deps.store.removeFinalizer(Kinds.Tenant, tenant, TENANT_FINALIZER);
  }
}

export function tenantController(deps: ControllerDeps): ControllerSpec {
  const tenants = deps.caches.cache(Caches.tenants);
  const tenantOfNamespace = (ns: string | undefined) => (ns ? tenants.byIndex(Index.namespace, ns).map(keyOf) : []);
  return {
    name: 'tenant',
    for: Caches.tenants,
    owns: [Caches.namespaces, Caches.ownedRoleBindings, Caches.ownedClusterRoles, Caches.ownedClusterRoleBindings, Caches.ownedResourceQuotas],
    watches: [
      // An administrator's User deleted (or made by hand): decide again whether to make one.
      { cache: Caches.users, map: (u) => tenantOfNamespace(u.metadata.namespace), changed: (a, b) => (a as User).spec.email !== (b as User).spec.email, coalesceMs: 500 },
      // A namespace the tenant names may appear, be freed or opt in.
      // (By the prefix, or the namespace recorded in status; a spec.namespace not yet recorded is looked at again within a minute.)
      {
        cache: Caches.namespaces,
        map: (n) => {
          const prefix = deps.domain.settings().namespacePrefix.tenant;
          const byName = n.metadata.name!.startsWith(prefix) ? tenants.getByName(n.metadata.name!.slice(prefix.length)) : undefined;
          return [...new Set([...tenantOfNamespace(n.metadata.name), ...(byName ? [keyOf(byName)] : [])])];
        },
      },
      { cache: Caches.platformConfigs, map: () => tenants.list().map(keyOf), changed: (a, b) => a.metadata.generation !== b.metadata.generation },
      // Seed 003: a Solution onboarded to (or withdrawn from) tenants, or its good manifest changed (the groups made at
      // onboarding follow it): the tenants it names (old and new: the map sees both objects).
      {
        cache: Caches.solutions,
        map: (s) => tenantsOnboardedBy(s as Solution, tenants).map(keyOf),
        changed: (a, b) =>
          a.metadata.generation !== b.metadata.generation ||
          (a as Solution).status?.manifestDigest !== (b as Solution).status?.manifestDigest ||
          a.metadata.deletionTimestamp !== b.metadata.deletionTimestamp,
      },
      // A subscription made or gone: the solution's stage.
      {
        cache: Caches.subscriptions,
        map: (s) => tenantOfNamespace(s.metadata.namespace),
        changed: (a, b) => (a as Subscription).metadata.generation !== (b as Subscription).metadata.generation || a.metadata.deletionTimestamp !== b.metadata.deletionTimestamp,
      },
      // A group made at onboarding taken over by a subscription, changed or deleted.
      {
        cache: Caches.userGroups,
        map: (g) => ((g as UserGroup).metadata.labels?.[ONBOARDED_BY_LABEL] ? tenantOfNamespace(g.metadata.namespace) : []),
        changed: (a, b) =>
          a.metadata.annotations?.[GROUP_DIGEST_ANNOTATION] !== b.metadata.annotations?.[GROUP_DIGEST_ANNOTATION] ||
          a.metadata.deletionTimestamp !== b.metadata.deletionTimestamp ||
          JSON.stringify(a.metadata.ownerReferences) !== JSON.stringify(b.metadata.ownerReferences),
      },
    ],
    reconciler: new TenantReconciler(deps),
  };
}
