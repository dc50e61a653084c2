// What several tenant kinds need to know about solutions: the tenant of a namespace, the
// Solution a Subscription names and the apps it includes, and the user groups a
// tenant's subscriptions declare, merged. The Subscription controller applies them, the
// UserGroup controller reports where each role comes from, the User controller finds a
// tenant administrator's admin groups. Every lookup goes through an index.
//
// How a solution's apps are found: an AppManifest belongs to a solution when it is in the
// same namespace (the solution's organization) and its listingId is one the solution's
// roles name (`role:<listingId>:<roleName>`). A partner's app in another organization
// is not included: only the owners of a solution decide what it holds.
import { SubscriptionConditions, SubscriptionReasons, groupObjectName } from '../api/constants.ts';
import type { AppManifest, AppManifestContent, LandingPage, ManifestUserGroup, Organization, Solution, SolutionManifest, Subscription, Tenant, UserGroup } from '../api/index.ts';
import type { CacheReader, CacheSource } from '../runtime/cache.ts';
import type { ConditionInput } from '../runtime/conditions.ts';
import { Caches, Index, listingKey } from './caches.ts';

/** A group as the merged manifests declare it. */
export interface DeclaredGroup {
  /** The UserGroup's name (groupObjectName of the manifest's name). */
  name: string;
  /** The name as the manifest writes it. */
  displayName: string;
  description?: string;
  landingPage?: LandingPage;
  /** Role → where it comes from (`Solution org/name`, `AppManifest org/name`). */
  roles: Map<string, Set<string>>;
  /** Named by a solution's adminUserGroups (the tenant administrators get it). */
  admin: boolean;
}

export const solutionSource = (organization: string, name: string) => `Solution ${organization}/${name}`;
export const appSource = (organization: string, name: string) => `AppManifest ${organization}/${name}`;

/**
 * An AppManifest's last good manifest (userGroups, rolesRequired), as its controller keeps
 * it in status: what every consumer reads, never the spec (whose newest manifest may be
 * broken, or in a ConfigMap). Undefined until one was valid.
 */
export function appManifestOf(app: AppManifest): AppManifestContent | undefined {
  return app.status?.manifestDigest ? app.status.manifest : undefined;
}

/** The listingIds the roles of a manifest name. */
export function listingIdsOf(groups: readonly ManifestUserGroup[]): string[] {
  const ids = new Set<string>();
  for (const g of groups) for (const r of g.roles ?? []) ids.add(r.split(':')[1]!);
  return [...ids].sort();
}

function addGroup(into: Map<string, DeclaredGroup>, g: ManifestUserGroup, source: string, admin: boolean): void {
  const name = groupObjectName(g.name);
  let d = into.get(name);
  if (!d) into.set(name, (d = { name, displayName: g.name, roles: new Map(), admin }));
  d.admin ||= admin;
  // The first manifest that sets them (the solution's, then the apps' by name) gives description and landing page.
  if (d.description === undefined && g.description !== undefined) d.description = g.description;
  if (d.landingPage === undefined && g.landingPage !== undefined) d.landingPage = { ...g.landingPage };
  for (const role of g.roles ?? []) {
    let sources = d.roles.get(role);
    if (!sources) d.roles.set(role, (sources = new Set()));
    sources.add(source);
  }
}

/**
 * The groups of a solution's manifest merged with its apps' manifests: a group named in
 * several is the union of their roles (no side removes a role another added); its
 * description and landing page are the solution's, else the first app's (by app name)
 * that has them. Groups only an app names are included too.
 */
export function mergeManifests(source: string, manifest: SolutionManifest, apps: readonly { source: string; manifest: AppManifestContent }[]): Map<string, DeclaredGroup> {
  const out = new Map<string, DeclaredGroup>();
  for (const g of manifest.userGroupsRequired ?? []) addGroup(out, g, source, false);
  for (const g of manifest.adminUserGroups ?? []) addGroup(out, g, source, true);
  for (const app of [...apps].sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0))) {
    for (const g of app.manifest.userGroups ?? []) addGroup(out, g, app.source, false);
  }
  return out;
}

/** Groups of several subscriptions merged the same way (two solutions naming one group: its roles are the union). */
export function unionGroups(maps: readonly Map<string, DeclaredGroup>[]): Map<string, DeclaredGroup> {
  const out = new Map<string, DeclaredGroup>();
  for (const m of maps) {
    for (const g of m.values()) {
      const have = out.get(g.name);
      if (!have) {
        out.set(g.name, { ...g, roles: new Map([...g.roles].map(([r, s]) => [r, new Set(s)])) });
        continue;
      }
      have.admin ||= g.admin;
      have.description ??= g.description;
      have.landingPage ??= g.landingPage;
      for (const [role, sources] of g.roles) {
        const s = have.roles.get(role) ?? new Set<string>();
        for (const x of sources) s.add(x);
        have.roles.set(role, s);
      }
    }
  }
  return out;
}

export type Resolution =
  | { ok: true; organization: Organization; solution: Solution; apps: AppManifest[]; groups: Map<string, DeclaredGroup>; note?: string }
  | { ok: false; condition: ConditionInput; stalled: boolean };

const unresolved = (reason: string, message: string, stalled = false): Resolution => ({
  ok: false,
  stalled,
  condition: { type: SubscriptionConditions.SolutionResolved, status: 'False', reason, message },
});

export class SolutionLookups {
  readonly tenants: CacheReader<Tenant>;
  readonly organizations: CacheReader<Organization>;
  readonly solutions: CacheReader<Solution>;
  readonly appManifests: CacheReader<AppManifest>;
  readonly subscriptions: CacheReader<Subscription>;
  readonly userGroups: CacheReader<UserGroup>;

  constructor(caches: CacheSource) {
    this.tenants = caches.cache(Caches.tenants);
    this.organizations = caches.cache(Caches.organizations);
    this.solutions = caches.cache(Caches.solutions);
    this.appManifests = caches.cache(Caches.appManifests);
    this.subscriptions = caches.cache(Caches.subscriptions);
    this.userGroups = caches.cache(Caches.userGroups);
  }

  /** The Tenant whose namespace this is (as recorded in its status), if any. */
  tenantOf(namespace: string | undefined): Tenant | undefined {
    return namespace ? this.tenants.byIndex(Index.namespace, namespace)[0] : undefined;
  }

  /** The Solution a Subscription names, if its organization and it exist. */
  solutionOf(sub: Subscription): { organization?: Organization; solution?: Solution } {
    const organization = this.organizations.getByName(sub.spec.solution.organization);
    const ns = organization?.status?.namespace;
    return { organization, solution: ns ? this.solutions.getByName(sub.spec.solution.name, ns) : undefined };
  }

  /**
   * The AppManifests a solution includes: in its namespace, with a listingId its last
   * good manifest's roles name, sorted by name; only those with a last good manifest in
   * status (one never valid yet contributes nothing: its ManifestValid says why).
   */
  appsOf(solution: Solution): AppManifest[] {
    return this.includedIn(solution).filter((a) => !!appManifestOf(a));
  }

  /** The AppManifests of the solution's namespace with a listingId its roles name, whatever their status, sorted by name. */
  private includedIn(solution: Solution): AppManifest[] {
    const ns = solution.metadata.namespace!;
    return (solution.status?.apps ?? [])
      .flatMap((id) => this.appManifests.byIndex(Index.listing, listingKey(ns, id)))
      .filter((a) => !a.metadata.deletionTimestamp)
      .sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : 1));
  }

  /**
   * What a Subscription resolves to: the solution (with a good manifest, of the pinned
   * version), its apps and the groups they declare merged. A solution whose newest
   * manifest is broken still resolves, to its last good one (the tenants keep their groups).
   */
  resolve(sub: Subscription): Resolution {
    const ref = sub.spec.solution;
    const { organization, solution } = this.solutionOf(sub);
    if (!organization?.status?.namespace) return unresolved(SubscriptionReasons.OrganizationNotFound, `Organization "${ref.organization}" does not exist (or has no namespace yet); the subscription waits for it`);
    if (!solution) return unresolved(SubscriptionReasons.SolutionNotFound, `Solution "${ref.name}" does not exist in organization "${ref.organization}"; the subscription waits for it`);
    const manifest = solution.status?.manifest;
    if (!manifest || !solution.status?.manifestDigest) {
      const why = solution.status?.conditions?.find((c) => c.type === 'ManifestValid' && c.status === 'False');
      return unresolved(SubscriptionReasons.SolutionNotReady, `Solution ${ref.organization}/${ref.name} has no valid manifest yet${why ? ` (${why.message})` : ''}; the subscription waits for one`);
    }
    const have = solution.status.manifestVersion;
    if (sub.spec.version && sub.spec.version !== have) {
      return unresolved(
        SubscriptionReasons.VersionMismatch,
        `The subscription pins version ${sub.spec.version}, but Solution ${ref.organization}/${ref.name} has a good manifest of version ${have ?? '(none)'}; the groups stay as they are until the versions agree (set spec.version to ${have}, or leave it empty to follow the solution)`,
      );
    }
    // An app the AppManifest controller has not looked at yet (just made, or made before its
    // status held the manifest) would drop its roles from the tenant's groups until it has:
    // the groups stay as they are meanwhile (the subscription hears of its first status).
    const unchecked = this.includedIn(solution).filter((a) => a.status?.observedGeneration === undefined);
    if (unchecked.length > 0) {
      return unresolved(
        SubscriptionReasons.AppManifestsNotChecked,
        `AppManifest(s) ${unchecked.map((a) => a.metadata.name).join(', ')} of Solution ${ref.organization}/${ref.name} not checked by the operator yet; the groups stay as they are until they are`,
      );
    }
    const apps = this.appsOf(solution);
    const groups = mergeManifests(
      solutionSource(ref.organization, ref.name),
      manifest,
      apps.map((a) => ({ source: appSource(ref.organization, a.metadata.name!), manifest: appManifestOf(a)! })),
    );
    const invalid = solution.status.conditions?.find((c) => c.type === 'ManifestValid' && c.status === 'False');
    return { ok: true, organization, solution, apps, groups, ...(invalid ? { note: `the solution's newest manifest is invalid, so its last good one stands: ${invalid.message}` } : {}) };
  }

  /** The groups every resolving subscription of the namespace declares, merged (two subscriptions naming one group: the union). */
  declaredIn(namespace: string): { groups: Map<string, DeclaredGroup>; declaredBy: Map<string, Subscription[]> } {
    const maps: Map<string, DeclaredGroup>[] = [];
    const declaredBy = new Map<string, Subscription[]>();
    for (const sub of this.subscriptions.byIndex(Index.namespace, namespace)) {
      if (sub.metadata.deletionTimestamp) continue;
      const r = this.resolve(sub);
      if (!r.ok) continue;
      maps.push(r.groups);
      for (const name of r.groups.keys()) declaredBy.set(name, [...(declaredBy.get(name) ?? []), sub]);
    }
    return { groups: unionGroups(maps), declaredBy };
  }

  /**
   * The admin groups of the namespace's subscribed solutions (what a tenant
   * administrator belongs to): from each solution's status (its last good manifest),
   * without merging any manifest.
   */
  adminGroupsIn(namespace: string): string[] {
    const out = new Set<string>();
    for (const sub of this.subscriptions.byIndex(Index.namespace, namespace)) {
      if (sub.metadata.deletionTimestamp) continue;
      const { solution } = this.solutionOf(sub);
      if (!solution?.status?.manifest) continue;
      if (sub.spec.version && sub.spec.version !== solution.status.manifestVersion) continue;
      for (const g of solution.status.manifest.adminUserGroups ?? []) out.add(groupObjectName(g.name));
    }
    return [...out].sort();
  }
}
