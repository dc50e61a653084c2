import { describe, expect, it } from 'vitest';
import type { Membership } from '../../api/index.ts';
import { MAX_AUTOMATIC_ATTEMPTS, isActiveMember, nextCheck, phaseOf, planInvitation } from './logic.ts';

const NOW = new Date('2026-03-01T12:00:00Z');
const HOUR = 3_600_000;
const TTL = 168 * HOUR;
const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
const later = (ms: number) => iso(new Date(NOW.getTime() + ms));
const msgId = (n: number) => `<invitation.uid-1.${n}@miniapps.dev>`;

/** A Membership of uid-1, changed by `mod`. */
function membership(mod: (m: Membership) => void = () => {}): Membership {
  const m: Membership = {
    apiVersion: 'miniapps.dev/v1alpha1',
    kind: 'Membership',
    metadata: { name: 'dev', namespace: 'org-acme', uid: 'uid-1', generation: 1 },
    spec: { email: 'dev@acme.example', role: 'MiniAppDeveloper' },
  };
  mod(m);
  return m;
}

const sent = (attempts: number, expiresAt: string, extra: object = {}) => (m: Membership) => {
  m.status = { invitation: { attempts, messageId: msgId(attempts), sentAt: iso(NOW), expiresAt, ...extra } };
};

describe('planInvitation', () => {
  it.each<[string, (m: Membership) => void, ReturnType<typeof planInvitation>]>([
    [
      'a new membership gets attempt 1: a Message-ID and an expiry, not yet sent',
      () => {},
      { kind: 'send', notification: false, invitation: { attempts: 1, messageId: msgId(1), expiresAt: later(TTL) } },
    ],
    [
      'an attempt recorded but not sent (a crash in between) is sent again as it is: same Message-ID, same link',
      (m) => (m.status = { invitation: { attempts: 1, messageId: msgId(1), expiresAt: later(HOUR) } }),
      { kind: 'send', notification: false, invitation: { attempts: 1, messageId: msgId(1), expiresAt: later(HOUR) } },
    ],
    [
      'an attempt recorded but not sent whose link already expired becomes the next attempt',
      (m) => (m.status = { invitation: { attempts: 1, messageId: msgId(1), expiresAt: later(-HOUR) } }),
      { kind: 'send', notification: false, invitation: { attempts: 2, messageId: msgId(2), expiresAt: later(TTL) } },
    ],
    ['a sent invitation that has not expired waits for its expiry', sent(1, later(HOUR)), { kind: 'none', recheckAt: new Date(later(HOUR)) }],
    [
      'an expired invitation is sent again automatically',
      sent(1, later(-HOUR)),
      { kind: 'send', notification: false, invitation: { attempts: 2, messageId: msgId(2), expiresAt: later(TTL) } },
    ],
    [`after ${MAX_AUTOMATIC_ATTEMPTS} attempts an expired invitation is not sent again by itself`, sent(MAX_AUTOMATIC_ATTEMPTS, later(-HOUR)), { kind: 'none' }],
    [
      'a new value of the resend annotation sends one more attempt, even after the automatic ones',
      (m) => {
        sent(MAX_AUTOMATIC_ATTEMPTS, later(-HOUR))(m);
        m.metadata.annotations = { 'miniapps.dev/resend-invitation': 'please' };
      },
      { kind: 'send', notification: false, invitation: { attempts: 4, messageId: msgId(4), expiresAt: later(TTL), resendRequest: 'please' } },
    ],
    [
      'a resend value already answered sends nothing',
      (m) => {
        sent(4, later(HOUR), { resendRequest: 'please' })(m);
        m.metadata.annotations = { 'miniapps.dev/resend-invitation': 'please' };
      },
      { kind: 'none', recheckAt: new Date(later(HOUR)) },
    ],
    ['an accepted invitation sends nothing', (m) => (m.status = { acceptedAt: iso(NOW), invitation: { attempts: 1, messageId: msgId(1), expiresAt: later(-HOUR), sentAt: iso(NOW) } }), { kind: 'none' }],
    ['a suspended membership sends nothing', (m) => (m.spec.suspended = true), { kind: 'none' }],
    [
      'acceptance Automatic sends one notification, with no link to expire',
      (m) => (m.spec.acceptance = 'Automatic'),
      { kind: 'send', notification: true, invitation: { attempts: 1, messageId: msgId(1) } },
    ],
    ['acceptance Automatic sends nothing once notified', (m) => ((m.spec.acceptance = 'Automatic'), (m.status = { invitation: { attempts: 1, messageId: msgId(1), sentAt: iso(NOW) } })), { kind: 'none' }],
  ])('%s', (_name, mod, expected) => {
    expect(planInvitation(membership(mod), NOW, TTL)).toEqual(expected);
  });
});

describe('phaseOf', () => {
  it.each<[string, (m: Membership) => void, string]>([
    ['invited until accepted', sent(1, later(HOUR)), 'Invited'],
    ['active once accepted', (m) => (m.status = { acceptedAt: iso(NOW) }), 'Active'],
    ['active at once with acceptance Automatic', (m) => (m.spec.acceptance = 'Automatic'), 'Active'],
    ['suspended whatever else', (m) => ((m.spec.suspended = true), (m.status = { acceptedAt: iso(NOW) })), 'Suspended'],
    ['still invited while automatic attempts remain', sent(1, later(-HOUR)), 'Invited'],
    ['expired when the last automatic attempt expired', sent(MAX_AUTOMATIC_ATTEMPTS, later(-HOUR)), 'Expired'],
  ])('%s', (_name, mod, phase) => {
    const m = membership(mod);
    expect(phaseOf(m, NOW)).toBe(phase);
    expect(isActiveMember(m)).toBe(phase === 'Active');
  });
});

describe('nextCheck', () => {
  it('looks again just after a pending invitation expires, and not at all once accepted', () => {
    expect(nextCheck(membership(sent(1, later(HOUR))), NOW)).toBe(HOUR + 1000);
    expect(nextCheck(membership((m) => (m.status = { acceptedAt: iso(NOW), invitation: { expiresAt: later(HOUR) } })), NOW)).toBeUndefined();
  });
});
