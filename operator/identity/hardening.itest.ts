// The identity listener's hardening, on the real API server: two replicas of the provider
// (two IdentityServers in this process, one namespace, as two operator pods share one)
// count sign-in failures towards one lockout; the reset form refuses a post that did not
// come from its own page (CSRF); and the throttle keys on the client's address as the
// trusted proxies forwarded it, never on a header a client sent itself.
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Mailer } from '../runtime/mail/mailer.ts';
import { Resources } from '../runtime/kube/resource.ts';
import { systemClock } from '../runtime/clock.ts';
import { createCA, issueCertificate } from '../runtime/pki.ts';
import { testClient } from '../testenv/clients.ts';
import { UserAgent, createTestAccount, signIn } from '../testenv/identity.ts';
import { eventually, freePort, uniqueName } from '../testenv/index.ts';
import { TestSmtpServer } from '../testenv/smtp.ts';
import { AccountStore } from './accounts.ts';
import { ClusterFailureCounter, lockoutSecretName } from './lockout.ts';
import { KUBECTL_CLIENT_ID, kubectlClient } from './provider.ts';
import { AUTH_STARTS_BURST, IdentityServer } from './server.ts';
import { TenantAccountStore } from './tenant-accounts.ts';
import type { TenantApps } from './tenant-apps.ts';

const admin = testClient();
const namespace = uniqueName('identity-hard');
const ca = createCA('hardening-ca');
const cert = issueCertificate({ ca, commonName: 'identity', ipAddresses: ['127.0.0.1'], dnsNames: ['localhost'], usages: 'server', validityDays: 2 });
let smtp: TestSmtpServer;
const servers: IdentityServer[] = [];

/** One frontend app, `hardening-app`, usable by every User of the tenant `acme` (namespace TENANT_NS). */
const APP_ID = 'hardening-app';
const APP_REDIRECT = 'http://127.0.0.1:53999/callback';
const TENANT_NS = `${namespace}-acme`;
const tenantApps: TenantApps = {
  client: (clientId) => (clientId === APP_ID ? { clientId, redirectUris: [APP_REDIRECT], audience: `org/${APP_ID}`, organization: 'org', organizationDisplayName: 'Org', appId: APP_ID } : undefined),
  tenantNamespace: (tenant) => (tenant === 'acme' ? TENANT_NS : undefined),
  roles: () => [],
};

async function replica(opts: { trustedProxies?: string[] } = {}): Promise<{ server: IdentityServer; issuer: string }> {
  const port = await freePort();
  const issuer = `https://127.0.0.1:${port}`;
  const server = new IdentityServer({
    issuer,
    bind: { host: '127.0.0.1', port },
    tls: { cert: cert.certPEM, key: cert.keyPEM },
    client: admin,
    namespace,
    accounts: new AccountStore(admin, namespace),
    clients: [kubectlClient()],
    log: pino({ level: 'silent' }),
    clock: systemClock,
    mailer: new Mailer({ host: '127.0.0.1', port: smtp.port, security: 'none', from: 'identity@example.com' }),
    trustedProxies: opts.trustedProxies,
    tenants: { apps: tenantApps, accounts: new TenantAccountStore(admin, namespace) },
  });
  await server.start();
  servers.push(server);
  return { server, issuer };
}

let a: { server: IdentityServer; issuer: string };
let b: { server: IdentityServer; issuer: string };

beforeAll(async () => {
  smtp = await TestSmtpServer.start();
  await admin.create(Resources.Namespace, { metadata: { name: namespace } });
  a = await replica({ trustedProxies: ['127.0.0.1'] });
  b = await replica();
}, 60_000);

afterAll(async () => {
  for (const s of servers) await s.stop();
  await smtp?.stop();
  await admin.delete(Resources.Namespace, namespace);
});

/** The reset form's CSRF field, read from the page the user agent just got (its cookie kept by the agent). */
async function resetForm(ua: UserAgent, issuer: string): Promise<string> {
  const res = await ua.request(`${issuer}/reset`);
  expect(res.status).toBe(200);
  const csrf = /name="csrf" value="([^"]+)"/.exec(await res.text())?.[1];
  expect(csrf).toBeTruthy();
  return csrf!;
}

/** The same, or '' when the page has no such field (so that the throttle test stands on its own). */
async function resetFormLenient(ua: UserAgent, issuer: string): Promise<string> {
  return /name="csrf" value="([^"]+)"/.exec(await (await ua.request(`${issuer}/reset`)).text())?.[1] ?? '';
}

describe('identity provider hardening', () => {
  it('locks a login after 5 failures in a row counted across replicas, the right password refused while locked', async () => {
    const username = uniqueName('mallory-target');
    const email = `${username}@example.com`;
    const password = 'the right password of the target';
    await createTestAccount(admin, namespace, { username, email, password, firstName: 'T', lastName: 'Arget' });
    const attempt = (r: { issuer: string }, pw: string) =>
      signIn({ issuer: r.issuer, caPEM: ca.certPEM, clientId: KUBECTL_CLIENT_ID, login: username, password: pw }).then(
        () => 'signed in',
        (e: Error) => e.message,
      );
    // 3 wrong passwords on one replica, 2 on the other: with counters per replica neither would lock.
    for (const r of [a, b, a, b, a]) expect(await attempt(r, 'a wrong guess of a password')).toBe('Sign-in refused (HTTP 401): The user name or password is wrong, or the account cannot sign in now');
    expect(await attempt(a, password)).toBe('Sign-in refused (HTTP 429): Too many sign-in attempts. Wait a few minutes and try again.');
    expect(await attempt(b, password)).toBe('Sign-in refused (HTTP 429): Too many sign-in attempts. Wait a few minutes and try again.');
    // The count is one Secret on the cluster, named by a digest of the login.
    const counted = await admin.get<{ metadata: { annotations: Record<string, string> } }>(Resources.Secret, lockoutSecretName(username), namespace);
    expect(counted?.metadata.annotations['miniapps.dev/sign-in-failures']).toBe('5');
    expect(JSON.stringify(counted)).not.toContain(username);
    // Another login is not locked, and a success clears its count on the cluster.
    const other = uniqueName('bob');
    await createTestAccount(admin, namespace, { username: other, email: `${other}@example.com`, password, firstName: 'B', lastName: 'Ob' });
    expect(await signIn({ issuer: b.issuer, caPEM: ca.certPEM, clientId: KUBECTL_CLIENT_ID, login: other, password: 'wrong wrong wrong' }).catch((e: Error) => e.message)).toContain('HTTP 401');
    expect(await admin.get(Resources.Secret, lockoutSecretName(other), namespace)).toBeDefined();
    expect((await signIn({ issuer: a.issuer, caPEM: ca.certPEM, clientId: KUBECTL_CLIENT_ID, login: other, password })).claims.email).toBe(`${other}@example.com`);
    expect(await admin.get(Resources.Secret, lockoutSecretName(other), namespace)).toBeUndefined();
  });

  it("a tenant user's password reset ends the lockout of their tenant sign-in, as a platform account's does", async () => {
    const email = `${uniqueName('tina')}@example.com`;
    const accounts = new TenantAccountStore(admin, namespace);
    const { account } = await accounts.ensure({ tenant: TENANT_NS, user: 'tina', email, firstName: 'Ti', lastName: 'Na' });
    await accounts.setPassword(account.id, 'the first password of tina');
    // Spread over the two replicas: each has a per-address budget (a burst of 10) the other tests use too.
    const attempt = (pw: string, r = b) =>
      signIn({ issuer: r.issuer, caPEM: ca.certPEM, clientId: APP_ID, login: email, password: pw, redirectUri: APP_REDIRECT, scope: 'openid email', form: { tenant: 'acme' } }).then(
        () => 'signed in',
        (e: Error) => e.message,
      );
    for (const r of [a, b, a, b, a]) expect(await attempt('a wrong guess of a password', r)).toContain('HTTP 401');
    expect(await attempt('the first password of tina')).toContain('HTTP 429');
    // The person resets the password through the link of the email (/reset sends the same link).
    const link = (await accounts.setPasswordLink(a.issuer, account.id, Date.now(), Date.now() + 600_000))!;
    const ua = new UserAgent(ca.certPEM);
    const token = new URL(link).searchParams.get('token')!;
    expect((await ua.request(`${a.issuer}/reset/confirm`, { form: { token, password: 'the new password of tina' } })).status).toBe(200);
    expect(await attempt('the new password of tina')).toBe('signed in');
  });

  it('counts failures sent at once from two replicas without losing one (compare-and-swap on the Secret)', async () => {
    const login = `${uniqueName('racer')}@example.com`;
    const one = new ClusterFailureCounter(admin, namespace, 100, 60_000);
    const two = new ClusterFailureCounter(testClient(), namespace, 100, 60_000);
    const now = Date.now();
    await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? one : two).fail(login, now)));
    const s = await admin.get<{ metadata: { annotations: Record<string, string> } }>(Resources.Secret, lockoutSecretName(login), namespace);
    expect(s?.metadata.annotations['miniapps.dev/sign-in-failures']).toBe('12');
    expect(await one.locked(login, now)).toBe(false);
    await two.fail(login, now);
    expect(await new ClusterFailureCounter(admin, namespace, 13, 60_000).locked(login, now)).toBe(false);
    await new ClusterFailureCounter(admin, namespace, 14, 60_000).fail(login, now);
    expect(await one.locked(login, now)).toBe(true);
    expect(await two.locked(login, now + 61_000)).toBe(false);
  });

  it('refuses a reset request without the CSRF token of its own form (a post from another site), and sends no email', async () => {
    const username = uniqueName('resetme');
    const email = `${username}@example.com`;
    await createTestAccount(admin, namespace, { username, email, password: 'a password to forget', firstName: 'R', lastName: 'Eset' });
    const forged = await new UserAgent(ca.certPEM).request(`${a.issuer}/reset`, { form: { email } });
    expect(forged.status).toBe(403);
    expect(await forged.text()).toContain('The form was not sent from this page');
    // The token of one browser's form does not work with another browser's cookie, nor without one.
    const ua = new UserAgent(ca.certPEM);
    const csrf = await resetForm(ua, a.issuer);
    const stranger = new UserAgent(ca.certPEM);
    await resetForm(stranger, a.issuer);
    expect((await stranger.request(`${a.issuer}/reset`, { form: { email, csrf } })).status).toBe(403);
    expect((await new UserAgent(ca.certPEM).request(`${a.issuer}/reset`, { form: { email, csrf } })).status).toBe(403);
    await new Promise((r) => setTimeout(r, 500));
    expect(smtp.messages.filter((m) => m.to.includes(email))).toHaveLength(0);
    // From its own page, the same post is taken and the email sent.
    const ok = await ua.request(`${a.issuer}/reset`, { form: { email, csrf } });
    expect(ok.status).toBe(200);
    await eventually(() => smtp.messages.some((m) => m.to.includes(email) && m.subject === 'Reset your password'), { describe: 'the reset email' });
  });

  it('throttles each client address the trusted proxies forward, and ignores the header from anyone else', async () => {
    const ua = new UserAgent(ca.certPEM);
    const email = `${uniqueName('nobody')}@example.com`;
    const post = (r: { issuer: string }, csrf: string, forwardedFor: string) => ua.request(`${r.issuer}/reset`, { form: { email, csrf }, headers: { 'x-forwarded-for': forwardedFor } });
    // Behind the trusted proxy (127.0.0.1 here), 20 clients each get their own budget (a burst of 10).
    const csrfA = await resetFormLenient(ua, a.issuer);
    for (let i = 1; i <= 20; i++) expect((await post(a, csrfA, `198.51.100.${i}`)).status, `client ${i}`).toBe(200);
    // One client of the proxy is throttled after its burst, whatever the proxy's other clients do.
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await post(a, csrfA, '203.0.113.7')).status);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(200));
    expect(statuses.slice(10)).toContain(429);
    // Without trusted proxies the header is a client's own claim: ignored, so changing it buys no budget.
    const csrfB = await resetFormLenient(ua, b.issuer);
    const fromB: number[] = [];
    for (let i = 1; i <= 12; i++) fromB.push((await post(b, csrfB, `192.0.2.${i}`)).status);
    expect(fromB).toContain(429);
  });

  it('throttles an IPv6 client by its /64: changing the last 64 bits buys no budget', async () => {
    const ua = new UserAgent(ca.certPEM);
    const email = `${uniqueName('nobody')}@example.com`;
    const csrf = await resetFormLenient(ua, a.issuer);
    const statuses: number[] = [];
    for (let i = 1; i <= 12; i++) statuses.push((await ua.request(`${a.issuer}/reset`, { form: { email, csrf }, headers: { 'x-forwarded-for': `2001:db8:7:7::${i.toString(16)}` } })).status);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(200));
    expect(statuses.slice(10)).toEqual([429, 429]);
    // Another /64 has its own budget.
    expect((await ua.request(`${a.issuer}/reset`, { form: { email, csrf }, headers: { 'x-forwarded-for': '2001:db8:7:8::1' } })).status).toBe(200);
  });

  it(`limits the authorization and device authorization requests a client starts (${AUTH_STARTS_BURST} at once), each of which stores a Secret, with a 429`, async () => {
    const ua = new UserAgent(ca.certPEM);
    const params = new URLSearchParams({
      client_id: KUBECTL_CLIENT_ID,
      redirect_uri: 'http://127.0.0.1/callback',
      response_type: 'code',
      scope: 'openid',
      code_challenge: 'x'.repeat(43),
      code_challenge_method: 'S256',
    });
    const start = (from: string) => ua.request(`${a.issuer}/auth?${params}`, { headers: { 'x-forwarded-for': from } });
    const statuses: number[] = [];
    for (let i = 0; i < AUTH_STARTS_BURST + 2; i++) statuses.push((await start('198.51.100.99')).status);
    expect(statuses.slice(0, AUTH_STARTS_BURST).every((s) => s === 303)).toBe(true);
    expect(statuses.slice(AUTH_STARTS_BURST)).toEqual([429, 429]);
    // The device endpoint shares the budget: refused too, as JSON for the command line.
    const device = await ua.request(`${a.issuer}/device/auth`, { form: { client_id: KUBECTL_CLIENT_ID, scope: 'openid' }, headers: { 'x-forwarded-for': '198.51.100.99' } });
    expect(device.status).toBe(429);
    expect(device.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await device.json()) as { error: string }).error).toBe('slow_down');
    // Another client is not affected.
    expect((await start('198.51.100.100')).status).toBe(303);
  });

  it('serves no pushed authorization requests (each would store a Secret for anyone, beside the limited /auth), and advertises none', async () => {
    const ua = new UserAgent(ca.certPEM);
    const discovery = (await (await ua.request(`${a.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(discovery.authorization_endpoint).toBe(`${a.issuer}/auth`);
    expect(discovery).not.toHaveProperty('pushed_authorization_request_endpoint');
    const pushed = await ua.request(`${a.issuer}/request`, {
      form: { client_id: KUBECTL_CLIENT_ID, redirect_uri: 'http://127.0.0.1/callback', response_type: 'code', scope: 'openid', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' },
      headers: { 'x-forwarded-for': '198.51.100.101' },
    });
    expect(pushed.status).toBe(404);
  });
});
