// Scenario "catalogs": O organizations with a super app each, M mini apps spread over them
// (each targeting its organization's super app) and an approving review per mini app, from
// the first apply until every catalog lists its mini apps, every mini app is Listed and
// every review Ready; then the same API writes from a plain client loop (the floor); then
// one mini app change, which must rewrite exactly its super app's catalog within a second.
import { MiniAppConditions } from '../api/miniapp/names.ts';
import { MiniAppReviewConditions } from '../api/miniappreview/names.ts';
import { PLATFORM_CONFIG_NAME } from '../api/platformconfig/names.ts';
import { SuperAppConditions } from '../api/superapp/names.ts';
import type { MiniApp } from '../api/miniapp/schema.ts';
import type { MiniAppReview } from '../api/miniappreview/schema.ts';
import type { Organization } from '../api/organization/schema.ts';
import type { SuperApp } from '../api/superapp/schema.ts';
import { MINIAPP_FINALIZER } from '../controllers/miniapp/controller.ts';
import { Kinds } from '../api/registry.ts';
import { ownedLabels } from '../runtime/objects.ts';
import { CATALOG_KEY, buildCatalog, canonicalJson, catalogConfigMapName, contentHash, dataKeySecretName, describeContent, reviewedContentOf, reviewedDigest } from '../domain/apps.ts';
import { newKey, wrapDataKey } from '../controllers/miniapp/envelope.ts';
import { ObjectWriter, controllerRef } from '../runtime/apply.ts';
import { setConditions } from '../runtime/conditions.ts';
import { ApiError } from '../runtime/errors.ts';
import type { AnyObject, ObjectBody } from '../runtime/kube/client.ts';
import { Resources } from '../runtime/kube/resource.ts';
import { ApiServerMetrics, requestDelta } from './apiserver.ts';
import { convergence } from './converge.ts';
import { metricSum, pool, seconds, sleep } from './measure.ts';
import { removeOperatorWebhook, startOperator } from './operator.ts';
import { PHASE_LABEL, RUN_LABEL, perOrg, comparisonTable, round, writesPerOrg } from './organizations.ts';
import type { BenchContext, Figure, Scenario, ScenarioResult } from './scenario.ts';

const IDLE_MS = 5_000;
const CATEGORIES = ['Payments', 'Shopping', 'Travel', 'Utilities'];

const ready = (o: { metadata: { generation?: number }; status?: { observedGeneration?: number; conditions?: { type: string; status: string }[] } }, type = 'Ready') =>
  o.status?.observedGeneration === o.metadata.generation && o.status?.conditions?.find((c) => c.type === type)?.status === 'True';

interface Layout {
  orgs: number;
  miniApps: number;
  /** Organization, namespace and super app of organization i. */
  org(i: number): { name: string; ns: string };
  /** The organization index of mini app j. */
  ownerOf(j: number): number;
  miniName(j: number): string;
  perSuperApp(i: number): number;
}

function layout(ctx: BenchContext, phase: string): Layout {
  const orgs = ctx.sizes.orgs!;
  const miniApps = ctx.sizes.miniapps!;
  const org = (i: number) => {
    const name = `c${ctx.runId}-${phase.slice(0, 2)}-${i}`;
    return { name, ns: `org-${name}` };
  };
  return {
    orgs,
    miniApps,
    org,
    ownerOf: (j) => j % orgs,
    miniName: (j) => `app-${j}`,
    perSuperApp: (i) => Math.floor(miniApps / orgs) + (i < miniApps % orgs ? 1 : 0),
  };
}

const labels = (ctx: BenchContext, phase: string) => ({ [RUN_LABEL]: ctx.runId, [PHASE_LABEL]: phase });
const selector = (ctx: BenchContext, phase: string) => `${RUN_LABEL}=${ctx.runId},${PHASE_LABEL}=${phase}`;

function superAppBody(ctx: BenchContext, phase: string, l: Layout, i: number): ObjectBody {
  // Every tenth mini app of the organization is featured (in reverse order, so featured-first shows).
  const featured = Array.from({ length: l.perSuperApp(i) }, (_, k) => i + k * l.orgs)
    .filter((_, k) => k % 10 === 0)
    .reverse()
    .map((j) => ({ name: l.miniName(j) }));
  return { metadata: { name: 'wallet', namespace: l.org(i).ns, labels: labels(ctx, phase) }, spec: { displayName: `Wallet ${i}`, platforms: ['Android', 'iOS'], featured } };
}

function miniAppBody(ctx: BenchContext, phase: string, l: Layout, j: number): ObjectBody {
  return {
    metadata: { name: l.miniName(j), namespace: l.org(l.ownerOf(j)).ns, labels: labels(ctx, phase) },
    spec: {
      appName: `app_${j}`,
      type: j % 3 === 0 ? 'Intent' : 'Numeric',
      ...(j % 3 === 0 ? { domain: 'payments' } : {}),
      superApps: [{ name: 'wallet' }],
      categories: [CATEGORIES[j % CATEGORIES.length]!],
      locations: ['KE', 'UG'],
      versions: [{ name: '1.0.0' }],
      publishedVersion: '1.0.0',
      // Every seventh has its data encrypted (a data key each).
      dataPrivacy: { protection: j % 7 === 0 ? 'EnvelopeEncryption' : j % 7 === 1 ? 'IrreversibleMasking' : 'None' },
    },
  };
}

function reviewBody(ctx: BenchContext, phase: string, l: Layout, j: number): ObjectBody {
  const owner = l.org(l.ownerOf(j));
  return {
    metadata: { name: `${l.miniName(j)}-1.0.0`, namespace: owner.ns, labels: labels(ctx, phase) },
    spec: { miniApp: { organization: owner.name, name: l.miniName(j) }, superApp: 'wallet', version: '1.0.0', decision: 'Approved' },
  };
}

/** Creates, retrying while the webhook has not seen what the object names yet (a review right after its mini app). */
async function createAdmitted(ctx: BenchContext, rt: typeof Kinds.MiniApp, body: ObjectBody, retried: { n: number }): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await ctx.client.create(rt, body);
      return;
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 403 && /does not exist/.test(err.message)) || attempt > 50) throw err;
      retried.n++;
      await sleep(100);
    }
  }
}

async function createOrganizations(ctx: BenchContext, phase: string, l: Layout, createNamespaces: boolean): Promise<void> {
  await pool(l.orgs, ctx.concurrency, async (i) => {
    const { name, ns } = l.org(i);
    await ctx.client.create(Kinds.Organization, { metadata: { name, labels: labels(ctx, phase) }, spec: { displayName: `Catalog bench ${i}`, capabilities: { superApps: true, miniApps: true } } });
    if (createNamespaces) await ctx.client.create(Resources.Namespace, { metadata: { name: ns, labels: { ...labels(ctx, phase) } } });
  });
}

interface OperatorPhase {
  seconds: number;
  peakRssMB: number;
  idleCpuSeconds: number;
  quietCpuSeconds: number;
  reconcilesAtRest: number;
  writes: number;
  catalogWrites: number;
  change: { seconds: number; catalogWrites: number; otherCatalogsRewritten: number };
  figures: Figure[];
}

async function operatorPhase(ctx: BenchContext, api: ApiServerMetrics): Promise<OperatorPhase> {
  const phase = 'operator';
  const l = layout(ctx, phase);
  const namespace = `miniapps-bench-${ctx.runId}`;
  const op = await startOperator(ctx, namespace);
  ctx.defer('remove the operator webhook', () => removeOperatorWebhook(ctx.client, namespace));
  ctx.log(`[catalogs] operator ready (pid ${op.pid}); ${l.orgs} organizations first (not timed)`);
  await createOrganizations(ctx, phase, l, false);
  await convergence<Organization>(ctx.client, Kinds.Organization, { labelSelector: selector(ctx, phase), n: l.orgs, done: (o) => ready(o), timeoutMs: 120_000 });
  const atStart = op.sample();
  const requestsBefore = await api.requestCounts();
  const writesBefore = metricSum(await op.metrics(), 'miniapps_catalog_writes_total');
  const retried = { n: 0 };
  ctx.log(`[catalogs] applying ${l.orgs} super apps, ${l.miniApps} mini apps, ${l.miniApps} reviews`);
  const t0 = performance.now();
  const expected = (s: SuperApp) => Number(s.metadata.namespace!.split('-').at(-1));
  const watch = <T extends AnyObject>(rt: typeof Kinds.SuperApp, n: number, done: (o: T) => boolean, what: string) =>
    convergence<T>(ctx.client, rt, {
      labelSelector: selector(ctx, phase),
      n,
      done,
      timeoutMs: Math.max(300_000, l.miniApps * 120),
      progress: (d) => ctx.log(`[catalogs] ${what}: ${d}/${n} after ${seconds(t0).toFixed(1)}s`),
      progressMs: 5_000,
    });
  const converged = Promise.all([
    watch<SuperApp>(Kinds.SuperApp, l.orgs, (s) => ready(s) && s.status?.catalog?.miniApps === l.perSuperApp(expected(s)), 'catalogs complete'),
    watch<MiniApp>(Kinds.MiniApp, l.miniApps, (m) => ready(m) && m.status?.superApps?.[0]?.state === 'Listed', 'mini apps Listed'),
    watch<MiniAppReview>(Kinds.MiniAppReview, l.miniApps, (r) => ready(r, MiniAppReviewConditions.TargetResolved), 'reviews resolved'),
  ]);
  converged.catch(() => {});
  await pool(l.orgs, ctx.concurrency, (i) => ctx.client.create(Kinds.SuperApp, superAppBody(ctx, phase, l, i)).then(() => undefined));
  await pool(l.miniApps, ctx.concurrency, (j) => ctx.client.create(Kinds.MiniApp, miniAppBody(ctx, phase, l, j)).then(() => undefined));
  const appliedMinis = seconds(t0);
  await pool(l.miniApps, ctx.concurrency, (j) => createAdmitted(ctx, Kinds.MiniAppReview, reviewBody(ctx, phase, l, j), retried));
  const applied = seconds(t0);
  const done = Math.max(...(await converged));
  const total = seconds(t0, done);
  const atConvergence = op.sample();
  const requestsAfter = await api.requestCounts();
  const metricsAtConvergence = await op.metrics();
  const catalogWrites = metricSum(metricsAtConvergence, 'miniapps_catalog_writes_total') - writesBefore;
  ctx.log(`[catalogs] converged in ${total.toFixed(2)}s (${catalogWrites} catalog writes); idle for ${IDLE_MS / 1000}s`);

  await sleep(IDLE_MS);
  const afterIdle = op.sample();
  const reconcilesBeforeQuiet = metricSum(await op.metrics(), 'miniapps_reconcile_total');
  await sleep(IDLE_MS);
  const afterQuiet = op.sample();
  const reconcilesAtRest = metricSum(await op.metrics(), 'miniapps_reconcile_total') - reconcilesBeforeQuiet;

  // One mini app change: only its super app's catalog is rewritten, within a second.
  const target = l.org(l.ownerOf(l.miniApps - 1));
  const catalogs = async () =>
    new Map(
      (await ctx.client.list<AnyObject>(Resources.ConfigMap, { labelSelector: 'miniapps.dev/catalog=live' })).items
        .filter((c) => c.metadata.namespace!.includes(`c${ctx.runId}-op-`))
        .map((c) => [`${c.metadata.namespace}/${c.metadata.name}`, c.metadata.resourceVersion]),
    );
  const before = await catalogs();
  const writesBeforeChange = metricSum(await op.metrics(), 'miniapps_catalog_writes_total');
  const tc = performance.now();
  await ctx.client.patch(Kinds.MiniApp, l.miniName(l.miniApps - 1), target.ns, { spec: { locations: ['KE', 'UG', 'TZ'] } });
  const key = `${target.ns}/${catalogConfigMapName('wallet')}`;
  let changeSeconds = NaN;
  for (const deadline = performance.now() + 10_000; performance.now() < deadline; await sleep(20)) {
    const cm = await ctx.client.get<AnyObject>(Resources.ConfigMap, catalogConfigMapName('wallet'), target.ns);
    if (cm?.metadata.resourceVersion !== before.get(key)) {
      changeSeconds = seconds(tc);
      break;
    }
  }
  await sleep(1_500);
  const after = await catalogs();
  const otherCatalogsRewritten = [...after].filter(([k, v]) => k !== key && before.get(k) !== v).length;
  const changeWrites = metricSum(await op.metrics(), 'miniapps_catalog_writes_total') - writesBeforeChange;
  const metrics = await op.metrics();
  await op.stop();

  const delta = requestDelta(requestsBefore, requestsAfter);
  const n = l.miniApps;
  const reconcileFigures = ['superapp', 'miniapp', 'miniappreview', 'organization'].map((c) => ({
    label: `reconciles (${c})`,
    value: metricSum(metricsAtConvergence, 'miniapps_reconcile_total', { controller: c }),
  }));
  const figures: Figure[] = [
    { label: 'first apply → every catalog, mini app and review converged', value: round(total), unit: 's' },
    { label: 'mini apps applied after', value: round(appliedMinis), unit: 's' },
    { label: 'reviews applied after', value: round(applied), unit: 's' },
    { label: 'reviews retried (webhook had not seen the mini app yet)', value: retried.n },
    { label: 'operator CPU until converged', value: round(atConvergence.cpuSeconds - atStart.cpuSeconds), unit: 's' },
    { label: `operator CPU in ${IDLE_MS / 1000}s after (idle)`, value: round(afterIdle.cpuSeconds - atConvergence.cpuSeconds, 3), unit: 's' },
    { label: `operator CPU in the next ${IDLE_MS / 1000}s`, value: round(afterQuiet.cpuSeconds - afterIdle.cpuSeconds, 3), unit: 's' },
    { label: `reconciles in those ${IDLE_MS / 1000}s (at rest)`, value: reconcilesAtRest },
    { label: 'operator RSS before the apply', value: round(atStart.rssMB, 1), unit: 'MB' },
    { label: 'operator peak RSS (VmHWM)', value: round(afterQuiet.peakRssMB, 1), unit: 'MB' },
    { label: 'operator RSS at the end', value: round(afterQuiet.rssMB, 1), unit: 'MB' },
    { label: 'catalog ConfigMap writes until converged', value: catalogWrites, unit: `(${round(catalogWrites / l.orgs, 1)}/super app)` },
    ...reconcileFigures,
    { label: 'reconcile errors', value: metricSum(metrics, 'miniapps_reconcile_errors_total') },
    { label: 'one mini app change → its catalog rewritten', value: round(changeSeconds, 3), unit: 's' },
    { label: 'catalog writes for that change', value: changeWrites },
    { label: 'other catalogs rewritten', value: otherCatalogsRewritten },
    ...perOrg(delta, n, '/mini app'),
  ];
  return {
    seconds: total,
    peakRssMB: afterQuiet.peakRssMB,
    idleCpuSeconds: afterIdle.cpuSeconds - atConvergence.cpuSeconds,
    quietCpuSeconds: afterQuiet.cpuSeconds - afterIdle.cpuSeconds,
    reconcilesAtRest,
    writes: writesPerOrg(delta, n),
    catalogWrites,
    change: { seconds: changeSeconds, catalogWrites: changeWrites, otherCatalogsRewritten },
    figures,
  };
}

const condition = (type: string, reason: string, message: string) => ({ type, status: 'True' as const, reason, message });

/**
 * The floor: the user's creates and the writes the controllers cannot avoid for them, made
 * by a plain client loop with the same concurrency and the same pure functions: per mini
 * app its create, finalizer, data key Secret (EnvelopeEncryption) and status
 * (AwaitingReview: its review comes after it), per
 * review its create and status and the mini app's status again (Listed), per super app its
 * create, one catalog ConfigMap and its status.
 */
async function floorPhase(ctx: BenchContext, api: ApiServerMetrics): Promise<{ seconds: number; writes: number; figures: Figure[] }> {
  const phase = 'floor';
  const l = layout(ctx, phase);
  const writer = new ObjectWriter(ctx.client);
  await createOrganizations(ctx, phase, l, true);
  const orgs = await Promise.all(Array.from({ length: l.orgs }, (_, i) => ctx.client.get<Organization>(Kinds.Organization, l.org(i).name)));
  // The namespace recorded in status, as the Organization controller would have (not timed).
  await pool(l.orgs, ctx.concurrency, async (i) => {
    await writer.applyStatus(Kinds.Organization, orgs[i]!, { namespace: l.org(i).ns });
  });
  const now = new Date();
  const kek = newKey();
  const requestsBefore = await api.requestCounts();
  const t0 = performance.now();
  const superApps: SuperApp[] = [];
  await pool(l.orgs, ctx.concurrency, async (i) => {
    superApps[i] = await ctx.client.create<SuperApp>(Kinds.SuperApp, superAppBody(ctx, phase, l, i));
  });
  const minis: MiniApp[] = [];
  const miniStatus = (m: MiniApp, i: number, state: 'AwaitingReview' | 'Listed') => ({
    organization: l.org(i).name,
    superApps: [
      {
        organization: l.org(i).name,
        name: 'wallet',
        state,
        ...(state === 'Listed' ? { version: '1.0.0' } : { pendingVersion: '1.0.0' }),
        message: state === 'Listed' ? 'Listed at version 1.0.0' : 'Not listed yet: version 1.0.0 waits for an Approved MiniAppReview in the namespace of super app x/wallet',
      },
    ],
    observedGeneration: m.metadata.generation,
    conditions: setConditions(
      undefined,
      [
        condition(MiniAppConditions.Allowed, 'Allowed', `Organization ${l.org(i).name} may create mini apps`),
        condition(MiniAppConditions.TargetsValid, 'TargetsValid', 'All 1 target(s) are allowed'),
        condition(MiniAppConditions.CategoriesValid, 'CategoriesValid', '1 categor(ies), all allowed by PlatformConfig'),
        condition(MiniAppConditions.TargetsResolved, 'TargetsResolved', 'All 1 target super app(s) exist'),
        condition(MiniAppConditions.Ready, 'Ready', 'The mini app is ready: listed in 1 of 1 super app(s); status.superApps says where it stands in each'),
      ],
      m.metadata.generation,
      now,
    ),
  });
  await pool(l.miniApps, ctx.concurrency, async (j) => {
    const i = l.ownerOf(j);
    const created = await ctx.client.create<MiniApp>(Kinds.MiniApp, miniAppBody(ctx, phase, l, j));
    const m = await writer.addFinalizer(Kinds.MiniApp, created, MINIAPP_FINALIZER);
    if (created.spec.dataPrivacy?.protection === 'EnvelopeEncryption') {
      const wrapped = wrapDataKey(kek, 'v1', newKey(), created.metadata.uid!);
      await writer.create(Resources.Secret, {
        metadata: {
          name: dataKeySecretName(created.metadata.name),
          namespace: created.metadata.namespace,
          labels: { ...ownedLabels('MiniApp', created.metadata.name), 'miniapps.dev/data-key': 'true' },
          ownerReferences: [controllerRef(created)],
        },
        type: 'miniapps.dev/data-key',
        data: { wrappedKey: wrapped.toString('base64'), keyEncryptionKeyId: Buffer.from('v1').toString('base64'), miniAppUid: Buffer.from(created.metadata.uid!).toString('base64') },
      });
    }
    minis[j] = (await writer.applyStatus<MiniApp>(Kinds.MiniApp, m, miniStatus(m, i, 'AwaitingReview'))) ?? m;
  });
  await pool(l.miniApps, ctx.concurrency, async (j) => {
    const i = l.ownerOf(j);
    const r = await ctx.client.create<MiniAppReview>(Kinds.MiniAppReview, reviewBody(ctx, phase, l, j));
    const content = reviewedContentOf(minis[j]!);
    await writer.applyStatus(Kinds.MiniAppReview, r, {
      approvedContent: { observedGeneration: r.metadata.generation ?? 0, digest: reviewedDigest(content), ...content },
      observedGeneration: r.metadata.generation,
      conditions: setConditions(
        undefined,
        [
          condition(
            MiniAppReviewConditions.TargetResolved,
            'TargetResolved',
            `Approved version 1.0.0 of MiniApp ${l.org(i).name}/${l.miniName(j)} for SuperApp wallet, as it is: ${describeContent(content)} (status.approvedContent)`,
          ),
          condition('Ready', 'Ready', 'The review applies'),
        ],
        r.metadata.generation,
        now,
      ),
    });
    await writer.applyStatus(Kinds.MiniApp, minis[j]!, miniStatus(minis[j]!, i, 'Listed'));
  });
  await pool(l.orgs, ctx.concurrency, async (i) => {
    const sa = superApps[i]!;
    const listed = minis.filter((_, j) => l.ownerOf(j) === i).map((mini) => ({ mini, organization: l.org(i).name, version: '1.0.0' }));
    const json = canonicalJson(buildCatalog(sa, l.org(i).name, listed).catalog);
    const hash = contentHash(json);
    const name = catalogConfigMapName('wallet');
    await writer.create(Resources.ConfigMap, {
      metadata: {
        name,
        namespace: l.org(i).ns,
        labels: { ...ownedLabels('SuperApp', 'wallet'), 'miniapps.dev/catalog': 'live' },
        annotations: { 'miniapps.dev/catalog-hash': hash },
        ownerReferences: [controllerRef(sa)],
      },
      data: { [CATALOG_KEY]: json },
    });
    await writer.applyStatus(Kinds.SuperApp, sa, {
      organization: l.org(i).name,
      catalog: { configMapName: name, miniApps: listed.length, hash },
      observedGeneration: sa.metadata.generation,
      conditions: setConditions(
        undefined,
        [
          condition(SuperAppConditions.Allowed, 'Allowed', `Organization ${l.org(i).name} may create super apps`),
          condition(SuperAppConditions.PlatformsValid, 'PlatformsValid', '2 platform(s), all allowed by PlatformConfig'),
          condition(SuperAppConditions.CatalogPublished, 'CatalogPublished', `ConfigMap ${name} lists ${listed.length} mini app(s) (${hash.slice(0, 19)}…)`),
          condition(SuperAppConditions.FeaturedListed, 'FeaturedListed', 'Every featured mini app is in the catalog, shown first'),
          condition('Ready', 'Ready', 'The catalog is published'),
        ],
        sa.metadata.generation,
        now,
      ),
    });
  });
  const total = seconds(t0);
  const delta = requestDelta(requestsBefore, await api.requestCounts());
  return { seconds: total, writes: writesPerOrg(delta, l.miniApps), figures: [{ label: 'first create → all written', value: round(total), unit: 's' }, ...perOrg(delta, l.miniApps, '/mini app')] };
}

export const catalogs: Scenario = {
  name: 'catalogs',
  description:
    'O organizations with a super app each, M mini apps and M approving reviews until every catalog, mini app and review converged, against the same writes from a plain client loop; then one mini app change',
  sizes: {
    orgs: { default: 50, help: 'organizations, one super app each' },
    miniapps: { default: 5000, help: 'mini apps (and as many reviews), spread over the organizations' },
  },
  n: (sizes) => sizes.miniapps!,
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    if (!ctx.disposableCluster) throw new Error('scenario catalogs runs only on the control plane it starts (it does not clean up a shared cluster)');
    const api = new ApiServerMetrics(ctx.kubeconfig);
    await ctx.client.apply(Kinds.PlatformConfig, { metadata: { name: PLATFORM_CONFIG_NAME }, spec: { categories: CATEGORIES, platforms: ['Android', 'iOS', 'Web'] } });
    const op = await operatorPhase(ctx, api);
    await removeOperatorWebhook(ctx.client, `miniapps-bench-${ctx.runId}`);
    await sleep(1000);
    ctx.log('[catalogs] floor phase: the same writes from a plain client loop, no operator');
    const floor = await floorPhase(ctx, api);
    const ratio = op.seconds / floor.seconds;
    const table = comparisonTable(ctx, `operator (${ctx.sizes.orgs} organizations, ${ctx.sizes.miniapps} mini apps and reviews, concurrency ${ctx.concurrency})`, op, floor);
    return {
      table,
      summary: {
        bench: 'catalogs',
        n: ctx.n,
        orgs: ctx.sizes.orgs!,
        miniApps: ctx.sizes.miniapps!,
        concurrency: ctx.concurrency,
        seconds: round(op.seconds, 3),
        floorSeconds: round(floor.seconds, 3),
        ratio: round(ratio, 3),
        peakRssMB: round(op.peakRssMB, 1),
        idleCpuSeconds: round(op.idleCpuSeconds, 3),
        quietCpuSeconds: round(op.quietCpuSeconds, 3),
        reconcilesAtRest: op.reconcilesAtRest,
        catalogWrites: op.catalogWrites,
        changeSeconds: round(op.change.seconds, 3),
        changeCatalogWrites: op.change.catalogWrites,
        otherCatalogsRewritten: op.change.otherCatalogsRewritten,
        writesPerMiniApp: op.writes,
        floorWritesPerMiniApp: floor.writes,
      },
    };
  },
};
