// Seed 003's onboarding seen from the tenant: which tenants a Solution's spec.onboarding
// names, the offers as the namespace annotation holds them, and the group made at onboarding.
import { describe, expect, it } from 'vitest';
import type { Solution } from '../../api/solution/schema.ts';
import type { Tenant } from '../../api/tenant/schema.ts';
import type { DeclaredGroup } from '../../domain/solutions.ts';
import { offeredAnnotation, onboardedByValue, onboardingGroup, tenantsOnboardedBy } from './onboarding.ts';

const tenant = (name: string, stack?: string): Tenant =>
  ({ apiVersion: 'miniapps.dev/v1alpha1', kind: 'Tenant', metadata: { name, uid: `uid-${name}` }, spec: { displayName: name, ...(stack ? { stack } : {}) } }) as Tenant;
const TENANTS = [tenant('a'), tenant('b', 'sb1'), tenant('c', 'sb1'), tenant('d', 'prod')];
const cache = { getByName: (n: string) => TENANTS.find((t) => t.metadata.name === n), list: () => TENANTS } as never;
const solution = (onboarding?: Solution['spec']['onboarding']) =>
  ({ metadata: { name: 'gated', namespace: 'org-acme' }, spec: { solutionId: 's', version: '1', ...(onboarding ? { onboarding } : {}) } }) as Solution;

describe('tenantsOnboardedBy', () => {
  it.each([
    { case: 'no onboarding offers it to nobody', onboarding: undefined, want: [] },
    { case: "the seed's tenantIds: each named tenant that exists", onboarding: { tenants: ['a', 'zz'] }, want: ['a'] },
    { case: "the seed's stackId: every tenant of the stack", onboarding: { stacks: ['sb1'] }, want: ['b', 'c'] },
    { case: 'both, each tenant once', onboarding: { tenants: ['b', 'd'], stacks: ['sb1'] }, want: ['b', 'c', 'd'] },
  ])('$case', ({ onboarding, want }) => {
    expect(
      tenantsOnboardedBy(solution(onboarding), cache)
        .map((t) => t.metadata.name)
        .sort(),
    ).toEqual(want);
  });
});

describe('offeredAnnotation', () => {
  it('lists each offer once, sorted, separated by spaces (what the subscription-offered policy splits)', () => {
    expect(offeredAnnotation(['org-b/x', 'org-a/y', 'org-b/x'])).toBe('org-a/y org-b/x');
    expect(offeredAnnotation([])).toBe('');
  });
});

describe('onboardingGroup', () => {
  const group: DeclaredGroup = {
    name: 'solutions-owner',
    displayName: 'solutions owner',
    description: 'd',
    roles: new Map([
      ['role:l:b', new Set(['s'])],
      ['role:l:a', new Set(['s'])],
    ]),
    admin: false,
  };
  const made = onboardingGroup('tenant-a', TENANTS[0]!, 'acme/gated', group);

  it('is the declared group, roles sorted, labelled with a digest of its solution, owned (not controlled) by the Tenant', () => {
    expect(made.spec).toEqual({ displayName: 'solutions owner', description: 'd', roles: ['role:l:a', 'role:l:b'] });
    expect(made.metadata.labels?.['miniapps.dev/onboarded-solution']).toBe(onboardedByValue('acme/gated'));
    expect(made.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'Tenant', name: 'a', uid: 'uid-a', controller: false })]);
  });

  it("carries the subscriptions' digest annotation, which changes with the group (a subscription later takes it over)", () => {
    const digest = made.metadata.annotations?.['miniapps.dev/applied-digest'];
    expect(digest).toMatch(/^onboarding-[0-9a-f]{64}$/);
    const other = onboardingGroup('tenant-a', TENANTS[0]!, 'acme/gated', { ...group, roles: new Map([['role:l:c', new Set(['s'])]]) });
    expect(other.metadata.annotations?.['miniapps.dev/applied-digest']).not.toBe(digest);
  });
});
