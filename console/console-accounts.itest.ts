// Security > Users (seed 000, issues 19 and 20) in headless Chromium, on the real control
// plane and operator with the embedded identity provider (which the Account controller
// needs for Stored and PasswordSet) and loopback SMTP: the provisioning administrator
// creates an Account (a malformed email refused with the API server's message next to the
// field, nothing made), sees it Pending with its "set your password" email sent, resends
// it, suspends it, sees a taken user name from the Account's conditions, is refused
// changing their own administrator flag with the policy's message, and deletes an Account
// with CONFIRM DELETE; a member finds no Users screen and is refused through the proxy.
// Each person signs in with their own API key (console/testing.ts). axe on the screen, in
// English and Spanish.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Account } from '../operator/api/account/schema.ts';
import type { Organization } from '../operator/api/organization/schema.ts';
import { PLATFORM_CONFIG_NAME } from '../operator/api/platformconfig/schema.ts';
import type { PlatformConfig } from '../operator/api/platformconfig/schema.ts';
import { Kinds } from '../operator/api/registry.ts';
import { Resources } from '../operator/runtime/kube/resource.ts';
import { accessAllowed } from '../operator/testenv/access.ts';
import { chromiumMissing } from '../operator/testenv/browser.ts';
import { deleteOrganizationsAndWait, testClient } from '../operator/testenv/clients.ts';
import { identityOperatorArgs, tokenWebhookOperatorArgs } from '../operator/testenv/controlplane.ts';
import { eventually, testIdentity, testKubeconfig, testTokenWebhook, uniqueName } from '../operator/testenv/index.ts';
import { invitationFlags } from '../operator/testenv/invitations.ts';
import { OperatorProcess } from '../operator/testenv/operator-process.ts';
import { TestSmtpServer } from '../operator/testenv/smtp.ts';
import type { ConsoleServer } from './server/server.ts';
import { upstreamFromKubeconfig } from './server/upstream.ts';
import { axeWithShots, ownApiKey, signedInPage, startTestConsole } from './testing.ts';
import type { TestConsole } from './testing.ts';

/** Axe on each screen (console/testing.ts); `npm run screenshots` saves the main ones, by these names, into docs/console. */
const axe = axeWithShots({
  'Security > Users, conditions shown': 'accounts',
  'Security > Users, NEW USER refused': 'accounts-refused',
  'Security > Users, Edit user': 'accounts-edit',
  'Security > Users, in Spanish': 'accounts-es',
});

const webhook = testTokenWebhook();
const identity = testIdentity();
const skip = !!chromiumMissing('console-accounts.itest.ts') || !webhook || !identity;

const admin = testClient();
const org = uniqueName('accounts');
const ns = `org-${org}`;
const DOMAIN = `${org}.example`;
const PROVISIONER = `root@${DOMAIN}`;
const MEMBER = `dev@${DOMAIN}`;
/** The provisioning administrator's own Account (the one the self-change policy protects). */
const ROOT_ACCOUNT = uniqueName('root');
const operatorNamespace = uniqueName('op-accounts');
type Cond = { type: string; status: string; reason?: string; message?: string };
const cond = (o: { status?: { conditions?: Cond[] } } | undefined, type: string) => o?.status?.conditions?.find((c) => c.type === type);
const account = (name: string) => admin.get<Account>(Kinds.Account, name);
/** Every Account this test made or tried to make: their emails are at this run's domain. */
const ours = async () => (await admin.list<Account>(Kinds.Account)).items.filter((a) => a.spec.email.endsWith(`@${DOMAIN}`));

/** What the page's own fetch gets from the console's proxy (with the session's CSRF token). */
function tryThroughProxy(page: Page, method: string, path: string, body?: unknown) {
  return page.evaluate(
    async ([method, path, body]) => {
      const s = (await (await fetch('/console/api/session')).json()) as { csrfToken: string };
      const contentType = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
      const r = await fetch(`/k8s${path}`, { method, headers: { 'content-type': contentType, 'x-csrf-token': s.csrfToken }, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: r.status, message: ((await r.json()) as { message: string }).message };
    },
    [method, path, body] as const,
  );
}

describe.skipIf(skip)('Security > Users in a browser', () => {
  let operator: OperatorProcess;
  let smtp: TestSmtpServer;
  let consoleServer: ConsoleServer;
  let browser: Browser;
  let testConsole: TestConsole | undefined;
  let previousConfig: PlatformConfig | undefined;
  let userPrefix = '';
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    previousConfig = await admin.get<PlatformConfig>(Kinds.PlatformConfig, PLATFORM_CONFIG_NAME);
    await admin.apply(Kinds.PlatformConfig, {
      metadata: { name: PLATFORM_CONFIG_NAME },
      spec: { ...(previousConfig?.spec ?? {}), provisioningAdministrators: { users: [...(previousConfig?.spec?.provisioningAdministrators?.users ?? []), PROVISIONER] } },
    });
    userPrefix = (await admin.get<PlatformConfig>(Kinds.PlatformConfig, PLATFORM_CONFIG_NAME))?.spec?.userPrefix ?? '';
    smtp = await TestSmtpServer.start();
    operator = await OperatorProcess.start({
      kubeconfig: testKubeconfig(),
      namespace: operatorNamespace,
      args: ['--leader-elect=false', ...tokenWebhookOperatorArgs(webhook!), ...identityOperatorArgs(identity!), ...invitationFlags(smtp.port)],
    });
    // The provisioning administrator's own Account, made by whoever administers the cluster (docs/accounts.md).
    await admin.create<Account>(Kinds.Account, {
      metadata: { name: ROOT_ACCOUNT },
      spec: { username: ROOT_ACCOUNT, email: PROVISIONER, firstName: 'Root', lastName: 'Admin', provisioningAdministrator: true },
    });
    await admin.create<Organization>(Kinds.Organization, { metadata: { name: org }, spec: { displayName: 'Accounts Bank', capabilities: { superApps: true, miniApps: true } } });
    await eventually(async () => (await admin.get<Organization>(Kinds.Organization, org))?.status?.namespace, { describe: `the namespace of ${org}` });
    await eventually(() => admin.create(Kinds.Membership, { metadata: { name: 'dev', namespace: ns }, spec: { email: MEMBER, role: 'MiniAppDeveloper', acceptance: 'Automatic' } }), {
      describe: 'the member',
    });
    await eventually(() => accessAllowed(admin, `${userPrefix}${MEMBER}`, { verb: 'create', resource: 'miniapps', namespace: ns }), { describe: 'the member bound' });
    await eventually(() => accessAllowed(admin, `${userPrefix}${PROVISIONER}`, { verb: 'create', resource: 'accounts' }), { describe: 'the provisioning administrator bound' });
    tokens.member = await ownApiKey(admin, MEMBER, 'dev-key', ns);
    tokens.provisioner = await ownApiKey(admin, PROVISIONER, 'root', operatorNamespace);
    testConsole = await startTestConsole({ upstream: upstreamFromKubeconfig(testKubeconfig()), operatorNamespace });
    ({ console: consoleServer, browser } = testConsole);
  }, 180_000);

  afterAll(async () => {
    await testConsole?.close();
    for (const a of await ours().catch(() => [])) await admin.delete(Kinds.Account, a.metadata.name).catch(() => undefined);
    await deleteOrganizationsAndWait(admin, [org]).catch(() => undefined);
    await operator?.stop();
    await smtp?.stop();
    await admin.delete(Resources.Namespace, operatorNamespace).catch(() => undefined);
    if (previousConfig) await admin.apply(Kinds.PlatformConfig, { metadata: { name: PLATFORM_CONFIG_NAME }, spec: previousConfig.spec ?? {} });
    else await admin.delete(Kinds.PlatformConfig, PLATFORM_CONFIG_NAME).catch(() => undefined);
  });

  const pageAs = (who: string, hash = ''): Promise<Page> => signedInPage(browser, consoleServer, tokens[who]!, hash);
  const row = (page: Page, name: string) => page.locator(`tr[data-account="${name}"]`);

  async function addUser(page: Page, f: { username: string; email: string; first?: string; last?: string }): Promise<void> {
    await page.getByRole('button', { name: 'NEW USER' }).click();
    await page.getByLabel('User name', { exact: true }).fill(f.username);
    await page.getByLabel('Email', { exact: true }).fill(f.email);
    await page.getByLabel('First name', { exact: true }).fill(f.first ?? 'Pat');
    await page.getByLabel('Last name', { exact: true }).fill(f.last ?? 'Lee');
    await page.getByRole('button', { name: 'CONFIRM', exact: true }).click();
  }

  it('the provisioning administrator adds a user (a malformed email refused by the API server, nothing made), sees it Pending with its email sent, resends it, suspends it; a taken user name shows from the conditions', async () => {
    const page = await pageAs('provisioner', '#/');
    await page.getByRole('link', { name: 'Users', exact: true }).click();
    await page.getByRole('heading', { name: 'Users', exact: true }).waitFor();
    await row(page, ROOT_ACCOUNT).waitFor();
    await axe(page, 'Security > Users');

    const pat = uniqueName('pat');
    const patEmail = `${pat}@${DOMAIN}`;
    await addUser(page, { username: pat, email: 'not-an-email' });
    const refusal = page.locator('#account-email-error');
    await refusal.waitFor();
    expect(await refusal.textContent()).toContain('The API server refused this:');
    expect(await refusal.textContent()).toContain('spec.email');
    expect(await page.getByLabel('Email', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    await axe(page, 'Security > Users, NEW USER refused');
    expect(await account(pat)).toBeUndefined();
    expect((await ours()).map((a) => a.spec.username)).not.toContain(pat);

    await page.getByLabel('Email', { exact: true }).fill(patEmail);
    await page.getByRole('button', { name: 'CONFIRM', exact: true }).click();
    await row(page, pat).waitFor();
    const made = await account(pat);
    expect(made?.spec).toMatchObject({ username: pat, email: patEmail, firstName: 'Pat', lastName: 'Lee', provisioningAdministrator: false });
    await expect.poll(() => row(page, pat).locator('[data-phase]').textContent(), { timeout: 30_000 }).toBe('Pending');
    await eventually(() => smtp.messages.filter((m) => m.to.includes(patEmail) && m.subject === 'Set your password').length === 1, { describe: 'the "set your password" email' });
    await expect.poll(() => row(page, pat).textContent(), { timeout: 30_000 }).toContain('"Set your password" email sent');

    // Keys (seed 000: a user's MORE OPTIONS > Keys): API keys for users, with this user filled in; back to Users.
    await page.getByRole('link', { name: `Keys of ${pat}` }).click();
    await page.getByRole('heading', { name: 'API keys for users', level: 2 }).waitFor();
    expect(await page.getByLabel('User', { exact: true }).inputValue()).toBe(patEmail);
    await page.getByRole('link', { name: 'Users', exact: true }).click();
    await row(page, pat).waitFor();
    // Resend: the annotation changes, the operator sends it again.
    await page.getByRole('button', { name: `Resend email to ${pat}` }).click();
    await eventually(() => smtp.messages.filter((m) => m.to.includes(patEmail) && m.subject === 'Set your password').length === 2, {
      describe: 'the "set your password" email sent again',
      timeoutMs: 30_000,
    });
    expect((await account(pat))?.status?.passwordSetup?.resendAnswered).toBeTruthy();

    // Suspend, and lift the suspension (another provisioning administrator may).
    await page.getByRole('button', { name: `Suspend ${pat}` }).click();
    await expect.poll(() => row(page, pat).locator('[data-phase]').textContent(), { timeout: 30_000 }).toBe('Suspended');
    expect((await account(pat))?.spec.suspended).toBe(true);
    await page.getByRole('button', { name: `Lift suspension of ${pat}` }).click();
    await expect.poll(() => row(page, pat).locator('[data-phase]').textContent(), { timeout: 30_000 }).toBe('Pending');

    // Edit: the names change (the email cannot: read-only, as the schema makes it immutable); a form left open while someone
    // else changed the Account is refused with the API server's conflict, and writes nothing over them.
    await page.getByRole('button', { name: `Edit ${pat}` }).click();
    await page.getByRole('heading', { name: 'Edit user', level: 3 }).waitFor();
    expect(await page.getByLabel('Email', { exact: true }).getAttribute('readonly')).not.toBeNull();
    expect(await page.getByLabel('Last name', { exact: true }).inputValue()).toBe('Lee');
    await page.getByLabel('Last name', { exact: true }).fill('Lee-Park');
    await axe(page, 'Security > Users, Edit user');
    await page.getByRole('button', { name: 'SAVE', exact: true }).click();
    await expect.poll(async () => (await account(pat))?.spec.lastName, { timeout: 10_000 }).toBe('Lee-Park');
    await expect.poll(() => row(page, pat).textContent(), { timeout: 10_000 }).toContain('Lee-Park');
    await page.getByRole('button', { name: `Edit ${pat}` }).click();
    await page.getByLabel('First name', { exact: true }).fill('Patricia');
    await admin.patch(Kinds.Account, pat, undefined, { spec: { firstName: 'Patty' } });
    await page.getByRole('button', { name: 'SAVE', exact: true }).click();
    const conflict = page.locator('#account-error');
    await conflict.waitFor();
    expect(await conflict.textContent()).toContain('the object has been modified');
    expect((await account(pat))?.spec.firstName).toBe('Patty');
    await page.getByRole('button', { name: 'Cancel', exact: true }).click();

    // A taken user name: not a valid object name (underscore), so both Accounts get generated names and the operator's condition says it.
    const taken = `${pat.replaceAll('-', '_')}_x`;
    await addUser(page, { username: taken, email: `first-${pat}@${DOMAIN}` });
    await expect.poll(async () => (await ours()).filter((a) => a.spec.username === taken).length, { timeout: 10_000 }).toBe(1);
    const first = (await ours()).find((a) => a.spec.username === taken)!;
    await eventually(async () => cond(await account(first.metadata.name), 'Stored')?.status === 'True', { describe: 'the first account stored', timeoutMs: 30_000 });
    await addUser(page, { username: taken, email: `second-${pat}@${DOMAIN}` });
    const second = await eventually(async () => (await ours()).find((a) => a.spec.username === taken && a.metadata.name !== first.metadata.name) ?? false, { describe: 'the second account' });
    const stored = await eventually(
      async () => {
        const c = cond(await account(second.metadata.name), 'Stored');
        return c?.reason === 'UsernameTaken' ? c : false;
      },
      { describe: 'UsernameTaken', timeoutMs: 30_000 },
    );
    const shown = row(page, second.metadata.name).locator('[data-condition="Stored"]');
    await shown.waitFor();
    expect(await shown.textContent()).toContain('UsernameTaken');
    expect(await shown.textContent()).toContain(stored.message);
    await axe(page, 'Security > Users, conditions shown');
    await page.context().close();
  });

  it("refuses the provisioning administrator changing their own administrator flag with the policy's message (nothing changed), and deletes an Account with CONFIRM DELETE; in Spanish too", async () => {
    const page = await pageAs('provisioner', '#/accounts');
    await row(page, ROOT_ACCOUNT).waitFor();
    await page.getByRole('button', { name: `Remove provisioning administrator ${ROOT_ACCOUNT}` }).click();
    const refusal = row(page, ROOT_ACCOUNT).getByRole('alert');
    await refusal.waitFor();
    expect(await refusal.textContent()).toContain(`Account ${ROOT_ACCOUNT} is yours (${userPrefix}${PROVISIONER}): nobody changes provisioningAdministrator on their own account`);
    expect((await account(ROOT_ACCOUNT))?.spec.provisioningAdministrator).toBe(true);

    const gone = uniqueName('gone');
    await addUser(page, { username: gone, email: `${gone}@${DOMAIN}` });
    await row(page, gone).waitFor();
    await page.getByRole('button', { name: `Delete ${gone}` }).click();
    const confirm = page.getByRole('button', { name: 'Delete user', exact: true });
    expect(await confirm.isDisabled()).toBe(true);
    await page.getByLabel('Confirmation', { exact: true }).fill('CONFIRM DELETE');
    await axe(page, 'Security > Users, CONFIRM DELETE');
    await confirm.click();
    await row(page, gone).waitFor({ state: 'detached' });
    await eventually(async () => (await account(gone)) === undefined, { describe: `Account ${gone} deleted` });

    await page.getByLabel('Language').selectOption('es');
    await page.getByRole('heading', { name: 'Usuarios' }).waitFor();
    await page.getByRole('columnheader', { name: 'Nombre de usuario' }).waitFor();
    // The note about the Account made before the switch is in Spanish too.
    await page
      .getByRole('status')
      .filter({ hasText: `Se creó la cuenta ${gone}` })
      .waitFor({ timeout: 5_000 });
    await page.getByRole('button', { name: 'NUEVO USUARIO' }).click();
    await page.getByLabel('¿Es administrador de aprovisionamiento?').waitFor();
    await axe(page, 'Security > Users, in Spanish');
    await page.context().close();
  });

  it('a member finds no Users screen and the API server refuses them Accounts through the proxy', async () => {
    const page = await pageAs('member', '#/accounts');
    await page.getByRole('heading', { name: 'My organizations' }).waitFor();
    expect(await page.getByRole('link', { name: 'Users', exact: true }).count()).toBe(0);
    expect(await page.getByRole('heading', { name: 'Users', exact: true }).count()).toBe(0);
    const list = await tryThroughProxy(page, 'GET', '/apis/miniapps.dev/v1alpha1/accounts');
    expect(list.status).toBe(403);
    expect(list.message).toContain('cannot list resource "accounts"');
    const intruder = uniqueName('intruder');
    const made = await tryThroughProxy(page, 'POST', '/apis/miniapps.dev/v1alpha1/accounts', {
      apiVersion: 'miniapps.dev/v1alpha1',
      kind: 'Account',
      metadata: { name: intruder },
      spec: { username: intruder, email: `${intruder}@${DOMAIN}`, firstName: 'In', lastName: 'Truder', provisioningAdministrator: true },
    });
    expect(made.status).toBe(403);
    expect(made.message).toContain('cannot create resource "accounts"');
    expect(await account(intruder)).toBeUndefined();
    const suspend = await tryThroughProxy(page, 'PATCH', `/apis/miniapps.dev/v1alpha1/accounts/${ROOT_ACCOUNT}`, { spec: { suspended: true } });
    expect(suspend.status).toBe(403);
    expect((await account(ROOT_ACCOUNT))?.spec.suspended).not.toBe(true);
    await axe(page, 'a member at #/accounts');
    await page.context().close();
  });

  it('someone who may only read Accounts sees Security > Users with no NEW USER and no row actions', async () => {
    const reader = uniqueName('account-reader');
    await admin.create(Resources.ClusterRole, { metadata: { name: reader }, rules: [{ apiGroups: ['miniapps.dev'], resources: ['accounts'], verbs: ['get', 'list', 'watch'] }] });
    await admin.create(Resources.ClusterRoleBinding, {
      metadata: { name: reader },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: reader },
      subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: `${userPrefix}${MEMBER}` }],
    });
    try {
      await eventually(() => accessAllowed(admin, `${userPrefix}${MEMBER}`, { verb: 'list', resource: 'accounts' }), { describe: 'the member may list Accounts' });
      const page = await pageAs('member', '#/accounts');
      await row(page, ROOT_ACCOUNT).waitFor();
      expect(await page.getByRole('button', { name: 'NEW USER' }).count()).toBe(0);
      expect(await row(page, ROOT_ACCOUNT).getByRole('button').count()).toBe(0);
      expect(await row(page, ROOT_ACCOUNT).getByRole('link').count()).toBe(0);
      await axe(page, 'Security > Users, read only');
      await page.context().close();
    } finally {
      await admin.delete(Resources.ClusterRoleBinding, reader).catch(() => undefined);
      await admin.delete(Resources.ClusterRole, reader).catch(() => undefined);
    }
  });
});
