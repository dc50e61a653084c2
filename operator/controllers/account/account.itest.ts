// Accounts made through the API, on the real control plane with the embedded identity
// provider: a provisioning administrator creates an Account, the "set your password" email
// arrives over loopback SMTP, the person sets a password through its link and signs in;
// RBAC and the admission policy decide who may write Accounts (impersonation, as the API
// server checks it); suspension through spec.suspended; provisioningAdministrator binds
// the person as PlatformConfig's list does.
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Account } from '../../api/account/schema.ts';
import { PLATFORM_CONFIG_NAME } from '../../api/platformconfig/names.ts';
import type { PlatformConfig } from '../../api/platformconfig/schema.ts';
import { Kinds } from '../../api/registry.ts';
import { accountId, accountSecretName } from '../../identity/accounts.ts';
import { KUBECTL_CLIENT_ID } from '../../identity/provider.ts';
import type { AnyObject, KubeClient } from '../../runtime/kube/client.ts';
import { Resources } from '../../runtime/kube/resource.ts';
import { testClient, deleteOrganizationsAndWait } from '../../testenv/clients.ts';
import { identityOperatorArgs } from '../../testenv/controlplane.ts';
import type { IdentityEndpoint } from '../../testenv/controlplane.ts';
import { setPasswordByLink, signIn, untilApiServerAccepts } from '../../testenv/identity.ts';
import { eventually, kubectl, testIdentity, testKubeconfig, uniqueName } from '../../testenv/index.ts';
import { invitationFlags } from '../../testenv/invitations.ts';
import { OperatorProcess } from '../../testenv/operator-process.ts';
import { TestSmtpServer } from '../../testenv/smtp.ts';

let admin: KubeClient;
let operator: OperatorProcess;
let smtp: TestSmtpServer;
let idp: IdentityEndpoint;
let userPrefix = '';
let hadConfig = false;
const opNamespace = uniqueName('account-op');
const person = (name: string) => {
  const username = uniqueName(name);
  return { name: username, username, email: `${username}@example.com` };
};
// The first provisioning administrator: an Account the cluster's administrator applies.
const root = person('root');
// Made by root: a provisioning administrator, and a person who is not one.
const carol = person('carol');
const dave = person('dave');
const orgName = uniqueName('acct-org');
const created: string[] = [];

const accountYaml = (p: { name: string; username: string; email: string }, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    apiVersion: 'miniapps.dev/v1alpha1',
    kind: 'Account',
    metadata: { name: p.name },
    spec: { username: p.username, email: p.email, firstName: 'First', lastName: 'Last', ...extra },
  });

/** kubectl as `user` (impersonated: RBAC and admission decide as for that person). */
const as = (user: string, args: string[], stdin?: string) => kubectl(args, { as: `${userPrefix}${user}`, allowFailure: true, ...(stdin !== undefined ? { stdin } : {}) });

const account = (name: string) => admin.get<Account>(Kinds.Account, name);
const condition = (a: Account | undefined, type: string) => a?.status?.conditions?.find((c) => c.type === type);

async function setPasswordFromEmail(email: string, password: string): Promise<void> {
  const mail = await eventually(() => smtp.messages.find((m) => m.to.includes(email) && m.subject === 'Set your password') ?? false, {
    describe: `the "set your password" email to ${email}`,
    timeoutMs: 30_000,
  });
  const link = /https:\/\/\S+\/reset\/confirm\?token=[\w.-]+/.exec(mail.text)?.[0];
  expect(link, mail.text).toBeTruthy();
  const { opened, res: set } = await setPasswordByLink(idp.caPEM, link!, password);
  expect(opened.status).toBe(200);
  // The first password: the page asks for it as such, not as a new one.
  expect(opened.html).toContain('<h1>Choose your password</h1>');
  const answer = await set.text();
  expect(set.status, answer).toBe(200);
  expect(answer).toContain('<h1>Password set</h1>');
}

beforeAll(async () => {
  idp = testIdentity()!;
  admin = testClient();
  hadConfig = !!(await admin.get(Kinds.PlatformConfig, PLATFORM_CONFIG_NAME));
  if (!hadConfig) await admin.apply(Kinds.PlatformConfig, { metadata: { name: PLATFORM_CONFIG_NAME }, spec: {} });
  userPrefix = (await admin.get<PlatformConfig>(Kinds.PlatformConfig, PLATFORM_CONFIG_NAME))?.spec?.userPrefix ?? '';
  smtp = await TestSmtpServer.start();
  operator = await OperatorProcess.start({ kubeconfig: testKubeconfig(), namespace: opNamespace, args: [...identityOperatorArgs(idp), '--leader-elect=false', ...invitationFlags(smtp.port)] });
  await admin.create(Kinds.Account, JSON.parse(accountYaml(root, { provisioningAdministrator: true })));
  created.push(root.name);
});

afterAll(async () => {
  await deleteOrganizationsAndWait(admin, [orgName]).catch(() => {});
  for (const name of created) await admin?.delete(Kinds.Account, name).catch(() => {});
  await operator?.stop();
  await smtp?.stop();
  if (!hadConfig) await admin?.delete(Kinds.PlatformConfig, PLATFORM_CONFIG_NAME).catch(() => {});
  await admin?.delete(Resources.Namespace, opNamespace);
  await admin?.close();
});

describe('Account', () => {
  it('binds an Account with provisioningAdministrator as PlatformConfig does: the person may write Accounts and Organizations', async () => {
    const a = await eventually(
      async () => {
        const got = await account(root.name);
        return condition(got, 'AdministratorBound')?.status === 'True' ? got! : false;
      },
      { describe: 'root bound as a provisioning administrator', timeoutMs: 30_000 },
    );
    expect(condition(a, 'AdministratorBound')?.reason).toBe('Bound');
    expect(a.status?.phase).toBe('Pending');
    expect(condition(a, 'PasswordSet')).toMatchObject({ status: 'False', reason: 'PasswordSetupSent' });
    expect(a.status?.accountId).toBe(accountId(root.email));
    const binding = await admin.get<AnyObject & { roleRef: { name: string }; subjects: { name: string }[] }>(Resources.ClusterRoleBinding, `miniapps:provisioning-administrator:account:${root.name}`);
    expect(binding?.roleRef.name).toBe('miniapps:provisioning-administrator');
    expect(binding?.subjects.map((s) => s.name)).toEqual([`${userPrefix}${root.email}`]);
    const secret = await admin.get<AnyObject & { data: Record<string, string> }>(Resources.Secret, accountSecretName(accountId(root.email)), opNamespace);
    expect(secret?.metadata.ownerReferences?.map((r) => r.uid)).toEqual([a.metadata.uid]);
    expect(secret?.data.passwordHash).toBeUndefined();
    // Nothing of a password or link in the Account.
    expect(JSON.stringify(a)).not.toMatch(/token=|scrypt\$/);
  });

  it('a provisioning administrator creates an Account; the email arrives, the person sets a password through its link, signs in and, as a provisioning administrator, creates an Organization', async () => {
    const made = await as(root.email, ['create', '-f', '-'], accountYaml(carol, { provisioningAdministrator: true }));
    expect(made.exitCode, made.stderr).toBe(0);
    created.push(carol.name);
    const password = 'carol sets her own password';
    await setPasswordFromEmail(carol.email, password);
    const a = await eventually(
      async () => {
        const got = await account(carol.name);
        return got?.status?.phase === 'Active' ? got : false;
      },
      { describe: 'carol Active once her password is set' },
    );
    expect(condition(a, 'PasswordSet')).toMatchObject({ status: 'True', reason: 'PasswordSet' });
    expect(condition(a, 'Ready')?.status).toBe('True');
    // One email, however many reconciles.
    expect(smtp.messages.filter((m) => m.to.includes(carol.email) && m.subject === 'Set your password')).toHaveLength(1);

    const s = await signIn({ issuer: idp.issuer, caPEM: idp.caPEM, clientId: KUBECTL_CLIENT_ID, login: carol.username, password });
    expect(s.claims.email).toBe(carol.email);
    const org = JSON.stringify({ apiVersion: 'miniapps.dev/v1alpha1', kind: 'Organization', metadata: { name: orgName }, spec: { displayName: 'Made by carol' } });
    // The API server trusts the provider once it fetched its discovery and keys.
    await untilApiServerAccepts(s.idToken);
    const r = await kubectl(['create', '-f', '-'], { token: s.idToken, allowFailure: true, stdin: org });
    expect(r.exitCode, r.stderr).toBe(0);
  });

  it('refuses a person who is not a provisioning administrator creating an Account, and such a person creating an Organization (the API server)', async () => {
    const made = await as(root.email, ['create', '-f', '-'], accountYaml(dave));
    expect(made.exitCode, made.stderr).toBe(0);
    created.push(dave.name);
    await eventually(async () => condition(await account(dave.name), 'AdministratorBound')?.reason === 'NotAdministrator', { describe: 'dave not bound' });
    const refused = await as(dave.email, ['create', '-f', '-'], accountYaml(person('eve')));
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toContain(`User "${userPrefix}${dave.email}" cannot create resource "accounts" in API group "miniapps.dev" at the cluster scope`);
    const password = 'dave sets his own password';
    await setPasswordFromEmail(dave.email, password);
    const s = await signIn({ issuer: idp.issuer, caPEM: idp.caPEM, clientId: KUBECTL_CLIENT_ID, login: dave.email, password });
    const org = JSON.stringify({ apiVersion: 'miniapps.dev/v1alpha1', kind: 'Organization', metadata: { name: uniqueName('not-daves') }, spec: { displayName: 'Not made' } });
    await untilApiServerAccepts(s.idToken);
    const r = await kubectl(['create', '-f', '-'], { token: s.idToken, allowFailure: true, stdin: org });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain('cannot create resource "organizations"');
  });

  it('nobody changes their own provisioningAdministrator or lifts their own suspension, and the email cannot change (the API server)', async () => {
    const demote = await as(carol.email, ['patch', 'account', carol.name, '--type=merge', '-p', '{"spec":{"provisioningAdministrator":false}}']);
    expect(demote.exitCode).not.toBe(0);
    expect(demote.stderr).toContain('nobody changes provisioningAdministrator on their own account');
    const email = await as(root.email, ['patch', 'account', dave.name, '--type=merge', '-p', JSON.stringify({ spec: { email: `${uniqueName('other')}@example.com` } })]);
    expect(email.exitCode).not.toBe(0);
    expect(email.stderr).toContain('spec.email is immutable');
    // root suspends carol. Her binding through the Account goes, but she could still hold the role another way (PlatformConfig's
    // list, as this test binds her): the policy, not RBAC, refuses her lifting her own suspension; root may.
    const other = `test-${carol.name}`;
    await admin.create(Resources.ClusterRoleBinding, {
      metadata: { name: other },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'miniapps:provisioning-administrator' },
      subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: `${userPrefix}${carol.email}` }],
    });
    try {
      expect((await as(root.email, ['patch', 'account', carol.name, '--type=merge', '-p', '{"spec":{"suspended":true}}'])).exitCode).toBe(0);
      const lift = await as(carol.email, ['patch', 'account', carol.name, '--type=merge', '-p', '{"spec":{"suspended":false}}']);
      expect(lift.exitCode).not.toBe(0);
      expect(lift.stderr).toContain(`Account ${carol.name} is yours (${userPrefix}${carol.email}): nobody lifts the suspension of their own account; another provisioning administrator may`);
      // Nor by deleting it and creating it again (without the suspension).
      const del = await as(carol.email, ['delete', 'account', carol.name, '--wait=false']);
      expect(del.exitCode).not.toBe(0);
      expect(del.stderr).toContain(`Account ${carol.name} is yours (${userPrefix}${carol.email}): nobody deletes their own account`);
      expect((await account(carol.name))?.metadata.deletionTimestamp).toBeUndefined();
      const mine = person('carol-again');
      const create = await as(carol.email, ['create', '-f', '-'], accountYaml({ ...mine, email: carol.email }));
      expect(create.exitCode).not.toBe(0);
      expect(create.stderr).toContain(`would be yours (${userPrefix}${carol.email}): nobody creates an account for their own email`);
      expect(await account(mine.name)).toBeUndefined();
      // Another person's Account she may still create and delete (she holds the role through the binding above).
      const other2 = person('erin');
      expect((await as(carol.email, ['create', '-f', '-'], accountYaml(other2))).exitCode).toBe(0);
      expect((await as(carol.email, ['delete', 'account', other2.name, '--wait=false'])).exitCode).toBe(0);
    } finally {
      await admin.delete(Resources.ClusterRoleBinding, other);
    }
    const suspended = await eventually(
      async () => {
        const got = await account(carol.name);
        return got?.status?.phase === 'Suspended' && condition(got, 'AdministratorBound')?.reason === 'Suspended' ? got : false;
      },
      { describe: 'carol Suspended, unbound' },
    );
    expect(condition(suspended, 'AdministratorBound')?.status).toBe('True');
    expect(await admin.get(Resources.ClusterRoleBinding, `miniapps:provisioning-administrator:account:${carol.name}`)).toBeUndefined();
    expect((await as(root.email, ['patch', 'account', carol.name, '--type=merge', '-p', '{"spec":{"suspended":false}}'])).exitCode).toBe(0);
    await eventually(async () => condition(await account(carol.name), 'AdministratorBound')?.reason === 'Bound', { describe: 'carol bound again' });
  });

  it('spec.suspended stops sign-in and refresh at once, and false lifts it', async () => {
    const password = 'dave sets his own password';
    const s = await signIn({ issuer: idp.issuer, caPEM: idp.caPEM, clientId: KUBECTL_CLIENT_ID, login: dave.username, password });
    expect((await as(root.email, ['patch', 'account', dave.name, '--type=merge', '-p', '{"spec":{"suspended":true}}'])).exitCode).toBe(0);
    await eventually(async () => (await account(dave.name))?.status?.phase === 'Suspended', { describe: 'dave Suspended' });
    await expect(oidc.refreshTokenGrant(s.config, s.refreshToken!)).rejects.toMatchObject({ error: 'invalid_grant' });
    const refused = await signIn({ issuer: idp.issuer, caPEM: idp.caPEM, clientId: KUBECTL_CLIENT_ID, login: dave.username, password }).catch((e: Error) => e.message);
    expect(refused).toBe('Sign-in refused (HTTP 401): The user name or password is wrong, or the account cannot sign in now');
    expect((await as(root.email, ['patch', 'account', dave.name, '--type=merge', '-p', '{"spec":{"suspended":false}}'])).exitCode).toBe(0);
    await eventually(async () => (await account(dave.name))?.status?.phase === 'Active', { describe: 'dave Active again' });
    const again = await signIn({ issuer: idp.issuer, caPEM: idp.caPEM, clientId: KUBECTL_CLIENT_ID, login: dave.username, password });
    expect(again.claims.email).toBe(dave.email);
  });

  it("records Account-made provisioning administrators in the PlatformConfig's status, so an organization administrator cannot make a key that authenticates as one (the API server)", async () => {
    const pc = await eventually(
      async () => {
        const got = await admin.get<PlatformConfig>(Kinds.PlatformConfig, PLATFORM_CONFIG_NAME);
        const listed = got?.status?.accountAdministrators ?? [];
        return listed.includes(root.email) && listed.includes(carol.email) && !listed.includes(dave.email) ? got! : false;
      },
      { describe: 'root and carol in status.accountAdministrators' },
    );
    expect((pc.metadata.managedFields as { manager?: string; subresource?: string }[] | undefined)?.some((f) => f.manager === 'miniapps-operator-accounts' && f.subresource === 'status')).toBe(true);
    const ns = await eventually(async () => (await admin.get<AnyObject & { status?: { namespace?: string } }>(Kinds.Organization, orgName))?.status?.namespace ?? false, {
      describe: "carol's organization's namespace",
    });
    // dave administers the organization, carol is a developer in it.
    for (const [name, email, role] of [
      ['dave', dave.email, 'OrganizationAdministrator'],
      ['carol', carol.email, 'MiniAppDeveloper'],
    ] as const)
      await admin.create(Kinds.Membership, { metadata: { name, namespace: ns }, spec: { email, role, acceptance: 'Automatic' } });
    await eventually(async () => (await admin.get<AnyObject & { status?: { phase?: string } }>(Kinds.Membership, 'dave', ns))?.status?.phase === 'Active', {
      describe: 'dave an active administrator',
    });
    const key = (name: string, owner: string) => JSON.stringify({ apiVersion: 'miniapps.dev/v1alpha1', kind: 'ApiKey', metadata: { name, namespace: ns }, spec: { owner, ttl: '720h' } });
    const refused = await as(dave.email, ['create', '-f', '-'], key('for-carol', carol.email));
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toContain('a key that authenticates as a provisioning administrator is created or widened (scopes, ttl, expiresAt, rotation) only by a provisioning administrator');
    // A key for a member who runs nothing is the organization administrator's to make.
    const allowed = await as(dave.email, ['create', '-f', '-'], key('for-dave', dave.email));
    expect(allowed.exitCode, allowed.stderr).toBe(0);
  });

  it('deleting the Account deletes its private half and its binding', async () => {
    const a = (await account(carol.name))!;
    await admin.delete(Kinds.Account, carol.name);
    await eventually(async () => !(await admin.get(Resources.Secret, accountSecretName(accountId(carol.email)), opNamespace)), { describe: 'the Secret collected', timeoutMs: 60_000 });
    await eventually(async () => !(await admin.get(Resources.ClusterRoleBinding, `miniapps:provisioning-administrator:account:${a.metadata.name}`)), {
      describe: 'the binding collected',
      timeoutMs: 60_000,
    });
  });
});
