// An invitation as the invited person handles it: the link in their email, and the
// acceptance page's form submitted with it. For tests and the demo.

const LINK = /https?:\/\/\S+?[?&]token=[\w.-]+/;

/** The acceptance link in an email's text; throws, quoting the text, when there is none. */
export function acceptLink(mail: { text: string }): string {
  const link = LINK.exec(mail.text)?.[0];
  if (!link) throw new Error(`no acceptance link in the email: ${mail.text}`);
  return link;
}

/**
 * Submits the acceptance form for `link`, as the page's button does: POST of the token to
 * the link's own path, with `fields` (an operator with the embedded identity provider
 * takes the account form's: action=create, username, password, firstName, lastName).
 */
export function acceptByForm(link: string, fields: Record<string, string> = {}): Promise<Response> {
  const url = new URL(link);
  const token = url.searchParams.get('token') ?? '';
  return fetch(`${url.origin}${url.pathname}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token, ...fields }).toString(),
  });
}

/**
 * Operator flags for invitations on loopback: a plain-SMTP server at `smtpPort`, and,
 * with `publicPort`, the acceptance page there (links point at it).
 */
export function invitationFlags(smtpPort: number, publicPort?: number): string[] {
  const smtp = ['--smtp-host=127.0.0.1', `--smtp-port=${smtpPort}`, '--smtp-security=none'];
  return publicPort === undefined ? smtp : [...smtp, `--public-bind-address=127.0.0.1:${publicPort}`, `--public-url=http://127.0.0.1:${publicPort}/`];
}
