// The roles a frontend app's token carries, and a user's status from their groups.
import { describe, expect, it } from 'vitest';
import type { UserGroup } from '../../api/usergroup/schema.ts';
import { memberGroups, resolveUser } from './logic.ts';
import { linkValidity } from './accounts.ts';
import { tokenRoles } from '../../domain/solutions.ts';

const r = (name: string) => `role:gated-frontend:${name}`;
const p = (name: string) => `platform:role:gated-frontend:${name}`;

describe('tokenRoles', () => {
  it.each([
    { case: "the seed's example: a user with a, b, c, d and an app requiring a, b gets a, b", user: [r('a'), r('b'), r('c'), r('d')], required: [p('a'), p('b')], want: [r('a'), r('b')] },
    { case: 'a required role the user lacks is not added', user: [r('a')], required: [p('a'), p('b')], want: [r('a')] },
    { case: 'an app requiring nothing gets nothing', user: [r('a'), r('b')], required: [], want: [] },
    { case: 'a user without roles gets nothing', user: [], required: [p('a')], want: [] },
    { case: 'the same role name of another listing does not count', user: ['role:other-app:a'], required: [p('a')], want: [] },
    { case: 'a required entry without the platform: prefix matches nothing', user: [r('a')], required: [r('a')], want: [] },
    {
      case: "seed 003's frontend file: role ids of several parts (listing platform:app:example) are matched whole",
      user: ['role:platform:app:example:users', 'role:platform:app:dispatch:viewer', 'role:dispatch-orders-app:dispatch-get-orders', 'role:platform:app:other:users'],
      required: [
        'platform:role:platform:app:example:users',
        'platform:role:platform:app:example:users-admin',
        'platform:role:platform:app:dispatch:viewer',
        'platform:role:platform:app:dispatch:editor',
      ],
      want: ['role:platform:app:dispatch:viewer', 'role:platform:app:example:users'],
    },
    { case: 'duplicates come out once, sorted', user: [r('b'), r('a'), r('b')], required: [p('b'), p('a')], want: [r('a'), r('b')] },
  ])('$case', ({ user, required, want }) => {
    expect(tokenRoles(user, required)).toEqual(want);
  });

  it("is always a subset of both sides: of the user's roles, and of the roles the app requires (500 random cases)", () => {
    // A small seeded generator (mulberry32): the same cases every run, a failure reproducible.
    let seed = 0x5eed;
    const rand = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pool = ['a', 'b', 'c', 'd', 'e', 'f'].flatMap((n) => [`role:x:${n}`, `role:y:${n}`]);
    const pick = () => pool.filter(() => rand() < 0.4);
    let nonEmpty = 0;
    for (let i = 0; i < 500; i++) {
      const user = pick();
      const required = pick().map((role) => `platform:${role}`);
      const got = tokenRoles(user, required);
      for (const role of got) {
        expect(user).toContain(role);
        expect(required).toContain(`platform:${role}`);
      }
      // And nothing is left out: every role on both sides is in it.
      expect(got).toEqual(user.filter((role) => required.includes(`platform:${role}`)).sort());
      if (got.length > 0) nonEmpty++;
    }
    expect(nonEmpty).toBeGreaterThan(100);
  });
});

const group = (name: string, roles: string[], landingPage?: { url: string; rank: number }): UserGroup => ({
  apiVersion: 'miniapps.dev/v1alpha1',
  kind: 'UserGroup',
  metadata: { name, namespace: 't' },
  spec: { roles, ...(landingPage ? { landingPage } : {}) },
});

describe('resolveUser', () => {
  const groups = new Map([
    ['owner', group('owner', [r('owner'), r('viewer')], { url: '/owner', rank: 2 })],
    ['field', group('field', [r('viewer'), r('entry')], { url: '/field', rank: 3 })],
    ['admin', group('admin', [r('admin')], { url: '/admin', rank: 1 })],
    ['tie', group('tie', [], { url: '/tie', rank: 2 })],
  ]);
  const of = (n: string) => groups.get(n);

  it('unions the roles of the groups that exist, sorted', () => {
    expect(resolveUser(['owner', 'field'], [], of).effectiveRoles).toEqual([r('entry'), r('owner'), r('viewer')]);
  });

  it('lands on the page of the lowest rank number, a tie going to the group name that sorts first', () => {
    expect(resolveUser(['field', 'owner'], [], of).landingPage).toEqual({ url: '/owner', rank: 2, group: 'owner' });
    expect(resolveUser(['tie', 'owner'], [], of).landingPage).toEqual({ url: '/owner', rank: 2, group: 'owner' });
    expect(resolveUser(['field', 'owner'], ['admin'], of).landingPage).toEqual({ url: '/admin', rank: 1, group: 'admin' });
  });

  it('lists the groups that do not exist, and they give nothing', () => {
    const u = resolveUser(['field', 'ghost', 'another'], [], of);
    expect(u.missing).toEqual(['another', 'ghost']);
    expect(u.effectiveRoles).toEqual([r('entry'), r('viewer')]);
  });

  it('adds the admin groups to the groups, once', () => {
    expect(resolveUser(['admin', 'field'], ['admin'], of).groups).toEqual(['admin', 'field']);
  });
});

describe('memberGroups (seed 003: group names as the seed writes them, designations mapped to groups)', () => {
  const tenant = {
    spec: {
      displayName: 't',
      designations: [
        { designation: 'new tenant admin', groups: ['solutions admin', 'business owner'] },
        { designation: 'Field Agent', groups: ['field executive'] },
      ],
    },
  };
  const user = (spec: Record<string, unknown>) => ({ spec: { userCode: 'u', firstName: 'U', email: 'u@x.example', ...spec } });
  it.each([
    { case: 'a group name with spaces names the UserGroup of its dashed form', spec: { groups: ['solutions admin'] }, want: ['solutions-admin'] },
    { case: 'the seed written with or without its lost dashes is one group', spec: { groups: ['solutions admin', 'solutions-admin', 'Solutions Admin'] }, want: ['solutions-admin'] },
    { case: 'a designation mapped one to many adds each of its groups', spec: { designation: 'new tenant admin' }, want: ['business-owner', 'solutions-admin'] },
    { case: 'a designation is compared as group names are', spec: { designation: 'New-Tenant-Admin', groups: ['team lead'] }, want: ['business-owner', 'solutions-admin', 'team-lead'] },
    { case: 'a designation mapped one to one adds its group', spec: { designation: 'field agent' }, want: ['field-executive'] },
    { case: 'a designation the tenant does not map adds nothing', spec: { designation: 'auditor', groups: ['x'] }, want: ['x'] },
  ])('$case', ({ spec, want }) => {
    expect(memberGroups(user(spec) as never, tenant as never)).toEqual(want);
  });

  it('without a tenant, only spec.groups count', () => {
    expect(memberGroups(user({ designation: 'new tenant admin', groups: ['a b'] }) as never, undefined)).toEqual(['a-b']);
  });
});

describe('linkValidity', () => {
  it('says how long a set-password link works in the email and the AccountReady condition alike (the condition said "168 hours", or "0 hours" for a short link)', () => {
    expect(linkValidity(7 * 24 * 3600_000)).toBe('7 days');
    expect(linkValidity(24 * 3600_000)).toBe('1 day');
    expect(linkValidity(30 * 60_000)).toBe('30 minutes');
    expect(linkValidity(1_000)).toBe('1 minute');
  });
});
