// Seed 003's onboarding, seen from the tenant: which solutions are offered to it (a
// Solution's spec.onboarding names the tenant or its stack), recorded on its namespace for
// the admission policy that lets a Subscription name only those; the stage of each
// (Offered, UserGroupsCreated, Subscribed) in the Tenant's status.solutions; and, for a
// solution onboarded with forceCreateUserGroup, its user groups made now, before any
// subscription (the seed: "if you want to create user groups at solution onboarding").
//
// A group made at onboarding carries the label miniapps.dev/onboarded-solution (a digest
// of the solution) and the subscriptions' digest annotation, owned by the Tenant (not
// controller): a Subscription of that solution later takes it over (it counts as a
// subscription's group) and from then on it is the subscription's alone. It is made with a
// POST (never over a group someone made by hand), kept in line with the manifest while no
// subscription has it, and deleted when the offer (or forceCreateUserGroup) goes and nobody
// belongs to it.
import { createHash } from 'node:crypto';
import { API_VERSION, GROUP } from '../../api/constants.ts';
import { ONBOARDED_BY_LABEL } from '../../api/tenant/names.ts';
import { GROUP_DIGEST_ANNOTATION } from '../../api/usergroup/names.ts';
import { Kinds } from '../../api/registry.ts';
import type { Solution } from '../../api/solution/schema.ts';
import type { Subscription } from '../../api/subscription/schema.ts';
import type { Tenant, TenantStatus } from '../../api/tenant/schema.ts';
import type { User } from '../../api/user/schema.ts';
import type { UserGroup } from '../../api/usergroup/schema.ts';
import { Caches, Index, groupKey } from '../../domain/caches.ts';
import { shortHash } from '../../domain/rbac-types.ts';
import { SolutionLookups } from '../../domain/solutions.ts';
import type { DeclaredGroup } from '../../domain/solutions.ts';
import { controllerRef } from '../../runtime/apply.ts';
import type { CacheReader } from '../../runtime/cache.ts';
import { isAlreadyExists } from '../../runtime/errors.ts';
import type { ObjectBody } from '../../runtime/kube/client.ts';
import type { ControllerDeps } from '../deps.ts';
import { MANAGED_BY } from '../../runtime/objects.ts';

export type SolutionStage = NonNullable<TenantStatus['solutions']>[number];

/** The label value of a group made at onboarding for `organization/name` (a digest: names may be longer than a label). */
export const onboardedByValue = (solution: string) => shortHash(solution);

/** The offered solutions as the namespace annotation holds them: `<organization>/<name>`, sorted, space-separated. */
export const offeredAnnotation = (offered: readonly string[]) => [...new Set(offered)].sort().join(' ');

/** The UserGroup made at onboarding from a declared group: the subscriptions' shape, owned by the Tenant, labelled with the solution. */
export function onboardingGroup(namespace: string, tenant: Tenant, solution: string, group: DeclaredGroup): ObjectBody {
  const spec = {
    displayName: group.displayName,
    ...(group.description !== undefined ? { description: group.description } : {}),
    ...(group.landingPage ? { landingPage: group.landingPage } : {}),
    roles: [...group.roles.keys()].sort(),
  };
  const digest = `onboarding-${createHash('sha256').update(JSON.stringify(spec)).digest('hex')}`;
  return {
    apiVersion: API_VERSION,
    kind: 'UserGroup',
    metadata: {
      name: group.name,
      namespace,
      labels: { ...MANAGED_BY, [`${GROUP}/tenant`]: tenant.metadata.name!, [ONBOARDED_BY_LABEL]: onboardedByValue(solution) },
      annotations: { [GROUP_DIGEST_ANNOTATION]: digest },
      ownerReferences: [{ ...controllerRef({ apiVersion: API_VERSION, kind: 'Tenant', metadata: tenant.metadata }), controller: false, blockOwnerDeletion: false }],
    },
    spec,
  };
}

/** Whether a group is still onboarding's own: made at onboarding (its label) and not yet taken over by a Subscription. */
const onboardingOwns = (g: UserGroup | undefined, label?: string): g is UserGroup =>
  !!g &&
  !g.metadata.deletionTimestamp &&
  (label === undefined ? !!g.metadata.labels?.[ONBOARDED_BY_LABEL] : g.metadata.labels?.[ONBOARDED_BY_LABEL] === label) &&
  !g.metadata.ownerReferences?.some((r) => r.kind === 'Subscription');

export class Onboarding {
  private readonly deps: ControllerDeps;
  private readonly lookups: SolutionLookups;
  private readonly users: CacheReader<User>;

  constructor(deps: ControllerDeps) {
    this.deps = deps;
    this.lookups = new SolutionLookups(deps.caches);
    this.users = deps.caches.cache(Caches.users);
  }

  /** The Solutions onboarded to the tenant (by name or stack), live ones of an organization, with their `organization/name`. */
  offered(tenant: Tenant): { key: string; solution: Solution }[] {
    const keys = [`tenant:${tenant.metadata.name}`, ...(tenant.spec.stack ? [`stack:${tenant.spec.stack}`] : [])];
    const out = new Map<string, Solution>();
    for (const s of keys.flatMap((k) => this.lookups.solutions.byIndex(Index.onboarding, k))) {
      if (s.metadata.deletionTimestamp) continue;
      const org = this.deps.domain.organizationOf(s.metadata.namespace);
      if (!org || org.metadata.deletionTimestamp) continue;
      out.set(`${org.metadata.name}/${s.metadata.name}`, s);
    }
    return [...out].sort(([a], [b]) => a.localeCompare(b)).map(([key, solution]) => ({ key, solution }));
  }

  /**
   * Makes (or keeps in line) the groups of the solutions onboarded with forceCreateUserGroup
   * that the tenant has not subscribed to yet, deletes onboarding's groups nobody offers now
   * and nobody belongs to, and says each solution's stage.
   */
  async reconcile(tenant: Tenant, namespace: string, offered: { key: string; solution: Solution }[]): Promise<{ stages: SolutionStage[]; created: string[] }> {
    const subs = this.lookups.subscriptions.byIndex(Index.namespace, namespace).filter((s) => !s.metadata.deletionTimestamp);
    const subscribed = new Set(subs.map((s) => `${s.spec.solution.organization}/${s.spec.solution.name}`));
    const stages: SolutionStage[] = [];
    const created: string[] = [];
    const forcedLabels = new Set<string>();
    for (const { key, solution } of offered) {
      if (subscribed.has(key)) continue;
      if (!solution.spec.onboarding?.forceCreateUserGroup) {
        stages.push({ solution: key, stage: 'Offered' });
        continue;
      }
      const label = onboardedByValue(key);
      forcedLabels.add(label);
      const [organization, name] = key.split('/') as [string, string];
      const resolved = this.lookups.resolve({ metadata: { name: '', namespace }, spec: { solution: { organization, name } } } as Subscription);
      if (!resolved.ok) {
        // No good manifest yet (or its organization): offered, the groups come when it has one.
        stages.push({ solution: key, stage: 'Offered' });
        continue;
      }
      const groups: string[] = [];
      for (const group of resolved.groups.values()) {
        const existing = this.lookups.userGroups.getByName(group.name, namespace);
        // A group someone made, or a subscription's (of another solution): not onboarding's to write.
        if (existing && !onboardingOwns(existing, label)) continue;
        const desired = onboardingGroup(namespace, tenant, key, group);
        if (existing?.metadata.annotations?.[GROUP_DIGEST_ANNOTATION] !== desired.metadata.annotations?.[GROUP_DIGEST_ANNOTATION]) {
          if (!existing) {
            try {
              // A POST first (marked as onboarding's), so a group someone made a moment ago is never adopted.
              await this.deps.store.create(Kinds.UserGroup, { ...desired, metadata: { ...desired.metadata, annotations: { [GROUP_DIGEST_ANNOTATION]: 'creating' } }, spec: {} });
              created.push(group.name);
            } catch (err) {
              if (isAlreadyExists(err)) continue;
              throw err;
            }
          }
          await this.deps.store.apply(Kinds.UserGroup, desired);
        }
        groups.push(group.name);
      }
      stages.push({ solution: key, stage: 'UserGroupsCreated', userGroups: groups.sort() });
    }
    for (const key of [...subscribed].sort()) stages.push({ solution: key, stage: 'Subscribed' });
    // Groups onboarding made for an offer (or forceCreateUserGroup) that is gone: deleted once nobody belongs to them.
    for (const g of this.lookups.userGroups.byIndex(Index.namespace, namespace)) {
      if (!onboardingOwns(g) || forcedLabels.has(g.metadata.labels![ONBOARDED_BY_LABEL]!)) continue;
      if (this.users.byIndex(Index.group, groupKey(namespace, g.metadata.name!)).length > 0) continue;
      await this.deps.store.delete(Kinds.UserGroup, g.metadata.name!, namespace, { uid: g.metadata.uid });
    }
    stages.sort((a, b) => a.solution.localeCompare(b.solution));
    return { stages, created };
  }
}

/** The Tenants a Solution's onboarding names (by name, or by stack). */
export function tenantsOnboardedBy(solution: Solution, tenants: CacheReader<Tenant>): Tenant[] {
  const o = solution.spec.onboarding;
  if (!o) return [];
  const byName = (o.tenants ?? []).map((t) => tenants.getByName(t)).filter((t): t is Tenant => !!t);
  const stacks = new Set(o.stacks ?? []);
  const byStack = stacks.size > 0 ? tenants.list().filter((t) => !!t.spec.stack && stacks.has(t.spec.stack)) : [];
  return [...new Set([...byName, ...byStack])];
}
