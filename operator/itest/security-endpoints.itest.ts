// Issue 16, the endpoints: each item's attack, as an attacker who reaches the operator's
// ports would make it, on the real control plane whose API server presents its client
// certificate to the operator's webhooks (admission and token authentication, see
// operator/testenv/controlplane.ts), and seen refused.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLATFORM_CONFIG_NAME } from '../api/platformconfig/schema.ts';
import type { MiniApp } from '../api/miniapp/schema.ts';
import type { Organization } from '../api/organization/schema.ts';
import type { PlatformConfig } from '../api/platformconfig/schema.ts';
import { Kinds } from '../api/registry.ts';
import { createCA, issueCertificate } from '../runtime/pki.ts';
import { Resources } from '../runtime/kube/resource.ts';
import { accessAllowed } from '../testenv/access.ts';
import { readKey, serviceAccountToken, waitForKey } from '../testenv/apikeys.ts';
import { deleteOrganizationsAndWait, testClient } from '../testenv/clients.ts';
import { tokenWebhookOperatorArgs } from '../testenv/controlplane.ts';
import { eventually, kubectl, testKubeconfig, testTokenWebhook, uniqueName } from '../testenv/index.ts';
import { OperatorProcess } from '../testenv/operator-process.ts';

const admin = testClient();
const webhook = testTokenWebhook();
const operatorNamespace = uniqueName('op-sec');
const org = uniqueName('sec');
const ns = `org-${org}`;
const ADMIN = `admin@${org}.example`;
const PROVISIONER = `root-${org}@platform.example`;
const callers = uniqueName('callers');
const readerRole = uniqueName('metrics-reader');
let previousConfig: PlatformConfig | undefined;
let operator: OperatorProcess;
let caPEM: string;

/** A request over TLS to the operator (trusting its CA), optionally with a client certificate; the raw answer. */
function tlsCall(
  port: number,
  opts: { method?: string; path: string; token?: string; body?: unknown; cert?: { certPEM: string; keyPEM: string }; headers?: Record<string, string>; agent?: HttpsAgent },
): Promise<{ status: number; text: string; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        servername: 'localhost',
        ca: caPEM,
        path: opts.path,
        method: opts.method ?? 'POST',
        agent: opts.agent ?? false,
        ...(opts.cert ? { cert: opts.cert.certPEM, key: opts.cert.keyPEM } : {}),
        headers: { 'content-type': 'application/json', ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...opts.headers },
      },
      (res) => {
        let text = '';
        res
          .setEncoding('utf8')
          .on('data', (c: string) => (text += c))
          .on('end', () => resolve({ status: res.statusCode ?? 0, text, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The operator's /metrics, as Prometheus with a token allowed `get` on /metrics would read it. */
let readerToken: string;
async function scrape(): Promise<string> {
  const res = await tlsCall(operator.apiPort, { method: 'GET', path: '/metrics', token: readerToken });
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}: ${res.text}`);
  return res.text;
}
async function metric(name: string, labels: Record<string, string>): Promise<number> {
  let sum = 0;
  for (const line of (await scrape()).split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (m?.[1] === name && Object.entries(labels).every(([k, v]) => (m[2] ?? '').includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}

/** How many `resource` creates (tokenreviews, subjectaccessreviews) the API server has served, by its own /metrics. */
async function apiServerCreates(resource: 'tokenreviews' | 'subjectaccessreviews'): Promise<number> {
  let sum = 0;
  for (const line of (await kubectl(['get', '--raw', '/metrics'])).split('\n')) {
    const m = /^apiserver_request_total\{([^}]*)\}\s+(\S+)$/.exec(line);
    if (m && m[1]!.includes(`resource="${resource}"`) && m[1]!.includes('verb="POST"')) sum += Number(m[2]);
  }
  return sum;
}

/** An AdmissionReview as the API server would send it for a Membership of `email` in the organization. */
const membershipReview = (email: string) => ({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: {
    uid: randomBytes(8).toString('hex'),
    kind: { group: 'miniapps.dev', version: 'v1alpha1', kind: 'Membership' },
    resource: { group: 'miniapps.dev', version: 'v1alpha1', resource: 'memberships' },
    namespace: ns,
    name: 'probe',
    operation: 'CREATE',
    userInfo: { username: 'attacker' },
    object: { apiVersion: 'miniapps.dev/v1alpha1', kind: 'Membership', metadata: { name: 'probe', namespace: ns }, spec: { email, role: 'MiniAppDeveloper' } },
  },
});

beforeAll(async () => {
  if (!webhook) return;
  previousConfig = await admin.get<PlatformConfig>(Kinds.PlatformConfig, PLATFORM_CONFIG_NAME);
  await admin.apply(Kinds.PlatformConfig, { metadata: { name: PLATFORM_CONFIG_NAME }, spec: { ...(previousConfig?.spec ?? {}), provisioningAdministrators: { users: [PROVISIONER] } } });
  operator = await OperatorProcess.start({
    kubeconfig: testKubeconfig(),
    namespace: operatorNamespace,
    // A small review budget (finding 2's flood exceeds it), still above the address budget of one address (150 new reviews at once, then 30 a second, against 100 and 10).
    args: ['--leader-elect=false', ...tokenWebhookOperatorArgs(webhook), '--metrics-secure=true', '--trusted-proxies=127.0.0.1', '--review-qps=30', '--review-burst=200'],
  });
  caPEM = readFileSync(join(webhook.certDir, 'ca.crt'), 'utf8');
  await admin.create(Kinds.Organization, { metadata: { name: org }, spec: { displayName: org, capabilities: { miniApps: true } } });
  await eventually(async () => (await admin.get<Organization>(Kinds.Organization, org))?.status?.namespace === ns, { describe: 'the namespace' });
  await eventually(() => admin.create(Kinds.Membership, { metadata: { name: 'admin', namespace: ns }, spec: { email: ADMIN, role: 'OrganizationAdministrator', acceptance: 'Automatic' } }), {
    describe: 'the administrator',
  });
  await admin.create(Resources.Namespace, { metadata: { name: callers } });
  await admin.create(Resources.ClusterRole, { metadata: { name: readerRole }, rules: [{ nonResourceURLs: ['/metrics'], verbs: ['get'] }] });
  await admin.create(Resources.ClusterRoleBinding, {
    metadata: { name: readerRole },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: readerRole },
    subjects: [{ kind: 'ServiceAccount', name: 'prometheus', namespace: callers }],
  });
  readerToken = await serviceAccountToken(admin, callers, 'prometheus');
  await eventually(async () => (await tlsCall(operator.apiPort, { method: 'GET', path: '/metrics', token: readerToken })).status === 200, { describe: 'Prometheus allowed /metrics' });
});

afterAll(async () => {
  if (!webhook) return;
  await operator?.stop();
  await deleteOrganizationsAndWait(admin, [org]).catch(() => undefined);
  await admin.delete(Resources.Namespace, callers).catch(() => undefined);
  await admin.delete(Resources.ClusterRoleBinding, readerRole).catch(() => undefined);
  await admin.delete(Resources.ClusterRole, readerRole).catch(() => undefined);
  await admin.delete(Resources.Namespace, operatorNamespace).catch(() => undefined);
  if (previousConfig) await admin.apply(Kinds.PlatformConfig, { metadata: { name: PLATFORM_CONFIG_NAME }, spec: previousConfig.spec ?? {} });
});

describe.skipIf(!webhook)('issue 16: every endpoint knows its caller', () => {
  it('item 4: /validate and /authenticate answer the API server alone (its client certificate); anyone else gets a bare 401', async () => {
    // The attacker asks the validating webhook whether an email is a member, and the
    // authentication webhook whose a key is: without the API server's client certificate,
    // or with one of their own CA, they learn nothing.
    const probe = membershipReview(ADMIN);
    const intruderCA = createCA('intruder-ca');
    const intruder = issueCertificate({ ca: intruderCA, commonName: 'kube-apiserver-webhook-client', usages: 'client', validityDays: 1 });
    for (const cert of [undefined, intruder]) {
      const validate = await tlsCall(operator.webhookPort, { path: '/validate', body: probe, cert });
      expect({ status: validate.status, text: validate.text }).toEqual({ status: 401, text: '{"error":"Unauthorized"}' });
      const authenticate = await tlsCall(operator.webhookPort, {
        path: '/authenticate',
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: 'mak_0000000000000000_x' } },
        cert,
      });
      expect({ status: authenticate.status, text: authenticate.text }).toEqual({ status: 401, text: '{"error":"Unauthorized"}' });
    }
    // The API server itself is answered: the webhook's rule refuses a MiniApp with a category
    // PlatformConfig does not list (failurePolicy Ignore: had the call failed, the create
    // would pass; a second Membership of one email, which this test used to send, is now
    // refused by an admission policy before any webhook is called)...
    const category = await kubectl(['create', '-n', ns, '-f', '-'], {
      allowFailure: true,
      stdin: JSON.stringify({ apiVersion: 'miniapps.dev/v1alpha1', kind: 'MiniApp', metadata: { name: 'probe' }, spec: { appName: 'probe', type: 'Text', categories: ['NoSuchCategoryAnywhere'] } }),
    });
    expect(category.exitCode).not.toBe(0);
    expect(category.stderr).toContain('admission webhook "validate.miniapps.dev" denied the request: spec.categories: NoSuchCategoryAnywhere is not allowed by PlatformConfig default');
    // ...and an API key authenticates through /authenticate (kubectl --token).
    await eventually(() => accessAllowed(admin, PROVISIONER, { verb: 'create', resource: 'organizations' }), { describe: 'the provisioning administrator bound' });
    await admin.create(Kinds.ApiKey, { metadata: { name: 'root', namespace: operatorNamespace }, spec: { owner: PROVISIONER, ttl: '24h' } }, { as: { user: PROVISIONER } });
    const key = await readKey(admin, await waitForKey(admin, operatorNamespace, 'root', (k) => k.status?.phase === 'Active' && !!k.status.secretName, 'Active'));
    const whoami = await eventually(
      async () => {
        const r = await kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], { token: key, allowFailure: true });
        return r.exitCode === 0 ? r.stdout : false;
      },
      { describe: 'kubectl --token with the key' },
    );
    expect(whoami).toBe(PROVISIONER);
  });

  it("item 5: random bearer tokens on /tokenroles/v1/roles cost at most the address budget of TokenReviews, on the reviews' own client; a known caller is still answered", async () => {
    const gateway = await serviceAccountToken(admin, callers, 'gateway');
    const ask = (token: string) => tlsCall(operator.apiPort, { path: '/tokenroles/v1/roles', token, body: { namespace: ns, user: 'nobody', app: { organization: org, name: 'frontend' } } });
    // The gateway is known (authenticated; it may not ask about this user: 404).
    expect((await ask(gateway)).status).toBe(404);
    const reviewsBefore = await apiServerCreates('tokenreviews');
    const ownBefore = await metric('miniapps_caller_reviews_total', { review: 'token' });
    const started = Date.now();
    const FLOOD = 400;
    const statuses: number[] = [];
    let gatewayDuringFlood: number | undefined;
    await Promise.all(
      Array.from({ length: 16 }, async (_, worker) => {
        for (let i = worker; i < FLOOD; i += 16) {
          statuses.push((await ask(randomBytes(24).toString('base64url'))).status);
          if (i === FLOOD / 2) gatewayDuringFlood = (await ask(gateway)).status;
        }
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    const reviews = (await apiServerCreates('tokenreviews')) - reviewsBefore;
    // Every one of them came from the reviews' own client, which counts what it sends.
    expect((await metric('miniapps_caller_reviews_total', { review: 'token' })) - ownBefore).toBeGreaterThanOrEqual(reviews - 2);
    const count = (s: number) => statuses.filter((x) => x === s).length;
    expect(count(401) + count(429)).toBe(FLOOD);
    // The address budget: 100 at once, then 10 a second (a review the known gateway's renewal makes counts too).
    expect(reviews).toBeLessThanOrEqual(100 + Math.ceil(seconds * 10) + 2);
    expect(count(429)).toBeGreaterThan(0);
    expect(gatewayDuringFlood).toBe(404);
  });

  it('item 5 (review finding 4): /verify authenticates through the same authority: an address that spent its budget of unknown tokens elsewhere gets 429 there too', async () => {
    // This address spends its budget of unknown tokens on token roles (until a 429)...
    const roles = (token: string) => tlsCall(operator.apiPort, { path: '/tokenroles/v1/roles', token, body: { namespace: ns, user: 'nobody', app: { organization: org, name: 'frontend' } } });
    let spent = false;
    for (let i = 0; i < 300 && !spent; i++) spent = (await roles(randomBytes(24).toString('base64url'))).status === 429;
    expect(spent).toBe(true);
    // ...and /verify, asked at once, has no second budget to give.
    const r = await tlsCall(operator.apiPort, { path: '/verify', token: randomBytes(24).toString('base64url'), body: { apiKey: 'mak_0000000000000000_x' } });
    expect(r.status).toBe(429);
    expect(r.headers['retry-after']).toBeDefined();
  });

  it('item 10: the data-protection API answers a missing mini app exactly as an existing one the caller may not use, after the same SubjectAccessReview', async () => {
    await admin.create(Kinds.MiniApp, { metadata: { name: 'vault', namespace: ns }, spec: { appName: 'vault', type: 'Text', dataPrivacy: { protection: 'EnvelopeEncryption' } } });
    await eventually(async () => (await admin.get<MiniApp>(Kinds.MiniApp, 'vault', ns))?.status?.conditions?.some((c) => c.type === 'DataKeyReady' && c.status === 'True'), {
      describe: "the vault's data key",
    });
    const outsider = await serviceAccountToken(admin, callers, 'outsider');
    for (const path of ['/dataprotection/v1/protect', '/dataprotection/v1/reveal']) {
      // SubjectAccessReviews as the API server counts them (nothing else asks for one meanwhile).
      const answer = async (name: string) => {
        const before = await apiServerCreates('subjectaccessreviews');
        const res = await tlsCall(operator.apiPort, { path, token: outsider, body: { miniApp: { organization: org, name }, values: ['mae1:x'] } });
        return { status: res.status, text: res.text.replace(name, '<name>'), accessReviews: (await apiServerCreates('subjectaccessreviews')) - before };
      };
      // The outsider's token is known from here on (the flood above spent this address's budget for unknown tokens: 429 until it refills).
      await eventually(async () => (await answer('vault')).status !== 429, { describe: "the outsider's token reviewed" });
      for (let round = 0; round < 3; round++) {
        const existing = await answer('vault');
        const missing = await answer(`ghost-${round}`);
        expect(missing, path).toEqual(existing);
        expect(existing.status).toBe(404);
        expect(existing.accessReviews).toBeGreaterThan(0);
      }
    }
  });

  it('item 13: behind a trusted proxy each client has its own bucket on the acceptance page, keyed by the right-most address the proxy forwarded', async () => {
    const page = async (forwarded: string) => {
      const res = await fetch(`http://127.0.0.1:${operator.publicPort}/invitations/accept?token=${randomBytes(12).toString('hex')}`, { headers: { 'x-forwarded-for': forwarded } });
      await res.arrayBuffer();
      return res.status;
    };
    // One client (203.0.113.1) spends its budget (20 at once), whatever it puts to the left.
    const first: number[] = [];
    for (let i = 0; i < 25; i++) first.push(await page(`198.51.100.${i}, 203.0.113.1`));
    expect(first.slice(0, 20).every((s) => s !== 429)).toBe(true);
    expect(first.slice(20)).toEqual([429, 429, 429, 429, 429]);
    // Another client behind the same proxy is not limited by it...
    expect(await page('203.0.113.2')).not.toBe(429);
    // ...and the first cannot pass for another by writing an address of its choice to the left.
    expect(await page('203.0.113.2, 203.0.113.1')).toBe(429);
  });

  it('item 13: a client behind the proxy cannot pick a fresh bucket with a Forwarded header of its own (the proxy writes X-Forwarded-For)', async () => {
    // ingress-nginx writes X-Forwarded-For and passes the client's own Forwarded through:
    // a fresh Forwarded per request must not be a fresh bucket.
    const page = async (i: number) => {
      const res = await fetch(`http://127.0.0.1:${operator.publicPort}/invitations/accept?token=${randomBytes(12).toString('hex')}`, {
        headers: { forwarded: `for=203.0.113.${100 + i}`, 'x-forwarded-for': '198.51.100.77' },
      });
      await res.arrayBuffer();
      return res.status;
    };
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) statuses.push(await page(i));
    expect(statuses.slice(0, 20).every((s) => s !== 429)).toBe(true);
    expect(statuses.slice(20)).toEqual([429, 429, 429, 429, 429]);
  });

  it('item 15: /metrics is served only to callers the API server authorizes for get on /metrics, over TLS', async () => {
    const plain = await fetch(`http://127.0.0.1:${operator.healthPort}/metrics`);
    expect(plain.status).toBe(404);
    expect(await plain.text()).not.toContain('miniapps_');
    const anonymous = await tlsCall(operator.apiPort, { method: 'GET', path: '/metrics' });
    expect(anonymous.status).toBe(401);
    const stranger = await tlsCall(operator.apiPort, { method: 'GET', path: '/metrics', token: await serviceAccountToken(admin, callers, 'stranger') });
    expect(stranger.status).toBe(403);
    expect(stranger.text).not.toContain('miniapps_');
    expect(await scrape()).toContain('miniapps_reconcile_total');
    // The probes stay open on the plain port.
    expect((await fetch(`http://127.0.0.1:${operator.healthPort}/readyz`)).status).toBe(200);
  });

  it('the TLS listeners cut off a slow client: a handshake never started, headers never finished', async () => {
    const closedWithin = (open: () => import('node:net').Socket) =>
      new Promise<number>((resolve, reject) => {
        const t0 = Date.now();
        const socket = open();
        socket.on('error', () => undefined);
        socket.resume(); // read what the server says (a 408) and its end, so that 'close' comes
        socket.on('close', () => resolve(Date.now() - t0));
        setTimeout(() => {
          socket.destroy();
          reject(new Error('the connection was still open after 25 s'));
        }, 25_000);
      });
    const silentTcp = (port: number) => () => netConnect(port, '127.0.0.1');
    const slowHeaders = (port: number) => () => {
      const s = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ca: caPEM });
      s.on('secureConnect', () => s.write('POST /verify HTTP/1.1\r\nHost: localhost\r\nX-Slow: '));
      return s;
    };
    const cases = {
      'api: no handshake': silentTcp(operator.apiPort),
      'api: slow headers': slowHeaders(operator.apiPort),
      'webhook: no handshake': silentTcp(operator.webhookPort),
      'webhook: slow headers': slowHeaders(operator.webhookPort),
    };
    const times = await Promise.all(
      Object.entries(cases).map(
        async ([what, open]) =>
          [
            what,
            await closedWithin(open).then(
              (ms) => ms < 20_000,
              (err: Error) => err.message,
            ),
          ] as const,
      ),
    );
    expect(Object.fromEntries(times)).toEqual(Object.fromEntries(Object.keys(cases).map((k) => [k, true])));
  });

  it('item 5 (review finding 2): a flood of unknown tokens from many addresses is refused at once beyond the review budget, never queued; a known caller is answered meanwhile', async () => {
    const gateway = await serviceAccountToken(admin, callers, 'gateway');
    const ask = (token: string, agent?: HttpsAgent) =>
      tlsCall(operator.apiPort, { path: '/tokenroles/v1/roles', token, agent, body: { namespace: ns, user: 'nobody', app: { organization: org, name: 'frontend' } } });
    await eventually(async () => (await ask(gateway)).status === 404, { describe: 'the gateway known' });
    // 24 addresses of the loopback network, 48 unknown tokens each (under each address's burst of 100):
    // 1,152 new reviews against a budget of 150 at once and 30 a second.
    const ADDRESSES = 24;
    const PER_ADDRESS = 48;
    const agents = Array.from({ length: ADDRESSES }, (_, i) => new HttpsAgent({ keepAlive: true, maxSockets: 4, localAddress: `127.0.3.${i + 1}`, ca: caPEM, servername: 'localhost' }));
    const reviewsBefore = await apiServerCreates('tokenreviews');
    const answers: { status: number; ms: number }[] = [];
    const gatewayDuringFlood: { status: number; ms: number }[] = [];
    const started = Date.now();
    try {
      await Promise.all([
        ...agents.flatMap((agent) =>
          Array.from({ length: 4 }, async () => {
            for (let i = 0; i < PER_ADDRESS / 4; i++) {
              const t0 = Date.now();
              const r = await ask(randomBytes(24).toString('base64url'), agent);
              answers.push({ status: r.status, ms: Date.now() - t0 });
            }
          }),
        ),
        (async () => {
          for (let i = 0; i < 5; i++) {
            await new Promise((r) => setTimeout(r, 200));
            const t0 = Date.now();
            gatewayDuringFlood.push({ status: (await ask(gateway)).status, ms: Date.now() - t0 });
          }
        })(),
      ]);
    } finally {
      for (const a of agents) a.destroy();
    }
    const seconds = (Date.now() - started) / 1000;
    const reviews = (await apiServerCreates('tokenreviews')) - reviewsBefore;
    const count = (s: number) => answers.filter((a) => a.status === s).length;
    expect(answers).toHaveLength(ADDRESSES * PER_ADDRESS);
    expect(count(401) + count(503)).toBe(ADDRESSES * PER_ADDRESS);
    expect(count(503)).toBeGreaterThan(0);
    // At most what the budget allows (plus the gateway's renewals), and nobody waited in a queue for it.
    expect(reviews).toBeLessThanOrEqual(200 + Math.ceil(seconds * 30) + 5);
    const slowest = Math.max(...answers.map((a) => a.ms));
    expect(slowest).toBeLessThan(5_000);
    expect(gatewayDuringFlood.map((g) => g.status)).toEqual([404, 404, 404, 404, 404]);
  });
});
