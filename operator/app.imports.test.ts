// The operator process must stay small: @kubernetes/client-node (+86 MB RSS) and undici
// (+29 MB) are for tests and tools only, and so are TypeBox and the API's JSON schemas
// (operator/api/common.ts and the kind modules): the operator takes its constants from
// operator/api/constants.ts and only types from the rest. This loads operator/app.ts in a
// fresh node with a resolve hook recording every module it resolves.
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const APP = pathToFileURL(fileURLToPath(new URL('./app.ts', import.meta.url))).href;
const API = new URL('./api/', APP).href;

const HOOK = `
import { registerHooks } from 'node:module';
const seen = new Set();
registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); seen.add(r.url); return r; } });
process.on('exit', () => process.stdout.write(JSON.stringify([...seen])));
`;

function modulesAppLoads(): string[] {
  const res = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(HOOK)}`, '--input-type=module', '-e', `await import(${JSON.stringify(APP)});`], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(res.stderr).toBe('');
  expect(res.status).toBe(0);
  const urls = JSON.parse(res.stdout) as string[];
  // The hook works: it saw app.ts and the operator's own dependencies.
  expect(urls).toContain(APP);
  expect(urls.some((u) => u.includes('/node_modules/yaml/'))).toBe(true);
  return urls;
}

describe('the operator process', () => {
  let urls: string[] = [];
  beforeAll(() => {
    urls = modulesAppLoads();
  });

  it('imports neither @kubernetes/client-node nor undici', () => {
    expect(urls.filter((u) => /\/node_modules\/(@kubernetes|undici)\//.test(u))).toEqual([]);
  });

  it('imports neither TypeBox nor the schema builders (api/common.ts, the kind modules): of the API, only api/constants.ts and api/policies.ts (plain data)', () => {
    expect(urls.filter((u) => u.includes('/node_modules/@sinclair/typebox/'))).toEqual([]);
    expect(urls.filter((u) => u.startsWith(API)).sort()).toEqual([new URL('./constants.ts', API).href, new URL('./policies.ts', API).href]);
  });
});
