// The invitation email as the operator sends it, received by the loopback SMTP server:
// who invited the person comes from miniapps.dev/invited-by only as an identity.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Membership } from '../../api/membership/schema.ts';
import type { Organization } from '../../api/organization/schema.ts';
import { Mailer } from '../../runtime/mail/mailer.ts';
import { TestSmtpServer } from '../../testenv/smtp.ts';
import { SmtpInvitationMailer } from './mail.ts';

let smtp: TestSmtpServer;
beforeAll(async () => {
  smtp = await TestSmtpServer.start();
});
afterAll(() => smtp.stop());
afterEach(() => smtp.clear());

const organization: Organization = { apiVersion: 'miniapps.dev/v1alpha1', kind: 'Organization', metadata: { name: 'acme' }, spec: { displayName: 'Acme Corp' } };

function membership(invitedBy: string | undefined, acceptance: 'Required' | 'Automatic' = 'Required'): Membership {
  return {
    apiVersion: 'miniapps.dev/v1alpha1',
    kind: 'Membership',
    metadata: { name: 'dev', namespace: 'org-acme', uid: 'uid-1', ...(invitedBy !== undefined ? { annotations: { 'miniapps.dev/invited-by': invitedBy } } : {}) },
    spec: { email: 'dev@acme.example', role: 'MiniAppDeveloper', acceptance },
  };
}

async function send(invitedBy: string | undefined, userPrefix: string, acceptance: 'Required' | 'Automatic' = 'Required') {
  const mailer = new SmtpInvitationMailer(
    new Mailer({ host: '127.0.0.1', port: smtp.port, security: 'none', from: 'operator@miniapps.dev', connectionTimeoutMs: 5000 }),
    Buffer.alloc(32, 1),
    'https://apps.example.com/',
  );
  const invitation = { attempts: 1, messageId: '<invitation.uid-1.1@miniapps.dev>', expiresAt: '2030-03-04T05:06:07Z' };
  const result = await mailer.send({ membership: membership(invitedBy, acceptance), organization, invitation, notification: acceptance === 'Automatic', userPrefix });
  expect(result.accepted).toBe(true);
  const [mail] = await smtp.waitFor(1);
  return mail!;
}

describe('the inviter in the email', () => {
  it("is the creator's username after the userPrefix, with the organization's display name", async () => {
    const mail = await send('oidc:admin@acme.example', 'oidc:');
    expect(mail.text).toContain('admin@acme.example invited you to join Acme Corp as mini app developer.');
    expect(mail.text).not.toContain('oidc:');
  });

  it('is never free text: the email then says only that the person was invited', async () => {
    const mail = await send('Acme IT: your account is locked, pay at https://evil.example', '');
    expect(mail.text).toContain('You have been invited to join Acme Corp');
    expect(mail.text).not.toContain('evil.example');
    expect(mail.html).not.toContain('evil.example');
  });

  it('is "a service account" for one, not its name', async () => {
    const mail = await send('system:serviceaccount:ci:provisioner', 'oidc:');
    expect(mail.text).toContain('A service account invited you to join Acme Corp');
    expect(mail.text).not.toContain('provisioner');
  });

  it('is also named in the access notification of acceptance Automatic', async () => {
    const mail = await send('oidc:admin@acme.example', 'oidc:', 'Automatic');
    expect(mail.text).toContain('admin@acme.example added you to Acme Corp');
  });
});
