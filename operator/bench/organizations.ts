// Scenario "organizations": N Organizations until all are Ready, with the operator, then
// the same API writes made by a plain client loop (the floor the operator cannot beat).
import { OrganizationConditions } from '../api/organization/schema.ts';
import { PlatformConfigDefaults } from '../api/platformconfig/schema.ts';
import type { Organization, OrganizationStatus } from '../api/organization/schema.ts';
import { ORGANIZATION_FINALIZER } from '../controllers/organization/controller.ts';
import { OrganizationReasons, desiredNamespace, namespaceNameFor } from '../controllers/organization/logic.ts';
import { organizationClusterAccess } from '../domain/rbac.ts';
import { Kinds } from '../api/registry.ts';
import { ObjectWriter } from '../runtime/apply.ts';
import { setConditions } from '../runtime/conditions.ts';
import type { ObjectBody } from '../runtime/kube/client.ts';
import { Resources } from '../runtime/kube/resource.ts';
import { ApiServerMetrics, requestDelta } from './apiserver.ts';
import { convergence } from './converge.ts';
import { metricSum, pool, seconds, sleep } from './measure.ts';
import type { MetricSet } from './measure.ts';
import { removeOperatorWebhook, startOperator } from './operator.ts';
import { newestProfile, summariseProfile } from './profile.ts';
import type { BenchContext, Figure, Scenario, ScenarioResult } from './scenario.ts';

export const RUN_LABEL = 'bench.miniapps.dev/run';
export const PHASE_LABEL = 'bench.miniapps.dev/phase';
const IDLE_MS = 5_000;
const CONTROLLER = 'organization';

export const isReady = (o: Organization): boolean => {
  const c = o.status?.conditions?.find((x) => x.type === OrganizationConditions.Ready);
  return c?.status === 'True' && o.status?.observedGeneration === o.metadata.generation;
};

export function orgBody(ctx: BenchContext, phase: string, i: number): ObjectBody & Organization {
  const name = `b${ctx.runId}-${phase.slice(0, 2)}-${i}`;
  return {
    apiVersion: 'miniapps.dev/v1alpha1',
    kind: 'Organization',
    metadata: { name, labels: { [RUN_LABEL]: ctx.runId, [PHASE_LABEL]: phase } },
    spec: { displayName: `Bench ${phase} ${i}` },
  };
}

const selector = (ctx: BenchContext, phase: string) => `${RUN_LABEL}=${ctx.runId},${PHASE_LABEL}=${phase}`;

export const operatorNamespace = (ctx: BenchContext) => `miniapps-bench-${ctx.runId}`;

/** On a cluster that outlives the bench: the run's Organizations (their namespaces follow by garbage collection) and the operator's namespace. */
async function deleteRun(ctx: BenchContext): Promise<void> {
  const orgs = await ctx.client.listAll<Organization>(Kinds.Organization, { labelSelector: `${RUN_LABEL}=${ctx.runId}` });
  await pool(orgs.items.length, ctx.concurrency, async (i) => {
    await ctx.client.delete(Kinds.Organization, orgs.items[i]!.metadata.name!);
  });
  await ctx.client.delete(Resources.Namespace, operatorNamespace(ctx));
}

export const round = (x: number, digits = 2) => Number(x.toFixed(digits));

const MUTATING = /^(POST|PUT|PATCH|APPLY|DELETE) /;

/** API server requests per organization ("VERB resource" → count / n), the frequent ones. */
export function perOrg(delta: [string, number][], n: number, unit = '/org'): Figure[] {
  return delta.filter(([, v]) => v / n >= 0.05).map(([k, v]) => ({ label: `API ${k}`, value: round(v / n, 2), unit }));
}

export const writesPerOrg = (delta: [string, number][], n: number) => round(delta.filter(([k]) => MUTATING.test(k)).reduce((a, [, v]) => a + v, 0) / n, 2);

interface OperatorPhase {
  seconds: number;
  writesPerOrg: number;
  createSeconds: number;
  busyCpuSeconds: number;
  idleCpuSeconds: number;
  quietCpuSeconds: number;
  peakRssMB: number;
  maxQueueDepth: number;
  metrics: MetricSet;
  figures: Figure[];
}

async function operatorPhase(ctx: BenchContext, api: ApiServerMetrics): Promise<OperatorPhase> {
  const namespace = operatorNamespace(ctx);
  const op = await startOperator(ctx, namespace);
  ctx.defer('remove the operator webhook', () => removeOperatorWebhook(ctx.client, namespace));
  const atReady = op.sample();
  const cpuAtReady = atReady.cpuSeconds;
  ctx.log(`[organizations] operator ready (pid ${op.pid}); creating ${ctx.n} Organizations, ${ctx.concurrency} in flight`);

  let maxQueueDepth = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const m = await op.metrics().catch(() => undefined);
      if (m) maxQueueDepth = Math.max(maxQueueDepth, metricSum(m, 'miniapps_workqueue_depth', { controller: CONTROLLER }));
      await sleep(500);
    }
  })();

  const requestsBefore = await api.requestCounts();
  const t0 = performance.now();
  const converged = convergence<Organization>(ctx.client, Kinds.Organization, {
    labelSelector: selector(ctx, 'operator'),
    n: ctx.n,
    done: isReady,
    timeoutMs: Math.max(120_000, ctx.n * 200),
    progress: (d) => ctx.log(`[organizations] ${d}/${ctx.n} Ready after ${seconds(t0).toFixed(1)}s`),
  });
  converged.catch(() => {}); // awaited below; a create failure must not leave it unhandled
  await pool(ctx.n, ctx.concurrency, async (i) => {
    await ctx.client.create(Kinds.Organization, orgBody(ctx, 'operator', i));
  });
  const createSeconds = seconds(t0);
  const tReady = await converged;
  const atConvergence = op.sample();
  const reconcilesAtConvergence = metricSum(await op.metrics(), 'miniapps_reconcile_total', { controller: CONTROLLER });
  sampling = false;
  await sampler;
  const total = seconds(t0, tReady);
  ctx.log(`[organizations] all ${ctx.n} Ready in ${total.toFixed(2)}s; idle for ${IDLE_MS / 1000}s`);
  const requestsAfter = await api.requestCounts();
  await sleep(IDLE_MS);
  const afterIdle = op.sample();
  await sleep(IDLE_MS);
  const afterQuiet = op.sample();
  const metrics = await op.metrics();
  await op.stop();

  const delta = requestDelta(requestsBefore, requestsAfter);
  const reconciles = metricSum(metrics, 'miniapps_reconcile_total', { controller: CONTROLLER });
  const durSum = metricSum(metrics, 'miniapps_reconcile_duration_seconds_sum', { controller: CONTROLLER });
  const durCount = metricSum(metrics, 'miniapps_reconcile_duration_seconds_count', { controller: CONTROLLER });
  const figures: Figure[] = [
    { label: 'first create → all Ready', value: round(total), unit: 's' },
    { label: 'creates done after', value: round(createSeconds), unit: 's' },
    { label: 'operator CPU until all Ready', value: round(atConvergence.cpuSeconds - cpuAtReady), unit: 's' },
    { label: `operator CPU in ${IDLE_MS / 1000}s after (idle)`, value: round(afterIdle.cpuSeconds - atConvergence.cpuSeconds, 3), unit: 's' },
    { label: `operator CPU in the next ${IDLE_MS / 1000}s`, value: round(afterQuiet.cpuSeconds - afterIdle.cpuSeconds, 3), unit: 's' },
    { label: 'operator RSS when ready (before any object)', value: round(atReady.rssMB, 1), unit: 'MB' },
    { label: 'operator peak RSS (VmHWM)', value: round(afterQuiet.peakRssMB, 1), unit: 'MB' },
    { label: 'operator RSS at the end', value: round(afterQuiet.rssMB, 1), unit: 'MB' },
    { label: 'reconciles', value: reconciles, unit: `(${round(reconciles / ctx.n)}/org)` },
    { label: 'reconciles after all were Ready', value: reconciles - reconcilesAtConvergence },
    { label: 'reconcile errors', value: metricSum(metrics, 'miniapps_reconcile_errors_total', { controller: CONTROLLER }) },
    { label: 'reconcile mean duration', value: durCount ? round((durSum / durCount) * 1000, 1) : 'n/a', unit: 'ms' },
    { label: 'work queue max depth (sampled)', value: maxQueueDepth },
    ...perOrg(delta, ctx.n),
  ];
  return {
    writesPerOrg: writesPerOrg(delta, ctx.n),
    seconds: total,
    createSeconds,
    busyCpuSeconds: atConvergence.cpuSeconds - cpuAtReady,
    idleCpuSeconds: afterIdle.cpuSeconds - atConvergence.cpuSeconds,
    quietCpuSeconds: afterQuiet.cpuSeconds - afterIdle.cpuSeconds,
    peakRssMB: afterQuiet.peakRssMB,
    maxQueueDepth,
    metrics,
    figures,
  };
}

/**
 * The writes the Organization controller makes for a new organization after the user's
 * create, in the same order and side by side where it makes them so, with the same pure
 * functions: the finalizer with the Namespace, then the status (the role table's
 * ClusterRoles are shared by all organizations, and none of its own exist while it has no
 * members). Returns the Organization as written, Ready.
 */
export async function writeAsOrganizationController(writer: ObjectWriter, created: Organization): Promise<Organization> {
  const nsName = namespaceNameFor(created, PlatformConfigDefaults.namespacePrefix.organization);
  const [org] = await Promise.all([writer.addFinalizer(Kinds.Organization, created, ORGANIZATION_FINALIZER), writer.create(Resources.Namespace, desiredNamespace(created, nsName, true))]);
  const cluster = organizationClusterAccess(org, [], { userPrefix: '' });
  await Promise.all([...cluster.clusterRoles.map((r) => writer.apply(Resources.ClusterRole, r)), ...cluster.clusterRoleBindings.map((b) => writer.apply(Resources.ClusterRoleBinding, b))]);
  const gen = org.metadata.generation;
  const status: OrganizationStatus = {
    namespace: nsName,
    members: { active: 0, invited: 0, suspended: 0, administrators: 0 },
    observedGeneration: gen,
    conditions: setConditions(
      undefined,
      [
        { type: OrganizationConditions.NamespaceReady, status: 'True', reason: OrganizationReasons.NamespaceCreated, message: `Namespace ${nsName} is in place` },
        {
          type: OrganizationConditions.RBACReady,
          status: 'True',
          reason: 'RBACApplied',
          message: `The role table's ClusterRoles are in place, ClusterRoleBindings let 0 active member(s) read the Organization (0 administrator(s) change it), and the role of each whose Membership says AccessGranted is bound in ${nsName}`,
        },
        { type: 'CapabilitiesRespected', status: 'True', reason: 'CapabilitiesRespected', message: 'Every app in the namespace is allowed by spec.capabilities' },
        { type: OrganizationConditions.Ready, status: 'True', reason: OrganizationReasons.Ready, message: 'The organization is ready' },
      ],
      gen,
      new Date(),
    ),
  };
  return (await writer.applyStatus<Organization>(Kinds.Organization, org, status)) ?? org;
}

/** The user's create, then the controller's writes (writeAsOrganizationController) for each organization. */
async function floorPhase(ctx: BenchContext, api: ApiServerMetrics): Promise<{ seconds: number; writesPerOrg: number; figures: Figure[] }> {
  const writer = new ObjectWriter(ctx.client);
  const requestsBefore = await api.requestCounts();
  const t0 = performance.now();
  await pool(ctx.n, ctx.concurrency, async (i) => {
    await writeAsOrganizationController(writer, await ctx.client.create<Organization>(Kinds.Organization, orgBody(ctx, 'floor', i)));
  });
  const total = seconds(t0);
  const delta = requestDelta(requestsBefore, await api.requestCounts());
  return {
    seconds: total,
    writesPerOrg: writesPerOrg(delta, ctx.n),
    figures: [{ label: 'first create → all written', value: round(total), unit: 's' }, ...perOrg(delta, ctx.n)],
  };
}

/** With --cpu-prof: the operator's CPU profile summarised, as a table section. */
/** The table of a scenario measured against its floor: the two phases, the ratio, the CPU profile if one was taken. */
export function comparisonTable(ctx: BenchContext, operatorPhase: string, op: { seconds: number; figures: Figure[] }, floor: { seconds: number; figures: Figure[] }): ScenarioResult['table'] {
  return [
    { phase: operatorPhase, figures: op.figures },
    { phase: 'floor (plain client, no operator)', figures: floor.figures },
    { phase: 'result', figures: [{ label: 'ratio operator / floor', value: round(op.seconds / floor.seconds), unit: '(target ≤ 1.5)' }] },
    ...profileSection(ctx),
  ];
}

export function profileSection(ctx: BenchContext): ScenarioResult['table'] {
  const file = ctx.cpuProfDir && newestProfile(ctx.cpuProfDir);
  if (!file) return [];
  const p = summariseProfile(file, 12);
  return [
    {
      phase: `operator CPU profile (${file})`,
      figures: [...p.byArea.map((a) => ({ label: a.area, value: round(a.ms, 0), unit: 'ms' })), ...p.topFunctions.map((f) => ({ label: f.name, value: round(f.ms, 0), unit: 'ms self' }))],
    },
  ];
}

export const organizations: Scenario = {
  name: 'organizations',
  description: 'N Organizations until all are Ready (namespace + status), with the operator, against the same writes from a plain client loop',
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const api = new ApiServerMetrics(ctx.kubeconfig);
    if (!ctx.disposableCluster) ctx.defer('delete the bench Organizations', () => deleteRun(ctx));
    const op = await operatorPhase(ctx, api);
    await removeOperatorWebhook(ctx.client, operatorNamespace(ctx));
    await sleep(1000); // the API server drops the webhook from its configuration asynchronously
    ctx.log('[organizations] floor phase: the same writes from a plain client loop, no operator');
    const floor = await floorPhase(ctx, api);
    const ratio = op.seconds / floor.seconds;
    const table = comparisonTable(ctx, `operator (N=${ctx.n}, concurrency ${ctx.concurrency})`, op, floor);
    return {
      table,
      summary: {
        bench: 'organizations',
        n: ctx.n,
        concurrency: ctx.concurrency,
        seconds: round(op.seconds, 3),
        floorSeconds: round(floor.seconds, 3),
        ratio: round(ratio, 3),
        peakRssMB: round(op.peakRssMB, 1),
        idleCpuSeconds: round(op.idleCpuSeconds, 3),
        busyCpuSeconds: round(op.busyCpuSeconds, 3),
        createSeconds: round(op.createSeconds, 3),
        maxQueueDepth: op.maxQueueDepth,
        writesPerOrg: op.writesPerOrg,
        floorWritesPerOrg: floor.writesPerOrg,
      },
    };
  },
};
