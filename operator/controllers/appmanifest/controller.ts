// AppManifest: reads its manifest (userGroups and rolesRequired inline, or the YAML in a
// ConfigMap key: the seed's "uploaded artifact", with appId and listingId equal to the
// spec's), validates it against the published JSON Schema (inline: the API server did;
// here what JSON Schema cannot say, a group named twice), and keeps the last good one in
// status (status.manifest, manifestDigest): what the Subscriptions of every solution that
// includes the app (by listingId) merge, and what its tokens' roles are cut to. A broken
// new manifest never replaces it: ManifestValid turns False with file, line, column and
// field, a Warning event says the same, and the tenants keep their groups.
import { AppManifestConditions, MANIFEST_RECHECK_SECONDS, SolutionReasons } from '../../api/constants.ts';
import type { AppManifest, AppManifestContent, AppManifestStatus } from '../../api/index.ts';
import { Caches } from '../../domain/caches.ts';
import type { CacheReader } from '../../runtime/cache.ts';
import { conditionsFromChecks } from '../../runtime/conditions.ts';
import type { ConditionInput } from '../../runtime/conditions.ts';
import type { ControllerSpec, ReconcileResult, Reconciler } from '../../runtime/controller.ts';
import type { ControllerDeps } from '../deps.ts';
import { fieldsOf, readManifest } from '../manifest-source.ts';
import { Kinds, writeKindStatus } from '../shared.ts';

/** What of an app manifest is kept in status (appId and listingId are the spec's). */
const contentOnly = fieldsOf<AppManifestContent>('userGroups', 'rolesRequired');

export class AppManifestReconciler implements Reconciler {
  private readonly deps: ControllerDeps;
  private readonly manifests: CacheReader<AppManifest>;

  constructor(deps: ControllerDeps) {
    this.deps = deps;
    this.manifests = deps.caches.cache(Caches.appManifests);
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const app = this.manifests.get(key);
    if (!app || app.metadata.deletionTimestamp) return;
    const last = app.status ?? {};
    const read = await readManifest(this.deps.store, {
      kind: 'app',
      owner: { kind: 'AppManifest', name: app.metadata.name!, namespace: app.metadata.namespace! },
      ...(app.spec.manifestFrom ? { from: app.spec.manifestFrom } : { inline: { manifest: app.spec as AppManifestContent, path: 'spec' } }),
      agree: { appId: app.spec.appId, listingId: app.spec.listingId },
      keep: contentOnly,
      hasLastGood: !!last.manifest,
      meanwhile: {
        kept: "the last good manifest stays in force (subscribed tenants keep the app's groups, its tokens their roles)",
        none: 'solutions that include the app leave it out (no groups, no token roles) until it is fixed',
      },
    });
    let fields: Partial<AppManifestStatus>;
    let condition: ConditionInput;
    if (read.ok) {
      fields = { manifest: read.manifest, manifestDigest: read.digest };
      condition = { type: AppManifestConditions.ManifestValid, status: 'True', reason: SolutionReasons.ManifestValid, message: `The manifest is valid (${read.manifest.userGroups?.length ?? 0} group(s), ${read.manifest.rolesRequired?.length ?? 0} role(s) required, digest ${read.digest.slice(0, 12)})` };
    } else {
      // The last good manifest stays as it is.
      fields = { manifest: last.manifest, manifestDigest: last.manifestDigest };
      condition = { type: AppManifestConditions.ManifestValid, status: 'False', reason: read.reason, message: read.message };
    }
    const conditions = conditionsFromChecks([{ condition, gatesReady: true, stalled: !read.ok && read.stalled }], { reason: 'Ready', message: 'The app manifest is ready: its manifest is valid' });
    const wrote = await writeKindStatus(this.deps, Kinds.AppManifest, app, fields, conditions);
    if (wrote && read.ok && read.digest !== last.manifestDigest) {
      this.deps.recorder.event(app, 'Normal', 'ManifestAccepted', `Accepted the app manifest (digest ${read.digest.slice(0, 12)}); the tenants of the solutions that include it are updated`);
    }
    // A ConfigMap is not watched (the operator may read ConfigMaps only in the namespaces it manages): look again.
    return app.spec.manifestFrom ? { requeueAfterMs: MANIFEST_RECHECK_SECONDS * 1000 } : undefined;
  }
}

export function appManifestController(deps: ControllerDeps): ControllerSpec {
  return { name: 'appmanifest', for: Caches.appManifests, reconciler: new AppManifestReconciler(deps) };
}
