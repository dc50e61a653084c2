// Sessions on the cluster: the console (the real `npm run console` process) keeps them in
// Secrets of its namespace with its own ServiceAccount, so a session survives a restart
// and is shared by replicas; a sign-out on one replica ends it on the others.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient } from '../operator/runtime/kube/client.ts';
import { Resources } from '../operator/runtime/kube/resource.ts';
import { serviceAccountToken } from '../operator/testenv/apikeys.ts';
import { testClient } from '../operator/testenv/clients.ts';
import { eventually, freePort, testKubeconfig, uniqueName } from '../operator/testenv/index.ts';
import { ManagedProcess } from '../operator/testenv/process.ts';
import { COOKIE, SessionStore, hash } from './server/session.ts';
import { SESSION_SECRET_PREFIX, SecretSessionBackend } from './server/session-secrets.ts';

const admin = testClient();
const ns = uniqueName('console-sessions');
const dir = mkdtempSync(join(tmpdir(), 'console-sessions-'));
const MAIN = fileURLToPath(new URL('./server/main.ts', import.meta.url));
const rbac = { group: 'rbac.authorization.k8s.io', version: 'v1', namespaced: true } as const;
const Role = { ...rbac, kind: 'Role', plural: 'roles' } as const;
const RoleBinding = { ...rbac, kind: 'RoleBinding', plural: 'rolebindings' } as const;
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

describe('console sessions in Secrets', () => {
  let sessionsKubeconfig: string;
  let personToken: string;
  const running: ManagedProcess[] = [];

  /** `npm run console` with sessions in Secrets of `ns`; resolves with its URL once it answers. */
  async function startConsole(name: string): Promise<{ proc: ManagedProcess; url: string }> {
    const port = await freePort();
    const proc = new ManagedProcess({
      name,
      command: process.execPath,
      args: [MAIN, `--kubeconfig=${testKubeconfig()}`, `--port=${port}`, `--sessions-namespace=${ns}`, `--sessions-kubeconfig=${sessionsKubeconfig}`],
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
    await admin.create(Namespace, { metadata: { name: ns } });
    // What the chart gives the console's ServiceAccount: Secrets in its own namespace, nothing else.
    await admin.create(Role, {
      metadata: { name: 'console-sessions', namespace: ns },
      rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'create', 'patch', 'delete'] }],
    });
    await admin.create(RoleBinding, {
      metadata: { name: 'console-sessions', namespace: ns },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'console-sessions' },
      subjects: [{ kind: 'ServiceAccount', name: 'console', namespace: ns }],
    });
    sessionsKubeconfig = tokenKubeconfig(await serviceAccountToken(admin, ns, 'console'), join(dir, 'console.kubeconfig'));
    personToken = await serviceAccountToken(admin, ns, 'person');
  }, 60_000);

  afterAll(async () => {
    for (const p of running) await p.stop();
    await admin.delete(Namespace, ns);
    rmSync(dir, { recursive: true, force: true });
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
    expect(await who(a.url)).toBe(`system:serviceaccount:${ns}:person`);
    expect((await me(a.url, 'not-a-session')).status).toBe(401);

    // Restarted: a new process with nothing in memory finds the session on the cluster.
    await a.proc.stop();
    a = await startConsole('console-a-restarted');
    expect(await who(a.url)).toBe(`system:serviceaccount:${ns}:person`);

    // A second replica, at the same time.
    const b = await startConsole('console-b');
    expect(await who(b.url)).toBe(`system:serviceaccount:${ns}:person`);
    const session = (await (await fetch(`${b.url}/console/api/session`, { headers: { cookie: `${COOKIE}=${s.id}` } })).json()) as { signedIn: boolean; csrfToken: string };
    expect(session).toEqual({ signedIn: true, csrfToken: s.csrf, signIn: false });

    // Signed out on b: the Secret is gone, and a stops answering for it within its recheck (5 s).
    const out = await fetch(`${b.url}/auth/logout`, { method: 'POST', headers: { cookie: `${COOKIE}=${s.id}`, 'x-csrf-token': s.csrf } });
    expect(out.status).toBe(200);
    expect(await admin.get(Resources.Secret, `${SESSION_SECRET_PREFIX}${hash(s.id)}`, ns)).toBeUndefined();
    expect((await me(b.url, s.id)).status).toBe(401);
    await eventually(async () => (await me(a.url, s.id)).status === 401, { timeoutMs: 15_000, describe: 'the other replica sees the sign-out' });

    // The console's own ServiceAccount may touch Secrets in its namespace only, and nobody's work.
    const other = await consoleClient.list(Resources.Secret, { namespace: 'default' }).catch((err: { status?: number }) => err.status);
    expect(other).toBe(403);
    for (const p of running) expect(readFileSync(p.logPath, 'utf8')).not.toContain(personToken);
  }, 180_000);
});
