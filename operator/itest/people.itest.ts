// Seeds 000 and 001: people and what they see, on the real API server with the operator
// running, each person impersonated as the API server authenticates them.
// - Reviewers have a queue (SuperApp status.reviewQueue) of the mini apps awaiting their
//   review, a partner's included, which they read where they may read; they approve or
//   reject with a comment.
// - The people who manage a super app read its catalog and snapshots; others do not.
// - Organization administrators read their namespace's events; other members do not
//   (RBAC cannot limit events to the objects they regard).
// - A member creates their own API key with `kubectl apply --server-side -f` (or `kubectl
//   create -f`), without seeing anyone else's; plain `kubectl apply -f` is refused, because
//   it reads the object first.
// - An organization administrator sets the organization's icon with their own rights.
// (App Center's model: appcenter.itest.ts.)
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ORGANIZATION_ICON_CONFIGMAP } from '../api/organization/schema.ts';
import { PLATFORM_CONFIG_NAME } from '../api/platformconfig/schema.ts';
import type { ApiKey } from '../api/apikey/schema.ts';
import type { MiniApp } from '../api/miniapp/schema.ts';
import type { MiniAppReview } from '../api/miniappreview/schema.ts';
import type { Organization } from '../api/organization/schema.ts';
import type { SuperApp } from '../api/superapp/schema.ts';
import { Kinds } from '../api/registry.ts';
import { ApiError } from '../runtime/errors.ts';
import { KubeClient } from '../runtime/kube/client.ts';
import { Resources, resourcePath } from '../runtime/kube/resource.ts';
import type { ResourceType } from '../runtime/kube/resource.ts';
import { accessAllowed } from '../testenv/access.ts';
import { readKey, waitForKey } from '../testenv/apikeys.ts';
import { png } from '../testenv/png.ts';
import { deleteOrganizationsAndWait, testClient } from '../testenv/clients.ts';
import { eventually, kubectl, testKubeconfig, uniqueName } from '../testenv/index.ts';
import { OperatorProcess } from '../testenv/operator-process.ts';

const admin = testClient();
const platform = KubeClient.fromKubeconfig(testKubeconfig(), { fieldManager: 'test-people' });
const opNamespace = uniqueName('op-people');
let operator: OperatorProcess;
const organizations: string[] = [];

type Cond = { type: string; status: string; reason: string; message: string };
const cond = (o: { status?: { conditions?: Cond[] } } | undefined, type: string) => o?.status?.conditions?.find((c) => c.type === type);
const as = (user: string) => ({ as: { user } });
const getAs = (user: string, rt: ResourceType, name: string, namespace?: string) => admin.request<Record<string, unknown>>('GET', resourcePath(rt, { namespace, name }), as(user));
const listAs = (user: string, rt: ResourceType, namespace: string) => admin.request<{ items: unknown[] }>('GET', resourcePath(rt, { namespace }), as(user));
async function refusal(p: Promise<unknown>): Promise<ApiError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ApiError)) throw new Error(`expected a refusal, got ${err === undefined ? 'success' : String(err)}`);
  return err;
}

async function organization(prefix: string, spec: Partial<Organization['spec']> = {}): Promise<{ name: string; ns: string }> {
  const name = uniqueName(prefix);
  organizations.push(name);
  await admin.create(Kinds.Organization, { metadata: { name }, spec: { displayName: name, ...spec } });
  const ns = await eventually(async () => (await admin.get<Organization>(Kinds.Organization, name))?.status?.namespace ?? false, { timeoutMs: 30_000, describe: `the namespace of ${name}` });
  return { name, ns };
}

/** A member with access at once (acceptance Automatic), once RBAC lets them `verb resource` there. */
async function member(ns: string, name: string, email: string, role: string, probe: { verb: string; resource: string; name?: string }): Promise<void> {
  await admin.create(Kinds.Membership, { metadata: { name, namespace: ns }, spec: { email, role, acceptance: 'Automatic' } });
  await eventually(() => accessAllowed(admin, email, { ...probe, namespace: ns }), { timeoutMs: 30_000, describe: `${email} may ${probe.verb} ${probe.resource} in ${ns}` });
}

beforeAll(async () => {
  await platform.apply(Kinds.PlatformConfig, { metadata: { name: PLATFORM_CONFIG_NAME }, spec: { categories: ['Payments'], platforms: ['Android'] } });
  operator = await OperatorProcess.start({ kubeconfig: testKubeconfig(), namespace: opNamespace, args: ['--leader-elect=false'] });
});

afterAll(async () => {
  if (operator) await deleteOrganizationsAndWait(admin, organizations).catch(() => undefined);
  await operator?.stop();
  await platform.apply(Kinds.PlatformConfig, { metadata: { name: PLATFORM_CONFIG_NAME }, spec: {} });
});

describe("reviewers' queue (seed 000: see and manage the reviews of the organization's super apps)", () => {
  it("lists a partner's mini app awaiting review with the content an approval covers; approving or rejecting with a comment takes it off", async () => {
    const bank = await organization('ppl-bank', { capabilities: { superApps: true } });
    const partner = await organization('ppl-partner', { capabilities: { miniApps: true }, miniAppTargets: [{ organization: bank.name, name: 'wallet' }] });
    const reviewer = `reviewer@${bank.name}.example`;
    const developer = `dev@${partner.name}.example`;
    const stranger = `someone@${partner.name}.example`;
    await member(bank.ns, 'reviewer', reviewer, 'MiniAppReviewer', { verb: 'create', resource: 'miniappreviews' });
    await member(partner.ns, 'dev', developer, 'MiniAppDeveloper', { verb: 'create', resource: 'miniapps' });
    await member(partner.ns, 'someone', stranger, 'MiniAppReviewer', { verb: 'list', resource: 'miniapps' });
    await admin.create(Kinds.SuperApp, { metadata: { name: 'wallet', namespace: bank.ns }, spec: { displayName: 'Wallet', platforms: ['Android'] } });
    await admin.create(
      Kinds.MiniApp,
      {
        metadata: { name: 'pay', namespace: partner.ns },
        spec: {
          appName: 'pay',
          type: 'Numeric',
          superApps: [{ organization: bank.name, name: 'wallet' }],
          categories: ['Payments'],
          versions: [{ name: '1.0.0' }, { name: '1.1.0' }],
          publishedVersion: '1.0.0',
        },
      },
      as(developer),
    );

    // The reviewer may not read the partner's MiniApp itself (it is in the partner's namespace) ...
    expect((await refusal(getAs(reviewer, Kinds.MiniApp, 'pay', partner.ns))).status).toBe(403);
    // ... but reads the queue of their super app, with what an approval would approve.
    const queued = await eventually(
      async () => {
        const sa = (await getAs(reviewer, Kinds.SuperApp, 'wallet', bank.ns)) as unknown as SuperApp;
        return sa.status?.reviewQueue?.length ? sa : false;
      },
      { describe: 'pay in the queue of wallet', timeoutMs: 30_000 },
    );
    expect(queued.status!.awaitingReview).toBe(1);
    expect(queued.status!.reviewQueue).toEqual([
      {
        organization: partner.name,
        name: 'pay',
        version: '1.0.0',
        appName: 'pay',
        type: 'Numeric',
        categories: ['Payments'],
        protection: 'None',
        digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      },
    ]);
    // kubectl shows how many wait.
    const table = await kubectl(['get', 'superapps.miniapps.dev', 'wallet', '-n', bank.ns], { as: reviewer });
    expect(table).toMatch(/AWAITING REVIEW/);
    // Someone outside the bank reads no queue of it.
    expect((await refusal(getAs(stranger, Kinds.SuperApp, 'wallet', bank.ns))).status).toBe(403);

    // Approving with a comment: listed, and off the queue; the approval covers the content the queue showed.
    await admin.create(
      Kinds.MiniAppReview,
      {
        metadata: { name: 'pay-1', namespace: bank.ns },
        spec: { miniApp: { organization: partner.name, name: 'pay' }, superApp: 'wallet', version: '1.0.0', decision: 'Approved', comment: 'Looks right' },
      },
      as(reviewer),
    );
    await eventually(
      async () => {
        const sa = await admin.get<SuperApp>(Kinds.SuperApp, 'wallet', bank.ns);
        return sa?.status?.awaitingReview === 0 && !sa.status.reviewQueue && sa.status.catalog?.miniApps === 1;
      },
      { describe: 'pay listed and off the queue', timeoutMs: 30_000 },
    );
    const review = await eventually(
      async () => ((await admin.get<MiniAppReview>(Kinds.MiniAppReview, 'pay-1', bank.ns))?.status?.approvedContent ? (await admin.get<MiniAppReview>(Kinds.MiniAppReview, 'pay-1', bank.ns))! : false),
      { describe: 'the approval recorded', timeoutMs: 30_000 },
    );
    expect(review.status!.approvedContent!.digest).toBe(queued.status!.reviewQueue![0]!.digest);

    // A new published version waits again; rejecting it with a comment takes it off the queue, and the developer reads the comment.
    await admin.request('PATCH', resourcePath(Kinds.MiniApp, { namespace: partner.ns, name: 'pay' }), {
      body: { spec: { publishedVersion: '1.1.0' } },
      contentType: 'application/merge-patch+json',
      ...as(developer),
    });
    await eventually(async () => ((await getAs(reviewer, Kinds.SuperApp, 'wallet', bank.ns)) as unknown as SuperApp).status?.reviewQueue?.[0]?.version === '1.1.0', {
      describe: '1.1.0 in the queue',
      timeoutMs: 30_000,
    });
    await admin.create(
      Kinds.MiniAppReview,
      {
        metadata: { name: 'pay-2', namespace: bank.ns },
        spec: { miniApp: { organization: partner.name, name: 'pay' }, superApp: 'wallet', version: '1.1.0', decision: 'Rejected', comment: 'The amount field accepts letters' },
      },
      as(reviewer),
    );
    await eventually(async () => (await admin.get<SuperApp>(Kinds.SuperApp, 'wallet', bank.ns))?.status?.awaitingReview === 0, { describe: '1.1.0 off the queue', timeoutMs: 30_000 });
    const mini = (await getAs(developer, Kinds.MiniApp, 'pay', partner.ns)) as unknown as MiniApp;
    expect(mini.status?.superApps?.[0]?.message).toContain('The amount field accepts letters');
  });
});

describe('catalogs, snapshots and events: who reads them', () => {
  it("the people who manage a super app read its catalog and snapshots; a developer and a reviewer do not; only administrators read the namespace's events", async () => {
    const shop = await organization('ppl-shop', { capabilities: { superApps: true, miniApps: true } });
    const people = {
      admin: [`admin@${shop.name}.example`, 'OrganizationAdministrator'],
      manager: [`sam@${shop.name}.example`, 'SuperAppAdministrator'],
      developer: [`dev@${shop.name}.example`, 'MiniAppDeveloper'],
      reviewer: [`rev@${shop.name}.example`, 'MiniAppReviewer'],
    } as const;
    for (const [key, [email, role]] of Object.entries(people)) await member(shop.ns, key, email, role, { verb: 'get', resource: 'superapps', name: 'x' });
    await admin.create(Kinds.SuperApp, { metadata: { name: 'mall', namespace: shop.ns }, spec: { displayName: 'Mall', versions: [{ name: '2.0.0' }] } }, as(people.manager[0]));
    await eventually(async () => !!(await admin.get(Resources.ConfigMap, 'mall-catalog-2.0.0', shop.ns)), { describe: 'the snapshot', timeoutMs: 30_000 });
    for (const cm of ['mall-catalog', 'mall-catalog-2.0.0']) {
      for (const who of ['admin', 'manager'] as const) {
        await eventually(
          () =>
            getAs(people[who][0], Resources.ConfigMap, cm, shop.ns).then(
              () => true,
              () => false,
            ),
          { describe: `${who} reads ${cm}`, timeoutMs: 30_000 },
        );
      }
      for (const who of ['developer', 'reviewer'] as const) expect((await refusal(getAs(people[who][0], Resources.ConfigMap, cm, shop.ns))).status).toBe(403);
    }
    // By name only: not the namespace's other ConfigMaps, not a list.
    expect((await refusal(listAs(people.manager[0], Resources.ConfigMap, shop.ns))).status).toBe(403);
    expect((await refusal(getAs(people.manager[0], Resources.ConfigMap, 'kube-root-ca.crt', shop.ns))).status).toBe(403);

    // Events: an administrator lists them (both APIs); the others are refused.
    await eventually(async () => (await listAs(people.admin[0], Resources.Event, shop.ns)).items.length > 0, { describe: 'the administrator reads events', timeoutMs: 30_000 });
    await admin.request('GET', `/api/v1/namespaces/${shop.ns}/events`, as(people.admin[0]));
    for (const who of ['manager', 'developer', 'reviewer'] as const) expect((await refusal(listAs(people[who][0], Resources.Event, shop.ns))).status).toBe(403);
  });
});

describe('a member creates their own API key the ways people create objects', () => {
  it("kubectl apply --server-side -f creates it and reads the key once; plain kubectl apply -f is refused (it reads first); nobody else's key is seen or touched", async () => {
    const org = await organization('ppl-keys');
    const dev = `dev@${org.name}.example`;
    const other = `other@${org.name}.example`;
    await member(org.ns, 'dev', dev, 'MiniAppDeveloper', { verb: 'create', resource: 'apikeys' });
    await member(org.ns, 'other', other, 'MiniAppDeveloper', { verb: 'create', resource: 'apikeys' });
    const dir = mkdtempSync(join(tmpdir(), 'ppl-keys-'));
    const keyFile = (name: string, owner: string, description = 'CI') => {
      const file = join(dir, `${name}-${owner}.yaml`);
      writeFileSync(file, stringify({ apiVersion: 'miniapps.dev/v1alpha1', kind: 'ApiKey', metadata: { name, namespace: org.ns }, spec: { owner, description, ttl: '24h' } }));
      return file;
    };

    // Plain (client-side) apply reads the object first, which RBAC cannot grant for a key that does not exist yet.
    const plain = await kubectl(['apply', '-f', keyFile('dev-ci', dev)], { as: dev, allowFailure: true });
    expect(plain.exitCode).not.toBe(0);
    expect(plain.stderr).toMatch(/forbidden/i);
    expect(plain.stderr).toContain('cannot get resource "apikeys"');

    // Server-side apply: one request that creates; the key is issued, and its owner reads it (once: it is theirs alone).
    const ssa = await kubectl(['apply', '--server-side', '-f', keyFile('dev-ci', dev)], { as: dev, allowFailure: true });
    expect(ssa.stderr).toBe('');
    expect(ssa.exitCode).toBe(0);
    const issued = await waitForKey(admin, org.ns, 'dev-ci', (k) => k.status?.phase === 'Active', 'dev-ci Active');
    await eventually(
      () =>
        getAs(dev, Resources.Secret, issued.status!.secretName!, org.ns).then(
          () => true,
          () => false,
        ),
      { describe: 'dev reads the Secret of the key', timeoutMs: 30_000 },
    );
    expect(await readKey(admin, issued)).toContain(issued.status!.prefix!);
    // Applying the same file again changes the description, as apply does.
    await kubectl(['apply', '--server-side', '-f', keyFile('dev-ci', dev, 'CI pipeline')], { as: dev });
    expect((await admin.get<ApiKey>(Kinds.ApiKey, 'dev-ci', org.ns))?.spec.description).toBe('CI pipeline');
    // kubectl create -f works too.
    await kubectl(['create', '-f', keyFile('dev-ci2', dev)], { as: dev });

    // The other member sees none of it ...
    expect((await refusal(getAs(other, Kinds.ApiKey, 'dev-ci', org.ns))).status).toBe(403);
    expect((await refusal(listAs(other, Kinds.ApiKey, org.ns))).status).toBe(403);
    expect((await refusal(getAs(other, Resources.Secret, issued.status!.secretName!, org.ns))).status).toBe(403);
    // ... may not apply a key for dev, nor over dev's key, not even the very same content (nothing comes back) ...
    const forDev = await kubectl(['apply', '--server-side', '-f', keyFile('other-for-dev', dev)], { as: other, allowFailure: true });
    expect(forDev.exitCode).not.toBe(0);
    expect(forDev.stderr).toContain(`is for ${dev}, and you are ${other}`);
    const same = await kubectl(['apply', '--server-side', '-o', 'yaml', '-f', keyFile('dev-ci', dev, 'CI pipeline')], { as: other, allowFailure: true });
    expect(same.exitCode).not.toBe(0);
    expect(same.stdout).toBe('');
    const revoke = await admin
      .request('PATCH', resourcePath(Kinds.ApiKey, { namespace: org.ns, name: 'dev-ci' }), { body: { spec: { revoked: true } }, contentType: 'application/merge-patch+json', ...as(other) })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(revoke).toBeInstanceOf(ApiError);
    expect((await admin.get<ApiKey>(Kinds.ApiKey, 'dev-ci', org.ns))?.spec.revoked).toBeFalsy();
    // ... and makes their own the same way.
    await kubectl(['apply', '--server-side', '-f', keyFile('other-ci', other)], { as: other });
    await waitForKey(admin, org.ns, 'other-ci', (k) => k.status?.phase === 'Active', 'other-ci Active');
    expect(cond(await admin.get<ApiKey>(Kinds.ApiKey, 'other-ci', org.ns), 'Ready')?.status).toBe('True');
  });
});

describe('the organization icon (seed 002), set by an organization administrator with their own rights', () => {
  it('an administrator applies the icon into ConfigMap organization-icon and points spec.icon at it; other members may not, and no other ConfigMap is theirs', async () => {
    const org = await organization('ppl-icon');
    const ada = `ada@${org.name}.example`;
    const dev = `dev@${org.name}.example`;
    await member(org.ns, 'ada', ada, 'OrganizationAdministrator', { verb: 'patch', resource: 'organizations', name: org.name });
    await member(org.ns, 'dev', dev, 'MiniAppDeveloper', { verb: 'create', resource: 'miniapps' });
    const manifest = (bytes: Buffer, key = 'icon.png') =>
      stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: ORGANIZATION_ICON_CONFIGMAP, namespace: org.ns }, binaryData: { [key]: bytes.toString('base64') } });
    // What `kubectl create configmap organization-icon --from-file=icon.png --dry-run=client -o yaml | kubectl apply --server-side -f -` sends.
    await eventually(async () => (await kubectl(['apply', '--server-side', '-f', '-'], { as: ada, stdin: manifest(png(256, 256)), allowFailure: true })).exitCode === 0, {
      describe: 'ada applies the icon',
      timeoutMs: 30_000,
    });
    await admin.request('PATCH', resourcePath(Kinds.Organization, { name: org.name }), {
      body: { spec: { icon: { kind: 'ConfigMap', name: ORGANIZATION_ICON_CONFIGMAP, key: 'icon.png' } } },
      contentType: 'application/merge-patch+json',
      ...as(ada),
    });
    await eventually(async () => cond(await admin.get<Organization>(Kinds.Organization, org.name), 'IconValid')?.status === 'True', { describe: 'IconValid True', timeoutMs: 30_000 });
    // Too wide: reported, as for any icon (the operator reads the ConfigMap when the Organization changes, and every 10 minutes).
    await kubectl(['apply', '--server-side', '-f', '-'], { as: ada, stdin: manifest(png(600, 600), 'wide.png') });
    await admin.request('PATCH', resourcePath(Kinds.Organization, { name: org.name }), {
      body: { spec: { icon: { kind: 'ConfigMap', name: ORGANIZATION_ICON_CONFIGMAP, key: 'wide.png' } } },
      contentType: 'application/merge-patch+json',
      ...as(ada),
    });
    await eventually(async () => cond(await admin.get<Organization>(Kinds.Organization, org.name), 'IconValid')?.reason === 'IconTooWide', { describe: 'IconTooWide', timeoutMs: 30_000 });

    // A developer may not change the icon; the administrator may make no other ConfigMap.
    const byDev = await kubectl(['apply', '--server-side', '-f', '-'], { as: dev, stdin: manifest(png(16, 16)), allowFailure: true });
    expect(byDev.exitCode).not.toBe(0);
    expect(byDev.stderr).toMatch(/forbidden/i);
    const other = await kubectl(['create', 'configmap', 'brand', '-n', org.ns, '--from-literal=a=b'], { as: ada, allowFailure: true });
    expect(other.exitCode).not.toBe(0);
    expect(other.stderr).toMatch(/forbidden/i);
  });
});
