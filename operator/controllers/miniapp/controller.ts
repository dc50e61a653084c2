import { MiniAppConditions, MiniAppReasons, ROTATE_KEK_ANNOTATION } from '../../api/miniapp/names.ts';
import type { MiniApp, MiniAppStatus } from '../../api/miniapp/schema.ts';
import type { MiniAppReview } from '../../api/miniappreview/schema.ts';
import type { Organization } from '../../api/organization/schema.ts';
import type { SuperApp } from '../../api/superapp/schema.ts';
import { approvalChanged, notAllowed, refKey, targetRefusal, targetsOf } from '../../domain/apps.ts';
import type { AppRef, Placement } from '../../domain/apps.ts';
import { Caches, Index, superAppTargetKeys } from '../../domain/caches.ts';
import { AppDirectory } from '../../domain/directory.ts';
import { missingCapability } from '../../domain/organizations.ts';
import { keyOf } from '../../runtime/cache.ts';
import { conditionsFromChecks } from '../../runtime/conditions.ts';
import type { Check, ConditionInput } from '../../runtime/conditions.ts';
import type { ControllerSpec, ReconcileContext, ReconcileResult, Reconciler } from '../../runtime/controller.ts';
import type { AnyObject } from '../../runtime/kube/client.ts';
import type { ControllerDeps } from '../deps.ts';
import { CONFIRM_DELETE_ANNOTATION, CONFIRM_DELETE_VALUE } from '../../api/constants.ts';
import { Kinds } from '../../api/registry.ts';
import type { DataKeys } from './datakeys.ts';
import { writeStatus } from '../../runtime/status.ts';

export const MINIAPP_FINALIZER = 'miniapps.dev/miniapp';

type TargetStatus = NonNullable<MiniAppStatus['superApps']>[number];

export interface MiniAppOptions {
  /** The data keys of EnvelopeEncryption mini apps (made, rewrapped, destroyed). */
  dataKeys?: DataKeys;
}

/**
 * A MiniApp: where it stands in each target super app (the same placementOf the catalogs
 * use), the checks of what slipped past admission, its data key, and its deletion (only
 * once confirmed; then its data key is destroyed and it leaves every catalog).
 */
export class MiniAppReconciler implements Reconciler {
  private readonly deps: ControllerDeps;
  private readonly dir: AppDirectory;
  private readonly opts: MiniAppOptions;

  constructor(deps: ControllerDeps, opts: MiniAppOptions = {}) {
    this.deps = deps;
    this.opts = opts;
    this.dir = new AppDirectory(deps.caches, deps.domain);
  }

  async reconcile(key: string, _ctx?: ReconcileContext): Promise<ReconcileResult | void> {
    let mini = this.dir.miniApps.get(key);
    if (!mini) return;
    if (mini.metadata.deletionTimestamp) return this.finalize(mini);
    mini = await this.deps.store.addFinalizer(Kinds.MiniApp, mini, MINIAPP_FINALIZER);
    const org = this.dir.organizationOf(mini);
    const checks: Check[] = [{ condition: allowedCheck(mini, org), gatesReady: true, stalled: true }];
    const targets = org ? targetsOf(mini, org.metadata.name) : [];
    const placements = targets.map((t) => ({ target: t, placement: this.dir.placement(mini!, org, t) }));
    if (org) checks.push({ condition: targetsValidCheck(org, targets), gatesReady: true, stalled: true });
    checks.push({ condition: categoriesCheck(mini, this.deps.domain.settings().categories), gatesReady: true, stalled: true });
    let dataKey = mini.status?.dataKey;
    let requeueAfterMs: number | undefined;
    const envelope = (mini.spec.dataPrivacy?.protection ?? 'None') === 'EnvelopeEncryption';
    // A key made earlier is kept (and rewrapped) while the mini app exists, even if its protection changed since.
    if (envelope || (dataKey && this.opts.dataKeys)) {
      const dk = this.opts.dataKeys
        ? await this.opts.dataKeys.ensure(mini)
        : {
            condition: {
              type: MiniAppConditions.DataKeyReady,
              status: 'False' as const,
              reason: MiniAppReasons.KeyEncryptionKeyInvalid,
              message: 'This operator runs without a key-encryption key: no data key can be made',
            },
            stalled: false,
          };
      if (dk.status) dataKey = dk.status;
      requeueAfterMs = dk.requeueAfterMs;
      if (envelope) checks.push({ condition: dk.condition, gatesReady: true, stalled: dk.stalled });
    }
    if (targets.length) checks.push({ condition: resolvedCheck(placements), gatesReady: false });
    const conditions = conditionsFromChecks(checks, { reason: MiniAppReasons.Ready, message: readyMessage(placements) });
    await this.writeStatus(mini, conditions, 'replace', { organization: org?.metadata.name, superApps: placements.map(targetStatus), dataKey });
    return requeueAfterMs ? { requeueAfterMs } : undefined;
  }

  /**
   * Deletion: held until confirmed with miniapps.dev/confirm-delete (the admission policy
   * refuses an unconfirmed one; this holds it should the policy be missing), unless the
   * namespace is going. Then the data key is destroyed (crypto-shredding: ciphertext made
   * with it can never be revealed again) and the finalizer goes; the catalogs drop the
   * mini app as soon as its deletion is confirmed.
   */
  private async finalize(mini: MiniApp): Promise<ReconcileResult | void> {
    if (!mini.metadata.finalizers?.includes(MINIAPP_FINALIZER)) return;
    const confirmed = mini.metadata.annotations?.[CONFIRM_DELETE_ANNOTATION] === CONFIRM_DELETE_VALUE;
    if (!confirmed && !this.dir.namespaceTerminating(mini.metadata.namespace!)) {
      const held: ConditionInput = {
        type: MiniAppConditions.Ready,
        status: 'False',
        reason: MiniAppReasons.DeletionNotConfirmed,
        message: `Deletion is on hold and nothing was removed: annotate the MiniApp with ${CONFIRM_DELETE_ANNOTATION}="${CONFIRM_DELETE_VALUE}" to delete it, leave every catalog and destroy its data key`,
      };
      const before = mini.status?.conditions?.find((c) => c.type === MiniAppConditions.Ready);
      await this.writeStatus(mini, [held], 'merge', {});
      if (before?.reason !== held.reason) this.deps.recorder.event(mini, 'Warning', held.reason, held.message);
      return;
    }
    if (this.opts.dataKeys) await this.opts.dataKeys.destroy(mini);
    await this.deps.store.removeFinalizer(Kinds.MiniApp, mini, MINIAPP_FINALIZER);
  }

  private async writeStatus(mini: MiniApp, conditions: ConditionInput[], mode: 'replace' | 'merge', fields: Partial<Pick<MiniAppStatus, 'organization' | 'superApps' | 'dataKey'>>): Promise<void> {
    const organization = fields.organization ?? mini.status?.organization;
    const superApps = fields.superApps ?? mini.status?.superApps;
    const dataKey = 'dataKey' in fields ? fields.dataKey : mini.status?.dataKey;
    const owned = { ...(organization ? { organization } : {}), ...(superApps?.length ? { superApps } : {}), ...(dataKey ? { dataKey } : {}) };
    // A held deletion (merge) is reported by its own event.
    await writeStatus(this.deps, Kinds.MiniApp, mini, { fields: owned, conditions, mode, warn: mode === 'replace' ? 'newFailures' : 'none' });
  }
}

function targetStatus({ target, placement: p }: { target: AppRef; placement: Placement }): TargetStatus {
  return {
    organization: target.organization,
    name: target.name,
    state: p.state,
    ...(p.version ? { version: p.version } : {}),
    ...(p.pendingVersion ? { pendingVersion: p.pendingVersion } : {}),
    message: p.message,
  };
}

function readyMessage(placements: { target: AppRef; placement: Placement }[]): string {
  if (placements.length === 0) return 'The mini app is ready; it names no super app (spec.superApps)';
  const listed = placements.filter((p) => p.placement.state === 'Listed').length;
  return `The mini app is ready: listed in ${listed} of ${placements.length} super app(s); status.superApps says where it stands in each`;
}

export function allowedCheck(mini: MiniApp, org: Organization | undefined): ConditionInput {
  const type = MiniAppConditions.Allowed;
  if (!org)
    return {
      type,
      status: 'False',
      reason: MiniAppReasons.OrganizationNotFound,
      message: `Namespace ${mini.metadata.namespace} belongs to no Organization: create MiniApps in an organization's namespace`,
    };
  const missing = missingCapability(org, 'MiniApp');
  if (missing) return { type, status: 'False', reason: MiniAppReasons.CapabilityMissing, message: `${missing}; the mini app is listed nowhere meanwhile and nothing is deleted` };
  return { type, status: 'True', reason: MiniAppReasons.Allowed, message: `Organization ${org.metadata.name} may create mini apps` };
}

/** Targets the organization may not publish into (what slipped past admission, or a miniAppTargets entry removed since). */
export function targetsValidCheck(org: Organization, targets: readonly AppRef[]): ConditionInput {
  const refused = targets.map((t) => targetRefusal(org, t)).filter((r): r is string => !!r);
  if (refused.length === 0) return { type: MiniAppConditions.TargetsValid, status: 'True', reason: MiniAppReasons.TargetsValid, message: `All ${targets.length} target(s) are allowed` };
  return { type: MiniAppConditions.TargetsValid, status: 'False', reason: MiniAppReasons.TargetNotAllowed, message: `${refused.join('; ')}; or remove the target from spec.superApps` };
}

export function categoriesCheck(mini: MiniApp, allowed: readonly string[]): ConditionInput {
  const bad = notAllowed(mini.spec.categories, allowed);
  if (bad.length === 0)
    return {
      type: MiniAppConditions.CategoriesValid,
      status: 'True',
      reason: MiniAppReasons.CategoriesValid,
      message: `${mini.spec.categories?.length ?? 0} categor(ies), all allowed by PlatformConfig`,
    };
  return {
    type: MiniAppConditions.CategoriesValid,
    status: 'False',
    reason: MiniAppReasons.CategoryNotAllowed,
    message: `spec.categories names ${bad.join(', ')}, which PlatformConfig default does not allow (it allows: ${allowed.join(', ') || 'none'}); choose from those, or ask a provisioning administrator to add them`,
  };
}

export function resolvedCheck(placements: readonly { target: AppRef; placement: Placement }[]): ConditionInput {
  const missing = placements.filter((p) => p.placement.state === 'NotFound').map((p) => refKey(p.target));
  if (missing.length === 0) return { type: MiniAppConditions.TargetsResolved, status: 'True', reason: MiniAppReasons.TargetsResolved, message: `All ${placements.length} target super app(s) exist` };
  return {
    type: MiniAppConditions.TargetsResolved,
    status: 'False',
    reason: MiniAppReasons.TargetNotFound,
    message: `These super apps do not exist (yet): ${missing.join(', ')}; the mini app is placed in them once they do`,
  };
}

export function miniAppController(deps: ControllerDeps, opts: MiniAppOptions = {}, concurrency?: number): ControllerSpec {
  const dir = new AppDirectory(deps.caches, deps.domain);
  const miniApps = dir.miniApps;
  const naming = (o: AnyObject) => dir.miniAppsNaming(o as SuperApp).map(keyOf);
  const ofOrganization = (o: AnyObject) => {
    const org = o as Organization;
    const ns = org.status?.namespace;
    if (!ns) return [];
    // Its own mini apps (capability, targets), and those naming its super apps.
    const own = miniApps.byIndex(Index.namespace, ns).map(keyOf);
    const naming = dir.superApps
      .byIndex(Index.namespace, ns)
      .flatMap((sa) => superAppTargetKeys(org.metadata.name, ns, sa.metadata.name!).flatMap((k) => miniApps.byIndex(Index.target, k).map(keyOf)));
    return [...own, ...naming];
  };
  const ofReview = (o: AnyObject) => {
    const ref = (o as MiniAppReview).spec.miniApp;
    const ns = dir.namespaceOf(ref.organization);
    return ns ? [`${ns}/${ref.name}`] : [];
  };
  return {
    name: 'miniapp',
    for: Caches.miniApps,
    watches: [
      // A super app appearing, going or changing its reviewPolicy (not its status: the catalog it publishes).
      { cache: Caches.superApps, map: naming, changed: (a, b) => a.metadata.generation !== b.metadata.generation },
      // A review's decision, or what an approval approved once the operator recorded it.
      { cache: Caches.miniAppReviews, map: ofReview, changed: approvalChanged, coalesceMs: 250 },
      {
        cache: Caches.organizations,
        map: ofOrganization,
        changed: (a, b) => a.metadata.generation !== b.metadata.generation || (a as Organization).status?.namespace !== (b as Organization).status?.namespace,
      },
      // Categories (and a request to rotate the key-encryption key): every mini app.
      {
        cache: Caches.platformConfigs,
        map: () => miniApps.list().map(keyOf),
        changed: (a, b) => a.metadata.generation !== b.metadata.generation || a.metadata.annotations?.[ROTATE_KEK_ANNOTATION] !== b.metadata.annotations?.[ROTATE_KEK_ANNOTATION],
      },
    ],
    reconciler: new MiniAppReconciler(deps, opts),
    concurrency,
  };
}
