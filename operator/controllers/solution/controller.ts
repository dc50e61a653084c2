// Solution: reads its manifest (inline, or the YAML in a ConfigMap key: the seed's
// "uploaded artifact"), validates it against the published JSON Schema, and keeps the
// last good one in status (status.manifest, manifestDigest, manifestVersion): what every
// subscribed tenant's groups are built from. A broken new manifest never replaces it:
// ManifestValid turns False with the file, line, column and field of each problem, a
// Warning event says the same, and the tenants keep their groups. The listings its roles
// name that no organization holds yet are claimed for its organization (domain/claims.ts:
// first come, for as long as the organization exists); RolesOwned says whether every role
// names a listing the organization holds: the others are left out of every tenant's groups.
import { MANIFEST_ARTIFACT_ONLY_ANNOTATION, MANIFEST_RECHECK_SECONDS, OwnershipReasons } from '../../api/constants.ts';
import { SolutionConditions, SolutionReasons } from '../../api/solution/names.ts';
import type { Organization } from '../../api/organization/schema.ts';
import type { Solution, SolutionManifest, SolutionStatus } from '../../api/solution/schema.ts';
import { Caches, Index, listingsNamed, solutionRolesOf } from '../../domain/caches.ts';
import type { ClaimLease } from '../../domain/caches.ts';
import { AppClaims } from '../../domain/claims.ts';
import type { CacheReader } from '../../runtime/cache.ts';
import { conditionsFromChecks } from '../../runtime/conditions.ts';
import type { ConditionInput } from '../../runtime/conditions.ts';
import type { ControllerSpec, ReconcileResult, Reconciler } from '../../runtime/controller.ts';
import type { ControllerDeps } from '../deps.ts';
import { fieldsOf, readManifest } from '../../domain/manifest-source.ts';
import type { ManifestRead } from '../../domain/manifest-source.ts';
import { Kinds } from '../../api/registry.ts';
import { writeStatus } from '../../runtime/status.ts';

export { SolutionReasons };

const valid = (message: string): ConditionInput => ({ type: SolutionConditions.ManifestValid, status: 'True', reason: SolutionReasons.ManifestValid, message });

/** Only the manifest's groups are kept in status (the solutionId and version are the spec's). */
const groupsOnly = fieldsOf<SolutionManifest>('userGroupsRequired', 'adminUserGroups');

export class SolutionReconciler implements Reconciler {
  private readonly deps: ControllerDeps;
  private readonly solutions: CacheReader<Solution>;
  private readonly claims: AppClaims;

  constructor(deps: ControllerDeps) {
    this.deps = deps;
    this.solutions = deps.caches.cache(Caches.solutions);
    this.claims = new AppClaims(deps.caches);
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
      const manifest = read.manifest;
      fields = {
        manifestDigest: read.digest,
        manifestVersion: sol.spec.version,
        manifest,
        userGroups: (manifest.userGroupsRequired ?? []).map((g) => g.name),
        adminUserGroups: (manifest.adminUserGroups ?? []).map((g) => g.name),
        apps: listingsNamed(solutionRolesOf(manifest)),
      };
      condition = valid(
        `The manifest is valid (version ${sol.spec.version}, ${fields.userGroups!.length} group(s), ${fields.adminUserGroups!.length} admin group(s), digest ${read.digest.slice(0, 12)})`,
      );
    } else {
      // The last good manifest and everything derived from it stay as they are.
      fields = {
        manifestDigest: last.manifestDigest,
        manifestVersion: last.manifestVersion,
        manifest: last.manifest,
        userGroups: last.userGroups,
        adminUserGroups: last.adminUserGroups,
        apps: last.apps,
      };
      condition = { type: SolutionConditions.ManifestValid, status: 'False', reason: read.reason, message: read.message };
      stalled = read.stalled;
    }
    const checks = [{ condition, gatesReady: true, stalled }];
    // The listings its roles name that no one holds yet become its organization's (first come, for good).
    const pending = fields.manifest ? await this.claims.claimListings(this.deps.store, this.deps.operatorNamespace, sol.metadata.namespace!, solutionRolesOf(fields.manifest)) : false;
    if (fields.manifest) checks.push({ condition: this.rolesOwned(sol.metadata.namespace!, fields.manifest), gatesReady: true, stalled: false });
    const conditions = conditionsFromChecks(checks, { reason: SolutionReasons.Ready, message: 'The solution is ready: its manifest is valid and every role names a listing of its organization' });
    const wrote = !!(await writeStatus(this.deps, Kinds.Solution, sol, { fields, conditions }));
    if (wrote && read.ok && read.digest !== last.manifestDigest) {
      this.deps.recorder.event(sol, 'Normal', 'ManifestAccepted', `Accepted manifest version ${sol.spec.version} (digest ${read.digest.slice(0, 12)}); subscribed tenants are updated`);
    }
    // A claim just made, or one that raced another's (409), is not in the cache yet: look again soon.
    if (pending) return { requeueAfterMs: 2000 };
    // A ConfigMap is not watched (the operator may read ConfigMaps only in the namespaces it manages): look again.
    return sol.spec.manifestFrom ? { requeueAfterMs: MANIFEST_RECHECK_SECONDS * 1000 } : undefined;
  }

  /** Whether every role of the (last good) manifest names a listing this organization holds. */
  private rolesOwned(namespace: string, manifest: SolutionManifest): ConditionInput {
    const roles = solutionRolesOf(manifest);
    const message = this.claims.unownedMessage(this.claims.unowned(namespace, roles), "every tenant's groups");
    return message
      ? { type: SolutionConditions.RolesOwned, status: 'False', reason: OwnershipReasons.ListingNotOwned, message }
      : {
          type: SolutionConditions.RolesOwned,
          status: 'True',
          reason: OwnershipReasons.RolesOwned,
          message: `Every role names a listing this organization holds (${listingsNamed(roles).length} listing(s))`,
        };
  }

  private read(sol: Solution): Promise<ManifestRead<SolutionManifest>> {
    return readManifest(this.deps.store, {
      kind: 'solution',
      owner: { kind: 'Solution', name: sol.metadata.name!, namespace: sol.metadata.namespace! },
      ...(sol.spec.manifest ? { inline: { manifest: sol.spec.manifest, path: 'spec.manifest' } } : { from: sol.spec.manifestFrom! }),
      agree: { solutionId: sol.spec.solutionId },
      keep: groupsOnly,
      hasLastGood: !!sol.status?.manifest,
      artifactsOnly: sol.metadata.annotations?.[MANIFEST_ARTIFACT_ONLY_ANNOTATION] === 'true',
      meanwhile: { kept: 'the last good manifest stays in force (subscribed tenants keep their groups)', none: 'no tenant gets groups from it until it is fixed' },
    });
  }
}

export function solutionController(deps: ControllerDeps): ControllerSpec {
  const solutions = deps.caches.cache(Caches.solutions);
  return {
    name: 'solution',
    for: Caches.solutions,
    watches: [
      // A listing claimed, or its claim gone (its organization deleted): every solution naming it, in any namespace.
      {
        cache: Caches.idClaims,
        map: (l) => {
          const claimed = AppClaims.idOf(l as ClaimLease);
          return claimed?.kind === 'listingId' ? solutions.byIndex(Index.listingId, claimed.id).map((s) => `${s.metadata.namespace}/${s.metadata.name}`) : [];
        },
      },
      // An organization's namespace recorded or released: its solutions claim, or hold nothing.
      {
        cache: Caches.organizations,
        map: (o) => ((o as Organization).status?.namespace ? solutions.byIndex(Index.namespace, (o as Organization).status!.namespace!).map((s) => `${s.metadata.namespace}/${s.metadata.name}`) : []),
        changed: (a, b) => (a as Organization).status?.namespace !== (b as Organization).status?.namespace,
      },
    ],
    reconciler: new SolutionReconciler(deps),
  };
}
