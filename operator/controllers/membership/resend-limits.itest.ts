// Resends asked for through miniapps.dev/resend-invitation are rate-limited, so the
// annotation cannot turn the operator into a mail cannon: per Membership, an interval
// after the previous invitation; per organization, a number per rolling hour. The
// loopback SMTP server counts what really arrived.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Membership } from '../../api/membership/schema.ts';
import type { Organization } from '../../api/organization/schema.ts';
import { rfc3339 } from '../../runtime/clock.ts';
import type { AnyObject } from '../../runtime/kube/client.ts';
import { Resources } from '../../runtime/kube/resource.ts';
import { testClient } from '../../testenv/clients.ts';
import { eventually, testKubeconfig, uniqueName } from '../../testenv/index.ts';
import { invitationFlags } from '../../testenv/invitations.ts';
import { OperatorProcess } from '../../testenv/operator-process.ts';
import { TestSmtpServer } from '../../testenv/smtp.ts';
import { Kinds } from '../../api/registry.ts';

const admin = testClient();
const INTERVAL_S = 8;
const LIMIT = 3;
let smtp: TestSmtpServer;
let operator: OperatorProcess;

const cond = (m: Membership | undefined, type: string) => m?.status?.conditions?.find((c) => c.type === type);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mailsTo = (email: string) => smtp.messages.filter((m) => m.to.some((t) => t.toLowerCase() === email.toLowerCase()));
const heldUntil = (m: Membership | undefined) => /held until (\S+Z)\b/.exec(cond(m, 'InvitationSent')?.message ?? '')?.[1];

beforeAll(async () => {
  smtp = await TestSmtpServer.start();
  // The limits through their environment variables (--invitation-resend-interval, --invitation-resend-limit).
  operator = await OperatorProcess.start({
    kubeconfig: testKubeconfig(),
    namespace: uniqueName('op-resend'),
    args: ['--leader-elect=false', ...invitationFlags(smtp.port)],
    env: { MINIAPPS_INVITATION_RESEND_INTERVAL: `${INTERVAL_S}s`, MINIAPPS_INVITATION_RESEND_LIMIT: String(LIMIT) },
  });
});

afterAll(async () => {
  await operator?.stop();
  await smtp?.stop();
});

describe('resend limits', () => {
  it('resend-invitation cannot flood a mailbox: resends are rate-limited per membership and per organization', async () => {
    const org = uniqueName('flood');
    await admin.create(Kinds.Organization, { metadata: { name: org }, spec: { displayName: `Org ${org}` } });
    const ns = await eventually(async () => (await admin.get<Organization>(Kinds.Organization, org))?.status?.namespace ?? false, { describe: `the namespace of ${org}` });
    const people = ['a', 'b', 'c', 'd', 'e'];
    const email = (p: string) => `${p}@${ns}.example`;
    const get = async (p: string) => (await admin.get<Membership>(Kinds.Membership, p, ns))!;
    const annotate = (p: string, value: string) => admin.patch(Kinds.Membership, p, ns, { metadata: { annotations: { 'miniapps.dev/resend-invitation': value } } });
    await Promise.all(people.map((p) => admin.create(Kinds.Membership, { metadata: { name: p, namespace: ns }, spec: { email: email(p), role: 'MiniAppDeveloper' } })));
    await eventually(() => people.every((p) => mailsTo(email(p)).length === 1), { describe: 'the first invitations (not limited)' });
    const first = await get('a');

    // Per membership: five new values in quick succession, right after the first invitation.
    for (let i = 1; i <= 5; i++) {
      await annotate('a', `again-${i}`);
      await sleep(400);
    }
    expect(mailsTo(email('a')), 'emails to a right after five resend requests').toHaveLength(1);
    const held = await eventually(
      async () => {
        const m = await get('a');
        return cond(m, 'InvitationSent')?.reason === 'ResendRateLimited' && m.metadata.annotations?.['miniapps.dev/resend-invitation'] === 'again-5' ? m : false;
      },
      { describe: 'InvitationSent=False ResendRateLimited on a' },
    );
    expect(cond(held, 'InvitationSent')?.status).toBe('False');
    expect(cond(held, 'InvitationSent')?.message).toMatch(/per membership/);
    expect(heldUntil(held)).toBe(rfc3339(new Date(Date.parse(first.status!.invitation!.sentAt!) + INTERVAL_S * 1000)));
    // The first invitation is still valid: Ready keeps saying so.
    expect(cond(held, 'Ready')).toMatchObject({ status: 'True', reason: 'AwaitingAcceptance' });

    // Once allowed, the held resend goes out by itself: one email, answering the last value.
    const resent = await eventually(
      async () => {
        const m = await get('a');
        return cond(m, 'InvitationSent')?.status === 'True' && m.status?.invitation?.attempts === 2 ? m : false;
      },
      { timeoutMs: (INTERVAL_S + 15) * 1000, describe: 'the held resend of a sent' },
    );
    expect(resent.status!.invitation!.resendRequest).toBe('again-5');
    expect(Date.parse(resent.status!.invitation!.sentAt!) - Date.parse(first.status!.invitation!.sentAt!)).toBeGreaterThanOrEqual(INTERVAL_S * 1000);
    expect(mailsTo(email('a')).map((m) => m.messageId)).toEqual([1, 2].map((n) => `<invitation.${first.metadata.uid}.${n}@miniapps.dev>`));
    // A Warning per held request at most, not one per reconcile.
    const warnings = (await admin.list<AnyObject & { reason?: string; type?: string; regarding?: { name?: string } }>(Resources.Event, { namespace: ns })).items.filter(
      (e) => e.reason === 'ResendRateLimited' && e.regarding?.name === 'a',
    );
    expect(warnings.length).toBeGreaterThanOrEqual(1);
    expect(warnings.length).toBeLessThanOrEqual(5);
    expect(warnings.every((e) => e.type === 'Warning')).toBe(true);

    // Per organization: LIMIT resends per rolling hour, a's included. Four at once (past
    // their own interval): LIMIT - 1 go out, the others are held until a's leaves the window.
    const others = people.slice(1);
    const lastFirst = Math.max(...(await Promise.all(others.map(get))).map((m) => Date.parse(m.status!.invitation!.sentAt!)));
    await sleep(Math.max(0, lastFirst + (INTERVAL_S + 1) * 1000 - Date.now()));
    await Promise.all(others.map((p) => annotate(p, 'please')));
    const settled = await eventually(
      async () => {
        const now = await Promise.all(others.map(get));
        const sent = now.filter((m) => m.status?.invitation?.attempts === 2 && cond(m, 'InvitationSent')?.status === 'True');
        const limited = now.filter((m) => cond(m, 'InvitationSent')?.reason === 'ResendRateLimited');
        return sent.length + limited.length === others.length ? { sent, limited } : false;
      },
      { describe: 'every resend request of b..e answered or held' },
    );
    expect(settled.sent).toHaveLength(LIMIT - 1);
    const until = rfc3339(new Date(Date.parse(resent.status!.invitation!.sentAt!) + 3_600_000));
    for (const m of settled.limited) {
      expect(cond(m, 'InvitationSent')?.message, m.metadata.name).toMatch(/per organization/);
      expect(heldUntil(m), m.metadata.name).toBe(until);
      expect(cond(m, 'Ready')?.status, m.metadata.name).toBe('True');
    }
    // Well past the interval, the organization's limit still holds them.
    await sleep((INTERVAL_S + 2) * 1000);
    const emails = people.map((p) => mailsTo(email(p)).length);
    expect(
      emails.reduce((a, b) => a + b),
      `emails per person: ${emails.join(', ')}`,
    ).toBe(people.length + LIMIT);
    for (const m of settled.limited) expect(cond(await get(m.metadata.name), 'InvitationSent')?.reason).toBe('ResendRateLimited');
  });
});
