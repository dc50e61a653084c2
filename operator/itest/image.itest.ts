// The image's contents, checked without a builder (there is no container engine here):
// a directory is laid out as the Dockerfile lays out /app (its COPY lines, filtered by
// .dockerignore, and the production dependencies from `npm ci --omit=dev --omit=optional`
// as its first stage runs it), and the operator started from that directory, with nothing
// of this checkout on its module path, reaches Ready against the control plane. So what
// the image copies is enough for `node operator/cli/main.ts` at run time.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { testKubeconfig, uniqueName } from '../testenv/index.ts';
import { OperatorProcess } from '../testenv/operator-process.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const app = mkdtempSync(join(tmpdir(), 'image-app-'));
afterAll(() => rmSync(app, { recursive: true, force: true }));

/** .dockerignore as Docker reads it: the last pattern that matches a path (or a folder above it) decides. */
function dockerignore(): (path: string) => boolean {
  const rules = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const include = l.startsWith('!');
      const pattern = (include ? l.slice(1) : l).replace(/\/$/, '');
      const source = pattern.split('/').map((part) => (part === '**' ? '.*' : part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]'))).join('/');
      return { include, re: new RegExp(`^${source.replace(/\.\*\//g, '(?:.*/)?')}$`) };
    });
  return (path) => {
    const prefixes = path.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'));
    let ignored = false;
    for (const r of rules) if (prefixes.some((p) => r.re.test(p))) ignored = !r.include;
    return ignored;
  };
}

/** The `COPY` lines of the Dockerfile's stages: [stage index, sources, destination, from]. */
const copies = dockerfile
  .split('\n')
  .filter((l) => /^COPY\s/.test(l))
  .map((l) => {
    const words = l.split(/\s+/).slice(1).filter((w) => !w.startsWith('--chown'));
    const from = words[0]?.startsWith('--from=') ? words.shift()!.slice(7) : undefined;
    return { from, sources: words.slice(0, -1), dest: words.at(-1)! };
  });

describe('the image, laid out as the Dockerfile does without a builder', () => {
  it('copies package files into the dependency stage, and node_modules, package.json and operator/ into the runtime', () => {
    expect(copies).toEqual([
      { from: undefined, sources: ['package.json', 'package-lock.json', '.npmrc'], dest: './' },
      { from: 'deps', sources: ['/app/node_modules'], dest: './node_modules' },
      { from: undefined, sources: ['package.json'], dest: './' },
      { from: undefined, sources: ['operator/'], dest: './operator/' },
    ]);
    expect(dockerfile).toMatch(/RUN npm ci --omit=dev --omit=optional --ignore-scripts/);
    expect(dockerfile).toMatch(/ENTRYPOINT \["node", "operator\/cli\/main.ts"\]/);
  });

  it('starts the operator from that directory, with production dependencies only, to Ready', async () => {
    // The deps stage: npm ci of the lockfile, production dependencies only.
    for (const f of ['package.json', 'package-lock.json', '.npmrc']) cpSync(join(ROOT, f), join(app, f));
    execFileSync('npm', ['ci', '--omit=dev', '--omit=optional', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: app, stdio: 'pipe', timeout: 300_000 });
    rmSync(join(app, 'package-lock.json'));
    rmSync(join(app, '.npmrc'));
    // The runtime stage: operator/, less what .dockerignore leaves out.
    const ignored = dockerignore();
    const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', 'operator'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);
    const copied = files.filter((f) => !ignored(f) && existsSync(join(ROOT, f)));
    for (const f of copied) {
      mkdirSync(dirname(join(app, f)), { recursive: true });
      cpSync(join(ROOT, f), join(app, f));
    }
    expect(copied).toContain('operator/cli/main.ts');
    expect(copied.filter((f) => /\.(i?test)\.ts$|^operator\/(testenv|itest)\//.test(f))).toEqual([]);
    expect(existsSync(join(app, 'node_modules/vitest'))).toBe(false);
    expect(existsSync(join(app, 'node_modules/pino'))).toBe(true);

    const operator = await OperatorProcess.start({
      kubeconfig: testKubeconfig(),
      namespace: uniqueName('op-image'),
      main: join(app, 'operator/cli/main.ts'),
      cwd: app,
      env: { NODE_ENV: 'production', NODE_COMPILE_CACHE: join(app, '.compile-cache'), NODE_PATH: '' },
    });
    try {
      expect(await operator.ready()).toBe(true);
      expect(await operator.metrics()).toContain('miniapps_leader 1');
    } finally {
      expect((await operator.stop()).code).toBe(0);
    }
  });
});
