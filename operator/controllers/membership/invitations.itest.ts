// Invitation emails under failure: the operator SIGKILLed again and again while it
// sends, the mail server down, invitations expiring. The loopback SMTP server counts
// what really arrived (only messages completed with the final dot).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLATFORM_CONFIG_NAME } from '../../api/platformconfig/schema.ts';
import type { Membership } from '../../api/membership/schema.ts';
import type { Organization } from '../../api/organization/schema.ts';
import type { PlatformConfig } from '../../api/platformconfig/schema.ts';
import { testClient } from '../../testenv/clients.ts';
import { eventually, freePort, testKubeconfig, uniqueName } from '../../testenv/index.ts';
import { OperatorProcess } from '../../testenv/operator-process.ts';
import { TestSmtpServer } from '../../testenv/smtp.ts';
import { acceptByForm, acceptLink, invitationFlags } from '../../testenv/invitations.ts';
import { Kinds } from '../../api/registry.ts';

const admin = testClient();
let smtp: TestSmtpServer;
let publicPort: number;
const operatorNamespace = uniqueName('op-inv');
const running = new Set<OperatorProcess>();

const cond = (m: Membership | undefined, type: string) => m?.status?.conditions?.find((c) => c.type === type);

/** A single operator (no leader election: a restart need not wait out the dead one's lease). */
async function startOperator(...args: string[]): Promise<OperatorProcess> {
  const p = await OperatorProcess.start({
    kubeconfig: testKubeconfig(),
    namespace: operatorNamespace,
    args: ['--leader-elect=false', ...invitationFlags(smtp.port, publicPort), ...args],
  });
  running.add(p);
  void p.exit.then(() => running.delete(p));
  return p;
}

/** A new Organization, once its namespace is recorded (an operator must be running). */
async function newOrganization(): Promise<string> {
  const org = uniqueName('inv');
  await admin.create(Kinds.Organization, { metadata: { name: org }, spec: { displayName: `Org ${org}` } });
  return eventually(async () => (await admin.get<Organization>(Kinds.Organization, org))?.status?.namespace ?? false, { describe: `the namespace of ${org}` });
}

async function members(ns: string): Promise<Membership[]> {
  return (await admin.list<Membership>(Kinds.Membership, { namespace: ns })).items;
}

const mailsTo = (email: string) => smtp.messages.filter((m) => m.to.some((t) => t.toLowerCase() === email.toLowerCase()));

beforeAll(async () => {
  smtp = await TestSmtpServer.start();
  publicPort = await freePort();
});

afterAll(async () => {
  await Promise.all([...running].map((p) => p.stop()));
  await smtp?.stop();
});

describe('one email per invitation attempt', () => {
  it('holds while the operator is SIGKILLed again and again in the middle of sending: none lost, one Message-ID each', async () => {
    const N = 40;
    let operator = await startOperator();
    const ns = await newOrganization();
    const emails = Array.from({ length: N }, (_, i) => `person${i}@${ns}.example`);
    operator.kill('SIGKILL');
    await operator.exit;
    await Promise.all(emails.map((email, i) => admin.create(Kinds.Membership, { metadata: { name: `p${i}`, namespace: ns }, spec: { email, role: 'MiniAppDeveloper' } })));

    // Kill at random moments; count how often a kill caught an attempt recorded but not yet sent.
    let kills = 0;
    let caughtBetween = 0;
    for (let round = 0; round < 40 && (caughtBetween < 3 || kills < 8); round++) {
      operator = await startOperator();
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 400));
      operator.kill('SIGKILL');
      await operator.exit;
      kills++;
      const now = await members(ns);
      caughtBetween += now.filter((m) => m.status?.invitation?.attempts && !m.status.invitation.sentAt).length;
      if (now.every((m) => m.status?.invitation?.sentAt)) break;
    }

    operator = await startOperator();
    const done = await eventually(
      async () => {
        const now = await members(ns);
        return now.length === N && now.every((m) => cond(m, 'InvitationSent')?.status === 'True') ? now : false;
      },
      { timeoutMs: 60_000, describe: `all ${N} invitations sent` },
    );
    await operator.stop();

    expect(kills).toBeGreaterThan(0);
    let repeats = 0;
    for (const m of done) {
      const got = mailsTo(m.spec.email);
      // Nobody is left without their invitation, and every copy is the one attempt's message.
      expect(got.length, `emails to ${m.spec.email}`).toBeGreaterThanOrEqual(1);
      expect(new Set(got.map((g) => g.messageId)), `Message-IDs to ${m.spec.email}`).toEqual(new Set([m.status!.invitation!.messageId]));
      expect(m.status!.invitation!.attempts).toBe(1);
      repeats += got.length - 1;
    }
    // A repeat needs a kill between the server's acceptance and the record of it: at most one per
    // send in flight at the kill (16 workers).
    console.log(`killed ${kills} times; ${caughtBetween} attempts caught recorded-but-not-sent; ${repeats} repeated deliveries of the same Message-ID`);
    expect(repeats).toBeLessThanOrEqual(kills * 16);
    // The test must have exercised the window between recording an attempt and sending it, or it proves nothing.
    expect(caughtBetween).toBeGreaterThan(0);
  });
});

describe('the mail server', () => {
  it('down: InvitationSent=False with the reason, retried with backoff, exactly one email once it is back', async () => {
    const operator = await startOperator();
    const ns = await newOrganization();
    try {
      await smtp.stop();
      await admin.create(Kinds.Membership, { metadata: { name: 'waiting', namespace: ns }, spec: { email: `waiting@${ns}.example`, role: 'MiniAppReviewer' } });
      const down = await eventually(
        async () => {
          const m = (await members(ns))[0];
          return cond(m, 'InvitationSent')?.reason === 'SMTPUnavailable' ? m : false;
        },
        { describe: 'SMTPUnavailable' },
      );
      expect(cond(down, 'Ready')?.status).toBe('False');
      expect(operator.logs.some((l) => l.level === 'fatal')).toBe(false);
      // What the chart's MiniappsOperatorInvitationFailures alert reads.
      expect(await operator.metric('miniapps_invitation_emails_total', { result: 'failed', reason: 'SMTPUnavailable' })).toBeGreaterThan(0);
      expect(await operator.metric('miniapps_invitation_emails_total', { result: 'sent' })).toBe(0);
      await smtp.start();
      await eventually(async () => cond((await members(ns))[0], 'InvitationSent')?.status === 'True', { timeoutMs: 60_000, describe: 'the invitation sent after recovery' });
      await new Promise((r) => setTimeout(r, 1000));
      expect(mailsTo(`waiting@${ns}.example`)).toHaveLength(1);
      expect(await operator.metric('miniapps_invitation_emails_total', { result: 'sent' })).toBe(1);
    } finally {
      await operator.stop();
    }
  });
});

describe('expiry', () => {
  let previous: PlatformConfig | undefined;
  beforeAll(async () => {
    previous = await admin.get<PlatformConfig>(Kinds.PlatformConfig, PLATFORM_CONFIG_NAME);
    await admin.apply(Kinds.PlatformConfig, { metadata: { name: PLATFORM_CONFIG_NAME }, spec: { ...(previous?.spec ?? {}), invitationTTL: '3s' } });
  });
  afterAll(async () => {
    await admin.apply(Kinds.PlatformConfig, { metadata: { name: PLATFORM_CONFIG_NAME }, spec: { ...(previous?.spec ?? {}), invitationTTL: previous?.spec?.invitationTTL ?? '168h' } });
  });

  it('resends an expired invitation up to 3 times, then Expired; the annotation sends one more and voids older links', async () => {
    // Expiry within seconds: so is the interval a requested resend waits after the previous invitation.
    const operator = await startOperator('--invitation-resend-interval=1s');
    const ns = await newOrganization();
    const email = `slow@${ns}.example`;
    try {
      await admin.create(Kinds.Membership, { metadata: { name: 'slow', namespace: ns }, spec: { email, role: 'MiniAppReviewer' } });
      const expired = await eventually(
        async () => {
          const m = (await members(ns))[0];
          return m?.status?.phase === 'Expired' ? m : false;
        },
        { timeoutMs: 40_000, describe: 'the membership Expired' },
      );
      expect(expired.status?.invitation?.attempts).toBe(3);
      expect(cond(expired, 'Ready')).toMatchObject({ status: 'False', reason: 'InvitationExpired' });
      expect(mailsTo(email).map((m) => m.messageId)).toEqual([1, 2, 3].map((a) => `<invitation.${expired.metadata.uid}.${a}@miniapps.dev>`));
      const oldLink = acceptLink(mailsTo(email).at(-1)!);

      await admin.patch(Kinds.Membership, 'slow', ns, { metadata: { annotations: { 'miniapps.dev/resend-invitation': 'please' } } });
      await eventually(async () => mailsTo(email).length === 4, { describe: 'a fourth invitation' });
      expect((await acceptByForm(oldLink)).status).toBe(410);
      const newLink = acceptLink(mailsTo(email).at(-1)!);
      expect((await acceptByForm(newLink)).status).toBe(200);
      await eventually(async () => (await members(ns))[0]?.status?.phase === 'Active', { describe: 'Active after accepting the new link' });
    } finally {
      await operator.stop();
    }
  });
});

describe('the acceptance page', () => {
  const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  /** The other spellings of a base64url string of 32 bytes: the last character's two unused bits. */
  const respellings = (s: string) => [1, 2, 3].map((bits) => s.slice(0, -1) + B64URL[B64URL.indexOf(s.at(-1)!) ^ bits]);

  async function invitedLink(operatorArgs: string[] = []): Promise<{ link: string; operator: OperatorProcess }> {
    const operator = await startOperator(...operatorArgs);
    const ns = await newOrganization();
    const email = `page@${ns}.example`;
    await admin.create(Kinds.Membership, { metadata: { name: 'page', namespace: ns }, spec: { email, role: 'MiniAppReviewer' } });
    const mail = await eventually(async () => mailsTo(email)[0] ?? false, { describe: 'the invitation email' });
    return { link: acceptLink(mail), operator };
  }

  it('an acceptance token has one spelling: the others of its signature are refused', async () => {
    const { link, operator } = await invitedLink();
    try {
      const url = new URL(link);
      const [payload, mac] = url.searchParams.get('token')!.split('.') as [string, string];
      for (const other of respellings(mac)) {
        url.searchParams.set('token', `${payload}.${other}`);
        const res = await fetch(url);
        expect(res.status, other).toBe(400);
      }
      expect((await fetch(link)).status).toBe(200);
    } finally {
      await operator.stop();
    }
  });

  it('limits requests per token (429 with Retry-After) instead of reading the API on every GET', async () => {
    const { link, operator } = await invitedLink();
    try {
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 12; i++) {
        const res = await fetch(link);
        statuses.push(res.status);
        if (res.status === 429) retryAfter ??= res.headers.get('retry-after');
      }
      expect(statuses[0]).toBe(200);
      expect(statuses).toContain(429);
      expect(Number(retryAfter)).toBeGreaterThan(0);
    } finally {
      await operator.stop();
    }
  });
});
