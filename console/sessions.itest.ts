// The chart's console and its sessions on the cluster: the console's objects as the chart
// renders them (helm template, console.enabled) are applied to the control plane; their
// Deployment says how the pod runs (no kubelet here), and its ServiceAccount's rights are
// checked as the API server decides them: its sessions' Secrets, and nothing of anyone's.
// Then the real console process (`npm run console`), as that ServiceAccount, keeps a
// session in a Secret of the sessions namespace, so the session survives a restart and is
// shared by a second replica; a sign-out on one replica ends it on the other.
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient } from '../operator/runtime/kube/client.ts';
import { Resources } from '../operator/runtime/kube/resource.ts';
import { accessAllowed } from '../operator/testenv/access.ts';
import { serviceAccountToken } from '../operator/testenv/apikeys.ts';
import { testClient } from '../operator/testenv/clients.ts';
import { eventually, freePort, kubectl, testKubeconfig, uniqueName } from '../operator/testenv/index.ts';
import { findTool, run } from '../operator/testenv/tools.ts';
import { ManagedProcess } from '../operator/testenv/process.ts';
import { COOKIE, SIGNIN_COOKIE, SessionStore, hash } from './server/session.ts';
import { SESSION_LABEL, SESSION_SECRET_PREFIX, SIGNIN_KEY_SECRET, SecretSessionBackend } from './server/session-secrets.ts';

const admin = testClient();
const helm = findTool('helm');
/** The release namespace; the chart's default sessions namespace is `<it>-console`. */
const release = uniqueName('console-chart');
const ns = `${release}-console`;
const SA = 'rel-miniapps-operator-console';
const CHART = fileURLToPath(new URL('../charts/miniapps-operator', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'console-sessions-'));
const MAIN = fileURLToPath(new URL('./server/main.ts', import.meta.url));
const Deployment = { group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', namespaced: true } as const;
const Namespace = { group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false } as const;

/** A kubeconfig with the test cluster and a ServiceAccount's token as its user. */
function tokenKubeconfig(token: string, file: string): string {
  const kc = parse(readFileSync(testKubeconfig(), 'utf8')) as { clusters: { name: string; cluster: Record<string, unknown> }[] };
  const cluster = kc.clusters[0]!;
  writeFileSync(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [cluster],
      users: [{ name: 'console', user: { token } }],
      contexts: [{ name: 'console', context: { cluster: cluster.name, user: 'console' } }],
      'current-context': 'console',
    }),
    { mode: 0o600 },
  );
  return file;
}

type Pod = {
  serviceAccountName: string;
  securityContext: { runAsNonRoot: boolean; runAsUser: number };
  containers: {
    command: string[];
    args: string[];
    securityContext: { readOnlyRootFilesystem: boolean; allowPrivilegeEscalation: boolean; capabilities: { drop: string[] } };
    livenessProbe: { httpGet: { path: string; port: string } };
    readinessProbe: { httpGet: { path: string; port: string } };
    ports: { name: string; containerPort: number }[];
  }[];
};

describe.skipIf(!helm)("the chart's console, and its sessions in Secrets", () => {
  let sessionsKubeconfig: string;
  let personToken: string;
  const running: ManagedProcess[] = [];

  /** `npm run console` with sessions in Secrets of `ns`; resolves with its URL once it answers. */
  async function startConsole(name: string, extra: string[] = [], listen?: number): Promise<{ proc: ManagedProcess; url: string }> {
    const port = listen ?? (await freePort());
    const proc = new ManagedProcess({
      name,
      command: process.execPath,
      args: [MAIN, `--kubeconfig=${testKubeconfig()}`, `--port=${port}`, `--sessions-namespace=${ns}`, `--sessions-kubeconfig=${sessionsKubeconfig}`, ...extra],
      logPath: join(dir, `${name}.log`),
    });
    proc.start();
    running.push(proc);
    const url = `http://127.0.0.1:${port}`;
    await eventually(
      async () => {
        const f = proc.failure();
        if (f) throw f;
        return (await fetch(`${url}/healthz`).catch(() => undefined))?.ok ?? false;
      },
      { timeoutMs: 30_000, describe: `${name} answers` },
    );
    return { proc, url };
  }

  const me = (url: string, id: string) => fetch(`${url}/console/api/me`, { headers: { cookie: `${COOKIE}=${id}` } });

  beforeAll(async () => {
    await admin.create(Namespace, { metadata: { name: release } });
    const manifest = run(helm!, [
      'template',
      'rel',
      CHART,
      '--namespace',
      release,
      '--show-only',
      'templates/console.yaml',
      '--set',
      'console.enabled=true',
      '--set',
      'console.issuerUrl=https://id.example',
      '--set',
      'console.publicUrl=https://console.example',
    ]);
    const kinds = parseAllDocuments(manifest).map((d) => (d.toJS() as { kind: string }).kind);
    expect(kinds.sort()).toEqual(['Deployment', 'Namespace', 'ResourceQuota', 'Role', 'RoleBinding', 'Service', 'ServiceAccount']);
    await kubectl(['apply', '-f', '-'], { stdin: manifest });
    sessionsKubeconfig = tokenKubeconfig(await serviceAccountToken(admin, release, SA), join(dir, 'console.kubeconfig'));
    personToken = await serviceAccountToken(admin, release, 'person');
  }, 60_000);

  afterAll(async () => {
    for (const p of running) await p.stop();
    await admin.delete(Namespace, ns);
    await admin.delete(Namespace, release);
    rmSync(dir, { recursive: true, force: true });
  });

  it("runs the operator's image with the console's command, non-root, read-only, probed, with its sessions in their own namespace", async () => {
    const d = await admin.get<{ spec: { template: { spec: Pod } } } & { metadata: { name: string } }>(Deployment, SA, release);
    const pod = d!.spec.template.spec;
    expect(pod.serviceAccountName).toBe(SA);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    const c = pod.containers[0]!;
    expect(c.command).toEqual(['/usr/local/bin/node', 'console/server/main.ts']);
    expect(c.args).toEqual(
      expect.arrayContaining([
        '--host=0.0.0.0',
        '--port=8090',
        '--public-url=https://console.example',
        '--issuer-url=https://id.example',
        '--client-id=miniapps-console',
        `--sessions-namespace=${ns}`,
      ]),
    );
    expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http', scheme: 'HTTP' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/healthz', port: 'http', scheme: 'HTTP' });
    expect(c.ports).toEqual([expect.objectContaining({ name: 'http', containerPort: 8090 })]);
  });

  it("caps the Secrets of the sessions' namespace the chart made (a ResourceQuota on count/secrets)", async () => {
    const ResourceQuota = { group: '', version: 'v1', kind: 'ResourceQuota', plural: 'resourcequotas', namespaced: true } as const;
    const q = await admin.get<{ metadata: { name: string }; spec: { hard: Record<string, string> } }>(ResourceQuota, `${SA}-sessions`, ns);
    // The API server writes the quantity canonically: 20000 is 20k.
    expect(q?.spec.hard).toEqual({ 'count/secrets': '20k' });
  });

  it("gives the console's ServiceAccount its sessions' Secrets and nothing of anyone's, as the API server decides", async () => {
    const user = `system:serviceaccount:${release}:${SA}`;
    const can = (verb: string, resource: string, namespace: string | undefined, group = '') => accessAllowed(admin, user, { verb, resource, namespace, group }, [`system:serviceaccounts:${release}`]);
    for (const verb of ['get', 'list', 'create', 'patch', 'delete']) expect(await can(verb, 'secrets', ns), `${verb} secrets in ${ns}`).toBe(true);
    // Not the release namespace's Secrets (the operator's webhook key, provisioning administrators' API keys), nor anyone else's.
    expect(await can('get', 'secrets', release)).toBe(false);
    expect(await can('list', 'secrets', undefined)).toBe(false);
    expect(await can('list', 'organizations', undefined, 'miniapps.dev')).toBe(false);
    expect(await can('create', 'memberships', 'default', 'miniapps.dev')).toBe(false);
    expect(await can('impersonate', 'users', undefined)).toBe(false);
    expect(await can('create', 'tokenreviews', undefined, 'authentication.k8s.io')).toBe(false);
  });

  it('survives a restart, is shared by a second replica, holds no token in the clear, and a sign-out on one replica ends it on the other', async () => {
    // The session as the OIDC callback saves it (the person's token is a ServiceAccount's here).
    const consoleClient = KubeClient.fromKubeconfig(sessionsKubeconfig);
    const store = new SessionStore({ backend: new SecretSessionBackend(consoleClient, ns) });
    const s = store.create();
    s.tokens = { bearer: personToken };
    await store.save(s);
    const secret = await admin.get<{ metadata: { name: string }; data: Record<string, string> }>(Resources.Secret, `${SESSION_SECRET_PREFIX}${hash(s.id)}`, ns);
    expect(secret).toBeDefined();
    const stored =
      JSON.stringify(secret) +
      Object.values(secret!.data)
        .map((v) => Buffer.from(v, 'base64').toString('latin1'))
        .join('');
    expect(stored).not.toContain(personToken);
    expect(stored).not.toContain(s.id);

    let a = await startConsole('console-a');
    const who = async (url: string) => {
      const res = await me(url, s.id);
      expect(res.status).toBe(200);
      return ((await res.json()) as { username: string }).username;
    };
    expect(await who(a.url)).toBe(`system:serviceaccount:${release}:person`);
    expect((await me(a.url, 'not-a-session')).status).toBe(401);

    // Restarted: a new process with nothing in memory finds the session on the cluster.
    await a.proc.stop();
    a = await startConsole('console-a-restarted');
    expect(await who(a.url)).toBe(`system:serviceaccount:${release}:person`);

    // A second replica, at the same time.
    const b = await startConsole('console-b');
    expect(await who(b.url)).toBe(`system:serviceaccount:${release}:person`);
    const session = (await (await fetch(`${b.url}/console/api/session`, { headers: { cookie: `${COOKIE}=${s.id}` } })).json()) as { signedIn: boolean; csrfToken: string };
    expect(session).toEqual({ signedIn: true, csrfToken: s.csrf, signIn: false });

    // Signed out on b: the Secret is gone, and a stops answering for it within its recheck (5 s).
    const out = await fetch(`${b.url}/auth/logout`, { method: 'POST', headers: { cookie: `${COOKIE}=${s.id}`, 'x-csrf-token': s.csrf } });
    expect(out.status).toBe(200);
    expect(await admin.get(Resources.Secret, `${SESSION_SECRET_PREFIX}${hash(s.id)}`, ns)).toBeUndefined();
    expect((await me(b.url, s.id)).status).toBe(401);
    await eventually(async () => (await me(a.url, s.id)).status === 401, { timeoutMs: 15_000, describe: 'the other replica sees the sign-out' });
    // A replica still holding the session saves it again (its expiry moved, its tokens refreshed): the Secret is not made again.
    await store.save(s);
    expect(await admin.get(Resources.Secret, `${SESSION_SECRET_PREFIX}${hash(s.id)}`, ns)).toBeUndefined();

    // The console's own ServiceAccount may touch Secrets in its namespace only, and nobody's work.
    const other = await consoleClient.list(Resources.Secret, { namespace: 'default' }).catch((err: { status?: number }) => err.status);
    expect(other).toBe(403);
    for (const p of running) expect(readFileSync(p.logPath, 'utf8')).not.toContain(personToken);
  }, 180_000);

  it('an anonymous sign-in stores no Secret, and a sign-in started on one replica is finished by the other', async () => {
    // A stand-in OpenID provider on loopback (console.itest.ts signs in with the embedded one):
    // it checks PKCE against what the authorization request asked, so the callback can only
    // succeed with the verifier the sign-in cookie carried from the other replica.
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    const codes = new Map<string, { challenge: string; nonce: string; redirectUri: string }>();
    const idp = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const send = (status: number, body: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        };
        if (req.url === '/.well-known/openid-configuration') {
          return send(200, {
            issuer,
            authorization_endpoint: `${issuer}/authorize`,
            token_endpoint: `${issuer}/token`,
            jwks_uri: `${issuer}/jwks`,
            response_types_supported: ['code'],
            subject_types_supported: ['public'],
            id_token_signing_alg_values_supported: ['RS256'],
            code_challenge_methods_supported: ['S256'],
            token_endpoint_auth_methods_supported: ['none'],
          });
        }
        if (req.url === '/jwks') return send(200, { keys: [jwk] });
        if (req.url === '/token' && req.method === 'POST') {
          const form = new URLSearchParams(Buffer.concat(chunks).toString());
          const grant = codes.get(form.get('code') ?? '');
          const verifier = form.get('code_verifier') ?? '';
          if (!grant || createHash('sha256').update(verifier).digest('base64url') !== grant.challenge || form.get('redirect_uri') !== grant.redirectUri) {
            return send(400, { error: 'invalid_grant' });
          }
          codes.delete(form.get('code')!);
          const idToken = await new SignJWT({ nonce: grant.nonce, email: 'alice@example.com' })
            .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
            .setIssuer(issuer)
            .setSubject('alice')
            .setAudience('miniapps-console')
            .setIssuedAt()
            .setExpirationTime('5m')
            .sign(privateKey);
          return send(200, { access_token: 'at', token_type: 'Bearer', expires_in: 300, id_token: idToken });
        }
        send(404, {});
      });
    });
    await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
    const issuer = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
    try {
      // Two replicas behind one public URL (the first's): the callback may land on either.
      const portC = await freePort();
      const publicUrl = `http://127.0.0.1:${portC}`;
      const oidcArgs = [`--issuer-url=${issuer}`, '--client-id=miniapps-console', `--public-url=${publicUrl}`];
      const c = await startConsole('console-c', oidcArgs, portC);
      const d = await startConsole('console-d', oidcArgs);
      const sessionSecrets = async () => (await admin.list<{ metadata: { name: string } }>(Resources.Secret, { namespace: ns, labelSelector: SESSION_LABEL })).items.map((s) => s.metadata.name).sort();
      const before = await sessionSecrets();

      // Anonymous sign-ins with a 12 kB returnTo, as fast as they come: nothing stored, then refused.
      const long = `/${'a'.repeat(12_000)}`;
      const statuses: number[] = [];
      for (let i = 0; i < 15; i++) statuses.push((await fetch(`${c.url}/auth/login?returnTo=${long}`, { redirect: 'manual' })).status);
      expect(statuses.slice(0, 10)).toEqual(Array(10).fill(302));
      expect(statuses.slice(10)).toEqual(Array(5).fill(429));
      expect(await sessionSecrets()).toEqual(before);

      // A person's sign-in starts on d (c's limit for this address is used up) ...
      const login = await fetch(`${d.url}/auth/login?returnTo=/%23/orgs`, { redirect: 'manual' });
      expect(login.status).toBe(302);
      const authorize = new URL(login.headers.get('location')!);
      expect(authorize.origin + authorize.pathname).toBe(`${issuer}/authorize`);
      const signin = login.headers
        .getSetCookie()
        .find((x) => x.startsWith(`${SIGNIN_COOKIE}=`))!
        .split(';')[0]!;
      expect(await sessionSecrets()).toEqual(before);
      const q = authorize.searchParams;
      codes.set('code-1', { challenge: q.get('code_challenge')!, nonce: q.get('nonce')!, redirectUri: q.get('redirect_uri')! });

      // ... and the provider sends the browser back to c.
      const back = await fetch(`${c.url}/auth/callback?code=code-1&state=${encodeURIComponent(q.get('state')!)}`, { redirect: 'manual', headers: { cookie: signin } });
      expect(back.status).toBe(302);
      expect(back.headers.get('location')).toBe('/#/orgs');
      const session = back.headers
        .getSetCookie()
        .find((x) => x.startsWith(`${COOKIE}=`))!
        .split(';')[0]!;
      // Only now is something stored: the signed-in session, which d finds too.
      const after = await sessionSecrets();
      expect(after.filter((n) => !before.includes(n))).toEqual([`${SESSION_SECRET_PREFIX}${hash(session.slice(COOKIE.length + 1))}`]);
      const onD = (await (await fetch(`${d.url}/console/api/session`, { headers: { cookie: session } })).json()) as { signedIn: boolean };
      expect(onD.signedIn).toBe(true);
      // The replicas' shared sealing secret is one Secret, made once, never swept as a session.
      expect(await admin.get(Resources.Secret, SIGNIN_KEY_SECRET, ns)).toBeDefined();
    } finally {
      await new Promise<void>((resolve) => idp.close(() => resolve()));
    }
  }, 180_000);

  it("the sweep, with the console's ServiceAccount, deletes the sessions whose idle time ran out and keeps the others", async () => {
    const backend = new SecretSessionBackend(KubeClient.fromKubeconfig(sessionsKubeconfig), ns);
    let now = Date.now() - 9 * 3600_000;
    const old = new SessionStore({ backend, now: () => now });
    const stale = old.create();
    stale.tokens = { bearer: 'stale' };
    await old.save(stale);
    now = Date.now();
    const live = new SessionStore({ backend }).create();
    live.tokens = { bearer: 'live' };
    const store = new SessionStore({ backend });
    await store.save(live);
    expect(await backend.sweep()).toBe(1);
    expect(await admin.get(Resources.Secret, `${SESSION_SECRET_PREFIX}${hash(stale.id)}`, ns)).toBeUndefined();
    expect(await admin.get(Resources.Secret, `${SESSION_SECRET_PREFIX}${hash(live.id)}`, ns)).toBeDefined();
    expect((await store.load(live.id))?.tokens?.bearer).toBe('live');
  });
});
