// Proxies as kubectl uses them: the environment read as Go's ProxyFromEnvironment reads it,
// the kubeconfig's proxy-url, and a real request through a CONNECT proxy on loopback to an
// https server whose name only the proxy can resolve (so a direct connection cannot work).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCA, issueCertificate } from '../pki.ts';
import { KubeClient } from './client.ts';
import { loadClusterAccess } from './kubeconfig.ts';
import { nodeSupportsProxy, proxyForDisplay, proxyFromEnvironment } from './proxy.ts';

describe('proxyFromEnvironment', () => {
  const at = (server: string, env: NodeJS.ProcessEnv) => proxyFromEnvironment(server, env);
  const P = 'http://proxy.corp:3128';

  it('takes HTTPS_PROXY for an https server, HTTP_PROXY for an http one, upper case first, http:// when the scheme is left out', () => {
    expect(at('https://api.example:6443', { HTTPS_PROXY: P })).toBe(P);
    expect(at('https://api.example:6443', { https_proxy: P })).toBe(P);
    expect(at('https://api.example:6443', { HTTPS_PROXY: P, https_proxy: 'http://other:1' })).toBe(P);
    expect(at('https://api.example:6443', { HTTP_PROXY: P })).toBeUndefined();
    expect(at('http://api.example:8080', { HTTP_PROXY: P })).toBe(P);
    expect(at('https://api.example:6443', { HTTPS_PROXY: 'proxy.corp:3128' })).toBe('http://proxy.corp:3128');
    expect(at('https://api.example:6443', {})).toBeUndefined();
  });

  it('never for localhost or a loopback address', () => {
    for (const server of ['https://localhost:6443', 'https://127.0.0.1:6443', 'https://127.3.4.5', 'https://[::1]:6443']) expect(at(server, { HTTPS_PROXY: P }), server).toBeUndefined();
  });

  it.each([
    ['*', 'https://api.example:6443', false],
    ['example', 'https://api.example:6443', false],
    ['api.example', 'https://api.example:6443', false],
    ['.example', 'https://api.example:6443', false],
    ['.api.example', 'https://api.example:6443', true],
    ['*.example', 'https://api.example:6443', false],
    ['xample', 'https://api.example:6443', true],
    ['api.example:6443', 'https://api.example:6443', false],
    ['api.example:443', 'https://api.example:6443', true],
    ['api.example:443', 'https://api.example', false],
    ['10.0.0.0/8', 'https://10.1.2.3:6443', false],
    ['10.0.0.0/8', 'https://11.1.2.3:6443', true],
    ['10.1.2.3', 'https://10.1.2.3:6443', false],
    ['10.1.2.3:6443', 'https://10.1.2.3:6443', false],
    ['10.1.2.3:80', 'https://10.1.2.3:6443', true],
    ['fd00::/8', 'https://[fd00::1]:6443', false],
    [' other.example , API.EXAMPLE ', 'https://api.example:6443', false],
  ])('NO_PROXY=%j for %s: proxied %s', (noProxy, server, proxied) => {
    expect(at(server, { HTTPS_PROXY: P, NO_PROXY: noProxy })).toBe(proxied ? P : undefined);
    expect(at(server, { HTTPS_PROXY: P, no_proxy: noProxy })).toBe(proxied ? P : undefined);
  });

  it('shows a proxy without its credentials', () => {
    expect(proxyForDisplay('http://user:secret@proxy.corp:3128/')).toBe('http://proxy.corp:3128');
  });

  it('knows which Node.js versions can use a proxy', () => {
    expect(['22.18.0', '22.20.1', '23.11.0', '24.4.1'].map((v) => nodeSupportsProxy(v))).toEqual([false, false, false, false]);
    expect(['22.21.0', '24.5.0', '24.21.0', '25.0.0'].map((v) => nodeSupportsProxy(v))).toEqual([true, true, true, true]);
  });
});

describe('requests through a proxy', () => {
  const dir = mkdtempSync(join(tmpdir(), 'proxy-test-'));
  const ca = createCA('api-ca');
  const serving = issueCertificate({ ca, commonName: 'kube-apiserver', dnsNames: ['api.cluster.test'], usages: 'server', validityDays: 1 });
  let api: Server;
  let proxy: Server;
  const tunnels: string[] = [];
  let apiPort = 0;
  let proxyUrl = '';

  beforeAll(async () => {
    api = createHttpsServer({ cert: serving.certPEM, key: serving.keyPEM }, (req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path: req.url, auth: req.headers.authorization })),
    );
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    apiPort = (api.address() as AddressInfo).port;
    // A CONNECT proxy that resolves api.cluster.test to the API server on loopback (nothing else can).
    proxy = createServer((_req, res) => res.writeHead(405).end());
    proxy.on('connect', (req, socket, head) => {
      tunnels.push(`${req.url} ${req.headers['proxy-authorization'] ?? ''}`.trim());
      const [host, port] = req.url!.split(':');
      if (host !== 'api.cluster.test') return void socket.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
      const up = connect(Number(port), '127.0.0.1', () => {
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
    await new Promise((r) => api.close(r));
    await new Promise((r) => proxy.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  const kubeconfig = (cluster: string) => {
    const path = join(dir, `k-${tunnels.length}-${Math.random().toString(36).slice(2)}`);
    writeFileSync(
      path,
      `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://api.cluster.test:${apiPort}", certificate-authority-data: ${Buffer.from(ca.certPEM).toString('base64')}${cluster}}}]\nusers: [{name: u, user: {token: t0k}}]\ncontexts: [{name: one, context: {cluster: c, user: u}}, {name: two, context: {cluster: c, user: u, namespace: ns2}}]\ncurrent-context: one\n`,
    );
    return path;
  };

  it.skipIf(!nodeSupportsProxy())("goes through HTTPS_PROXY (as the plugin passes it), the server's certificate checked end to end", async () => {
    const access = loadClusterAccess({ path: kubeconfig('') });
    const client = new KubeClient(access, { proxyUrl: proxyFromEnvironment(access.server, { HTTPS_PROXY: proxyUrl }) });
    try {
      expect(await client.request('GET', '/api')).toEqual({ path: '/api', auth: 'Bearer t0k' });
      expect(tunnels.at(-1)).toBe(`api.cluster.test:${apiPort}`);
    } finally {
      await client.close();
    }
    // Without the proxy the name does not resolve: the proxy is what made it work.
    const direct = new KubeClient(access, { timeoutMs: 5_000 });
    try {
      await expect(direct.request('GET', '/api')).rejects.toMatchObject({ code: expect.stringMatching(/ENOTFOUND|EAI_AGAIN/) });
    } finally {
      await direct.close();
    }
  });

  it.skipIf(!nodeSupportsProxy())("goes through the kubeconfig cluster's proxy-url, credentials and all, whatever the environment says", async () => {
    const withAuth = proxyUrl.replace('http://', 'http://alice:s3cret@');
    const access = loadClusterAccess({ path: kubeconfig(`, proxy-url: "${withAuth}"`) });
    expect(access.proxyUrl).toBe(withAuth);
    const client = new KubeClient(access);
    try {
      expect(await client.request('GET', '/version')).toMatchObject({ path: '/version' });
      expect(tunnels.at(-1)).toBe(`api.cluster.test:${apiPort} Basic ${Buffer.from('alice:s3cret').toString('base64')}`);
    } finally {
      await client.close();
    }
  });

  it('refuses a SOCKS proxy-url in one line that names the cluster and not the password, and --context picks another context', () => {
    expect(() => loadClusterAccess({ path: kubeconfig(', proxy-url: "socks5://bob:hunter2@socks.corp:1080"') })).toThrow(
      /cluster c has proxy-url socks5:\/\/socks\.corp:1080: only http:\/\/ and https:\/\/ proxies are supported \(not SOCKS\)$/,
    );
    const path = kubeconfig('');
    expect(loadClusterAccess({ path }).namespace).toBeUndefined();
    expect(loadClusterAccess({ path, context: 'two' })).toMatchObject({ namespace: 'ns2', source: `kubeconfig ${path} (context two)` });
    expect(() => loadClusterAccess({ path, context: 'three' })).toThrow(`kubeconfig ${path} has no context named three`);
  });
});
