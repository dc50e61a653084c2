import { describe, expect, it } from 'vitest';
import type { Membership } from '../../api/membership/schema.ts';
import { loadConfig, settingsOf } from '../../runtime/config.ts';
import { membershipSettings } from './settings.ts';
import {
  firstInvitationRecipient,
  FIRST_INVITATION_WINDOW_MS,
  MAX_AUTOMATIC_ATTEMPTS,
  admitFirstInvitation,
  firstInvitationHeldCondition,
  RESEND_LIMIT_PER_ORG,
  RESEND_MIN_INTERVAL_MS,
  isActiveMember,
  membershipConditions,
  nextCheck,
  phaseOf,
  planInvitation,
} from './logic.ts';
import type { ResendHold, ResendPolicy } from './logic.ts';

const NOW = new Date('2026-03-01T12:00:00Z');
const MIN = 60_000;
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

const sent =
  (attempts: number, expiresAt: string, extra: object = {}) =>
  (m: Membership) => {
    m.status = { invitation: { attempts, messageId: msgId(attempts), sentAt: iso(NOW), expiresAt, ...extra } };
  };

/** The defaults, in an organization where no other membership had a resend lately. */
const POLICY: ResendPolicy = { intervalMs: RESEND_MIN_INTERVAL_MS, limitPerOrganization: RESEND_LIMIT_PER_ORG, organizationResends: [] };
/** `n` resend times of other memberships, evenly from `from` to `to` (ms from NOW). */
const others = (n: number, from: number, to: number) => Array.from({ length: n }, (_, i) => later(from + (n > 1 ? ((to - from) * i) / (n - 1) : 0)));
const annotate = (value: string) => (m: Membership) => (m.metadata.annotations = { 'miniapps.dev/resend-invitation': value });
const all =
  (...mods: ((m: Membership) => void)[]) =>
  (m: Membership) => {
    for (const f of mods) f(m);
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
    ['an expired invitation is sent again automatically', sent(1, later(-HOUR)), { kind: 'send', notification: false, invitation: { attempts: 2, messageId: msgId(2), expiresAt: later(TTL) } }],
    [`after ${MAX_AUTOMATIC_ATTEMPTS} attempts an expired invitation is not sent again by itself`, sent(MAX_AUTOMATIC_ATTEMPTS, later(-HOUR)), { kind: 'none' }],
    [
      'a new value of the resend annotation sends one more attempt, even after the automatic ones',
      (m) => {
        sent(MAX_AUTOMATIC_ATTEMPTS, later(-HOUR), { sentAt: later(-HOUR - TTL) })(m);
        m.metadata.annotations = { 'miniapps.dev/resend-invitation': 'please' };
      },
      { kind: 'send', notification: false, requested: true, invitation: { attempts: 4, messageId: msgId(4), expiresAt: later(TTL), resendRequest: 'please', recentResends: [iso(NOW)] } },
    ],
    [
      'a resend value already answered sends nothing',
      (m) => {
        sent(4, later(HOUR), { resendRequest: 'please' })(m);
        m.metadata.annotations = { 'miniapps.dev/resend-invitation': 'please' };
      },
      { kind: 'none', recheckAt: new Date(later(HOUR)) },
    ],
    [
      'an accepted invitation sends nothing',
      (m) => (m.status = { acceptedAt: iso(NOW), invitation: { attempts: 1, messageId: msgId(1), expiresAt: later(-HOUR), sentAt: iso(NOW) } }),
      { kind: 'none' },
    ],
    ['a suspended membership sends nothing', (m) => (m.spec.suspended = true), { kind: 'none' }],
    [
      'acceptance Automatic sends one notification, with no link to expire',
      (m) => (m.spec.acceptance = 'Automatic'),
      { kind: 'send', notification: true, invitation: { attempts: 1, messageId: msgId(1) } },
    ],
    [
      'acceptance Automatic sends nothing once notified',
      (m) => ((m.spec.acceptance = 'Automatic'), (m.status = { invitation: { attempts: 1, messageId: msgId(1), sentAt: iso(NOW) } })),
      { kind: 'none' },
    ],
  ])('%s', (_name, mod, expected) => {
    expect(planInvitation(membership(mod), NOW, TTL, POLICY)).toEqual(expected);
  });
});

describe('planInvitation within the resend limits', () => {
  const resend = (recentResends: string[] = [iso(NOW)]): ReturnType<typeof planInvitation> => ({
    kind: 'send',
    notification: false,
    requested: true,
    invitation: { attempts: 2, messageId: msgId(2), expiresAt: later(TTL), resendRequest: 'again', recentResends },
  });
  const membershipHold = (until: number, previousAt: string): ResendHold => ({ request: 'again', until: new Date(later(until)), limit: 'membership', intervalMs: RESEND_MIN_INTERVAL_MS, previousAt });
  const organizationHold = (until: number, resends = RESEND_LIMIT_PER_ORG): ResendHold => ({
    request: 'again',
    until: new Date(later(until)),
    limit: 'organization',
    resends,
    limitPerOrganization: RESEND_LIMIT_PER_ORG,
  });

  it.each<[string, (m: Membership) => void, string[], ReturnType<typeof planInvitation>]>([
    [
      'a resend asked for within 10 minutes of the previous invitation is held until 10 minutes after it, the invitation sent staying as it is',
      all(sent(1, later(TTL), { sentAt: later(-4 * MIN) }), annotate('again')),
      [],
      { kind: 'none', recheckAt: new Date(later(TTL)), hold: membershipHold(6 * MIN, later(-4 * MIN)) },
    ],
    ['a resend asked for 10 minutes after the previous invitation goes, and is recorded as one', all(sent(1, later(TTL), { sentAt: later(-10 * MIN) }), annotate('again')), [], resend()],
    [
      'the 21st resend in an hour in one organization is held until the oldest of the 20 leaves the window',
      all(sent(1, later(TTL), { sentAt: later(-2 * HOUR) }), annotate('again')),
      others(20, -50 * MIN, -MIN),
      { kind: 'none', recheckAt: new Date(later(TTL)), hold: organizationHold(10 * MIN) },
    ],
    ['the 20th resend in an hour in one organization goes', all(sent(1, later(TTL), { sentAt: later(-2 * HOUR) }), annotate('again')), others(19, -50 * MIN, -MIN), resend()],
    ['resends more than an hour ago no longer count', all(sent(1, later(TTL), { sentAt: later(-2 * HOUR) }), annotate('again')), [later(-HOUR), ...others(19, -50 * MIN, -MIN)], resend()],
    [
      "the membership's own resends of the last hour count towards the organization's limit, and those older are dropped",
      all(sent(3, later(TTL), { sentAt: later(-15 * MIN), resendRequest: 'before', recentResends: [later(-2 * HOUR), ...others(5, -55 * MIN, -15 * MIN)] }), annotate('again')),
      others(15, -40 * MIN, -MIN),
      { kind: 'none', recheckAt: new Date(later(TTL)), hold: organizationHold(5 * MIN) },
    ],
    [
      'with both limits reached, the resend is held until the later of the two',
      all(sent(1, later(TTL), { sentAt: later(-MIN) }), annotate('again')),
      others(20, -58 * MIN, -MIN),
      { kind: 'none', recheckAt: new Date(later(TTL)), hold: membershipHold(9 * MIN, later(-MIN)) },
    ],
    [
      'automatic resends on expiry are unaffected by the limits',
      sent(1, later(-HOUR), { sentAt: later(-MIN) }),
      others(40, -30 * MIN, -MIN),
      { kind: 'send', notification: false, invitation: { attempts: 2, messageId: msgId(2), expiresAt: later(TTL) } },
    ],
    [
      'an automatic resend on expiry that comes while a resend is held answers it, and is not counted as one',
      all(sent(1, later(-MIN), { sentAt: later(-5 * MIN) }), annotate('again')),
      [],
      { kind: 'send', notification: false, invitation: { attempts: 2, messageId: msgId(2), expiresAt: later(TTL), resendRequest: 'again' } },
    ],
    [
      'after the last automatic attempt expired, a held resend sends nothing until allowed',
      all(sent(MAX_AUTOMATIC_ATTEMPTS, later(-MIN), { sentAt: later(-2 * MIN) }), annotate('again')),
      [],
      { kind: 'none', hold: { ...membershipHold(8 * MIN, later(-2 * MIN)) } },
    ],
    [
      'an attempt recorded but not sent is still sent while a resend asked for after it is held',
      all((m) => (m.status = { invitation: { attempts: 2, messageId: msgId(2), expiresAt: later(TTL), resendRequest: 'first', recentResends: [later(-2 * MIN)] } }), annotate('again')),
      [],
      {
        kind: 'send',
        notification: false,
        invitation: { attempts: 2, messageId: msgId(2), expiresAt: later(TTL), resendRequest: 'first', recentResends: [later(-2 * MIN)] },
        hold: membershipHold(8 * MIN, later(-2 * MIN)),
      },
    ],
    [
      'the first invitation is not limited, even with the annotation set and the organization at its limit',
      annotate('again'),
      others(20, -50 * MIN, -MIN),
      { kind: 'send', notification: false, invitation: { attempts: 1, messageId: msgId(1), expiresAt: later(TTL), resendRequest: 'again' } },
    ],
  ])('%s', (_name, mod, organizationResends, expected) => {
    expect(planInvitation(membership(mod), NOW, TTL, { ...POLICY, organizationResends })).toEqual(expected);
  });

  it('a held resend keeps its annotation pending and is sent when allowed, by itself', () => {
    const m = membership(all(sent(1, later(TTL), { sentAt: later(-4 * MIN) }), annotate('again')));
    const held = planInvitation(m, NOW, TTL, POLICY);
    expect(held.kind).toBe('none');
    const until = held.hold!.until;
    expect(nextCheck(m, NOW, held.hold)).toBe(until.getTime() - NOW.getTime() + 1000);
    // Nothing was recorded: the same membership, planned again once allowed, gets its resend.
    expect(planInvitation(m, new Date(until.getTime() - 1000), TTL, POLICY).hold).toEqual(held.hold);
    const due = planInvitation(m, until, TTL, POLICY);
    expect(due).toMatchObject({ kind: 'send', requested: true, invitation: { attempts: 2, resendRequest: 'again', recentResends: [iso(until)] } });
    expect(due.hold).toBeUndefined();
  });

  it('the defaults are those of the operator flags', () => {
    expect(settingsOf(loadConfig([], {}, [membershipSettings]), membershipSettings)).toMatchObject({ invitationResendIntervalMs: RESEND_MIN_INTERVAL_MS, invitationResendLimit: RESEND_LIMIT_PER_ORG });
  });
});

describe('membershipConditions with a held resend', () => {
  const access = { bound: false, subject: 'dev@acme.example', namespace: 'org-acme', roleName: 'member-dev' };
  const byType = (conditions: ReturnType<typeof membershipConditions>) => Object.fromEntries(conditions.map((c) => [c.type, c]));

  it('says when the resend goes out and which limit holds it, while Ready keeps reflecting the valid invitation sent', () => {
    const m = membership(all(sent(1, later(TTL), { sentAt: later(-4 * MIN) }), annotate('again')));
    const hold = planInvitation(m, NOW, TTL, POLICY).hold!;
    const c = byType(membershipConditions(m, phaseOf(m, NOW), access, undefined, hold));
    expect(c.InvitationSent).toEqual({
      type: 'InvitationSent',
      status: 'False',
      reason: 'ResendRateLimited',
      message: `The resend asked for through miniapps.dev/resend-invitation is held until ${later(6 * MIN)}: the per membership limit allows one resend every 10m and the previous invitation went out at ${later(-4 * MIN)}; it goes out then by itself`,
    });
    expect(c.Ready).toMatchObject({ status: 'True', reason: 'AwaitingAcceptance' });
  });

  it('names the organization limit when that is what holds it', () => {
    const m = membership(all(sent(1, later(TTL), { sentAt: later(-2 * HOUR) }), annotate('again')));
    const hold = planInvitation(m, NOW, TTL, { ...POLICY, organizationResends: others(20, -50 * MIN, -MIN) }).hold!;
    expect(byType(membershipConditions(m, 'Invited', access, undefined, hold)).InvitationSent!.message).toBe(
      `The resend asked for through miniapps.dev/resend-invitation is held until ${later(10 * MIN)}: the per organization limit allows 20 resends per rolling hour and the organization has had 20; it goes out then by itself`,
    );
  });

  it('leaves an expired invitation not Ready, saying when the held resend goes out', () => {
    const m = membership(all(sent(MAX_AUTOMATIC_ATTEMPTS, later(-MIN), { sentAt: later(-2 * MIN) }), annotate('again')));
    const hold = planInvitation(m, NOW, TTL, POLICY).hold!;
    const c = byType(membershipConditions(m, phaseOf(m, NOW), access, undefined, hold));
    expect(c.Ready).toMatchObject({ status: 'False', reason: 'InvitationExpired', message: expect.stringContaining(`goes out at ${later(8 * MIN)}`) });
  });

  it('reports a failed send before a held resend', () => {
    const m = membership(all(sent(1, later(TTL), { sentAt: later(-4 * MIN) }), annotate('again')));
    const problem = { type: 'InvitationSent', status: 'False' as const, reason: 'SMTPUnavailable', message: 'down' };
    const c = byType(membershipConditions(m, 'Invited', access, problem, planInvitation(m, NOW, TTL, POLICY).hold));
    expect(c.InvitationSent).toEqual(problem);
    expect(c.Ready).toMatchObject({ status: 'False', reason: 'SMTPUnavailable' });
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
    expect(
      nextCheck(
        membership((m) => (m.status = { acceptedAt: iso(NOW), invitation: { expiresAt: later(HOUR) } })),
        NOW,
      ),
    ).toBeUndefined();
  });
});

describe('admitFirstInvitation: the first-email limits that outlive Memberships (issue 16, item 7)', () => {
  const limits = { perRecipient: 3, perOrganization: 5 };
  const at = (msAgo: number) => iso(new Date(NOW.getTime() - msAgo));
  const admitted = (record: Parameters<typeof admitFirstInvitation>[0], recipient = 'r1') => {
    const d = admitFirstInvitation(record, recipient, NOW, limits);
    if ('hold' in d) throw new Error(`held: ${JSON.stringify(d.hold)}`);
    return d.record;
  };

  it('records the first email before it goes out, and drops what left the day', () => {
    expect(admitted(undefined)).toEqual([{ recipient: 'r1', sentAt: iso(NOW) }]);
    expect(
      admitted([
        { recipient: 'r2', sentAt: at(FIRST_INVITATION_WINDOW_MS + 1) },
        { recipient: 'r2', sentAt: at(MIN) },
      ]),
    ).toEqual([
      { recipient: 'r2', sentAt: at(MIN) },
      { recipient: 'r1', sentAt: iso(NOW) },
    ]);
  });

  it('holds the fourth first email to one address in a day, until the oldest leaves the day', () => {
    const record = [at(3 * HOUR), at(2 * HOUR), at(HOUR)].map((sentAt) => ({ recipient: 'r1', sentAt }));
    const d = admitFirstInvitation(record, 'r1', NOW, limits);
    expect(d).toEqual({ hold: { until: new Date(NOW.getTime() - 3 * HOUR + FIRST_INVITATION_WINDOW_MS), limit: 'recipient', count: 3, max: 3 } });
    expect(admitted(record, 'r2')).toHaveLength(4); // another address is not held by it
    expect(firstInvitationHeldCondition((d as { hold: Parameters<typeof firstInvitationHeldCondition>[0] }).hold)).toMatchObject({
      status: 'False',
      reason: 'InvitationRateLimited',
      message: expect.stringContaining('per recipient limit allows 3'),
    });
  });

  it('holds any first email once the organization had its limit in a day, whoever they went to', () => {
    const record = ['a', 'b', 'c', 'd', 'e'].map((recipient, i) => ({ recipient, sentAt: at((5 - i) * HOUR) }));
    const d = admitFirstInvitation(record, 'f', NOW, limits);
    expect(d).toEqual({ hold: { until: new Date(NOW.getTime() - 5 * HOUR + FIRST_INVITATION_WINDOW_MS), limit: 'organization', count: 5, max: 5 } });
  });

  it('a Membership admitted before (its process died before the attempt was recorded) is counted once, not held', () => {
    const record = [at(3 * HOUR), at(2 * HOUR)].map((sentAt) => ({ recipient: 'r1', sentAt }));
    const once = admitFirstInvitation(record, 'r1', NOW, limits, 'm1');
    if ('hold' in once) throw new Error('held');
    expect(once.record).toHaveLength(3);
    const again = admitFirstInvitation(once.record, 'r1', new Date(NOW.getTime() + MIN), limits, 'm1');
    expect(again).toEqual({ record: once.record });
    expect(admitFirstInvitation(once.record, 'r1', NOW, limits, 'm2')).toMatchObject({ hold: { limit: 'recipient' } });
  });

  it('an unreadable time is not counted (and dropped)', () => {
    expect(admitted([{ recipient: 'r1', sentAt: 'soon' }])).toEqual([{ recipient: 'r1', sentAt: iso(NOW) }]);
  });
});

describe("firstInvitationRecipient: one case-fold rule (issue 16, item 16; the review's finding 7)", () => {
  const key = Buffer.alloc(32, 9);
  it('folds only the ASCII letters, as RBAC subjects and the admission policies do: a Kelvin sign is another recipient', () => {
    expect(firstInvitationRecipient(key, 'acme', 'KARL@Acme.example')).toBe(firstInvitationRecipient(key, 'acme', 'karl@acme.example'));
    expect(firstInvitationRecipient(key, 'acme', '\u212Aarl@acme.example')).not.toBe(firstInvitationRecipient(key, 'acme', 'karl@acme.example'));
  });
});
