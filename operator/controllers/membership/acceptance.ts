import type { Membership } from '../../api/membership/schema.ts';
import type { Organization } from '../../api/organization/schema.ts';
import { lowerAscii } from '../../api/constants.ts';
import type { Domain } from '../../domain/lookups.ts';
import { rfc3339 } from '../../runtime/clock.ts';
import type { Clock } from '../../runtime/clock.ts';
import { isConflict } from '../../runtime/errors.ts';
import type { KubeClient } from '../../runtime/kube/client.ts';
import { ObjectWriter } from '../../runtime/apply.ts';
import { verifyToken } from './token.ts';
import type { AcceptBackend, AcceptResult, AcceptView } from './accept.ts';
import { Index } from '../../domain/caches.ts';
import { Kinds } from '../../api/registry.ts';

/** The field manager of acceptedAt: the acceptance page, not the reconciler, records it. */
export const ACCEPTANCE_FIELD_MANAGER = 'miniapps-operator-acceptance';

type Refusal = Exclude<AcceptView, { state: 'valid' }>;

/**
 * What the acceptance page asks of Memberships. A link is good only for the
 * Membership (uid) and email it was made for, for the current attempt (a newer
 * invitation voids older links), until it expires, and once: accepting records
 * status.acceptedAt with a compare-and-swap on a fresh read, so two clicks, two
 * replicas or a stale cache cannot accept twice.
 */
export class MembershipAcceptance implements AcceptBackend {
  private readonly client: KubeClient;
  private readonly writer: ObjectWriter;
  private readonly domain: Domain;
  private readonly signingKey: Buffer;
  private readonly clock: Clock;

  constructor(opts: { client: KubeClient; domain: Domain; signingKey: Buffer; clock: Clock }) {
    this.client = opts.client;
    this.writer = new ObjectWriter(opts.client);
    this.domain = opts.domain;
    this.signingKey = opts.signingKey;
    this.clock = opts.clock;
  }

  async describe(token: string): Promise<AcceptView> {
    const found = await this.resolve(token);
    if ('state' in found) return found;
    const { membership: m, org } = found;
    return { state: 'valid', organization: org?.spec.displayName ?? m.metadata.namespace!, role: m.spec.role, email: m.spec.email, expiresAt: m.status!.invitation!.expiresAt! };
  }

  async accept(token: string): Promise<AcceptResult> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const found = await this.resolve(token);
      if ('state' in found) return found;
      const { membership: m, org } = found;
      try {
        await this.writer.applyStatus(Kinds.Membership, m, { acceptedAt: rfc3339(this.clock.now()) }, { fieldManager: ACCEPTANCE_FIELD_MANAGER, resourceVersion: m.metadata.resourceVersion });
        return { state: 'accepted', organization: org?.spec.displayName ?? m.metadata.namespace!, role: m.spec.role, email: m.spec.email };
      } catch (err) {
        if (!isConflict(err)) throw err; // changed meanwhile: read again and decide again
      }
    }
    throw new Error('The membership kept changing; try again');
  }

  /** The Membership a token is good for, read fresh from the API server, or why there is none. */
  private async resolve(token: string): Promise<{ membership: Membership; org?: Organization } | Refusal> {
    const verified = verifyToken(this.signingKey, token, this.clock.now());
    if (!verified.ok) {
      return verified.reason === 'expired'
        ? { state: 'expired', message: 'This invitation has expired. Ask an administrator of the organization to send a new one.' }
        : { state: 'invalid', message: 'This invitation link is not valid. Check that you opened the whole link from the email.' };
    }
    const { claims } = verified;
    const cached = this.domain.memberships.byIndex(Index.uid, claims.uid)[0];
    const m = cached && (await this.client.get<Membership>(Kinds.Membership, cached.metadata.name, cached.metadata.namespace));
    if (!m || m.metadata.uid !== claims.uid || m.metadata.deletionTimestamp || lowerAscii(m.spec.email) !== lowerAscii(claims.email)) {
      return { state: 'unknown', message: 'This invitation no longer exists. Ask an administrator of the organization to invite you again.' };
    }
    if (m.status?.acceptedAt) return { state: 'used', message: 'This invitation has already been accepted.' };
    if (m.spec.suspended) return { state: 'invalid', message: 'This membership is suspended. Ask an administrator of the organization.' };
    const inv = m.status?.invitation;
    if (!inv?.sentAt || inv.attempts !== claims.attempt) {
      return { state: 'expired', message: 'A newer invitation was sent for this membership. Use the link in the most recent email.' };
    }
    return { membership: m, org: this.domain.organizationOf(m.metadata.namespace) };
  }
}
