// The plugin's entry point (operator/cli/kubectl-miniapps.ts) run as a person runs it, a
// process of its own, against a small API server on loopback: --context picks the
// kubeconfig context, HTTPS_PROXY (or the cluster's proxy-url) carries the requests, and
// --request-timeout bounds a request the server never answers.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCA, issueCertificate } from '../runtime/pki.ts';
import { nodeSupportsProxy } from '../runtime/kube/proxy.ts';

const ENTRY = fileURLToPath(new URL('../cli/kubectl-miniapps.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'plugin-entry-'));
const ca = createCA('api-ca');
const serving = issueCertificate({ ca, commonName: 'kube-apiserver', dnsNames: ['api.cluster.test'], ipAddresses: ['127.0.0.1'], usages: 'server', validityDays: 1 });
const requests: string[] = [];
const tunnels: string[] = [];
let api: Server;
let proxy: Server;
let apiPort = 0;
let proxyUrl = '';

const miniApp = (name: string) => ({ metadata: { name, namespace: 'ns2' }, spec: { appName: name, type: 'Numeric', categories: ['Travel'] }, status: { organization: 'acme' } });

beforeAll(async () => {
  api = createHttpsServer({ cert: serving.certPEM, key: serving.keyPEM }, (req: IncomingMessage, res) => {
    requests.push(`${req.method} ${req.url} ${req.headers['impersonate-user'] ?? ''} ${(req.headersDistinct['impersonate-group'] ?? []).join('|')}`.trim());
    if (req.url?.startsWith('/apis/miniapps.dev/v1alpha1/namespaces/slow/')) return; // never answers
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ metadata: { resourceVersion: '1' }, items: [miniApp('fx-rates')] }));
  });
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
  apiPort = (api.address() as AddressInfo).port;
  proxy = createServer((_req, res) => res.writeHead(405).end());
  proxy.on('connect', (req, socket, head) => {
    tunnels.push(req.url!);
    const up = connect(apiPort, '127.0.0.1', () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    up.on('error', () => socket.destroy());
    socket.on('error', () => up.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});

afterAll(async () => {
  api.closeAllConnections();
  await new Promise((r) => api.close(r));
  await new Promise((r) => proxy.close(r));
  rmSync(dir, { recursive: true, force: true });
});

/** A kubeconfig whose current context is `gone` (a closed port), with `real` (loopback) and `named` (api.cluster.test, which only the proxy resolves). */
function kubeconfig(): string {
  const path = join(dir, `kubeconfig-${Math.random().toString(36).slice(2)}`);
  const caData = Buffer.from(ca.certPEM).toString('base64');
  writeFileSync(
    path,
    `apiVersion: v1
kind: Config
clusters:
- {name: gone, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}
- {name: real, cluster: {server: "https://127.0.0.1:${apiPort}", certificate-authority-data: ${caData}}}
- {name: named, cluster: {server: "https://api.cluster.test:${apiPort}", certificate-authority-data: ${caData}}}
users: [{name: u, user: {token: t}}]
contexts:
- {name: gone, context: {cluster: gone, user: u}}
- {name: real, context: {cluster: real, user: u, namespace: ns2}}
- {name: named, context: {cluster: named, user: u, namespace: ns2}}
current-context: gone
`,
  );
  return path;
}

function plugin(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [ENTRY, ...args], { env: { PATH: process.env.PATH, HOME: dir, ...env }, encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ stdout, stderr, code: err ? (typeof err.code === 'number' ? err.code : -1) : 0 }),
    );
  });
}

const TABLE = 'NAME       ORGANIZATION   TYPE      CATEGORIES   PUBLISHED   SUPER APPS\nfx-rates   acme           Numeric   Travel       <none>      <none>\n';

describe('kubectl-miniapps, as a process', () => {
  it('--context picks a context other than the current one (its namespace too); an unknown one is one line, exit 1', async () => {
    const path = kubeconfig();
    const real = await plugin(['list', '--kubeconfig', path, '--context', 'real', '--as', 'thandi', '--as-group', 'field executives', '--as-group', 'ops']);
    expect(real).toEqual({ stdout: TABLE, stderr: '', code: 0 });
    expect(requests.at(-1)).toBe('GET /apis/miniapps.dev/v1alpha1/namespaces/ns2/miniapps?limit=500 thandi field executives|ops');
    const current = await plugin(['list', '--kubeconfig', path]);
    expect(current).toMatchObject({ stdout: '', code: 1 });
    expect(current.stderr).toMatch(/^error: cannot connect to the API server https:\/\/127\.0\.0\.1:1 \(kubeconfig .* \(context gone\)\): connection refused \(ECONNREFUSED\)\n$/);
    expect(await plugin(['list', '--kubeconfig', path, '--context', 'nope'])).toEqual({ stdout: '', stderr: `error: kubeconfig ${path} has no context named nope\n`, code: 1 });
  });

  it.skipIf(!nodeSupportsProxy())('goes through HTTPS_PROXY as kubectl does, and not for the hosts NO_PROXY names', async () => {
    const path = kubeconfig();
    const before = tunnels.length;
    expect(await plugin(['list', '--kubeconfig', path, '--context', 'named'], { HTTPS_PROXY: proxyUrl })).toEqual({ stdout: TABLE, stderr: '', code: 0 });
    expect(tunnels.slice(before)).toEqual([`api.cluster.test:${apiPort}`]);
    // NO_PROXY names the server: a direct connection, which cannot resolve the name.
    const direct = await plugin(['list', '--kubeconfig', path, '--context', 'named'], { HTTPS_PROXY: proxyUrl, NO_PROXY: '.cluster.test' });
    expect(direct.code).toBe(1);
    expect(direct.stderr).toMatch(/^error: cannot connect to the API server https:\/\/api\.cluster\.test:\d+ \(kubeconfig .* \(context named\)\): (no such host|name lookup failed)/);
    expect(tunnels.length).toBe(before + 1);
    // A proxy that is not there is named in the message (without its credentials).
    const gone = await plugin(['list', '--kubeconfig', path, '--context', 'named'], { HTTPS_PROXY: 'http://user:secret@127.0.0.1:1' });
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('through the proxy http://127.0.0.1:1');
    expect(gone.stderr).not.toContain('secret');
  });

  it('--request-timeout ends a request the server does not answer, in one line naming it, exit 1', async () => {
    const path = kubeconfig();
    const started = Date.now();
    const slow = await plugin(['list', '--kubeconfig', path, '--context', 'real', '-n', 'slow', '--request-timeout', '1s']);
    expect(slow).toEqual({
      stdout: '',
      stderr: `error: the API server https://127.0.0.1:${apiPort} did not answer GET /apis/miniapps.dev/v1alpha1/namespaces/slow/miniapps within 1s (--request-timeout)\n`,
      code: 1,
    });
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});
