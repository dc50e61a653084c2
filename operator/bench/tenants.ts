// Scenario "tenants": one tenant subscribed to two solutions (G/2 groups each, inline
// manifests) and their apps' manifests (each adding a role to every group of its
// solution), then U Users spread over the G groups, from the first create until every
// User's status holds its group's roles; then one role added to one group's manifest,
// which must update exactly that group's users. The floor makes, from a plain client loop
// with the same concurrency, the writes no controller can avoid for the users: each one's
// create and one status write (computed by the same pure function).
import { GROUP } from '../api/constants.ts';
import { OrganizationConditions } from '../api/organization/names.ts';
import { TenantConditions } from '../api/tenant/names.ts';
import type { Organization } from '../api/organization/schema.ts';
import type { Subscription } from '../api/subscription/schema.ts';
import type { Tenant } from '../api/tenant/schema.ts';
import type { User } from '../api/user/schema.ts';
import type { UserGroup } from '../api/usergroup/schema.ts';
import { resolveUser } from '../controllers/user/logic.ts';
import { Kinds } from '../api/registry.ts';
import { ObjectWriter } from '../runtime/apply.ts';
import { setConditions } from '../runtime/conditions.ts';
import type { ObjectBody } from '../runtime/kube/client.ts';
import { Resources } from '../runtime/kube/resource.ts';
import { ApiServerMetrics, requestDelta } from './apiserver.ts';
import { convergence } from './converge.ts';
import { metricSum, percentile, pool, seconds, sleep } from './measure.ts';
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

async function operatorPhase(
  ctx: BenchContext,
  api: ApiServerMetrics,
): Promise<{ seconds: number; peakRssMB: number; writes: number; change: { seconds: number; updated: number; expected: number; others: number }; figures: Figure[] }> {
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
  const o = await convergence<Organization>(ctx.client, Kinds.Organization, { labelSelector: selector(ctx, phase), n: 1, done: (x) => fresh(x, OrganizationConditions.Ready), timeoutMs: 60_000 }).then(
    () => ctx.client.get<Organization>(Kinds.Organization, org),
  );
  const orgNs = o!.status!.namespace!;
  const manifest = (s: number, extra: (g: number) => string[] = () => []) => ({
    userGroupsRequired: Array.from({ length: groups }, (_, g) => g)
      .filter((g) => solutionOf(g) === s)
      .map((g) => ({ name: groupName(g), description: `Group ${g}`, landingPage: { url: `/g${g}`, rank: 1 + (g % 3) }, roles: [...solutionRoles(g), ...extra(g)] })),
  });
  for (const s of [0, 1]) {
    await ctx.client.create(Kinds.Solution, {
      metadata: { name: `solution-${s}`, namespace: orgNs, labels: labels(ctx, phase) },
      spec: { solutionId: `bench-${s}`, version: '1', manifest: manifest(s) },
    });
    await ctx.client.create(Kinds.AppManifest, {
      metadata: { name: listing(s), namespace: orgNs, labels: labels(ctx, phase) },
      spec: {
        appId: listing(s),
        listingId: listing(s),
        userGroups: Array.from({ length: groups }, (_, g) => g)
          .filter((g) => solutionOf(g) === s)
          .map((g) => ({ name: groupName(g), roles: [appRole(g)] })),
      },
    });
  }
  await ctx.client.create(Kinds.Tenant, { metadata: { name: tenant, labels: labels(ctx, phase) }, spec: { displayName: 'Bench tenant' } });
  const ns = `tenant-${tenant}`;
  await convergence<Tenant>(ctx.client, Kinds.Tenant, { labelSelector: selector(ctx, phase), n: 1, done: (x) => fresh(x, TenantConditions.Ready), timeoutMs: 60_000 });
  for (const s of [0, 1])
    await ctx.client.create(Kinds.Subscription, { metadata: { name: `solution-${s}`, namespace: ns, labels: labels(ctx, phase) }, spec: { solution: { organization: org, name: `solution-${s}` } } });
  await convergence<Subscription>(ctx.client, Kinds.Subscription, { labelSelector: selector(ctx, phase), n: 2, done: (x) => fresh(x), timeoutMs: 60_000 });
  await convergence<UserGroup>(ctx.client, Kinds.UserGroup, {
    labelSelector: 'app.kubernetes.io/managed-by=miniapps-operator',
    n: groups,
    done: (g) => g.metadata.namespace === ns && (g.spec.roles?.length ?? 0) === ROLES_PER_GROUP + 1,
    timeoutMs: 60_000,
  });

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
  const versions = async () =>
    new Map((await ctx.client.list<User>(Kinds.User, { namespace: ns, labelSelector: selector(ctx, phase) })).items.map((u) => [u.metadata.name!, u.metadata.resourceVersion]));
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
    { label: "first create → every user's roles in status", value: round(total), unit: 's' },
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
  // Labelled as a tenant's namespace: the API server creates Users only in one (admission policy miniapps.dev-tenant-namespace).
  await ctx.client.create(Resources.Namespace, { metadata: { name: ns, labels: { ...labels(ctx, phase), [`${GROUP}/tenant`]: ns } } });
  const groupObjects = new Map<string, UserGroup>(
    Array.from({ length: groups }, (_, g) => [
      groupName(g),
      {
        apiVersion: 'miniapps.dev/v1alpha1',
        kind: 'UserGroup',
        metadata: { name: groupName(g), namespace: ns },
        spec: { roles: expectedRoles(g), landingPage: { url: `/g${g}`, rank: 1 + (g % 3) } },
      } as UserGroup,
    ]),
  );
  const now = new Date();
  const requestsBefore = await api.requestCounts();
  const t0 = performance.now();
  await pool(users, ctx.concurrency, async (i) => {
    const u = await ctx.client.create<User>(Kinds.User, userBody(ctx, phase, ns, groups, i));
    const r = resolveUser(u.spec.groups ?? [], [], (g) => groupObjects.get(g));
    const conditions = setConditions(
      undefined,
      [
        { type: 'GroupsResolved', status: 'True', reason: 'GroupsResolved', message: `1 group(s), ${r.effectiveRoles.length} role(s)` },
        { type: 'Ready', status: 'True', reason: 'Ready', message: "The user's roles are resolved" },
      ],
      u.metadata.generation,
      now,
    );
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

/**
 * `connections` TLS keep-alive connections to the operator's TLS listener, each sending
 * POST /tokenroles/v1/roles one after the other for `durationMs`, about users picked at
 * random. Returns the count, the answers other than 200 with roles, and the latencies.
 */
async function tokenRolesLoad(
  port: number,
  ca: string,
  callerToken: string,
  bodies: string[],
  connections: number,
  durationMs: number,
): Promise<{ count: number; bad: number; errors: number; latencies: Float64Array }> {
  const { connect } = await import('node:tls');
  const requests = bodies.map((b) =>
    Buffer.from(
      `POST /tokenroles/v1/roles HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${callerToken}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(b)}\r\n\r\n${b}`,
    ),
  );
  let latencies = new Float64Array(1 << 20);
  let count = 0;
  let bad = 0;
  let errors = 0;
  const end = performance.now() + durationMs;
  const connection = () =>
    new Promise<void>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port, ca, servername: 'localhost' });
      socket.setNoDelay(true);
      let buffered: Buffer = Buffer.alloc(0);
      let sentAt = 0;
      const send = () => {
        if (performance.now() >= end) return void socket.end(resolve);
        sentAt = performance.now();
        socket.write(requests[Math.floor(Math.random() * requests.length)]!);
      };
      socket.on('secureConnect', send);
      socket.on('data', (chunk: Buffer) => {
        buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
        for (;;) {
          const head = buffered.indexOf('\r\n\r\n');
          if (head < 0) return;
          const length = Number(/content-length: (\d+)/i.exec(buffered.subarray(0, head).toString('latin1'))?.[1] ?? 0);
          if (buffered.length < head + 4 + length) return;
          const ok = buffered.subarray(9, 12).toString() === '200' && buffered.subarray(head + 4, head + 4 + length).includes('"roles":["role:');
          buffered = buffered.subarray(head + 4 + length);
          if (count === latencies.length) {
            const bigger = new Float64Array(latencies.length * 2);
            bigger.set(latencies);
            latencies = bigger;
          }
          latencies[count++] = performance.now() - sentAt;
          if (!ok) bad++;
          send();
        }
      });
      socket.on('error', () => {
        errors++;
        resolve();
      });
    });
  await Promise.all(Array.from({ length: connections }, connection));
  return { count, bad, errors, latencies: latencies.slice(0, count).sort() };
}

/** Scenario "tokenroles": the tenant of the tenants scenario, then the token-roles API under load from one gateway. */
export const tokenRolesScenario: Scenario = {
  name: 'tokenroles',
  description: 'U users of one tenant, then POST /tokenroles/v1/roles over TLS keep-alive on loopback by one gateway ServiceAccount: answers a second and latency percentiles',
  sizes: {
    users: { default: 1_000, help: 'users to ask about' },
    groups: { default: 50, help: 'groups (half in each of the two solutions)' },
    connections: { default: 16, help: 'keep-alive connections sending at once' },
    seconds: { default: 10, help: 'how long the load runs' },
  },
  n: (s) => s.users!,
  async run(ctx): Promise<ScenarioResult> {
    if (!ctx.disposableCluster) throw new Error('scenario tokenroles runs only on the control plane it starts');
    const users = ctx.sizes.users!;
    const groups = ctx.sizes.groups!;
    const namespace = `miniapps-bench-${ctx.runId}`;
    const op = await startOperator(ctx, namespace);
    ctx.defer('remove the operator webhook', () => removeOperatorWebhook(ctx.client, namespace));
    const phase = 'operator';
    const org = `t${ctx.runId}-org`;
    const tenant = `t${ctx.runId}`;
    await ctx.client.create(Kinds.Organization, { metadata: { name: org, labels: labels(ctx, phase) }, spec: { displayName: 'Token roles bench' } });
    await convergence<Organization>(ctx.client, Kinds.Organization, { labelSelector: selector(ctx, phase), n: 1, done: (x) => fresh(x, OrganizationConditions.Ready), timeoutMs: 60_000 });
    const orgNs = (await ctx.client.get<Organization>(Kinds.Organization, org))!.status!.namespace!;
    const all = Array.from({ length: groups }, (_, g) => g);
    await ctx.client.create(Kinds.Solution, {
      metadata: { name: 'solution', namespace: orgNs },
      spec: { solutionId: 'bench', version: '1', manifest: { userGroupsRequired: all.map((g) => ({ name: groupName(g), roles: solutionRoles(g) })) } },
    });
    // The frontend requires half of each group's roles.
    const required = [
      ...new Set(
        all.flatMap((g) =>
          solutionRoles(g)
            .slice(0, 2)
            .map((r) => `platform:${r}`),
        ),
      ),
    ];
    await ctx.client.create(Kinds.AppManifest, {
      metadata: { name: 'frontend', namespace: orgNs },
      spec: { appId: 'frontend', listingId: listing(0), rolesRequired: required.filter((r) => r.includes(listing(0))) },
    });
    await ctx.client.create(Kinds.Tenant, { metadata: { name: tenant, labels: labels(ctx, phase) }, spec: { displayName: 'Bench tenant' } });
    await convergence<Tenant>(ctx.client, Kinds.Tenant, { labelSelector: selector(ctx, phase), n: 1, done: (x) => fresh(x, TenantConditions.Ready), timeoutMs: 60_000 });
    const ns = `tenant-${tenant}`;
    await ctx.client.create(Kinds.Subscription, { metadata: { name: 'solution', namespace: ns, labels: labels(ctx, phase) }, spec: { solution: { organization: org, name: 'solution' } } });
    await convergence<Subscription>(ctx.client, Kinds.Subscription, { labelSelector: selector(ctx, phase), n: 1, done: (x) => fresh(x), timeoutMs: 60_000 });
    // Users only in solution 0's groups (the frontend's listing), so that every answer has roles.
    await pool(users, ctx.concurrency, (i) => ctx.client.create(Kinds.User, userBody(ctx, phase, ns, groups, i * 2)).then(() => undefined));
    await convergence<User>(ctx.client, Kinds.User, { labelSelector: selector(ctx, phase), n: users, done: (u) => fresh(u), timeoutMs: 300_000 });
    await ctx.client.create(Resources.ServiceAccount, { metadata: { name: 'gateway', namespace: ns } });
    await ctx.client.create(Resources.RoleBinding, {
      metadata: { name: 'gateway', namespace: ns },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'miniapps:tenant-administrator' },
      subjects: [{ kind: 'ServiceAccount', name: 'gateway', namespace: ns }],
    });
    const token = (
      await ctx.client.request<{ status: { token: string } }>('POST', `/api/v1/namespaces/${ns}/serviceaccounts/gateway/token`, {
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
      })
    ).status.token;
    const reg = await ctx.client.get<{ metadata: object; webhooks?: { clientConfig: { caBundle: string } }[] }>(Resources.ValidatingWebhookConfiguration, `miniapps-operator-${namespace}`);
    const ca = Buffer.from(reg!.webhooks![0]!.clientConfig.caBundle, 'base64').toString();
    const port = op.process.apiPort;
    const bodies = Array.from({ length: users }, (_, i) => JSON.stringify({ namespace: ns, user: `user-${i * 2}`, app: { organization: org, name: 'frontend' } }));
    ctx.log(`[tokenroles] ${users} users Ready; warming up on 127.0.0.1:${port}`);
    // Warm up: every user's authorization decision (reused 10 s) and the JIT.
    for (let tries = 0; tries < 50 && (await tokenRolesLoad(port, ca, token, bodies.slice(0, 1), 1, 1)).bad > 0; tries++) await sleep(200);
    await tokenRolesLoad(port, ca, token, bodies, ctx.sizes.connections!, 2_000);
    const before = op.sample();
    const durationMs = ctx.sizes.seconds! * 1000;
    ctx.log(`[tokenroles] ${ctx.sizes.connections} connections for ${ctx.sizes.seconds}s`);
    const r = await tokenRolesLoad(port, ca, token, bodies, ctx.sizes.connections!, durationMs);
    const after = op.sample();
    await op.stop();
    const perSecond = r.count / (durationMs / 1000);
    const [p50, p99, p999] = [50, 99, 99.9].map((p) => percentile(r.latencies, p)) as [number, number, number];
    const cpu = after.cpuSeconds - before.cpuSeconds;
    return {
      table: [
        {
          phase: `token roles over TLS keep-alive (${ctx.sizes.connections} connections, ${ctx.sizes.seconds}s, ${users} users)`,
          figures: [
            { label: 'answers', value: r.count },
            { label: 'answers a second', value: round(perSecond, 0), unit: '(target ≥ 10,000)' },
            { label: 'latency p50', value: round(p50, 2), unit: 'ms' },
            { label: 'latency p99', value: round(p99, 2), unit: 'ms (target < 5)' },
            { label: 'latency p99.9', value: round(p999, 2), unit: 'ms' },
            { label: 'answers not 200 with roles', value: r.bad },
            { label: 'connection errors', value: r.errors },
            { label: 'operator CPU during the load', value: round(cpu, 2), unit: `s (${round((cpu / (durationMs / 1000)) * 100, 0)}% of a core)` },
            { label: 'operator peak RSS (VmHWM)', value: round(after.peakRssMB, 1), unit: 'MB' },
          ],
        },
      ],
      summary: {
        bench: 'tokenroles',
        n: users,
        connections: ctx.sizes.connections!,
        seconds: ctx.sizes.seconds!,
        answers: r.count,
        perSecond: round(perSecond, 0),
        p50Ms: round(p50, 3),
        p99Ms: round(p99, 3),
        p999Ms: round(p999, 3),
        bad: r.bad,
        errors: r.errors,
        operatorCpuSeconds: round(cpu, 2),
        peakRssMB: round(after.peakRssMB, 1),
      },
    };
  },
};
