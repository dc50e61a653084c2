// Solution: reads its manifest (inline, or the YAML in a ConfigMap key: the seed's
// "uploaded artifact"), validates it against the published JSON Schema, and keeps the
// last good one in status (status.manifest, manifestDigest, manifestVersion): what every
// subscribed tenant's groups are built from. A broken new manifest never replaces it:
// ManifestValid turns False with the file, line, column and field of each problem, a
// Warning event says the same, and the tenants keep their groups.
import { MANIFEST_RECHECK_SECONDS, SolutionConditions, SolutionReasons } from '../../api/constants.ts';
import type { Solution, SolutionManifest, SolutionStatus } from '../../api/index.ts';
import { Caches } from '../../domain/caches.ts';
import { listingIdsOf } from '../../domain/solutions.ts';
import { duplicateGroupProblems, formatProblems, manifestDigest, parseManifestFile } from '../../manifests/parse.ts';
import type { ManifestProblem } from '../../manifests/parse.ts';
import type { CacheReader } from '../../runtime/cache.ts';
import { conditionsFromChecks } from '../../runtime/conditions.ts';
import type { ConditionInput } from '../../runtime/conditions.ts';
import type { ControllerSpec, ReconcileResult, Reconciler } from '../../runtime/controller.ts';
import { Resources } from '../../runtime/kube/resource.ts';
import type { ControllerDeps } from '../deps.ts';
import type { ConfigMapObject } from '../shared.ts';
import { Kinds, writeKindStatus } from '../shared.ts';

export { SolutionReasons };

type Read = { ok: true; manifest: SolutionManifest; digest: string } | { ok: false; reason: string; message: string; stalled: boolean };

const valid = (message: string): ConditionInput => ({ type: SolutionConditions.ManifestValid, status: 'True', reason: SolutionReasons.ManifestValid, message });

/** Only the manifest's groups are kept in status (the solutionId and version are the spec's). */
const groupsOnly = (m: SolutionManifest): SolutionManifest => ({
  ...(m.userGroupsRequired ? { userGroupsRequired: m.userGroupsRequired } : {}),
  ...(m.adminUserGroups ? { adminUserGroups: m.adminUserGroups } : {}),
});

/** The manifest's problems as one condition message, with what happens meanwhile. */
function problemMessage(file: string, problems: readonly ManifestProblem[], hasLastGood: boolean): string {
  const keep = hasLastGood ? 'the last good manifest stays in force (subscribed tenants keep their groups)' : 'no tenant gets groups from it until it is fixed';
  return `The manifest is invalid, so ${keep}: ${formatProblems(file, problems)}`;
}

export class SolutionReconciler implements Reconciler {
  private readonly deps: ControllerDeps;
  private readonly solutions: CacheReader<Solution>;

  constructor(deps: ControllerDeps) {
    this.deps = deps;
    this.solutions = deps.caches.cache(Caches.solutions);
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const sol = this.solutions.get(key);
    if (!sol || sol.metadata.deletionTimestamp) return;
    const read = await this.read(sol);
    const last = sol.status ?? {};
    let fields: Partial<SolutionStatus>;
    let condition: ConditionInput;
    let stalled = false;
    if (read.ok) {
      const manifest = groupsOnly(read.manifest);
      fields = {
        manifestDigest: read.digest,
        manifestVersion: sol.spec.version,
        manifest,
        userGroups: (manifest.userGroupsRequired ?? []).map((g) => g.name),
        adminUserGroups: (manifest.adminUserGroups ?? []).map((g) => g.name),
        apps: listingIdsOf([...(manifest.userGroupsRequired ?? []), ...(manifest.adminUserGroups ?? [])]),
      };
      condition = valid(`The manifest is valid (version ${sol.spec.version}, ${fields.userGroups!.length} group(s), ${fields.adminUserGroups!.length} admin group(s), digest ${read.digest.slice(0, 12)})`);
    } else {
      // The last good manifest and everything derived from it stay as they are.
      fields = { manifestDigest: last.manifestDigest, manifestVersion: last.manifestVersion, manifest: last.manifest, userGroups: last.userGroups, adminUserGroups: last.adminUserGroups, apps: last.apps };
      condition = { type: SolutionConditions.ManifestValid, status: 'False', reason: read.reason, message: read.message };
      stalled = read.stalled;
    }
    const conditions = conditionsFromChecks([{ condition, gatesReady: true, stalled }], { reason: SolutionReasons.Ready, message: 'The solution is ready: its manifest is valid' });
    const wrote = await writeKindStatus(this.deps, Kinds.Solution, sol, fields, conditions);
    if (wrote && read.ok && read.digest !== last.manifestDigest) {
      this.deps.recorder.event(sol, 'Normal', 'ManifestAccepted', `Accepted manifest version ${sol.spec.version} (digest ${read.digest.slice(0, 12)}); subscribed tenants are updated`);
    }
    // A ConfigMap is not watched (the operator may read ConfigMaps only in the namespaces it manages): look again.
    return sol.spec.manifestFrom ? { requeueAfterMs: MANIFEST_RECHECK_SECONDS * 1000 } : undefined;
  }

  private async read(sol: Solution): Promise<Read> {
    const hasLastGood = !!sol.status?.manifest;
    if (sol.spec.manifest) {
      // The API server checked the schema; what it cannot check is a group named twice (by the UserGroup it makes).
      const problems = duplicateGroupProblems('solution', sol.spec.manifest as Record<string, unknown>).map((p) => ({ ...p, path: `spec.manifest.${p.path}` }));
      if (problems.length > 0) return { ok: false, reason: SolutionReasons.ManifestInconsistent, message: problemMessage(`Solution ${sol.metadata.name}`, problems, hasLastGood), stalled: true };
      return { ok: true, manifest: sol.spec.manifest, digest: manifestDigest(groupsOnly(sol.spec.manifest)) };
    }
    const ref = sol.spec.manifestFrom!.configMapKeyRef;
    const file = `configmap/${ref.name}/${ref.key}`;
    const cm = await this.deps.store.get<ConfigMapObject>(Resources.ConfigMap, ref.name, sol.metadata.namespace);
    const text = cm?.data?.[ref.key];
    if (text === undefined) {
      const what = cm ? `ConfigMap ${ref.name} has no key "${ref.key}"` : `ConfigMap ${ref.name} does not exist`;
      return { ok: false, reason: SolutionReasons.ManifestNotFound, message: `${what} in namespace ${sol.metadata.namespace}; ${hasLastGood ? 'the last good manifest stays in force' : 'create it with the manifest YAML'} (looked again every ${MANIFEST_RECHECK_SECONDS}s)`, stalled: false };
    }
    const parsed = await parseManifestFile('solution', text);
    if (!parsed.ok) return { ok: false, reason: parsed.reason, message: problemMessage(file, parsed.problems, hasLastGood), stalled: true };
    if (parsed.manifest.solutionId !== sol.spec.solutionId) {
      const problem = { ...parsed.locate(['solutionId']), path: 'solutionId', message: `is "${parsed.manifest.solutionId}", but the Solution's spec.solutionId is "${sol.spec.solutionId}"` };
      return { ok: false, reason: SolutionReasons.ManifestInconsistent, message: problemMessage(file, [problem], hasLastGood), stalled: true };
    }
    return { ok: true, manifest: parsed.manifest, digest: manifestDigest(groupsOnly(parsed.manifest)) };
  }
}

export function solutionController(deps: ControllerDeps): ControllerSpec {
  return { name: 'solution', for: Caches.solutions, reconciler: new SolutionReconciler(deps) };
}
