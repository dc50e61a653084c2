import { describe, expect, it } from 'vitest';
import type { Obj } from './api.ts';
import { stageName } from './i18n.ts';
import { SEED_USER } from './seed-user.fixture.ts';
import {
  EMPTY_USER_FORM,
  fieldOfRefusal,
  groupChoices,
  listOf,
  namesGroup,
  roleParts,
  rolesWithSources,
  solutionsOf,
  toggleGroup,
  userFormOf,
  userObjectName,
  userPatch,
  userSpecFrom,
} from './tenant-logic.ts';

const user = (spec: Record<string, unknown>): Obj => ({ metadata: { name: 'user123' }, spec });

describe('the createUsers form', () => {
  it('sends the fields as typed, lists split on commas, empty fields left out', () => {
    expect(
      userSpecFrom({
        ...EMPTY_USER_FORM,
        userCode: ' user123 ',
        firstName: 'John',
        lastName: 'Doe',
        email: 'john.doe@example.com',
        countryCode: '+1',
        number: '5551234567',
        groups: 'solutions admin, business owner,, solutions admin',
        designation: 'new tenant admin',
        workLocations: 'hq-1',
      }),
    ).toEqual({
      userCode: 'user123',
      firstName: 'John',
      lastName: 'Doe',
      email: 'john.doe@example.com',
      primaryMobile: { countryCode: '+1', number: '5551234567' },
      groups: ['solutions admin', 'business owner'],
      designation: 'new tenant admin',
      workLocations: ['hq-1'],
    });
  });

  it('does not check the email: a malformed one goes to the API server, whose message is shown', () => {
    expect(userSpecFrom({ ...EMPTY_USER_FORM, userCode: 'u', email: 'not-an-email' }).email).toBe('not-an-email');
  });

  it.each([
    ['user123', 'user123'],
    ['User 123', 'user-123'],
    ['--EMP_42--', 'emp-42'],
  ])('names the User %j as %j', (code, name) => expect(userObjectName(code)).toBe(name));

  it('lists ignore blanks and repeats', () => expect(listOf(' a, ,b,a ')).toEqual(['a', 'b']));

  it("takes every field of the seed's createUsers body: the body read into the form is sent back as it was", () => {
    const form = userFormOf(user(SEED_USER));
    expect(Object.values(form).every((v) => v !== '')).toBe(true);
    expect(userSpecFrom(form)).toEqual(SEED_USER);
  });

  it('sends a mobile or the identification with one part filled in, the other empty, for the API server to refuse by that part', () => {
    expect(userSpecFrom({ ...EMPTY_USER_FORM, userCode: 'u', secondaryNumber: '555', idType: 'passport' })).toEqual({
      userCode: 'u',
      secondaryMobile: { countryCode: '', number: '555' },
      identification: { idType: 'passport', idNum: '' },
    });
  });
});

describe("picking the tenant's groups", () => {
  const groups: Obj[] = [
    { metadata: { name: 'solutions-owner' }, spec: { displayName: 'solutions owner' } },
    { metadata: { name: 'field-executive' }, spec: { displayName: 'field executive' } },
    { metadata: { name: 'by-hand' }, spec: {} },
  ];
  const owner = { name: 'solutions-owner', label: 'solutions owner' };

  it('offers each group by the name the manifests write, else its object name, sorted', () =>
    expect(groupChoices(groups).map((c) => c.label)).toEqual(['by-hand', 'field executive', 'solutions owner']));

  it('sees a group typed in any spelling the operator takes for it', () => {
    expect(namesGroup('Solutions  Owner, x', 'solutions-owner')).toBe(true);
    expect(namesGroup('solutions_owner', 'solutions-owner')).toBe(true);
    expect(namesGroup('solutions owners', 'solutions-owner')).toBe(false);
  });

  it('adds a group as the manifests write it, and takes out every spelling of it', () => {
    expect(toggleGroup('field executive', owner, true)).toBe('field executive, solutions owner');
    expect(toggleGroup('Solutions-Owner, field executive, solutions owner', owner, false)).toBe('field executive');
    expect(toggleGroup('', owner, true)).toBe('solutions owner');
  });
});

describe("where the API server's refusal is shown", () => {
  it.each([
    ['User.miniapps.dev "user123" is invalid: spec.email: Invalid value: "x": spec.email in body must be of type email: "x"', 'email'],
    ['spec.primaryMobile.number: Invalid value: "abc": spec.primaryMobile.number in body should match', 'number'],
    ['spec.primaryMobile.countryCode: Invalid value', 'countryCode'],
    ['spec.groups[0]: Invalid value: "a/b"', 'groups'],
    ['metadata.name: Invalid value: "": a lowercase RFC 1123 subdomain', undefined],
    ['spec.identification: Invalid value', undefined],
    ['spec.secondaryMobile.countryCode: Invalid value: "": spec.secondaryMobile.countryCode in body should match', 'secondaryCountryCode'],
    ['spec.secondaryMobile.number: Invalid value', 'secondaryNumber'],
    ['spec.identification.idNum: Invalid value: "": spec.identification.idNum in body should be at least 1 chars long', 'idNum'],
    ['spec.aaaGroups[0]: Invalid value', 'aaaGroups'],
    ['spec.function: Too long', 'function'],
  ] as const)('%s: next to %s', (message, field) => expect(fieldOfRefusal(message)).toBe(field));
});

describe('editing a user', () => {
  const before = user({ userCode: 'user123', email: 'j@example.com', groups: ['a'], designation: 'field agent', identification: { idType: 'passport', idNum: 'P1' }, mobiles: ['+1 555 0100'] });

  it('patches only what changed, removes what was cleared, and keeps fields the form does not show (the older mobiles list)', () => {
    const form = { ...userFormOf(before), groups: 'a, b', designation: '', firstName: 'John' };
    expect(userPatch(before, form)).toEqual({ groups: ['a', 'b'], designation: null, firstName: 'John' });
  });

  it('sends a changed identification whole, and null for one cleared', () => {
    expect(userPatch(before, { ...userFormOf(before), idNum: 'P2' })).toEqual({ identification: { idType: 'passport', idNum: 'P2' } });
    expect(userPatch(before, { ...userFormOf(before), idType: '', idNum: '' })).toEqual({ identification: null });
  });

  it('an unchanged form is an empty patch', () => expect(userPatch(before, userFormOf(before))).toEqual({}));
});

describe('how a role id is read (docs/seed003.md)', () => {
  it.each([
    ['role:dispatch-orders-app:dispatch-get-orders', 'dispatch-orders-app', 'dispatch-get-orders'],
    ['platform:role:platform:app:example:users', 'platform:app:example', 'users'],
    ['role:a:b:c', 'a:b', 'c'],
  ])('%s is role %s of listing %s', (id, listing, name) => expect(roleParts(id)).toEqual({ listing, name }));
});

describe("each role's source", () => {
  it('lists every role with the manifests that grant it; a role with none recorded has no source', () => {
    const g: Obj = {
      metadata: { name: 'solutions-owner' },
      status: {
        effectiveRoles: ['role:x:a', 'role:x:b'],
        roleSources: [
          { role: 'role:x:b', sources: ['Solution org/gated', 'AppManifest org/frontend'] },
          { role: 'role:x:a', sources: ['spec'] },
        ],
      },
    };
    expect(rolesWithSources(g)).toEqual([
      { role: 'role:x:a', sources: ['spec'] },
      { role: 'role:x:b', sources: ['Solution org/gated', 'AppManifest org/frontend'] },
    ]);
    expect(rolesWithSources({ metadata: { name: 'hand' }, spec: { roles: ['role:y:z'] } })).toEqual([{ role: 'role:y:z', sources: [] }]);
  });
});

describe('subscriptions and onboarding', () => {
  it("shows each offered solution's stage with the Subscription naming it, and a subscription to a solution no longer offered", () => {
    const tenant: Obj = {
      metadata: { name: 't' },
      status: {
        solutions: [
          { solution: 'org/gated', stage: 'Subscribed' },
          { solution: 'org/beta', stage: 'UserGroupsCreated', userGroups: ['owners'] },
        ],
      },
    };
    const subs: Obj[] = [
      { metadata: { name: 'gated' }, spec: { solution: { organization: 'org', name: 'gated' } } },
      { metadata: { name: 'old' }, spec: { solution: { organization: 'org', name: 'old' } } },
    ];
    expect(solutionsOf(tenant, subs).map((r) => [r.solution, r.stage, r.subscription?.metadata.name, r.userGroups])).toEqual([
      ['org/beta', 'UserGroupsCreated', undefined, ['owners']],
      ['org/gated', 'Subscribed', 'gated', []],
      ['org/old', 'Subscribed', 'old', []],
    ]);
  });

  it('names each stage in words, not as the API spells it', () => {
    expect(['Offered', 'UserGroupsCreated', 'Subscribed'].map(stageName)).toEqual(['Offered', 'User groups created', 'Subscribed']);
  });
});
