// TEST-ONLY helpers of the console's browser tests: axe on every screen (with the docs'
// screenshots), a person's own API key, a signed-in page, and a console serving the page as
// this checkout builds it. Signing a token in (harness.ts signInWithToken) puts a bearer
// token into a session as the OIDC callback would; the production server has no route that
// does this (console/server/main.ts never imports these files).
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { expect } from 'vitest';
import type { ApiKey } from '../operator/api/apikey/schema.ts';
import { Kinds } from '../operator/api/registry.ts';
import type { KubeClient } from '../operator/runtime/kube/client.ts';
import { readKey, waitForKey } from '../operator/testenv/apikeys.ts';
import { launchChromium } from '../operator/testenv/browser.ts';
import { buildPage, signInWithToken } from './harness.ts';
import { startConsoleServer } from './server/server.ts';
import type { ConsoleServer, ConsoleServerOptions } from './server/server.ts';

export { signInWithToken } from './harness.ts';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Axe on the page as it is now: no serious or critical violation. */
export async function axe(page: Page, screen: string, screenshot?: string): Promise<void> {
  if (screenshot) {
    mkdirSync(dirname(screenshot), { recursive: true });
    await page.screenshot({ path: screenshot });
  }
  await page.addScriptTag({ content: AXE });
  const violations = await page.evaluate(async () => {
    const r = await (globalThis as unknown as { axe: { run(): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe.run();
    return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
  expect(violations, `axe on ${screen}`).toEqual([]);
}

/**
 * `axe` for a browser test whose main screens are pictures in the docs: with
 * CONSOLE_SCREENSHOTS set (`npm run screenshots`: docs/console), a screen `shots` names is
 * saved there as `<name>.png` when axe checks it, so the docs' pictures are the tests' own,
 * re-made by one command.
 */
export const axeWithShots =
  (shots: Record<string, string>) =>
  (page: Page, screen: string): Promise<void> => {
    const dir = process.env.CONSOLE_SCREENSHOTS;
    return axe(page, screen, dir && shots[screen] ? join(dir, `${shots[screen]}.png`) : undefined);
  };

/** A person's own API key, made as them (non-administrators may make only their own) and read once it is Active: the bearer token of their session. */
export async function ownApiKey(client: KubeClient, email: string, name: string, namespace: string): Promise<string> {
  await client.create<ApiKey>(Kinds.ApiKey, { metadata: { name, namespace }, spec: { owner: email, ttl: '2h', description: 'console test' } }, { as: { user: email } });
  const k = await waitForKey(client, namespace, name, (x) => x.status?.phase === 'Active' && !!x.status.secretName, 'Active');
  return readKey(client, k);
}

/** A new browser context signed in with `bearer`, on the console's `hash` route. */
export async function signedInPage(browser: Browser, console: ConsoleServer, bearer: string, hash = ''): Promise<Page> {
  // bypassCSP: only so the test can inject axe-core; the console's own CSP forbids inline scripts.
  const context = await browser.newContext({ bypassCSP: true });
  await signInWithToken(console, context, bearer);
  const page = await context.newPage();
  await page.goto(`${console.url}/${hash}`);
  return page;
}

/** A console serving the page as this checkout builds it, and a browser: what each browser test starts with. */
export interface TestConsole {
  console: ConsoleServer;
  browser: Browser;
  /** Closes the browser and the console, and removes the built page. */
  close(): Promise<void>;
}

/** Builds the page into a directory of its own, starts a console on it with `opts` (port 0 unless given), and a browser. */
export async function startTestConsole(opts: Omit<ConsoleServerOptions, 'distDir'> & { port?: number }): Promise<TestConsole> {
  const dist = mkdtempSync(join(tmpdir(), 'console-dist-'));
  let server: ConsoleServer | undefined;
  try {
    await buildPage(dist);
    server = await startConsoleServer({ port: 0, ...opts, distDir: `${dist}/` });
    const browser = await launchChromium();
    const console = server;
    return {
      console,
      browser,
      close: async () => {
        await browser.close();
        await console.close();
        rmSync(dist, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await server?.close();
    rmSync(dist, { recursive: true, force: true });
    throw err;
  }
}
