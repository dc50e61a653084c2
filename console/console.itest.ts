// The console in headless Chromium on the real control plane and operator: each role
// signs in (a session holding that person's own bearer token: an API key the API server
// authenticates through the operator's token webhook), walks its screens, finds what it
// may not do absent, or refused with the API server's own message, and every screen
// passes axe with no serious or critical violation.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIRM_DELETE_ANNOTATION, CONFIRM_DELETE_VALUE } from '../operator/api/constants.ts';
import { PLATFORM_CONFIG_NAME } from '../operator/api/platformconfig/schema.ts';
import type { ApiKey } from '../operator/api/apikey/schema.ts';
import type { MiniApp } from '../operator/api/miniapp/schema.ts';
import type { Membership } from '../operator/api/membership/schema.ts';
import type { Organization } from '../operator/api/organization/schema.ts';
import type { PlatformConfig } from '../operator/api/platformconfig/schema.ts';
import { Resources } from '../operator/runtime/kube/resource.ts';
import { Kinds } from '../operator/api/registry.ts';
import { accessAllowed } from '../operator/testenv/access.ts';
import { readKey } from '../operator/testenv/apikeys.ts';
import { chromiumMissing } from '../operator/testenv/browser.ts';
import { deleteOrganizationsAndWait, testClient } from '../operator/testenv/clients.ts';
import { identityOperatorArgs, tokenWebhookOperatorArgs } from '../operator/testenv/controlplane.ts';
import { createTestAccount, signIn, untilApiServerAccepts } from '../operator/testenv/identity.ts';
import { eventually, freePort, testIdentity, testKubeconfig, testTokenWebhook, uniqueName } from '../operator/testenv/index.ts';
import { CONSOLE_CLIENT_ID, KUBECTL_CLIENT_ID } from '../operator/identity/provider.ts';
import { createOidcClient } from './server/oidc.ts';
import { OperatorProcess } from '../operator/testenv/operator-process.ts';
import type { ConsoleServer } from './server/server.ts';
import { upstreamFromKubeconfig } from './server/upstream.ts';
import { serveMiniApps, standInMiniApps } from './harness.ts';
import { axeWithShots, ownApiKey, signedInPage, startTestConsole } from './testing.ts';
import type { TestConsole } from './testing.ts';

const webhook = testTokenWebhook();
const identity = testIdentity();
const skip = !!chromiumMissing('console.itest.ts') || !webhook || !identity;

const admin = testClient();
const org = uniqueName('console');
const ns = `org-${org}`;
const ADMIN = `admin@${org}.example`;
const DEV = `dev@${org}.example`;
const REVIEWER = `reviewer@${org}.example`;
const PROVISIONER = `root-${org}@platform.example`;
const SUPERADMIN = `superapps@${org}.example`;
const operatorNamespace = uniqueName('op-console');
const newOrg = uniqueName('console-new');
const PASSWORD = 'correct horse battery staple';

/** Axe on each screen (console/testing.ts); `npm run screenshots` saves the main ones, by these names, into docs/console. */
const axe = axeWithShots({
  'sign-in': 'sign-in',
  'my organizations': 'my-organizations',
  members: 'members',
  'members (es)': 'members-es',
  'members with events': 'members-events',
  manage: 'manage',
  'manage with events': 'manage-events',
  'create application (refused)': 'create-refused',
  'api keys': 'api-keys',
  reviews: 'reviews',
  'super apps with a snapshot': 'super-apps',
  organizations: 'organizations',
});

/** A person's own API key, the bearer token of their session. */
const keyOf = (email: string, name: string, namespace = ns): Promise<string> => ownApiKey(admin, email, name, namespace);

describe.skipIf(skip)('the console in a browser, as each role', () => {
  let operator: OperatorProcess;
  let consoleServer: ConsoleServer;
  let browser: Browser;
  let testConsole: TestConsole | undefined;
  const tokens: Record<string, string> = {};
  let previousConfig: PlatformConfig | undefined;

  beforeAll(async () => {
    previousConfig = await admin.get<PlatformConfig>(Kinds.PlatformConfig, PLATFORM_CONFIG_NAME);
    await admin.apply(Kinds.PlatformConfig, { metadata: { name: PLATFORM_CONFIG_NAME }, spec: { ...(previousConfig?.spec ?? {}), provisioningAdministrators: { users: [PROVISIONER] } } });
    // The console's address is known before the operator starts: the embedded provider registers its exact redirect URI.
    const consolePort = await freePort();
    const consoleUrl = `http://127.0.0.1:${consolePort}`;
    operator = await OperatorProcess.start({
      kubeconfig: testKubeconfig(),
      namespace: operatorNamespace,
      args: ['--leader-elect=false', ...tokenWebhookOperatorArgs(webhook!), ...identityOperatorArgs(identity!), `--identity-console-redirect-uris=${consoleUrl}/auth/callback`],
    });
    await admin.create(Kinds.Organization, { metadata: { name: org }, spec: { displayName: 'Console Bank', capabilities: { superApps: true, miniApps: true } } });
    await eventually(async () => (await admin.get<Organization>(Kinds.Organization, org))?.status?.namespace, { describe: 'the namespace' });
    // The webhook answers from the operator's cache, which sees the namespace a moment later.
    await eventually(() => admin.create(Kinds.Membership, { metadata: { name: 'admin', namespace: ns }, spec: { email: ADMIN, role: 'OrganizationAdministrator', acceptance: 'Automatic' } }), {
      describe: 'the administrator',
    });
    await admin.create(Kinds.Membership, { metadata: { name: 'dev', namespace: ns }, spec: { email: DEV, role: 'MiniAppDeveloper', acceptance: 'Automatic' } });
    await admin.create(Kinds.Membership, { metadata: { name: 'reviewer', namespace: ns }, spec: { email: REVIEWER, role: 'MiniAppReviewer', acceptance: 'Automatic' } });
    await admin.create(Kinds.Membership, { metadata: { name: 'superapps', namespace: ns }, spec: { email: SUPERADMIN, role: 'SuperAppAdministrator', acceptance: 'Automatic' } });
    for (const [who, verb, resource] of [
      [ADMIN, 'create', 'memberships'],
      [DEV, 'create', 'miniapps'],
      [REVIEWER, 'create', 'miniappreviews'],
      [SUPERADMIN, 'create', 'superapps'],
    ] as const) {
      await eventually(() => accessAllowed(admin, who, { verb, resource, namespace: ns }), { describe: `${who} bound` });
    }
    // Each member may get their Organization by name (how the console finds "my organizations"): the Organization controller grants it a moment after the Role.
    for (const who of [ADMIN, DEV, REVIEWER, SUPERADMIN]) {
      await eventually(() => accessAllowed(admin, who, { verb: 'get', resource: 'organizations', name: org }), { describe: `${who} may get Organization ${org}` });
    }
    tokens.admin = await keyOf(ADMIN, 'admin-key');
    tokens.dev = await keyOf(DEV, 'dev-key');
    tokens.reviewer = await keyOf(REVIEWER, 'reviewer-key');
    tokens.superadmin = await keyOf(SUPERADMIN, 'superadmin-key');
    await eventually(() => accessAllowed(admin, PROVISIONER, { verb: 'create', resource: 'organizations' }), { describe: 'the provisioning administrator bound' });
    tokens.provisioner = await keyOf(PROVISIONER, 'root', operatorNamespace);
    // What the reviewer's queue holds: a super app of this organization and a mini app version aimed at it.
    await admin
      .create(Kinds.SuperApp, { metadata: { name: 'wallet', namespace: ns }, spec: { displayName: 'Wallet', platforms: ['ios'] } })
      .catch(async () => eventually(() => admin.create(Kinds.SuperApp, { metadata: { name: 'wallet', namespace: ns }, spec: { displayName: 'Wallet' } }), { describe: 'the super app' }));
    await eventually(
      () =>
        admin.create<MiniApp>(Kinds.MiniApp, {
          metadata: { name: 'transfers', namespace: ns },
          spec: { appName: 'transfers', type: 'Text', superApps: [{ name: 'wallet' }], versions: [{ name: '1.0.0' }] },
        }),
      { describe: 'the mini app to review' },
    );
    await createTestAccount(admin, operatorNamespace, { username: 'ada', email: ADMIN, password: PASSWORD, firstName: 'Ada', lastName: 'Admin' });
    await untilApiServerAccepts((await signIn({ issuer: identity!.issuer, caPEM: identity!.caPEM, clientId: KUBECTL_CLIENT_ID, login: 'ada', password: PASSWORD })).idToken);
    const oidc = await createOidcClient({ issuer: identity!.issuer, clientId: CONSOLE_CLIENT_ID, redirectUri: `${consoleUrl}/auth/callback`, caPEM: identity!.caPEM });
    // The page as this checkout builds it (not whatever console/dist holds).
    testConsole = await startTestConsole({ upstream: upstreamFromKubeconfig(testKubeconfig()), oidc, port: consolePort, publicUrl: consoleUrl });
    ({ console: consoleServer, browser } = testConsole);
  }, 180_000);

  afterAll(async () => {
    await testConsole?.close();
    await deleteOrganizationsAndWait(admin, [org, newOrg]).catch(() => undefined);
    await operator?.stop();
    await admin.delete(Resources.Namespace, operatorNamespace).catch(() => undefined);
    if (previousConfig) await admin.apply(Kinds.PlatformConfig, { metadata: { name: PLATFORM_CONFIG_NAME }, spec: previousConfig.spec ?? {} });
  });

  const pageAs = (who: string): Promise<Page> => signedInPage(browser, consoleServer, tokens[who]!);

  it('signs in for real through the embedded OpenID Connect provider, and the API server knows the person by their own token', async () => {
    const context = await browser.newContext({ bypassCSP: true, ignoreHTTPSErrors: true });
    const page = await context.newPage();
    await page.goto(consoleServer.url);
    await page.getByRole('link', { name: 'SIGN IN' }).click();
    // The provider's own page (its origin, its form): the console never sees the password.
    await page.getByLabel('User name or email').waitFor();
    expect(new URL(page.url()).origin).toBe(new URL(identity!.issuer).origin);
    await page.getByLabel('User name or email').fill('ada');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page
      .locator(`tr[data-org="${org}"]`)
      .waitFor({ timeout: 30_000 })
      .catch(async (err: Error) => {
        throw new Error(`${err.message}\nThe page at ${page.url()} said: ${await page.locator('body').innerText()}`);
      });
    expect(new URL(page.url()).origin).toBe(consoleServer.url);
    expect(await page.locator('[data-username]').innerText()).toBe(ADMIN);
    await expect(page.locator(`tr[data-org="${org}"]`).innerText()).resolves.toContain('Organization Administrator');
    // The tokens stay on the server: the browser holds only the opaque, HttpOnly session cookie
    // (the sign-in's own cookie is gone; the provider's cookies, on the same loopback host, are its own).
    const cookies = await context.cookies(consoleServer.url);
    expect(cookies.filter((c) => c.name.startsWith('miniapps_console')).map((c) => [c.name, c.httpOnly, c.sameSite])).toEqual([['miniapps_console', true, 'Strict']]);
    expect(cookies.map((c) => c.value).join(' ')).not.toContain('eyJ');
    const stored = await page.evaluate('JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie');
    expect(stored).toBe('{}{}');
    // Signing out ends the console's session and sends the browser to the provider's end-session page.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((u) => u.origin === new URL(identity!.issuer).origin && u.pathname.startsWith('/session/end'));
    await page.goto(consoleServer.url);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await context.close();
  });

  it('a page with no session offers sign-in and shows nothing of the cluster', async () => {
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    await page.goto(consoleServer.url);
    await expect(page.getByRole('heading', { name: 'Sign in' }).textContent()).resolves.toBe('Sign in');
    await axe(page, 'sign-in');
    const res = await page.evaluate(async () => (await fetch('/k8s/apis/miniapps.dev/v1alpha1/namespaces/default/miniapps')).status);
    expect(res).toBe(401);
    await context.close();
  });

  it("organization administrator: my organizations and role, Members (invite, the API server refusing a malformed email, why the invitation was not sent in the Memberships' events, change role, suspend, remove, and the last administrator leaving), why a mini app is not placed in Manage's events, in English and Spanish", async () => {
    const page = await pageAs('admin');
    const row = page.locator(`tr[data-org="${org}"]`);
    await expect(row.innerText()).resolves.toContain('Organization Administrator');
    expect(await page.locator('[data-username]').innerText()).toBe(ADMIN);
    await axe(page, 'my organizations');

    await row.getByRole('link').click();
    await page.getByRole('heading', { name: 'Members' }).waitFor();
    await page.locator(`tr[data-member="${DEV}"]`).waitFor();
    await axe(page, 'members');

    // A malformed email: the API server's message, next to the field; nothing made.
    await page.getByLabel('Email', { exact: true }).fill('not-an-email');
    await page.getByRole('button', { name: 'SEND' }).click();
    const refusal = page.locator('#invite-error');
    await refusal.waitFor();
    expect(await refusal.innerText()).toMatch(/spec\.email/);
    expect(await page.getByLabel('Email', { exact: true }).getAttribute('aria-describedby')).toBe('invite-error');

    // Invite: the new member appears through the watch.
    const invitee = `new@${org}.example`;
    await page.getByLabel('Email', { exact: true }).fill(invitee);
    await page.getByLabel('Role', { exact: true }).selectOption({ label: 'Mini App Reviewer' });
    await page.getByRole('button', { name: 'SEND' }).click();
    await page.locator(`tr[data-member="${invitee}"]`).waitFor();
    const made = (await admin.list<Membership>(Kinds.Membership, { namespace: ns })).items.find((m) => m.spec.email === invitee);
    expect(made?.spec.role).toBe('MiniAppReviewer');

    // Change a role.
    await page.getByLabel(`Change role of ${DEV}`).selectOption('MiniAppReviewer');
    await eventually(async () => (await admin.get<Membership>(Kinds.Membership, 'dev', ns))?.spec.role === 'MiniAppReviewer', { describe: 'the role changed' });
    await page.getByLabel(`Change role of ${DEV}`).selectOption('MiniAppDeveloper');
    await eventually(async () => (await admin.get<Membership>(Kinds.Membership, 'dev', ns))?.spec.role === 'MiniAppDeveloper', { describe: 'the role changed back' });

    // Suspend, then reactivate.
    await page.getByRole('button', { name: `Suspend ${DEV}` }).click();
    await eventually(async () => (await admin.get<Membership>(Kinds.Membership, 'dev', ns))?.spec.suspended === true, { describe: 'the member suspended' });
    await page.getByRole('button', { name: `Reactivate ${DEV}` }).click();
    await eventually(async () => (await admin.get<Membership>(Kinds.Membership, 'dev', ns))?.spec.suspended === false, { describe: 'the member reactivated' });
    await eventually(() => accessAllowed(admin, DEV, { verb: 'create', resource: 'miniapps', namespace: ns }), { describe: 'the developer bound again' });

    // Why the invitation was not sent, from the Membership's Events (an administrator may read them): this operator has no SMTP server.
    const warned = page.locator(`[data-events="Membership"] tr[data-event-reason="SMTPNotConfigured"][data-event-object="${made!.metadata.name}"]`);
    await warned.first().waitFor();
    const said = await warned.first().innerText();
    for (const part of [invitee, 'Warning', 'No SMTP server is configured']) expect(said).toContain(part);
    await warned.first().scrollIntoViewIfNeeded();
    await axe(page, 'members with events');

    // Remove the invitee.
    await page.getByRole('button', { name: `Remove ${invitee}` }).click();
    await page.locator(`tr[data-member="${invitee}"]`).waitFor({ state: 'detached' });

    // The last administrator cannot leave: the operator's reason, shown on the row.
    await page.getByRole('button', { name: 'Leave' }).click();
    const last = page.locator(`tr[data-member="${ADMIN}"] [role="alert"]`);
    await last.waitFor();
    expect(await last.innerText()).toContain('is the last active OrganizationAdministrator');
    expect(await admin.get(Kinds.Membership, 'admin', ns)).toBeDefined();

    // Why a mini app is not placed, in Manage's events: one aimed at a super app that does not exist.
    await admin.create<MiniApp>(Kinds.MiniApp, { metadata: { name: 'nowhere', namespace: ns }, spec: { appName: 'nowhere', type: 'Text', superApps: [{ name: 'no-such-superapp' }] } });
    await page.getByRole('link', { name: 'Manage', exact: true }).click();
    const notFound = page.locator('[data-events="MiniApp"] tr[data-event-reason="TargetNotFound"][data-event-object="nowhere"]');
    await notFound.first().waitFor();
    expect(await notFound.first().innerText()).toContain('These super apps do not exist (yet)');
    await notFound.first().scrollIntoViewIfNeeded();
    await axe(page, 'manage with events');
    await admin.patch(Kinds.MiniApp, 'nowhere', ns, { metadata: { annotations: { [CONFIRM_DELETE_ANNOTATION]: CONFIRM_DELETE_VALUE } } });
    await admin.delete(Kinds.MiniApp, 'nowhere', ns);
    await page.getByRole('link', { name: 'Members', exact: true }).click();
    await page.getByRole('heading', { name: 'Members' }).waitFor();

    // Spanish: the same screen in the seed's words.
    await page.getByLabel('Language').selectOption('es');
    await page.getByRole('heading', { name: 'Personas' }).waitFor();
    await expect(page.getByRole('button', { name: 'ENVIAR' }).count()).resolves.toBe(1);
    await axe(page, 'members (es)');
    await page.context().close();
  });

  it('mini app developer: Manage (create, a bad name refused by the API server, Duplicate, search, CONFIRM DELETE), no invitations, and an API key shown once then revoked', async () => {
    const page = await pageAs('dev');
    await expect(page.locator(`tr[data-org="${org}"]`).innerText()).resolves.toContain('Mini App Developer');
    await page.goto(`${consoleServer.url}/#/orgs/${org}/members`);
    await page.locator(`tr[data-member="${ADMIN}"]`).waitFor();
    // What a developer may not do is absent: no invitation, no removing others, no Events (members cannot read them).
    expect(await page.getByRole('button', { name: 'SEND' }).count()).toBe(0);
    expect(await page.locator('[data-events]').count()).toBe(0);
    expect(await page.getByRole('button', { name: `Remove ${ADMIN}` }).count()).toBe(0);
    // And refused by the API server when tried anyway through the console's proxy.
    const tried = await page.evaluate(async (namespace) => {
      const s = (await (await fetch('/console/api/session')).json()) as { csrfToken: string };
      const r = await fetch(`/k8s/apis/miniapps.dev/v1alpha1/namespaces/${namespace}/memberships`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': s.csrfToken },
        body: JSON.stringify({ metadata: { name: 'sneaky' }, spec: { email: 'x@y.example', role: 'OrganizationAdministrator' } }),
      });
      return { status: r.status, message: ((await r.json()) as { message: string }).message };
    }, ns);
    expect(tried.status).toBe(403);
    expect(tried.message).toContain('cannot create resource "memberships"');

    await page.getByRole('link', { name: 'Manage' }).click();
    await page.locator('tr[data-miniapp="transfers"]').waitFor();
    // Where the mini app stands in each super app: the operator's state and its message.
    const target = page.locator('tr[data-miniapp="transfers"] [data-target="wallet"]');
    await target.waitFor();
    const standing = (await admin.get<MiniApp>(Kinds.MiniApp, 'transfers', ns))?.status?.superApps?.find((x) => x.name === 'wallet');
    expect(await target.innerText()).toContain(`wallet: ${standing?.state}`);
    await axe(page, 'manage');

    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByLabel('Type', { exact: true }).selectOption('Intent');
    await page.getByLabel('Domain').fill('payments');
    await page.getByLabel('Name', { exact: true }).fill('bad name!');
    await page.locator('form').getByRole('button', { name: 'Create' }).click();
    const refused = page.locator('#miniapp-error');
    await refused.waitFor();
    expect(await refused.innerText()).toContain('spec.appName');
    expect(await admin.get(Kinds.MiniApp, 'bad-name', ns)).toBeUndefined();
    await axe(page, 'create application (refused)');

    await page.getByLabel('Name', { exact: true }).fill('pay_bills');
    await page.locator('form').getByRole('button', { name: 'Create' }).click();
    await page.locator('tr[data-miniapp="pay-bills"]').waitFor();
    expect((await admin.get<MiniApp>(Kinds.MiniApp, 'pay-bills', ns))?.spec).toMatchObject({ appName: 'pay_bills', type: 'Intent', domain: 'payments' });

    await page.getByRole('button', { name: 'Duplicate pay_bills' }).click();
    await page.getByLabel('Name', { exact: true }).fill('pay_bills_copy');
    await page.getByLabel(/Protection Type/).selectOption('IrreversibleMasking');
    await page.locator('form').getByRole('button', { name: 'Create' }).click();
    await page.locator('tr[data-miniapp="pay-bills-copy"]').waitFor();
    expect((await admin.get<MiniApp>(Kinds.MiniApp, 'pay-bills-copy', ns))?.spec).toMatchObject({
      appName: 'pay_bills_copy',
      type: 'Intent',
      domain: 'payments',
      dataPrivacy: { protection: 'IrreversibleMasking' },
    });

    await page.getByLabel('Search').fill('copy');
    await expect(page.locator('tr[data-miniapp]').count()).resolves.toBe(1);
    await page.getByLabel('Search').fill('');

    await page.getByRole('button', { name: 'Delete pay_bills_copy' }).click();
    const confirm = page.locator('form').getByRole('button', { name: 'Delete' });
    expect(await confirm.isDisabled()).toBe(true);
    await page.getByLabel('Confirmation').fill('CONFIRM DELETE');
    await axe(page, 'delete application');
    await confirm.click();
    await page.locator('tr[data-miniapp="pay-bills-copy"]').waitFor({ state: 'detached' });
    await eventually(async () => (await admin.get(Kinds.MiniApp, 'pay-bills-copy', ns)) === undefined, { describe: 'the copy deleted' });

    // API keys: made, shown once, revoked.
    await page.getByRole('link', { name: 'API keys' }).click();
    await page.locator('tr[data-apikey="dev-key"]').waitFor();
    await axe(page, 'api keys');
    await page.getByRole('button', { name: '+ ADD API-KEY' }).click();
    await page.getByLabel('Description').fill('CI pipeline');
    await page.getByRole('button', { name: 'CONFIRM' }).click();
    const shown = page.getByLabel('Your new API key');
    await shown.waitFor({ timeout: 30_000 });
    const value = await shown.inputValue();
    const mine = (await admin.list<ApiKey>(Kinds.ApiKey, { namespace: ns })).items.find((k) => k.spec.description === 'CI pipeline');
    expect(mine?.spec.owner).toBe(DEV);
    expect(value).toBe(await readKey(admin, mine!));
    await page.getByRole('button', { name: 'OK', exact: true }).click();
    expect(await page.getByLabel('Your new API key').count()).toBe(0);
    await page.getByRole('button', { name: `Revoke ${mine!.metadata.name}` }).click();
    await eventually(async () => (await admin.get<ApiKey>(Kinds.ApiKey, mine!.metadata.name, ns))?.spec.revoked === true, { describe: 'the key revoked' });
    await page.context().close();
  });

  it('mini app reviewer: the queue of versions awaiting review, approve with a comment; no Manage actions', async () => {
    const page = await pageAs('reviewer');
    await expect(page.locator(`tr[data-org="${org}"]`).innerText()).resolves.toContain('Mini App Reviewer');
    await page.goto(`${consoleServer.url}/#/orgs/${org}/reviews`);
    const pending = page.locator(`[data-pending="${org}/transfers/wallet/1.0.0"]`);
    await pending.waitFor();
    await axe(page, 'reviews');
    await pending.getByLabel('Comment').fill('Looks right');
    await pending.getByRole('button', { name: 'Approved' }).click();
    await pending.waitFor({ state: 'detached' });
    const review = await eventually(
      async () =>
        (await admin.list<{ metadata: { name: string }; spec: { decision: string; comment?: string; miniApp: { name: string } } }>(Kinds.MiniAppReview, { namespace: ns })).items.find(
          (r) => r.spec.miniApp.name === 'transfers',
        ) ?? false,
      { describe: 'the review' },
    );
    expect(review.spec).toMatchObject({ decision: 'Approved', comment: 'Looks right' });

    await page.getByRole('link', { name: 'Manage' }).click();
    await page.locator('tr[data-miniapp="transfers"]').waitFor();
    expect(await page.getByRole('button', { name: 'Create' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /^Delete / }).count()).toBe(0);
    await page.context().close();
  });

  it('super app administrator: Super Apps (NEW SUPER APP, freeze a version and see its snapshot, a bad version refused by the API server); mini apps read only', async () => {
    const page = await pageAs('superadmin');
    await expect(page.locator(`tr[data-org="${org}"]`).innerText()).resolves.toContain('Super App Administrator');
    await page.goto(`${consoleServer.url}/#/orgs/${org}/superapps`);
    const wallet = page.locator('tr[data-superapp="wallet"]');
    await wallet.waitFor();
    await axe(page, 'super apps');

    await page.getByRole('button', { name: 'NEW SUPER APP' }).click();
    await page.getByLabel('Name', { exact: true }).fill('loyalty');
    await page.getByLabel('Display name').fill('Loyalty');
    await page.getByRole('button', { name: 'CONFIRM' }).click();
    await page.locator('tr[data-superapp="loyalty"]').waitFor();
    expect((await admin.get<{ metadata: { name: string }; spec: { displayName: string } }>(Kinds.SuperApp, 'loyalty', ns))?.spec.displayName).toBe('Loyalty');

    await wallet.getByLabel('Freeze version of Wallet').fill('not a version');
    await wallet.getByRole('button', { name: 'FREEZE' }).click();
    await wallet.locator('[role="alert"]').waitFor();
    expect(await wallet.locator('[role="alert"]').innerText()).toContain('spec.versions');
    await wallet.getByLabel('Freeze version of Wallet').fill('1.0.0');
    await wallet.getByRole('button', { name: 'FREEZE' }).click();
    // The operator's snapshot, shown as it appears in status.
    await wallet.locator('[data-snapshot="1.0.0"]').waitFor({ timeout: 30_000 });
    expect(await wallet.locator('[data-snapshot="1.0.0"]').innerText()).toMatch(/mini apps in snapshot \S+/);
    await axe(page, 'super apps with a snapshot');

    await page.getByRole('link', { name: 'Manage' }).click();
    await page.locator('tr[data-miniapp="transfers"]').waitFor();
    expect(await page.getByRole('button', { name: 'Create' }).count()).toBe(0);
    await page.context().close();
  });

  it('provisioning administrator: every organization, NEW ORGANIZATION with Can Create Super Apps, delete it with CONFIRM DELETE; a member finds no Organizations screen', async () => {
    const page = await pageAs('provisioner');
    await page.locator('[data-role="provisioning"]').waitFor();
    await page.getByRole('link', { name: 'Organizations', exact: true }).click();
    await page.locator(`tr[data-org="${org}"]`).waitFor();
    await axe(page, 'organizations');
    await page.getByRole('button', { name: 'NEW ORGANIZATION' }).click();
    // A name the API server refuses: its message, next to the field, nothing made.
    await page.getByLabel('Name', { exact: true }).fill('Not_A_Name');
    await page.getByRole('button', { name: 'CONFIRM' }).click();
    await page.locator('#org-error').waitFor();
    expect(await page.locator('#org-error').innerText()).toMatch(/metadata\.name|Invalid value/);
    await page.getByLabel('Name', { exact: true }).fill(newOrg);
    await page.getByLabel('Display name').fill('New Partner');
    await page.getByLabel('Can Create Super Apps').check();
    await axe(page, 'new organization');
    await page.getByRole('button', { name: 'CONFIRM' }).click();
    await page.locator(`tr[data-org="${newOrg}"]`).waitFor();
    expect((await admin.get<Organization>(Kinds.Organization, newOrg))?.spec).toMatchObject({ displayName: 'New Partner', capabilities: { superApps: true, miniApps: false } });

    // Delete it, confirmed with CONFIRM DELETE (anything else keeps the button disabled).
    await eventually(async () => (await admin.get<Organization>(Kinds.Organization, newOrg))?.status?.namespace ?? false, { describe: 'the new namespace' });
    await page.goto(`${consoleServer.url}/#/orgs/${newOrg}/members`);
    await page.getByRole('heading', { name: 'Delete organization' }).waitFor();
    await page.getByLabel('Confirmation').fill('confirm delete');
    expect(await page.getByRole('button', { name: 'Delete organization' }).isDisabled()).toBe(true);
    await page.getByLabel('Confirmation').fill('CONFIRM DELETE');
    await axe(page, 'delete organization');
    await page.getByRole('button', { name: 'Delete organization' }).click();
    await eventually(
      async () => {
        const o = await admin.get<Organization>(Kinds.Organization, newOrg);
        return o === undefined || !!o.metadata.deletionTimestamp;
      },
      { describe: 'the new organization deleted' },
    );
    await page.context().close();

    const member = await pageAs('dev');
    await member.locator(`tr[data-org="${org}"]`).waitFor();
    expect(await member.getByRole('link', { name: 'Organizations', exact: true }).count()).toBe(0);
    await member.goto(`${consoleServer.url}/#/organizations`);
    await member.getByRole('heading', { name: 'My organizations' }).waitFor();
    await member.context().close();
  });

  it('shows 2,000 mini apps 100 at a time, and search and the category filter cover all of them (their time is the page benchmark: npm run bench -- --scenario=console-page)', async () => {
    const page = await pageAs('dev');
    await page.locator(`tr[data-org="${org}"]`).waitFor();
    await serveMiniApps(page, ns, standInMiniApps(ns, 2000), () => {});
    const count = page.locator('#manage-count');
    await page.goto(`${consoleServer.url}/#/orgs/${org}/manage`);
    await expect.poll(() => count.textContent(), { interval: 10, timeout: 10_000 }).toBe('2000 of 2000 mini apps');
    expect(await page.locator('tr[data-miniapp]').count()).toBe(100);
    // Search covers every mini app, not only the rows shown.
    await page.getByLabel('Search').fill('app_1999');
    await expect.poll(() => count.textContent(), { interval: 10, timeout: 10_000 }).toBe('1 of 2000 mini apps');
    expect(await page.locator('tr[data-miniapp="app-1999"]').count()).toBe(1);
    // And "Show more" reaches them all.
    await page.getByLabel('Search').fill('');
    await page.getByLabel('Category').selectOption('news');
    await expect.poll(() => count.textContent(), { interval: 10, timeout: 10_000 }).toBe('1000 of 2000 mini apps');
    for (let i = 0; i < 9; i++) await page.getByRole('button', { name: /^Show 100 more of/ }).click();
    await expect.poll(() => page.locator('tr[data-miniapp]').count(), { interval: 50, timeout: 10_000 }).toBe(1000);
    expect(await page.getByRole('button', { name: /^Show \d+ more of/ }).count()).toBe(0);
    await page.context().close();
  });

  it('signing out ends the session on the server', async () => {
    const page = await pageAs('reviewer');
    await page.locator(`tr[data-org="${org}"]`).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    const res = await page.evaluate(async () => (await fetch('/console/api/me')).status);
    expect(res).toBe(401);
    await page.context().close();
  });
});
