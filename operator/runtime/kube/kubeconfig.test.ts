import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadConfig } from '../config.ts';
import { createCA, issueCertificate } from '../pki.ts';
import { NoClusterConfigError, loadClusterAccess } from './kubeconfig.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kubeconfig-test-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const b64 = (s: string) => Buffer.from(s).toString('base64');

function kubeconfig(opts: { cluster?: Record<string, unknown>; user?: Record<string, unknown>; current?: string | null; userName?: string; omit?: ('clusters' | 'users')[] } = {}) {
  const doc: Record<string, unknown> = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'c1', cluster: { server: 'https://api.example:6443/', ...opts.cluster } }],
    contexts: [{ name: 'ctx', context: { cluster: 'c1', user: opts.userName ?? 'u1' } }],
    users: [{ name: 'u1', user: opts.user ?? { token: 'static-token' } }],
  };
  if (opts.current !== null) doc['current-context'] = opts.current ?? 'ctx';
  for (const k of opts.omit ?? []) delete doc[k];
  return doc;
}

function write(name: string, doc: unknown): string {
  const p = join(dir, name);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, typeof doc === 'string' ? doc : stringify(doc));
  return p;
}

// An environment with none of KUBECONFIG, in-cluster variables or a home kubeconfig.
const emptyEnv = () => ({ HOME: join(dir, 'nohome') });

describe('loadClusterAccess from a kubeconfig', () => {
  it('reads server, embedded certificate data, TLS settings and a token', async () => {
    const p = write(
      'config',
      kubeconfig({
        cluster: { 'certificate-authority-data': b64('CA PEM'), 'tls-server-name': 'kubernetes', 'insecure-skip-tls-verify': false },
        user: { 'client-certificate-data': b64('CERT PEM'), 'client-key-data': b64('KEY PEM'), token: 'tok' },
      }),
    );
    const a = loadClusterAccess({ path: p, env: emptyEnv() });
    expect(a.server).toBe('https://api.example:6443');
    expect(String(a.ca)).toBe('CA PEM');
    expect(String(a.cert)).toBe('CERT PEM');
    expect(String(a.key)).toBe('KEY PEM');
    expect(a.rejectUnauthorized).toBe(true);
    expect(a.servername).toBe('kubernetes');
    expect(await a.headers()).toEqual({ Authorization: 'Bearer tok' });
    expect(a.source).toContain(p);
  });

  it('resolves certificate, key and token files against the kubeconfig directory', async () => {
    write('sub/pki/ca.crt', 'CA FILE');
    write('sub/pki/client.crt', 'CERT FILE');
    write('sub/pki/client.key', 'KEY FILE');
    write('sub/token', 'file-token-1\n');
    const p = write(
      'sub/config',
      kubeconfig({
        cluster: { 'certificate-authority': 'pki/ca.crt', 'insecure-skip-tls-verify': true },
        user: { 'client-certificate': 'pki/client.crt', 'client-key': join(dir, 'sub/pki/client.key'), tokenFile: 'token' },
      }),
    );
    let now = 1_000_000;
    const a = loadClusterAccess({ path: p, env: emptyEnv(), now: () => now });
    expect(String(a.ca)).toBe('CA FILE');
    expect(String(a.cert)).toBe('CERT FILE');
    expect(String(a.key)).toBe('KEY FILE');
    expect(a.rejectUnauthorized).toBe(false);
    expect(await a.headers()).toEqual({ Authorization: 'Bearer file-token-1' });
    // The file is re-read once a minute, and at once after refresh() (a 401).
    write('sub/token', 'file-token-2');
    expect(await a.headers()).toEqual({ Authorization: 'Bearer file-token-1' });
    now += 61_000;
    expect(await a.headers()).toEqual({ Authorization: 'Bearer file-token-2' });
    write('sub/token', 'file-token-3');
    a.refresh();
    expect(await a.headers()).toEqual({ Authorization: 'Bearer file-token-3' });
  });

  it('reloads the certificate files of a kubeconfig when they change (client-certificate, client-key, certificate-authority), which were read once', () => {
    const ca1 = createCA('ca-1');
    const ca2 = createCA('ca-2');
    const issue = () => issueCertificate({ ca: ca1, commonName: 'operator', usages: 'client', validityDays: 1 });
    const [first, second] = [issue(), issue()];
    // Each rewrite gets an mtime of its own, whatever the file system's resolution.
    let mtime = 1_700_000_000;
    const put = (name: string, text: string) => {
      write(name, text);
      utimesSync(join(dir, name), mtime, ++mtime);
    };
    put('pki/ca.crt', ca1.certPEM);
    put('pki/client.crt', first.certPEM);
    put('pki/client.key', first.keyPEM);
    const p = write('config', kubeconfig({ cluster: { 'certificate-authority': 'pki/ca.crt' }, user: { 'client-certificate': 'pki/client.crt', 'client-key': 'pki/client.key' } }));
    let now = 0;
    const a = loadClusterAccess({ path: p, env: emptyEnv(), now: () => now, certFileRefreshMs: 60_000 });
    const cert0 = a.cert;
    expect(String(cert0)).toBe(first.certPEM);
    // The certificate is rewritten first: until its key follows, the old pair stays.
    put('pki/client.crt', second.certPEM);
    put('pki/ca.crt', ca2.certPEM);
    now = 30_000;
    expect(String(a.ca)).toBe(ca1.certPEM); // not looked at again yet
    now = 61_000;
    expect(String(a.ca)).toBe(ca2.certPEM);
    expect(a.cert).toBe(cert0);
    put('pki/client.key', second.keyPEM);
    now = 122_000;
    expect(String(a.cert)).toBe(second.certPEM);
    expect(String(a.key)).toBe(second.keyPEM);
    // Unchanged files give the same buffers, so the client keeps its connections.
    const cert1 = a.cert;
    now = 500_000;
    expect(a.cert).toBe(cert1);
    // A file gone for a moment (rotation by rename) keeps the previous value.
    rmSync(join(dir, 'pki/ca.crt'));
    now = 600_000;
    expect(String(a.ca)).toBe(ca2.certPEM);
  });

  it('sends basic authentication for username and password', async () => {
    const a = loadClusterAccess({ path: write('config', kubeconfig({ user: { username: 'admin', password: 's3cret' } })), env: emptyEnv() });
    expect(await a.headers()).toEqual({ Authorization: `Basic ${b64('admin:s3cret')}` });
  });

  it('honours the impersonation of a kubeconfig user (as, as-uid, as-groups, as-user-extra), which was silently ignored', () => {
    const user = { token: 't', as: 'alice@example.com', 'as-uid': 'u-42', 'as-groups': ['devs', 'ops'], 'as-user-extra': { 'acme.dev/team': ['blue', 'green'], scopes: ['view'] } };
    const a = loadClusterAccess({ path: write('config', kubeconfig({ user })), env: emptyEnv() });
    expect(a.impersonate).toEqual({ user: 'alice@example.com', uid: 'u-42', groups: ['devs', 'ops'], extra: { 'acme.dev/team': ['blue', 'green'], scopes: ['view'] } });
    expect(loadClusterAccess({ path: write('plain', kubeconfig()), env: emptyEnv() }).impersonate).toBeUndefined();
    expect(loadClusterAccess({ path: write('only-as', kubeconfig({ user: { token: 't', as: 'bob' } })), env: emptyEnv() }).impersonate).toEqual({ user: 'bob' });
    // Groups without a user: the API server would refuse every request; say so at start.
    expect(() => loadClusterAccess({ path: write('groups', kubeconfig({ user: { token: 't', 'as-groups': ['devs'] } })), env: emptyEnv() })).toThrow(
      /user u1 impersonates groups without a user: set "as" too/,
    );
    expect(() => loadClusterAccess({ path: write('bad', kubeconfig({ user: { token: 't', as: 'x', 'as-user-extra': { k: 'v' } } })), env: emptyEnv() })).toThrow(
      /"as-user-extra" k is not a list of strings/,
    );
  });

  it('allows a context without a user and a plain http server', async () => {
    const doc = kubeconfig({ cluster: { server: 'http://127.0.0.1:8080' } });
    (doc.contexts as { context: Record<string, unknown> }[])[0]!.context = { cluster: 'c1' };
    const a = loadClusterAccess({ path: write('config', doc), env: emptyEnv() });
    expect(a.server).toBe('http://127.0.0.1:8080');
    expect(await a.headers()).toEqual({});
  });

  it.each([
    ['the user is not defined', kubeconfig({ userName: 'ghost' }), /context ctx names user ghost which the kubeconfig does not define/],
    ['the cluster is not defined', kubeconfig({ omit: ['clusters'] }), /context ctx names cluster c1 which the kubeconfig does not define/],
    ['there is no current-context', kubeconfig({ current: null }), /sets no current-context/],
    ['the current-context is unknown', kubeconfig({ current: 'other' }), /current-context other is not among its contexts/],
    ['the cluster has no server', kubeconfig({ cluster: { server: '' } }), /cluster c1 has no server/],
    ['a certificate file is missing', kubeconfig({ cluster: { 'certificate-authority': 'missing/ca.crt' } }), /cannot read certificate-authority of cluster c1 .*missing\/ca\.crt/],
    ['a client key is missing', kubeconfig({ user: { 'client-certificate-data': b64('C') } }), /user u1 has a client certificate but no key/],
    ['an auth-provider is used', kubeconfig({ user: { 'auth-provider': { name: 'oidc' } } }), /auth-provider oidc, which is not supported; use an exec credential plugin/],
    ['the YAML is broken', 'clusters: [', /is not valid YAML/],
  ])('fails clearly when %s', (_what, doc, message) => {
    const p = write('config', doc);
    expect(() => loadClusterAccess({ path: p, env: emptyEnv() })).toThrow(message);
  });

  it('names a missing explicit kubeconfig', () => {
    expect(() => loadClusterAccess({ path: join(dir, 'nope'), env: emptyEnv() })).toThrow(/Cannot read kubeconfig .*nope/);
  });
});

describe('loadClusterAccess: where it looks', () => {
  it('takes an explicit path over KUBECONFIG', () => {
    const explicit = write('explicit', kubeconfig({ cluster: { server: 'https://explicit' } }));
    const env = write('env', kubeconfig({ cluster: { server: 'https://env' } }));
    expect(loadClusterAccess({ path: explicit, env: { KUBECONFIG: env } }).server).toBe('https://explicit');
    expect(loadClusterAccess({ env: { KUBECONFIG: env, KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' } }).server).toBe('https://env');
  });

  it('merges a KUBECONFIG list: first file with a current-context, first definition of each entry, missing files skipped', async () => {
    write('a/token', 'tok-from-b-dir');
    const first = write('a/config', { 'current-context': 'ctx', contexts: [{ name: 'ctx', context: { cluster: 'c1', user: 'u1' } }] });
    const second = write('b/config', {
      'current-context': 'ignored',
      clusters: [{ name: 'c1', cluster: { server: 'https://merged', 'certificate-authority': 'ca.crt' } }],
      users: [{ name: 'u1', user: { tokenFile: '../a/token' } }],
    });
    write('b/ca.crt', 'CA B');
    const third = write('c/config', kubeconfig({ cluster: { server: 'https://third' } }));
    const a = loadClusterAccess({ env: { KUBECONFIG: [join(dir, 'missing'), first, second, third].join(':') } });
    expect(a.server).toBe('https://merged');
    expect(String(a.ca)).toBe('CA B');
    expect(await a.headers()).toEqual({ Authorization: 'Bearer tok-from-b-dir' });
  });

  it('KUBECONFIG=a:b is a list merged as kubectl merges it, not one path (the operator failed to start)', async () => {
    const a = write('a/config', { 'current-context': 'ctx', contexts: [{ name: 'ctx', context: { cluster: 'c1', user: 'u1' } }], users: [{ name: 'u1', user: { token: 'from-a' } }] });
    const b = write('b/config', kubeconfig({ cluster: { server: 'https://from-b' }, user: { token: 'from-b' }, current: 'other' }));
    const env = { KUBECONFIG: [a, join(dir, 'missing'), b].join(':'), HOME: join(dir, 'nohome') };
    // As the operator does it: the configuration, then the cluster it names.
    const cfg = loadConfig([], env);
    const access = loadClusterAccess({ path: cfg.kubeconfig, paths: cfg.kubeconfigPaths, env });
    expect(access.server).toBe('https://from-b');
    expect(await access.headers()).toEqual({ Authorization: 'Bearer from-a' });
    // The flag stays one path, even with the delimiter in it; it wins over the list.
    const odd = write('odd:name', kubeconfig({ cluster: { server: 'https://odd' } }));
    const flagged = loadConfig([`--kubeconfig=${odd}`], env);
    expect(flagged.kubeconfig).toBe(odd);
    expect(flagged.kubeconfigPaths).toBeUndefined();
    expect(loadClusterAccess({ path: flagged.kubeconfig, paths: flagged.kubeconfigPaths, env }).server).toBe('https://odd');
    // A list whose files are all missing is an error, not a fall-back.
    const gone = loadConfig([], { KUBECONFIG: `${join(dir, 'x')}:${join(dir, 'y')}` });
    expect(() => loadClusterAccess({ path: gone.kubeconfig, paths: gone.kubeconfigPaths, env: emptyEnv() })).toThrow(/no file of KUBECONFIG=.*x:.*y exists/);
  });

  it('uses the in-cluster service account when there is no KUBECONFIG, re-reading the rotating token', async () => {
    const sa = join(dir, 'sa');
    write('sa/token', 'sa-token-1');
    write('sa/ca.crt', 'SA CA');
    write('home/.kube/config', kubeconfig({ cluster: { server: 'https://home' } }));
    let now = 0;
    const a = loadClusterAccess({ env: { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443', HOME: join(dir, 'home') }, serviceAccountDir: sa, now: () => now });
    expect(a.server).toBe('https://10.96.0.1:443');
    expect(String(a.ca)).toBe('SA CA');
    expect(a.rejectUnauthorized).toBe(true);
    expect(await a.headers()).toEqual({ Authorization: 'Bearer sa-token-1' });
    write('sa/token', 'sa-token-2');
    now += 30_000;
    expect(await a.headers()).toEqual({ Authorization: 'Bearer sa-token-1' });
    now += 31_000;
    expect(await a.headers()).toEqual({ Authorization: 'Bearer sa-token-2' });
    // The projected CA is re-read too when it changes (cluster CA rotation).
    write('sa/ca.crt', 'SA CA 2');
    utimesSync(join(sa, 'ca.crt'), 1_700_000_000, 1_700_000_000);
    now += 61_000;
    expect(String(a.ca)).toBe('SA CA 2');
  });

  it('brackets an IPv6 service host and names a missing service account file', () => {
    const sa = join(dir, 'sa');
    write('sa/token', 't');
    write('sa/ca.crt', 'CA');
    expect(loadClusterAccess({ env: { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, serviceAccountDir: sa }).server).toBe('https://[fd00::1]:443');
    rmSync(join(sa, 'token'));
    expect(() => loadClusterAccess({ env: { KUBERNETES_SERVICE_HOST: 'h', KUBERNETES_SERVICE_PORT: '443' }, serviceAccountDir: sa })).toThrow(/in-cluster service account: cannot read .*sa\/token/);
  });

  it('reads the service account directory of MINIAPPS_TEST_SERVICE_ACCOUNT_DIR when given (tests run the in-cluster path out of cluster)', async () => {
    write('other-sa/token', 'from-the-variable');
    write('other-sa/ca.crt', 'CA');
    const a = loadClusterAccess({ env: { KUBERNETES_SERVICE_HOST: 'h', KUBERNETES_SERVICE_PORT: '6443', MINIAPPS_TEST_SERVICE_ACCOUNT_DIR: join(dir, 'other-sa') } });
    expect(await a.headers()).toEqual({ Authorization: 'Bearer from-the-variable' });
  });

  it('falls back to ~/.kube/config, then fails with the operator message', () => {
    write('home/.kube/config', kubeconfig({ cluster: { server: 'https://home' } }));
    expect(loadClusterAccess({ env: { HOME: join(dir, 'home') } }).server).toBe('https://home');
    expect(() => loadClusterAccess({ env: emptyEnv() })).toThrow(NoClusterConfigError);
    expect(() => loadClusterAccess({ env: emptyEnv() })).toThrow('No Kubernetes cluster configured: pass --kubeconfig or set KUBECONFIG');
  });

  it('does not fall back past a KUBECONFIG whose files are all missing', () => {
    write('home/.kube/config', kubeconfig());
    expect(() => loadClusterAccess({ env: { KUBECONFIG: join(dir, 'gone'), HOME: join(dir, 'home') } })).toThrow(/no file of KUBECONFIG=.*gone exists/);
  });
});

describe('exec credential plugins', () => {
  // Prints an ExecCredential; counts its runs and keeps KUBERNETES_EXEC_INFO for the test.
  const plugin = `#!/bin/sh
echo run >> "$COUNT_FILE"
printf '%s' "$KUBERNETES_EXEC_INFO" > "$INFO_FILE"
if [ "$MODE" = cert ]; then
  printf '{"apiVersion":"%s","kind":"ExecCredential","status":{"clientCertificateData":"EXEC CERT %s","clientKeyData":"EXEC KEY"}}' "$API" "$1"
else
  printf '{"apiVersion":"%s","kind":"ExecCredential","status":{"token":"exec-%s","expirationTimestamp":"2030-01-01T00:00:00Z"}}' "$API" "$1"
fi
`;
  const runs = () => readFileSync(join(dir, 'count'), 'utf8').trim().split('\n').length;

  function execConfig(apiVersion: string, mode: 'token' | 'cert', extra: Record<string, unknown> = {}) {
    write('bin/plugin.sh', plugin);
    chmodSync(join(dir, 'bin/plugin.sh'), 0o755);
    return write(
      'config',
      kubeconfig({
        cluster: { 'certificate-authority-data': b64('CA') },
        user: {
          exec: {
            apiVersion,
            command: './bin/plugin.sh',
            args: ['arg1'],
            env: [
              { name: 'COUNT_FILE', value: join(dir, 'count') },
              { name: 'INFO_FILE', value: join(dir, 'info') },
              { name: 'MODE', value: mode },
              { name: 'API', value: apiVersion },
            ],
            ...extra,
          },
        },
      }),
    );
  }

  it.each(['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1'])('runs a %s plugin and caches its token until it expires', async (apiVersion) => {
    let now = Date.parse('2029-12-31T23:00:00Z');
    const a = loadClusterAccess({ path: execConfig(apiVersion, 'token', { provideClusterInfo: true }), env: emptyEnv(), now: () => now });
    const [h1, h2] = await Promise.all([a.headers(), a.headers()]);
    expect(h1).toEqual({ Authorization: 'Bearer exec-arg1' });
    expect(h2).toEqual(h1);
    expect(await a.headers()).toEqual(h1);
    expect(runs()).toBe(1);
    const info = JSON.parse(readFileSync(join(dir, 'info'), 'utf8')) as { apiVersion: string; kind: string; spec: { interactive: boolean; cluster?: Record<string, unknown> } };
    expect(info).toMatchObject({ apiVersion, kind: 'ExecCredential', spec: { interactive: false, cluster: { server: 'https://api.example:6443', 'certificate-authority-data': b64('CA') } } });
    now = Date.parse('2030-01-01T00:00:01Z');
    await a.headers();
    expect(runs()).toBe(2);
    // A 401 forgets the credential even before it expires.
    a.refresh();
    await a.headers();
    expect(runs()).toBe(3);
  });

  it('takes a client certificate and key from the plugin', async () => {
    const a = loadClusterAccess({ path: execConfig('client.authentication.k8s.io/v1', 'cert'), env: emptyEnv() });
    expect(a.cert).toBeUndefined();
    expect(await a.headers()).toEqual({});
    expect(a.cert).toBe('EXEC CERT arg1');
    expect(a.key).toBe('EXEC KEY');
    await a.headers();
    expect(runs()).toBe(1); // no expiry: kept until a 401
  });

  it('fails clearly when the plugin fails or is missing', async () => {
    const p = execConfig('client.authentication.k8s.io/v1', 'token', { command: join(dir, 'no-such-plugin'), installHint: 'Install the plugin with: brew install it' });
    const a = loadClusterAccess({ path: p, env: emptyEnv() });
    await expect(a.headers()).rejects.toThrow(/exec plugin of user u1: .*no-such-plugin failed \(ENOENT\)\nInstall the plugin/);
    const bad = execConfig('client.authentication.k8s.io/v1alpha1', 'token');
    expect(() => loadClusterAccess({ path: bad, env: emptyEnv() })).toThrow(/apiVersion client.authentication.k8s.io\/v1alpha1; supported/);
  });
});
