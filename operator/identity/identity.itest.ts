// The embedded identity provider on the real control plane: kube-apiserver trusts it
// through its structured AuthenticationConfiguration (testenv, --authentication-config),
// an account signs in with the authorization code flow and PKCE (openid-client as the
// relying party, the sign-in form posted as a browser posts it), and the ID token is that
// person to the API server: allowed and refused by RBAC exactly as the operator binds.
import { execFile, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as oidc from 'openid-client';
import { chromiumMissing, launchChromium } from '../testenv/browser.ts';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { PLATFORM_CONFIG_NAME } from '../api/platformconfig/names.ts';
import { userSubject } from '../domain/rbac-types.ts';
import { Resources } from '../runtime/kube/resource.ts';
import type { KubeClient } from '../runtime/kube/client.ts';
import { testClient, deleteOrganizationsAndWait } from '../testenv/clients.ts';
import { identityOperatorArgs, tokenWebhookOperatorArgs } from '../testenv/controlplane.ts';
import { readKey, waitForKey } from '../testenv/apikeys.ts';
import { Kinds } from '../api/registry.ts';
import type { Membership } from '../api/membership/schema.ts';
import type { Organization } from '../api/organization/schema.ts';
import type { IdentityEndpoint } from '../testenv/controlplane.ts';
import { UserAgent, createTestAccount, relyingParty, signIn, untilApiServerAccepts } from '../testenv/identity.ts';
import { eventually, kubectl, testBinDir, testIdentity, testKubeconfig, testTokenWebhook, uniqueName } from '../testenv/index.ts';
import { OperatorProcess } from '../testenv/operator-process.ts';
import { TestSmtpServer } from '../testenv/smtp.ts';
import { invitationFlags } from '../testenv/invitations.ts';
import { AccountStore, accountId } from './accounts.ts';
import { KUBECTL_CLIENT_ID } from './provider.ts';

let admin: KubeClient;
let operator: OperatorProcess;
let idp: IdentityEndpoint;
const opNamespace = uniqueName('identity-op');
const workNamespace = uniqueName('identity-work');
const email = `${uniqueName('ada')}@example.com`;
const password = 'correct horse battery staple';
const username = uniqueName('ada');

async function startOperator(): Promise<OperatorProcess> {
  return OperatorProcess.start({ kubeconfig: testKubeconfig(), namespace: opNamespace, args: [...identityOperatorArgs(idp), '--leader-elect=false'] });
}

beforeAll(async () => {
  idp = testIdentity()!;
  admin = testClient();
  operator = await startOperator();
  expect(operator.identityPort).toBe(idp.port);
  await createTestAccount(admin, opNamespace, { username, email, password, firstName: 'Ada', lastName: 'Lovelace' });
  // What the operator binds for a member: the user named by the email (PlatformConfig userPrefix is empty here).
  await admin.create(Resources.Namespace, { metadata: { name: workNamespace } });
  await admin.create(Resources.Role, { metadata: { name: 'read-configmaps', namespace: workNamespace }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }] });
  await admin.create(Resources.RoleBinding, {
    metadata: { name: 'read-configmaps', namespace: workNamespace },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-configmaps' },
    subjects: [userSubject('', email)],
  });
});

afterAll(async () => {
  await operator?.stop();
  await admin?.delete(Resources.Namespace, workNamespace);
  await admin?.delete(Resources.Namespace, opNamespace);
  await admin?.close();
});

describe('embedded identity provider', () => {
  it('publishes discovery with PKCE S256 only, device authorization, end session and a JWKS kept in a Secret', async () => {
    const config = await relyingParty(idp.issuer, KUBECTL_CLIENT_ID, idp.caPEM);
    const meta = config.serverMetadata();
    expect(meta.issuer).toBe(idp.issuer);
    expect(meta.code_challenge_methods_supported).toEqual(['S256']);
    expect(meta.device_authorization_endpoint).toBe(`${idp.issuer}/device/auth`);
    expect(meta.end_session_endpoint).toBeTruthy();
    expect(meta.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code']));
    const jwks = (await (await new UserAgent(idp.caPEM).request(meta.jwks_uri!)).json()) as { keys: { kid: string; d?: string }[] };
    const stored = await admin.get<{ metadata: { name: string }; data: Record<string, string> }>(Resources.Secret, 'miniapps-identity-keys', opNamespace);
    const storedKids = (JSON.parse(Buffer.from(stored!.data.jwks!, 'base64').toString()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    expect(jwks.keys.map((k) => k.kid)).toEqual(storedKids);
    expect(jwks.keys.every((k) => k.d === undefined)).toBe(true);
  });

  it('signs an account in with the code flow and PKCE; the API server takes the ID token as that person, allowed and refused by RBAC', async () => {
    const result = await signIn({ issuer: idp.issuer, caPEM: idp.caPEM, clientId: KUBECTL_CLIENT_ID, login: username, password });
    expect(result.claims.email).toBe(email);
    expect(result.claims.aud).toBe(KUBECTL_CLIENT_ID);
    expect(result.refreshToken).toBeTruthy();
    const whoami = await untilApiServerAccepts(result.idToken);
    expect(whoami.username).toBe(email);
    expect(whoami.uid).toBe(result.claims.sub);
    const allowed = await kubectl(['get', 'configmaps', '-n', workNamespace], { token: result.idToken, allowFailure: true });
    expect(allowed.exitCode, allowed.stderr).toBe(0);
    const refused = await kubectl(['get', 'secrets', '-n', workNamespace], { token: result.idToken, allowFailure: true });
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toContain(`User "${email}" cannot list resource "secrets"`);
  });

  it('signs in with the email too, and refuses a wrong password or an unknown account with the same words', async () => {
    const byEmail = await signIn({ issuer: idp.issuer, caPEM: idp.caPEM, clientId: KUBECTL_CLIENT_ID, login: email.toUpperCase(), password });
    expect(byEmail.claims.email).toBe(email);
    const wrong = await signIn({ issuer: idp.issuer, caPEM: idp.caPEM, clientId: KUBECTL_CLIENT_ID, login: username, password: 'not the password at all' }).catch((e: Error) => e.message);
    const unknown = await signIn({ issuer: idp.issuer, caPEM: idp.caPEM, clientId: KUBECTL_CLIENT_ID, login: 'nobody-here', password: 'not the password at all' }).catch((e: Error) => e.message);
    expect(wrong).toBe('Sign-in refused (HTTP 401): The user name or password is wrong, or the account cannot sign in now');
    expect(unknown).toBe(wrong);
  });

  it('refuses an authorization request without PKCE, and a redirect URI that is not registered', async () => {
    const config = await relyingParty(idp.issuer, KUBECTL_CLIENT_ID, idp.caPEM);
    const ua = new UserAgent(idp.caPEM);
    const noPkce = oidc.buildAuthorizationUrl(config, { redirect_uri: 'http://127.0.0.1:5000/callback', scope: 'openid email', state: 's' });
    const r1 = await ua.follow(noPkce.href, new URL(idp.issuer).origin);
    expect(r1.leftTo).toContain('error=invalid_request');
    expect(new URL(r1.leftTo!).searchParams.get('error_description')).toContain('requires PKCE');
    const badRedirect = oidc.buildAuthorizationUrl(config, { redirect_uri: 'https://attacker.example/callback', scope: 'openid', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' });
    const r2 = await ua.follow(badRedirect.href, new URL(idp.issuer).origin);
    expect(r2.leftTo).toBeUndefined();
    expect(r2.res.status).toBe(400);
    expect(await r2.res.text()).toContain('redirect_uri did not match any of the client');
  });

  it('rotates refresh tokens (a used one is refused) and keeps its state across a restart of the operator', async () => {
    const first = await signIn({ issuer: idp.issuer, caPEM: idp.caPEM, clientId: KUBECTL_CLIENT_ID, login: username, password });
    const second = await oidc.refreshTokenGrant(first.config, first.refreshToken!);
    expect(second.refresh_token).toBeTruthy();
    expect(second.refresh_token).not.toBe(first.refreshToken);
    expect(second.claims()?.email).toBe(email);
    await expect(oidc.refreshTokenGrant(first.config, first.refreshToken!)).rejects.toMatchObject({ error: 'invalid_grant' });
    // Reusing a rotated refresh token revokes the whole grant (oidc-provider's reuse detection): start again from a fresh sign-in.
    const fresh = await signIn({ issuer: idp.issuer, caPEM: idp.caPEM, clientId: KUBECTL_CLIENT_ID, login: username, password });
    await operator.stop();
    operator = await startOperator();
    const config = await relyingParty(idp.issuer, KUBECTL_CLIENT_ID, idp.caPEM);
    const afterRestart = await oidc.refreshTokenGrant(config, fresh.refreshToken!);
    expect(afterRestart.claims()?.email).toBe(email);
    const states = await admin.list(Resources.Secret, { namespace: opNamespace, labelSelector: 'miniapps.dev/oidc-model' });
    expect(states.items.length).toBeGreaterThan(0);
    for (const s of states.items as unknown as { metadata: { name: string } }[]) expect(s.metadata.name).not.toContain(fresh.refreshToken!.slice(0, 20));
  });
});

const PLUGIN = fileURLToPath(new URL('../cli/kubectl-miniapps.ts', import.meta.url));

describe.skipIf(!!chromiumMissing('identity.itest.ts'))('kubectl miniapps login', () => {
  it('signs in with --device (the code approved in headless Chromium), writes an exec user, and kubectl then acts as the member, refreshing the token', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'miniapps-login-'));
    const kubeconfig = join(dir, 'kubeconfig');
    copyFileSync(testKubeconfig(), kubeconfig);
    const login = spawn(
      process.execPath,
      [
        PLUGIN,
        'login',
        `--issuer=${idp.issuer}`,
        '--device',
        `--certificate-authority=${join(idp.certDir, 'ca.crt')}`,
        `--kubeconfig=${kubeconfig}`,
        `--cache-dir=${join(dir, 'cache')}`,
        `--exec-command=${process.execPath} ${PLUGIN}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    let stdout = '';
    login.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    login.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    const exited = new Promise<number | null>((resolve) => login.once('exit', resolve));
    const url = await eventually(() => /Open (https:\/\/\S+) in a browser/.exec(stderr)?.[1] ?? false, { describe: 'the device sign-in address', timeoutMs: 30_000 });
    const browser = await launchChromium();
    try {
      const context = await browser.newContext({ ignoreHTTPSErrors: true });
      const page = await context.newPage();
      await page.goto(url);
      await expect(page.locator('h1').innerText()).resolves.toBe('Confirm the device');
      await Promise.all([page.waitForURL(/\/interaction\//), page.getByRole('button', { name: 'Continue' }).click()]);
      await page.getByLabel('User name or email').fill(username);
      await page.getByLabel('Password').fill(password);
      await Promise.all([page.waitForURL(/\/device\/[\w-]+$/), page.getByRole('button', { name: 'Sign in' }).click()]);
      await expect(page.locator('h1').innerText()).resolves.toBe('Signed in');
    } finally {
      await browser.close();
    }
    expect(await exited, stderr).toBe(0);
    expect(stdout).toContain('Signed in.');
    const cfg = readFileSync(kubeconfig, 'utf8');
    expect(cfg).toContain('get-token');
    expect(cfg).not.toContain('eyJ'); // no token in the kubeconfig: the exec plugin fetches it

    const run = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        execFile(join(testBinDir(), 'kubectl'), [`--kubeconfig=${kubeconfig}`, ...args], { encoding: 'utf8' }, (err, out, errOut) =>
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout: out, stderr: errOut }),
        ),
      );
    const who = await eventually(
      async () => {
        const r = await run(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
        return r.code === 0 ? r.stdout : false;
      },
      { describe: 'kubectl auth whoami through the exec plugin', timeoutMs: 60_000 },
    );
    expect(who).toBe(email);
    expect((await run(['get', 'configmaps', '-n', workNamespace])).code).toBe(0);
    const refused = await run(['get', 'secrets', '-n', workNamespace]);
    expect(refused.stderr).toContain(`User "${email}" cannot list resource "secrets"`);

    // An expired ID token is refreshed with the (rotating) refresh token, and the new one is kept.
    const cacheFile = join(dir, 'cache', (await import('node:fs')).readdirSync(join(dir, 'cache'))[0]!);
    const before = JSON.parse(readFileSync(cacheFile, 'utf8')) as { refreshToken: string; expiresAt: number };
    (await import('node:fs')).writeFileSync(cacheFile, JSON.stringify({ ...before, expiresAt: 0 }));
    expect((await run(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'])).stdout).toBe(email);
    const after = JSON.parse(readFileSync(cacheFile, 'utf8')) as { refreshToken: string; expiresAt: number };
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect(after.expiresAt).toBeGreaterThan(Date.now() / 1000);
  });
});

describe.skipIf(!!chromiumMissing('identity.itest.ts'))('kubectl miniapps login in a browser', () => {
  it('signs in with the code flow and PKCE through a loopback redirect, and writes the user', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'miniapps-login-'));
    const kubeconfig = join(dir, 'kubeconfig');
    copyFileSync(testKubeconfig(), kubeconfig);
    const login = spawn(
      process.execPath,
      [
        PLUGIN,
        'login',
        `--issuer=${idp.issuer}`,
        '--no-browser',
        `--certificate-authority=${join(idp.certDir, 'ca.crt')}`,
        `--kubeconfig=${kubeconfig}`,
        `--cache-dir=${join(dir, 'cache')}`,
        '--user=browser',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    login.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => login.once('exit', resolve));
    const url = await eventually(() => /Sign in at: (https:\/\/\S+)/.exec(stderr)?.[1] ?? false, { describe: 'the sign-in address', timeoutMs: 30_000 });
    const authorize = new URL(url);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    const browser = await launchChromium();
    try {
      const page = await (await browser.newContext({ ignoreHTTPSErrors: true })).newPage();
      await page.goto(url);
      await page.getByLabel('User name or email').fill(email);
      await page.getByLabel('Password').fill(password);
      await Promise.all([page.waitForURL(/^http:\/\/127\.0\.0\.1:\d+\/callback/), page.getByRole('button', { name: 'Sign in' }).click()]);
      await expect(page.locator('body').innerText()).resolves.toContain('Signed in.');
    } finally {
      await browser.close();
    }
    expect(await exited, stderr).toBe(0);
    expect(readFileSync(kubeconfig, 'utf8')).toContain('name: browser');
  });
});

describe('account suspension and password reset', () => {
  let smtp: TestSmtpServer;
  const email2 = `${uniqueName('linus')}@example.com`;
  const username2 = uniqueName('linus');
  const password2 = 'first password of linus';
  const TOKEN_TTL_S = 15;

  beforeAll(async () => {
    smtp = await TestSmtpServer.start();
    // Short-lived ID tokens, so that the window a suspended account keeps is seen to close.
    await operator.stop();
    operator = await OperatorProcess.start({
      kubeconfig: testKubeconfig(),
      namespace: opNamespace,
      args: [...identityOperatorArgs(idp), '--leader-elect=false', `--identity-token-ttl=${TOKEN_TTL_S}s`, ...invitationFlags(smtp.port), ...tokenWebhookOperatorArgs(testTokenWebhook()!)],
    });
    await createTestAccount(admin, opNamespace, { username: username2, email: email2, password: password2, firstName: 'Linus', lastName: 'Torvalds' });
    await admin.create(Resources.RoleBinding, {
      metadata: { name: 'read-configmaps-2', namespace: workNamespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-configmaps' },
      subjects: [userSubject('', email2)],
    });
  });
  const orgName = uniqueName('acct-org');
  afterAll(async () => {
    await deleteOrganizationsAndWait(admin, [orgName]).catch(() => {});
    await smtp?.stop();
  });

  it('stops the API keys of a suspended account at once, in every organization, and gives them back when the suspension is lifted', async () => {
    // The ApiKey admission policies take their parameters from the PlatformConfig `default`.
    const hadConfig = !!(await admin.get(Kinds.PlatformConfig, PLATFORM_CONFIG_NAME));
    if (!hadConfig) await admin.apply(Kinds.PlatformConfig, { metadata: { name: PLATFORM_CONFIG_NAME }, spec: {} });
    onTestFinished(async () => {
      if (!hadConfig) await admin.delete(Kinds.PlatformConfig, PLATFORM_CONFIG_NAME);
    });
    await admin.create(Kinds.Organization, { metadata: { name: orgName }, spec: { displayName: 'Account Org', capabilities: { miniApps: true } } });
    const ns = await eventually(async () => (await admin.get<Organization>(Kinds.Organization, orgName))?.status?.namespace ?? false, { describe: 'the namespace' });
    await admin.create(Kinds.Membership, { metadata: { name: 'linus', namespace: ns }, spec: { email: email2, role: 'MiniAppDeveloper', acceptance: 'Automatic' } });
    await eventually(async () => (await admin.get<Membership>(Kinds.Membership, 'linus', ns))?.status?.phase === 'Active', { describe: 'the member Active' });
    await admin.create(Kinds.ApiKey, { metadata: { name: 'linus-key', namespace: ns }, spec: { owner: email2, ttl: '720h' } });
    const k = await waitForKey(admin, ns, 'linus-key', (x) => x.status?.phase === 'Active' && !!x.status.secretName, 'Active', 60_000);
    const apiKey = await readKey(admin, k);
    const whoamiWithKey = async () => await kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], { token: apiKey, allowFailure: true });
    await eventually(async () => (await whoamiWithKey()).stdout === email2, { describe: 'the key authenticates as its owner' });

    await new AccountStore(admin, opNamespace).setSuspended(accountId(email2), true);
    const disabled = await waitForKey(admin, ns, 'linus-key', (x) => x.status?.phase === 'Disabled', 'Disabled after the account is suspended');
    expect(disabled.status?.conditions?.find((c) => c.type === 'OwnerActive')).toMatchObject({ status: 'False', reason: 'AccountSuspended' });
    // The API server reuses a successful authentication for 10 s, plus the webhook's cache TTL (2 s here).
    await eventually(async () => (await whoamiWithKey()).exitCode !== 0, { describe: 'the key refused by the API server', timeoutMs: 20_000, intervalMs: 250 });

    await new AccountStore(admin, opNamespace).setSuspended(accountId(email2), false);
    await waitForKey(admin, ns, 'linus-key', (x) => x.status?.phase === 'Active', 'Active again once the suspension is lifted');
    await eventually(async () => (await whoamiWithKey()).stdout === email2, { describe: 'the key authenticates again' });
  });

  it('a suspended account cannot sign in, its refresh token stops at once, and its issued ID token is refused once it expires (--identity-token-ttl)', async () => {
    const s = await signIn({ issuer: idp.issuer, caPEM: idp.caPEM, clientId: KUBECTL_CLIENT_ID, login: username2, password: password2 });
    expect(s.claims.exp - s.claims.iat).toBe(TOKEN_TTL_S);
    await eventually(async () => (await kubectl(['get', 'configmaps', '-n', workNamespace], { token: s.idToken, allowFailure: true })).exitCode === 0, {
      describe: 'the member allowed before suspension',
    });

    await new AccountStore(admin, opNamespace).setSuspended(accountId(email2), true);
    await expect(oidc.refreshTokenGrant(s.config, s.refreshToken!)).rejects.toMatchObject({ error: 'invalid_grant' });
    const refusedSignIn = await signIn({ issuer: idp.issuer, caPEM: idp.caPEM, clientId: KUBECTL_CLIENT_ID, login: username2, password: password2 }).catch((e: Error) => e.message);
    expect(refusedSignIn).toBe('Sign-in refused (HTTP 401): The user name or password is wrong, or the account cannot sign in now');
    await eventually(async () => (await kubectl(['get', 'configmaps', '-n', workNamespace], { token: s.idToken, allowFailure: true })).exitCode !== 0, {
      describe: 'the issued token refused',
      timeoutMs: (TOKEN_TTL_S + 30) * 1000,
      intervalMs: 500,
    });
    // Refused no later than the token's expiry (plus the API server's clock skew allowance and this poll's step).
    expect(Date.now() / 1000).toBeLessThanOrEqual(s.claims.exp + 10);

    await new AccountStore(admin, opNamespace).setSuspended(accountId(email2), false);
    const again = await signIn({ issuer: idp.issuer, caPEM: idp.caPEM, clientId: KUBECTL_CLIENT_ID, login: username2, password: password2 });
    expect(again.claims.email).toBe(email2);
  });

  it('resets a password by email: the same answer for an unknown email, a link that works once, the old password and refresh tokens refused afterwards', async () => {
    const before = await signIn({ issuer: idp.issuer, caPEM: idp.caPEM, clientId: KUBECTL_CLIENT_ID, login: email2, password: password2 });
    const ua = new UserAgent(idp.caPEM);
    // The form's CSRF token goes with the cookie its page set (hardening.itest.ts: a post without them is refused).
    const csrf = /name="csrf" value="([^"]+)"/.exec(await (await ua.request(`${idp.issuer}/reset`)).text())![1]!;
    const known = await ua.request(`${idp.issuer}/reset`, { form: { email: email2, csrf } });
    const unknown = await ua.request(`${idp.issuer}/reset`, { form: { email: `${uniqueName('nobody')}@example.com`, csrf } });
    expect(known.status).toBe(200);
    expect(unknown.status).toBe(200);
    expect(await unknown.text()).toBe(await known.text());
    // email2 also got the access notification of the Membership made by the API key test: only the reset email counts here.
    const mail = await eventually(() => smtp.messages.find((m) => m.to.includes(email2) && m.subject === 'Reset your password') ?? false, { describe: 'the reset email' });
    expect(smtp.messages.filter((m) => m.subject === 'Reset your password')).toHaveLength(1);
    const link = /https:\/\/\S+\/reset\/confirm\?token=[\w.-]+/.exec(mail.text)![0];
    expect((await ua.request(link)).status).toBe(200);
    const token = new URL(link).searchParams.get('token')!;
    expect((await ua.request(`${idp.issuer}/reset/confirm`, { form: { token, password: 'short' } })).status).toBe(400);
    const newPassword = 'the second password of linus';
    expect((await ua.request(`${idp.issuer}/reset/confirm`, { form: { token, password: newPassword } })).status).toBe(200);
    const reused = await ua.request(`${idp.issuer}/reset/confirm`, { form: { token, password: 'yet another password here' } });
    expect(reused.status).toBe(400);
    expect(await reused.text()).toContain('This link does not work');

    await expect(oidc.refreshTokenGrant(before.config, before.refreshToken!)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(signIn({ issuer: idp.issuer, caPEM: idp.caPEM, clientId: KUBECTL_CLIENT_ID, login: email2, password: password2 })).rejects.toThrow('Sign-in refused (HTTP 401)');
    const after = await signIn({ issuer: idp.issuer, caPEM: idp.caPEM, clientId: KUBECTL_CLIENT_ID, login: email2, password: newPassword });
    expect(after.claims.email).toBe(email2);
  });
});
