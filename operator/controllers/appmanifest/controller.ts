// AppManifest: the API server checks its schema at admission (the same TypeBox source as
// the published schemas/app-manifest.schema.json); the controller checks what JSON Schema
// cannot say (a group named twice, by the UserGroup it makes) and reports Ready. The
// Subscriptions of every solution that includes the app (by listingId) pick it up.
import { AppManifestConditions, SolutionReasons } from '../../api/constants.ts';
import type { AppManifest } from '../../api/index.ts';
import { Caches } from '../../domain/caches.ts';
import { duplicateGroupProblems, formatProblems } from '../../manifests/parse.ts';
import type { CacheReader } from '../../runtime/cache.ts';
import { conditionsFromChecks } from '../../runtime/conditions.ts';
import type { ConditionInput } from '../../runtime/conditions.ts';
import type { ControllerSpec, Reconciler } from '../../runtime/controller.ts';
import type { ControllerDeps } from '../deps.ts';
import { Kinds, writeKindStatus } from '../shared.ts';

export class AppManifestReconciler implements Reconciler {
  private readonly deps: ControllerDeps;
  private readonly manifests: CacheReader<AppManifest>;

  constructor(deps: ControllerDeps) {
    this.deps = deps;
    this.manifests = deps.caches.cache(Caches.appManifests);
  }

  async reconcile(key: string): Promise<void> {
    const app = this.manifests.get(key);
    if (!app || app.metadata.deletionTimestamp) return;
    const problems = duplicateGroupProblems('app', app.spec as unknown as Record<string, unknown>).map((p) => ({ ...p, path: `spec.${p.path}` }));
    const condition: ConditionInput =
      problems.length > 0
        ? { type: AppManifestConditions.ManifestValid, status: 'False', reason: SolutionReasons.ManifestInconsistent, message: `The manifest is invalid, so solutions that include the app leave its groups out: ${formatProblems(`AppManifest ${app.metadata.name}`, problems)}` }
        : { type: AppManifestConditions.ManifestValid, status: 'True', reason: SolutionReasons.ManifestValid, message: `The manifest is valid (${app.spec.userGroups?.length ?? 0} group(s), ${app.spec.rolesRequired?.length ?? 0} role(s) required)` };
    const conditions = conditionsFromChecks([{ condition, gatesReady: true, stalled: problems.length > 0 }], { reason: 'Ready', message: 'The app manifest is ready' });
    await writeKindStatus(this.deps, Kinds.AppManifest, app, {}, conditions);
  }
}

export function appManifestController(deps: ControllerDeps): ControllerSpec {
  return { name: 'appmanifest', for: Caches.appManifests, reconciler: new AppManifestReconciler(deps) };
}
