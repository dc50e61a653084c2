import { describe, expect, it } from 'vitest';
import { accessGrantedEmail, formatTime, invitationEmail, invitationMessageId, inviterFromUsername } from './message.ts';

const base = {
  organization: { name: 'acme', displayName: 'Acme Corp' },
  role: 'MiniAppDeveloper',
  inviter: { email: 'admin@acme.example' },
  acceptUrl: 'https://apps.example.com/invitations/accept?token=abc.def',
  expiresAt: '2030-03-04T05:06:07Z',
  attempt: 1,
};

describe('invitation email', () => {
  it('says who invited whom to what, with the link and the expiry, in text and HTML', () => {
    const mail = invitationEmail(base);
    expect(mail.subject).toBe('Invitation to join acme');
    expect(mail.text).toContain('admin@acme.example invited you to join Acme Corp as mini app developer.');
    expect(mail.text).toContain(base.acceptUrl);
    expect(mail.text).toContain('expires on 4 March 2030, 05:06 UTC');
    expect(mail.html).toContain(`href="${base.acceptUrl}"`);
    expect(mail.text).not.toContain('replaces');
  });

  it('tells a later attempt that earlier links no longer work', () => {
    expect(invitationEmail({ ...base, attempt: 2 }).text).toContain('links in earlier emails no longer work');
  });

  it('falls back to the organization name and a passive sentence', () => {
    const mail = invitationEmail({ ...base, organization: { name: 'acme' }, inviter: undefined });
    expect(mail.text).toContain('You have been invited to join acme as');
  });

  it('escapes every interpolated value in the HTML', () => {
    const mail = invitationEmail({
      ...base,
      organization: { name: 'x', displayName: '<script>alert(1)</script> & "Co"' },
      inviter: { email: "o'brien&co@x.example" },
      acceptUrl: 'https://x.example/accept?token=a"><img src=x onerror=alert(1)>',
    });
    expect(mail.html).not.toMatch(/<script|<img|onerror=alert\(1\)>/);
    expect(mail.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Co&quot;');
    expect(mail.html).toContain('o&#39;brien&amp;co@x.example invited you');
    expect(mail.html).toContain('token=a&quot;&gt;&lt;img');
  });
});

describe('the subject', () => {
  it.each([
    ['a phishing display name', { name: 'acme', displayName: 'URGENT: your bank account is locked, verify at once' }, 'acme'],
    ['a display name with a line break', { name: 'acme', displayName: 'Acme\r\nBcc: victim@x.example' }, 'acme'],
    ['a name that is no DNS label', { name: 'Acme Corp: verify now' }, 'an organization'],
    ['a name with a dot', { name: 'paypal.com' }, 'an organization'],
  ])('names the organization by its name, never its display name: %s', (_what, organization, shown) => {
    expect(invitationEmail({ ...base, organization }).subject).toBe(`Invitation to join ${shown}`);
    expect(accessGrantedEmail({ organization, role: 'MiniAppReviewer' }).subject).toBe(`You now have access to ${shown}`);
  });
});

describe('the inviter', () => {
  it.each<[string, string | undefined, string, ReturnType<typeof inviterFromUsername>]>([
    ['an email address is shown as it is', 'admin@acme.example', '', { email: 'admin@acme.example' }],
    ['the userPrefix is stripped', 'oidc:admin@acme.example', 'oidc:', { email: 'admin@acme.example' }],
    ['a username without the configured prefix names nobody', 'admin@acme.example', 'oidc:', undefined],
    ['a service account is shown as one, not by name', 'system:serviceaccount:ci:provisioner', 'oidc:', { serviceAccount: true }],
    ['a name that is no email address names nobody', 'kubernetes-admin', '', undefined],
    ['a display name with an address names nobody', 'Your Bank <security@bank.example>', '', undefined],
    ['a sentence names nobody', 'IT support: your account is locked, call 555-0100@x.example', '', undefined],
    ['a username with a line break names nobody', 'admin@acme.example\nPay now', '', undefined],
    ['an address in other scripts (look-alike letters) names nobody', 'аdmin@acme.example', '', undefined],
    ['an address without a dot in its domain names nobody', 'admin@localhost', '', undefined],
    ['a look-alike service account names nobody', 'system:serviceaccount:ci:provisioner says hello', '', undefined],
    ['no annotation names nobody', undefined, '', undefined],
  ])('%s', (_name, username, prefix, expected) => {
    expect(inviterFromUsername(username, prefix)).toEqual(expected);
  });

  it('a service account is named as such in both emails', () => {
    expect(invitationEmail({ ...base, inviter: { serviceAccount: true } }).text).toContain('A service account invited you to join Acme Corp as mini app developer.');
    expect(accessGrantedEmail({ organization: base.organization, role: 'MiniAppReviewer', inviter: { serviceAccount: true } }).text).toContain('A service account added you to Acme Corp');
  });
});

describe('access granted email', () => {
  it('notifies of access without any link to follow', () => {
    const mail = accessGrantedEmail({ organization: base.organization, role: 'OrganizationAdministrator' });
    expect(mail.subject).toBe('You now have access to acme');
    expect(mail.text).toContain('You have been added to Acme Corp as organization administrator. You have access now');
    expect(mail.html).not.toContain('href=');
  });

  it('escapes the organization name', () => {
    expect(accessGrantedEmail({ organization: { name: 'x', displayName: '<b>Bold</b>' }, role: 'MiniAppReviewer' }).html).toContain('&lt;b&gt;Bold&lt;/b&gt;');
  });
});

describe('helpers', () => {
  it('builds the Message-ID of an invitation attempt', () => {
    expect(invitationMessageId('1234-abcd', 3)).toBe('<invitation.1234-abcd.3@miniapps.dev>');
    expect(invitationMessageId('u', 1, 'example.org')).toBe('<invitation.u.1@example.org>');
  });

  it('formats times in UTC whatever the locale, and leaves an unparsable value as it is', () => {
    expect(formatTime('2030-12-31T23:59:00+02:00')).toBe('31 December 2030, 21:59 UTC');
    expect(formatTime('soon')).toBe('soon');
  });
});
