// The plugin's one-line messages when the API server cannot be reached or there is no
// kubeconfig, through the real client (a refused connection) and run's exit code.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KubeClient } from '../runtime/kube/client.ts';
import { loadClusterAccess } from '../runtime/kube/kubeconfig.ts';
import { KubePluginApi } from './api.ts';
import { connectionFailure, noKubeconfig, withConnectionErrors } from './connection.ts';
import { EXIT, run } from './plugin.ts';

const dir = mkdtempSync(join(tmpdir(), 'plugin-connection-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A loopback port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const kubeconfig = (server: string) => {
  const path = join(dir, `kubeconfig-${Math.random().toString(36).slice(2)}`);
  writeFileSync(
    path,
    `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "${server}", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: ctx, context: {cluster: c, user: u, namespace: ns1}}]
current-context: ctx
`,
  );
  return path;
};

describe('connection errors', () => {
  it('a refused connection is one line naming the server and the kubeconfig, exit 1', async () => {
    const server = `https://127.0.0.1:${await closedPort()}`;
    const path = kubeconfig(server);
    const access = loadClusterAccess({ path });
    const client = new KubeClient(access, { timeoutMs: 5_000 });
    const err: string[] = [];
    try {
      const code = await run(['list'], {
        io: { out: () => {}, err: (t) => err.push(t), readLine: async () => undefined },
        connect: () => ({ api: withConnectionErrors(new KubePluginApi(client), access), defaultNamespace: 'ns1' }),
      });
      expect(code).toBe(EXIT.error);
    } finally {
      await client.close();
    }
    expect(err.join('')).toBe(`error: cannot connect to the API server ${server} (kubeconfig ${path} (context ctx)): connection refused (ECONNREFUSED)\n`);
  });

  it('names DNS, timeout and certificate failures, and leaves other errors alone', () => {
    const at = { server: 'https://api.example:6443', source: 'kubeconfig /k (context c)' };
    const errno = (code: string, message = code) => Object.assign(new Error(message), { code });
    expect(connectionFailure(errno('ENOTFOUND'), at)).toBe('cannot connect to the API server https://api.example:6443 (kubeconfig /k (context c)): no such host (ENOTFOUND)');
    expect(connectionFailure(errno('ETIMEDOUT'), at)).toMatch(/: timed out \(ETIMEDOUT\)$/);
    expect(connectionFailure(errno('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'), at)).toBe(
      "cannot connect to the API server https://api.example:6443 (kubeconfig /k (context c)): the server's certificate is not trusted: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)",
    );
    expect(connectionFailure(new Error('boom'), at)).toBeUndefined();
    expect(connectionFailure(errno('ENOENT'), at)).toBeUndefined();
  });

  it('no kubeconfig: says where it looked', () => {
    const none = (env: NodeJS.ProcessEnv) => {
      try {
        loadClusterAccess({ env, home: join(dir, 'no-home') });
      } catch (err) {
        return noKubeconfig(err, env);
      }
      throw new Error('loadClusterAccess found a cluster');
    };
    expect(none({})).toBe('no kubeconfig: ~/.kube/config does not exist and neither --kubeconfig nor KUBECONFIG is set');
    expect(none({ KUBECONFIG: join(dir, 'nope') })).toBe(`no kubeconfig: no file of KUBECONFIG=${join(dir, 'nope')} exists; pass --kubeconfig PATH or fix KUBECONFIG`);
    expect(noKubeconfig(new Error('other'))).toBeUndefined();
  });
});
