// npm run package: what a release ships, in dist/ (or --out DIR):
//
//   kubectl-miniapps                          the kubectl plugin, one file of JavaScript (esbuild)
//   kubectl_complete-miniapps                 what kubectl (1.26+) runs for `kubectl miniapps <TAB>`
//   THIRD-PARTY-LICENSES.txt                  the licenses of the npm packages bundled into the plugin
//   kubectl-miniapps_<version>_linux_amd64.tar.gz   both, for krew (reproducible: same sha256 for the same sources)
//   krew/miniapps.yaml                        the krew manifest of that archive (--release-url BASE: where it is downloaded from)
//   miniapps-operator-<chart version>.tgz     the chart (helm package; skipped with a warning without helm, unless CI is set)
//
// The plugin file runs on a machine without this checkout. Its first lines are ES5 that any
// Node.js parses: they check the version (package.json's engines) and print one line when
// it is too old; only then is the bundle, kept in a string, compiled and run. The bundle is
// plain JavaScript (no type stripping) and carries the version it was built from.
//
//   node operator/cli/package.ts [--out DIR] [--release-url BASE]
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import type { Plugin } from 'esbuild';
import { stringify } from 'yaml';
import { KUBECTL_COMPLETE_SCRIPT } from '../plugin/completion.ts';
import { findTool, run } from '../testenv/tools.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PLUGIN = 'kubectl-miniapps';
const COMPLETE = 'kubectl_complete-miniapps';
const LICENSES = 'THIRD-PARTY-LICENSES.txt';

/** The lowest Node.js of package.json's engines (">=22.18" gives [22, 18]). */
export function minimumNode(engines: string): [number, number] {
  const m = engines.match(/^>=\s*(\d+)(?:\.(\d+))?/);
  if (!m) throw new Error(`package.json engines.node ${engines}: expected >=MAJOR.MINOR`);
  return [Number(m[1]), Number(m[2] ?? 0)];
}

/**
 * The plugin file: a first part in ES5 (any Node.js parses and runs it, as CommonJS or as
 * an ES module) that refuses a Node.js older than `min` in one line, exit 1; then `bundle`
 * (CommonJS, from a string, so that an old Node never parses it) compiled and run.
 */
export function launcher(bundle: string, min: [number, number], version: string): string {
  // What runs after the check needs process.getBuiltinModule (Node 22.3).
  if (min[0] < 22 || (min[0] === 22 && min[1] < 3)) throw new Error(`the plugin file needs Node.js 22.3 or later to start its bundle, not ${min.join('.')}`);
  const need = `${min[0]}.${min[1]}`;
  return `#!/usr/bin/env node
// kubectl-miniapps ${version}: the kubectl plugin of miniapps-operator (built by npm run package).
// Needs Node.js ${need} or later; this first part runs on any Node.js and says so when it is older.
'use strict';
(function () {
  var found = String(process.versions.node).split('.');
  var major = Number(found[0]), minor = Number(found[1]);
  if (major < ${min[0]} || (major === ${min[0]} && minor < ${min[1]})) {
    process.stderr.write('kubectl-miniapps needs Node.js ${need} or later (found v' + process.versions.node + ')\\n');
    process.exit(1);
  }
  var vm = process.getBuiltinModule('node:vm');
  var path = process.getBuiltinModule('node:path');
  var filename = typeof __filename === 'string' ? __filename : path.resolve(process.argv[1]);
  var m = { exports: {} };
  var main = vm.compileFunction(BUNDLE, ['require', 'module', 'exports', '__filename', '__dirname'], {
    filename: filename,
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  main(process.getBuiltinModule('node:module').createRequire(filename), m, m.exports, filename, path.dirname(filename));
})();
`.replace('BUNDLE', () => JSON.stringify(bundle));
}

/** The plugin's bundle (CommonJS for Node 22, the version inlined, yaml required as the bundle's own) and the npm packages in it. */
export async function bundlePlugin(version: string): Promise<{ code: string; packages: string[] }> {
  const embed: Plugin = {
    name: 'miniapps-embed',
    setup(b) {
      // runtime/version.ts reads package.json next to the checkout: the bundle carries it.
      b.onLoad({ filter: /[/\\]operator[/\\]runtime[/\\]version\.ts$/ }, () => ({ contents: `export const VERSION = ${JSON.stringify(version)};`, loader: 'ts' }));
      // kubeconfig.ts loads yaml lazily from node_modules (createRequire(import.meta.url)); in the bundle it is the bundled yaml.
      b.onLoad({ filter: /[/\\]operator[/\\]runtime[/\\]kube[/\\]kubeconfig\.ts$/ }, (args) => {
        const text = readFileSync(args.path, 'utf8');
        const lazy = "createRequire(import.meta.url)('yaml')";
        if (!text.includes(lazy)) throw new Error(`${args.path} no longer loads yaml as ${lazy}: update operator/cli/package.ts`);
        return { contents: text.replace(lazy, "require('yaml')"), loader: 'ts' };
      });
    },
  };
  const result = await build({
    entryPoints: [join(ROOT, 'operator/cli/kubectl-miniapps.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    write: false,
    metafile: true,
    plugins: [embed],
    legalComments: 'eof',
    logLevel: 'warning',
    // Anything else that needs import.meta (files next to the checkout) would break in the bundle.
    logOverride: { 'empty-import-meta': 'error' },
  });
  const packages = new Set(Object.keys(result.metafile.inputs).flatMap((p) => p.match(/(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//)?.[1] ?? []));
  return { code: result.outputFiles[0]!.text.replace(/^#!.*\n/, ''), packages: [...packages].sort() };
}

/** Each bundled package's name, version, license and license file, as its copies must carry them. */
export function thirdPartyLicenses(packages: string[], modules = join(ROOT, 'node_modules')): string {
  return packages
    .map((name) => {
      const dir = join(modules, name);
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string; license?: string };
      const file = readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
      if (!file) throw new Error(`${name} has no license file to ship with the plugin`);
      return `${name} ${pkg.version} (${pkg.license ?? 'see below'})\n\n${readFileSync(join(dir, file), 'utf8').trim()}\n`;
    })
    .join(`\n${'-'.repeat(72)}\n\n`);
}

interface TarEntry {
  name: string;
  mode: number;
  data: Buffer;
}

/** A ustar archive with fixed owner (0:0), time (`mtime`) and order (by name): the same entries give the same bytes. */
export function tar(entries: TarEntry[], mtime = 0): Buffer {
  const blocks: Buffer[] = [];
  for (const e of [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const h = Buffer.alloc(512);
    const field = (offset: number, length: number, value: string) => h.write(value, offset, length, 'ascii');
    const octal = (offset: number, length: number, n: number) => field(offset, length, n.toString(8).padStart(length - 1, '0') + '\0');
    if (Buffer.byteLength(e.name) > 100) throw new Error(`tar: name too long: ${e.name}`);
    field(0, 100, e.name);
    octal(100, 8, e.mode);
    octal(108, 8, 0);
    octal(116, 8, 0);
    octal(124, 12, e.data.length);
    octal(136, 12, mtime);
    field(148, 8, '        ');
    field(156, 1, '0');
    field(257, 6, 'ustar\0');
    field(263, 2, '00');
    field(265, 32, 'root');
    field(297, 32, 'root');
    let sum = 0;
    for (const byte of h) sum += byte;
    field(148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
    blocks.push(h, e.data, Buffer.alloc((512 - (e.data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/** gzip without a name or a time, the OS byte fixed to Unix (3). */
export function gzip(data: Buffer): Buffer {
  const out = gzipSync(data, { level: 9 });
  out[9] = 3;
  return out;
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

export function krewManifest(opts: { version: string; uri: string; sha256: string; homepage: string; need: string }): string {
  return stringify(
    {
      apiVersion: 'krew.googlecontainertools.github.com/v1alpha2',
      kind: 'Plugin',
      metadata: { name: 'miniapps' },
      spec: {
        version: `v${opts.version}`,
        homepage: opts.homepage,
        shortDescription: 'Super apps, mini apps and their catalogs (miniapps-operator)',
        description: [
          "Lists, searches and duplicates mini apps, shows super apps' catalogs, deletes a mini app after",
          'confirmation, onboards tenants to a solution and shows the roles a token carries, with your own',
          'kubeconfig and permissions. For clusters running miniapps-operator.',
        ].join(' '),
        caveats: [
          `This plugin needs Node.js ${opts.need} or later as \`node\` on PATH.`,
          'Shell completion of `kubectl miniapps` (kubectl 1.26 and later): put',
          `kubectl_complete-miniapps on PATH, e.g. ln -s "\${KREW_ROOT:-$HOME/.krew}/store/miniapps/v${opts.version}/${COMPLETE}" "\${KREW_ROOT:-$HOME/.krew}/bin/"`,
        ].join('\n'),
        platforms: [
          {
            selector: { matchLabels: { os: 'linux', arch: 'amd64' } },
            uri: opts.uri,
            sha256: opts.sha256,
            files: [
              { from: PLUGIN, to: '.' },
              { from: COMPLETE, to: '.' },
              { from: LICENSES, to: '.' },
            ],
            bin: PLUGIN,
          },
        ],
      },
    },
    { blockQuote: 'literal', lineWidth: 0 },
  );
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { out: { type: 'string' }, 'release-url': { type: 'string' } } });
  const t0 = Date.now();
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; engines: { node: string } };
  const chart = readFileSync(join(ROOT, 'charts/miniapps-operator/Chart.yaml'), 'utf8');
  const homepage = chart.match(/^home:\s*(\S+)/m)?.[1] ?? 'https://miniapps.dev';
  const min = minimumNode(pkg.engines.node);
  const out = resolve(values.out ?? join(ROOT, 'dist'));
  const archiveName = `${PLUGIN}_${pkg.version}_linux_amd64.tar.gz`;
  const base = (values['release-url'] ?? process.env.MINIAPPS_RELEASE_URL ?? `${homepage}/releases/v${pkg.version}`).replace(/\/+$/, '');

  // Only what this script writes (dist/image is npm run image's).
  mkdirSync(out, { recursive: true });
  for (const f of [PLUGIN, COMPLETE, LICENSES, archiveName, 'krew']) rmSync(join(out, f), { recursive: true, force: true });

  const bundle = await bundlePlugin(pkg.version);
  const plugin = launcher(bundle.code, min, pkg.version);
  const licenses = thirdPartyLicenses(bundle.packages);
  writeFileSync(join(out, LICENSES), licenses);
  writeFileSync(join(out, PLUGIN), plugin, { mode: 0o755 });
  chmodSync(join(out, PLUGIN), 0o755);
  writeFileSync(join(out, COMPLETE), KUBECTL_COMPLETE_SCRIPT, { mode: 0o755 });
  chmodSync(join(out, COMPLETE), 0o755);

  const archive = gzip(
    tar([
      { name: PLUGIN, mode: 0o755, data: Buffer.from(plugin) },
      { name: COMPLETE, mode: 0o755, data: Buffer.from(KUBECTL_COMPLETE_SCRIPT) },
      { name: LICENSES, mode: 0o644, data: Buffer.from(licenses) },
    ]),
  );
  writeFileSync(join(out, archiveName), archive);
  const archiveSum = sha256(archive);
  mkdirSync(join(out, 'krew'), { recursive: true });
  writeFileSync(join(out, 'krew/miniapps.yaml'), krewManifest({ version: pkg.version, uri: `${base}/${archiveName}`, sha256: archiveSum, homepage, need: `${min[0]}.${min[1]}` }));

  const kb = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
  const lines = [
    `${join(out, PLUGIN)} (${kb(Buffer.byteLength(plugin))}, sha256 ${sha256(plugin)})`,
    `${join(out, archiveName)} (${kb(archive.length)}, sha256 ${archiveSum})`,
    `${join(out, 'krew/miniapps.yaml')} (uri ${base}/${archiveName})`,
  ];
  const helm = findTool('helm');
  if (helm) {
    const said = run(helm, ['package', join(ROOT, 'charts/miniapps-operator'), '-d', out]).trim();
    lines.push(said.replace(/^Successfully packaged chart and saved it to: /, '') + ' (helm package)');
  } else {
    lines.push('chart not packaged: helm not found (see above)');
  }
  process.stdout.write(`${lines.join('\n')}\npackaged in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`package: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
