import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { KubeClient } from '../kube/client.ts';
import { eventually } from '../../testenv/eventually.ts';
import { TestSmtpServer } from '../../testenv/smtp.ts';
import { MailRejected, MailUnavailable, Mailer } from './mailer.ts';
import type { MailerConfig } from './mailer.ts';

let smtp: TestSmtpServer;
beforeAll(async () => {
  smtp = await TestSmtpServer.start();
});
afterAll(() => smtp.stop());
afterEach(() => smtp.clear());

const message = {
  to: 'dev@example.com',
  subject: 'Invitation to join Acme — café',
  text: 'Open https://apps.example.com/invitations/accept?token=abc.def to accept.',
  html: '<p>Open the link</p>',
  messageId: '<invitation.uid-1.1@miniapps.dev>',
  headers: { 'X-Miniapps-Membership': 'acme/dev' },
};
const config = (over: Partial<MailerConfig> = {}): MailerConfig => ({ host: '127.0.0.1', port: smtp.port, security: 'none', from: 'operator@miniapps.dev', connectionTimeoutMs: 5000, ...over });
const settle = () => new Promise((r) => setTimeout(r, 200));

describe('Mailer', () => {
  it('delivers once, with the given Message-ID, after commit', async () => {
    const commit = vi.fn(async () => {
      // The server has the whole message but not the final dot yet: nothing is delivered.
      await settle();
      expect(smtp.messages).toHaveLength(0);
    });
    const result = await new Mailer(config()).send(message, commit);
    expect(commit).toHaveBeenCalledOnce();
    expect(result).toEqual({ accepted: true, response: expect.stringMatching(/^250 /) });
    const [mail] = await smtp.waitFor(1);
    expect(smtp.messages).toHaveLength(1);
    expect(mail.messageId).toBe(message.messageId);
    expect(mail.to).toEqual(['dev@example.com']);
    expect(mail.from).toBe('operator@miniapps.dev');
    expect(mail.subject).toBe(message.subject);
    expect(mail.headers['x-miniapps-membership']).toBe('acme/dev');
    expect(mail.text).toContain('token=abc.def');
    expect(mail.html).toBe('<p>Open the link</p>');
  });

  it('delivers nothing when commit throws, and rethrows its error', async () => {
    const failure = new Error('status update conflicted');
    await expect(new Mailer(config()).send(message, async () => Promise.reject(failure))).rejects.toBe(failure);
    // When the server notices the abandoned transaction depends on load: wait for it, not a fixed time.
    await eventually(() => smtp.aborted === 1 || false, { timeoutMs: 10_000, describe: 'the server to count the aborted transaction' });
    await settle();
    expect(smtp.messages).toHaveLength(0);
    expect(smtp.aborted).toBe(1);
  });

  it('a signal that aborts while the server has not yet answered RCPT TO ends the transaction at once: nothing delivered, even once the server answers', async () => {
    smtp.holdRecipients();
    try {
      const ac = new AbortController();
      const sending = new Mailer(config()).send(message, undefined, ac.signal);
      await eventually(() => smtp.heldRecipients === 1, { describe: 'the RCPT TO to be held' });
      const reason = new Error('leadership lost');
      ac.abort(reason);
      await expect(sending).rejects.toBe(reason);
      smtp.releaseRecipients();
      await settle();
      expect(smtp.messages).toHaveLength(0);
    } finally {
      smtp.releaseRecipients();
    }
  });

  it('a signal that aborts during commit sends no final dot, and commit resolving later changes nothing', async () => {
    const ac = new AbortController();
    let finishCommit: (() => void) | undefined;
    // The server has the whole message but the dot while commit runs.
    const commit = () => new Promise<void>((resolve) => (finishCommit = resolve));
    const sending = new Mailer(config()).send(message, commit, ac.signal);
    await eventually(() => finishCommit !== undefined, { describe: 'commit to be called' });
    await settle();
    ac.abort(new Error('leadership lost'));
    await expect(sending).rejects.toThrow('leadership lost');
    finishCommit!();
    await eventually(() => smtp.aborted === 1 || false, { timeoutMs: 10_000, describe: 'the server to count the aborted transaction' });
    await settle();
    expect(smtp.messages).toHaveLength(0);
  });

  it('an aborted signal sends nothing at all', async () => {
    const ac = new AbortController();
    ac.abort(new Error('leadership lost'));
    const credentials = vi.fn(async () => undefined);
    await expect(new Mailer(config(), credentials).send(message, undefined, ac.signal)).rejects.toThrow('leadership lost');
    expect(credentials).not.toHaveBeenCalled();
    await settle();
    expect(smtp.messages).toHaveLength(0);
  });

  it('reports, without throwing, a server that went away after commit (the caller must not resend)', async () => {
    const result = await new Mailer(config()).send(message, () => smtp.stop()).finally(() => smtp.start());
    expect(result.accepted).toBe(false);
    expect(result.response).toMatch(/./);
    expect(smtp.messages).toHaveLength(0);
  });

  it('throws MailRejected with the SMTP code, without calling commit, when the recipient is refused', async () => {
    smtp.refuse('nobody@example.com');
    const commit = vi.fn(async () => {});
    const err = await new Mailer(config()).send({ ...message, to: 'nobody@example.com' }, commit).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MailRejected);
    expect((err as MailRejected).responseCode).toBe(550);
    expect((err as Error).message).toMatch(/refused the message at RCPT TO: 550 No such user here/);
    expect(commit).not.toHaveBeenCalled();
    expect(smtp.messages).toHaveLength(0);
  });

  it('throws MailUnavailable, without calling commit, when the server is down, and works again once it is back', async () => {
    await smtp.stop();
    const commit = vi.fn(async () => {});
    try {
      await expect(new Mailer(config()).send(message, commit)).rejects.toThrow(MailUnavailable);
      await expect(new Mailer(config()).send(message, commit)).rejects.toThrow(/127\.0\.0\.1:\d+ could not be used: .*ECONNREFUSED/);
      expect(commit).not.toHaveBeenCalled();
    } finally {
      await smtp.start();
    }
    await expect(new Mailer(config()).send(message, commit)).resolves.toMatchObject({ accepted: true });
  });

  it('throws MailUnavailable when the server does not answer in time', async () => {
    const { createServer } = await import('node:net');
    const silent = createServer(() => {}); // accepts, never greets
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    try {
      await expect(new Mailer(config({ port, connectionTimeoutMs: 300 })).send(message, async () => {})).rejects.toThrow(MailUnavailable);
    } finally {
      silent.close();
    }
  });
});

describe('Mailer with authentication', () => {
  let authed: TestSmtpServer;
  beforeAll(async () => {
    authed = await TestSmtpServer.start({ auth: { username: 'operator', password: 's3cret-Pa55' } });
  });
  afterAll(() => authed.stop());

  const secretClient = (data: Record<string, string> | undefined) =>
    ({
      get: vi.fn(async () => (data ? { metadata: { name: 'smtp' }, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])) } : undefined)),
    }) as unknown as KubeClient;

  it('logs in with the credentials of a Secret', async () => {
    const mailer = Mailer.fromSecret(secretClient({ username: 'operator', password: 's3cret-Pa55' }), { namespace: 'ops', name: 'smtp' }, config({ port: authed.port }));
    await expect(mailer.send(message, async () => {})).resolves.toMatchObject({ accepted: true });
    expect(authed.messages).toHaveLength(1);
  });

  it('reports a refused login as MailUnavailable without the credentials', async () => {
    const mailer = new Mailer(config({ port: authed.port, username: 'operator', password: 'wrong-Pa55word' }));
    const err = (await mailer.send(message, async () => {}).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(MailUnavailable);
    expect(err.message).toMatch(/refused the SMTP login \(535\)/);
    expect(JSON.stringify({ message: err.message, stack: err.stack, cause: err.cause })).not.toMatch(/wrong-Pa55word|operator:/);
  });

  it('reports a missing or incomplete Secret as MailUnavailable', async () => {
    const where = { namespace: 'ops', name: 'smtp' };
    await expect(Mailer.fromSecret(secretClient(undefined), where, config({ port: authed.port })).send(message, async () => {})).rejects.toThrow(
      new MailUnavailable('The SMTP credentials Secret ops/smtp does not exist'),
    );
    await expect(Mailer.fromSecret(secretClient({ username: 'operator' }), where, config({ port: authed.port })).send(message, async () => {})).rejects.toThrow(
      /must have the keys username and password/,
    );
  });
});
