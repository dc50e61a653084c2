// Debian's Chromium for the browser tests, driven by playwright-core. The machines have
// no outside network: without these flags Chromium keeps trying to reach Google's hosts.
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Why browser tests must be skipped here (Chromium is not installed), or undefined. */
export function chromiumMissing(file: string): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  const why = `${file} skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`;
  console.warn(why);
  return why;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
