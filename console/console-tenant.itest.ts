// The tenant administrator's console (seed 003) in headless Chromium, on the real control
// plane and operator: the administrator signs in for real through the embedded OpenID
// Connect provider, finds their tenant from their own identity (the Tenant controller's
// grant), subscribes to the solution offered to it, sees the user groups with each role's
// source, creates a user with every field of the seed's createUsers body (a malformed email
// refused with the API server's message, nothing made), edits and deletes one, sees a user's landing page and the roles a frontend app's
// token would carry (the operator's token-roles API, asked with their own token). What they
// may not do is absent or refused by the API server; a member of an organization finds no
// tenant screens. axe runs on every screen: no serious or critical violation.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppManifest } from '../operator/api/appmanifest/schema.ts';
import type { Organization } from '../operator/api/organization/schema.ts';
import { Kinds } from '../operator/api/registry.ts';
import type { Solution } from '../operator/api/solution/schema.ts';
import type { Subscription } from '../operator/api/subscription/schema.ts';
import type { Tenant } from '../operator/api/tenant/schema.ts';
import type { User } from '../operator/api/user/schema.ts';
import type { UserGroup } from '../operator/api/usergroup/schema.ts';
import { CONSOLE_CLIENT_ID, KUBECTL_CLIENT_ID } from '../operator/identity/provider.ts';
import type { AnyObject } from '../operator/runtime/kube/client.ts';
import { Resources } from '../operator/runtime/kube/resource.ts';
import { webhookRegistrationName } from '../operator/servers/webhook.ts';
import { accessAllowed } from '../operator/testenv/access.ts';
import { chromiumMissing } from '../operator/testenv/browser.ts';
import { deleteOrganizationsAndWait, testClient } from '../operator/testenv/clients.ts';
import { identityOperatorArgs } from '../operator/testenv/controlplane.ts';
import { createTestAccount, signIn, untilApiServerAccepts } from '../operator/testenv/identity.ts';
import { eventually, freePort, testIdentity, testKubeconfig, uniqueName } from '../operator/testenv/index.ts';
import { OperatorProcess } from '../operator/testenv/operator-process.ts';
import { createOidcClient } from './server/oidc.ts';
import type { ConsoleServer } from './server/server.ts';
import { createUpstream, upstreamFromKubeconfig } from './server/upstream.ts';
import { axeWithShots, signInWithToken, startTestConsole } from './testing.ts';
import { SEED_USER } from './web/seed-user.fixture.ts';
import type { TestConsole } from './testing.ts';

const identity = testIdentity();
const skip = !!chromiumMissing('console-tenant.itest.ts') || !identity;

const admin = testClient();
const org = uniqueName('ten-console');
const orgNs = `org-${org}`;
const tenant = uniqueName('acme');
const otherTenant = uniqueName('globex');
const tenantNs = `tenant-${tenant}`;
/** The listing whose roles the solution's groups hold and the frontend app requires (unique: a listing id is one organization's). */
const LISTING = `${org}-dispatch`;
const TADMIN = `tina@${tenant}.example`;
const MEMBER = `mo@${org}.example`;
const PASSWORD = 'correct horse battery staple';
const operatorNamespace = uniqueName('op-ten-console');
const role = (name: string) => `role:${LISTING}:${name}`;

/** Axe on each screen (console/testing.ts); `npm run screenshots` saves the main ones, by these names, into docs/console. */
const axe = axeWithShots({
  'home (tenant administrator)': 'tenant-home',
  'subscriptions (subscribed)': 'tenant-subscriptions',
  'user groups': 'tenant-user-groups',
  users: 'tenant-users',
  'users (refused)': 'tenant-users-refused',
  'user page (token roles)': 'tenant-user',
});

type WithConditions = { status?: { conditions?: { type: string; status: string }[] } };
const ready = (o: WithConditions | undefined) => o?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

describe.skipIf(skip)("the tenant administrator's console in a browser", () => {
  let operator: OperatorProcess;
  let consoleServer: ConsoleServer;
  let browser: Browser;
  let testConsole: TestConsole | undefined;
  let page: Page;
  let memberToken: string;

  beforeAll(async () => {
    const consolePort = await freePort();
    const consoleUrl = `http://127.0.0.1:${consolePort}`;
    operator = await OperatorProcess.start({
      kubeconfig: testKubeconfig(),
      namespace: operatorNamespace,
      args: ['--leader-elect=false', ...identityOperatorArgs(identity!), `--identity-console-redirect-uris=${consoleUrl}/auth/callback`],
    });
    // The operator's APIs listener (token roles) is served with the CA it registers its webhook with.
    const reg = await eventually(
      async () => (await admin.get<AnyObject & { webhooks?: { clientConfig: { caBundle: string } }[] }>(Resources.ValidatingWebhookConfiguration, webhookRegistrationName(operatorNamespace))) ?? false,
      { describe: 'the webhook registration' },
    );
    const operatorCA = Buffer.from(reg.webhooks![0]!.clientConfig.caBundle, 'base64').toString();

    // A solution's organization: the solution (inline manifest, onboarded to the tenant) and its frontend app.
    await admin.create<Organization>(Kinds.Organization, { metadata: { name: org }, spec: { displayName: 'Dispatch Co', capabilities: { superApps: true, miniApps: true } } });
    await eventually(async () => ready(await admin.get<Organization>(Kinds.Organization, org)), { describe: `Organization ${org} Ready`, timeoutMs: 30_000 });
    await eventually(() => admin.create(Kinds.Membership, { metadata: { name: 'mo', namespace: orgNs }, spec: { email: MEMBER, role: 'MiniAppDeveloper', acceptance: 'Automatic' } }), {
      describe: 'the member',
    });
    await admin.create<AppManifest>(Kinds.AppManifest, {
      metadata: { name: 'dispatch-frontend', namespace: orgNs },
      spec: { appId: `${org}-client`, listingId: LISTING, rolesRequired: [`platform:role:${LISTING}:get-orders`, `platform:role:${LISTING}:admin`] },
    });
    await admin.create<Solution>(Kinds.Solution, {
      metadata: { name: 'gated', namespace: orgNs },
      spec: {
        solutionId: `${org}-gated`,
        version: '1.0.0',
        manifest: {
          userGroupsRequired: [
            { name: 'solutions owner', description: 'solutions owner role', landingPage: { url: '/app-a', rank: 2 }, roles: [role('get-orders'), role('view-orders')] },
            { name: 'field executive', description: 'team manager admin role', landingPage: { url: '/app-b', rank: 1 }, roles: [role('list-routes')] },
          ],
          adminUserGroups: [{ name: 'solutions-admin' }],
        },
        onboarding: { tenants: [tenant] },
      },
    });
    for (const [name, admins] of [
      [tenant, [TADMIN]],
      [otherTenant, [`someone@${otherTenant}.example`]],
    ] as const) {
      await admin.create<Tenant>(Kinds.Tenant, { metadata: { name }, spec: { displayName: name === tenant ? 'Acme Stores' : 'Globex', administrators: [...admins] } });
    }
    await eventually(async () => (await admin.get<Tenant>(Kinds.Tenant, tenant))?.status?.solutions?.some((s) => s.solution === `${org}/gated` && s.stage === 'Offered') === true, {
      describe: 'the solution offered to the tenant',
      timeoutMs: 30_000,
    });
    await eventually(() => accessAllowed(admin, TADMIN, { verb: 'get', resource: 'tenants', name: tenant }), { describe: 'the tenant administrator may get their Tenant' });
    await eventually(() => accessAllowed(admin, MEMBER, { verb: 'get', resource: 'organizations', name: org }), { describe: 'the member may get their Organization' });

    await createTestAccount(admin, operatorNamespace, { username: 'tina', email: TADMIN, password: PASSWORD, firstName: 'Tina', lastName: 'Tenant' });
    await createTestAccount(admin, operatorNamespace, { username: 'mo', email: MEMBER, password: PASSWORD, firstName: 'Mo', lastName: 'Member' });
    memberToken = (await signIn({ issuer: identity!.issuer, caPEM: identity!.caPEM, clientId: KUBECTL_CLIENT_ID, login: 'mo', password: PASSWORD })).idToken;
    await untilApiServerAccepts(memberToken);

    const oidc = await createOidcClient({ issuer: identity!.issuer, clientId: CONSOLE_CLIENT_ID, redirectUri: `${consoleUrl}/auth/callback`, caPEM: identity!.caPEM });
    testConsole = await startTestConsole({
      upstream: upstreamFromKubeconfig(testKubeconfig()),
      oidc,
      port: consolePort,
      publicUrl: consoleUrl,
      tokenRoles: createUpstream({ server: `https://127.0.0.1:${operator.apiPort}`, ca: operatorCA }),
    });
    ({ console: consoleServer, browser } = testConsole);
  }, 180_000);

  afterAll(async () => {
    await testConsole?.close();
    for (const t of [tenant, otherTenant]) await admin.delete(Kinds.Tenant, t).catch(() => undefined);
    await eventually(async () => !(await admin.get(Kinds.Tenant, tenant)) && !(await admin.get(Kinds.Tenant, otherTenant)), { timeoutMs: 60_000, describe: 'the tenants gone' }).catch(() => undefined);
    await deleteOrganizationsAndWait(admin, [org]).catch(() => undefined);
    await operator?.stop();
    await admin.delete(Resources.Namespace, operatorNamespace).catch(() => undefined);
  }, 180_000);

  it('signs in for real and finds their tenant from their own identity', async () => {
    const context = await browser.newContext({ bypassCSP: true, ignoreHTTPSErrors: true });
    page = await context.newPage();
    await page.goto(consoleServer.url);
    await page.getByRole('link', { name: 'SIGN IN' }).click();
    await page.getByLabel('User name or email').waitFor();
    await page.getByLabel('User name or email').fill('tina');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page
      .locator(`tr[data-tenant="${tenant}"]`)
      .waitFor({ timeout: 30_000 })
      .catch(async (err: Error) => {
        throw new Error(`${err.message}\nThe page at ${page.url()} said: ${await page.locator('body').innerText()}`);
      });
    expect(await page.locator('[data-username]').innerText()).toBe(TADMIN);
    // Their tenant only: the other tenant is not theirs, and they are in no organization.
    expect(await page.locator('tr[data-tenant]').count()).toBe(1);
    expect(await page.locator(`tr[data-tenant="${otherTenant}"]`).count()).toBe(0);
    expect(await page.locator('tr[data-org]').count()).toBe(0);
    await expect(page.locator(`tr[data-tenant="${tenant}"]`).innerText()).resolves.toContain(tenantNs);
    await axe(page, 'home (tenant administrator)');
  });

  it('subscribes to the solution offered to the tenant, and sees its stage and conditions', async () => {
    await page.getByRole('link', { name: 'Acme Stores' }).click();
    const row = page.locator(`tr[data-solution="${org}/gated"]`);
    await row.waitFor();
    await expect(row.innerText()).resolves.toContain('Offered');
    await axe(page, 'subscriptions');
    await page.getByRole('button', { name: `Subscribe to ${org}/gated` }).click();
    // The subscription is the operator's to build: the page follows the stage and the Subscription's conditions.
    await eventually(async () => ready(await admin.get<Subscription>(Kinds.Subscription, `${org}-gated`, tenantNs)), { describe: 'the Subscription Ready', timeoutMs: 60_000 });
    await eventually(async () => /Subscribed/.test(await row.innerText()) && /Ready: True/.test(await row.innerText()), { describe: 'the row shows Subscribed and Ready', timeoutMs: 30_000 });
    await eventually(async () => (await row.innerText()).includes('Version 1.0.0'), { describe: 'the version the groups come from' });
    await axe(page, 'subscriptions (subscribed)');
  });

  it('sees the user groups with each role and its source', async () => {
    await eventually(async () => (await admin.get<UserGroup>(Kinds.UserGroup, 'solutions-owner', tenantNs))?.status?.roleSources?.length === 2, { describe: 'solutions-owner with its sources' });
    await page.getByRole('link', { name: 'User groups' }).click();
    const group = page.locator('article[data-group="solutions-owner"]');
    await group.waitFor();
    const text = await group.innerText();
    expect(text).toContain('solutions owner');
    expect(text).toContain('/app-a');
    const getOrders = await group.locator(`tr[data-role="${role('get-orders')}"]`).innerText();
    expect(getOrders).toContain(LISTING);
    expect(getOrders).toContain(`Solution ${org}/gated`);
    await expect(page.locator('article[data-group="field-executive"]').innerText()).resolves.toContain(role('list-routes'));
    // Groups are the subscriptions': nothing to write here, and the API server refuses it anyway.
    expect(
      await page
        .getByRole('button')
        .filter({ hasText: /create|delete|save/i })
        .count(),
    ).toBe(0);
    const refused = await page.evaluate(async (ns) => {
      const s = (await (await fetch('/console/api/session')).json()) as { csrfToken: string };
      const r = await fetch(`/k8s/apis/miniapps.dev/v1alpha1/namespaces/${ns}/usergroups`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': s.csrfToken },
        body: JSON.stringify({ apiVersion: 'miniapps.dev/v1alpha1', kind: 'UserGroup', metadata: { name: 'sneaky' }, spec: { roles: ['role:x:y'] } }),
      });
      return { status: r.status, message: ((await r.json()) as { message: string }).message };
    }, tenantNs);
    expect(refused.status).toBe(403);
    expect(refused.message).toContain('cannot create resource "usergroups"');
    await axe(page, 'user groups');
  });

  it("creates a user with every field of the seed's createUsers body: a malformed email is refused with the API server message next to the Email field and nothing is made; then made as the seed writes it", async () => {
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByLabel('User code').waitFor();
    await axe(page, 'users');
    // The seed's example body, field by field, by each field's visible label (exact: 'Groups' is also in 'AAA groups').
    const u = SEED_USER;
    const byLabel: [string, string][] = [
      ['User code', u.userCode],
      ['User owner id', u.userOwnerId],
      ['User owner type', u.userOwnerType],
      ['Function', u.function],
      ['First name', u.firstName],
      ['Middle name', u.middleName],
      ['Last name', u.lastName],
      ['Email', 'john.doe-at-example.com'],
      ['Country code', u.primaryMobile.countryCode],
      ['Mobile number', u.primaryMobile.number],
      ['Secondary country code', u.secondaryMobile.countryCode],
      ['Secondary mobile number', u.secondaryMobile.number],
      ['Groups', u.groups[0]!],
      ['Work locations', u.workLocations.join(', ')],
      ['Teams', u.teams.join(', ')],
      ['Identification type', u.identification.idType],
      ['Identification number', u.identification.idNum],
      ['File id', u.fileId],
      ['User type', u.userType],
      ['Department', u.department],
      ['AAA id', u.aaaId],
      ['AAA groups', u.aaaGroups.join(', ')],
      ['Designation', u.designation],
      ['Employment type', u.employmentType],
    ];
    for (const [label, value] of byLabel) await page.getByLabel(label, { exact: true }).fill(value);
    // The second group picked from the tenant's groups: ticked, it is added to the field as the manifest writes it; the typed one shows ticked.
    const choices = page.locator('[data-group-choices]');
    expect(await choices.getByLabel('solutions owner', { exact: true }).isChecked()).toBe(true);
    await choices.getByLabel('field executive', { exact: true }).check();
    expect(await page.getByLabel('Groups', { exact: true }).inputValue()).toBe(u.groups.join(', '));
    await page.getByRole('button', { name: 'CREATE USER' }).click();
    // Next to the field the API server named: the Email field's own message, and only that field marked invalid.
    const error = page.locator('#new-user-email-error');
    await error.waitFor();
    expect(await error.innerText()).toMatch(/spec\.email/);
    expect(await page.getByLabel('Email', { exact: true }).getAttribute('aria-describedby')).toContain('new-user-email-error');
    expect(await page.locator('[aria-invalid="true"]').evaluateAll((els) => els.map((e) => e.id))).toEqual(['new-user-email']);
    expect(await admin.get<User>(Kinds.User, 'user123', tenantNs)).toBeUndefined();
    await error.scrollIntoViewIfNeeded();
    await axe(page, 'users (refused)');
    await page.getByLabel('Email', { exact: true }).fill(u.email);
    await page.getByRole('button', { name: 'CREATE USER' }).click();
    await page.locator('tr[data-user="user123"]').waitFor();
    const made = await admin.get<User>(Kinds.User, 'user123', tenantNs);
    expect(made?.spec).toEqual(SEED_USER);
  });

  it("shows a user's landing page and roles, and the roles a frontend app's token would carry", async () => {
    await eventually(async () => ready(await admin.get<User>(Kinds.User, 'user123', tenantNs)), { describe: 'User user123 Ready' });
    await page.locator('tr[data-user="user123"]').getByRole('link', { name: 'user123' }).click();
    await page.locator('[data-user-page="user123"]').waitFor();
    // field executive (rank 1) wins over solutions owner (rank 2).
    await eventually(async () => /\/app-b/.test(await page.locator('[data-landing]').innerText()), { describe: 'the landing page shown' });
    expect(await page.locator('[data-landing]').innerText()).toContain('field-executive');
    expect((await page.locator('[data-roles]').innerText()).split('\n').sort()).toEqual([role('get-orders'), role('list-routes'), role('view-orders')]);
    await axe(page, 'user page');
    // The frontend app requires get-orders and admin; the user holds get-orders: the token carries that one.
    await page.getByLabel('App organization').fill(org);
    await page.getByLabel('App manifest').fill('dispatch-frontend');
    await page.getByRole('button', { name: 'SHOW ROLES' }).click();
    await page.locator('[data-token-roles]').waitFor();
    expect((await page.locator('[data-token-roles]').innerText()).trim()).toBe(role('get-orders'));
    // An app that does not exist: the operator's own answer, shown next to the form.
    await page.getByLabel('App manifest').fill('no-such-app');
    await page.getByRole('button', { name: 'SHOW ROLES' }).click();
    await page.locator('#token-error').waitFor();
    expect(await page.locator('#token-error').innerText()).toContain(`The operator refused this: AppManifest ${org}/no-such-app does not exist`);
    expect(await page.locator('[data-token-roles]').count()).toBe(0);
    await axe(page, 'user page (token roles)');
  });

  it('edits the user (designation) and deletes them with CONFIRM DELETE', async () => {
    await page.getByLabel('Designation').last().fill('field agent');
    await page.getByRole('button', { name: 'SAVE' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    // Only the designation changed: every other field of the seed's body is as it was made.
    expect((await admin.get<User>(Kinds.User, 'user123', tenantNs))?.spec).toEqual({ ...SEED_USER, designation: 'field agent' });
    const del = page.getByRole('button', { name: 'Delete user' });
    expect(await del.isDisabled()).toBe(true);
    await page.getByLabel('Confirmation').fill('CONFIRM DELETE');
    await del.click();
    await eventually(async () => !(await admin.get<User>(Kinds.User, 'user123', tenantNs)), { describe: 'User user123 deleted' });
    await page.locator('#users-title').waitFor();
  });

  it('in Spanish: the same screens in the products words', async () => {
    await page.getByLabel('Language').selectOption('es');
    await expect(page.getByRole('heading', { name: 'Usuarios' }).count()).resolves.toBe(1);
    await expect(page.getByRole('button', { name: 'CREAR USUARIO' }).count()).resolves.toBe(1);
    await page.getByRole('link', { name: 'Grupos de usuarios' }).click();
    await page.locator('article[data-group="solutions-owner"]').waitFor();
    await expect(page.locator('article[data-group="solutions-owner"]').innerText()).resolves.toContain('Origen');
    await axe(page, 'user groups (es)');
    await page.getByLabel('Idioma').selectOption('en');
  });

  it("is refused another tenant's objects by the API server", async () => {
    const status = await page.evaluate(async (t) => (await fetch(`/k8s/apis/miniapps.dev/v1alpha1/tenants/${t}`)).status, otherTenant);
    expect(status).toBe(403);
    const users = await page.evaluate(async (t) => (await fetch(`/k8s/apis/miniapps.dev/v1alpha1/namespaces/tenant-${t}/users`)).status, otherTenant);
    expect(users).toBe(403);
    // Nor may they change their own Tenant (its administrators and designations are the provisioning administrators').
    const patched = await page.evaluate(async (t) => {
      const s = (await (await fetch('/console/api/session')).json()) as { csrfToken: string };
      return (
        await fetch(`/k8s/apis/miniapps.dev/v1alpha1/tenants/${t}`, {
          method: 'PATCH',
          headers: { 'content-type': 'application/merge-patch+json', 'x-csrf-token': s.csrfToken },
          body: JSON.stringify({ spec: { administrators: ['me@evil.example'] } }),
        })
      ).status;
    }, tenant);
    expect(patched).toBe(403);
    // Through the page, the other tenant's screens are not there.
    await page.goto(`${consoleServer.url}/#/tenants/${otherTenant}/users`);
    await page.getByRole('link', { name: 'Back to my organizations' }).waitFor();
  });

  it('a member of an organization finds no tenant screens', async () => {
    const context = await browser.newContext({ bypassCSP: true });
    await signInWithToken(consoleServer, context, memberToken);
    const p = await context.newPage();
    await p.goto(consoleServer.url);
    await p.locator(`tr[data-org="${org}"]`).waitFor({ timeout: 30_000 });
    expect(await p.locator('#tenants-title').count()).toBe(0);
    expect(await p.locator('tr[data-tenant]').count()).toBe(0);
    await p.goto(`${consoleServer.url}/#/tenants/${tenant}/users`);
    await p.getByRole('link', { name: 'Back to my organizations' }).waitFor();
    expect(await p.locator('#users-title').count()).toBe(0);
    const status = await p.evaluate(async (t) => (await fetch(`/k8s/apis/miniapps.dev/v1alpha1/tenants/${t}`)).status, tenant);
    expect(status).toBe(403);
    // The token-roles question is the operator's to authorize: a member gets the answer of a missing user.
    const answer = await p.evaluate(
      async ({ ns, o }) => {
        const s = (await (await fetch('/console/api/session')).json()) as { csrfToken: string };
        const r = await fetch('/console/api/tokenroles', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-csrf-token': s.csrfToken },
          body: JSON.stringify({ namespace: ns, user: 'tina', app: { organization: o, name: 'dispatch-frontend' } }),
        });
        return r.status;
      },
      { ns: tenantNs, o: org },
    );
    expect(answer).toBe(404);
    await axe(p, 'home (member)');
    await context.close();
  });
});
