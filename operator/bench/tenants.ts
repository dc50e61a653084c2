// Scenario "tenants": one tenant subscribed to two solutions (G/2 groups each, inline
// manifests) and their apps' manifests (each adding a role to every group of its
// solution), then U Users spread over the G groups, from the first create until every
// User's status holds its group's roles; then one role added to one group's manifest,
// which must update exactly that group's users. The floor makes, from a plain client loop
// with the same concurrency, the writes no controller can avoid for the users: each one's
// create and one status write (computed by the same pure function).
import { OrganizationConditions, TenantConditions } from '../api/constants.ts';
import type { Organization, Subscription, Tenant, User, UserGroup } from '../api/index.ts';
import { resolveUser } from '../controllers/user/logic.ts';
import { Kinds } from '../controllers/shared.ts';
import { ObjectWriter } from '../runtime/apply.ts';
import { setConditions } from '../runtime/conditions.ts';
import type { ObjectBody } from '../runtime/kube/client.ts';
import { Resources } from '../runtime/kube/resource.ts';
import { ApiServerMetrics, requestDelta } from './apiserver.ts';
import { convergence } from './converge.ts';
import { metricSum, pool, seconds, sleep } from './measure.ts';
import { removeOperatorWebhook, startOperator } from './operator.ts';
import { PHASE_LABEL, RUN_LABEL, comparisonTable, perOrg, round, writesPerOrg } from './organizations.ts';
import type { BenchContext, Figure, Scenario, ScenarioResult } from './scenario.ts';

const ROLES_PER_GROUP = 4;

const fresh = (o: { metadata: { generation?: number }; status?: { observedGeneration?: number; conditions?: { type: string; status: string }[] } }, type = 'Ready') =>
  o.status?.observedGeneration === o.metadata.generation && o.status?.conditions?.find((c) => c.type === type)?.status === 'True';

const groupName = (g: number) => `group-${g}`;
const listing = (s: number) => `bench-app-${s}`;
/** Solution s (0 or 1) has the groups g with g % 2 === s. */
const solutionOf = (g: number) => g % 2;
/** The roles of group g: ROLES_PER_GROUP from its solution, one from its solution's app. */
const solutionRoles = (g: number) => Array.from({ length: ROLES_PER_GROUP }, (_, k) => `role:${listing(solutionOf(g))}:g${g}-r${k}`);
const appRole = (g: number) => `role:${listing(solutionOf(g))}:g${g}-app`;
const expectedRoles = (g: number) => [...solutionRoles(g), appRole(g)].sort();

const labels = (ctx: BenchContext, phase: string) => ({ [RUN_LABEL]: ctx.runId, [PHASE_LABEL]: phase });
const selector = (ctx: BenchContext, phase: string) => `${RUN_LABEL}=${ctx.runId},${PHASE_LABEL}=${phase}`;

function userBody(ctx: BenchContext, phase: string, ns: string, groups: number, i: number): ObjectBody {
  return {
    metadata: { name: `user-${i}`, namespace: ns, labels: labels(ctx, phase) },
    spec: { userCode: `U${i}`, firstName: `User${i}`, email: `user-${i}@bench.example`, groups: [groupName(i % groups)], designation: 'Field executive' },
  };
}

async function operatorPhase(ctx: BenchContext, api: ApiServerMetrics): Promise<{ seconds: number; peakRssMB: number; writes: number; change: { seconds: number; updated: number; expected: number; others: number }; figures: Figure[] }> {
  const phase = 'operator';
  const users = ctx.sizes.users!;
  const groups = ctx.sizes.groups!;
  const namespace = `miniapps-bench-${ctx.runId}`;
  const op = await startOperator(ctx, namespace);
  ctx.defer('remove the operator webhook', () => removeOperatorWebhook(ctx.client, namespace));
  const org = `t${ctx.runId}-org`;
  const tenant = `t${ctx.runId}`;
  ctx.log(`[tenants] operator ready (pid ${op.pid}); organization, two solutions, app manifests, tenant, subscriptions first (not timed)`);
  await ctx.client.create(Kinds.Organization, { metadata: { name: org, labels: labels(ctx, phase) }, spec: { displayName: 'Tenants bench' } });
  const o = await convergence<Organization>(ctx.client, Kinds.Organization, { labelSelector: selector(ctx, phase), n: 1, done: (x) => fresh(x, OrganizationConditions.Ready), timeoutMs: 60_000 }).then(() => ctx.client.get<Organization>(Kinds.Organization, org));
  const orgNs = o!.status!.namespace!;
  const manifest = (s: number, extra: (g: number) => string[] = () => []) => ({
    userGroupsRequired: Array.from({ length: groups }, (_, g) => g).filter((g) => solutionOf(g) === s).map((g) => ({ name: groupName(g), description: `Group ${g}`, landingPage: { url: `/g${g}`, rank: 1 + (g % 3) }, roles: [...solutionRoles(g), ...extra(g)] })),
  });
  for (const s of [0, 1]) {
    await ctx.client.create(Kinds.Solution, { metadata: { name: `solution-${s}`, namespace: orgNs, labels: labels(ctx, phase) }, spec: { solutionId: `bench-${s}`, version: '1', manifest: manifest(s) } });
    await ctx.client.create(Kinds.AppManifest, {
      metadata: { name: listing(s), namespace: orgNs, labels: labels(ctx, phase) },
      spec: { appId: listing(s), listingId: listing(s), userGroups: Array.from({ length: groups }, (_, g) => g).filter((g) => solutionOf(g) === s).map((g) => ({ name: groupName(g), roles: [appRole(g)] })) },
    });
  }
  await ctx.client.create(Kinds.Tenant, { metadata: { name: tenant, labels: labels(ctx, phase) }, spec: { displayName: 'Bench tenant' } });
  const ns = `tenant-${tenant}`;
  await convergence<Tenant>(ctx.client, Kinds.Tenant, { labelSelector: selector(ctx, phase), n: 1, done: (x) => fresh(x, TenantConditions.Ready), timeoutMs: 60_000 });
  for (const s of [0, 1]) await ctx.client.create(Kinds.Subscription, { metadata: { name: `solution-${s}`, namespace: ns, labels: labels(ctx, phase) }, spec: { solution: { organization: org, name: `solution-${s}` } } });
  await convergence<Subscription>(ctx.client, Kinds.Subscription, { labelSelector: selector(ctx, phase), n: 2, done: (x) => fresh(x), timeoutMs: 60_000 });
  await convergence<UserGroup>(ctx.client, Kinds.UserGroup, { labelSelector: 'app.kubernetes.io/managed-by=miniapps-operator', n: groups, done: (g) => g.metadata.namespace === ns && (g.spec.roles?.length ?? 0) === ROLES_PER_GROUP + 1, timeoutMs: 60_000 });

  const atStart = op.sample();
  const requestsBefore = await api.requestCounts();
  const reconcilesBefore = await op.metrics();
  ctx.log(`[tenants] creating ${users} users in ${groups} groups`);
  const t0 = performance.now();
  const index = (u: User) => Number(u.metadata.name!.slice('user-'.length));
  const converged = convergence<User>(ctx.client, Kinds.User, {
    labelSelector: selector(ctx, phase),
    n: users,
    done: (u) => fresh(u) && JSON.stringify(u.status?.effectiveRoles) === JSON.stringify(expectedRoles(index(u) % groups)),
    timeoutMs: Math.max(300_000, users * 60),
    progress: (d) => ctx.log(`[tenants] users converged: ${d}/${users} after ${seconds(t0).toFixed(1)}s`),
    progressMs: 5_000,
  });
  converged.catch(() => {});
  await pool(users, ctx.concurrency, (i) => ctx.client.create(Kinds.User, userBody(ctx, phase, ns, groups, i)).then(() => undefined));
  const applied = seconds(t0);
  const total = seconds(t0, await converged);
  const atConvergence = op.sample();
  const requestsAfter = await api.requestCounts();
  const metricsAtConvergence = await op.metrics();
  ctx.log(`[tenants] converged in ${total.toFixed(2)}s`);

  // One role added to group 0 (solution 0's manifest): exactly its users are written again.
  const versions = async () => new Map((await ctx.client.list<User>(Kinds.User, { namespace: ns, labelSelector: selector(ctx, phase) })).items.map((u) => [u.metadata.name!, u.metadata.resourceVersion]));
  const before = await versions();
  const added = `role:${listing(0)}:g0-added`;
  const tc = performance.now();
  await ctx.client.patch(Kinds.Solution, 'solution-0', orgNs, { spec: { manifest: manifest(0, (g) => (g === 0 ? [added] : [])) } });
  const expected = Math.ceil(users / groups);
  await convergence<User>(ctx.client, Kinds.User, { labelSelector: selector(ctx, phase), n: expected, done: (u) => !!u.status?.effectiveRoles?.includes(added), timeoutMs: 60_000 });
  const changeSeconds = seconds(tc);
  await sleep(2_000);
  const after = await versions();
  const changed = [...after].filter(([k, v]) => before.get(k) !== v).map(([k]) => Number(k.slice('user-'.length)));
  const updated = changed.filter((i) => i % groups === 0).length;
  const others = changed.length - updated;
  const metrics = await op.metrics();
  const end = op.sample();
  await op.stop();

  const delta = requestDelta(requestsBefore, requestsAfter);
  const reconciles = (c: string) => metricSum(metricsAtConvergence, 'miniapps_reconcile_total', { controller: c }) - metricSum(reconcilesBefore, 'miniapps_reconcile_total', { controller: c });
  const figures: Figure[] = [
    { label: 'first create → every user\'s roles in status', value: round(total), unit: 's' },
    { label: 'users created after', value: round(applied), unit: 's' },
    { label: 'operator CPU until converged', value: round(atConvergence.cpuSeconds - atStart.cpuSeconds), unit: 's' },
    { label: 'operator RSS before the users', value: round(atStart.rssMB, 1), unit: 'MB' },
    { label: 'operator peak RSS (VmHWM)', value: round(end.peakRssMB, 1), unit: 'MB (target < 250)' },
    ...['user', 'usergroup', 'subscription'].map((c) => ({ label: `reconciles (${c})`, value: reconciles(c) })),
    { label: 'reconcile errors', value: metricSum(metrics, 'miniapps_reconcile_errors_total') },
    { label: 'one role added to one group → its users updated', value: round(changeSeconds, 3), unit: 's' },
    { label: "that group's users written again", value: updated, unit: `(of ${expected})` },
    { label: 'other users written again', value: others, unit: '(must be 0)' },
    ...perOrg(delta, users, '/user'),
  ];
  return { seconds: total, peakRssMB: end.peakRssMB, writes: writesPerOrg(delta, users), change: { seconds: changeSeconds, updated, expected, others }, figures };
}

/** The floor: each user's create and one status write (what resolveUser gives), from a plain client loop; no operator runs. */
async function floorPhase(ctx: BenchContext, api: ApiServerMetrics): Promise<{ seconds: number; writes: number; figures: Figure[] }> {
  const phase = 'floor';
  const users = ctx.sizes.users!;
  const groups = ctx.sizes.groups!;
  const ns = `t${ctx.runId}-floor`;
  const writer = new ObjectWriter(ctx.client);
  await ctx.client.create(Resources.Namespace, { metadata: { name: ns, labels: labels(ctx, phase) } });
  const groupObjects = new Map<string, UserGroup>(
    Array.from({ length: groups }, (_, g) => [groupName(g), { apiVersion: 'miniapps.dev/v1alpha1', kind: 'UserGroup', metadata: { name: groupName(g), namespace: ns }, spec: { roles: expectedRoles(g), landingPage: { url: `/g${g}`, rank: 1 + (g % 3) } } } as UserGroup]),
  );
  const now = new Date();
  const requestsBefore = await api.requestCounts();
  const t0 = performance.now();
  await pool(users, ctx.concurrency, async (i) => {
    const u = await ctx.client.create<User>(Kinds.User, userBody(ctx, phase, ns, groups, i));
    const r = resolveUser(u.spec.groups ?? [], [], (g) => groupObjects.get(g));
    const conditions = setConditions(undefined, [{ type: 'GroupsResolved', status: 'True', reason: 'GroupsResolved', message: `1 group(s), ${r.effectiveRoles.length} role(s)` }, { type: 'Ready', status: 'True', reason: 'Ready', message: "The user's roles are resolved" }], u.metadata.generation, now);
    await writer.applyStatus(Kinds.User, u, { groups: r.groups, effectiveRoles: r.effectiveRoles, landingPage: r.landingPage, observedGeneration: u.metadata.generation, conditions });
  });
  const total = seconds(t0);
  const delta = requestDelta(requestsBefore, await api.requestCounts());
  return { seconds: total, writes: writesPerOrg(delta, users), figures: [{ label: 'creates and status writes of every user', value: round(total), unit: 's' }, ...perOrg(delta, users, '/user')] };
}

export const tenants: Scenario = {
  name: 'tenants',
  description: 'one tenant, two solutions and their apps, U users in G groups to every status converged, against the floor; then one role added to one group',
  sizes: {
    users: { default: 10_000, help: 'users of the tenant' },
    groups: { default: 50, help: 'groups (half in each of the two solutions)' },
  },
  n: (s) => s.users!,
  async run(ctx): Promise<ScenarioResult> {
    if (!ctx.disposableCluster) throw new Error('scenario tenants runs only on the control plane it starts (it does not clean up a shared cluster)');
    const api = new ApiServerMetrics(ctx.kubeconfig);
    const op = await operatorPhase(ctx, api);
    // The floor runs with no operator and no webhook registration (a dead one would slow the floor's writes).
    await removeOperatorWebhook(ctx.client, `miniapps-bench-${ctx.runId}`);
    await sleep(1000);
    ctx.log('[tenants] floor phase: the same user writes from a plain client loop, no operator');
    const floor = await floorPhase(ctx, api);
    return {
      table: comparisonTable(ctx, 'operator', op, floor),
      summary: {
        bench: 'tenants',
        n: ctx.n,
        groups: ctx.sizes.groups!,
        operatorSeconds: round(op.seconds),
        floorSeconds: round(floor.seconds),
        ratio: round(op.seconds / floor.seconds),
        peakRssMB: round(op.peakRssMB, 1),
        writesPerUser: op.writes,
        floorWritesPerUser: floor.writes,
        changeSeconds: round(op.change.seconds, 3),
        changeUsersUpdated: op.change.updated,
        changeUsersExpected: op.change.expected,
        changeOtherUsersUpdated: op.change.others,
      },
    };
  },
};
