// The first screen's JavaScript stays under its budget: 150 kB compressed (issue 20); a size,
// the same every build, so a test (the page's timings are npm run bench -- --scenario=console-page).
// Builds the page into a temporary directory with the console's own Vite config.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildPage, firstScreenScripts } from './harness.ts';

const BUDGET = 150 * 1024;
const out = mkdtempSync(join(tmpdir(), 'console-build-'));

describe('the console build', () => {
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('loads under 150 kB of compressed JavaScript on the first screen', async () => {
    await buildPage(out);
    const scripts = firstScreenScripts(out);
    expect(scripts.length).toBeGreaterThan(0);
    const compressed = scripts.reduce((sum, s) => sum + s.gzipBytes, 0);
    console.log(`console first-screen JavaScript: ${(compressed / 1024).toFixed(1)} kB gzip in ${scripts.length} file(s)`);
    expect(compressed).toBeLessThan(BUDGET);
    // No token-handling code in the page: it never sees one.
    for (const s of scripts) expect(readFileSync(join(out, s.file), 'utf8')).not.toMatch(/localStorage|sessionStorage|id_token|refresh_token/);
  }, 60_000);
});
