import { INVITED_BY_ANNOTATION } from '../../api/membership/names.ts';
import type { Membership } from '../../api/membership/schema.ts';
import type { Organization } from '../../api/organization/schema.ts';
import { MailRejected, MailUnavailable } from '../../runtime/mail/mailer.ts';
import type { Mailer } from '../../runtime/mail/mailer.ts';
import { accessGrantedEmail, invitationEmail, inviterFromUsername } from './message.ts';
import { acceptUrl } from './link.ts';
import { signToken } from './token.ts';
import type { Invitation } from './logic.ts';
import { MembershipReasons } from './logic.ts';

export interface InvitationRequest {
  membership: Membership;
  organization: Organization;
  /** The attempt as recorded in status (attempts, messageId, expiresAt). */
  invitation: Invitation;
  /** An access notification (acceptance Automatic) instead of an invitation with a link. */
  notification: boolean;
  /** PlatformConfig userPrefix: stripped from the inviter's username. */
  userPrefix: string;
}

/** What the Membership controller needs of email: send with a commit step, and explain failures. */
export interface InvitationMailer {
  /**
   * Sends the email; `accepted` is whether the server confirmed it (250 to the final dot).
   * When `signal` aborts first (the process lost the lease) the transaction ends before the
   * dot, nothing is delivered, and it throws the signal's reason.
   */
  send(req: InvitationRequest, signal?: AbortSignal): Promise<{ accepted: boolean; response: string }>;
  /** A failure the membership's status should show (and not retry blindly), or undefined. */
  classify(err: unknown): { reason: string; message: string } | undefined;
}

export { acceptUrl } from './link.ts';

export class SmtpInvitationMailer implements InvitationMailer {
  private readonly mailer: Mailer;
  private readonly signingKey: Buffer;
  private readonly publicUrl: string;

  constructor(mailer: Mailer, signingKey: Buffer, publicUrl: string) {
    this.mailer = mailer;
    this.signingKey = signingKey;
    this.publicUrl = publicUrl;
  }

  async send(req: InvitationRequest, signal?: AbortSignal): Promise<{ accepted: boolean; response: string }> {
    const { membership: m, organization: org, invitation: inv } = req;
    const organization = { name: org.metadata.name, displayName: org.spec.displayName };
    // The creator's authenticated username (the API server admits no other value), shown only as an identity.
    const inviter = inviterFromUsername(m.metadata.annotations?.[INVITED_BY_ANNOTATION], req.userPrefix);
    const content = req.notification
      ? accessGrantedEmail({ organization, role: m.spec.role, inviter })
      : invitationEmail({
          organization,
          role: m.spec.role,
          inviter,
          acceptUrl: acceptUrl(this.publicUrl, signToken(this.signingKey, { uid: m.metadata.uid!, email: m.spec.email, attempt: inv.attempts!, expiresAt: inv.expiresAt! })),
          expiresAt: inv.expiresAt!,
          attempt: inv.attempts!,
        });
    // No commit step: the dot goes at once (see MembershipReconciler.issue for why).
    return this.mailer.send({ to: m.spec.email, messageId: inv.messageId!, ...content }, undefined, signal);
  }

  classify(err: unknown): { reason: string; message: string } | undefined {
    if (err instanceof MailRejected) {
      return {
        reason: MembershipReasons.RecipientRejected,
        message: `The mail server refused the recipient (${err.message}); check spec.email (create a new Membership for a corrected address) or the mail server`,
      };
    }
    if (err instanceof MailUnavailable) {
      return { reason: MembershipReasons.SMTPUnavailable, message: `The mail server could not be reached (${err.message}); retrying with backoff` };
    }
    return undefined;
  }
}
