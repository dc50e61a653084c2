// Which link the acceptance page honours, on the in-memory caches and API server: the one of
// the attempt the Membership records (token.ts), also in the moment between the email going
// out and the controller recording it sent (status.invitation.sentAt), when the person may
// already be clicking it.
import { beforeEach, describe, expect, it } from 'vitest';
import type { Membership } from '../../api/membership/schema.ts';
import { Kinds } from '../../api/registry.ts';
import { Caches } from '../../domain/caches.ts';
import type { KubeClient } from '../../runtime/kube/client.ts';
import { FakeWorld } from '../testing.ts';
import { MembershipAcceptance } from './acceptance.ts';
import { invitationSentCondition } from './logic.ts';
import { signToken } from './token.ts';

const key = Buffer.alloc(32, 9);
const expiresAt = '2026-12-08T00:00:00Z';
let world: FakeWorld;
let acceptance: MembershipAcceptance;

beforeEach(() => {
  world = new FakeWorld();
  acceptance = new MembershipAcceptance({ client: world.store as unknown as KubeClient, domain: world.deps.domain, signingKey: key, clock: world.deps.clock });
});

/** An invited member whose status records `invitation`. */
function invited(invitation: NonNullable<Membership['status']>['invitation']): Membership {
  return world.put(Kinds.Membership, Caches.memberships, {
    apiVersion: 'miniapps.dev/v1alpha1',
    kind: 'Membership',
    metadata: { name: 'ada', namespace: 'org-acme', generation: 1 },
    spec: { email: 'ada@acme.example', role: 'MiniAppDeveloper' },
    status: { invitation },
  } as Membership);
}
const link = (m: Membership, attempt: number) => signToken(key, { uid: m.metadata.uid!, email: m.spec.email, attempt, expiresAt });

describe('the invitation link the page honours', () => {
  it('is the recorded attempt', async () => {
    const m = invited({ attempts: 2, messageId: '<2@x>', expiresAt, sentAt: '2026-12-01T00:00:00Z' });
    expect(await acceptance.describe(link(m, 2))).toMatchObject({ state: 'valid', email: 'ada@acme.example' });
  });

  it('is the recorded attempt also before its email is recorded sent (sentAt not written yet): the link is in the mailbox already', async () => {
    const m = invited({ attempts: 2, messageId: '<2@x>', expiresAt });
    expect(await acceptance.describe(link(m, 2))).toMatchObject({ state: 'valid', email: 'ada@acme.example' });
  });

  it('is never an earlier attempt: that link is refused as superseded by a newer invitation', async () => {
    const m = invited({ attempts: 2, messageId: '<2@x>', expiresAt });
    expect(await acceptance.describe(link(m, 1))).toMatchObject({ state: 'expired', message: expect.stringMatching(/A newer invitation was sent/) });
  });
});

describe('InvitationSent of a member who accepted before the send was recorded', () => {
  it('says the invitation went out (they used its link), never that it is about to be sent', () => {
    const m = invited({ attempts: 2, messageId: '<2@x>', expiresAt });
    const accepted = { ...m, status: { ...m.status, acceptedAt: '2026-12-01T00:00:05Z' } } as Membership;
    expect(invitationSentCondition(accepted, undefined)).toMatchObject({
      status: 'True',
      reason: 'InvitationSent',
      message: expect.stringMatching(/^Invitation 2 sent to ada@acme\.example; accepted at 2026-12-01T00:00:05Z/),
    });
    // Not yet accepted: still about to be sent.
    expect(invitationSentCondition(m, undefined)).toMatchObject({ status: 'False', reason: 'InvitationPending' });
  });
});
