// Tenant users' accounts and frontend apps as OIDC clients (issue 19, seed 003), on the real
// control plane with the embedded identity provider: a Tenant subscribed to a Solution, a
// frontend app whose AppManifest declares a redirect URI, a User in groups. The set-password
// email arrives; the user sets a password through its link; they sign in to the app through a
// relying party built on openid-client, and the access token, verified with the provider's
// JWKS (jose), carries exactly the intersection of their roles and the app's rolesRequired;
// once as a user agent posting the form, once in headless Chromium on the provider's page.
// Refused: a redirect URI not registered, the tenant user at the kubectl client (with a
// password, and with a session of the app), a user of a tenant not subscribed, the same email's
// account of another tenant, a forged state. Deleting the User deletes the account and ends
// its sessions.
import { SignJWT, createLocalJWKSet, decodeJwt, importJWK, jwtVerify } from 'jose';
import type { JWK } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppManifest } from '../../api/appmanifest/schema.ts';
import type { Organization } from '../../api/organization/schema.ts';
import { Kinds } from '../../api/registry.ts';
import type { Solution } from '../../api/solution/schema.ts';
import type { Subscription } from '../../api/subscription/schema.ts';
import type { Tenant } from '../../api/tenant/schema.ts';
import type { User } from '../../api/user/schema.ts';
import { TENANT_ACCOUNT_LABEL, tenantAccountId, tenantAccountSecretName } from '../../identity/tenant-accounts.ts';
import { SIGN_IN_FAILED, accountId } from '../../identity/accounts.ts';
import { SIGNING_KEYS_SECRET } from '../../identity/keys.ts';
import { CONSOLE_CLIENT_ID, KUBECTL_CLIENT_ID } from '../../identity/provider.ts';
import type { AnyObject } from '../../runtime/kube/client.ts';
import { Resources } from '../../runtime/kube/resource.ts';
import { chromiumMissing, launchChromium } from '../../testenv/browser.ts';
import { deleteOrganizationsAndWait, testClient, untilObject } from '../../testenv/clients.ts';
import { identityOperatorArgs } from '../../testenv/controlplane.ts';
import type { IdentityEndpoint } from '../../testenv/controlplane.ts';
import { UserAgent, answerConsent, authorizationRequest, createTestAccount, loginForm, pageMessage, postSignIn, relyingParty, setPasswordByLink, signIn } from '../../testenv/identity.ts';
import { eventually, kubectl, testIdentity, testKubeconfig, uniqueName } from '../../testenv/index.ts';
import { invitationFlags } from '../../testenv/invitations.ts';
import { OperatorProcess } from '../../testenv/operator-process.ts';
import { TestSmtpServer } from '../../testenv/smtp.ts';

const admin = testClient();
const opNamespace = uniqueName('tenantid-op');
const org = uniqueName('tid');
const orgNs = `org-${org}`;
const LISTING = `${org}-dispatch`;
const APP_ID = `platform:app:${org}-client`;
const REDIRECT = 'http://127.0.0.1:53111/callback';
const [tenantA, tenantB] = [uniqueName('tid-a'), uniqueName('tid-b')];
const nsOf = (t: string) => `tenant-${t}`;
const EMAIL = `ada@${org}.example`;
const PASSWORD = 'correct horse battery staple';
const PASSWORD_B = 'another horse battery staple';
/** The seed's rule: a user with roles a, b, c and d, an app requiring a and b and one the user lacks: the token carries a and b. */
const role = (name: string) => `role:${LISTING}:${name}`;
const USER_ROLES = ['viewer', 'editor', 'auditor', 'dispatcher'].map(role);
const REQUIRED = ['viewer', 'editor', 'admin'].map((r) => `platform:${role(r)}`);
const TOKEN_ROLES = [role('editor'), role('viewer')];

let idp: IdentityEndpoint;
let smtp: TestSmtpServer;
let operator: OperatorProcess;

type WithConditions = { status?: { conditions?: { type: string; status: string; reason: string; message: string }[]; observedGeneration?: number }; metadata: { generation?: number } };
const cond = (o: WithConditions | undefined, type: string) => o?.status?.conditions?.find((c) => c.type === type);

/** The set-password link of the email sent to `to` about `tenantNs`. */
async function setPasswordLink(tenantNs: string): Promise<string> {
  const mail = await eventually(() => smtp.messages.find((m) => m.to.includes(EMAIL) && m.subject === 'Choose your password' && m.text.includes(tenantNs)) ?? false, {
    timeoutMs: 60_000,
    describe: `the set-password email of ${tenantNs}`,
  });
  const link = /https:\/\/\S+\/reset\/confirm\?token=\S+/.exec(mail.text)?.[0];
  if (!link) throw new Error(`No link in: ${mail.text}`);
  return link;
}

/** Opens the link and posts the new password, as a browser does; the page's status and message. */
async function setPassword(link: string, password: string): Promise<{ status: number; message: string }> {
  const { res } = await setPasswordByLink(idp.caPEM, link, password);
  return { status: res.status, message: pageMessage(await res.text()) };
}

/**
 * Each browser of this file a client of its own, as people behind the chart's Ingress are:
 * the operator trusts 127.0.0.1 as its proxy, so the provider's per-client sign-in throttle
 * (10 at once, hardening.itest) counts each person apart instead of this whole file as one.
 */
let clients = 0;
const person = (): Record<string, string> => ({ 'x-forwarded-for': `198.51.100.${++clients}` });

const appSignIn = (tenant: string, password: string, ua?: UserAgent) =>
  signIn({
    issuer: idp.issuer,
    caPEM: idp.caPEM,
    clientId: APP_ID,
    login: EMAIL,
    password,
    redirectUri: REDIRECT,
    scope: 'openid email profile offline_access',
    form: { tenant },
    userAgent: ua ?? new UserAgent(idp.caPEM, person()),
  });

beforeAll(async () => {
  idp = testIdentity()!;
  smtp = await TestSmtpServer.start();
  operator = await OperatorProcess.start({
    kubeconfig: testKubeconfig(),
    namespace: opNamespace,
    args: [...identityOperatorArgs(idp), ...invitationFlags(smtp.port), '--leader-elect=false', '--trusted-proxies=127.0.0.1'],
  });
  await admin.create<Organization>(Kinds.Organization, { metadata: { name: org }, spec: { displayName: 'Tenant identity', capabilities: { superApps: true, miniApps: true } } });
  await untilObject<Organization>(admin, Kinds.Organization, org, undefined, (o) => cond(o as never, 'Ready')?.status === 'True', `Organization ${org} Ready`);
  await admin.create<Solution>(Kinds.Solution, {
    metadata: { name: 'dispatch', namespace: orgNs },
    spec: {
      solutionId: `${org}-solution`,
      version: '1.0.0',
      manifest: {
        userGroupsRequired: [
          { name: 'agents', description: 'field agents', landingPage: { url: '/agents', rank: 1 }, roles: [role('viewer'), role('auditor')] },
          { name: 'editors', description: 'editors', landingPage: { url: '/editors', rank: 2 }, roles: [role('editor'), role('dispatcher')] },
        ],
      },
      onboarding: { tenants: [tenantA] },
    },
  });
  // The seed's frontend app (no listingId), a client of the provider with one redirect URI.
  await admin.create<AppManifest>(Kinds.AppManifest, { metadata: { name: 'frontend', namespace: orgNs }, spec: { appId: APP_ID, redirectUris: [REDIRECT], rolesRequired: REQUIRED } });
  await untilObject<Solution>(admin, Kinds.Solution, 'dispatch', orgNs, (s) => cond(s as never, 'Ready')?.status === 'True', 'Solution Ready');
  for (const t of [tenantA, tenantB]) {
    await admin.create<Tenant>(Kinds.Tenant, { metadata: { name: t }, spec: { displayName: t, administrators: [`admin@${t}.example`] } });
    await untilObject<Tenant>(admin, Kinds.Tenant, t, undefined, (o) => cond(o as never, 'Ready')?.status === 'True', `Tenant ${t} Ready`);
  }
  // Tenant A subscribes; tenant B does not, so its users may not use the app.
  await admin.create<Subscription>(Kinds.Subscription, { metadata: { name: 'dispatch', namespace: nsOf(tenantA) }, spec: { solution: { organization: org, name: 'dispatch' } } });
  await untilObject<Subscription>(admin, Kinds.Subscription, 'dispatch', nsOf(tenantA), (s) => cond(s as never, 'Ready')?.status === 'True', 'Subscription Ready');
  // The same person (one email) in both tenants.
  for (const t of [tenantA, tenantB]) {
    await admin.create<User>(Kinds.User, {
      metadata: { name: 'ada', namespace: nsOf(t) },
      spec: { userCode: 'U1', firstName: 'Ada', lastName: 'Lovelace', email: EMAIL, groups: ['agents', 'editors'] },
    });
  }
}, 300_000);

afterAll(async () => {
  for (const t of [tenantA, tenantB]) await admin.delete(Kinds.Tenant, t);
  await deleteOrganizationsAndWait(admin, [org]);
  await operator?.stop();
  await smtp?.stop();
  await admin.delete(Resources.Namespace, opNamespace);
}, 180_000);

describe("tenant users' accounts and frontend apps as OIDC clients", () => {
  it('refuses at admission a redirect URI that is plain http off loopback, has a fragment or is not a URL', async () => {
    for (const bad of ['http://app.example/callback', 'https://app.example/callback#frag', 'https://', 'ftp://app.example/cb', 'http://127.0.0.1.evil.example/cb']) {
      const err = await admin.create(Kinds.AppManifest, { metadata: { name: uniqueName('bad'), namespace: orgNs }, spec: { appId: `${org}-bad`, redirectUris: [bad] } }).then(
        () => undefined,
        (e: unknown) => e as { status?: number; message?: string },
      );
      expect(err?.status, bad).toBe(422);
      expect(err?.message, bad).toContain('redirectUris');
    }
  });

  it('gives the User an account in its tenant: status says the password is not set, and the set-password email arrives (no secret in status)', async () => {
    const u = await untilObject<User>(
      admin,
      Kinds.User,
      'ada',
      nsOf(tenantA),
      (x) => x.status?.account?.state === 'PasswordNotSet' && !!x.status.account.setPasswordEmailSentAt,
      'account PasswordNotSet',
    );
    expect(cond(u as never, 'AccountReady')).toMatchObject({ status: 'False', reason: 'PasswordNotSet' });
    expect(cond(u as never, 'Ready')?.status).toBe('True');
    const link = await setPasswordLink(nsOf(tenantA));
    expect(link.startsWith(`${idp.issuer}/reset/confirm?token=`)).toBe(true);
    const token = new URL(link).searchParams.get('token')!;
    expect(JSON.stringify(u.status)).not.toContain(token);
    // Two accounts for one email: one Secret each, in the operator's namespace, none with a password yet.
    // (The tenants' administrators are Users too, with accounts of their own.)
    const all = await admin.list<AnyObject & { data?: Record<string, string> }>(Resources.Secret, { namespace: opNamespace, labelSelector: TENANT_ACCOUNT_LABEL });
    const secrets = { items: all.items.filter((s) => s.data?.email === Buffer.from(EMAIL).toString('base64')) };
    expect(secrets.items.map((s) => s.metadata.name).sort()).toEqual(
      [tenantAccountSecretName(tenantAccountId(nsOf(tenantA), EMAIL)), tenantAccountSecretName(tenantAccountId(nsOf(tenantB), EMAIL))].sort(),
    );
    expect(secrets.items.every((s) => !s.data?.passwordHash)).toBe(true);
    // One email per account, whatever reconciles happened.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(smtp.messages.filter((m) => m.to.includes(EMAIL) && m.text.includes(nsOf(tenantA)))).toHaveLength(1);
  });

  it('sets the password through the link (which then stops working); status says the password is set', async () => {
    const link = await setPasswordLink(nsOf(tenantA));
    expect(await setPassword(link, 'short')).toMatchObject({ status: 400 });
    expect(await setPassword(link, PASSWORD)).toMatchObject({ status: 200, message: expect.stringContaining('Your password is set') });
    expect(await setPassword(link, 'yet another long password')).toMatchObject({ status: 400, message: expect.stringContaining('already used') });
    // Status follows without anything else changing: the User is looked at again every minute while its password is not set.
    const u = await untilObject<User>(admin, Kinds.User, 'ada', nsOf(tenantA), (x) => x.status?.account?.state === 'PasswordSet', 'account PasswordSet', 120_000);
    expect(cond(u as never, 'AccountReady')).toMatchObject({ status: 'True', reason: 'PasswordSet' });
    expect(await setPassword(await setPasswordLink(nsOf(tenantB)), PASSWORD_B)).toMatchObject({ status: 200 });
  });

  it('sends a reset link for each tenant account of an email asked for at /reset (a set-password link lost is not a dead end)', async () => {
    const before = smtp.messages.length;
    // As a browser does: the form first (its CSRF token is bound to the cookie it sets), then the post.
    const ua = new UserAgent(idp.caPEM, person());
    const csrf = /name="csrf" value="([^"]+)"/.exec(await (await ua.request(`${idp.issuer}/reset`)).text())?.[1] ?? '';
    const res = await ua.request(`${idp.issuer}/reset`, { form: { email: EMAIL.toUpperCase(), csrf } });
    expect(res.status).toBe(200);
    const resets = await eventually(
      () => {
        const got = smtp.messages.slice(before).filter((m) => m.to.includes(EMAIL) && m.subject === 'Reset your password');
        return got.length === 2 ? got : false;
      },
      { timeoutMs: 30_000, describe: 'two reset emails' },
    );
    expect(resets.map((m) => [nsOf(tenantA), nsOf(tenantB)].find((ns) => m.text.includes(`tenant ${ns}`))).sort()).toEqual([nsOf(tenantA), nsOf(tenantB)].sort());
    const linkA = /https:\/\/\S+\/reset\/confirm\?token=\S+/.exec(resets.find((m) => m.text.includes(nsOf(tenantA)))!.text)![0];
    expect(await setPassword(linkA, PASSWORD)).toMatchObject({ status: 200 });
    expect(await setPassword(linkA, PASSWORD)).toMatchObject({ status: 400 });
  });

  it("signs the user in to the frontend app: the access token, verified with the provider's JWKS, carries exactly the intersection of their roles and the app's rolesRequired", async () => {
    const user = await untilObject<User>(admin, Kinds.User, 'ada', nsOf(tenantA), (x) => (x.status?.effectiveRoles?.length ?? 0) === 4, 'the user has four roles');
    expect(user.status?.effectiveRoles).toEqual([...USER_ROLES].sort());
    const result = await appSignIn(tenantA, PASSWORD);
    const meta = result.config.serverMetadata();
    const jwks = createLocalJWKSet((await (await new UserAgent(idp.caPEM).request(meta.jwks_uri!)).json()) as never);
    const { payload, protectedHeader } = await jwtVerify(result.accessToken, jwks, { issuer: idp.issuer, audience: `${org}/${APP_ID}` });
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload.roles).toEqual(TOKEN_ROLES);
    expect(payload).toMatchObject({ sub: tenantAccountId(nsOf(tenantA), EMAIL), client_id: APP_ID, tenant: nsOf(tenantA), user: 'ada', email: EMAIL, organization: org, appId: APP_ID });
    expect(result.claims.email).toBe(EMAIL);
    // The roles follow the User's groups: out of `editors`, the token has only viewer.
    await admin.patch(Kinds.User, 'ada', nsOf(tenantA), { spec: { groups: ['agents'] } });
    await untilObject<User>(admin, Kinds.User, 'ada', nsOf(tenantA), (x) => (x.status?.effectiveRoles?.length ?? 0) === 2, 'the user has two roles');
    const refreshed = await oidc.refreshTokenGrant(result.config, result.refreshToken!);
    expect(decodeJwt(refreshed.access_token).roles).toEqual([role('viewer')]);
    await admin.patch(Kinds.User, 'ada', nsOf(tenantA), { spec: { groups: ['agents', 'editors'] } });
    await untilObject<User>(admin, Kinds.User, 'ada', nsOf(tenantA), (x) => (x.status?.effectiveRoles?.length ?? 0) === 4, 'the user has four roles again');
  });

  it("asks before a frontend app's first grant, naming the app and its organization: Cancel sends the app access_denied and grants nothing, Allow is remembered", async () => {
    const config = await relyingParty(idp.issuer, APP_ID, idp.caPEM);
    const origin = new URL(idp.issuer).origin;
    const ua = new UserAgent(idp.caPEM, person());
    const start = async () => {
      const request = await authorizationRequest(config, { redirect_uri: REDIRECT, scope: 'openid email', tenant: tenantA });
      return { ...request, page: await ua.follow(request.url.href, origin) };
    };
    // Signed in, then Cancel: the app is told access_denied, and has no code.
    const first = await start();
    const denied = await postSignIn(ua, origin, await first.page.res.text(), { tenant: tenantA, login: EMAIL, password: PASSWORD }, 'deny');
    expect(denied.page).toContain(`<strong>${APP_ID}</strong>, an app of the organization <strong>Tenant identity</strong>, asks to:`);
    expect(denied.page).toContain('<ul><li>know your email address</li><li>know your roles in it (from your groups in your tenant)</li></ul>');
    const back = new URL(denied.leftTo!);
    expect(back.href.startsWith(REDIRECT)).toBe(true);
    expect([back.searchParams.get('error'), back.searchParams.has('code')]).toEqual(['access_denied', false]);
    // Signed in already, nothing granted: asked again (no sign-in form); a post without the page's CSRF token is refused.
    const second = await start();
    expect(second.page.leftTo).toBeUndefined();
    const secondHtml = await second.page.res.text();
    expect(secondHtml).toContain('Allow this app?');
    const action = new URL(/action="([^"]+\/consent)"/.exec(secondHtml)![1]!, origin).href;
    expect((await ua.request(action, { form: { csrf: 'forged', decision: 'allow' } })).status).toBe(403);
    const allowed = await answerConsent(ua, origin, { res: new Response(secondHtml), url: second.page.url }, 'allow');
    const tokens = await oidc.authorizationCodeGrant(config, new URL(allowed.leftTo!), { pkceCodeVerifier: second.verifier, expectedState: second.state });
    expect(decodeJwt(tokens.access_token).roles).toEqual(TOKEN_ROLES);
    // Allowed once: the next sign-in of that session goes straight back to the app.
    const third = await start();
    expect(third.page.leftTo).toMatch(/[?&]code=/);
  });

  it.skipIf(!!chromiumMissing('accounts.itest.ts'))(
    "in headless Chromium: the user signs in to the frontend app on the provider's page (the tenant filled in from the app's request, a wrong password refused first), and the app's openid-client relying party gets the seed's roles",
    async () => {
      const config = await relyingParty(idp.issuer, APP_ID, idp.caPEM);
      const { url, verifier, state } = await authorizationRequest(config, { redirect_uri: REDIRECT, scope: 'openid email profile', tenant: tenantA });
      const browser = await launchChromium();
      try {
        const page = await (await browser.newContext({ ignoreHTTPSErrors: true, extraHTTPHeaders: person() })).newPage();
        // The app's callback: nothing listens on its port; the browser's arrival there is the answer.
        let callback: string | undefined;
        await page.route(`${REDIRECT}**`, (route) => {
          callback = route.request().url();
          return route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>Dispatch</title><p>Signed in</p>' });
        });
        await page.goto(url.href);
        expect(await page.getByLabel('Tenant').inputValue()).toBe(tenantA);
        await page.getByLabel('Email').fill(EMAIL);
        await page.getByLabel('Password').fill(PASSWORD_B);
        await page.getByRole('button', { name: 'Sign in' }).click();
        expect(await page.getByRole('alert').textContent()).toBe(SIGN_IN_FAILED);
        expect(callback).toBeUndefined();
        // The refused page keeps the tenant and the email typed; only the password is asked again.
        expect(await page.getByLabel('Tenant').inputValue()).toBe(tenantA);
        expect(await page.getByLabel('Email').inputValue()).toBe(EMAIL);
        await page.getByLabel('Password').fill(PASSWORD);
        await page.getByRole('button', { name: 'Sign in' }).click();
        // The app is another organization's: the person is asked first, the app and its organization named.
        await page.getByRole('heading', { name: 'Allow this app?' }).waitFor();
        const asks = await page.locator('main').innerText();
        expect(asks).toContain(`${APP_ID}, an app of the organization Tenant identity, asks to:`);
        expect(asks).toContain('know your roles in it');
        expect(callback).toBeUndefined();
        await page.getByRole('button', { name: 'Allow' }).click();
        await page.waitForURL(`${REDIRECT}**`).catch(async (err: Error) => {
          throw new Error(`The browser did not come back to the app: at ${page.url()}, showing ${JSON.stringify((await page.locator('body').innerText()).slice(0, 500))} (${err.message})`);
        });
        expect(await page.title()).toBe('Dispatch');
        const tokens = await oidc.authorizationCodeGrant(config, new URL(callback!), { pkceCodeVerifier: verifier, expectedState: state, idTokenExpected: true });
        const jwks = createLocalJWKSet((await (await new UserAgent(idp.caPEM).request(config.serverMetadata().jwks_uri!)).json()) as never);
        const { payload } = await jwtVerify(tokens.access_token, jwks, { issuer: idp.issuer, audience: `${org}/${APP_ID}` });
        expect(payload).toMatchObject({ sub: tenantAccountId(nsOf(tenantA), EMAIL), tenant: nsOf(tenantA), user: 'ada', roles: TOKEN_ROLES });
        expect(tokens.claims()).toMatchObject({ email: EMAIL, sub: tenantAccountId(nsOf(tenantA), EMAIL) });
        // The same code again is refused: a code is used once.
        await expect(oidc.authorizationCodeGrant(config, new URL(callback!), { pkceCodeVerifier: verifier, expectedState: state })).rejects.toMatchObject({ error: 'invalid_grant' });
      } finally {
        await browser.close();
      }
    },
    120_000,
  );

  it("kube-apiserver refuses a tenant user's ID token and accepts a member's, both signed with the provider's key for kubectl's audience (its claim validation rule)", async () => {
    const keys = await admin.get<AnyObject & { data: Record<string, string> }>(Resources.Secret, SIGNING_KEYS_SECRET, opNamespace);
    const jwk = (JSON.parse(Buffer.from(keys!.data.jwks!, 'base64').toString('utf8')) as { keys: (JWK & { kid: string })[] }).keys.at(-1)!;
    const key = await importJWK(jwk, 'RS256');
    const idToken = (sub: string, email: string) =>
      new SignJWT({ email, email_verified: true })
        .setProtectedHeader({ alg: 'RS256', kid: jwk.kid })
        .setIssuer(idp.issuer)
        .setAudience(KUBECTL_CLIENT_ID)
        .setSubject(sub)
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(key);
    const whoami = async (token: string) => await kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], { token, allowFailure: true });
    const memberEmail = `linus@${org}.example`;
    const member = await eventually(
      async () => {
        const r = await whoami(await idToken(accountId(memberEmail), memberEmail));
        return r.exitCode === 0 ? r : false;
      },
      { timeoutMs: 60_000, describe: "kube-apiserver to accept a member's ID token" },
    );
    expect(member.stdout).toBe(memberEmail);
    const tenant = await whoami(await idToken(tenantAccountId(nsOf(tenantA), EMAIL), EMAIL));
    expect(tenant.exitCode).not.toBe(0);
    expect(tenant.stderr).toMatch(/Unauthorized|must be logged in/);
  });

  it('refuses a redirect URI the app did not register', async () => {
    const config = await relyingParty(idp.issuer, APP_ID, idp.caPEM);
    const ua = new UserAgent(idp.caPEM, person());
    for (const redirect_uri of ['http://127.0.0.1:53112/callback', `${REDIRECT}/more`, 'https://attacker.example/callback']) {
      const url = oidc.buildAuthorizationUrl(config, { redirect_uri, scope: 'openid', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256', state: 's' });
      const r = await ua.follow(url.href, new URL(idp.issuer).origin);
      expect(r.leftTo, redirect_uri).toBeUndefined();
      expect(r.res.status).toBe(400);
      expect(await r.res.text()).toContain('redirect_uri did not match any of the client');
    }
  });

  it("refuses at admission an app under a platform client's id (every miniapps-* id): its tokens would be the API server's", async () => {
    for (const appId of [KUBECTL_CLIENT_ID, CONSOLE_CLIENT_ID, 'miniapps-later']) {
      const err = await admin.create<AppManifest>(Kinds.AppManifest, { metadata: { name: 'squatter', namespace: orgNs }, spec: { appId, redirectUris: ['http://127.0.0.1:53999/callback'] } }).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.message, appId).toMatch(/spec\.appId must not start with 'miniapps-'.*platform's own OpenID Connect clients/);
    }
    expect(await admin.get(Kinds.AppManifest, 'squatter', orgNs)).toBeUndefined();
  });

  it('refuses the tenant user at the kubectl client: their password is no platform account, and their session of the app does not carry over', async () => {
    const member = { username: uniqueName('grace'), email: `grace@${org}.example`, password: PASSWORD, firstName: 'Grace', lastName: 'Hopper' };
    await createTestAccount(admin, opNamespace, member);
    const platform = await signIn({ issuer: idp.issuer, caPEM: idp.caPEM, clientId: KUBECTL_CLIENT_ID, login: member.username, password: PASSWORD, headers: person() });
    expect(platform.claims.email).toBe(member.email);
    await expect(signIn({ issuer: idp.issuer, caPEM: idp.caPEM, clientId: KUBECTL_CLIENT_ID, login: EMAIL, password: PASSWORD, headers: person() })).rejects.toThrow(/Sign-in refused \(HTTP 401\)/);
    // Signed in to the app in this browser, then sent to kubectl's authorization: the provider asks for a sign-in again.
    const ua = new UserAgent(idp.caPEM, person());
    await appSignIn(tenantA, PASSWORD, ua);
    const kubectl = await relyingParty(idp.issuer, KUBECTL_CLIENT_ID, idp.caPEM);
    const { url } = await authorizationRequest(kubectl, { redirect_uri: 'http://127.0.0.1:53999/callback', scope: 'openid email' });
    const r = await ua.follow(url.href, new URL(idp.issuer).origin);
    expect(r.leftTo).toBeUndefined();
    const html = await r.res.text();
    expect(loginForm(html).action).toMatch(/^\/interaction\//);
    expect(html).toContain('User name or email');
  });

  it("refuses a user of a tenant that does not subscribe to the app's solution, and the same email's account of another tenant", async () => {
    await expect(appSignIn(tenantB, PASSWORD_B)).rejects.toThrow(/Sign-in refused \(HTTP 401\): The user name or password is wrong/);
    // Tenant A's account with tenant B's password: two accounts, two passwords.
    await expect(appSignIn(tenantA, PASSWORD_B)).rejects.toThrow(/Sign-in refused \(HTTP 401\)/);
    await expect(appSignIn('no-such-tenant', PASSWORD)).rejects.toThrow(/Sign-in refused \(HTTP 401\)/);
  });

  it('refuses a forged state: the relying party redeems no code whose state is not the one it sent', async () => {
    const config = await relyingParty(idp.issuer, APP_ID, idp.caPEM);
    const { url, verifier, state } = await authorizationRequest(config, { redirect_uri: REDIRECT, scope: 'openid' });
    const ua = new UserAgent(idp.caPEM, person());
    const origin = new URL(idp.issuer).origin;
    const page = await ua.follow(url.href, origin);
    const done = await postSignIn(ua, origin, await page.res.text(), { tenant: tenantA, login: EMAIL, password: PASSWORD });
    expect(done.leftTo?.startsWith(REDIRECT)).toBe(true);
    const forged = new URL(done.leftTo!);
    forged.searchParams.set('state', oidc.randomState());
    const err = await oidc.authorizationCodeGrant(config, forged, { pkceCodeVerifier: verifier, expectedState: state }).then(
      () => undefined,
      (e: unknown) => e as { code?: string; cause?: unknown },
    );
    expect(err?.code).toBe('OAUTH_INVALID_RESPONSE');
    expect((err?.cause as Error | undefined)?.message).toBe('unexpected "state" response parameter value');
  });

  it("changing a User's email ends the old person's account (deleted, sessions ended, sign-in refused) and makes the new person's", async () => {
    const [bob, carol] = [`bob@${org}.example`, `carol@${org}.example`];
    const mailTo = (to: string) =>
      eventually(() => smtp.messages.find((m) => m.to.includes(to) && m.subject === 'Choose your password' && m.text.includes(nsOf(tenantA))) ?? false, {
        timeoutMs: 60_000,
        describe: `the set-password email to ${to}`,
      });
    const linkIn = (text: string) => /https:\/\/\S+\/reset\/confirm\?token=\S+/.exec(text)![0];
    await admin.create<User>(Kinds.User, { metadata: { name: 'shared-desk', namespace: nsOf(tenantA) }, spec: { userCode: 'U2', firstName: 'Bob', email: bob, groups: ['agents'] } });
    expect((await setPassword(linkIn((await mailTo(bob)).text), PASSWORD)).status).toBe(200);
    const asBob = (ua?: UserAgent) =>
      signIn({
        issuer: idp.issuer,
        caPEM: idp.caPEM,
        clientId: APP_ID,
        login: bob,
        password: PASSWORD,
        redirectUri: REDIRECT,
        scope: 'openid email offline_access',
        form: { tenant: tenantA },
        userAgent: ua ?? new UserAgent(idp.caPEM, person()),
      });
    const session = await asBob();
    expect(session.claims.email).toBe(bob);
    const oldId = tenantAccountId(nsOf(tenantA), bob);
    // The desk goes to Carol: the User's email changes.
    await admin.patch(Kinds.User, 'shared-desk', nsOf(tenantA), { spec: { email: carol, firstName: 'Carol' } });
    await eventually(async () => !(await admin.get(Resources.Secret, tenantAccountSecretName(oldId), opNamespace)), { timeoutMs: 60_000, describe: "Bob's account deleted" });
    const refreshed = await oidc.refreshTokenGrant(session.config, session.refreshToken!).then(
      () => 'refreshed',
      (e: { error?: string }) => e.error,
    );
    expect(refreshed).toBe('invalid_grant');
    await expect(asBob()).rejects.toThrow(/Sign-in refused \(HTTP 401\)/);
    expect(await admin.get(Resources.Secret, tenantAccountSecretName(tenantAccountId(nsOf(tenantA), carol)), opNamespace)).toBeDefined();
    expect(linkIn((await mailTo(carol)).text)).toContain('/reset/confirm?token=');
    await admin.delete(Kinds.User, 'shared-desk', nsOf(tenantA));
  });

  it('deleting the User deletes the account and ends its sessions: the refresh token stops, and the account cannot sign in', async () => {
    const result = await appSignIn(tenantA, PASSWORD);
    const live = await oidc.refreshTokenGrant(result.config, result.refreshToken!);
    expect(live.access_token).toBeTruthy();
    await admin.delete(Kinds.User, 'ada', nsOf(tenantA));
    await eventually(async () => !(await admin.get(Kinds.User, 'ada', nsOf(tenantA))), { timeoutMs: 60_000, describe: 'the User gone' });
    expect(await admin.get(Resources.Secret, tenantAccountSecretName(tenantAccountId(nsOf(tenantA), EMAIL)), opNamespace)).toBeUndefined();
    const again = await oidc.refreshTokenGrant(result.config, live.refresh_token!).then(
      () => 'refreshed',
      (e: { error?: string }) => e.error,
    );
    expect(again).toBe('invalid_grant');
    await expect(appSignIn(tenantA, PASSWORD)).rejects.toThrow(/Sign-in refused \(HTTP 401\)/);
    // Tenant B's account of the same email is untouched.
    expect(await admin.get(Resources.Secret, tenantAccountSecretName(tenantAccountId(nsOf(tenantB), EMAIL)), opNamespace)).toBeDefined();
  });
});
