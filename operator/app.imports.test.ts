// The operator process must stay small: @kubernetes/client-node (+86 MB RSS) and undici
// (+29 MB) are for tests and tools only, and so are TypeBox and the API's JSON schemas
// (operator/api/common.ts and each kind's schema.ts): the operator takes its values from
// the plain-data modules (api/constants.ts, api/registry.ts, api/policies.ts, each kind's
// names.ts and policies.ts) and only types from the rest. What else it would load at
// start without needing it is pinned here too (the idle RSS of docs/benchmarks.md): Node's bundled
// undici (an ESM import of node:http reads its WebSocket getters), nodemailer before the
// first email, a JavaScript X.509 library, prom-client's Pushgateway, cluster aggregation
// and default metrics. This loads what operator/cli/main.ts loads (app.ts, its
// configuration and logger) in a fresh node with a resolve hook recording every module it
// resolves, and reports the built-in modules Node loaded.
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const APP = pathToFileURL(fileURLToPath(new URL('./app.ts', import.meta.url))).href;
const START_PATH = [APP, new URL('./runtime/config.ts', APP).href, new URL('./runtime/logger.ts', APP).href];
const API = new URL('./api/', APP).href;

const HOOK = `
import { registerHooks } from 'node:module';
const seen = new Set();
registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); seen.add(r.url); return r; } });
process.on('exit', () => process.stdout.write(JSON.stringify({ urls: [...seen], builtins: process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice('NativeModule '.length)) })));
`;

function modulesAppLoads(): { urls: string[]; builtins: string[] } {
  const res = spawnSync(
    process.execPath,
    ['--import', `data:text/javascript,${encodeURIComponent(HOOK)}`, '--input-type=module', '-e', START_PATH.map((u) => `await import(${JSON.stringify(u)});`).join(' ')],
    {
      encoding: 'utf8',
      timeout: 30_000,
    },
  );
  expect(res.stderr).toBe('');
  expect(res.status).toBe(0);
  const loaded = JSON.parse(res.stdout) as { urls: string[]; builtins: string[] };
  // The hook works: it saw app.ts, CommonJS requires and Node's own modules.
  expect(loaded.urls).toContain(APP);
  expect(loaded.urls.some((u) => u.includes('/node_modules/prom-client/lib/registry.js'))).toBe(true);
  expect(loaded.builtins).toContain('https');
  return loaded;
}

describe('the operator process', () => {
  let urls: string[] = [];
  let builtins: string[] = [];
  const inPackage = (pkg: string) => urls.filter((u) => u.includes(`/node_modules/${pkg}/`));
  beforeAll(() => {
    ({ urls, builtins } = modulesAppLoads());
  });

  it('imports neither @kubernetes/client-node nor undici', () => {
    expect(urls.filter((u) => /\/node_modules\/(@kubernetes|undici)\//.test(u))).toEqual([]);
  });

  it("imports neither TypeBox nor the schema builders (api/common.ts, api/<kind>/schema.ts, api/index.ts): of the API, only the plain-data modules (constants, registry, policies, each kind's names and policies)", () => {
    expect(inPackage('@sinclair/typebox')).toEqual([]);
    const api = urls
      .filter((u) => u.startsWith(API))
      .map((u) => u.slice(API.length))
      .sort();
    expect(api).toEqual(expect.arrayContaining(['constants.ts', 'policies.ts', 'policy.ts', 'registry.ts', 'membership/names.ts', 'apikey/policies.ts']));
    expect(api.filter((p) => !/^(constants|registry|policy|policies)\.ts$|^[a-z]+\/(names|policies)\.ts$/.test(p))).toEqual([]);
  });

  it('does not make Node load its bundled undici (an ESM import of node:http does: runtime/builtins.ts)', () => {
    expect(builtins.filter((m) => m.includes('undici'))).toEqual([]);
  });

  it('loads nodemailer only to send the first email, image-size only to check the first icon, yaml only to read a kubeconfig file, and no JavaScript X.509 library (runtime/pki.ts uses node:crypto)', () => {
    expect(inPackage('nodemailer')).toEqual([]);
    expect(inPackage('image-size')).toEqual([]);
    // yaml only to read a kubeconfig file (a pod reads its service account, no YAML).
    expect(inPackage('yaml')).toEqual([]);
    expect(inPackage('node-forge')).toEqual([]);
  });

  it('takes from prom-client only its Registry, Counter, Gauge and Histogram: no Pushgateway, cluster aggregation, default metrics or @opentelemetry/api', () => {
    expect(inPackage('prom-client').filter((u) => !/\/lib\/(registry|counter|gauge|histogram|metric|util|validation|exemplar)\.js$/.test(u))).toEqual([]);
    expect(inPackage('@opentelemetry/api')).toEqual([]);
  });

  it('loads none of the built-in modules only those bring (cluster, child_process, dgram, zlib, perf_hooks)', () => {
    expect(builtins.filter((m) => ['cluster', 'child_process', 'dgram', 'zlib', 'perf_hooks'].includes(m))).toEqual([]);
  });
});
