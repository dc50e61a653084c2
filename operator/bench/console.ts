// `npm run bench -- --scenario=console`: the console's proxy (console/server) against a
// direct request to the API server, in the same run, on the same two cores. A person (a
// ServiceAccount with a Role to read MiniApps in one namespace) is signed in to a console
// process (`node console/server/main.ts`, sessions in Secrets as the chart runs it; the
// bench saves the session as the OIDC callback would); then the same GET (a list of
// MiniApps, `--objects` of them) is sent `--requests` times directly (the console's own
// upstream client: keep-alive TLS, the person's bearer token) and through the console
// (keep-alive HTTP, the session cookie), alternating one and the other so that both see
// the same load, one request at a time. The proxy's added latency is the difference of
// the percentiles; the target is p99 added < 5 ms (issue 20).
import { once } from 'node:events';
import { Agent, request } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { API_VERSION, GROUP } from '../api/constants.ts';
import { Kinds } from '../api/registry.ts';
import { Resources } from '../runtime/kube/resource.ts';
import type { KubeClient } from '../runtime/kube/client.ts';
import { loadClusterAccess } from '../runtime/kube/kubeconfig.ts';
import { serviceAccountToken } from '../testenv/apikeys.ts';
import { freePort } from '../testenv/eventually.ts';
import { REPO_ROOT } from '../testenv/controlplane.ts';
import { ManagedProcess } from '../testenv/process.ts';
import { COOKIE, SessionStore } from '../../console/server/session.ts';
import { SecretSessionBackend } from '../../console/server/session-secrets.ts';
import { createUpstream } from '../../console/server/upstream.ts';
import { percentile, pool, sleep } from './measure.ts';
import { round } from './organizations.ts';
import type { Scenario, ScenarioResult } from './scenario.ts';

async function drain(res: IncomingMessage): Promise<number> {
  let n = 0;
  for await (const c of res) n += (c as Buffer).length;
  return n;
}

/**
 * The person a console benchmark signs in: ServiceAccount `person` in `ns` (which exists),
 * bound to a Role of `rules` there, and a token of an hour for it (what the OIDC callback
 * would have put into the session).
 */
export async function consolePerson(c: KubeClient, ns: string, rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[]): Promise<string> {
  await c.create(Resources.Role, { metadata: { name: 'reader', namespace: ns }, rules });
  await c.create(Resources.RoleBinding, {
    metadata: { name: 'reader', namespace: ns },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' },
    subjects: [{ kind: 'ServiceAccount', name: 'person', namespace: ns }],
  });
  return serviceAccountToken(c, ns, 'person');
}

export const consoleProxy: Scenario = {
  name: 'console',
  description: "the console's proxy against direct requests to the API server, same GET, alternating, one at a time: latency percentiles and the proxy's added p99",
  sizes: {
    requests: { default: 2_000, help: 'requests each way (after 200 of warm-up each)' },
    objects: { default: 20, help: 'MiniApps in the list each request reads' },
  },
  n: (s) => s.requests!,
  async run(ctx): Promise<ScenarioResult> {
    if (!ctx.disposableCluster) throw new Error('scenario console runs only on the control plane it starts');
    const requests = ctx.sizes.requests!;
    const ns = `console-bench-${ctx.runId}`;
    const sessions = `${ns}-sessions`;
    const c = ctx.client;
    for (const name of [ns, sessions]) await c.create(Resources.Namespace, { metadata: { name } });
    await pool(ctx.sizes.objects!, 8, async (i) => {
      await c.create(Kinds.MiniApp, {
        metadata: { name: `app-${i}`, namespace: ns },
        spec: { appName: `app_${i}`, type: 'WebService', categories: ['Utilities'], locations: ['KE'], versions: [{ name: '1.0.0' }], publishedVersion: '1.0.0', dataPrivacy: { protection: 'None' } },
      });
    });
    const token = await consolePerson(c, ns, [{ apiGroups: [GROUP], resources: ['miniapps'], verbs: ['get', 'list', 'watch'] }]);

    // The session, as the OIDC callback saves it; the console process finds it in its Secret.
    const store = new SessionStore({ backend: new SecretSessionBackend(c, sessions) });
    const session = store.create();
    session.tokens = { bearer: token };
    await store.save(session);

    const port = await freePort();
    mkdirSync(join(REPO_ROOT, '.bench'), { recursive: true });
    const proc = new ManagedProcess({
      name: 'console',
      command: process.execPath,
      args: [join(REPO_ROOT, 'console/server/main.ts'), `--kubeconfig=${ctx.kubeconfig}`, `--port=${port}`, `--sessions-namespace=${sessions}`, `--sessions-kubeconfig=${ctx.kubeconfig}`],
      logPath: join(REPO_ROOT, '.bench', `console-${ctx.runId}.log`),
      env: { ...process.env, NODE_ENV: 'production' },
    });
    proc.start();
    ctx.defer('stop the console', () => proc.stop());
    for (let i = 0; ; i++) {
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      const failed = proc.failure();
      if (failed) throw failed;
      if (i > 300) throw new Error('the console did not answer in 30 s');
      await sleep(100);
    }

    const path = `/apis/${API_VERSION}/namespaces/${ns}/miniapps`;
    const access = loadClusterAccess({ path: ctx.kubeconfig });
    const direct = createUpstream({ server: access.server, ca: access.ca, rejectUnauthorized: access.rejectUnauthorized, servername: access.servername });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const viaConsole = async (): Promise<number> => {
      const req = request({ agent, host: '127.0.0.1', port, path: `/k8s${path}`, headers: { cookie: `${COOKIE}=${session.id}`, accept: 'application/json' } });
      req.end();
      const [res] = (await once(req, 'response')) as [IncomingMessage];
      const n = await drain(res);
      if (res.statusCode !== 200) throw new Error(`through the console: HTTP ${res.statusCode}`);
      return n;
    };
    const straight = async (): Promise<number> => {
      const res = await direct.request({ method: 'GET', path, token, headers: { accept: 'application/json' } });
      const n = await drain(res);
      if (res.statusCode !== 200) throw new Error(`direct: HTTP ${res.statusCode}`);
      return n;
    };
    const timeIt = async (fn: () => Promise<number>): Promise<[number, number]> => {
      const t = performance.now();
      const n = await fn();
      return [performance.now() - t, n];
    };
    ctx.log(`[console] ${ctx.sizes.objects} MiniApps; warming up`);
    for (let i = 0; i < 200; i++) {
      await straight();
      await viaConsole();
    }
    const d = new Float64Array(requests);
    const p = new Float64Array(requests);
    let bytes = 0;
    ctx.log(`[console] ${requests} requests each way, alternating`);
    for (let i = 0; i < requests; i++) {
      // Alternate which goes first, so that neither always follows the other.
      if (i % 2 === 0) {
        [d[i]] = await timeIt(straight);
        [p[i], bytes] = await timeIt(viaConsole);
      } else {
        [p[i], bytes] = await timeIt(viaConsole);
        [d[i]] = await timeIt(straight);
      }
    }
    agent.destroy();
    await proc.stop();
    d.sort();
    p.sort();
    const [d50, d99, d999] = [50, 99, 99.9].map((q) => percentile(d, q)) as [number, number, number];
    const [p50, p99, p999] = [50, 99, 99.9].map((q) => percentile(p, q)) as [number, number, number];
    const added99 = p99 - d99;
    return {
      table: [
        {
          phase: `GET of ${ctx.sizes.objects} MiniApps (${bytes} bytes), ${requests} each way, one at a time`,
          figures: [
            { label: 'direct p50', value: round(d50, 2), unit: 'ms' },
            { label: 'direct p99', value: round(d99, 2), unit: 'ms' },
            { label: 'direct p99.9', value: round(d999, 2), unit: 'ms' },
            { label: 'through the console p50', value: round(p50, 2), unit: 'ms' },
            { label: 'through the console p99', value: round(p99, 2), unit: 'ms' },
            { label: 'through the console p99.9', value: round(p999, 2), unit: 'ms' },
            { label: 'p99 ratio (console / direct)', value: round(p99 / d99, 2) },
            { label: 'added p50', value: round(p50 - d50, 2), unit: 'ms' },
            { label: 'added p99', value: round(added99, 2), unit: 'ms (target < 5)' },
          ],
        },
      ],
      summary: {
        bench: 'console',
        n: requests,
        objects: ctx.sizes.objects!,
        bytes,
        directP50Ms: round(d50, 3),
        directP99Ms: round(d99, 3),
        consoleP50Ms: round(p50, 3),
        consoleP99Ms: round(p99, 3),
        p99Ratio: round(p99 / d99, 3),
        addedP99Ms: round(added99, 3),
        withinTarget: added99 < 5,
      },
    };
  },
};
