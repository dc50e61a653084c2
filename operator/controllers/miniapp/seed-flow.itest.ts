// The app side of the platform, end to end on the real control plane, as the seed tells
// it: a provisioning administrator creates a bank that may create super apps and a
// partner that may publish mini apps only into the bank's super app; the partner's
// developer (impersonated) publishes a mini app there and is refused for another; the
// bank's reviewer approves it; it appears in the catalog, featured first; a version
// freezes the catalog, which then never changes whatever happens; the mini app is
// deleted only with CONFIRM DELETE and leaves the catalog.
import { execFile } from 'node:child_process';
import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLATFORM_CONFIG_NAME } from '../../api/platformconfig/schema.ts';
import type { MiniApp } from '../../api/miniapp/schema.ts';
import type { Organization } from '../../api/organization/schema.ts';
import type { SuperApp } from '../../api/superapp/schema.ts';
import { ApiError } from '../../runtime/errors.ts';
import { KubeClient } from '../../runtime/kube/client.ts';
import { Resources } from '../../runtime/kube/resource.ts';
import { accessAllowed } from '../../testenv/access.ts';
import { deleteOrganizationsAndWait, testClient } from '../../testenv/clients.ts';
import { eventually, kubectl, testBinDir, testKubeconfig, uniqueName } from '../../testenv/index.ts';
import { OperatorProcess } from '../../testenv/operator-process.ts';
import type { ConfigMapObject } from '../../runtime/objects.ts';
import { Kinds } from '../../api/registry.ts';

const admin = testClient();
// Its own field manager: the PlatformConfig fields it applies merge with other tests' (sets).
const platform = KubeClient.fromKubeconfig(testKubeconfig(), { fieldManager: 'test-seed-flow' });
const PROVISIONER = `provisioner-${uniqueName('p')}@platform.example`;
const bank = uniqueName('bank');
const partner = uniqueName('partner');
const bankNs = `org-${bank}`;
const partnerNs = `org-${partner}`;
const people = {
  bankAdmin: `admin@${bank}.example`,
  reviewer: `reviewer@${bank}.example`,
  partnerAdmin: `admin@${partner}.example`,
  developer: `dev@${partner}.example`,
};
let operator: OperatorProcess;

const as = (user: string) => ({ as: { user } });
type WithConditions = { status?: { conditions?: { type: string; status: string; reason: string; message: string }[] } };
const cond = (o: WithConditions | undefined, type: string) => o?.status?.conditions?.find((c) => c.type === type);
const getMini = (name: string) => admin.get<MiniApp>(Kinds.MiniApp, name, partnerNs);
const getSuperApp = (name = 'wallet') => admin.get<SuperApp>(Kinds.SuperApp, name, bankNs);
const catalogMap = (name = 'wallet-catalog') => admin.get<ConfigMapObject>(Resources.ConfigMap, name, bankNs);
const catalog = async (name = 'wallet-catalog') => {
  const cm = await catalogMap(name);
  return cm?.data?.['catalog.json']
    ? (JSON.parse(cm.data['catalog.json']) as { superApp: { displayName: string }; miniApps: { name: string; version: string; featured: boolean; organization: string }[] })
    : undefined;
};
const listed = async () => (await catalog())?.miniApps.map((m) => `${m.organization}/${m.name}@${m.version}${m.featured ? '*' : ''}`);

/**
 * `kubectl miniapps ...` as a person runs it: kubectl finds the plugin on PATH (a link named
 * kubectl-miniapps to operator/cli/kubectl-miniapps.ts, run by this Node) and passes it the
 * arguments; stdin is a pipe, not a terminal.
 */
const pluginDir = mkdtempSync(join(tmpdir(), 'kubectl-plugins-'));
symlinkSync(fileURLToPath(new URL('../../cli/kubectl-miniapps.ts', import.meta.url)), join(pluginDir, 'kubectl-miniapps'));
function plugin(args: string[], opts: { as?: string; stdin?: string } = {}): Promise<{ stdout: string; stderr: string; code: number }> {
  const full = ['miniapps', ...args, `--kubeconfig=${testKubeconfig()}`, ...(opts.as ? [`--as=${opts.as}`] : [])];
  return new Promise((resolve) => {
    const child = execFile(
      join(testBinDir(), 'kubectl'),
      full,
      { env: { ...process.env, PATH: [pluginDir, dirname(process.execPath), process.env.PATH].join(':') }, encoding: 'utf8', timeout: 60_000 },
      (err, stdout, stderr) => resolve({ stdout, stderr, code: err ? (typeof err.code === 'number' ? err.code : 1) : 0 }),
    );
    child.stdin?.end(opts.stdin ?? '');
  });
}

async function refusal(p: Promise<unknown>): Promise<ApiError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ApiError)) throw new Error(`expected a refusal, got ${err === undefined ? 'success' : String(err)}`);
  return err;
}

/** A member who has access at once (acceptance Automatic), once RBAC lets them `verb resource`. */
async function member(ns: string, name: string, email: string, role: string, probe: { verb: string; resource: string }): Promise<void> {
  await admin.create(Kinds.Membership, { metadata: { name, namespace: ns }, spec: { email, role, acceptance: 'Automatic' } }, as(PROVISIONER));
  await eventually(() => accessAllowed(admin, email, { ...probe, namespace: ns }), { timeoutMs: 30_000, describe: `${email} may ${probe.verb} ${probe.resource} in ${ns}` });
}

const miniAppBody = (name: string, spec: Partial<MiniApp['spec']> = {}) => ({
  metadata: { name, namespace: partnerNs },
  spec: {
    appName: name.replaceAll('-', '_'),
    type: 'Numeric' as const,
    superApps: [{ organization: bank, name: 'wallet' }],
    categories: ['Payments'],
    locations: ['KE', 'AE'],
    versions: [{ name: '1.0.0' }],
    publishedVersion: '1.0.0',
    ...spec,
  },
});
const reviewBody = (name: string, mini: string, version: string, decision: 'Approved' | 'Rejected', comment?: string) => ({
  metadata: { name, namespace: bankNs },
  spec: { miniApp: { organization: partner, name: mini }, superApp: 'wallet', version, decision, ...(comment ? { comment } : {}) },
});

beforeAll(async () => {
  await platform.apply(Kinds.PlatformConfig, {
    metadata: { name: PLATFORM_CONFIG_NAME },
    spec: { provisioningAdministrators: { users: [PROVISIONER] }, categories: ['Payments', 'Shopping'], platforms: ['Android', 'iOS'] },
  });
  operator = await OperatorProcess.start({ kubeconfig: testKubeconfig(), namespace: uniqueName('op-apps') });
  await eventually(() => accessAllowed(admin, PROVISIONER, { verb: 'create', resource: 'organizations' }), { describe: 'the provisioning administrator bound' });
});

afterAll(async () => {
  // Its envelope-encrypted mini apps go with their organizations while this operator runs.
  await deleteOrganizationsAndWait(admin, [bank, partner]);
  await operator?.stop();
});

describe('the seed flow of super apps, mini apps and reviews', () => {
  it('a provisioning administrator creates a bank that may create super apps and a partner that may publish only into its wallet', async () => {
    await admin.create(Kinds.Organization, { metadata: { name: bank }, spec: { displayName: 'Bank', capabilities: { superApps: true } } }, as(PROVISIONER));
    await admin.create(
      Kinds.Organization,
      { metadata: { name: partner }, spec: { displayName: 'Partner', capabilities: { miniApps: true }, miniAppTargets: [{ organization: bank, name: 'wallet' }] } },
      as(PROVISIONER),
    );
    for (const name of [bank, partner])
      await eventually(async () => cond(await admin.get<Organization>(Kinds.Organization, name), 'NamespaceReady')?.status === 'True', { describe: `${name}'s namespace` });
    await member(bankNs, 'admin', people.bankAdmin, 'OrganizationAdministrator', { verb: 'create', resource: 'superapps' });
    await member(bankNs, 'reviewer', people.reviewer, 'MiniAppReviewer', { verb: 'create', resource: 'miniappreviews' });
    await member(partnerNs, 'admin', people.partnerAdmin, 'OrganizationAdministrator', { verb: 'create', resource: 'miniapps' });
    await member(partnerNs, 'dev', people.developer, 'MiniAppDeveloper', { verb: 'create', resource: 'miniapps' });
  });

  it('the bank creates its super apps; a platform PlatformConfig does not list is refused, naming the allowed ones', async () => {
    const bad = await refusal(
      admin.create(Kinds.SuperApp, { metadata: { name: 'wallet', namespace: bankNs }, spec: { displayName: 'Wallet', platforms: ['Android', 'Symbian'] } }, as(people.bankAdmin)),
    );
    expect(bad.message).toContain('Symbian is not allowed by PlatformConfig default (allowed: Android, iOS)');
    await admin.create(
      Kinds.SuperApp,
      { metadata: { name: 'wallet', namespace: bankNs }, spec: { displayName: 'Wallet', platforms: ['Android', 'iOS'], featured: [{ organization: partner, name: 'quick-pay' }] } },
      as(people.bankAdmin),
    );
    await admin.create(Kinds.SuperApp, { metadata: { name: 'cards', namespace: bankNs }, spec: { displayName: 'Cards' } }, as(people.bankAdmin));
    const sa = await eventually(
      async () => {
        const s = await getSuperApp();
        return cond(s, 'CatalogPublished')?.status === 'True' ? s! : false;
      },
      { describe: 'the wallet catalog published' },
    );
    expect(sa.status?.catalog).toMatchObject({ configMapName: 'wallet-catalog', miniApps: 0, hash: expect.stringMatching(/^sha256:/) });
    expect(cond(sa, 'FeaturedListed')).toMatchObject({ status: 'False', reason: 'FeaturedNotListed', message: expect.stringContaining(`${partner}/quick-pay (no such MiniApp)`) });
    // The partner's developer cannot create super apps (RBAC), even in their own namespace.
    expect(await accessAllowed(admin, people.developer, { verb: 'create', resource: 'superapps', namespace: partnerNs })).toBe(false);
  });

  it("the partner's developer publishes a mini app into the wallet, and is refused for the bank's other super app", async () => {
    const refused = await refusal(admin.create(Kinds.MiniApp, miniAppBody('sneaky', { superApps: [{ organization: bank, name: 'cards' }] }), as(people.developer)));
    expect(refused.status).toBe(403);
    expect(refused.message).toContain(`may not publish mini apps into super app ${bank}/cards`);
    expect(refused.message).toContain(`a provisioning administrator can add {organization: ${bank}, name: cards}`);
    const badCategory = await refusal(admin.create(Kinds.MiniApp, miniAppBody('gamble', { categories: ['Gambling'] }), as(people.developer)));
    expect(badCategory.message).toContain('Gambling is not allowed by PlatformConfig default (allowed: Payments, Shopping)');

    await admin.create(Kinds.MiniApp, miniAppBody('quick-pay', { versions: [{ name: '1.0.0' }, { name: '2.0.0' }], dataPrivacy: { protection: 'EnvelopeEncryption' } }), as(people.developer));
    await admin.create(Kinds.MiniApp, miniAppBody('fx-rates'), as(people.developer));
    const m = await eventually(
      async () => {
        const x = await getMini('quick-pay');
        return x?.status?.superApps?.[0]?.state === 'AwaitingReview' ? x : false;
      },
      { describe: 'quick-pay AwaitingReview' },
    );
    expect(cond(m, 'Ready')?.status).toBe('True');
    expect(m.metadata.finalizers).toContain('miniapps.dev/miniapp');
    // fx-rates too is in the reviewers' queue (the webhook checks a review against the operator's cache).
    await eventually(async () => (await getMini('fx-rates'))?.status?.superApps?.[0]?.state === 'AwaitingReview', { describe: 'fx-rates AwaitingReview' });
    expect(await listed()).toEqual([]);
  });

  it('a review in the wrong namespace, of a version that does not exist, or by someone outside the bank is refused', async () => {
    const wrongNs = await refusal(admin.create(Kinds.MiniAppReview, { ...reviewBody('r', 'quick-pay', '1.0.0', 'Approved'), metadata: { name: 'r', namespace: partnerNs } }));
    expect(wrongNs.message).toContain(`SuperApp wallet does not exist in namespace ${partnerNs}`);
    const noVersion = await refusal(admin.create(Kinds.MiniAppReview, reviewBody('r', 'quick-pay', '9.9.9', 'Approved')));
    expect(noVersion.message).toContain('has no version 9.9.9 (its spec.versions: 1.0.0, 2.0.0)');
    const notTarget = await refusal(
      admin.create(Kinds.MiniAppReview, { ...reviewBody('r', 'quick-pay', '1.0.0', 'Approved'), spec: { ...reviewBody('r', 'quick-pay', '1.0.0', 'Approved').spec, superApp: 'cards' } }),
    );
    expect(notTarget.message).toContain('does not name super app');
    // The partner's developer may not review for the bank (RBAC).
    const dev = await refusal(admin.create(Kinds.MiniAppReview, reviewBody('self', 'quick-pay', '1.0.0', 'Approved'), as(people.developer)));
    expect(dev.status).toBe(403);
  });

  it("the bank's reviewer approves; the mini app is listed, featured first, and says so", async () => {
    await admin.create(Kinds.MiniAppReview, reviewBody('fx-rates-1', 'fx-rates', '1.0.0', 'Approved'), as(people.reviewer));
    await admin.create(Kinds.MiniAppReview, reviewBody('quick-pay-1', 'quick-pay', '1.0.0', 'Approved', 'Looks good'), as(people.reviewer));
    await eventually(async () => JSON.stringify(await listed()) === JSON.stringify([`${partner}/quick-pay@1.0.0*`, `${partner}/fx-rates@1.0.0`]), {
      describe: 'both listed, quick-pay featured first',
    });
    const m = await eventually(
      async () => {
        const x = await getMini('quick-pay');
        return x?.status?.superApps?.[0]?.state === 'Listed' ? x : false;
      },
      { describe: 'quick-pay Listed' },
    );
    expect(m.status?.superApps?.[0]).toMatchObject({ organization: bank, name: 'wallet', state: 'Listed', version: '1.0.0' });
    const sa = await eventually(
      async () => {
        const s = await getSuperApp();
        return cond(s, 'FeaturedListed')?.status === 'True' && s!.status?.catalog?.miniApps === 2 ? s! : false;
      },
      { describe: 'the super app counts 2, featured listed' },
    );
    expect(sa.status?.catalog?.hash).toBe((await catalogMap())?.metadata.annotations?.['miniapps.dev/catalog-hash']);
    const entry = (await catalog())!.miniApps[0]!;
    expect(entry).toEqual({
      organization: partner,
      name: 'quick-pay',
      appName: 'quick_pay',
      type: 'Numeric',
      version: '1.0.0',
      categories: ['Payments'],
      locations: ['AE', 'KE'],
      dataPrivacy: { protection: 'EnvelopeEncryption', dataKey: { namespace: partnerNs, secretName: 'quick-pay-data-key' } },
      featured: true,
    });
    expect(JSON.stringify(await catalogMap())).not.toContain((await admin.get<ConfigMapObject>(Resources.Secret, 'quick-pay-data-key', partnerNs))!.data!.wrappedKey!);
  });

  it('a published version that waits for review keeps the approved one listed, and a rejection shows the comment', async () => {
    await kubectl(['patch', 'miniapps.miniapps.dev', 'quick-pay', '-n', partnerNs, '--type=merge', '-p', JSON.stringify({ spec: { publishedVersion: '2.0.0' } })], { as: people.developer });
    const waiting = await eventually(
      async () => {
        const x = await getMini('quick-pay');
        return x?.status?.superApps?.[0]?.pendingVersion === '2.0.0' && x.status.observedGeneration === x.metadata.generation ? x : false;
      },
      { describe: 'quick-pay 2.0.0 pending' },
    );
    expect(waiting.status?.superApps?.[0]).toMatchObject({ state: 'Listed', version: '1.0.0', pendingVersion: '2.0.0' });
    await admin.create(Kinds.MiniAppReview, reviewBody('quick-pay-2', 'quick-pay', '2.0.0', 'Rejected', 'The fee is not shown before paying'), as(people.reviewer));
    await eventually(async () => (await getMini('quick-pay'))?.status?.superApps?.[0]?.message?.includes('The fee is not shown before paying') ?? false, {
      describe: "the reviewer's comment in status",
    });
    expect(await listed()).toEqual([`${partner}/quick-pay@1.0.0*`, `${partner}/fx-rates@1.0.0`]);
  });

  let snapshot: ConfigMapObject;
  it('a version freezes the catalog into an immutable ConfigMap, with its hash and time in status', async () => {
    await kubectl(['patch', 'superapps.miniapps.dev', 'wallet', '-n', bankNs, '--type=merge', '-p', JSON.stringify({ spec: { versions: [{ name: '1.0' }] } })], { as: people.bankAdmin });
    const sa = await eventually(
      async () => {
        const s = await getSuperApp();
        return s?.status?.versions?.length === 1 ? s : false;
      },
      { describe: 'version 1.0 frozen' },
    );
    expect(sa.status?.versions?.[0]).toMatchObject({ name: '1.0', configMapName: 'wallet-catalog-1.0', miniApps: 2, hash: sa.status?.catalog?.hash, frozenAt: expect.any(String) });
    snapshot = (await catalogMap('wallet-catalog-1.0'))!;
    expect(snapshot.immutable).toBe(true);
    expect(snapshot.data).toEqual((await catalogMap())!.data);
    expect(snapshot.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'SuperApp', name: 'wallet', controller: true });
  });

  it('after freezing, everything changes and the snapshot keeps its bytes; the API server refuses to change it', async () => {
    // Mini apps, reviews and the super app all change; one mini app goes.
    await admin.create(Kinds.MiniAppReview, reviewBody('quick-pay-2b', 'quick-pay', '2.0.0', 'Approved'), as(people.reviewer));
    await admin.delete(Kinds.MiniAppReview, 'quick-pay-2', bankNs, as(people.reviewer));
    await admin.create(Kinds.MiniApp, miniAppBody('newcomer'), as(people.developer));
    // The webhook checks a review against the operator's cache: the review comes once the operator has seen the mini app.
    await eventually(async () => (await getMini('newcomer'))?.status?.superApps?.some((s) => s.state === 'AwaitingReview') ?? false, { describe: 'newcomer seen by the operator (AwaitingReview)' });
    await admin.create(Kinds.MiniAppReview, reviewBody('newcomer-1', 'newcomer', '1.0.0', 'Approved'), as(people.reviewer));
    await kubectl(['annotate', 'miniapps.miniapps.dev', 'fx-rates', '-n', partnerNs, 'miniapps.dev/confirm-delete=CONFIRM DELETE'], { as: people.developer });
    await admin.delete(Kinds.MiniApp, 'fx-rates', partnerNs, as(people.developer));
    await kubectl(
      ['patch', 'superapps.miniapps.dev', 'wallet', '-n', bankNs, '--type=merge', '-p', JSON.stringify({ spec: { displayName: 'Wallet 2', featured: [{ organization: partner, name: 'newcomer' }] } })],
      { as: people.bankAdmin },
    );
    await eventually(async () => JSON.stringify(await listed()) === JSON.stringify([`${partner}/newcomer@1.0.0*`, `${partner}/quick-pay@2.0.0`]), {
      timeoutMs: 30_000,
      describe: 'the live catalog changed',
    });
    expect((await catalog())?.superApp.displayName).toBe('Wallet 2');

    const after = (await catalogMap('wallet-catalog-1.0'))!;
    expect(after.data).toEqual(snapshot.data);
    expect(after.metadata.resourceVersion).toBe(snapshot.metadata.resourceVersion);
    expect((await getSuperApp())?.status?.versions?.[0]).toMatchObject({ name: '1.0', miniApps: 2, hash: snapshot.metadata.annotations?.['miniapps.dev/catalog-hash'] });
    // Not even a cluster administrator can change it.
    const refused = await refusal(admin.patch(Resources.ConfigMap, 'wallet-catalog-1.0', bankNs, { data: { 'catalog.json': '{}' } }));
    expect(refused.message).toContain('immutable');
  });

  it('one mini app change rewrites exactly the catalogs it is in; a change that leaves a catalog as it is writes nothing', async () => {
    // Settled: no catalog write for a while.
    const writes = () => operator.metric('miniapps_catalog_writes_total', { kind: 'live' });
    let before = await writes();
    await eventually(
      async () => {
        await new Promise((r) => setTimeout(r, 1500));
        const now = await writes();
        const settled = now === before;
        before = now;
        return settled;
      },
      { describe: 'no more catalog writes' },
    );
    const cards = (await catalogMap('cards-catalog'))!.metadata.resourceVersion;
    const wallet = (await catalogMap())!.metadata.resourceVersion;
    await kubectl(['patch', 'miniapps.miniapps.dev', 'newcomer', '-n', partnerNs, '--type=merge', '-p', JSON.stringify({ spec: { locations: ['KE', 'AE', 'UG'] } })], { as: people.developer });
    await eventually(async () => (await catalog())?.miniApps.find((m) => m.name === 'newcomer') !== undefined && (await catalogMap())!.metadata.resourceVersion !== wallet, {
      timeoutMs: 1_000,
      intervalMs: 50,
      describe: 'the wallet catalog rewritten within a second',
    });
    await new Promise((r) => setTimeout(r, 1000));
    expect(await writes()).toBe(before + 1);
    expect((await catalogMap('cards-catalog'))!.metadata.resourceVersion).toBe(cards);

    // The super app changes in a way that leaves its catalog as it is: reconciled, not rewritten.
    const rv = (await catalogMap())!.metadata.resourceVersion;
    await kubectl(['patch', 'superapps.miniapps.dev', 'wallet', '-n', bankNs, '--type=merge', '-p', JSON.stringify({ spec: { reviewPolicy: 'Required' } })], { as: people.bankAdmin });
    await eventually(
      async () => {
        const s = await getSuperApp();
        return s?.status?.observedGeneration === s?.metadata.generation;
      },
      { describe: 'the super app reconciled' },
    );
    expect((await catalogMap())!.metadata.resourceVersion).toBe(rv);
    expect(await writes()).toBe(before + 1);
  });

  it('a PlatformConfig that drops a platform or a category turns the affected conditions False, naming it, and deletes nothing', async () => {
    await platform.apply(Kinds.PlatformConfig, {
      metadata: { name: PLATFORM_CONFIG_NAME },
      spec: { provisioningAdministrators: { users: [PROVISIONER] }, categories: ['Shopping'], platforms: ['Android'] },
    });
    try {
      const sa = await eventually(
        async () => {
          const s = await getSuperApp();
          return cond(s, 'PlatformsValid')?.status === 'False' ? s! : false;
        },
        { describe: 'PlatformsValid=False' },
      );
      expect(cond(sa, 'PlatformsValid')).toMatchObject({ reason: 'PlatformNotAllowed', message: expect.stringContaining('spec.platforms names iOS') });
      const m = await eventually(
        async () => {
          const x = await getMini('newcomer');
          return cond(x, 'CategoriesValid')?.status === 'False' ? x! : false;
        },
        { describe: 'CategoriesValid=False' },
      );
      expect(cond(m, 'CategoriesValid')?.message).toContain('spec.categories names Payments');
      // Nothing is deleted or delisted because of it.
      expect(await listed()).toEqual([`${partner}/newcomer@1.0.0*`, `${partner}/quick-pay@2.0.0`]);
      expect(sa.spec.platforms).toEqual(['Android', 'iOS']);
    } finally {
      await platform.apply(Kinds.PlatformConfig, {
        metadata: { name: PLATFORM_CONFIG_NAME },
        spec: { provisioningAdministrators: { users: [PROVISIONER] }, categories: ['Payments', 'Shopping'], platforms: ['Android', 'iOS'] },
      });
    }
    await eventually(async () => cond(await getSuperApp(), 'PlatformsValid')?.status === 'True', { describe: 'PlatformsValid=True again' });
  });

  it("the plugin lists and searches mini apps and prints catalogs, with the person's own permissions", async () => {
    const listed = await plugin(['list', '-n', partnerNs], { as: people.developer });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout.split('\n')[0]).toMatch(/^NAME\s+ORGANIZATION\s+TYPE\s+CATEGORIES\s+PUBLISHED\s+SUPER APPS$/);
    expect(listed.stdout).toMatch(new RegExp(`quick-pay\\s+${partner}\\s+Numeric\\s+Payments\\s+2.0.0\\s+${bank}/wallet=Listed\\(2.0.0\\)`));
    const found = await plugin(['search', 'NEWCOMER', '-n', partnerNs, '-o', 'json'], { as: people.developer });
    expect(JSON.parse(found.stdout).items.map((m: MiniApp) => m.metadata.name)).toEqual(['newcomer']);
    const elsewhere = await plugin(['list', '-n', bankNs], { as: people.developer });
    expect(elsewhere.code).toBe(4); // RBAC: the partner's developer cannot list the bank's mini apps
    const cat = await plugin(['catalog', 'wallet', '-n', bankNs]);
    expect(cat.code, cat.stderr).toBe(0);
    expect(
      cat.stdout
        .split('\n')
        .slice(1, 3)
        .map((l) => l.split(/\s+/).slice(0, 3).join(' ')),
    ).toEqual([`1 ${partner} newcomer`, `2 ${partner} quick-pay`]);
    const frozen = await plugin(['catalog', 'wallet', '-n', bankNs, '--version', '1.0', '-o', 'json']);
    expect(frozen.stdout).toBe(snapshot.data!['catalog.json']);
  });

  it('the developer duplicates a mini app with the plugin: a new name and app name, no status, and a data key of its own', async () => {
    const printed = await plugin(['duplicate', 'quick-pay', 'quick-pay-copy', '-n', partnerNs, '-o', 'yaml'], { as: people.developer });
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout).toContain('appName: quick_pay_copy');
    expect(printed.stdout).not.toMatch(/uid|status|finalizers|resourceVersion/);
    expect(await getMini('quick-pay-copy')).toBeUndefined(); // -o prints, it does not create
    const made = await plugin(['duplicate', 'quick-pay', 'quick-pay-copy', '-n', partnerNs], { as: people.developer });
    expect(made).toMatchObject({ code: 0, stdout: 'miniapp.miniapps.dev/quick-pay-copy created\n' });
    const copy = await eventually(
      async () => {
        const m = await getMini('quick-pay-copy');
        return m?.status?.dataKey ? m : false;
      },
      { describe: 'the copy has its data key' },
    );
    expect(copy.spec).toMatchObject({ appName: 'quick_pay_copy', superApps: [{ organization: bank, name: 'wallet' }], dataPrivacy: { protection: 'EnvelopeEncryption' } });
    expect(copy.status?.dataKey?.secretName).toBe('quick-pay-copy-data-key');
    const [a, b] = await Promise.all(['quick-pay-data-key', 'quick-pay-copy-data-key'].map((n) => admin.get<ConfigMapObject>(Resources.Secret, n, partnerNs)));
    expect(a!.data!.wrappedKey).not.toBe(b!.data!.wrappedKey);
    expect(Buffer.from(b!.data!.miniAppUid!, 'base64').toString()).toBe(copy.metadata.uid);
    // Another organization that may not create mini apps refuses the copy, and the plugin says why (exit 4).
    const refused = await plugin(['duplicate', 'quick-pay', 'x', '-n', partnerNs, '--organization', bank], { as: people.developer });
    expect(refused.code).not.toBe(0);
  });

  it('the developer deletes the mini app with the plugin, typing CONFIRM DELETE; it leaves the catalog and its data key is shredded', async () => {
    const unconfirmed = await kubectl(['delete', 'miniapps.miniapps.dev', 'quick-pay', '-n', partnerNs], { as: people.developer, allowFailure: true });
    expect(unconfirmed.exitCode).not.toBe(0);
    expect(unconfirmed.stderr).toContain(`kubectl annotate miniapp quick-pay -n ${partnerNs} miniapps.dev/confirm-delete="CONFIRM DELETE"`);
    const wrong = await plugin(['delete', 'quick-pay', '-n', partnerNs], { as: people.developer, stdin: 'yes\n' });
    expect(wrong.code).toBe(5);
    expect(wrong.stderr).toContain('Type CONFIRM DELETE to delete it');
    expect((await getMini('quick-pay'))?.metadata.deletionTimestamp).toBeUndefined();
    const wrapped = (await admin.get<ConfigMapObject>(Resources.Secret, 'quick-pay-data-key', partnerNs))!.data!.wrappedKey!;
    const done = await plugin(['delete', 'quick-pay', '-n', partnerNs], { as: people.developer, stdin: 'CONFIRM DELETE\n' });
    expect(done, done.stderr).toMatchObject({ code: 0, stdout: 'miniapp.miniapps.dev "quick-pay" deleted\n' });
    await eventually(async () => (await getMini('quick-pay')) === undefined, { describe: 'quick-pay gone' });
    await eventually(async () => !(await listed())!.some((m) => m.includes('/quick-pay@')), { describe: 'quick-pay out of the catalog' });
    expect(await admin.get(Resources.Secret, 'quick-pay-data-key', partnerNs)).toBeUndefined();
    const everywhere = await admin.listAll<ConfigMapObject>(Resources.Secret);
    expect(everywhere.items.filter((x) => Object.values(x.data ?? {}).includes(wrapped))).toEqual([]);
    // The frozen snapshot still shows what was frozen: a reference to the key, never the key.
    expect(snapshot.data!['catalog.json']).toContain('quick-pay-data-key');
    expect(snapshot.data!['catalog.json']).not.toContain(wrapped);
  });
});
