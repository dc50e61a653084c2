// The whole invitation as a person lives it, in real headless Chromium: the operator
// emails a link (loopback SMTP), the person opens it, reads who invited them to what,
// presses the button, and the API server then grants their role. Skipped, saying so,
// only where /usr/bin/chromium is missing (.ci/run installs it).
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Membership } from '../../api/membership/schema.ts';
import type { Organization } from '../../api/organization/schema.ts';
import { testClient } from '../../testenv/clients.ts';
import { eventually, freePort, testKubeconfig, uniqueName } from '../../testenv/index.ts';
import { OperatorProcess } from '../../testenv/operator-process.ts';
import { TestSmtpServer } from '../../testenv/smtp.ts';
import { chromiumMissing, launchChromium } from '../../testenv/browser.ts';
import { acceptLink, invitationFlags } from '../../testenv/invitations.ts';
import { Kinds } from '../../api/registry.ts';

const missing = !!chromiumMissing('browser.itest.ts');

describe.skipIf(missing)('accepting an invitation in a browser', () => {
  const admin = testClient();
  let smtp: TestSmtpServer;
  let operator: OperatorProcess;
  let browser: Browser;

  beforeAll(async () => {
    smtp = await TestSmtpServer.start();
    const port = await freePort();
    operator = await OperatorProcess.start({
      kubeconfig: testKubeconfig(),
      namespace: uniqueName('op-browser'),
      args: invitationFlags(smtp.port, port),
    });
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await operator?.stop();
    await smtp?.stop();
  });

  it('opens the emailed link, sees the organization and role, accepts, and is granted the role', async () => {
    const org = uniqueName('browser');
    await admin.create(Kinds.Organization, { metadata: { name: org }, spec: { displayName: 'Browser Bank', capabilities: { miniApps: true } } });
    const ns = await eventually(async () => (await admin.get<Organization>(Kinds.Organization, org))?.status?.namespace ?? false, { describe: 'the namespace' });
    const email = `reviewer@${org}.example`;
    await admin.create(Kinds.Membership, { metadata: { name: 'reviewer', namespace: ns }, spec: { email, role: 'MiniAppReviewer' } });
    const mail = await eventually(() => smtp.messages.find((m) => m.to.includes(email)) ?? false, { describe: 'the invitation email' });
    const link = acceptLink(mail);

    const page = await browser.newPage();
    const opened = await page.goto(link);
    expect(opened?.status()).toBe(200);
    const invitation = await page.locator('main').innerText();
    expect(invitation).toContain('Browser Bank');
    expect(invitation).toContain('mini app reviewer');
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button').click()]);
    await expect(page.locator('main').innerText()).resolves.toContain('You accepted the invitation');

    const m = await eventually(
      async () => {
        const now = await admin.get<Membership>(Kinds.Membership, 'reviewer', ns);
        return now?.status?.phase === 'Active' && now.status.conditions?.find((c) => c.type === 'AccessGranted')?.status === 'True' ? now : false;
      },
      { describe: 'the membership Active with its role bound' },
    );
    expect(m.status?.acceptedAt).toBeDefined();

    // The same link again: used.
    const again = await page.goto(link);
    expect(again?.status()).toBe(409);
  });
});
