// The console's remaining screens in headless Chromium on the real control plane and
// operator (issue 20): the organization administrator's icon, the super app
// administrator's featured mini apps and catalog, the mini app developer's categories,
// locations and versions, and the provisioning administrator's permissions and mini app
// targets, platforms and categories, and API keys for users. Each role signs in with its
// own API key (console/testing.ts), finds what it may not do absent or refused by the API
// server, and every new screen passes axe with no serious or critical violation.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiKey } from '../operator/api/apikey/schema.ts';
import type { MiniApp } from '../operator/api/miniapp/schema.ts';
import type { Organization } from '../operator/api/organization/schema.ts';
import { ORGANIZATION_ICON_CONFIGMAP } from '../operator/api/organization/schema.ts';
import { PLATFORM_CONFIG_NAME } from '../operator/api/platformconfig/schema.ts';
import type { PlatformConfig } from '../operator/api/platformconfig/schema.ts';
import { Kinds } from '../operator/api/registry.ts';
import type { SuperApp } from '../operator/api/superapp/schema.ts';
import { Resources } from '../operator/runtime/kube/resource.ts';
import { accessAllowed } from '../operator/testenv/access.ts';
import { readKey } from '../operator/testenv/apikeys.ts';
import { chromiumMissing } from '../operator/testenv/browser.ts';
import { deleteOrganizationsAndWait, testClient } from '../operator/testenv/clients.ts';
import { tokenWebhookOperatorArgs } from '../operator/testenv/controlplane.ts';
import { eventually, testKubeconfig, testTokenWebhook, uniqueName } from '../operator/testenv/index.ts';
import { OperatorProcess } from '../operator/testenv/operator-process.ts';
import { png } from '../operator/testenv/png.ts';
import type { ConsoleServer } from './server/server.ts';
import { upstreamFromKubeconfig } from './server/upstream.ts';
import { axeWithShots, ownApiKey, signedInPage, startTestConsole } from './testing.ts';
import type { TestConsole } from './testing.ts';

/** Axe on each screen (console/testing.ts); `npm run screenshots` saves the main ones, by these names, into docs/console. */
const axe = axeWithShots({
  'organization settings (icon)': 'settings-icon',
  permissions: 'settings-permissions',
  'edit mini app (filled)': 'miniapp-edit',
  catalog: 'catalog',
  'platforms and categories': 'platform',
  'api keys for users': 'userkeys',
});

const webhook = testTokenWebhook();
const skip = !!chromiumMissing('console-screens.itest.ts') || !webhook;

const admin = testClient();
const org = uniqueName('screens');
const partner = uniqueName('screens-partner');
const ns = `org-${org}`;
const partnerNs = `org-${partner}`;
const ADMIN = `admin@${org}.example`;
const DEV = `dev@${org}.example`;
const SUPERADMIN = `superapps@${org}.example`;
const PROVISIONER = `root-${org}@platform.example`;
const operatorNamespace = uniqueName('op-screens');
type Cond = { type: string; status: string; reason?: string };
const cond = (o: { status?: { conditions?: Cond[] } } | undefined, type: string) => o?.status?.conditions?.find((c) => c.type === type);

/** A person's own API key, the bearer token of their session. */
const keyOf = (email: string, name: string, namespace = ns): Promise<string> => ownApiKey(admin, email, name, namespace);

/** What the page's own fetch gets from the console's proxy (with the session's CSRF token). */
function tryThroughProxy(page: Page, method: string, path: string, body: unknown, contentType = 'application/merge-patch+json') {
  return page.evaluate(
    async ([method, path, body, contentType]) => {
      const s = (await (await fetch('/console/api/session')).json()) as { csrfToken: string };
      const r = await fetch(`/k8s${path}`, { method, headers: { 'content-type': contentType, 'x-csrf-token': s.csrfToken }, body: JSON.stringify(body) });
      return { status: r.status, message: ((await r.json()) as { message: string }).message };
    },
    [method, path, body, contentType] as const,
  );
}

describe.skipIf(skip)("the console's remaining screens in a browser, as each role", () => {
  let operator: OperatorProcess;
  let consoleServer: ConsoleServer;
  let browser: Browser;
  let testConsole: TestConsole | undefined;
  const tokens: Record<string, string> = {};
  let previousConfig: PlatformConfig | undefined;

  beforeAll(async () => {
    previousConfig = await admin.get<PlatformConfig>(Kinds.PlatformConfig, PLATFORM_CONFIG_NAME);
    await admin.apply(Kinds.PlatformConfig, {
      metadata: { name: PLATFORM_CONFIG_NAME },
      spec: { ...(previousConfig?.spec ?? {}), provisioningAdministrators: { users: [PROVISIONER] }, categories: ['Payments', 'News'], platforms: ['ios', 'android'] },
    });
    // categories and platforms are set-type lists: apply merges them with items another field manager (an earlier test
    // file) owns. A merge patch replaces them, so the screen starts from exactly these.
    await admin.patch(Kinds.PlatformConfig, PLATFORM_CONFIG_NAME, undefined, { spec: { categories: ['Payments', 'News'], platforms: ['ios', 'android'] } });
    operator = await OperatorProcess.start({ kubeconfig: testKubeconfig(), namespace: operatorNamespace, args: ['--leader-elect=false', ...tokenWebhookOperatorArgs(webhook!)] });
    for (const [name, displayName] of [
      [org, 'Screens Bank'],
      [partner, 'Partner Shop'],
    ] as const) {
      await admin.create(Kinds.Organization, { metadata: { name }, spec: { displayName, capabilities: { superApps: true, miniApps: true } } });
      await eventually(async () => (await admin.get<Organization>(Kinds.Organization, name))?.status?.namespace, { describe: `the namespace of ${name}` });
    }
    await eventually(() => admin.create(Kinds.Membership, { metadata: { name: 'admin', namespace: ns }, spec: { email: ADMIN, role: 'OrganizationAdministrator', acceptance: 'Automatic' } }), {
      describe: 'the administrator',
    });
    await admin.create(Kinds.Membership, { metadata: { name: 'dev', namespace: ns }, spec: { email: DEV, role: 'MiniAppDeveloper', acceptance: 'Automatic' } });
    await admin.create(Kinds.Membership, { metadata: { name: 'superapps', namespace: ns }, spec: { email: SUPERADMIN, role: 'SuperAppAdministrator', acceptance: 'Automatic' } });
    for (const [who, verb, resource] of [
      [ADMIN, 'create', 'memberships'],
      [DEV, 'create', 'miniapps'],
      [SUPERADMIN, 'create', 'superapps'],
    ] as const) {
      await eventually(() => accessAllowed(admin, who, { verb, resource, namespace: ns }), { describe: `${who} bound` });
      await eventually(() => accessAllowed(admin, who, { verb: 'get', resource: 'organizations', name: org }), { describe: `${who} may get Organization ${org}` });
    }
    tokens.admin = await keyOf(ADMIN, 'admin-key');
    tokens.dev = await keyOf(DEV, 'dev-key');
    tokens.superadmin = await keyOf(SUPERADMIN, 'superadmin-key');
    await eventually(() => accessAllowed(admin, PROVISIONER, { verb: 'create', resource: 'organizations' }), { describe: 'the provisioning administrator bound' });
    tokens.provisioner = await keyOf(PROVISIONER, 'root', operatorNamespace);
    // A super app whose catalog lists its own organization's mini apps without a review, one mini app in it, and a partner's super app.
    await eventually(() => admin.create(Kinds.SuperApp, { metadata: { name: 'wallet', namespace: ns }, spec: { displayName: 'Wallet', platforms: ['ios'], reviewPolicy: 'SameOrganization' } }), {
      describe: 'the super app',
    });
    await eventually(() => admin.create(Kinds.SuperApp, { metadata: { name: 'market', namespace: partnerNs }, spec: { displayName: 'Market' } }), { describe: "the partner's super app" });
    await eventually(
      () =>
        admin.create<MiniApp>(Kinds.MiniApp, {
          metadata: { name: 'transfers', namespace: ns },
          spec: { appName: 'transfers', type: 'Text', superApps: [{ name: 'wallet' }], versions: [{ name: '1.0.0' }], publishedVersion: '1.0.0' },
        }),
      { describe: 'the mini app' },
    );
    await eventually(async () => !!(await admin.get(Resources.ConfigMap, ORGANIZATION_ICON_CONFIGMAP, ns)), { describe: 'the icon ConfigMap the operator makes' });
    testConsole = await startTestConsole({ upstream: upstreamFromKubeconfig(testKubeconfig()), operatorNamespace });
    ({ console: consoleServer, browser } = testConsole);
  }, 180_000);

  afterAll(async () => {
    await testConsole?.close();
    await deleteOrganizationsAndWait(admin, [org, partner]).catch(() => undefined);
    await operator?.stop();
    await admin.delete(Resources.Namespace, operatorNamespace).catch(() => undefined);
    if (previousConfig) {
      await admin.apply(Kinds.PlatformConfig, { metadata: { name: PLATFORM_CONFIG_NAME }, spec: previousConfig.spec ?? {} });
      await admin.patch(Kinds.PlatformConfig, PLATFORM_CONFIG_NAME, undefined, { spec: { categories: previousConfig.spec?.categories ?? null, platforms: previousConfig.spec?.platforms ?? null } });
    }
  });

  const pageAs = (who: string, hash = ''): Promise<Page> => signedInPage(browser, consoleServer, tokens[who]!, hash);

  it("organization administrator: the icon (the operator's refusal of a too-wide image and the API server's of a too-large file, next to the field, nothing left set), then a valid one; a developer finds no icon screen and is refused through the proxy", async () => {
    const page = await pageAs('admin', `#/orgs/${org}/settings`);
    await page.getByRole('heading', { name: 'Organization icon' }).waitFor();
    await axe(page, 'organization settings (icon)');
    // No provisioning decisions for an organization administrator.
    expect(await page.getByRole('heading', { name: 'Permissions' }).count()).toBe(0);

    // Too wide: the operator's IconValid message, next to the field; the icon is not left pointing at it.
    await page.getByLabel('Image file').setInputFiles({ name: 'wide.png', mimeType: 'image/png', buffer: png(600, 600) });
    await page.getByRole('button', { name: 'UPLOAD' }).click();
    const refusal = page.locator('#icon-error');
    await refusal.waitFor({ timeout: 40_000 });
    expect(await refusal.innerText()).toContain('The operator refused this: IconTooWide');
    expect(await refusal.innerText()).toContain('600×600');
    expect(await page.getByLabel('Image file').getAttribute('aria-describedby')).toContain('icon-error');
    await eventually(async () => (await admin.get<Organization>(Kinds.Organization, org))?.spec.icon === undefined, { describe: 'spec.icon unset again' });
    const afterWide = await admin.get<{ metadata: { name: string }; binaryData?: Record<string, string> }>(Resources.ConfigMap, ORGANIZATION_ICON_CONFIGMAP, ns);
    expect(Object.keys(afterWide?.binaryData ?? {})).toEqual([]);
    await axe(page, 'organization icon (refused)');

    // Over 1 MiB: the API server refuses the ConfigMap itself.
    await page.getByLabel('Image file').setInputFiles({ name: 'huge.png', mimeType: 'image/png', buffer: Buffer.concat([png(16, 16), Buffer.alloc(1024 * 1024 + 1)]) });
    await page.getByRole('button', { name: 'UPLOAD' }).click();
    await expect.poll(() => refusal.innerText(), { timeout: 20_000 }).toMatch(/^The API server refused this: .*(must have at most 1048576 bytes|Too long)/);
    expect((await admin.get<Organization>(Kinds.Organization, org))?.spec.icon).toBeUndefined();

    // A valid icon: set, checked by the operator, shown.
    await page.getByLabel('Image file').setInputFiles({ name: 'logo.png', mimeType: 'image/png', buffer: png(256, 256) });
    await page.getByRole('button', { name: 'UPLOAD' }).click();
    await page.getByRole('status').filter({ hasText: '256×256' }).waitFor({ timeout: 40_000 });
    const set = await admin.get<Organization>(Kinds.Organization, org);
    expect(set?.spec.icon).toMatchObject({ kind: 'ConfigMap', name: ORGANIZATION_ICON_CONFIGMAP });
    expect(cond(set, 'IconValid')?.status).toBe('True');
    await page.locator('img[data-icon]').waitFor();
    expect(await page.locator('#icon-error').count()).toBe(0);

    // Spanish: the same screen in the seed's words.
    await page.getByLabel('Language').selectOption('es');
    await page.getByRole('heading', { name: 'Icono de la organización' }).waitFor();
    await axe(page, 'organization icon (es)');
    await page.context().close();

    // A developer: no settings tab, and the API server refuses the icon's ConfigMap to them.
    const dev = await pageAs('dev', `#/orgs/${org}/settings`);
    await dev.getByRole('heading', { name: 'Members' }).waitFor();
    expect(await dev.getByRole('link', { name: 'Organization settings' }).count()).toBe(0);
    const tried = await tryThroughProxy(dev, 'PATCH', `/api/v1/namespaces/${ns}/configmaps/${ORGANIZATION_ICON_CONFIGMAP}`, { binaryData: { 'x.png': png(8, 8).toString('base64') } });
    expect(tried.status).toBe(403);
    expect(tried.message).toContain('configmaps "organization-icon" is forbidden');
    await dev.context().close();
  });

  it("mini app developer: a mini app's categories, locations and versions (a category the platform does not list and a stale form refused with the API server's message by the field)", async () => {
    const page = await pageAs('dev', `#/orgs/${org}/manage`);
    await page.locator('tr[data-miniapp="transfers"]').waitFor();
    await page.getByRole('button', { name: 'Edit transfers' }).click();
    const form = page.locator('form[data-edit="transfers"]');
    await form.waitFor();
    await axe(page, 'edit mini app');

    await page.getByLabel('Categories').fill('Payments, Gambling');
    await page.getByRole('button', { name: 'SAVE' }).click();
    const byCategories = page.locator('#miniapp-categories-error');
    await byCategories.waitFor();
    expect(await byCategories.innerText()).toContain('spec.categories: Gambling is not allowed by PlatformConfig default');
    expect(await page.getByLabel('Categories').getAttribute('aria-describedby')).toContain('miniapp-categories-error');
    expect((await admin.get<MiniApp>(Kinds.MiniApp, 'transfers', ns))?.spec.categories).toBeUndefined();

    await page.getByLabel('Categories').fill('Payments');
    await page.getByLabel('Locations').fill('UY, AR');
    await page.getByLabel('New version', { exact: true }).fill('1.1.0');
    await page.getByLabel('Version description').fill('Faster transfers');
    await page.getByRole('button', { name: 'Add version' }).click();
    await page.getByLabel('Published version').selectOption('1.1.0');
    await axe(page, 'edit mini app (filled)');
    await page.getByRole('button', { name: 'SAVE' }).click();
    await form.waitFor({ state: 'detached' });
    expect((await admin.get<MiniApp>(Kinds.MiniApp, 'transfers', ns))?.spec).toMatchObject({
      categories: ['Payments'],
      locations: ['UY', 'AR'],
      versions: [{ name: '1.0.0' }, { name: '1.1.0', description: 'Faster transfers' }],
      publishedVersion: '1.1.0',
    });
    await expect.poll(() => page.locator('tr[data-miniapp="transfers"]').innerText()).toContain('Payments');

    // A stale form: someone changed the mini app since it was opened; the API server refuses, nothing is overwritten.
    await page.getByRole('button', { name: 'Edit transfers' }).click();
    await admin.request('PATCH', `/apis/miniapps.dev/v1alpha1/namespaces/${ns}/miniapps/transfers`, { body: { spec: { locations: ['UY', 'AR', 'BR'] } }, contentType: 'application/merge-patch+json' });
    await page.getByLabel('Locations').fill('CL');
    await page.getByRole('button', { name: 'SAVE' }).click();
    const refused = page.locator('#miniapp-edit-error');
    await refused.waitFor();
    expect(await refused.innerText()).toContain('the object has been modified');
    expect((await admin.get<MiniApp>(Kinds.MiniApp, 'transfers', ns))?.spec.locations).toEqual(['UY', 'AR', 'BR']);
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.context().close();

    // A super app administrator reads mini apps, and finds no Edit.
    const superadmin = await pageAs('superadmin', `#/orgs/${org}/manage`);
    await superadmin.locator('tr[data-miniapp="transfers"]').waitFor();
    expect(await superadmin.getByRole('button', { name: 'Edit transfers' }).count()).toBe(0);
    await superadmin.context().close();
  });

  it('super app administrator: the catalog the operator published, and featured mini apps; a developer is refused', async () => {
    await eventually(async () => ((await admin.get<SuperApp>(Kinds.SuperApp, 'wallet', ns))?.status?.catalog?.miniApps ?? 0) > 0, { describe: 'transfers in the catalog' });
    const page = await pageAs('superadmin', `#/orgs/${org}/superapps`);
    await page.locator('tr[data-superapp="wallet"]').waitFor();
    await page.getByRole('button', { name: 'Catalog of Wallet' }).click();
    const entry = page.locator(`[data-catalog="wallet"] tr[data-entry="${org}/transfers"]`);
    await entry.waitFor({ timeout: 20_000 });
    await axe(page, 'catalog');
    await entry.getByLabel('Featured').check();
    const featured = await eventually(async () => (await admin.get<SuperApp>(Kinds.SuperApp, 'wallet', ns))?.spec.featured ?? false, { describe: 'featured set' });
    expect(featured).toEqual([{ name: 'transfers' }]);
    // The operator puts it first, marked featured, in the catalog it publishes; the page shows that catalog.
    await eventually(
      async () => {
        const cm = await admin.get<{ metadata: { name: string }; data?: Record<string, string> }>(Resources.ConfigMap, 'wallet-catalog', ns);
        return (JSON.parse(cm?.data?.['catalog.json'] ?? '{}') as { miniApps?: { name: string; featured: boolean }[] }).miniApps?.[0]?.featured === true;
      },
      { describe: 'the catalog lists transfers as featured' },
    );
    await entry.getByLabel('Featured').uncheck();
    await eventually(async () => (await admin.get<SuperApp>(Kinds.SuperApp, 'wallet', ns))?.spec.featured === undefined, { describe: 'featured cleared' });
    await page.context().close();

    // A developer may read the super app but not change what is featured.
    const dev = await pageAs('dev', `#/orgs/${org}/superapps`);
    await dev.locator('tr[data-superapp="wallet"]').waitFor();
    const tried = await tryThroughProxy(dev, 'PATCH', `/apis/miniapps.dev/v1alpha1/namespaces/${ns}/superapps/wallet`, { spec: { featured: [{ name: 'transfers' }] } });
    expect(tried.status).toBe(403);
    expect(tried.message).toContain('cannot patch resource "superapps"');
    await dev.context().close();
  });

  it("provisioning administrator: an organization's permissions and mini app targets, platforms and categories (a bad one refused by the field), API keys for users; an organization administrator may not change targets", async () => {
    const page = await pageAs('provisioner', `#/orgs/${org}/settings`);
    await page.getByRole('heading', { name: 'Permissions' }).waitFor();
    // No icon form: the icon is the organization's administrators' to set.
    expect(await page.getByRole('heading', { name: 'Organization icon' }).count()).toBe(0);
    await page.getByLabel('Add a super app').selectOption(`${partner}/market`);
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.locator(`tr[data-target="${partner}/market"]`).waitFor();
    await page.getByLabel('Can Create Super Apps').uncheck();
    await axe(page, 'permissions');
    await page.getByRole('button', { name: 'CONFIRM' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    expect((await admin.get<Organization>(Kinds.Organization, org))?.spec).toMatchObject({
      capabilities: { superApps: false, miniApps: true },
      miniAppTargets: [{ organization: partner, name: 'market' }],
    });
    await admin.request('PATCH', `/apis/miniapps.dev/v1alpha1/organizations/${org}`, {
      body: { spec: { capabilities: { superApps: true, miniApps: true } } },
      contentType: 'application/merge-patch+json',
    });

    // Platforms and categories.
    await page.getByRole('link', { name: 'Platforms and categories' }).click();
    const categories = page.getByLabel('Categories', { exact: true });
    await expect.poll(() => categories.inputValue()).toBe('Payments, News');
    await axe(page, 'platforms and categories');
    await categories.fill(`Payments, News, ${'x'.repeat(65)}`);
    await page.getByRole('button', { name: 'SAVE' }).click();
    await page.locator('#platform-categories-error').waitFor();
    expect(await page.locator('#platform-categories-error').innerText()).toContain('spec.categories');
    expect(await categories.getAttribute('aria-describedby')).toContain('platform-categories-error');
    expect((await admin.get<PlatformConfig>(Kinds.PlatformConfig, PLATFORM_CONFIG_NAME))?.spec.categories).toEqual(['Payments', 'News']);
    await categories.fill('Payments, News, Wearables');
    await page.getByLabel('Platforms', { exact: true }).fill('ios, android, web');
    await page.getByRole('button', { name: 'SAVE' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    expect((await admin.get<PlatformConfig>(Kinds.PlatformConfig, PLATFORM_CONFIG_NAME))?.spec).toMatchObject({ categories: ['Payments', 'News', 'Wearables'], platforms: ['ios', 'android', 'web'] });

    // API keys for users: their own (in the operator's namespace), shown once; one for a member, readable by that member only.
    await page.getByRole('link', { name: 'API keys for users' }).click();
    await page.locator(`tr[data-userkey="${operatorNamespace}/root"]`).waitFor();
    await axe(page, 'api keys for users');
    // The provisioning administrators (PlatformConfig) are offered as users to pick.
    await expect.poll(() => page.locator('#userkey-owners option').evaluateAll((os) => os.map((o) => o.getAttribute('value')))).toContain(PROVISIONER);
    await page.getByLabel('User', { exact: true }).fill(PROVISIONER);
    await page.getByLabel('For', { exact: true }).selectOption(operatorNamespace);
    await page.getByLabel('Description').fill('Provisioning pipeline');
    await page.getByRole('button', { name: 'CONFIRM' }).click();
    const shown = page.getByLabel('Your new API key');
    await shown.waitFor({ timeout: 30_000 });
    const made = (await admin.list<ApiKey>(Kinds.ApiKey, { namespace: operatorNamespace })).items.find((k) => k.spec.description === 'Provisioning pipeline');
    expect(made?.spec.owner).toBe(PROVISIONER);
    expect(await shown.inputValue()).toBe(await readKey(admin, made!));
    await page.getByRole('button', { name: 'OK', exact: true }).click();

    await page.getByLabel('User', { exact: true }).fill(DEV);
    await page.getByLabel('For', { exact: true }).selectOption(ns);
    await page.getByLabel('Description').fill('For the developer');
    await page.getByRole('button', { name: 'CONFIRM' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `is made for ${DEV}` })
      .waitFor();
    const forDev = await eventually(async () => (await admin.list<ApiKey>(Kinds.ApiKey, { namespace: ns })).items.find((k) => k.spec.description === 'For the developer') ?? false, {
      describe: "the developer's key",
    });
    expect(forDev.spec.owner).toBe(DEV);
    expect(await page.getByLabel('Your new API key').count()).toBe(0);
    await page.getByRole('button', { name: `Revoke ${ns}/${forDev.metadata.name}` }).click();
    await eventually(async () => (await admin.get<ApiKey>(Kinds.ApiKey, forDev.metadata.name, ns))?.spec.revoked === true, { describe: 'the key revoked' });
    await page.context().close();

    // The organization's administrator: no Permissions, no provisioning screens, and the API server refuses them the targets.
    const orgAdmin = await pageAs('admin', `#/orgs/${org}/settings`);
    await orgAdmin.getByRole('heading', { name: 'Organization icon' }).waitFor();
    expect(await orgAdmin.getByRole('heading', { name: 'Permissions' }).count()).toBe(0);
    expect(await orgAdmin.getByRole('link', { name: 'Platforms and categories' }).count()).toBe(0);
    expect(await orgAdmin.getByRole('link', { name: 'API keys for users' }).count()).toBe(0);
    const tried = await tryThroughProxy(orgAdmin, 'PATCH', `/apis/miniapps.dev/v1alpha1/organizations/${org}`, { spec: { miniAppTargets: [] } });
    expect(tried.status).toBe(403);
    expect(tried.message).toMatch(/provisioning/);
    await orgAdmin.context().close();
  });
});
