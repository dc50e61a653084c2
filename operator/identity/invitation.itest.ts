// The invitation page with the embedded identity provider, in headless Chromium and as
// plain form posts: the invitee creates their account with the seed's fields (the email
// fixed from the invitation) and accepts; the page then says what they have; the account
// signs in and kubectl, as that member, is allowed and refused as their role says. A second
// invitation to the same email is accepted by signing in with the existing account. Bad
// input makes nothing.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Account } from '../api/account/schema.ts';
import type { Membership } from '../api/membership/schema.ts';
import type { Organization } from '../api/organization/schema.ts';
import { Kinds } from '../api/registry.ts';
import type { AnyObject } from '../runtime/kube/client.ts';
import { Resources } from '../runtime/kube/resource.ts';
import { chromiumMissing, launchChromium } from '../testenv/browser.ts';
import { deleteOrganizationsAndWait, testClient } from '../testenv/clients.ts';
import { identityOperatorArgs } from '../testenv/controlplane.ts';
import { signIn } from '../testenv/identity.ts';
import { eventually, freePort, kubectl, testIdentity, testKubeconfig, uniqueName } from '../testenv/index.ts';
import { acceptLink, invitationFlags } from '../testenv/invitations.ts';
import { OperatorProcess } from '../testenv/operator-process.ts';
import { TestSmtpServer } from '../testenv/smtp.ts';
import { accountId } from './accounts.ts';
import { KUBECTL_CLIENT_ID } from './provider.ts';

const missing = !!chromiumMissing('invitation.itest.ts');
const admin = testClient();
const opNamespace = uniqueName('identity-inv');
const orgs: string[] = [];
let smtp: TestSmtpServer;
let operator: OperatorProcess;
let browser: Browser | undefined;

async function invite(displayName: string, email: string, role: string): Promise<{ ns: string; link: string }> {
  const org = uniqueName('inv');
  orgs.push(org);
  await admin.create(Kinds.Organization, { metadata: { name: org }, spec: { displayName, capabilities: { miniApps: true } } });
  const ns = await eventually(async () => (await admin.get<Organization>(Kinds.Organization, org))?.status?.namespace ?? false, { describe: 'the namespace' });
  await admin.create(Kinds.Membership, { metadata: { name: 'member', namespace: ns }, spec: { email, role } });
  const mail = await eventually(() => smtp.messages.find((m) => m.to.includes(email) && m.text.includes(displayName)) ?? false, { describe: 'the invitation email' });
  return { ns, link: acceptLink(mail) };
}

function post(link: string, form: Record<string, string>): Promise<Response> {
  const url = new URL(link);
  return fetch(`${url.origin}${url.pathname}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: url.searchParams.get('token')!, ...form }).toString(),
  });
}

const text = (html: string) =>
  html
    .replace(/<style>[\s\S]*?<\/style>/, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;/g, "'")
    .replace(/\s+/g, ' ');

async function activeMember(ns: string): Promise<Membership> {
  return eventually(
    async () => {
      const m = await admin.get<Membership>(Kinds.Membership, 'member', ns);
      return m?.status?.phase === 'Active' && m.status.conditions?.find((c) => c.type === 'AccessGranted')?.status === 'True' ? m : false;
    },
    { describe: 'the membership Active with its role bound', timeoutMs: 60_000 },
  );
}

beforeAll(async () => {
  smtp = await TestSmtpServer.start();
  const port = await freePort();
  operator = await OperatorProcess.start({
    kubeconfig: testKubeconfig(),
    namespace: opNamespace,
    args: [...invitationFlags(smtp.port, port), ...identityOperatorArgs(testIdentity()!), '--leader-elect=false'],
  });
  if (!missing) browser = await launchChromium();
}, 120_000);

/** The emails the page makes accounts for: their Accounts (cluster-scoped) are deleted afterwards. */
const pageEmails: string[] = [];
/** The Accounts (cluster-scoped) with this email. */
const accountsOf = async (email: string) => (await admin.list<Account>(Kinds.Account)).items.filter((a) => a.spec.email === email);

afterAll(async () => {
  await browser?.close();
  await deleteOrganizationsAndWait(admin, orgs).catch(() => {});
  for (const a of (await admin.list<Account>(Kinds.Account).catch(() => ({ items: [] as Account[] }))).items.filter((x) => pageEmails.includes(x.spec.email)))
    await admin.delete(Kinds.Account, a.metadata.name).catch(() => {});
  await operator?.stop();
  await smtp?.stop();
  await admin.delete(Resources.Namespace, opNamespace);
});

describe('accepting an invitation with an account of the embedded provider', () => {
  const idp = () => testIdentity()!;
  const email = `${uniqueName('grace')}@example.com`;
  const username = uniqueName('grace');
  pageEmails.push(email);
  const password = 'a long and secret passphrase';

  it.skipIf(missing)('creates the account on the page (the seed fields, the email fixed), accepts, and says what the member now has', async () => {
    const { ns, link } = await invite('Hopper Bank', email, 'MiniAppDeveloper');
    const page = await browser!.newPage();
    expect((await page.goto(link))?.status()).toBe(200);
    expect(await page.getByLabel('Email').inputValue()).toBe(email);
    expect(await page.getByLabel('Email').getAttribute('readonly')).not.toBeNull();
    await page.getByLabel('User name').fill(username);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByLabel('First name').fill('Grace');
    await page.getByLabel('Last name').fill('Hopper');
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: 'Create account and accept' }).click()]);
    const after = await page.locator('main').innerText();
    expect(after).toContain('You accepted the invitation');
    expect(after).toContain('Hopper Bank');
    expect(after).toContain('mini app developer');
    expect(after).toContain(ns);
    expect(after).toContain(`kubectl miniapps login --issuer ${idp().issuer}`);
    await page.close();

    const secret = await admin.get<{ metadata: { name: string }; data: Record<string, string> }>(Resources.Secret, `account-${accountId(email)}`, opNamespace);
    expect(Buffer.from(secret!.data.username!, 'base64').toString()).toBe(username);
    expect(Buffer.from(secret!.data.passwordHash!, 'base64').toString()).toMatch(/^scrypt\$131072\$8\$1\$/);
    await activeMember(ns);

    // The account signs in; the API server takes its token as the member, as the role says.
    const session = await signIn({ issuer: idp().issuer, caPEM: idp().caPEM, clientId: KUBECTL_CLIENT_ID, login: username, password });
    const canCreate = (resource: string) => kubectl(['auth', 'can-i', 'create', resource, '-n', ns], { token: session.idToken, allowFailure: true });
    await eventually(async () => (await canCreate('miniapps.miniapps.dev')).stdout.trim() === 'yes', { describe: 'a developer may create mini apps', timeoutMs: 60_000 });
    // kubectl prints `no`, and may add the authorizer's reason after it (e.g. `no - RBAC: clusterrole ... not found`
    // while a ClusterRole another binding of the person names is being made): the answer is the first word.
    const answer = async (resource: string) => (await canCreate(resource)).stdout.trim().split(' ')[0];
    expect(await answer('superapps.miniapps.dev')).toBe('no');
    expect(await answer('memberships.miniapps.dev')).toBe('no');
  });

  it('accepts a second invitation to the same email by signing in with the existing account; a wrong password is refused and accepts nothing', async () => {
    if (missing) {
      // The first test made the account in the browser; without one, make it with the page's form.
      const first = await invite('Hopper Bank', email, 'MiniAppDeveloper');
      const made = await post(first.link, { action: 'create', username, password, firstName: 'Grace', lastName: 'Hopper' });
      expect(made.status).toBe(200);
    }
    const { ns, link } = await invite('Second Bank', email, 'MiniAppReviewer');
    const wrong = await post(link, { action: 'signin', password: 'not the right password' });
    expect(wrong.status).toBe(401);
    expect(text(await wrong.text())).toContain('The user name or password is wrong, or the account cannot sign in now.');
    expect((await admin.get<Membership>(Kinds.Membership, 'member', ns))?.status?.acceptedAt).toBeUndefined();
    const taken = await post(link, { action: 'create', username, password, firstName: 'Someone', lastName: 'Else' });
    expect(taken.status).toBe(409);
    // Their own account (made on the first invitation, with its Account): told to sign in below, not sent to a provisioning administrator's email.
    expect(text(await taken.text())).toContain('this email already has an account: choose another user name, or sign in below with the account you have');
    const ok = await post(link, { action: 'signin', password });
    expect(ok.status).toBe(200);
    expect(text(await ok.text())).toContain(`is now a member of Second Bank as mini app reviewer`);
    await activeMember(ns);
    // The page made the account's public face too, on the invitee's behalf: an Account named after the user name, never a
    // provisioning administrator, which adopted the Secret (its private half) and says the person can sign in.
    const made = await eventually(async () => (await accountsOf(email)).find((a) => a.status?.phase === 'Active') ?? false, { describe: 'the Account the page made, Active' });
    expect(made.metadata.name).toBe(username.toLowerCase());
    expect(made.spec).toMatchObject({ username, firstName: 'Grace', lastName: 'Hopper', provisioningAdministrator: false, suspended: false });
    expect(made.status?.conditions?.find((c) => c.type === 'PasswordSet')?.status).toBe('True');
    const secret = await admin.get<AnyObject>(Resources.Secret, `account-${accountId(email)}`, opNamespace);
    expect(secret?.metadata.ownerReferences?.map((r) => r.uid)).toEqual([made.metadata.uid]);
  });

  it("counts the invitation page's wrong passwords and the sign-in page's towards one lockout (on the cluster)", async () => {
    // It leaves the email locked for 15 minutes: no later test signs it in.
    const { ns, link } = await invite('Fourth Bank', email, 'MiniAppReviewer');
    for (let i = 0; i < 3; i++) expect((await post(link, { action: 'signin', password: 'a wrong password again' })).status).toBe(401);
    for (let i = 0; i < 2; i++) {
      const refused = await signIn({ issuer: idp().issuer, caPEM: idp().caPEM, clientId: KUBECTL_CLIENT_ID, login: email, password: 'still not the password' }).catch((e: Error) => e.message);
      expect(refused).toContain('HTTP 401');
    }
    // 5 in a row across the two pages: the right password is refused on both.
    const locked = await signIn({ issuer: idp().issuer, caPEM: idp().caPEM, clientId: KUBECTL_CLIENT_ID, login: email, password }).catch((e: Error) => e.message);
    expect(locked).toBe('Sign-in refused (HTTP 429): Too many sign-in attempts. Wait a few minutes and try again.');
    const onPage = await post(link, { action: 'signin', password });
    expect(onPage.status).toBe(429);
    expect(text(await onPage.text())).toContain('Too many sign-in attempts');
    expect((await admin.get<Membership>(Kinds.Membership, 'member', ns))?.status?.acceptedAt).toBeUndefined();
  });

  it("makes no account for an email an Account names, even while that Account has no Secret yet: the Account, a provisioning administrator's decision, makes it", async () => {
    const held = `${uniqueName('held')}@example.com`;
    pageEmails.push(held);
    // Its user name is another account's: the operator makes no Secret for it (Stored=False, UsernameTaken), as while it is down.
    const name = uniqueName('held');
    await admin.create(Kinds.Account, { metadata: { name }, spec: { username, email: held, firstName: 'Held', lastName: 'Back', provisioningAdministrator: false, suspended: true } });
    await eventually(async () => (await admin.get<Account>(Kinds.Account, name))?.status?.conditions?.find((c) => c.type === 'Stored')?.reason === 'UsernameTaken', {
      describe: 'the Account stalled on its user name',
    });
    const { ns, link } = await invite('Fifth Bank', held, 'MiniAppReviewer');
    const res = await post(link, { action: 'create', username: uniqueName('fresh'), password, firstName: 'Fresh', lastName: 'Start' });
    expect(res.status).toBe(409);
    expect(text(await res.text())).toContain('A provisioning administrator already made an account for this email');
    expect(await admin.get(Resources.Secret, `account-${accountId(held)}`, opNamespace)).toBeUndefined();
    expect((await accountsOf(held)).map((a) => a.metadata.name)).toEqual([name]);
    expect((await admin.get<Membership>(Kinds.Membership, 'member', ns))?.status?.acceptedAt).toBeUndefined();
  });

  it('refuses bad account input and creates nothing: a short password, a bad user name, missing names, no account part at all', async () => {
    const other = `${uniqueName('nobody')}@example.com`;
    const { ns, link } = await invite('Third Bank', other, 'MiniAppReviewer');
    const cases: [Record<string, string>, string][] = [
      [{ action: 'create', username: 'fine-name', password: 'short', firstName: 'A', lastName: 'B' }, 'The password must have at least 12 characters.'],
      [{ action: 'create', username: 'bad name!', password: 'long enough password', firstName: 'A', lastName: 'B' }, 'The user name must be 2 to 63 letters'],
      [{ action: 'create', username: 'fine-name', password: 'long enough password', firstName: '', lastName: 'B' }, 'Give your first name and last name.'],
      [{}, 'Create your account, or sign in with the one you have, to accept the invitation.'],
    ];
    for (const [form, message] of cases) {
      const res = await post(link, form);
      expect(res.status, JSON.stringify(form)).toBe(400);
      expect(text(await res.text())).toContain(message);
    }
    expect(await admin.get(Resources.Secret, `account-${accountId(other)}`, opNamespace)).toBeUndefined();
    expect(await accountsOf(other)).toEqual([]);
    expect((await admin.get<Membership>(Kinds.Membership, 'member', ns))?.status?.acceptedAt).toBeUndefined();
  });
});
