import { GROUP } from '../../api/constants.ts';
import { SuperAppConditions, SuperAppReasons } from '../../api/superapp/names.ts';
import type { MiniApp } from '../../api/miniapp/schema.ts';
import type { MiniAppReview } from '../../api/miniappreview/schema.ts';
import type { Organization } from '../../api/organization/schema.ts';
import type { SuperApp, SuperAppStatus } from '../../api/superapp/schema.ts';
import {
  REVIEW_QUEUE_MAX,
  reviewQueueEntry,
  CATALOG_KEY,
  approvalChanged,
  buildCatalog,
  canonicalJson,
  catalogConfigMapName,
  contentHash,
  notAllowed,
  refKey,
  snapshotConfigMapName,
  targetsOf,
  appChanged,
} from '../../domain/apps.ts';
import type { ReviewQueueEntry, AppRef } from '../../domain/apps.ts';
import { Caches, Index } from '../../domain/caches.ts';
import { AppDirectory } from '../../domain/directory.ts';
import { missingCapability } from '../../domain/organizations.ts';
import { controllerRef } from '../../runtime/apply.ts';
import { keyOf } from '../../runtime/cache.ts';
import { rfc3339 } from '../../runtime/clock.ts';
import { conditionsFromChecks } from '../../runtime/conditions.ts';
import type { Check, ConditionInput } from '../../runtime/conditions.ts';
import type { ControllerSpec, ReconcileContext, ReconcileResult, Reconciler } from '../../runtime/controller.ts';
import { errorMessage, isAlreadyExists } from '../../runtime/errors.ts';
import type { AnyObject, ObjectBody } from '../../runtime/kube/client.ts';
import { Resources } from '../../runtime/kube/resource.ts';
import type { ControllerDeps } from '../deps.ts';
import { Kinds } from '../../api/registry.ts';
import { controlledBy, ownedLabels } from '../../runtime/objects.ts';
import type { ConfigMapObject } from '../../runtime/objects.ts';
import { writeStatus } from '../../runtime/status.ts';

/** Labels and annotations of the catalog ConfigMaps. */
export const CatalogMeta = {
  /** `live` or `snapshot`. */
  kindLabel: `${GROUP}/catalog`,
  hash: `${GROUP}/catalog-hash`,
  version: `${GROUP}/version`,
  frozenAt: `${GROUP}/frozen-at`,
  miniApps: `${GROUP}/mini-apps`,
} as const;

type Versions = NonNullable<SuperAppStatus['versions']>;
type CatalogStatus = NonNullable<SuperAppStatus['catalog']>;

export interface SuperAppOptions {
  /** Counts each catalog ConfigMap written (the metric miniapps_catalog_writes_total). */
  onCatalogWrite?: (kind: 'live' | 'snapshot') => void;
  /**
   * A catalog whose content hash is the one in status was read or written by this process
   * less than this long ago: it is not read again (default 10 minutes). ConfigMaps are not
   * watched: a catalog changed or deleted behind the operator's back is repaired at the first
   * reconcile after this time (the hourly resync at the latest), or at once when the catalog
   * changes.
   */
  verifyCatalogMs?: number;
}

const VERIFY_CATALOG_MS = 10 * 60_000;

/**
 * A SuperApp's catalog: the mini apps placed Listed in it (domain/apps.ts placementOf),
 * featured first, as deterministic JSON in the ConfigMap `<name>-catalog`, rewritten only
 * when its bytes change; and for each spec.versions entry, the first time it appears, the
 * catalog as it is then frozen into an immutable ConfigMap that is never written again.
 */
export class SuperAppReconciler implements Reconciler {
  private readonly deps: ControllerDeps;
  private readonly dir: AppDirectory;
  private readonly opts: SuperAppOptions;
  /** When this process last saw each catalog (by SuperApp key; for that uid) as it should be, and with which hash. */
  private readonly verified = new Map<string, { uid: string; hash: string; at: number }>();

  constructor(deps: ControllerDeps, opts: SuperAppOptions = {}) {
    this.deps = deps;
    this.opts = opts;
    this.dir = new AppDirectory(deps.caches, deps.domain);
  }

  async reconcile(key: string, _ctx?: ReconcileContext): Promise<ReconcileResult | void> {
    const sa = this.dir.superApps.get(key);
    if (!sa || sa.metadata.deletionTimestamp) {
      this.verified.delete(key);
      return; // its ConfigMaps go with it (ownerReferences)
    }
    const org = this.dir.organizationOf(sa);
    const allowed = allowedCheck(sa, org);
    if (allowed.status !== 'True' || !org) {
      // Nothing is published for a super app that slipped past admission; what exists stays.
      await this.writeStatus(sa, conditionsFromChecks([{ condition: allowed, gatesReady: true, stalled: true }], READY), {});
      return;
    }
    const checks: Check[] = [{ condition: allowed, gatesReady: true }];
    checks.push({ condition: platformsCheck(sa, this.deps.domain.settings().platforms), gatesReady: true, stalled: true });

    const queue: ReviewQueueEntry[] = [];
    const { catalog, featuredMissing } = buildCatalog(sa, org.metadata.name, this.listed(sa, org, queue));
    const json = canonicalJson(catalog);
    const hash = contentHash(json);
    const count = catalog.miniApps.length;
    const live = await this.publishLive(sa, json, hash, count);
    checks.push({ condition: live.condition, gatesReady: true, stalled: live.condition.reason === SuperAppReasons.CatalogConflict });
    let versions: Versions | undefined;
    if (sa.spec.versions?.length) {
      const snaps = await this.publishSnapshots(sa, json, hash, count);
      versions = snaps.versions;
      checks.push({ condition: snaps.condition, gatesReady: true, stalled: snaps.condition.reason === SuperAppReasons.SnapshotConflict });
    }
    if (sa.spec.featured?.length) checks.push({ condition: featuredCheck(featuredMissing, (ref) => this.whyNotListed(ref, org, sa)), gatesReady: false });
    queue.sort((a, b) => a.organization.localeCompare(b.organization) || a.name.localeCompare(b.name));
    await this.writeStatus(sa, conditionsFromChecks(checks, READY), { catalog: live.status, versions: versions ?? [], queue });
  }

  /** The mini apps this super app lists, with the version each shows; those waiting for a review go into `queue`. */
  private listed(sa: SuperApp, org: Organization, queue: ReviewQueueEntry[] = []) {
    const target: AppRef = { organization: org.metadata.name, name: sa.metadata.name };
    const out: { mini: MiniApp; organization: string; version: string }[] = [];
    for (const mini of this.dir.miniAppsNaming(sa)) {
      if (this.dir.leaving(mini)) continue;
      const miniOrg = this.dir.organizationOf(mini);
      // The index matched by key; check the mini app names this very super app (and not, say, a namesake in its own namespace).
      if (!miniOrg || !targetsOf(mini, miniOrg.metadata.name).some((t) => refKey(t) === refKey(target))) continue;
      const p = this.dir.placement(mini, miniOrg, target);
      if (p.state === 'Listed' && p.version) out.push({ mini, organization: miniOrg.metadata.name, version: p.version });
      if (p.awaitingReview && p.pendingVersion) queue.push(reviewQueueEntry(mini, miniOrg.metadata.name, p.pendingVersion));
    }
    return out;
  }

  /** Why a featured entry is not in the catalog, for the FeaturedListed message. */
  private whyNotListed(ref: AppRef, org: Organization, sa: SuperApp): string {
    const mini = this.dir.miniAppOf(ref);
    if (!mini) return 'no such MiniApp';
    const miniOrg = this.dir.organizationOf(mini);
    if (!miniOrg || !this.dir.names(mini, miniOrg, { organization: org.metadata.name, name: sa.metadata.name })) return 'it does not name this super app in spec.superApps';
    if (this.dir.leaving(mini)) return 'it is being deleted';
    return this.dir.placement(mini, miniOrg, { organization: org.metadata.name, name: sa.metadata.name }).state;
  }

  /**
   * The live catalog ConfigMap: created when missing (a POST: one that appears meanwhile is
   * not taken over), applied only when its bytes, labels or owner differ; a ConfigMap of
   * that name that is not this super app's is left alone and reported.
   */
  private async publishLive(sa: SuperApp, json: string, hash: string, count: number): Promise<{ condition: ConditionInput; status: CatalogStatus | undefined }> {
    const ns = sa.metadata.namespace!;
    const name = catalogConfigMapName(sa.metadata.name);
    const status: CatalogStatus = { configMapName: name, miniApps: count, hash };
    const published: ConditionInput = {
      type: SuperAppConditions.CatalogPublished,
      status: 'True',
      reason: SuperAppReasons.CatalogPublished,
      message: `ConfigMap ${name} lists ${count} mini app(s) (${hash.slice(0, 19)}…)`,
    };
    const uid = sa.metadata.uid!;
    const key = `${ns}/${sa.metadata.name}`;
    const seen = this.verified.get(key);
    const now = this.deps.clock.now().getTime();
    if (seen?.uid === uid && seen.hash === hash && now - seen.at < (this.opts.verifyCatalogMs ?? VERIFY_CATALOG_MS) && sa.status?.catalog?.configMapName === name)
      return { condition: published, status };
    const desired = catalogConfigMap(sa, name, json, { [CatalogMeta.hash]: hash }, 'live');
    const current = await this.deps.store.get<ConfigMapObject>(Resources.ConfigMap, name, ns);
    if (current && !controlledBy(current, sa)) {
      return {
        condition: {
          type: SuperAppConditions.CatalogPublished,
          status: 'False',
          reason: SuperAppReasons.CatalogConflict,
          message: `ConfigMap ${name} exists and is not this super app's catalog: it is left alone; delete or rename it, and the catalog is published there`,
        },
        status: sa.status?.catalog,
      };
    }
    const unchanged = current && current.data?.[CATALOG_KEY] === json && current.metadata.annotations?.[CatalogMeta.hash] === hash && current.metadata.labels?.[CatalogMeta.kindLabel] === 'live';
    if (!unchanged) {
      try {
        if (current) await this.deps.store.apply(Resources.ConfigMap, desired);
        else await this.deps.store.create(Resources.ConfigMap, desired);
      } catch (err) {
        if (isAlreadyExists(err)) throw new Error(`ConfigMap ${name} appeared meanwhile; deciding again`, { cause: err });
        await this.reportFailure(sa, SuperAppConditions.CatalogPublished, `ConfigMap ${name} could not be written: ${errorMessage(err)}`, err);
      }
      this.opts.onCatalogWrite?.('live');
    }
    this.verified.set(key, { uid, hash, at: now });
    return { condition: published, status };
  }

  /**
   * One snapshot per spec.versions entry, made the first time the entry is seen: the
   * catalog of this moment in an immutable ConfigMap (the API server itself then refuses
   * any change to it). The ConfigMap is the record: it carries its frozenAt and hash, so a
   * crash before status is written loses nothing, and a recorded snapshot is never made
   * again, whatever happens to mini apps, reviews or the super app.
   */
  private async publishSnapshots(sa: SuperApp, json: string, hash: string, count: number): Promise<{ condition: ConditionInput; versions: Versions }> {
    const ns = sa.metadata.namespace!;
    const recorded = new Map((sa.status?.versions ?? []).map((v) => [v.name, v]));
    const versions: Versions = [];
    const conflicts: string[] = [];
    for (const v of sa.spec.versions ?? []) {
      const name = snapshotConfigMapName(sa.metadata.name, v.name);
      const known = recorded.get(v.name);
      if (known && known.configMapName === name) {
        versions.push(known);
        continue;
      }
      const existing = await this.deps.store.get<ConfigMapObject>(Resources.ConfigMap, name, ns);
      if (existing) {
        const a = existing.metadata.annotations ?? {};
        if (!controlledBy(existing, sa) || a[CatalogMeta.version] !== v.name || !a[CatalogMeta.frozenAt]) {
          conflicts.push(`${v.name} (ConfigMap ${name} exists and is not this super app's snapshot)`);
          continue;
        }
        versions.push({
          name: v.name,
          configMapName: name,
          miniApps: Number(a[CatalogMeta.miniApps] ?? 0),
          frozenAt: a[CatalogMeta.frozenAt]!,
          hash: a[CatalogMeta.hash] ?? contentHash(existing.data?.[CATALOG_KEY] ?? ''),
        });
        continue;
      }
      const frozenAt = rfc3339(this.deps.clock.now());
      const body = {
        ...catalogConfigMap(sa, name, json, { [CatalogMeta.hash]: hash, [CatalogMeta.version]: v.name, [CatalogMeta.frozenAt]: frozenAt, [CatalogMeta.miniApps]: String(count) }, 'snapshot'),
        immutable: true,
      };
      try {
        await this.deps.store.create(Resources.ConfigMap, body);
      } catch (err) {
        if (isAlreadyExists(err)) throw new Error(`ConfigMap ${name} appeared meanwhile; deciding again`, { cause: err });
        await this.reportFailure(sa, SuperAppConditions.SnapshotsPublished, `Snapshot ConfigMap ${name} of version ${v.name} could not be created: ${errorMessage(err)}`, err);
      }
      this.opts.onCatalogWrite?.('snapshot');
      this.deps.recorder.event(sa, 'Normal', 'SnapshotFrozen', `Version ${v.name}: catalog of ${count} mini app(s) frozen into ConfigMap ${name}`, 'Freeze');
      versions.push({ name: v.name, configMapName: name, miniApps: count, frozenAt, hash });
    }
    if (conflicts.length) {
      return {
        versions,
        condition: {
          type: SuperAppConditions.SnapshotsPublished,
          status: 'False',
          reason: SuperAppReasons.SnapshotConflict,
          message: `No snapshot for version(s) ${conflicts.join(', ')}: it is left alone; delete or rename it, and the version is frozen then`,
        },
      };
    }
    return {
      versions,
      condition: { type: SuperAppConditions.SnapshotsPublished, status: 'True', reason: SuperAppReasons.SnapshotsPublished, message: `${versions.length} version(s) frozen` },
    };
  }

  private async reportFailure(sa: SuperApp, type: string, message: string, err: unknown): Promise<never> {
    const failed: ConditionInput = { type, status: 'False', reason: SuperAppReasons.ApplyFailed, message };
    const conditions = [...(sa.status?.conditions ?? []).filter((c) => c.type !== type && c.type !== SuperAppConditions.Ready), failed, { ...failed, type: SuperAppConditions.Ready }];
    await this.writeStatus(sa, conditions, {});
    throw new Error(message, { cause: err });
  }

  /** Writes status with every field this controller owns (those not recomputed keep their values). */
  private async writeStatus(sa: SuperApp, conditions: ConditionInput[], fields: { catalog?: CatalogStatus; versions?: Versions; queue?: ReviewQueueEntry[] }): Promise<void> {
    const catalog = 'catalog' in fields ? fields.catalog : sa.status?.catalog;
    const versions = fields.versions ?? sa.status?.versions;
    // A reconcile that publishes nothing keeps the queue it last saw.
    const queue = fields.queue ?? sa.status?.reviewQueue ?? [];
    const awaitingReview = fields.queue ? fields.queue.length : (sa.status?.awaitingReview ?? 0);
    const organization = this.dir.organizationOf(sa)?.metadata.name ?? sa.status?.organization;
    const owned = {
      ...(organization ? { organization } : {}),
      ...(catalog ? { catalog } : {}),
      ...(versions?.length ? { versions } : {}),
      awaitingReview,
      ...(queue.length ? { reviewQueue: queue.slice(0, REVIEW_QUEUE_MAX) } : {}),
    };
    await writeStatus(this.deps, Kinds.SuperApp, sa, { fields: owned, conditions });
  }
}

const READY = { reason: SuperAppReasons.Ready, message: 'The catalog is published' };

function catalogConfigMap(sa: SuperApp, name: string, json: string, annotations: Record<string, string>, kind: 'live' | 'snapshot'): ObjectBody {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name,
      namespace: sa.metadata.namespace,
      labels: { ...ownedLabels('SuperApp', sa.metadata.name), [CatalogMeta.kindLabel]: kind },
      annotations,
      ownerReferences: [controllerRef(sa as unknown as AnyObject)],
    },
    data: { [CATALOG_KEY]: json },
  };
}

export function allowedCheck(sa: SuperApp, org: Organization | undefined): ConditionInput {
  const type = SuperAppConditions.Allowed;
  if (!org)
    return {
      type,
      status: 'False',
      reason: SuperAppReasons.OrganizationNotFound,
      message: `Namespace ${sa.metadata.namespace} belongs to no Organization: create SuperApps in an organization's namespace`,
    };
  const missing = missingCapability(org, 'SuperApp');
  if (missing) return { type, status: 'False', reason: SuperAppReasons.CapabilityMissing, message: `${missing}; the catalog is not published meanwhile and nothing is deleted` };
  return { type, status: 'True', reason: SuperAppReasons.Allowed, message: `Organization ${org.metadata.name} may create super apps` };
}

export function platformsCheck(sa: SuperApp, allowed: readonly string[]): ConditionInput {
  const bad = notAllowed(sa.spec.platforms, allowed);
  if (bad.length === 0)
    return { type: SuperAppConditions.PlatformsValid, status: 'True', reason: SuperAppReasons.PlatformsValid, message: `${sa.spec.platforms?.length ?? 0} platform(s), all allowed by PlatformConfig` };
  return {
    type: SuperAppConditions.PlatformsValid,
    status: 'False',
    reason: SuperAppReasons.PlatformNotAllowed,
    message: `spec.platforms names ${bad.join(', ')}, which PlatformConfig default does not allow (it allows: ${allowed.join(', ') || 'none'}); remove them, or ask a provisioning administrator to add them to spec.platforms of the PlatformConfig. The catalog is still published`,
  };
}

export function featuredCheck(missing: readonly AppRef[], why: (ref: AppRef) => string): ConditionInput {
  if (missing.length === 0)
    return { type: SuperAppConditions.FeaturedListed, status: 'True', reason: SuperAppReasons.FeaturedListed, message: 'Every featured mini app is in the catalog, shown first' };
  return {
    type: SuperAppConditions.FeaturedListed,
    status: 'False',
    reason: SuperAppReasons.FeaturedNotListed,
    message: `Featured but not in the catalog: ${missing.map((r) => `${refKey(r)} (${why(r)})`).join(', ')}; they are shown first once listed, or remove them from spec.featured`,
  };
}

export function superAppController(deps: ControllerDeps, opts: SuperAppOptions = {}, concurrency?: number): ControllerSpec {
  const dir = new AppDirectory(deps.caches, deps.domain);
  const superApps = deps.caches.cache(Caches.superApps);
  /** The super apps a mini app names, wherever they are. */
  const targetsOfMini = (o: AnyObject) => {
    const mini = o as MiniApp;
    const org = dir.organizationOf(mini);
    const refs = org ? targetsOf(mini, org.metadata.name) : (mini.spec.superApps ?? []).filter((t) => t.organization).map((t) => ({ organization: t.organization!, name: t.name }));
    return refs.flatMap((r) => {
      const ns = dir.namespaceOf(r.organization);
      return ns ? [`${ns}/${r.name}`] : [];
    });
  };
  /** An Organization concerns its own super apps (its capability) and those in its miniAppTargets (its mini apps may be listed there). */
  const ofOrganization = (o: AnyObject) => {
    const org = o as Organization;
    const own = org.status?.namespace ? superApps.byIndex(Index.namespace, org.status.namespace).map(keyOf) : [];
    const targets = (org.spec.miniAppTargets ?? []).flatMap((t) => {
      const ns = dir.namespaceOf(t.organization);
      return ns ? [`${ns}/${t.name}`] : [];
    });
    return [...own, ...targets];
  };
  return {
    name: 'superapp',
    for: Caches.superApps,
    watches: [
      // One mini app change re-renders exactly the catalogs it touches (those it names, before and after).
      { cache: Caches.miniApps, map: targetsOfMini, changed: appChanged, coalesceMs: 250 },
      // A review's decision, or what an approval approved once the operator recorded it.
      { cache: Caches.miniAppReviews, map: (r) => [`${r.metadata.namespace}/${(r as MiniAppReview).spec.superApp}`], changed: approvalChanged, coalesceMs: 250 },
      {
        cache: Caches.organizations,
        map: ofOrganization,
        changed: (a, b) => a.metadata.generation !== b.metadata.generation || (a as Organization).status?.namespace !== (b as Organization).status?.namespace,
      },
      // Platforms: every super app.
      { cache: Caches.platformConfigs, map: () => superApps.list().map(keyOf), changed: (a, b) => a.metadata.generation !== b.metadata.generation },
    ],
    reconciler: new SuperAppReconciler(deps, opts),
    concurrency,
  };
}
