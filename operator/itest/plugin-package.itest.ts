// The kubectl plugin as users get it: `npm run package` (its script, into a directory of
// the test's) makes the plugin, its archive and krew manifest; krew itself installs it
// from a local plugin index (a git repository holding plugins/miniapps.yaml, as
// krew-index does) whose uri is served over loopback HTTP; then `kubectl miniapps` (the
// control plane's kubectl, finding $KREW_ROOT/bin on PATH) runs against the control plane.
// And the same file on the machine's older Node (/usr/bin/node, v20 here): one line, exit 1.
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { KubeClient } from '../runtime/kube/client.ts';
import { Resources } from '../runtime/kube/resource.ts';
import { Kinds } from '../api/registry.ts';
import { ControlPlane } from '../testenv/index.ts';
import { findTool } from '../testenv/tools.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; engines: { node: string } };
const VERSION = PACKAGE.version;
const NEED = PACKAGE.engines.node.replace(/^>=\s*/, ''); // 22.18
const ARCHIVE = `kubectl-miniapps_${VERSION}_linux_amd64.tar.gz`;
const krew = findTool('krew');
const OLD_NODE = '/usr/bin/node';

interface Result {
  stdout: string;
  stderr: string;
  code: number;
}

function exec(file: string, args: string[], env: NodeJS.ProcessEnv, timeout = 120_000): Promise<Result> {
  return new Promise((resolve) => {
    execFile(file, args, { env, encoding: 'utf8', timeout, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ stdout, stderr: err && typeof err.code !== 'number' ? `${stderr}${err.message}` : stderr, code: err ? (typeof err.code === 'number' ? err.code : 1) : 0 }),
    );
  });
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** The version of `node` at `path` (v20.20.2) when it is older than NEED, else undefined (with a warning: the case is skipped). */
function olderNode(path: string): string | undefined {
  let version: string | undefined;
  try {
    version = existsSync(path) ? execFileSync(path, ['--version'], { encoding: 'utf8' }).trim() : undefined;
  } catch {
    version = undefined;
  }
  const [major, minor] = (version ?? 'v0.0').slice(1).split('.').map(Number) as [number, number];
  const [needMajor, needMinor] = NEED.split('.').map(Number) as [number, number];
  if (version && (major < needMajor || (major === needMajor && minor < needMinor))) return version;
  console.warn(`${path} is ${version ?? 'not there'}, not a Node.js older than ${NEED}: the old-Node case is skipped`);
  return undefined;
}

let cp: ControlPlane;
let admin: KubeClient;
let server: Server;
const served: string[] = [];
const dir = mkdtempSync(join(tmpdir(), 'plugin-package-'));
const out = join(dir, 'dist');
const krewRoot = join(dir, 'krew');
let releaseUrl = '';

beforeAll(async () => {
  cp = await ControlPlane.start({ crdDir: join(ROOT, 'crds') });
  admin = KubeClient.fromKubeconfig(cp.kubeconfigPath, { fieldManager: 'test' });
  // Where the release archive is downloaded from, as a release page would serve it.
  server = createServer((req, res) => {
    served.push(`${req.method} ${req.url}`);
    const file = join(out, ARCHIVE);
    if (req.url !== `/releases/${ARCHIVE}` || !existsSync(file)) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/gzip' }).end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  releaseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/releases`;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await admin?.close();
  await cp?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The environment of a person with krew's bin directory, kubectl and Node 24 on PATH (and `firstOnPath` before them). */
const userEnv = (firstOnPath: string[] = []): NodeJS.ProcessEnv => ({
  HOME: process.env.HOME,
  KREW_ROOT: krewRoot,
  KREW_NO_UPGRADE_CHECK: '1',
  PATH: [...firstOnPath, join(krewRoot, 'bin'), cp.binDir, dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(':'),
});
const kubectl = (args: string[], env: NodeJS.ProcessEnv = userEnv()) => exec(join(cp.binDir, 'kubectl'), args, { ...env, KUBECONFIG: cp.kubeconfigPath });

describe('the kubectl plugin, packaged and installed with krew', () => {
  it('npm run package writes the plugin, its archive (the same bytes twice) and krew manifest', async () => {
    const pack = (to: string) => exec(process.execPath, [join(ROOT, 'operator/cli/package.ts'), `--out=${to}`, `--release-url=${releaseUrl}`], { ...process.env });
    const first = await pack(out);
    expect(first.stderr.replace(/^.*helm not found.*\n/m, '')).toBe('');
    expect(first.code).toBe(0);
    const manifest = parse(readFileSync(join(out, 'krew/miniapps.yaml'), 'utf8'));
    expect(manifest.spec.version).toBe(`v${VERSION}`);
    expect(manifest.spec.platforms[0].uri).toBe(`${releaseUrl}/${ARCHIVE}`);
    expect(manifest.spec.platforms[0].sha256).toBe(sha256(join(out, ARCHIVE)));
    const again = await pack(join(dir, 'again'));
    expect(again.code).toBe(0);
    expect(sha256(join(dir, 'again', ARCHIVE))).toBe(sha256(join(out, ARCHIVE)));
    expect(readFileSync(join(dir, 'again', 'kubectl-miniapps'), 'utf8')).toBe(readFileSync(join(out, 'kubectl-miniapps'), 'utf8'));
  });

  it.skipIf(!krew)('krew installs it from a local index, and kubectl miniapps runs against the control plane', async () => {
    // The index: a git repository with plugins/miniapps.yaml, as krew-index is.
    const index = join(dir, 'index');
    mkdirSync(join(index, 'plugins'), { recursive: true });
    writeFileSync(join(index, 'plugins/miniapps.yaml'), readFileSync(join(out, 'krew/miniapps.yaml')));
    const git = (...args: string[]) => exec('git', ['-C', index, '-c', 'user.name=test', '-c', 'user.email=test@example.com', ...args], { ...process.env, GIT_CONFIG_NOSYSTEM: '1' });
    for (const args of [
      ['init', '-q', '-b', 'main'],
      ['add', '.'],
      ['commit', '-q', '-m', 'miniapps'],
    ])
      expect(await git(...args)).toMatchObject({ code: 0 });

    const env = userEnv();
    const added = await exec(krew!, ['index', 'add', 'local', index], env);
    expect(added, added.stderr).toMatchObject({ code: 0 });
    const installed = await exec(krew!, ['install', 'local/miniapps'], env);
    expect(installed, installed.stderr).toMatchObject({ code: 0 });
    expect(installed.stderr).toContain('Installed plugin: miniapps');
    expect(served).toContain(`GET /releases/${ARCHIVE}`);
    const listed = await exec(krew!, ['list'], env);
    expect(listed.stdout).toBe('local/miniapps\n'); // (not a terminal: names only)
    expect(existsSync(join(krewRoot, `store/miniapps/v${VERSION}/kubectl-miniapps`))).toBe(true);

    expect(await kubectl(['miniapps', '--version'])).toEqual({ stdout: `kubectl-miniapps ${VERSION}\n`, stderr: '', code: 0 });
    expect(await kubectl(['plugin', 'list', '--name-only'])).toMatchObject({ stdout: expect.stringContaining('kubectl-miniapps'), code: 0 });

    await admin.apply(Resources.Namespace, { metadata: { name: 'plugin-pkg' } });
    await admin.create(Kinds.MiniApp, { metadata: { name: 'fx-rates', namespace: 'plugin-pkg' }, spec: { appName: 'fx_rates', type: 'Numeric', categories: ['Travel'] } });
    const list = await kubectl(['miniapps', 'list', '-n', 'plugin-pkg']);
    expect(list).toEqual({
      stdout: 'NAME       ORGANIZATION   TYPE      CATEGORIES   PUBLISHED   SUPER APPS\nfx-rates   <none>         Numeric   Travel       <none>      <none>\n',
      stderr: '',
      code: 0,
    });
    // kubectl hands every word after `miniapps` to the plugin: --context picks a context of a merged KUBECONFIG whose current one is elsewhere.
    const elsewhere = join(dir, 'elsewhere.kubeconfig');
    writeFileSync(
      elsewhere,
      'apiVersion: v1\nkind: Config\nclusters: [{name: x, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: x, user: {token: x}}]\ncontexts: [{name: elsewhere, context: {cluster: x, user: x}}]\ncurrent-context: elsewhere\n',
    );
    const context = (parse(readFileSync(cp.kubeconfigPath, 'utf8')) as { 'current-context': string })['current-context'];
    const viaContext = await exec(join(cp.binDir, 'kubectl'), ['miniapps', 'list', '-n', 'plugin-pkg', '--context', context, '--request-timeout', '30s'], {
      ...userEnv(),
      KUBECONFIG: `${elsewhere}:${cp.kubeconfigPath}`,
    });
    expect(viaContext).toEqual({ stdout: list.stdout, stderr: '', code: 0 });
    const help = await kubectl(['miniapps', 'search', '--help']);
    expect(help.stdout).toMatch(/^kubectl miniapps search: /);

    // kubectl's own completion of the plugin, through kubectl_complete-miniapps on PATH (as the manifest's caveats say).
    symlinkSync(join(krewRoot, `store/miniapps/v${VERSION}/kubectl_complete-miniapps`), join(krewRoot, 'bin/kubectl_complete-miniapps'));
    const completed = await kubectl(['__complete', 'miniapps', 'list', '-o', '']);
    expect(completed.stdout.split('\n').filter((l) => l && !l.startsWith(':'))).toEqual(['wide', 'yaml', 'json']);
    expect(completed.stdout).toContain(':4');

    // completion bash, for kubectl-miniapps typed on its own, in a real bash.
    const bash = await exec(
      'bash',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: bash's own ${...}
      ['--norc', '--noprofile', '-c', 'source <(kubectl-miniapps completion bash) && COMP_WORDS=(kubectl-miniapps list -o y) && COMP_CWORD=3 && _kubectl_miniapps && printf "%s\\n" "${COMPREPLY[@]}"'],
      env,
    );
    expect(bash).toEqual({ stdout: 'yaml\n', stderr: '', code: 0 });

    // An API server that is not there: one line naming it and the kubeconfig.
    const closed = createNetServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve));
    const kubeconfig = join(dir, 'unreachable.kubeconfig');
    writeFileSync(
      kubeconfig,
      `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: gone, context: {cluster: c, user: u}}]\ncurrent-context: gone\n`,
    );
    const refused = await exec(join(cp.binDir, 'kubectl'), ['miniapps', 'list'], { ...env, KUBECONFIG: kubeconfig });
    expect(refused).toEqual({
      stdout: '',
      stderr: `error: cannot connect to the API server https://127.0.0.1:${port} (kubeconfig ${kubeconfig} (context gone)): connection refused (ECONNREFUSED)\n`,
      code: 1,
    });
  });

  it.skipIf(!krew)('krew also installs it from the manifest and the archive file (no index, no download)', async () => {
    const env = { ...userEnv(), KREW_ROOT: join(dir, 'krew-manifest') };
    const before = served.length;
    const installed = await exec(krew!, ['install', `--manifest=${join(out, 'krew/miniapps.yaml')}`, `--archive=${join(out, ARCHIVE)}`], env);
    expect(installed, installed.stderr).toMatchObject({ code: 0 });
    expect(served.length).toBe(before);
    expect(await exec(join(dir, 'krew-manifest/bin/kubectl-miniapps'), ['--version'], env)).toEqual({ stdout: `kubectl-miniapps ${VERSION}\n`, stderr: '', code: 0 });
  });

  const oldNode = olderNode(OLD_NODE);
  it.skipIf(!oldNode)(`on the machine's ${oldNode} the plugin says in one line what it needs, exit 1`, async () => {
    expect(await exec(OLD_NODE, [join(out, 'kubectl-miniapps'), 'list'], userEnv())).toEqual({ stdout: '', stderr: `kubectl-miniapps needs Node.js ${NEED} or later (found ${oldNode})\n`, code: 1 });
    // Through kubectl, with that Node first on PATH (the plugin's #!/usr/bin/env node finds it).
    if (!krew) return;
    const oldFirst = join(dir, 'old-node');
    mkdirSync(oldFirst, { recursive: true });
    symlinkSync(OLD_NODE, join(oldFirst, 'node'));
    expect(await kubectl(['miniapps', '--version'], userEnv([oldFirst]))).toEqual({ stdout: '', stderr: `kubectl-miniapps needs Node.js ${NEED} or later (found ${oldNode})\n`, code: 1 });
  });
});
