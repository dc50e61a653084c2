// Scenario "scale": what the operator costs per object, and whether that cost stays flat.
//
//   1. Organizations: the operator starts (idle RSS, before any object); a tenth of the
//      organizations are created and converge (RSS once settled), then the rest (RSS once
//      settled, peak RSS). Then the operator stops and the floor makes the same writes
//      from a plain client loop.
//   2. Memberships: a new operator process starts on all those organizations (the restart:
//      its relist and its reconcile of every one, which must write nothing), then
//      member-orgs organizations get members Memberships each (acceptance Automatic, one
//      email each to a loopback SMTP server), and their floor, as in the memberships
//      scenario.
//
// Reconciles and writes per object come from the operator's own /metrics
// (miniapps_reconcile_total, miniapps_reconcile_triggers_total, miniapps_kube_requests_total),
// API requests per object from the API server's.
import { Kinds } from '../api/registry.ts';
import type { Membership } from '../api/membership/schema.ts';
import type { Organization } from '../api/organization/schema.ts';
import { ObjectWriter } from '../runtime/apply.ts';
import { TestSmtpServer } from '../testenv/smtp.ts';
import { ApiServerMetrics, requestDelta } from './apiserver.ts';
import { convergence } from './converge.ts';
import { metricSum, pool, seconds, sleep } from './measure.ts';
import type { MetricSet, ProcessSample } from './measure.ts';
import { deleteRun, isActive, memberBody, membershipsFloorPhase, membershipsOperatorPhase } from './memberships.ts';
import { removeOperatorWebhook, startOperator } from './operator.ts';
import type { BenchOperator } from './operator.ts';
import { PHASE_LABEL, RUN_LABEL, isReady, operatorNamespace, orgBody, profileSection, round, writeAsOrganizationController, writesPerOrg } from './organizations.ts';
import type { BenchContext, Figure, Scenario, ScenarioResult } from './scenario.ts';

/** Long enough for V8's memory reducer to make its full collection after a burst (it waits about 8 s). */
const SETTLE_MS = 12_000;
const TRACE_GC = ['--trace-gc'];
const MUTATING_VERBS = ['POST', 'PUT', 'PATCH', 'DELETE']; // miniapps_kube_requests_total's verb is the HTTP method
const TARGETS = { idleRssMB: 80, orgsRssMB: 300, ratio: 1.5 } as const;

const selector = (ctx: BenchContext, phase: string) => `${RUN_LABEL}=${ctx.runId},${PHASE_LABEL}=${phase}`;
const kb = (mb: number, n: number) => round((mb * 1024) / n, 1);

/** What the operator's /metrics counted between two scrapes. */
function counted(before: MetricSet, after: MetricSet) {
  const delta = (name: string, labels: Record<string, string> = {}) => metricSum(after, name, labels) - metricSum(before, name, labels);
  const writes = MUTATING_VERBS.reduce((sum, verb) => sum + delta('miniapps_kube_requests_total', { verb }), 0);
  const triggers = (controller: string) => {
    const out = new Map<string, number>();
    for (const s of after.get('miniapps_reconcile_triggers_total') ?? []) {
      if (s.labels.controller !== controller) continue;
      const d = s.value - metricSum(before, 'miniapps_reconcile_triggers_total', s.labels);
      if (d > 0) out.set(s.labels.trigger!, d);
    }
    return [...out].sort((a, b) => b[1] - a[1]);
  };
  return { delta, writes, triggers };
}

/** Per-object reconcile and write figures of a phase, and the reconciles by what queued them. */
function workFigures(c: ReturnType<typeof counted>, n: number, unit: string, controllers: string[]): Figure[] {
  return [
    ...controllers.flatMap((ctl) => [
      { label: `${ctl} reconciles`, value: round(c.delta('miniapps_reconcile_total', { controller: ctl }) / n, 2), unit },
      ...c.triggers(ctl).map(([trigger, count]) => ({ label: `  queued by ${trigger}`, value: round(count / n, 2), unit })),
      { label: `${ctl} reconcile errors`, value: c.delta('miniapps_reconcile_errors_total', { controller: ctl }) },
    ]),
    { label: "operator's API writes (its miniapps_kube_requests_total)", value: round(c.writes / n, 2), unit },
  ];
}

interface Checkpoint {
  objects: number;
  sample: ProcessSample;
  /** What V8 found live at its last full collection (--trace-gc), or the heap used now. */
  liveHeapMB: number;
  metrics: MetricSet;
}

async function checkpoint(op: BenchOperator, objects: number): Promise<Checkpoint> {
  await sleep(SETTLE_MS);
  const metrics = await op.metrics();
  return { objects, sample: op.sample(), liveHeapMB: op.liveHeapMB() ?? metricSum(metrics, 'nodejs_heap_size_used_bytes') / 2 ** 20, metrics };
}

async function createOrganizations(ctx: BenchContext, phase: string, from: number, to: number, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  const converged = convergence<Organization>(ctx.client, Kinds.Organization, {
    labelSelector: selector(ctx, phase),
    n: to,
    done: isReady,
    timeoutMs,
    progress: (d) => ctx.log(`[scale] ${d}/${to} Organizations Ready after ${seconds(t0).toFixed(1)}s`),
  });
  converged.catch(() => {});
  await pool(to - from, ctx.concurrency, async (i) => {
    await ctx.client.create(Kinds.Organization, orgBody(ctx, phase, from + i));
  });
  return seconds(t0, await converged);
}

async function organizationsPhase(ctx: BenchContext, api: ApiServerMetrics, orgs: number) {
  const steps = [Math.max(1, Math.round(orgs / 10)), Math.max(2, Math.round(orgs / 2)), orgs];
  const namespace = operatorNamespace(ctx);
  const op = await startOperator(ctx, namespace, { nodeFlags: TRACE_GC });
  ctx.defer('remove the operator webhook', () => removeOperatorWebhook(ctx.client, namespace));
  const idle = op.sample(); // as it is ready: before any object, nothing collected yet
  const settled = await checkpoint(op, 0);
  ctx.log(`[scale] operator ready (pid ${op.pid}), idle RSS ${idle.rssMB.toFixed(1)} MB; Organizations in steps to ${steps.join(', ')}`);
  const requestsBefore = await api.requestCounts();
  let created = 0;
  let total = 0;
  let requestsAfter = requestsBefore;
  const at: Checkpoint[] = [];
  for (const to of steps) {
    total += await createOrganizations(ctx, 'operator', created, to, Math.max(120_000, (to - created) * 200));
    created = to;
    requestsAfter = await api.requestCounts();
    at.push(await checkpoint(op, to));
  }
  await op.stop();
  await removeOperatorWebhook(ctx.client, namespace);
  const atAll = at[at.length - 1]!;
  return { idle, settled, at, atAll, seconds: total, work: counted(settled.metrics, atAll.metrics), apiWritesPerOrg: writesPerOrg(requestDelta(requestsBefore, requestsAfter), orgs) };
}

async function organizationsFloor(ctx: BenchContext, api: ApiServerMetrics, orgs: number) {
  const writer = new ObjectWriter(ctx.client);
  const before = await api.requestCounts();
  const t0 = performance.now();
  await pool(orgs, ctx.concurrency, async (i) => {
    await writeAsOrganizationController(writer, await ctx.client.create<Organization>(Kinds.Organization, orgBody(ctx, 'floor', i)));
  });
  const total = seconds(t0);
  return { seconds: total, apiWritesPerOrg: writesPerOrg(requestDelta(before, await api.requestCounts()), orgs) };
}

/** A new operator on every organization there is: until it has reconciled each once and its queue is empty. */
async function restart(op: BenchOperator, organizations: number) {
  const t0 = performance.now();
  let m: MetricSet = new Map(); // counted from the process's start: its relist's reconciles may begin before ready
  for (;;) {
    m = await op.metrics();
    const done = metricSum(m, 'miniapps_reconcile_total', { controller: 'organization' });
    if (done >= organizations && metricSum(m, 'miniapps_workqueue_depth', { controller: 'organization' }) === 0 && metricSum(m, 'miniapps_workqueue_in_flight', { controller: 'organization' }) === 0)
      break;
    if (seconds(t0) > Math.max(120, organizations / 20)) throw new Error(`the restarted operator reconciled ${done} of ${organizations} Organizations in ${seconds(t0).toFixed(0)}s`);
    await sleep(250);
  }
  return { seconds: seconds(t0), sample: op.sample(), work: counted(new Map(), m) };
}

/**
 * Before the Memberships are counted: one organization with 20 of them, so that what the
 * first email loads (nodemailer) and compiles is not counted as the Memberships' cost.
 */
async function warmUp(ctx: BenchContext): Promise<void> {
  const org = await ctx.client.create<Organization>(Kinds.Organization, orgBody(ctx, 'warmup', 0));
  const name = org.metadata.name!;
  let namespace: string | undefined;
  const deadline = Date.now() + 120_000;
  while (!(namespace = (await ctx.client.get<Organization>(Kinds.Organization, name))?.status?.namespace)) {
    if (Date.now() > deadline) throw new Error(`warm-up Organization ${name} got no namespace`);
    await sleep(200);
  }
  const active = convergence<Membership>(ctx.client, Kinds.Membership, { labelSelector: selector(ctx, 'warmup'), n: 20, done: isActive, timeoutMs: 120_000 });
  active.catch(() => {});
  await pool(20, ctx.concurrency, (i) => ctx.client.create(Kinds.Membership, memberBody(ctx, 'warmup', namespace, i)).then(() => undefined));
  await active;
}

export const scale: Scenario = {
  name: 'scale',
  description: 'memory, reconciles and writes per object: orgs Organizations (RSS at a tenth and at all), then a restart on all of them and member-orgs × members Memberships, each against its floor',
  sizes: {
    orgs: { default: 10_000, help: 'Organizations of the first part (RSS measured at a tenth of them and at all)' },
    'member-orgs': { default: 200, help: 'Organizations that get Memberships in the second part' },
    members: { default: 100, help: 'Memberships per organization of the second part' },
  },
  n: (s) => s.orgs! + s['member-orgs']! * s.members!,
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const orgs = ctx.sizes.orgs!;
    const memberOrgs = ctx.sizes['member-orgs']!;
    const members = ctx.sizes.members!;
    const memberships = memberOrgs * members;
    const api = new ApiServerMetrics(ctx.kubeconfig);
    // The memberships part as the memberships scenario runs it, under a run id of its own.
    const mctx: BenchContext = { ...ctx, runId: `${ctx.runId}m`, sizes: { orgs: memberOrgs, members }, n: memberships };
    if (!ctx.disposableCluster) {
      ctx.defer('delete the bench Organizations', () => deleteRun(ctx));
      ctx.defer('delete the bench membership Organizations', () => deleteRun(mctx));
    }

    const o = await organizationsPhase(ctx, api, orgs);
    await sleep(1000); // the API server drops the webhook from its configuration asynchronously
    ctx.log(`[scale] floor: ${orgs} Organizations from a plain client loop`);
    const of = await organizationsFloor(ctx, api, orgs);
    const idleMB = o.idle.rssMB;
    const [first, half, all] = o.at as [Checkpoint, Checkpoint, Checkpoint];
    /** Per Organization between two checkpoints: RSS, and the live heap V8 found. */
    const slope = (a: Checkpoint, b: Checkpoint) => ({ rssKB: kb(b.sample.rssMB - a.sample.rssMB, b.objects - a.objects), heapKB: kb(b.liveHeapMB - a.liveHeapMB, b.objects - a.objects) });
    const lower = slope(first, half);
    const upper = slope(half, all);
    const perOrgKB = kb(all.sample.rssMB - idleMB, orgs);
    const orgsRatio = o.seconds / of.seconds;

    const smtp = await TestSmtpServer.start();
    ctx.defer('stop the operator phase SMTP server', () => smtp.stop());
    let r: Awaited<ReturnType<typeof restart>> | undefined;
    ctx.log(`[scale] a new operator on ${2 * orgs} Organizations; then ${memberOrgs} × ${members} Memberships`);
    const m = await membershipsOperatorPhase(mctx, api, smtp, {
      nodeFlags: TRACE_GC,
      settleMs: SETTLE_MS,
      afterStart: async (op) => {
        r = await restart(op, 2 * orgs);
        await warmUp(mctx);
        smtp.clear(); // the warm-up's emails are not the Memberships'
      },
    });
    await smtp.stop();
    await removeOperatorWebhook(ctx.client, operatorNamespace(mctx));
    await sleep(1000);
    const floorSmtp = await TestSmtpServer.start();
    ctx.defer('stop the floor SMTP server', () => floorSmtp.stop());
    const mf = await membershipsFloorPhase(mctx, api, floorSmtp);
    await floorSmtp.stop();
    const mWork = counted(m.metricsBeforeMembers, m.metrics);
    const perMemberKB = kb(m.rssAfterMembersMB - m.rssBeforeMembersMB, memberships);
    const heapPerMemberKB = m.liveHeapAfterMembersMB !== undefined && m.liveHeapBeforeMembersMB !== undefined ? kb(m.liveHeapAfterMembersMB - m.liveHeapBeforeMembersMB, memberships) : null;
    const membersRatio = m.seconds / mf.seconds;
    /** RSS of an operator holding `n` more Memberships than now, from the measured slope. */
    const project = (n: number) => round(m.rssBeforeMembersMB + (perMemberKB * n) / 1024, 0);

    const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
    const table: ScenarioResult['table'] = [
      {
        phase: `Organizations (operator, in steps to ${o.at.map((c) => c.objects).join(', ')}, concurrency ${ctx.concurrency})`,
        figures: [
          { label: 'idle RSS (ready, before any object)', value: round(idleMB, 1), unit: `MB (target < ${TARGETS.idleRssMB}: ${verdict(idleMB < TARGETS.idleRssMB)})` },
          { label: 'RSS settled, before any object', value: round(o.settled.sample.rssMB, 1), unit: `MB, live heap ${round(o.settled.liveHeapMB, 1)} MB` },
          ...o.at.map((c) => ({
            label: `RSS with ${c.objects} Organizations (settled)`,
            value: round(c.sample.rssMB, 1),
            unit: `MB, live heap ${round(c.liveHeapMB, 1)} MB${c === all ? ` (target < ${TARGETS.orgsRssMB}: ${verdict(c.sample.rssMB < TARGETS.orgsRssMB)})` : ''}`,
          })),
          { label: 'peak RSS (VmHWM)', value: round(all.sample.peakRssMB, 1), unit: 'MB' },
          { label: `per Organization from ${first.objects} to ${half.objects}`, value: lower.rssKB, unit: `kB RSS, ${lower.heapKB} kB live heap` },
          {
            label: `per Organization from ${half.objects} to ${all.objects}`,
            value: upper.rssKB,
            unit: `kB RSS, ${upper.heapKB} kB live heap (${round(upper.heapKB / lower.heapKB, 2)} × the lower step's heap: flat is 1)`,
          },
          { label: `RSS per Organization, all ${orgs} (from idle)`, value: perOrgKB, unit: 'kB' },
          { label: 'first create → all Ready (both steps)', value: round(o.seconds), unit: 's' },
          ...workFigures(o.work, orgs, '/org', ['organization']),
          { label: "API writes, the bench's create included (API server)", value: o.apiWritesPerOrg, unit: '/org' },
        ],
      },
      {
        phase: 'Organizations (floor: plain client, no operator)',
        figures: [
          { label: 'first create → all written', value: round(of.seconds), unit: 's' },
          { label: 'API writes, the create included (API server)', value: of.apiWritesPerOrg, unit: '/org' },
          { label: 'ratio operator / floor', value: round(orgsRatio), unit: `(target ≤ ${TARGETS.ratio}: ${verdict(orgsRatio <= TARGETS.ratio)})` },
        ],
      },
      {
        phase: `restart: a new operator on ${2 * orgs} Organizations (operator's and floor's)`,
        figures: r
          ? [
              { label: 'ready → each reconciled once, queue empty', value: round(r.seconds), unit: 's' },
              { label: 'RSS then', value: round(r.sample.rssMB, 1), unit: 'MB' },
              { label: 'peak RSS (VmHWM: relist and reconciles)', value: round(r.sample.peakRssMB, 1), unit: 'MB' },
              ...workFigures(r.work, 2 * orgs, '/org', ['organization']),
            ]
          : [],
      },
      {
        phase: `Memberships (operator, ${memberOrgs} organizations × ${members} = ${memberships}, acceptance Automatic, emails to loopback SMTP)`,
        figures: [
          { label: 'RSS before the Memberships (settled)', value: round(m.rssBeforeMembersMB, 1), unit: 'MB' },
          { label: `RSS with ${memberships} Memberships (settled)`, value: round(m.rssAfterMembersMB, 1), unit: 'MB' },
          { label: 'peak RSS (VmHWM)', value: round(m.peakRssMB, 1), unit: 'MB' },
          { label: 'per Membership', value: perMemberKB, unit: `kB RSS, ${heapPerMemberKB ?? 'n/a'} kB live heap` },
          { label: 'first create → all Active', value: round(m.seconds), unit: 's' },
          { label: 'emails', value: m.emails, unit: `(expected ${memberships}: ${m.exactEmails ? 'exactly' : 'NOT exactly'})` },
          ...workFigures(mWork, memberships, '/membership', ['membership', 'organization']),
          { label: "API writes, the bench's create included (API server)", value: m.writesPerMember, unit: '/membership' },
        ],
      },
      {
        phase: 'Memberships (floor: plain client and Mailer, no operator)',
        figures: [
          { label: 'first create → all written', value: round(mf.seconds), unit: 's' },
          { label: 'API writes, the create included (API server)', value: mf.writesPerMember, unit: '/membership' },
          { label: 'ratio operator / floor', value: round(membersRatio), unit: `(target ≤ ${TARGETS.ratio}: ${verdict(membersRatio <= TARGETS.ratio)})` },
          { label: 'projected RSS with 100,000 Memberships (measured slope)', value: project(100_000 - memberships), unit: 'MB' },
        ],
      },
      ...profileSection(ctx),
    ];
    return {
      table,
      summary: {
        bench: 'scale',
        n: ctx.n,
        orgs,
        memberOrgs,
        members,
        concurrency: ctx.concurrency,
        idleRssMB: round(idleMB, 1),
        steps: o.at.map((c) => c.objects).join(','),
        rssStepsMB: o.at.map((c) => round(c.sample.rssMB, 1)).join(','),
        liveHeapStepsMB: o.at.map((c) => round(c.liveHeapMB, 1)).join(','),
        rssOrgsMB: round(all.sample.rssMB, 1),
        orgsPeakRssMB: round(all.sample.peakRssMB, 1),
        rssPerOrgLowerKB: lower.rssKB,
        rssPerOrgUpperKB: upper.rssKB,
        heapPerOrgLowerKB: lower.heapKB,
        heapPerOrgUpperKB: upper.heapKB,
        rssPerOrgKB: perOrgKB,
        orgsSeconds: round(o.seconds, 3),
        orgsFloorSeconds: round(of.seconds, 3),
        orgsRatio: round(orgsRatio, 3),
        reconcilesPerOrg: round(o.work.delta('miniapps_reconcile_total', { controller: 'organization' }) / orgs, 3),
        writesPerOrg: round(o.work.writes / orgs, 3),
        apiWritesPerOrg: o.apiWritesPerOrg,
        floorApiWritesPerOrg: of.apiWritesPerOrg,
        restartSeconds: r ? round(r.seconds, 3) : null,
        restartRssMB: r ? round(r.sample.rssMB, 1) : null,
        restartPeakRssMB: r ? round(r.sample.peakRssMB, 1) : null,
        restartWrites: r ? r.work.writes : null,
        memberships,
        rssBeforeMembershipsMB: round(m.rssBeforeMembersMB, 1),
        rssMembershipsMB: round(m.rssAfterMembersMB, 1),
        membershipsPeakRssMB: round(m.peakRssMB, 1),
        rssPerMembershipKB: perMemberKB,
        heapPerMembershipKB: heapPerMemberKB,
        membershipsSeconds: round(m.seconds, 3),
        membershipsFloorSeconds: round(mf.seconds, 3),
        membershipsRatio: round(membersRatio, 3),
        membershipReconcilesPerMembership: round(mWork.delta('miniapps_reconcile_total', { controller: 'membership' }) / memberships, 3),
        organizationReconcilesPerMembership: round(mWork.delta('miniapps_reconcile_total', { controller: 'organization' }) / memberships, 3),
        writesPerMembership: round(mWork.writes / memberships, 3),
        apiWritesPerMembership: m.writesPerMember,
        floorApiWritesPerMembership: mf.writesPerMember,
        emails: m.emails,
        exactEmails: m.exactEmails,
        projected100kMembershipsRssMB: project(100_000 - memberships),
      },
    };
  },
};
