// Scenario "memberships": O organizations × M Memberships with acceptance Automatic, each
// notified by one email to a loopback SMTP server, from the first create to all Active;
// then the floor: the same API writes and the same emails (through the real Mailer) from
// a plain client loop. The organizations are made Ready before the clock starts in both.
import { MembershipConditions } from '../api/membership/schema.ts';
import { OrganizationConditions } from '../api/organization/schema.ts';
import type { Membership, Role } from '../api/membership/schema.ts';
import type { Organization } from '../api/organization/schema.ts';
import {
  FIRST_INVITATIONS_PER_ORGANIZATION,
  FIRST_INVITATIONS_PER_RECIPIENT,
  RESEND_LIMIT_PER_ORG,
  RESEND_MIN_INTERVAL_MS,
  admitFirstInvitation,
  firstInvitationMembership,
  firstInvitationRecipient,
  membershipConditions,
  planInvitation,
} from '../controllers/membership/logic.ts';

import { administratorCheck, countMembers } from '../controllers/organization/checks.ts';
import { memberAccess, organizationClusterAccess } from '../domain/rbac.ts';
import { DEFAULT_SETTINGS } from '../domain/settings.ts';
import { CONFIRM_DELETE_ANNOTATION, CONFIRM_DELETE_VALUE } from '../api/constants.ts';
import { Kinds } from '../api/registry.ts';
import { Mailer } from '../runtime/mail/mailer.ts';
import { accessGrantedEmail } from '../controllers/membership/message.ts';
import { ObjectWriter } from '../runtime/apply.ts';
import { rfc3339 } from '../runtime/clock.ts';
import { setConditions } from '../runtime/conditions.ts';
import type { ObjectBody } from '../runtime/kube/client.ts';
import { Resources } from '../runtime/kube/resource.ts';
import { TestSmtpServer } from '../testenv/smtp.ts';
import { invitationFlags } from '../testenv/invitations.ts';
import { ApiServerMetrics, requestDelta } from './apiserver.ts';
import type { RequestCounts } from './apiserver.ts';
import { convergence } from './converge.ts';
import { metricSum, pool, seconds, sleep } from './measure.ts';
import type { MetricSet } from './measure.ts';
import { removeOperatorWebhook, startOperator } from './operator.ts';
import type { BenchOperator } from './operator.ts';
import { PHASE_LABEL, RUN_LABEL, isReady as isOrganizationReady, operatorNamespace, orgBody, perOrg, profileSection, round, writeAsOrganizationController, writesPerOrg } from './organizations.ts';
import type { BenchContext, Figure, Scenario, ScenarioResult } from './scenario.ts';

/** The bench's stand-in for the invitation signing key (the recipients' identifiers in the record). */
const BENCH_RECIPIENT_KEY = Buffer.alloc(32, 0x5a);

const IDLE_MS = 5_000;
const CONTROLLERS = ['membership', 'organization'] as const;
/** The Membership controller's field manager for status.invitation (INVITATION_FIELD_MANAGER in controllers/membership/controller.ts). */
const INVITATION_FIELD_MANAGER = 'miniapps-operator-invitations';
/** The operator's default --smtp-from. */
const SMTP_FROM = 'miniapps-operator@localhost';

const sizes = (ctx: BenchContext) => ({ orgs: ctx.sizes.orgs!, members: ctx.sizes.members! });

const selector = (ctx: BenchContext, phase: string) => `${RUN_LABEL}=${ctx.runId},${PHASE_LABEL}=${phase}`;

const condition = (m: Membership, type: string) => m.status?.conditions?.find((c) => c.type === type)?.status;

/** Active, Ready and notified, as of the current generation. */
export const isActive = (m: Membership): boolean =>
  m.status?.phase === 'Active' &&
  m.status.observedGeneration === m.metadata.generation &&
  condition(m, MembershipConditions.Ready) === 'True' &&
  condition(m, MembershipConditions.InvitationSent) === 'True';

/** The k-th Membership goes to organization k mod O: every organization fills up at once, its administrator (member 0) first. */
const place = (ctx: BenchContext, k: number) => ({ org: k % sizes(ctx).orgs, member: Math.floor(k / sizes(ctx).orgs) });

export function memberBody(ctx: BenchContext, phase: string, namespace: string, i: number): ObjectBody & Membership {
  const role: Role = i === 0 ? 'OrganizationAdministrator' : 'MiniAppDeveloper';
  return {
    apiVersion: 'miniapps.dev/v1alpha1',
    kind: 'Membership',
    metadata: { name: `m${i}`, namespace, labels: { [RUN_LABEL]: ctx.runId, [PHASE_LABEL]: phase } },
    spec: { email: `member${i}@${namespace}.bench.example`, role, acceptance: 'Automatic' },
  };
}

/**
 * On a cluster that outlives the bench: the run's Organizations without their finalizers
 * (no operator runs to honour them) and confirmed for deletion (the admission policy asks
 * for it); namespaces and memberships follow by garbage collection.
 */
export async function deleteRun(ctx: BenchContext): Promise<void> {
  const orgs = await ctx.client.listAll<Organization>(Kinds.Organization, { labelSelector: `${RUN_LABEL}=${ctx.runId}` });
  await pool(orgs.items.length, ctx.concurrency, async (i) => {
    const name = orgs.items[i]!.metadata.name!;
    await ctx.client.patch(Kinds.Organization, name, undefined, { metadata: { finalizers: null, annotations: { [CONFIRM_DELETE_ANNOTATION]: CONFIRM_DELETE_VALUE } } });
    await ctx.client.delete(Kinds.Organization, name);
  });
  await ctx.client.delete(Resources.Namespace, operatorNamespace(ctx));
}

/** API server requests per membership, and mutating requests per membership. */
function apiFigures(before: RequestCounts, after: RequestCounts, n: number): { writesPerMember: number; figures: Figure[] } {
  const delta = requestDelta(before, after);
  return { writesPerMember: writesPerOrg(delta, n), figures: perOrg(delta, n, '/membership') };
}

/** What arrived at the loopback server: count, distinct Message-IDs, and whether they are exactly the ones recorded in status. */
function emailFigures(smtp: TestSmtpServer, members: Membership[], expected: number): { emails: number; distinctMessageIds: number; exact: boolean; figures: Figure[] } {
  const received = smtp.messages.map((m) => m.messageId);
  const distinct = new Set(received);
  const recorded = new Set(members.map((m) => m.status?.invitation?.messageId).filter((id) => id !== undefined));
  const matching = [...distinct].filter((id) => recorded.has(id)).length;
  const exact = received.length === expected && distinct.size === expected && matching === expected && recorded.size === expected;
  return {
    emails: received.length,
    distinctMessageIds: distinct.size,
    exact,
    figures: [
      { label: 'emails received (final dot)', value: received.length, unit: `(expected ${expected}: ${exact ? 'exactly' : 'NOT exactly'})` },
      { label: 'distinct Message-IDs', value: distinct.size },
      { label: 'Message-IDs matching status.invitation', value: matching },
      { label: 'transactions aborted before the dot', value: smtp.aborted },
    ],
  };
}

export interface MembershipsOperatorPhase {
  seconds: number;
  orgCountsSeconds: number;
  createSeconds: number;
  busyCpuSeconds: number;
  idleCpuSeconds: number;
  peakRssMB: number;
  emails: number;
  distinctMessageIds: number;
  exactEmails: boolean;
  writesPerMember: number;
  /** The operator's RSS with the organizations Ready, settled, before the first Membership; and after all are Active, settled. */
  rssBeforeMembersMB: number;
  rssAfterMembersMB: number;
  /** With --trace-gc: the live heap at V8's last full collection before those samples. */
  liveHeapBeforeMembersMB?: number;
  liveHeapAfterMembersMB?: number;
  /** The operator's /metrics then. */
  metricsBeforeMembers: MetricSet;
  metrics: MetricSet;
  figures: Figure[];
}

export interface MembershipsOperatorOptions {
  /** Runs once the operator is ready, before anything is created (the scale scenario measures its restart there). */
  afterStart?: (op: BenchOperator) => Promise<void>;
  /** Node options of the operator (--trace-gc for its live heap). */
  nodeFlags?: string[];
  /** How long to wait before the samples taken around the Memberships (default 5 s). */
  settleMs?: number;
}

export async function membershipsOperatorPhase(ctx: BenchContext, api: ApiServerMetrics, smtp: TestSmtpServer, opts: MembershipsOperatorOptions = {}): Promise<MembershipsOperatorPhase> {
  const { orgs, members } = sizes(ctx);
  const namespace = operatorNamespace(ctx);
  const op = await startOperator(ctx, namespace, {
    args: invitationFlags(smtp.port),
    nodeFlags: opts.nodeFlags,
  });
  const settleMs = opts.settleMs ?? IDLE_MS;
  ctx.defer('remove the operator webhook', () => removeOperatorWebhook(ctx.client, namespace));
  const atReady = op.sample();
  await opts.afterStart?.(op);

  // Setup, not timed: the organizations, Ready.
  ctx.log(`[memberships] operator ready (pid ${op.pid}); creating ${orgs} Organizations`);
  const orgsReady = convergence<Organization>(ctx.client, Kinds.Organization, { labelSelector: selector(ctx, 'operator'), n: orgs, done: isOrganizationReady, timeoutMs: 120_000 });
  orgsReady.catch(() => {});
  await pool(orgs, ctx.concurrency, async (j) => {
    await ctx.client.create(Kinds.Organization, orgBody(ctx, 'operator', j));
  });
  await orgsReady;
  const namespaces = await organizationNamespaces(ctx, 'operator');

  let maxQueueDepth = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const m = await op.metrics().catch(() => undefined);
      if (m) maxQueueDepth = Math.max(maxQueueDepth, metricSum(m, 'miniapps_workqueue_depth', { controller: 'membership' }));
      await sleep(500);
    }
  })();

  ctx.log(`[memberships] creating ${ctx.n} Memberships (${orgs} × ${members}, acceptance Automatic), ${ctx.concurrency} in flight`);
  await sleep(settleMs); // settled: what the organizations cost is not counted as the memberships'
  const atStart = op.sample();
  const liveHeapBeforeMembersMB = op.liveHeapMB();
  const metricsBeforeMembers = await op.metrics();
  const requestsBefore = await api.requestCounts();
  const t0 = performance.now();
  const active = convergence<Membership>(ctx.client, Kinds.Membership, {
    labelSelector: selector(ctx, 'operator'),
    n: ctx.n,
    done: isActive,
    timeoutMs: Math.max(180_000, ctx.n * 300),
    progress: (d) => ctx.log(`[memberships] ${d}/${ctx.n} Active after ${seconds(t0).toFixed(1)}s, ${smtp.messages.length} emails`),
  });
  active.catch(() => {});
  // Then the organizations' member counts (not part of the target, shown beside it).
  const counted = convergence<Organization>(ctx.client, Kinds.Organization, {
    labelSelector: selector(ctx, 'operator'),
    n: orgs,
    done: (o) => o.status?.members?.active === members,
    timeoutMs: Math.max(240_000, ctx.n * 400),
  });
  counted.catch(() => {});
  await pool(ctx.n, ctx.concurrency, async (k) => {
    const { org, member } = place(ctx, k);
    await ctx.client.create(Kinds.Membership, memberBody(ctx, 'operator', namespaces[org]!, member));
  });
  const createSeconds = seconds(t0);
  const tActive = await active;
  const atActive = op.sample();
  const emailsAtActive = smtp.messages.length;
  const reconcilesAtActive = metricSum(await op.metrics(), 'miniapps_reconcile_total', { controller: 'membership' });
  const tCounted = await counted;
  sampling = false;
  await sampler;
  const total = seconds(t0, tActive);
  ctx.log(`[memberships] all ${ctx.n} Active in ${total.toFixed(2)}s (member counts after ${seconds(t0, tCounted).toFixed(2)}s); idle for ${IDLE_MS / 1000}s`);
  const requestsAfter = await api.requestCounts();
  await sleep(settleMs);
  const afterIdle = op.sample();
  const liveHeapAfterMembersMB = op.liveHeapMB();
  const metrics = await op.metrics();
  await op.stop();
  const all = (await ctx.client.listAll<Membership>(Kinds.Membership, { labelSelector: selector(ctx, 'operator') })).items;
  const mail = emailFigures(smtp, all, ctx.n);
  const calls = apiFigures(requestsBefore, requestsAfter, ctx.n);

  const perController = CONTROLLERS.flatMap((c): Figure[] => {
    const count = metricSum(metrics, 'miniapps_reconcile_duration_seconds_count', { controller: c });
    const sum = metricSum(metrics, 'miniapps_reconcile_duration_seconds_sum', { controller: c });
    return [
      { label: `${c} reconciles`, value: metricSum(metrics, 'miniapps_reconcile_total', { controller: c }) },
      { label: `${c} reconcile errors`, value: metricSum(metrics, 'miniapps_reconcile_errors_total', { controller: c }) },
      { label: `${c} reconcile mean duration`, value: count ? round((sum / count) * 1000, 1) : 'n/a', unit: 'ms' },
    ];
  });
  return {
    seconds: total,
    orgCountsSeconds: seconds(t0, tCounted),
    createSeconds,
    busyCpuSeconds: atActive.cpuSeconds - atStart.cpuSeconds,
    idleCpuSeconds: afterIdle.cpuSeconds - atActive.cpuSeconds,
    peakRssMB: afterIdle.peakRssMB,
    emails: mail.emails,
    distinctMessageIds: mail.distinctMessageIds,
    exactEmails: mail.exact,
    writesPerMember: calls.writesPerMember,
    rssBeforeMembersMB: atStart.rssMB,
    rssAfterMembersMB: afterIdle.rssMB,
    liveHeapBeforeMembersMB,
    liveHeapAfterMembersMB,
    metricsBeforeMembers,
    metrics,
    figures: [
      { label: 'first create → all Active', value: round(total), unit: 's' },
      { label: 'creates done after', value: round(createSeconds), unit: 's' },
      { label: 'organizations count all members after', value: round(seconds(t0, tCounted)), unit: 's' },
      { label: 'emails when all were Active', value: emailsAtActive },
      ...mail.figures,
      { label: 'operator CPU until all Active', value: round(atActive.cpuSeconds - atStart.cpuSeconds), unit: 's' },
      { label: `operator CPU in ${IDLE_MS / 1000}s after (idle)`, value: round(afterIdle.cpuSeconds - atActive.cpuSeconds, 3), unit: 's' },
      { label: 'operator RSS when ready (before any object)', value: round(atReady.rssMB, 1), unit: 'MB' },
      { label: 'operator peak RSS (VmHWM)', value: round(afterIdle.peakRssMB, 1), unit: 'MB' },
      { label: 'operator RSS at the end', value: round(afterIdle.rssMB, 1), unit: 'MB' },
      ...perController,
      { label: 'membership reconciles after all were Active', value: metricSum(metrics, 'miniapps_reconcile_total', { controller: 'membership' }) - reconcilesAtActive },
      { label: 'membership work queue max depth (sampled)', value: maxQueueDepth },
      ...calls.figures,
    ],
  };
}

/** The namespace of each organization of the phase, by index. */
async function organizationNamespaces(ctx: BenchContext, phase: string): Promise<string[]> {
  const list = await ctx.client.list<Organization>(Kinds.Organization, { labelSelector: selector(ctx, phase) });
  const byName = new Map(list.items.map((o) => [o.metadata.name, o.status?.namespace]));
  return Array.from({ length: sizes(ctx).orgs }, (_, j) => {
    const ns = byName.get(orgBody(ctx, phase, j).metadata.name!);
    if (!ns) throw new Error(`Organization ${orgBody(ctx, phase, j).metadata.name} has no namespace in its status`);
    return ns;
  });
}

/**
 * The writes the Membership controller makes for a new Membership with acceptance
 * Automatic, in order and with the same pure functions: a fresh GET, the intent in
 * status.invitation (compare-and-swap, own field manager), the email through the real
 * Mailer with sentAt recorded (compare-and-swap) before the final dot, the member's Role
 * and RoleBinding, the status.
 */
const turns = new Map<string, Promise<unknown>>();
/** Runs `fn` after every earlier call for the same key has finished (the controller's organization turn). */
function inTurn<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const result = (turns.get(key) ?? Promise.resolve()).then(fn);
  turns.set(
    key,
    result.catch(() => undefined),
  );
  return result;
}

async function writeAsMembershipController(writer: ObjectWriter, mailer: Mailer, org: Organization, created: Membership): Promise<Membership> {
  const namespace = created.metadata.namespace!;
  let m = (await writer.client.get<Membership>(Kinds.Membership, created.metadata.name, namespace))!;
  const now = new Date();
  const plan = planInvitation(m, now, DEFAULT_SETTINGS.invitationTTLMs, { intervalMs: RESEND_MIN_INTERVAL_MS, limitPerOrganization: RESEND_LIMIT_PER_ORG, organizationResends: [] });
  if (plan.kind !== 'send') throw new Error(`Membership ${namespace}/${m.metadata.name}: no notification due`);
  const cas = (at: Membership, invitation: typeof plan.invitation) =>
    writer.applyStatus<Membership>(Kinds.Membership, at, { invitation }, { fieldManager: INVITATION_FIELD_MANAGER, resourceVersion: at.metadata.resourceVersion });
  // The first email is counted in the Organization's status before anything else (the limits that outlive Memberships), one organization at a time.
  await inTurn(org.metadata.name, async () => {
    const fresh = (await writer.client.get<Organization>(Kinds.Organization, org.metadata.name))!;
    const recipient = firstInvitationRecipient(BENCH_RECIPIENT_KEY, org.metadata.name, m.spec.email);
    const limits = { perRecipient: FIRST_INVITATIONS_PER_RECIPIENT, perOrganization: FIRST_INVITATIONS_PER_ORGANIZATION };
    const admitted = admitFirstInvitation(fresh.status?.firstInvitations, recipient, now, limits, firstInvitationMembership(BENCH_RECIPIENT_KEY, m.metadata.uid!));
    if ('hold' in admitted) throw new Error(`Membership ${namespace}/${m.metadata.name}: the first-email limits hold it (raise --invitation-organization-limit for this size)`);
    await writer.applyStatus(Kinds.Organization, fresh, { firstInvitations: admitted.record }, { fieldManager: INVITATION_FIELD_MANAGER, resourceVersion: fresh.metadata.resourceVersion });
  });
  const intent = (await cas(m, plan.invitation)) ?? m;
  const content = accessGrantedEmail({ organization: { name: org.metadata.name, displayName: org.spec.displayName }, role: m.spec.role });
  const sent = await mailer.send({ to: m.spec.email, messageId: plan.invitation.messageId!, ...content }, async () => {
    m = (await cas(intent, { ...plan.invitation, sentAt: rfc3339(now) })) ?? intent;
  });
  if (!sent.accepted) throw new Error(`The loopback SMTP server did not accept the email to ${m.spec.email}: ${sent.response}`);
  const access = memberAccess(m, org, namespace, DEFAULT_SETTINGS);
  await writer.apply(Resources.Role, access.role);
  await writer.apply(Resources.RoleBinding, access.roleBinding);
  const subject = access.roleBinding.subjects![0]!.name;
  const gen = m.metadata.generation;
  const conditions = membershipConditions(m, 'Active', { bound: true, subject, namespace, roleName: access.roleBinding.roleRef.name }, undefined);
  return (await writer.applyStatus<Membership>(Kinds.Membership, m, { phase: 'Active', observedGeneration: gen, conditions: setConditions(m.status?.conditions, conditions, gen, now) })) ?? m;
}

/** The Organization controller's writes once all its members are Active: the ClusterRoleBindings' subjects and the member counts. */
async function writeOrganizationMembers(writer: ObjectWriter, org: Organization, members: Membership[]): Promise<void> {
  const active = members.map((m) => ({ email: m.spec.email, role: m.spec.role }));
  const cluster = organizationClusterAccess(org, active, DEFAULT_SETTINGS);
  await Promise.all(cluster.clusterRoleBindings.map((b) => writer.apply(Resources.ClusterRoleBinding, b)));
  const counts = countMembers(members);
  const gen = org.metadata.generation;
  const conditions = [
    {
      type: OrganizationConditions.RBACReady,
      status: 'True' as const,
      reason: 'RBACApplied',
      message: `The role table's ClusterRoles are in place, and ClusterRoleBindings let ${active.length} active member(s) read the Organization (${active.filter((m) => m.role === 'OrganizationAdministrator').length} administrator(s) change it), and the role of each whose Membership says AccessGranted is bound in ${org.status!.namespace}`,
    },
    ...[administratorCheck(counts, members.length)].filter((c) => c !== undefined),
  ];
  await writer.applyStatus(Kinds.Organization, org, { ...org.status, members: counts, observedGeneration: gen, conditions: setConditions(org.status?.conditions, conditions, gen, new Date()) });
}

export async function membershipsFloorPhase(ctx: BenchContext, api: ApiServerMetrics, smtp: TestSmtpServer) {
  const { orgs } = sizes(ctx);
  const writer = new ObjectWriter(ctx.client);
  const organizations: Organization[] = [];
  await pool(orgs, ctx.concurrency, async (j) => {
    organizations[j] = await writeAsOrganizationController(writer, await ctx.client.create<Organization>(Kinds.Organization, orgBody(ctx, 'floor', j)));
  });
  const mailer = new Mailer({ host: smtp.host, port: smtp.port, security: 'none', from: SMTP_FROM });
  const members: Membership[][] = organizations.map(() => []);
  ctx.log(`[memberships] floor: ${ctx.n} Memberships and their emails from a plain client loop, ${ctx.concurrency} in flight`);
  const requestsBefore = await api.requestCounts();
  const t0 = performance.now();
  await pool(ctx.n, ctx.concurrency, async (k) => {
    const { org, member } = place(ctx, k);
    const o = organizations[org]!;
    const created = await ctx.client.create<Membership>(Kinds.Membership, memberBody(ctx, 'floor', o.status!.namespace!, member));
    members[org]![member] = await writeAsMembershipController(writer, mailer, o, created);
  });
  const membersSeconds = seconds(t0);
  await pool(orgs, ctx.concurrency, (j) => writeOrganizationMembers(writer, organizations[j]!, members[j]!));
  const total = seconds(t0);
  const calls = apiFigures(requestsBefore, await api.requestCounts(), ctx.n);
  const mail = emailFigures(smtp, members.flat(), ctx.n);
  return {
    seconds: total,
    emails: mail.emails,
    writesPerMember: calls.writesPerMember,
    figures: [
      { label: 'first create → all written', value: round(total), unit: 's' },
      { label: 'of which the memberships', value: round(membersSeconds), unit: 's' },
      ...mail.figures,
      ...calls.figures,
    ],
  };
}

export const memberships: Scenario = {
  name: 'memberships',
  description:
    'orgs × members Memberships (acceptance Automatic, one email each to a loopback SMTP server) until all are Active, with the operator, against the same writes and emails from a plain client loop',
  sizes: {
    orgs: { default: 20, help: 'Organizations (made Ready before timing)' },
    members: { default: 100, help: 'Memberships per organization' },
  },
  n: (s) => s.orgs! * s.members!,
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const { orgs, members } = sizes(ctx);
    const api = new ApiServerMetrics(ctx.kubeconfig);
    if (!ctx.disposableCluster) ctx.defer('delete the bench Organizations', () => deleteRun(ctx));
    const opSmtp = await TestSmtpServer.start();
    ctx.defer('stop the operator phase SMTP server', () => opSmtp.stop());
    const op = await membershipsOperatorPhase(ctx, api, opSmtp);
    await opSmtp.stop();
    await removeOperatorWebhook(ctx.client, operatorNamespace(ctx));
    await sleep(1000); // the API server drops the webhook from its configuration asynchronously
    ctx.log('[memberships] floor phase: the same writes and emails from a plain client loop, no operator');
    const floorSmtp = await TestSmtpServer.start();
    ctx.defer('stop the floor SMTP server', () => floorSmtp.stop());
    const floor = await membershipsFloorPhase(ctx, api, floorSmtp);
    await floorSmtp.stop();
    const ratio = op.seconds / floor.seconds;
    const table: ScenarioResult['table'] = [
      { phase: `operator (${orgs} organizations × ${members} memberships = ${ctx.n}, concurrency ${ctx.concurrency})`, figures: op.figures },
      { phase: 'floor (plain client and Mailer, no operator)', figures: floor.figures },
      {
        phase: 'result',
        figures: [
          { label: 'ratio operator / floor', value: round(ratio), unit: '(target ≤ 1.5)' },
          { label: 'emails', value: op.emails, unit: `(target exactly ${ctx.n}: ${op.exactEmails ? 'met' : 'MISSED'})` },
          { label: 'operator peak RSS', value: round(op.peakRssMB, 1), unit: '(target < 200 MB)' },
        ],
      },
      ...profileSection(ctx),
    ];
    return {
      table,
      summary: {
        bench: 'memberships',
        orgs,
        members,
        n: ctx.n,
        seconds: round(op.seconds, 3),
        floorSeconds: round(floor.seconds, 3),
        ratio: round(ratio, 3),
        emails: op.emails,
        distinctMessageIds: op.distinctMessageIds,
        peakRssMB: round(op.peakRssMB, 1),
        idleCpuSeconds: round(op.idleCpuSeconds, 3),
        concurrency: ctx.concurrency,
        exactEmails: op.exactEmails,
        floorEmails: floor.emails,
        busyCpuSeconds: round(op.busyCpuSeconds, 3),
        createSeconds: round(op.createSeconds, 3),
        orgCountsSeconds: round(op.orgCountsSeconds, 3),
        writesPerMember: op.writesPerMember,
        floorWritesPerMember: floor.writesPerMember,
      },
    };
  },
};
