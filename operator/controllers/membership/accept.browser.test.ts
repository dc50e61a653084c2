// The acceptance page as a person sees it, in real headless Chromium (Debian's package; CI
// installs it). Skipped, saying so, only where /usr/bin/chromium is missing.

import { pino } from 'pino';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, chromiumMissing, launchChromium } from '../../testenv/browser.ts';
import { AcceptServer } from './accept.ts';
import type { AcceptBackend } from './accept.ts';

/** The part of `window` used here (the project compiles without the DOM types). */
type BrowserWindow = { getComputedStyle(element: unknown): { backgroundColor: string } };

const missing = !!chromiumMissing('accept.browser.test.ts');

const backend: AcceptBackend = {
  async describe(token) {
    return token === 'good-token'
      ? { state: 'valid', organization: 'Acme Corp', role: 'MiniAppDeveloper', email: 'dev@example.com', expiresAt: '2030-03-04T05:06:07Z' }
      : { state: 'invalid', message: 'This invitation link is not valid.' };
  },
  async accept(token) {
    return token === 'good-token'
      ? { state: 'accepted', organization: 'Acme Corp', role: 'MiniAppDeveloper', email: 'dev@example.com' }
      : { state: 'invalid', message: 'This invitation link is not valid.' };
  },
};

describe.skipIf(missing)(`acceptance page in headless Chromium (${CHROMIUM})`, () => {
  let server: AcceptServer;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    server = new AcceptServer({ address: { host: '127.0.0.1', port: 0 }, log: pino({ level: 'silent' }), backend });
    base = `http://127.0.0.1:${await server.start()}`;
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('shows the invitation, accepts it with the button, and shows the success page', async () => {
    const page = await browser.newPage({ viewport: { width: 800, height: 600 } });
    const cspViolations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
    const res = await page.goto(`${base}/invitations/accept?token=good-token`);
    expect(res?.status()).toBe(200);
    await expect(page.title()).resolves.toBe('Join Acme Corp');
    const details = await page.locator('dl').innerText();
    expect(details).toMatch(/Organization\s+Acme Corp/);
    expect(details).toMatch(/Role\s+mini app developer/);
    expect(details).toMatch(/Expires\s+4 March 2030, 05:06 UTC/);
    // The inline style is allowed by its hash: the button is styled, not the browser default.
    const background = await page.getByRole('button', { name: 'Accept invitation' }).evaluate((b) => (globalThis as unknown as BrowserWindow).getComputedStyle(b).backgroundColor);
    expect(background).toBe('rgb(29, 78, 216)');

    await page.screenshot({ path: '/tmp/accept-invitation.png' });

    const [answer] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.getByRole('button', { name: 'Accept invitation' }).click()]);
    expect(answer.status()).toBe(200);
    await expect(page.locator('h1').innerText()).resolves.toBe('Welcome to Acme Corp');
    expect(await page.locator('main').innerText()).toContain('dev@example.com is now a member of Acme Corp as mini app developer');
    expect(page.url()).toBe(`${base}/invitations/accept`);
    expect(cspViolations).toEqual([]);
    await page.screenshot({ path: '/tmp/accept-page.png' });
    await page.close();
  }, 60_000);
});
