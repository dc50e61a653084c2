// The emails the operator sends: an invitation with an acceptance link, or (acceptance
// Automatic) a notification that access was granted. Plain text first, a simple HTML
// alternative with every interpolated value escaped.
import { escapeHtml } from '../../runtime/html.ts';

export interface EmailContent {
  subject: string;
  text: string;
  html: string;
}

export interface OrganizationRef {
  name: string;
  displayName?: string;
}

const ROLE_NAMES: Record<string, string> = {
  OrganizationAdministrator: 'organization administrator',
  SuperAppAdministrator: 'super app administrator',
  MiniAppDeveloper: 'mini app developer',
  MiniAppReviewer: 'mini app reviewer',
};

/** The role as people read it: `MiniAppDeveloper` → `mini app developer`. */
export function roleName(role: string): string {
  return ROLE_NAMES[role] ?? role;
}

/** `2025-03-04T05:06:07Z` → `4 March 2025, 05:06 UTC` (the same for every reader's locale). */
export function formatTime(rfc3339: string): string {
  const t = new Date(rfc3339);
  if (Number.isNaN(t.getTime())) return rfc3339;
  const date = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' }).format(t);
  const time = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: 'UTC' }).format(t);
  return `${date}, ${time} UTC`;
}

/** The Message-ID of an invitation attempt: stable, so a retry of the same attempt is recognisable. */
export function invitationMessageId(uid: string, attempt: number, domain = 'miniapps.dev'): string {
  return `<invitation.${uid}.${attempt}@${domain}>`;
}

/**
 * Who invited the person, as an email may name them: a user by their email address,
 * or a service account (named only as such). Nothing else: the inviter shown is never
 * free text that could make the email say what its sender did not.
 */
export type Inviter = { email: string } | { serviceAccount: true };

/** A dot-atom local part and a DNS domain, ASCII only (no display names, spaces, markup or look-alike letters). */
const EMAIL_ADDRESS = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$/;
const SERVICE_ACCOUNT = /^system:serviceaccount:[a-z0-9]([-a-z0-9]*[a-z0-9])?:[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/**
 * The inviter from the authenticated Kubernetes username of whoever created the
 * Membership (the `miniapps.dev/invited-by` annotation, which the API server holds to
 * it): a service account, or, after PlatformConfig `userPrefix`, an email address.
 * Anything else (a username without the prefix, a name, a sentence) names nobody.
 */
export function inviterFromUsername(username: string | undefined, userPrefix: string): Inviter | undefined {
  if (!username) return undefined;
  if (SERVICE_ACCOUNT.test(username)) return { serviceAccount: true };
  if (!username.startsWith(userPrefix)) return undefined;
  const email = username.slice(userPrefix.length);
  return email.length <= 254 && email.indexOf('@') <= 64 && EMAIL_ADDRESS.test(email) ? { email } : undefined;
}

/** The inviter at the start of a sentence. */
function inviterLabel(inviter: Inviter): string {
  return 'email' in inviter ? inviter.email : 'A service account';
}

function orgLabel(org: OrganizationRef): string {
  return org.displayName?.trim() || org.name;
}

/** A DNS label, as Organization names are: lower-case letters, digits and inner hyphens. */
const ORGANIZATION_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * The organization as a subject names it: its name (chosen by a provisioning
 * administrator, a DNS label), never the display name its administrators may set to any
 * text (a subject is what a phishing mail is judged by). A name that is not a DNS label
 * is left out.
 */
function subjectOrganization(org: OrganizationRef): string {
  return ORGANIZATION_NAME.test(org.name) ? org.name : 'an organization';
}

type Paragraph = string | { link: string; label: string };

/** An email body in plain text and HTML from the same paragraphs. */
function render(subject: string, paragraphs: Paragraph[]): EmailContent {
  const text = paragraphs.map((p) => (typeof p === 'string' ? p : `${p.label}:\n${p.link}`)).join('\n\n') + '\n';
  const body = paragraphs
    .map((p) =>
      typeof p === 'string'
        ? `<p>${escapeHtml(p)}</p>`
        : `<p><a href="${escapeHtml(p.link)}" style="display:inline-block;padding:10px 18px;background:#1d4ed8;color:#ffffff;border-radius:6px;text-decoration:none">${escapeHtml(p.label)}</a></p>\n<p style="font-size:13px;color:#555">If the button does not work, copy this address into your browser:<br>${escapeHtml(p.link)}</p>`,
    )
    .join('\n');
  const html = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>
<body style="font-family:system-ui,-apple-system,'Segoe UI',sans-serif;font-size:15px;line-height:1.5;color:#1a1a1a;max-width:560px;margin:0 auto;padding:16px">
${body}
</body></html>
`;
  return { subject, text, html };
}

export interface InvitationEmailInput {
  organization: OrganizationRef;
  role: string;
  /** Who invited the person, when known (see inviterFromUsername). */
  inviter?: Inviter;
  acceptUrl: string;
  /** RFC 3339. */
  expiresAt: string;
  /** 1 for the first invitation; later attempts say that older links no longer work. */
  attempt: number;
}

export function invitationEmail(input: InvitationEmailInput): EmailContent {
  const org = orgLabel(input.organization);
  const who = input.inviter ? `${inviterLabel(input.inviter)} invited you` : 'You have been invited';
  const paragraphs: Paragraph[] = [
    `${who} to join ${org} as ${roleName(input.role)}.`,
    { label: 'Accept the invitation', link: input.acceptUrl },
    `The link works once and expires on ${formatTime(input.expiresAt)}.`,
  ];
  if (input.attempt > 1) paragraphs.push('This invitation replaces any earlier one: links in earlier emails no longer work.');
  paragraphs.push('If you did not expect this invitation, you can ignore this email.');
  return render(`Invitation to join ${subjectOrganization(input.organization)}`, paragraphs);
}

export interface AccessGrantedEmailInput {
  organization: OrganizationRef;
  role: string;
  /** Who added the person, when known (see inviterFromUsername). */
  inviter?: Inviter;
}

/** With acceptance Automatic there is nothing to accept: the person is only told. */
export function accessGrantedEmail(input: AccessGrantedEmailInput): EmailContent {
  const org = orgLabel(input.organization);
  const who = input.inviter ? `${inviterLabel(input.inviter)} added you` : 'You have been added';
  return render(`You now have access to ${subjectOrganization(input.organization)}`, [
    `${who} to ${org} as ${roleName(input.role)}. You have access now: there is nothing to accept.`,
    'If you think this is a mistake, contact an administrator of the organization.',
  ]);
}
