// Scenarios "apikeys" and "verify".
//
// apikeys: N ApiKeys of one member, from the first create to all Active, with the operator;
// then the floor: the same API writes (the create, the key's Secret, the owner's Role and
// RoleBinding, the status) from a plain client loop with the same pure functions. The
// organization and its member are made Ready before the clock starts in both.
//
// verify: N keys made Active by the operator, then the verify endpoint asked over plain
// HTTP with keep-alive on loopback, by one ServiceAccount (authenticated by TokenReview,
// authorized by SubjectAccessReview, both remembered), about random keys among the N:
// verifications a second and latency percentiles.
import { connect } from 'node:net';
import { PLATFORM_CONFIG_NAME } from '../api/platformconfig/names.ts';
import type { ApiKey } from '../api/apikey/schema.ts';
import type { Membership } from '../api/membership/schema.ts';
import type { Organization } from '../api/organization/schema.ts';
import { generateKey } from '../controllers/apikey/key.ts';
import { ApiKeyReasons, apiKeyChecks, issuedCheck, keyAccess, keyFields, keySecret, ownerCheck, phaseOf, validityCheck } from '../controllers/apikey/logic.ts';
import type { IssuedKey } from '../controllers/apikey/logic.ts';
import { VERIFIER_ROLE } from '../controllers/apikey/module.ts';
import { Kinds } from '../api/registry.ts';
import { ObjectWriter } from '../runtime/apply.ts';
import { conditionsFromChecks, replaceConditions } from '../runtime/conditions.ts';
import type { ObjectBody } from '../runtime/kube/client.ts';
import { Resources } from '../runtime/kube/resource.ts';
import { readKey, serviceAccountToken } from '../testenv/apikeys.ts';
import { eventually } from '../testenv/eventually.ts';
import { ApiServerMetrics, requestDelta } from './apiserver.ts';
import { convergence } from './converge.ts';
import { metricSum, percentile, pool, seconds, sleep } from './measure.ts';
import type { BenchOperator } from './operator.ts';
import { removeOperatorWebhook, startOperator } from './operator.ts';
import { PHASE_LABEL, RUN_LABEL, isReady as isOrganizationReady, operatorNamespace, orgBody, perOrg, profileSection, round, writeAsOrganizationController, writesPerOrg } from './organizations.ts';
import type { BenchContext, Figure, Scenario, ScenarioResult } from './scenario.ts';

const IDLE_MS = 5_000;
const selector = (ctx: BenchContext, phase: string) => `${RUN_LABEL}=${ctx.runId},${PHASE_LABEL}=${phase}`;
const ownerOf = (ns: string) => `owner@${ns}.bench.example`;

/** Active and Ready, as of the current generation. */
const isActive = (k: ApiKey): boolean =>
  k.status?.phase === 'Active' && k.status.observedGeneration === k.metadata.generation && k.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

function keyBody(ctx: BenchContext, phase: string, namespace: string, i: number): ObjectBody & ApiKey {
  return {
    apiVersion: 'miniapps.dev/v1alpha1',
    kind: 'ApiKey',
    metadata: { name: `k${i}`, namespace, labels: { [RUN_LABEL]: ctx.runId, [PHASE_LABEL]: phase } },
    spec: { owner: ownerOf(namespace), ttl: '720h', description: `bench key ${i}` },
  };
}

/**
 * The ApiKey admission policy reads the PlatformConfig: make sure there is one, whose quotas
 * let one member hold the N keys of the bench in one namespace (the defaults allow 20 per
 * owner and 200 per namespace).
 */
/**
 * Quotas that fit N keys, applied under the bench's own field manager, which owns only
 * spec.quotas (not the whole spec); releasePlatformConfig gives them up again.
 */
async function ensurePlatformConfig(ctx: BenchContext): Promise<void> {
  const quotas = { apiKeysPerOwner: Math.min(Math.max(ctx.n, 20), 10_000), namespace: { apiKeys: Math.max(ctx.n + 10, 200), secrets: Math.max(2 * ctx.n + 100, 500) } };
  await ctx.client.apply(Kinds.PlatformConfig, { metadata: { name: PLATFORM_CONFIG_NAME }, spec: { quotas } }, { fieldManager: BENCH_FIELD_MANAGER });
}

/** The bench's quotas gone (server-side apply of nothing under its field manager): the defaults, or what another manager sets, hold again. */
async function releasePlatformConfig(ctx: BenchContext): Promise<void> {
  await ctx.client.apply(Kinds.PlatformConfig, { metadata: { name: PLATFORM_CONFIG_NAME }, spec: {} }, { fieldManager: BENCH_FIELD_MANAGER });
}

const BENCH_FIELD_MANAGER = 'miniapps-bench';

/** One organization with its owner, an active administrator (acceptance Automatic); returns its namespace. */
async function organizationWithOwner(ctx: BenchContext, phase: string, op?: BenchOperator): Promise<{ org: Organization; namespace: string; member: Membership }> {
  const body = orgBody(ctx, phase, 0);
  const writer = new ObjectWriter(ctx.client);
  let org: Organization;
  if (op) {
    await ctx.client.create(Kinds.Organization, body);
    org = await eventually(
      async () => {
        const o = await ctx.client.get<Organization>(Kinds.Organization, body.metadata.name);
        return o && isOrganizationReady(o) ? o : false;
      },
      { timeoutMs: 60_000, describe: 'the bench organization Ready' },
    );
  } else {
    org = await writeAsOrganizationController(writer, await ctx.client.create<Organization>(Kinds.Organization, body));
  }
  const namespace = org.status!.namespace!;
  const m = { metadata: { name: 'owner', namespace }, spec: { email: ownerOf(namespace), role: 'MiniAppDeveloper', acceptance: 'Automatic' } };
  // The operator's webhook answers from its cache, which sees the namespace a moment later.
  const member = op ? await eventually(() => ctx.client.create<Membership>(Kinds.Membership, m), { describe: 'the owner' }) : await ctx.client.create<Membership>(Kinds.Membership, m);
  if (op) await eventually(async () => (await ctx.client.get<Membership>(Kinds.Membership, 'owner', namespace))?.status?.phase === 'Active', { timeoutMs: 60_000, describe: 'the owner Active' });
  return { org, namespace, member };
}

interface OperatorPhase {
  op: BenchOperator;
  namespace: string;
  seconds: number;
  createSeconds: number;
  busyCpuSeconds: number;
  idleCpuSeconds: number;
  peakRssMB: number;
  writesPerKey: number;
  figures: Figure[];
}

/** N keys through the operator, from the first create to all Active. Leaves the operator running (the verify scenario uses it). */
async function operatorPhase(ctx: BenchContext, api: ApiServerMetrics, args: string[] = []): Promise<OperatorPhase> {
  const op = await startOperator(ctx, operatorNamespace(ctx), { args });
  ctx.defer('remove the operator webhook', () => removeOperatorWebhook(ctx.client, operatorNamespace(ctx)));
  const atReady = op.sample();
  const { namespace } = await organizationWithOwner(ctx, 'operator', op);
  let maxQueueDepth = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const m = await op.metrics().catch(() => undefined);
      if (m) maxQueueDepth = Math.max(maxQueueDepth, metricSum(m, 'miniapps_workqueue_depth', { controller: 'apikey' }));
      await sleep(500);
    }
  })();
  ctx.log(`[apikeys] operator ready (pid ${op.pid}); creating ${ctx.n} ApiKeys in ${namespace}, ${ctx.concurrency} in flight`);
  const atStart = op.sample();
  const requestsBefore = await api.requestCounts();
  const t0 = performance.now();
  const active = convergence<ApiKey>(ctx.client, Kinds.ApiKey, {
    labelSelector: selector(ctx, 'operator'),
    n: ctx.n,
    done: isActive,
    timeoutMs: Math.max(180_000, ctx.n * 100),
    progress: (d) => ctx.log(`[apikeys] ${d}/${ctx.n} Active after ${seconds(t0).toFixed(1)}s`),
  });
  active.catch(() => {});
  await pool(ctx.n, ctx.concurrency, async (i) => {
    await ctx.client.create(Kinds.ApiKey, keyBody(ctx, 'operator', namespace, i));
  });
  const createSeconds = seconds(t0);
  const tActive = await active;
  const atActive = op.sample();
  sampling = false;
  await sampler;
  const total = seconds(t0, tActive);
  const requestsAfter = await api.requestCounts();
  ctx.log(`[apikeys] all ${ctx.n} Active in ${total.toFixed(2)}s; idle for ${IDLE_MS / 1000}s`);
  await sleep(IDLE_MS);
  const afterIdle = op.sample();
  const metrics = await op.metrics();
  const delta = requestDelta(requestsBefore, requestsAfter);
  const count = metricSum(metrics, 'miniapps_reconcile_duration_seconds_count', { controller: 'apikey' });
  const sum = metricSum(metrics, 'miniapps_reconcile_duration_seconds_sum', { controller: 'apikey' });
  return {
    op,
    namespace,
    seconds: total,
    createSeconds,
    busyCpuSeconds: atActive.cpuSeconds - atStart.cpuSeconds,
    idleCpuSeconds: afterIdle.cpuSeconds - atActive.cpuSeconds,
    peakRssMB: afterIdle.peakRssMB,
    writesPerKey: writesPerOrg(delta, ctx.n),
    figures: [
      { label: 'first create → all Active', value: round(total), unit: 's' },
      { label: 'creates done after', value: round(createSeconds), unit: 's' },
      { label: 'operator CPU until all Active', value: round(atActive.cpuSeconds - atStart.cpuSeconds), unit: 's' },
      { label: `operator CPU in ${IDLE_MS / 1000}s after (idle)`, value: round(afterIdle.cpuSeconds - atActive.cpuSeconds, 3), unit: 's' },
      { label: 'operator RSS when ready (before any object)', value: round(atReady.rssMB, 1), unit: 'MB' },
      { label: 'operator peak RSS (VmHWM)', value: round(afterIdle.peakRssMB, 1), unit: 'MB' },
      { label: 'operator RSS at the end', value: round(afterIdle.rssMB, 1), unit: 'MB' },
      { label: 'apikey reconciles', value: metricSum(metrics, 'miniapps_reconcile_total', { controller: 'apikey' }) },
      { label: 'apikey reconcile errors', value: metricSum(metrics, 'miniapps_reconcile_errors_total', { controller: 'apikey' }) },
      { label: 'apikey reconcile mean duration', value: count ? round((sum / count) * 1000, 1) : 'n/a', unit: 'ms' },
      { label: 'apikey work queue max depth (sampled)', value: maxQueueDepth },
      ...perOrg(delta, ctx.n, '/key'),
    ],
  };
}

/**
 * The writes the ApiKey controller makes for a new key, in order and with the same pure
 * functions: the revision's Secret (create), the owner's Role and RoleBinding side by side,
 * the status (compare-and-swap).
 */
async function writeAsApiKeyController(writer: ObjectWriter, created: ApiKey, member: Membership, org: Organization): Promise<void> {
  const now = new Date();
  const lookup = { organizationOf: () => org, memberByEmail: () => member, isProvisioningAdministrator: () => false };
  const key = generateKey();
  const secret = await writer.create<{ metadata: { creationTimestamp?: string } }>(Resources.Secret, keySecret(created, 0, key));
  const issued: IssuedKey = { keyId: key.keyId, fingerprint: key.fingerprint, createdAt: secret.metadata.creationTimestamp!, secretName: keySecret(created, 0, key).metadata.name!, revision: 0 };
  const fields = keyFields(created, now, issued);
  const access = keyAccess(created, [issued.secretName], { userPrefix: '' });
  await Promise.all([writer.apply(Resources.Role, access.role), writer.apply(Resources.RoleBinding, access.roleBinding)]);
  const { condition: valid } = validityCheck(created, now);
  const owner = ownerCheck(created, lookup, 'none');
  const conditions = conditionsFromChecks(apiKeyChecks(valid, owner, issuedCheck(fields, valid, owner, member.spec.email)), {
    reason: ApiKeyReasons.Ready,
    message: `Key ${fields.prefix} is active until ${fields.expiresAt}`,
  });
  await writer.applyStatus(
    Kinds.ApiKey,
    created,
    {
      ...fields,
      phase: phaseOf(created, valid, owner, fields),
      observedGeneration: created.metadata.generation,
      conditions: replaceConditions(undefined, conditions, created.metadata.generation, now),
    },
    { resourceVersion: created.metadata.resourceVersion },
  );
}

async function floorPhase(ctx: BenchContext, api: ApiServerMetrics): Promise<{ seconds: number; writesPerKey: number; figures: Figure[] }> {
  const writer = new ObjectWriter(ctx.client);
  const { org, namespace, member } = await organizationWithOwner(ctx, 'floor');
  ctx.log(`[apikeys] floor: ${ctx.n} ApiKeys and their writes from a plain client loop, ${ctx.concurrency} in flight`);
  const requestsBefore = await api.requestCounts();
  const t0 = performance.now();
  await pool(ctx.n, ctx.concurrency, async (i) => {
    const created = await ctx.client.create<ApiKey>(Kinds.ApiKey, keyBody(ctx, 'floor', namespace, i));
    await writeAsApiKeyController(writer, created, member, org);
  });
  const total = seconds(t0);
  const delta = requestDelta(requestsBefore, await api.requestCounts());
  return { seconds: total, writesPerKey: writesPerOrg(delta, ctx.n), figures: [{ label: 'first create → all written', value: round(total), unit: 's' }, ...perOrg(delta, ctx.n, '/key')] };
}

export const apikeys: Scenario = {
  name: 'apikeys',
  description: 'N ApiKeys of one member until all are Active (Secret, owner RBAC, status), with the operator, against the same writes from a plain client loop',
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const api = new ApiServerMetrics(ctx.kubeconfig);
    await ensurePlatformConfig(ctx);
    const op = await operatorPhase(ctx, api).catch(async (err: unknown) => {
      await releasePlatformConfig(ctx);
      throw err;
    });
    await op.op.stop();
    await removeOperatorWebhook(ctx.client, operatorNamespace(ctx));
    await sleep(1000); // the API server drops the webhook from its configuration asynchronously
    ctx.log('[apikeys] floor phase: the same writes from a plain client loop, no operator');
    const floor = await floorPhase(ctx, api).finally(() => releasePlatformConfig(ctx));
    const ratio = op.seconds / floor.seconds;
    return {
      table: [
        { phase: `operator (N=${ctx.n}, concurrency ${ctx.concurrency})`, figures: op.figures },
        { phase: 'floor (plain client, no operator)', figures: floor.figures },
        {
          phase: 'result',
          figures: [
            { label: 'ratio operator / floor', value: round(ratio), unit: '(target ≤ 1.5)' },
            { label: 'operator peak RSS', value: round(op.peakRssMB, 1), unit: '(target < 250 MB)' },
          ],
        },
        ...profileSection(ctx),
      ],
      summary: {
        bench: 'apikeys',
        n: ctx.n,
        concurrency: ctx.concurrency,
        seconds: round(op.seconds, 3),
        floorSeconds: round(floor.seconds, 3),
        ratio: round(ratio, 3),
        peakRssMB: round(op.peakRssMB, 1),
        busyCpuSeconds: round(op.busyCpuSeconds, 3),
        idleCpuSeconds: round(op.idleCpuSeconds, 3),
        createSeconds: round(op.createSeconds, 3),
        writesPerKey: op.writesPerKey,
        floorWritesPerKey: floor.writesPerKey,
      },
    };
  },
};

/**
 * `connections` keep-alive connections (plain sockets, so that the load generator costs
 * little of the cores it shares with the operator), each sending POST /verify one after
 * the other (no pipelining) for `durationMs`, about keys picked at random. Returns the
 * count, the answers other than 200 valid:true, and the latencies.
 */
async function load(port: number, callerToken: string, keys: string[], connections: number, durationMs: number): Promise<{ count: number; invalid: number; errors: number; latencies: Float64Array }> {
  const requests = keys.map((k) => {
    const body = JSON.stringify({ apiKey: k });
    return Buffer.from(
      `POST /verify HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${callerToken}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  });
  let latencies = new Float64Array(1 << 20);
  let count = 0;
  let invalid = 0;
  let errors = 0;
  const end = performance.now() + durationMs;
  const record = (t: number, ok: boolean) => {
    if (count === latencies.length) {
      const bigger = new Float64Array(latencies.length * 2);
      bigger.set(latencies);
      latencies = bigger;
    }
    latencies[count++] = performance.now() - t;
    if (!ok) invalid++;
  };
  /** One connection: send, read one whole response (Content-Length), repeat. */
  const connection = () =>
    new Promise<void>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.setNoDelay(true);
      let buffered: Buffer = Buffer.alloc(0);
      let sentAt = 0;
      const send = () => {
        if (performance.now() >= end) return void socket.end(resolve);
        sentAt = performance.now();
        socket.write(requests[Math.floor(Math.random() * requests.length)]!);
      };
      socket.on('connect', send);
      socket.on('data', (chunk: Buffer) => {
        buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
        for (;;) {
          const head = buffered.indexOf('\r\n\r\n');
          if (head < 0) return;
          const length = Number(/content-length: (\d+)/i.exec(buffered.subarray(0, head).toString('latin1'))?.[1] ?? 0);
          if (buffered.length < head + 4 + length) return;
          const ok = buffered.subarray(9, 12).toString() === '200' && buffered.subarray(head + 4, head + 4 + 13).toString() === '{"valid":true';
          buffered = buffered.subarray(head + 4 + length);
          record(sentAt, ok);
          send();
        }
      });
      socket.on('error', () => {
        errors++;
        resolve();
      });
    });
  await Promise.all(Array.from({ length: connections }, connection));
  return { count, invalid, errors, latencies: latencies.slice(0, count).sort() };
}

export const verify: Scenario = {
  name: 'verify',
  description: 'N keys made Active, then POST /verify over HTTP keep-alive on loopback by one ServiceAccount: verifications a second and latency percentiles',
  sizes: {
    keys: { default: 10_000, help: 'ApiKeys to verify among' },
    connections: { default: 16, help: 'keep-alive connections sending at once' },
    seconds: { default: 10, help: 'how long the load runs' },
  },
  n: (s) => s.keys!,
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const api = new ApiServerMetrics(ctx.kubeconfig);
    await ensurePlatformConfig(ctx);
    // The per-caller limit would otherwise be what is measured.
    const phase = await operatorPhase(ctx, api, ['--verify-rate-limit=1000000000', '--verify-rate-burst=1000000']);
    const { op, namespace } = phase;
    const port = op.process.verifyPort;
    ctx.log(`[verify] reading the ${ctx.n} keys; a ServiceAccount bound to ${VERIFIER_ROLE} asks on 127.0.0.1:${port}`);
    const all = (await ctx.client.listAll<ApiKey>(Kinds.ApiKey, { namespace, labelSelector: selector(ctx, 'operator') })).items;
    const keys: string[] = [];
    await pool(all.length, ctx.concurrency, async (i) => {
      keys[i] = await readKey(ctx.client, all[i]!);
    });
    const saNamespace = operatorNamespace(ctx);
    await ctx.client.apply(Resources.ClusterRoleBinding, {
      metadata: { name: `bench-${ctx.runId}-verifier` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: VERIFIER_ROLE },
      subjects: [{ kind: 'ServiceAccount', name: 'gateway', namespace: saNamespace }],
    });
    ctx.defer('delete the verifier binding', async () => void (await ctx.client.delete(Resources.ClusterRoleBinding, `bench-${ctx.runId}-verifier`)));
    const token = await serviceAccountToken(ctx.client, saNamespace, 'gateway');
    // Warm up (the caller's TokenReview and SubjectAccessReview, JIT) until a verification succeeds.
    await eventually(async () => (await load(port, token, keys.slice(0, 1), 1, 1)).invalid === 0, { describe: 'a first successful verification' });
    await load(port, token, keys, ctx.sizes.connections!, 2_000);
    const before = op.sample();
    const durationMs = ctx.sizes.seconds! * 1000;
    ctx.log(`[verify] ${ctx.sizes.connections} connections for ${ctx.sizes.seconds}s`);
    const r = await load(port, token, keys, ctx.sizes.connections!, durationMs);
    const after = op.sample();
    const perSecond = r.count / (durationMs / 1000);
    const p50 = percentile(r.latencies, 50);
    const p99 = percentile(r.latencies, 99);
    const p999 = percentile(r.latencies, 99.9);
    const cpu = after.cpuSeconds - before.cpuSeconds;
    await op.stop();
    return {
      table: [
        { phase: `keys (N=${ctx.n})`, figures: phase.figures.slice(0, 2) },
        {
          phase: `verify over HTTP keep-alive (${ctx.sizes.connections} connections, ${ctx.sizes.seconds}s)`,
          figures: [
            { label: 'verifications', value: r.count },
            { label: 'verifications a second', value: round(perSecond, 0), unit: '(target ≥ 10,000)' },
            { label: 'latency p50', value: round(p50, 2), unit: 'ms' },
            { label: 'latency p99', value: round(p99, 2), unit: 'ms (target < 5)' },
            { label: 'latency p99.9', value: round(p999, 2), unit: 'ms' },
            { label: 'answers not valid:true', value: r.invalid },
            { label: 'connection errors', value: r.errors },
            { label: 'operator CPU during the load', value: round(cpu, 2), unit: `s (${round((cpu / (durationMs / 1000)) * 100, 0)}% of a core)` },
            { label: 'operator peak RSS (VmHWM)', value: round(after.peakRssMB, 1), unit: 'MB' },
          ],
        },
        ...profileSection(ctx),
      ],
      summary: {
        bench: 'verify',
        n: ctx.n,
        connections: ctx.sizes.connections!,
        seconds: ctx.sizes.seconds!,
        verifications: r.count,
        perSecond: round(perSecond, 0),
        p50Ms: round(p50, 3),
        p99Ms: round(p99, 3),
        p999Ms: round(p999, 3),
        invalid: r.invalid,
        errors: r.errors,
        operatorCpuSeconds: round(cpu, 2),
        peakRssMB: round(after.peakRssMB, 1),
        keysSeconds: round(phase.seconds, 3),
      },
    };
  },
};
