// What the console's browser tests and the page's benchmark (operator/bench/console-page.ts)
// share, with no test runner in it (the benchmark imports it too): the page as this checkout
// builds it (Vite, console/vite.config.ts) into a directory of one's own and what its first
// screen loads (console/build.test.ts checks its size), a bearer token signed into a session,
// and a list of mini apps answered by a route stand-in.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { BrowserContext, Page } from 'playwright-core';
import { build } from 'vite';
import type { ConsoleServer } from './server/server.ts';
import { COOKIE } from './server/session.ts';

/** Builds the page as this checkout has it (not whatever console/dist holds) into `outDir`. */
export async function buildPage(outDir: string): Promise<void> {
  await build({ configFile: fileURLToPath(new URL('./vite.config.ts', import.meta.url)), logLevel: 'silent', build: { outDir, emptyOutDir: true } });
}

/** The JavaScript files the built page's first screen loads (its scripts and module preloads), with each one's gzip size. */
export function firstScreenScripts(outDir: string): { file: string; gzipBytes: number }[] {
  const html = readFileSync(join(outDir, 'index.html'), 'utf8');
  return [...html.matchAll(/<(?:script[^>]*src|link[^>]*rel="modulepreload"[^>]*href)="\/?([^"]+\.js)"/g)].map((m) => ({
    file: m[1]!,
    gzipBytes: gzipSync(readFileSync(join(outDir, m[1]!))).length,
  }));
}

/**
 * TEST AND BENCHMARK ONLY: puts a bearer token into a console session, as the OIDC callback
 * would, and gives a browser context that session's cookie. The production server has no
 * route that does this (console/server/main.ts never imports this file): the token is an
 * API key or a ServiceAccount token the API server itself authenticates.
 */
export async function signInWithToken(console: ConsoleServer, context: BrowserContext, bearer: string): Promise<void> {
  const s = console.sessions.create();
  s.tokens = { bearer };
  await context.addCookies([{ name: COOKIE, value: s.id, url: console.url, httpOnly: true, sameSite: 'Strict' }]);
}

/** `n` mini apps as the API server would list them in `ns` (app-0 … app-<n-1>, every other one in category news), for a route stand-in. */
export function standInMiniApps(ns: string, n: number): object[] {
  return Array.from({ length: n }, (_, i) => ({
    apiVersion: 'miniapps.dev/v1alpha1',
    kind: 'MiniApp',
    metadata: { name: `app-${i}`, namespace: ns, resourceVersion: '1' },
    spec: { appName: `app_${i}`, type: 'Text', categories: [i % 2 ? 'finance' : 'news'] },
    status: { conditions: [{ type: 'Ready', status: 'True', reason: 'Ready', message: 'ok' }] },
  }));
}

/**
 * Answers the page's list of `ns`'s mini apps with `items` at once, in the browser (a
 * Playwright route: the time measured is the page's own); the watch after it is left open,
 * as a quiet API server's would be. `onServed` is called as each list is answered.
 */
export async function serveMiniApps(page: Page, ns: string, items: object[], onServed: () => void): Promise<void> {
  await page.route(
    (u) => u.pathname === `/k8s/apis/miniapps.dev/v1alpha1/namespaces/${ns}/miniapps`,
    async (route) => {
      if (new URL(route.request().url()).searchParams.has('watch')) return;
      onServed();
      await route.fulfill({
        status: 200,
        contentType: 'application/json',
        body: JSON.stringify({ apiVersion: 'miniapps.dev/v1alpha1', kind: 'MiniAppList', metadata: { resourceVersion: '1' }, items }),
      });
    },
  );
}
