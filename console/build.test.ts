// The first screen's JavaScript stays under its budget: 150 kB compressed (issue 20).
// Builds the page into a temporary directory with the console's own Vite config.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'vite';
import { afterAll, describe, expect, it } from 'vitest';

const BUDGET = 150 * 1024;
const out = mkdtempSync(join(tmpdir(), 'console-build-'));

describe('the console build', () => {
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('loads under 150 kB of compressed JavaScript on the first screen', async () => {
    await build({ configFile: fileURLToPath(new URL('./vite.config.ts', import.meta.url)), logLevel: 'silent', build: { outDir: out, emptyOutDir: true } });
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    const scripts = [...html.matchAll(/<(?:script[^>]*src|link[^>]*rel="modulepreload"[^>]*href)="\/?([^"]+\.js)"/g)].map((m) => m[1]!);
    expect(scripts.length).toBeGreaterThan(0);
    const compressed = scripts.reduce((sum, s) => sum + gzipSync(readFileSync(join(out, s))).length, 0);
    console.log(`console first-screen JavaScript: ${(compressed / 1024).toFixed(1)} kB gzip in ${scripts.length} file(s)`);
    expect(compressed).toBeLessThan(BUDGET);
    // No token-handling code in the page: it never sees one.
    for (const s of scripts) expect(readFileSync(join(out, s), 'utf8')).not.toMatch(/localStorage|sessionStorage|id_token|refresh_token/);
  }, 60_000);
});
