// AppManifest: reads its manifest (userGroups and rolesRequired inline, or the YAML in a
// ConfigMap key: the seed's "uploaded artifact", with appId and listingId equal to the
// spec's), validates it against the published JSON Schema (inline: the API server did;
// here what JSON Schema cannot say, a group named twice), and keeps the last good one in
// status (status.manifest, manifestDigest): what the Subscriptions of every solution that
// includes the app (by listingId) merge, and what its tokens' roles are cut to. A broken
// new manifest never replaces it: ManifestValid turns False with file, line, column and
// field, a Warning event says the same, and the tenants keep their groups.
//
// Ids and roles are one organization's (domain/claims.ts): the reconciler claims the app's
// appId and listingId for its organization (first come, for as long as the organization
// exists); IdsOwned False (AppIdClaimed, ListingIdClaimed, NotInOrganization) when its
// organization does not hold them, and then the app is used nowhere; RolesOwned False
// naming the roles of listings its organization does not hold (status.unownedRoles), which
// are left out of groups and tokens.
import { MANIFEST_ARTIFACT_ONLY_ANNOTATION, MANIFEST_RECHECK_SECONDS, OwnershipReasons } from '../../api/constants.ts';
import { AppManifestConditions } from '../../api/appmanifest/names.ts';
import { SolutionReasons } from '../../api/solution/names.ts';
import type { AppManifest, AppManifestContent, AppManifestStatus } from '../../api/appmanifest/schema.ts';
import type { Organization } from '../../api/organization/schema.ts';
import { Caches, Index, appRolesOf } from '../../domain/caches.ts';
import type { ClaimLease } from '../../domain/caches.ts';
import { AppClaims } from '../../domain/claims.ts';
import type { Check, ConditionInput } from '../../runtime/conditions.ts';
import type { CacheReader } from '../../runtime/cache.ts';
import { conditionsFromChecks } from '../../runtime/conditions.ts';
import type { ControllerSpec, ReconcileResult, Reconciler } from '../../runtime/controller.ts';
import type { ControllerDeps } from '../deps.ts';
import { fieldsOf, readManifest } from '../../domain/manifest-source.ts';
import { Kinds } from '../../api/registry.ts';
import { writeStatus } from '../../runtime/status.ts';

/** What of an app manifest is kept in status (appId and listingId are the spec's). */
const contentOnly = fieldsOf<AppManifestContent>('userGroups', 'rolesRequired');

export class AppManifestReconciler implements Reconciler {
  private readonly deps: ControllerDeps;
  private readonly manifests: CacheReader<AppManifest>;
  private readonly claims: AppClaims;

  constructor(deps: ControllerDeps) {
    this.deps = deps;
    this.manifests = deps.caches.cache(Caches.appManifests);
    this.claims = new AppClaims(deps.caches);
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
      artifactsOnly: app.metadata.annotations?.[MANIFEST_ARTIFACT_ONLY_ANNOTATION] === 'true',
      meanwhile: {
        kept: "the last good manifest stays in force (subscribed tenants keep the app's groups, its tokens their roles)",
        none: 'solutions that include the app leave it out (no groups, no token roles) until it is fixed',
      },
    });
    let fields: Partial<AppManifestStatus>;
    let condition: ConditionInput;
    if (read.ok) {
      fields = { manifest: read.manifest, manifestDigest: read.digest };
      condition = {
        type: AppManifestConditions.ManifestValid,
        status: 'True',
        reason: SolutionReasons.ManifestValid,
        message: `The manifest is valid (${read.manifest.userGroups?.length ?? 0} group(s), ${read.manifest.rolesRequired?.length ?? 0} role(s) required, digest ${read.digest.slice(0, 12)})`,
      };
    } else {
      // The last good manifest stays as it is.
      fields = { manifest: last.manifest, manifestDigest: last.manifestDigest };
      condition = { type: AppManifestConditions.ManifestValid, status: 'False', reason: read.reason, message: read.message };
    }
    const ns = app.metadata.namespace!;
    const { refusal: refused, pending, unsure } = await this.claims.claimIds(this.deps.store, this.deps.operatorNamespace, app);
    const checks: Check[] = [
      {
        gatesReady: true,
        stalled: !!refused,
        condition: refused
          ? { type: AppManifestConditions.IdsOwned, status: 'False', ...refused }
          : unsure
            ? {
                type: AppManifestConditions.IdsOwned,
                status: 'Unknown',
                reason: OwnershipReasons.ClaimPending,
                message: `appId "${app.spec.appId}" or listingId "${app.spec.listingId}" is being claimed by another organization (at the same moment, or by its older AppManifest); whose it is is looked at again in a moment`,
              }
            : {
                type: AppManifestConditions.IdsOwned,
                status: 'True',
                reason: OwnershipReasons.IdsOwned,
                message:
                  app.spec.listingId !== undefined
                    ? `This organization holds appId "${app.spec.appId}" and listingId "${app.spec.listingId}"`
                    : `This organization holds appId "${app.spec.appId}" (the app has no listingId: it is a frontend app of no solution's groups)`,
              },
      },
      { condition, gatesReady: true, stalled: !read.ok && read.stalled },
    ];
    const unowned = this.claims.unowned(ns, appRolesOf(fields.manifest));
    fields.unownedRoles = unowned.length > 0 ? unowned : undefined;
    if (fields.manifest) {
      const message = this.claims.unownedMessage(unowned, "every tenant's groups and every token");
      checks.push({
        gatesReady: true,
        condition: message
          ? { type: AppManifestConditions.RolesOwned, status: 'False', reason: OwnershipReasons.ListingNotOwned, message }
          : { type: AppManifestConditions.RolesOwned, status: 'True', reason: OwnershipReasons.RolesOwned, message: 'Every role names a listing this organization owns' },
      });
    }
    const conditions = conditionsFromChecks(checks, { reason: 'Ready', message: "The app manifest is ready: its manifest is valid, its ids and the listings of its roles are its organization's" });
    const wrote = !!(await writeStatus(this.deps, Kinds.AppManifest, app, { fields, conditions }));
    if (wrote && read.ok && read.digest !== last.manifestDigest) {
      this.deps.recorder.event(app, 'Normal', 'ManifestAccepted', `Accepted the app manifest (digest ${read.digest.slice(0, 12)}); the tenants of the solutions that include it are updated`);
    }
    // A claim just made, or one that raced another's (409), is not in the cache yet: look again soon.
    if (pending) return { requeueAfterMs: 2000 };
    // A ConfigMap is not watched (the operator may read ConfigMaps only in the namespaces it manages): look again.
    return app.spec.manifestFrom ? { requeueAfterMs: MANIFEST_RECHECK_SECONDS * 1000 } : undefined;
  }
}

export function appManifestController(deps: ControllerDeps): ControllerSpec {
  const manifests = deps.caches.cache(Caches.appManifests);
  const keyOf = (a: AppManifest) => `${a.metadata.namespace}/${a.metadata.name}`;
  return {
    name: 'appmanifest',
    for: Caches.appManifests,
    watches: [
      // A claim made or gone (its organization deleted): the apps naming that id, as their own or in their roles.
      {
        cache: Caches.idClaims,
        map: (l) => {
          const claimed = AppClaims.idOf(l as ClaimLease);
          if (!claimed) return [];
          const own = manifests.byIndex(claimed.kind === 'appId' ? Index.appId : Index.listingId, claimed.id);
          return [...own, ...(claimed.kind === 'listingId' ? manifests.byIndex(Index.namedListing, claimed.id) : [])].map(keyOf);
        },
      },
      // An organization's namespace recorded or released: its apps claim, or hold nothing.
      {
        cache: Caches.organizations,
        map: (o) => ((o as Organization).status?.namespace ? manifests.byIndex(Index.namespace, (o as Organization).status!.namespace!).map(keyOf) : []),
        changed: (a, b) => (a as Organization).status?.namespace !== (b as Organization).status?.namespace,
      },
    ],
    reconciler: new AppManifestReconciler(deps),
  };
}
