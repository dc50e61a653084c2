// The acceptance link's path, in one place: the invitation email builds its link with
// acceptUrl, and the acceptance page (accept.ts) serves ACCEPT_PATH.

/** Where the acceptance page is served. */
export const ACCEPT_PATH = '/invitations/accept';

/** The acceptance link: `<publicUrl>/invitations/accept?token=...` (a path in publicUrl is kept: a proxy may serve the page under it). */
export function acceptUrl(publicUrl: string, token: string): string {
  const url = new URL(ACCEPT_PATH.slice(1), publicUrl.endsWith('/') ? publicUrl : `${publicUrl}/`);
  url.searchParams.set('token', token);
  return url.toString();
}
