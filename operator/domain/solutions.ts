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
//
// What never crosses organizations (domain/claims.ts says who owns which id): a role of a
// listing the solution's organization does not own is left out, and so is an app whose ids
// another organization claimed first; a group is the union of what one organization's
// subscriptions declare, never of two organizations' (the first to make it keeps it, the
// others report a conflict), and a group someone made by hand is never taken over.
import { AppManifestConditions } from '../api/appmanifest/names.ts';
import { GROUP_DIGEST_ANNOTATION, groupObjectName } from '../api/usergroup/names.ts';
import { SubscriptionConditions, SubscriptionReasons } from '../api/subscription/names.ts';
import { isSafeLandingPage } from '../api/constants.ts';
import type { AppManifest, AppManifestContent } from '../api/appmanifest/schema.ts';
import type { LandingPage, ManifestUserGroup, UserGroup } from '../api/usergroup/schema.ts';
import type { Organization } from '../api/organization/schema.ts';
import type { Solution, SolutionManifest } from '../api/solution/schema.ts';
import type { Subscription } from '../api/subscription/schema.ts';
import type { Tenant } from '../api/tenant/schema.ts';
import type { CacheReader, CacheSource } from '../runtime/cache.ts';
import type { ConditionInput } from '../runtime/conditions.ts';
import { Caches, Index, listingKey, listingsNamed } from './caches.ts';
import { AppClaims } from './claims.ts';

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

/**
 * The roles a token of the app may carry, as its status says (what the plugin, which reads
 * only what the person may read, answers from): none while its organization does not hold
 * its ids (IdsOwned not True), else its last good rolesRequired without the roles of
 * listings the organization does not own (status.unownedRoles). The operator's token-roles
 * API decides the same from its caches (AppClaims).
 */
export function tokenRolesRequiredOf(app: AppManifest): string[] {
  // No IdsOwned at all: the status of an operator from before ids were claimed (a plugin upgraded first), which
  // answers its rolesRequired as they are.
  const ids = app.status?.conditions?.find((c) => c.type === AppManifestConditions.IdsOwned);
  if (ids && ids.status !== 'True') return [];
  const unowned = new Set(app.status?.unownedRoles ?? []);
  return (appManifestOf(app)?.rolesRequired ?? []).filter((r) => !unowned.has(r));
}

/** Whether a subscription made the group (the operator's digest annotation is on it, or a Subscription owns it): else someone made it by hand. */
export const madeBySubscription = (g: UserGroup): boolean => !!g.metadata.annotations?.[GROUP_DIGEST_ANNOTATION] || !!g.metadata.ownerReferences?.some((r) => r.kind === 'Subscription');

/** A manifest's groups with only the roles `keep` allows and only safe landing pages (one stored before the schema refused it). */
function ownedGroups(groups: readonly ManifestUserGroup[] | undefined, keep: (role: string) => boolean): ManifestUserGroup[] | undefined {
  return groups?.map((g) => {
    const { landingPage, roles, ...rest } = g;
    return { ...rest, ...(landingPage && isSafeLandingPage(landingPage.url) ? { landingPage } : {}), ...(roles ? { roles: roles.filter(keep) } : {}) };
  });
}

/** A group of the namespace that one subscription declares but does not manage, and why. */
export interface GroupConflict {
  group: string;
  message: string;
}

/** The listingIds the roles of a manifest name. */
export function listingIdsOf(groups: readonly ManifestUserGroup[]): string[] {
  return listingsNamed(groups.flatMap((g) => g.roles ?? []));
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
  | { ok: true; organization: Organization; solution: Solution; apps: AppManifest[]; groups: Map<string, DeclaredGroup>; withheld: string[]; note?: string }
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
  readonly claims: AppClaims;

  constructor(caches: CacheSource) {
    this.claims = new AppClaims(caches);
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
    if (!organization?.status?.namespace)
      return unresolved(SubscriptionReasons.OrganizationNotFound, `Organization "${ref.organization}" does not exist (or has no namespace yet); the subscription waits for it`);
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
    // Only what the solution's organization owns: its apps that hold their ids, and roles of its own listings.
    const ns = solution.metadata.namespace!;
    const owned = (role: string) => this.claims.owns(ns, role);
    const included = this.appsOf(solution);
    const apps = included.filter((a) => !this.claims.refusal(a));
    // The groups of its apps that do not hold their ids: not declared now, but never deleted for it (kept as they are).
    const withheld = included.filter((a) => !apps.includes(a)).flatMap((a) => (appManifestOf(a)?.userGroups ?? []).map((g) => groupObjectName(g.name)));
    const groups = mergeManifests(
      solutionSource(ref.organization, ref.name),
      { userGroupsRequired: ownedGroups(manifest.userGroupsRequired, owned), adminUserGroups: ownedGroups(manifest.adminUserGroups, owned) },
      apps.map((a) => ({ source: appSource(ref.organization, a.metadata.name!), manifest: { ...appManifestOf(a)!, userGroups: ownedGroups(appManifestOf(a)!.userGroups, owned) } })),
    );
    const invalid = solution.status.conditions?.find((c) => c.type === 'ManifestValid' && c.status === 'False');
    return { ok: true, organization, solution, apps, groups, withheld, ...(invalid ? { note: `the solution's newest manifest is invalid, so its last good one stands: ${invalid.message}` } : {}) };
  }

  /**
   * The groups the resolving subscriptions of the namespace declare, each merged over the
   * subscriptions of one organization (`declaredBy`: those that manage it), and the groups
   * a subscription declares but may not manage (`conflicts`, by subscription name):
   * - a group that exists and was not made by a subscription is someone's by hand: left as
   *   it is, every subscription declaring it reports a conflict;
   * - groups are never merged across organizations: a group the subscriptions of one
   *   organization made stays theirs (its ownerReferences say whose), else the oldest
   *   declaring subscription's organization makes it; the others report a conflict.
   * Within one organization (its solutions and their apps) a group is the union of all.
   */
  declaredIn(namespace: string): { groups: Map<string, DeclaredGroup>; declaredBy: Map<string, Subscription[]>; conflicts: Map<string, GroupConflict[]> } {
    const live = this.subscriptions
      .byIndex(Index.namespace, namespace)
      .filter((s) => !s.metadata.deletionTimestamp)
      .sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || a.metadata.name.localeCompare(b.metadata.name));
    const claimants = new Map<string, { sub: Subscription; group: DeclaredGroup }[]>();
    for (const sub of live) {
      const r = this.resolve(sub);
      if (!r.ok) continue;
      for (const g of r.groups.values()) claimants.set(g.name, [...(claimants.get(g.name) ?? []), { sub, group: g }]);
    }
    const groups = new Map<string, DeclaredGroup>();
    const declaredBy = new Map<string, Subscription[]>();
    const conflicts = new Map<string, GroupConflict[]>();
    const conflict = (sub: Subscription, c: GroupConflict) => conflicts.set(sub.metadata.name, [...(conflicts.get(sub.metadata.name) ?? []), c]);
    const orgOf = (sub: Subscription) => sub.spec.solution.organization;
    for (const [name, list] of claimants) {
      const existing = this.userGroups.getByName(name, namespace);
      if (existing && !existing.metadata.deletionTimestamp && !madeBySubscription(existing)) {
        for (const { sub } of list) {
          conflict(sub, {
            group: name,
            message: `UserGroup ${name} exists and was not made by a subscription: it is left as it is (no roles added, no owner); rename the group in the manifest, or delete or rename the UserGroup for the subscription to make it`,
          });
        }
        continue;
      }
      // The organization whose subscriptions made the group keeps it: of its owners, the oldest subscription (by
      // creation, never by name: a tenant administrator chooses names; a group two organizations share from before
      // the upgrade goes to the one subscribed first). Else the oldest declaring subscription's.
      const owners = new Set((existing?.metadata.ownerReferences ?? []).map((r) => r.uid));
      const maker = live.find((s) => owners.has(s.metadata.uid ?? ''));
      const holder = maker ? orgOf(maker) : orgOf(list[0]!.sub);
      const holders = list.filter((c) => orgOf(c.sub) === holder);
      if (holders.length > 0) {
        groups.set(name, unionGroups(holders.map((c) => new Map([[name, c.group]]))).get(name)!);
        declaredBy.set(
          name,
          holders.map((c) => c.sub),
        );
      }
      const heldBy = maker ?? holders[0]?.sub ?? list[0]!.sub;
      for (const { sub } of list.filter((c) => orgOf(c.sub) !== holder)) {
        conflict(sub, {
          group: name,
          message: `UserGroup ${name} is managed by Subscription ${heldBy.metadata.name} (a solution of organization ${holder}), and groups are never merged across organizations: this subscription adds nothing to it; rename the group in the manifest of ${orgOf(sub)}/${sub.spec.solution.name}, or unsubscribe one of them`,
        });
      }
    }
    return { groups, declaredBy, conflicts };
  }

  /**
   * The admin groups of the namespace's subscribed solutions (what a tenant
   * administrator belongs to): from each solution's status (its last good manifest),
   * without merging any manifest, and only those groups that the subscription itself made
   * (it is among the group's owners): never a group someone made by hand, nor one another
   * organization's subscription holds.
   */
  adminGroupsIn(namespace: string): string[] {
    const out = new Set<string>();
    for (const sub of this.subscriptions.byIndex(Index.namespace, namespace)) {
      if (sub.metadata.deletionTimestamp) continue;
      const { solution } = this.solutionOf(sub);
      if (!solution?.status?.manifest) continue;
      if (sub.spec.version && sub.spec.version !== solution.status.manifestVersion) continue;
      for (const g of solution.status.manifest.adminUserGroups ?? []) {
        const name = groupObjectName(g.name);
        const group = this.userGroups.getByName(name, namespace);
        if (group && madeBySubscription(group) && group.metadata.ownerReferences?.some((r) => r.uid === sub.metadata.uid)) out.add(name);
      }
    }
    return [...out].sort();
  }
}

/**
 * The roles a frontend app's token carries for a user: each of the user's roles
 * `role:<listingId>:<roleName>` whose `platform:`-prefixed form the app's rolesRequired
 * lists (the seed: a user with a, b, c and d, an app requiring a and b: a and b). Sorted,
 * without duplicates; always a subset of both sides.
 */
export function tokenRoles(userRoles: readonly string[], rolesRequired: readonly string[]): string[] {
  let required = requiredSets.get(rolesRequired);
  if (!required) requiredSets.set(rolesRequired, (required = new Set(rolesRequired)));
  return [...new Set(userRoles)].filter((r) => required.has(`platform:${r}`)).sort();
}

/** An app's rolesRequired as a set, made once per list (the cached AppManifest's, asked about on every request). */
const requiredSets = new WeakMap<readonly string[], Set<string>>();
