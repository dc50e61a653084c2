// The operator process must stay small: @kubernetes/client-node (+86 MB RSS) and undici
// (+29 MB) are for tests and tools only. This loads operator/app.ts in a fresh node with a
// resolve hook recording every module it resolves.
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const APP = pathToFileURL(fileURLToPath(new URL('./app.ts', import.meta.url))).href;

const HOOK = `
import { registerHooks } from 'node:module';
const seen = new Set();
registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); seen.add(r.url); return r; } });
process.on('exit', () => process.stdout.write(JSON.stringify([...seen])));
`;

describe('the operator process', () => {
  it('imports neither @kubernetes/client-node nor undici', () => {
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
    expect(urls.filter((u) => /\/node_modules\/(@kubernetes|undici)\//.test(u))).toEqual([]);
  });
});
