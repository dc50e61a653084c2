import { NAMESPACE_QUOTA_NAME } from '../../api/platformconfig/names.ts';
import { OrganizationConditions, CREATOR_CONDITION, CREATOR_MEMBERSHIP_NAME, CreatorReasons, ICON_OPT_IN_LABEL, ORGANIZATION_ICON_CONFIGMAP } from '../../api/organization/names.ts';
import type { Membership } from '../../api/membership/schema.ts';
import type { Organization, OrganizationStatus } from '../../api/organization/schema.ts';
import { ownedLabels } from '../../runtime/objects.ts';
import { ADOPTABLE_BY_ANNOTATION, CONFIRM_DELETE_ANNOTATION, CONFIRM_DELETE_VALUE, CREATED_BY_ANNOTATION, lowerAscii } from '../../api/constants.ts';
import { controllerRef, needsApply, releaseClusterAccess } from '../../runtime/apply.ts';
import { MembershipConditions } from '../../api/membership/names.ts';
import { Caches, Index, targetKey } from '../../domain/caches.ts';
import type { Namespace } from '../../domain/caches.ts';
import { NAMESPACE_ACCESS_FINALIZER, OPERATOR_BINDING_NAME, operatorNamespaceAccess, organizationClusterAccess, organizationClusterName, roleTableClusterRoles } from '../../domain/rbac.ts';
import type { NamespaceAccess } from '../../domain/rbac.ts';
import type { CacheReader } from '../../runtime/cache.ts';
import { keyOf } from '../../runtime/cache.ts';
import { conditionsFromChecks } from '../../runtime/conditions.ts';
import type { Check, ConditionInput } from '../../runtime/conditions.ts';
import type { ControllerSpec, ReconcileContext, ReconcileResult, Reconciler } from '../../runtime/controller.ts';
import { errorMessage, isAlreadyExists } from '../../runtime/errors.ts';
import type { AnyObject, ObjectBody } from '../../runtime/kube/client.ts';
import { Resources, apiVersionOf } from '../../runtime/kube/resource.ts';
import type { ResourceType } from '../../runtime/kube/resource.ts';
import type { ControllerDeps } from '../deps.ts';
import { Kinds } from '../../api/registry.ts';
import { administratorCheck, capabilityCheck, countMembers, targetsCheck } from './checks.ts';
import { IconReasons, checkIcon, iconBytes } from './icon.ts';
import { OrganizationReasons, adoptionValue, claimOf, createdFor, desiredNamespace, namespaceNameFor, namespaceNameProblem, namespacePlan } from './logic.ts';
import { namespaceQuota } from '../../domain/namespaces.ts';
import { newFailures, writeStatus } from '../../runtime/status.ts';

export const ORGANIZATION_FINALIZER = 'miniapps.dev/organization';

const RECHECK_CONFLICT_MS = 60_000;
const RECHECK_TERMINATING_MS = 2_000;
const RECHECK_CREATOR_LIMIT_MS = 30_000;
/** An icon lives in a Secret or ConfigMap the operator does not watch: look again this often. */
const RECHECK_ICON_MS = 10 * 60_000;

/** Namespace problems that retrying cannot fix: the spec (or the namespace's opt-in) must change. */
const STALLED_NAMESPACE = new Set<string>([
  OrganizationReasons.InvalidNamespaceName,
  OrganizationReasons.NamespaceReserved,
  OrganizationReasons.NamespaceConflict,
  OrganizationReasons.NamespaceNotAdoptable,
]);
/** Icon problems that retrying cannot fix (a missing icon may still appear). */
const STALLED_ICON = new Set<string>([IconReasons.IconNotAnImage, IconReasons.IconTooLarge, IconReasons.IconTooWide]);

export class OrganizationReconciler implements Reconciler {
  private readonly deps: ControllerDeps;
  private readonly orgs: CacheReader<Organization>;
  private readonly namespaces: CacheReader<Namespace>;
  private readonly clusterRoles: CacheReader<ObjectBody>;
  private readonly clusterRoleBindings: CacheReader<ObjectBody>;
  private readonly bindings: CacheReader<ObjectBody>;
  private readonly quotas: CacheReader<ObjectBody>;
  private readonly superApps: CacheReader<AnyObject>;
  private readonly miniApps: CacheReader<AnyObject>;
  /** What the operator reconciles in a namespace with Secrets, ConfigMaps and RBAC there (namespace-indexed). */
  private readonly namespaced: CacheReader<AnyObject>[];
  private readonly namespaceAccess?: NamespaceAccess;
  /** Organizations (uid/namespace) whose icon ConfigMap this process made or found. */
  private readonly iconConfigMaps = new Set<string>();

  constructor(deps: ControllerDeps, opts: OrganizationOptions = {}) {
    this.deps = deps;
    this.namespaceAccess = opts.namespaceAccess;
    const c = deps.caches;
    this.orgs = c.cache(Caches.organizations);
    this.namespaces = c.cache(Caches.namespaces);
    this.bindings = c.cache(Caches.ownedRoleBindings);
    this.quotas = c.cache(Caches.ownedResourceQuotas);
    this.clusterRoles = c.cache(Caches.ownedClusterRoles);
    this.clusterRoleBindings = c.cache(Caches.ownedClusterRoleBindings);
    this.superApps = c.cache(Caches.superApps);
    this.miniApps = c.cache(Caches.miniApps);
    this.namespaced = [Caches.memberships, Caches.apiKeys, Caches.superApps, Caches.miniApps, Caches.miniAppReviews, Caches.solutions, Caches.appManifests].map((d) =>
      c.cache(d as typeof Caches.miniApps),
    );
  }

  async reconcile(key: string, _ctx?: ReconcileContext): Promise<ReconcileResult | void> {
    let org = this.orgs.get(key);
    if (!org) return;
    if (org.metadata.deletionTimestamp) return this.finalize(org);
    // The finalizer and the namespace are independent (the namespace's ownerReference
    // already ties it to the organization): one round trip for both.
    const nsName = namespaceNameFor(org, this.deps.domain.settings().namespacePrefix.organization);
    const overLimit = this.creatorLimit(org);
    if (overLimit) {
      const conditions = conditionsFromChecks([{ condition: overLimit, gatesReady: true, stalled: true }], { reason: OrganizationReasons.Ready, message: 'The organization is ready' });
      await this.writeStatus(org, conditions, {}, 'replace');
      // Another of the creator's Organizations going makes room: looked at again now and then.
      return { requeueAfterMs: RECHECK_CREATOR_LIMIT_MS };
    }
    const [withFinalizer, ns] = await Promise.all([this.deps.store.addFinalizer(Kinds.Organization, org, ORGANIZATION_FINALIZER), this.ensureNamespace(org, nsName)]);
    org = withFinalizer;
    // The readiness chain, in order; the first gating check that fails is Ready's reason.
    const checks: Check[] = [{ condition: ns.condition, gatesReady: true, stalled: STALLED_NAMESPACE.has(ns.condition.reason) }];
    let requeueAfterMs = ns.requeueAfterMs;
    // Counts only from a namespace that is the organization's; otherwise the last ones stand.
    let counts: ReturnType<typeof countMembers> | undefined;
    if (ns.ok) {
      const members = this.deps.domain.membersOf(nsName);
      counts = countMembers(members);
      checks.push({ condition: await this.ensureRbac(org, nsName), gatesReady: true });
      checks.push({ condition: capabilityCheck(org, this.superApps.byIndex(Index.namespace, nsName), this.miniApps.byIndex(Index.namespace, nsName)), gatesReady: true, stalled: true });
      if (org.spec.icon) {
        const icon = await this.iconCondition(org, nsName);
        checks.push({ condition: icon, gatesReady: true, stalled: STALLED_ICON.has(icon.reason) });
        requeueAfterMs = Math.min(requeueAfterMs ?? RECHECK_ICON_MS, RECHECK_ICON_MS);
      }
      // Made once an administrator is there to use it (a new organization costs no write more).
      if (counts.administrators > 0) await this.ensureIconConfigMap(org, nsName);
      const creator = await this.ensureCreator(org, nsName, members.length);
      if (creator) checks.push({ condition: creator.condition, gatesReady: false });
      if (creator?.requeueAfterMs) requeueAfterMs = Math.min(requeueAfterMs ?? creator.requeueAfterMs, creator.requeueAfterMs);
      const admins = administratorCheck(counts, members.length);
      if (admins) checks.push({ condition: admins, gatesReady: false });
    }
    const targets = targetsCheck(org, (o, name) => {
      const targetNs = this.orgs.getByName(o)?.status?.namespace;
      return !!targetNs && this.superApps.getByName(name, targetNs) !== undefined;
    });
    if (targets) checks.push({ condition: targets, gatesReady: false });
    const conditions = conditionsFromChecks(checks, { reason: OrganizationReasons.Ready, message: 'The organization is ready' });
    await this.writeStatus(org, conditions, { ...(ns.recordName ? { namespace: nsName } : {}), ...(counts ? { members: counts } : {}) }, 'replace');
    return requeueAfterMs ? { requeueAfterMs } : undefined;
  }

  /**
   * The organization's namespace: created if missing (only a namespace the operator
   * created carries the organization as controlling owner, and only such a one is ever
   * deleted with it); an existing one is used only if the operator created it for this
   * organization or the namespace opted in (see namespacePlan). Reserved names
   * (default, kube-*, the operator's own) are refused.
   */
  private async ensureNamespace(org: Organization, nsName: string): Promise<{ ok: boolean; condition: ConditionInput; requeueAfterMs?: number; recordName: boolean }> {
    const invalid = namespaceNameProblem(nsName, this.deps.operatorNamespace);
    if (invalid) return { ok: false, condition: invalid, recordName: false };
    const ns = this.namespaces.getByName(nsName);
    const plan = namespacePlan(org, ns);
    if (plan.action === 'none') {
      const { problem } = plan;
      const terminating = problem.reason === OrganizationReasons.NamespaceTerminating;
      // Created or adopted, a namespace someone deletes keeps the operator's access until nothing it reconciles is left there.
      if (terminating) await this.releaseNamespaceAccess(nsName, false);
      const requeueAfterMs = terminating ? RECHECK_TERMINATING_MS : RECHECK_CONFLICT_MS;
      return { ok: false, condition: problem, requeueAfterMs, recordName: problem.reason === OrganizationReasons.NamespaceTerminating };
    }
    if (plan.action === 'create') {
      try {
        await this.deps.store.create(Resources.Namespace, desiredNamespace(org, nsName, true));
      } catch (err) {
        // Someone else's namespace appeared first: decide again once the cache shows it.
        if (isAlreadyExists(err)) throw new Error(`Namespace ${nsName} appeared meanwhile; deciding again`, { cause: err });
        await this.reportApplyFailure(org, Resources.Namespace, nsName, OrganizationConditions.NamespaceReady, err);
      }
    } else {
      const desired = desiredNamespace(org, nsName, plan.action === 'owned');
      if (needsApply(ns, desired, [])) await this.applyOrReport(Resources.Namespace, desired, OrganizationConditions.NamespaceReady, org);
    }
    const adopted = plan.action === 'adopted';
    if (!adopted) {
      const quota = namespaceQuota(org, nsName, 'Organization', this.deps.domain.settings().quotas.namespace);
      if (needsApply(this.quotas.getByName(NAMESPACE_QUOTA_NAME, nsName), quota, ['spec'])) await this.applyOrReport(Resources.ResourceQuota, quota, OrganizationConditions.NamespaceReady, org);
    }
    return {
      ok: true,
      recordName: true,
      condition: {
        type: OrganizationConditions.NamespaceReady,
        status: 'True',
        reason: adopted ? OrganizationReasons.NamespaceAdopted : OrganizationReasons.NamespaceCreated,
        message: adopted ? `Namespace ${nsName} is adopted (it opted in); it will be released, not deleted, with the organization` : `Namespace ${nsName} is in place`,
      },
    };
  }

  /**
   * The empty ConfigMap organization-icon (labelled as an icon, owned by the
   * Organization) that administrators may patch by name: created once the organization has
   * an active administrator (a POST: what
   * exists, the administrators' icon included, is never overwritten), remembered per
   * namespace by this process.
   */
  private async ensureIconConfigMap(org: Organization, nsName: string): Promise<void> {
    const key = `${org.metadata.uid}/${nsName}`;
    if (this.iconConfigMaps.has(key)) return;
    try {
      await this.deps.store.create(Resources.ConfigMap, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          name: ORGANIZATION_ICON_CONFIGMAP,
          namespace: nsName,
          labels: { ...ownedLabels('Organization', org.metadata.name), [ICON_OPT_IN_LABEL]: 'true' },
          ownerReferences: [controllerRef(org)],
        },
      });
    } catch (err) {
      if (!isAlreadyExists(err)) throw new Error(`ConfigMap ${ORGANIZATION_ICON_CONFIGMAP} in ${nsName} could not be created: ${errorMessage(err)}`, { cause: err });
    }
    this.iconConfigMaps.add(key);
  }

  /**
   * A self-service Organization (miniapps.dev/created-by) beyond PlatformConfig
   * spec.quotas.organizationsPerCreator of its creator's (oldest first, then by name; those
   * being deleted do not count) gets no namespace, before any is made. One that already has
   * its namespace keeps it (lowering the limit takes nothing away).
   */
  private creatorLimit(org: Organization): ConditionInput | undefined {
    const creator = org.metadata.annotations?.[CREATED_BY_ANNOTATION];
    if (creator === undefined || org.status?.namespace) return undefined;
    const limit = this.deps.domain.settings().quotas.organizationsPerCreator;
    const key = (o: Organization) => `${o.metadata.creationTimestamp ?? ''}\u0000${o.metadata.name}`;
    const mine = this.orgs
      .list()
      .filter(
        (o) => !o.metadata.deletionTimestamp && o.metadata.annotations?.[CREATED_BY_ANNOTATION] !== undefined && lowerAscii(o.metadata.annotations[CREATED_BY_ANNOTATION]) === lowerAscii(creator),
      )
      .sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
    const rank = mine.findIndex((o) => o.metadata.name === org.metadata.name);
    if (rank < limit) return undefined;
    return {
      type: OrganizationConditions.NamespaceReady,
      status: 'False',
      reason: OrganizationReasons.CreatorLimitReached,
      message: `No namespace is made: its creator already has ${rank} Organization(s) of their own, and the limit is ${limit} (PlatformConfig spec.quotas.organizationsPerCreator); delete one of them (then this one gets its namespace), or ask a provisioning administrator to raise the limit`,
    };
  }

  /**
   * App Center (PlatformConfig organizationModel AppCenter): whoever created the
   * Organization becomes its administrator. The API server accepted its
   * miniapps.dev/created-by only as the creator's own user name and refuses any change of
   * it, so the operator takes no authority from what someone else wrote. The Membership
   * (named `creator`, OrganizationAdministrator, acceptance Automatic) is made once, and
   * only while the organization has no Membership at all: once the condition
   * CreatorAdministrator is True (status, which only the operator writes) it is never made
   * again, so a creator who left (or was removed with everyone else) is not brought back.
   * The email is ASCII-lowercased, as Memberships compare it; the event names no one.
   */
  private async ensureCreator(org: Organization, nsName: string, memberCount: number): Promise<{ condition: ConditionInput; requeueAfterMs?: number } | undefined> {
    const settings = this.deps.domain.settings();
    const creator = org.metadata.annotations?.[CREATED_BY_ANNOTATION];
    if (settings.organizationModel !== 'AppCenter' || creator === undefined) return undefined;
    const made = org.status?.conditions?.find((c) => c.type === CREATOR_CONDITION && c.status === 'True');
    if (made) return { condition: { type: CREATOR_CONDITION, status: 'True', reason: made.reason, message: made.message } };
    const email = lowerAscii(creator.startsWith(settings.userPrefix) ? creator.slice(settings.userPrefix.length) : '');
    if (!/^[^@\s]+@[^@\s]+$/.test(email)) {
      return {
        condition: {
          type: CREATOR_CONDITION,
          status: 'False',
          reason: CreatorReasons.CreatorNotAPerson,
          message: `The creator ${creator} is not PlatformConfig userPrefix (${JSON.stringify(settings.userPrefix)}) followed by an email, so no Membership can name them: a provisioning administrator adds the organization's first administrator with a Membership`,
        },
      };
    }
    // A Membership is admitted only in a namespace an Organization's status names: first the record, then the creator.
    if (org.status?.namespace !== nsName) {
      return {
        condition: {
          type: CREATOR_CONDITION,
          status: 'Unknown',
          reason: CreatorReasons.CreatorMembershipPending,
          message: `The creator ${email} becomes the administrator once namespace ${nsName} is recorded`,
        },
        requeueAfterMs: 1000,
      };
    }
    if (memberCount === 0) {
      try {
        await this.deps.store.create(Kinds.Membership, {
          apiVersion: apiVersionOf(Kinds.Membership),
          kind: 'Membership',
          metadata: { name: CREATOR_MEMBERSHIP_NAME, namespace: nsName },
          spec: { email, role: 'OrganizationAdministrator', acceptance: 'Automatic' },
        });
        this.deps.recorder.event(org, 'Normal', CreatorReasons.CreatorMembershipMade, `Membership ${CREATOR_MEMBERSHIP_NAME} makes the organization's creator its administrator`);
      } catch (err) {
        if (!isAlreadyExists(err)) throw new Error(`The creator's Membership in ${nsName} could not be created: ${errorMessage(err)}`, { cause: err });
      }
    }
    return {
      condition: {
        type: CREATOR_CONDITION,
        status: 'True',
        reason: CreatorReasons.CreatorMembershipMade,
        message: `The creator ${email} was made the organization's administrator (Membership ${CREATOR_MEMBERSHIP_NAME}, unless people were already in)`,
      },
    };
  }

  /**
   * The role table's shared ClusterRoles (made once for the platform), who may read or
   * administer the Organization itself, and the operator's own access in the namespace.
   */
  private async ensureRbac(org: Organization, nsName: string): Promise<ConditionInput> {
    const active = this.deps.domain.activeMembersOf(nsName).map((m) => ({ email: m.spec.email, role: m.spec.role }));
    const cluster = organizationClusterAccess(org, active, this.deps.domain.settings());
    const admins = active.filter((m) => m.role === 'OrganizationAdministrator').length;
    // Independent objects, applied side by side.
    const pending: Promise<void>[] = [];
    const ensure = (rt: ResourceType, cache: CacheReader<ObjectBody>, obj: ObjectBody, fields: string[]) => {
      if (needsApply(cache.getByName(obj.metadata.name!, obj.metadata.namespace), obj, fields)) pending.push(this.applyOrReport(rt, obj, OrganizationConditions.RBACReady, org));
    };
    for (const cr of roleTableClusterRoles()) ensure(Resources.ClusterRole, this.clusterRoles, cr, ['rules']);
    if (this.namespaceAccess) ensure(Resources.RoleBinding, this.bindings, operatorNamespaceAccess(org, nsName, this.namespaceAccess), ['roleRef', 'subjects']);
    for (const cr of cluster.clusterRoles) ensure(Resources.ClusterRole, this.clusterRoles, cr, ['rules']);
    for (const crb of cluster.clusterRoleBindings) ensure(Resources.ClusterRoleBinding, this.clusterRoleBindings, crb, ['roleRef', 'subjects']);
    // Grants nobody holds any more (the last member or administrator left) are removed.
    const wanted = new Set(cluster.clusterRoles.map((r) => r.metadata.name));
    for (const suffix of ['member', 'administrator'] as const) {
      const name = organizationClusterName(org.metadata.name, suffix);
      if (wanted.has(name)) continue;
      pending.push(releaseClusterAccess(this.deps.store, { clusterRoles: this.clusterRoles, clusterRoleBindings: this.clusterRoleBindings }, name, org.metadata.uid));
    }
    await Promise.all(pending);
    // The members' own bindings in the namespace: each Membership that says its role is bound (AccessGranted True, written by the
    // Membership controller) must own its RoleBinding: checked, not assumed. (A blocked one, its role outside the model or a second
    // Membership for an email, grants nothing and is not counted.)
    const members = this.deps.domain.activeMembersOf(nsName).filter((m) => m.status?.conditions?.some((c) => c.type === MembershipConditions.AccessGranted && c.status === 'True'));
    const unbound = members.filter((m) => this.bindings.byIndex(Index.owner, m.metadata.uid!).length === 0).map((m) => m.metadata.name);
    if (unbound.length > 0) {
      return {
        type: OrganizationConditions.RBACReady,
        status: 'False',
        reason: OrganizationReasons.MemberRolesPending,
        message: `${members.length - unbound.length} of ${members.length} active member(s) have their role bound in ${nsName}; waiting for the RoleBinding of Membership(s) ${unbound.slice(0, 10).join(', ')}${unbound.length > 10 ? ` and ${unbound.length - 10} more` : ''}`,
      };
    }
    return {
      type: OrganizationConditions.RBACReady,
      status: 'True',
      reason: OrganizationReasons.RBACApplied,
      message: `The role table's ClusterRoles are in place, ClusterRoleBindings let ${active.length} active member(s) read the Organization (${admins} administrator(s) change it), and the role of each whose Membership says AccessGranted is bound in ${nsName}`,
    };
  }

  /** Applies an owned object; a failure becomes a False condition, a Warning event and a retry. */
  private async applyOrReport(rt: ResourceType, obj: ObjectBody, conditionType: string, org: Organization): Promise<void> {
    try {
      await this.deps.store.apply(rt, obj);
    } catch (err) {
      await this.reportApplyFailure(org, rt, obj.metadata.name!, conditionType, err);
    }
  }

  private async reportApplyFailure(org: Organization, rt: ResourceType, name: string, conditionType: string, err: unknown): Promise<never> {
    const message = `${rt.kind} ${name} could not be applied: ${errorMessage(err)}`;
    const failed: ConditionInput = { type: conditionType, status: 'False', reason: OrganizationReasons.ApplyFailed, message };
    await this.writeStatus(org, [failed, { ...failed, type: OrganizationConditions.Ready }], {}, 'merge');
    throw new Error(message, { cause: err });
  }

  private async iconCondition(org: Organization, nsName: string): Promise<ConditionInput> {
    const ref = org.spec.icon!;
    const rt = ref.kind === 'Secret' ? Resources.Secret : Resources.ConfigMap;
    const holder = await this.deps.store.get<AnyObject & { data?: Record<string, string>; binaryData?: Record<string, string> }>(rt, ref.name, nsName);
    return checkIcon(ref, iconBytes(holder, ref.kind, ref.key));
  }

  /**
   * Deletion: only once confirmed. A namespace the operator created for the organization
   * is deleted (and everything in it), then the finalizer goes; an adopted one is
   * released: the operator's labels come off and the namespace stays (the RBAC the
   * operator wrote there is owned by the organization and its memberships, and goes with
   * them).
   */
  private async finalize(org: Organization): Promise<ReconcileResult | void> {
    if (!org.metadata.finalizers?.includes(ORGANIZATION_FINALIZER)) return;
    if (org.metadata.annotations?.[CONFIRM_DELETE_ANNOTATION] !== CONFIRM_DELETE_VALUE) {
      const held: ConditionInput = {
        type: OrganizationConditions.Ready,
        status: 'False',
        reason: OrganizationReasons.DeletionNotConfirmed,
        message: `Deletion is on hold and nothing was removed: annotate the Organization with ${CONFIRM_DELETE_ANNOTATION}="${CONFIRM_DELETE_VALUE}" to delete it and everything in it`,
      };
      await this.writeStatus(org, [held], {}, 'merge');
      return;
    }
    const nsName = org.status?.namespace;
    if (nsName) {
      const ns = await this.deps.store.get<Namespace>(Resources.Namespace, nsName);
      if (ns && createdFor(org, ns)) {
        if (!ns.metadata.deletionTimestamp) {
          await this.deps.store.delete(Resources.Namespace, nsName, undefined, { uid: ns.metadata.uid });
          this.deps.recorder.event(org, 'Normal', 'NamespaceDeleting', `Deleting namespace ${nsName} and everything in it`, 'Delete');
        } else {
          await this.releaseNamespaceAccess(nsName, false);
        }
        return { requeueAfterMs: RECHECK_TERMINATING_MS };
      }
      const claim = ns && claimOf(ns);
      if (claim?.kind === 'organization' && claim.name === org.metadata.name) {
        // The namespace stays; the operator's binding goes with the organization (its owner), now.
        await this.releaseNamespaceAccess(nsName, true);
        // Applying the namespace with nothing but its name gives up every field this field manager set: the labels.
        await this.deps.store.apply(Resources.Namespace, { metadata: { name: nsName } });
        // The opt-in that named this Organization goes too: a later Organization of the same name must be opted in again.
        await this.deps.store.removeAnnotation(Resources.Namespace, nsName, undefined, ADOPTABLE_BY_ANNOTATION, adoptionValue(org));
        this.deps.recorder.event(org, 'Normal', 'NamespaceReleased', `Released adopted namespace ${nsName}: it is kept, without the organization's labels`, 'Release');
      }
    }
    await this.deps.store.removeFinalizer(Kinds.Organization, org, ORGANIZATION_FINALIZER);
  }

  /**
   * The operator's access in a namespace being deleted (its RoleBinding, held by
   * NAMESPACE_ACCESS_FINALIZER) is let go once nothing it reconciles is left there (a mini
   * app's finalizer shreds its data key through it; members' and keys' Roles hand out
   * Secrets there, which RBAC lets it write only while it holds them); `now`: at once (an
   * adopted namespace that stays, released).
   */
  private async releaseNamespaceAccess(nsName: string, now: boolean): Promise<void> {
    if (!this.namespaceAccess) return;
    if (!now && this.namespaced.some((c) => c.byIndex(Index.namespace, nsName).length > 0)) return;
    const binding = await this.deps.store.get<ObjectBody>(Resources.RoleBinding, OPERATOR_BINDING_NAME, nsName);
    if (binding) await this.deps.store.removeFinalizer(Resources.RoleBinding, binding, NAMESPACE_ACCESS_FINALIZER);
  }

  /**
   * Writes status with every field this field manager owns: fields not recomputed now
   * keep their current values (server-side apply would otherwise remove them, and a
   * forgotten status.namespace could move the organization).
   */
  private async writeStatus(
    org: Organization,
    conditions: ConditionInput[],
    fields: Partial<Pick<OrganizationStatus, 'namespace' | 'members'>>,
    /** `replace`: `conditions` is the kind's whole set (a full reconcile); `merge`: they update the set (a failure, a held deletion). */
    mode: 'replace' | 'merge',
  ): Promise<void> {
    const namespace = fields.namespace ?? org.status?.namespace;
    const members = fields.members ?? org.status?.members;
    await writeStatus(this.deps, Kinds.Organization, org, {
      fields: { ...(namespace ? { namespace } : {}), ...(members ? { members } : {}) },
      conditions,
      mode,
      // The new failures, and a held deletion (Ready's own reason) each time it is written.
      warn: ({ before }) => {
        const ready = conditions.find((c) => c.type === OrganizationConditions.Ready);
        return [...newFailures(before?.conditions, conditions), ...(ready?.reason === OrganizationReasons.DeletionNotConfirmed ? [ready] : [])];
      },
    });
  }
}

export interface OrganizationOptions {
  /** Binds the operator's ServiceAccount in each organization namespace (Secrets and ConfigMaps only there). */
  namespaceAccess?: NamespaceAccess;
}

/**
 * Whether a Membership change can alter what its Organization computes (member counts,
 * the members' bindings, the administrator check): its spec (generation), its phase, its
 * acceptance, its deletion. Status writes about invitations (sent, resends, conditions)
 * do not; without this filter each one reconciled the organization again (3.7 organization
 * reconciles per membership at 100 memberships per organization).
 */
export function membershipMattersToOrganization(oldObj: AnyObject, obj: AnyObject): boolean {
  const [a, b] = [oldObj as Membership, obj as Membership];
  return (
    a.metadata.generation !== b.metadata.generation ||
    a.status?.phase !== b.status?.phase ||
    a.status?.acceptedAt !== b.status?.acceptedAt ||
    a.metadata.deletionTimestamp !== b.metadata.deletionTimestamp
  );
}

export function organizationController(deps: ControllerDeps, opts: OrganizationOptions = {}, concurrency?: number): ControllerSpec {
  const orgOfNamespace = (o: AnyObject) => {
    const org = deps.domain.organizationOf(o.metadata.namespace);
    return org ? [keyOf(org)] : [];
  };
  const orgs = deps.caches.cache(Caches.organizations);
  return {
    name: 'organization',
    for: Caches.organizations,
    // Every namespace is cached (a claimed or foreign one must be seen to be refused); the RBAC objects only if the operator made them.
    owns: [Caches.namespaces, Caches.ownedRoleBindings, Caches.ownedClusterRoles, Caches.ownedClusterRoleBindings, Caches.ownedResourceQuotas],
    watches: [
      // Member counts and bindings: a burst of membership changes becomes one reconcile.
      // Only what the counts and bindings read: the spec, the phase, acceptance, deletion (not invitation bookkeeping).
      { cache: Caches.memberships, map: orgOfNamespace, changed: membershipMattersToOrganization, coalesceMs: 1_000 },
      // A super app concerns its own organization and those that name it as a mini app target (by index).
      {
        cache: Caches.superApps,
        map: (o) => {
          const own = deps.domain.organizationOf(o.metadata.namespace);
          const targeting = own ? orgs.byIndex(Index.target, targetKey(own.metadata.name, o.metadata.name!)).map(keyOf) : [];
          return [...orgOfNamespace(o), ...targeting];
        },
        changed: (a, b) => a.metadata.generation !== b.metadata.generation,
        coalesceMs: 1_000,
      },
      // Only whether apps exist matters here (the capability check), not their status writes; a burst of them is one reconcile.
      { cache: Caches.miniApps, map: orgOfNamespace, changed: (a, b) => a.metadata.generation !== b.metadata.generation, coalesceMs: 1_000 },
      // A member's RoleBinding (their Membership's) appearing or going: RBACReady checks them.
      { cache: Caches.ownedRoleBindings, map: (rb) => (rb.metadata.ownerReferences?.some((r) => r.controller && r.kind === 'Membership') ? orgOfNamespace(rb) : []), coalesceMs: 1_000 },
      // userPrefix concerns every organization's bindings.
      { cache: Caches.platformConfigs, map: () => orgs.list().map(keyOf), changed: (a, b) => a.metadata.generation !== b.metadata.generation },
    ],
    reconciler: new OrganizationReconciler(deps, opts),
    concurrency,
  };
}
