// Leadership as a fence: a leader whose API requests stall past its lease stops acting
// before a standby takes over, so that two leaders never act at once. The leader reaches
// the API server through a proxy the test freezes (every byte held, nothing closed); the
// standby reaches it directly. Invitations are in flight on the leader when it freezes:
// the loopback SMTP server holds their RCPT TO.
//
// What this shows is what the operator controls: the old leader gives up, cancels its work
// and exits before the standby takes over, and sends nothing after. The proxy drops what
// the connections the old leader closed still held (see testenv/tcp-proxy.ts); a real
// network may deliver such bytes late, which no Lease can prevent (docs/design/decisions.md, "Leadership is a
// fence in time").
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Membership } from '../api/membership/schema.ts';
import type { Organization } from '../api/organization/schema.ts';
import { Kinds } from '../api/registry.ts';
import { testClient } from '../testenv/clients.ts';
import { eventually, testKubeconfig, uniqueName } from '../testenv/index.ts';
import { invitationFlags } from '../testenv/invitations.ts';
import { OperatorProcess } from '../testenv/operator-process.ts';
import type { LogLine } from '../testenv/operator-process.ts';
import { TestSmtpServer } from '../testenv/smtp.ts';
import { FreezableProxy } from '../testenv/tcp-proxy.ts';

const admin = testClient();
const running: OperatorProcess[] = [];
const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.all(running.map((p) => p.stop()));
  for (const c of cleanup) await c();
});

/** The test kubeconfig, with the server at `port` on loopback instead. */
function kubeconfigVia(port: number): { path: string; target: { host: string; port: number } } {
  const text = readFileSync(testKubeconfig(), 'utf8');
  const m = /server:\s*https:\/\/127\.0\.0\.1:(\d+)/.exec(text);
  if (!m) throw new Error(`the test kubeconfig's server is not https://127.0.0.1:<port>: ${testKubeconfig()}`);
  const path = join(mkdtempSync(join(tmpdir(), 'fence-')), 'kubeconfig');
  writeFileSync(path, text.replace(m[0], `server: https://127.0.0.1:${port}`), { mode: 0o600 });
  return { path, target: { host: '127.0.0.1', port: Number(m[1]) } };
}

const logTime = (l: LogLine | undefined) => (l ? Date.parse(String(l.time)) : NaN);
const firstLog = (p: OperatorProcess, msg: string) => p.logs.find((l) => l.msg === msg);

describe('leadership that cannot overlap', () => {
  it('a leader whose API requests stall past its lease stops before the standby takes over: no write, no email from it afterwards, and it exits non-zero', async () => {
    const namespace = uniqueName('op-fence');
    // The proxy's port is needed for the kubeconfig, the API server's for the proxy.
    const probe = kubeconfigVia(1);
    const proxy = await FreezableProxy.start(probe.target);
    cleanup.push(() => proxy.stop());
    const { path: proxied } = kubeconfigVia(proxy.port);
    const oldMail = await TestSmtpServer.start();
    const newMail = await TestSmtpServer.start();
    cleanup.push(
      () => oldMail.stop(),
      () => newMail.stop(),
    );

    const leader = await OperatorProcess.start({ kubeconfig: proxied, namespace, args: invitationFlags(oldMail.port) });
    running.push(leader);
    let exitedAt = 0;
    void leader.exit.then(() => (exitedAt = Date.now()));
    await eventually(async () => (await leader.metric('miniapps_leader')) === 1, { describe: 'the proxied operator to lead' });
    // Started second, the standby also holds the webhook registration: admission never waits for the frozen one.
    const standby = await OperatorProcess.start({ kubeconfig: testKubeconfig(), namespace, args: invitationFlags(newMail.port) });
    running.push(standby);
    expect(await standby.metric('miniapps_leader')).toBe(0);

    const org = uniqueName('fence');
    await admin.create(Kinds.Organization, { metadata: { name: org }, spec: { displayName: `Org ${org}` } });
    const ns = await eventually(async () => (await admin.get<Organization>(Kinds.Organization, org))?.status?.namespace ?? false, { describe: `the namespace of ${org}` });

    // Work in flight on the leader: each invitation's attempt recorded, its email waiting for RCPT TO.
    oldMail.holdRecipients();
    const N = 3;
    const emails = Array.from({ length: N }, (_, i) => `person${i}@${ns}.example`);
    await Promise.all(emails.map((email, i) => admin.create(Kinds.Membership, { metadata: { name: `p${i}`, namespace: ns }, spec: { email, role: 'MiniAppDeveloper' } })));
    await eventually(() => oldMail.heldRecipients === N, { describe: `${N} invitations in flight on the leader` });

    proxy.freeze();
    const frozenAt = Date.now();
    const acquired = await eventually(() => firstLog(standby, 'Leader lease acquired') ?? false, { timeoutMs: 30_000, describe: 'the standby to take over' });
    const takeoverAt = logTime(acquired);
    // Whatever the old leader still holds may go now: the mail server answers, the network delivers.
    oldMail.releaseRecipients();
    proxy.unfreeze();

    const exit = await Promise.race([leader.exit, new Promise<'running'>((r) => setTimeout(() => r('running'), 40_000))]);
    expect(exit, `the old leader exits: ${leader.describe()}`).not.toBe('running');
    expect(exit).toMatchObject({ code: 1 });
    const lost = firstLog(leader, 'Leader lease lost');
    expect(lost, leader.describe()).toBeDefined();
    console.log(
      `frozen at 0 ms; old leader gave up at ${logTime(lost) - frozenAt} ms, exited at ${exitedAt - frozenAt} ms; standby took over at ${takeoverAt - frozenAt} ms; ` +
        `after that the old leader sent ${proxy.receivedSince(takeoverAt)} bytes, ${proxy.deliveredSince(takeoverAt)} reached the API server, ${oldMail.messages.length} emails reached its mail server`,
    );
    // The old leader gave up, and exited without draining, before the standby took over ...
    expect.soft(logTime(lost)).toBeLessThan(takeoverAt);
    expect.soft(exitedAt).toBeLessThan(takeoverAt);
    expect.soft(leader.hasLog('Operator exited without draining')).toBe(true);
    expect.soft(leader.hasLog('Shutdown requested; draining in-flight work')).toBe(false);
    // ... and nothing of it came, or reached the API server, or the mail server, afterwards.
    expect.soft(proxy.receivedSince(takeoverAt)).toBe(0);
    expect.soft(proxy.deliveredSince(takeoverAt)).toBe(0);
    // (Only this test's invitations: the leader also reconciles what earlier test files left in the cluster.)
    expect.soft(oldMail.messages.filter((m) => m.to.some((t) => emails.includes(t))).map((m) => `${m.to.join(',')} ${m.messageId}`)).toEqual([]);

    // The new leader sends each invitation's recorded attempt, once.
    const sent = await eventually(
      async () => {
        const items = (await admin.list<Membership>(Kinds.Membership, { namespace: ns })).items;
        return items.length === N && items.every((m) => m.status?.invitation?.sentAt) ? items : false;
      },
      { describe: 'every invitation recorded as sent by the new leader' },
    );
    await newMail.waitFor(N);
    expect(newMail.messages.map((m) => m.messageId).sort()).toEqual(sent.map((m) => m.status!.invitation!.messageId).sort());
  });
});
