import { describe, expect, it } from 'vitest';
import type { ApiKey } from '../../api/apikey/schema.ts';
import type { Membership } from '../../api/membership/schema.ts';
import type { Organization } from '../../api/organization/schema.ts';
import { ApiKeyReasons, ownerStanding, ownerStatus } from './logic.ts';
import type { OwnerLookup } from './logic.ts';

const org = { metadata: { name: 'acme' }, spec: { displayName: 'Acme' }, status: { namespace: 'org-acme' } } as unknown as Organization;
const member = { metadata: { name: 'm', namespace: 'org-acme' }, spec: { email: 'Ada@example.com', role: 'MiniAppDeveloper', acceptance: 'Automatic' } } as unknown as Membership;
const key = (namespace: string) => ({ metadata: { name: 'k', namespace }, spec: { owner: 'ada@example.com' } }) as unknown as ApiKey;

function lookup(suspendedAccounts: string[], provisioner = false): OwnerLookup {
  return {
    organizationOf: (ns) => (ns === 'org-acme' ? org : undefined),
    memberByEmail: (ns, email) => (ns === 'org-acme' && email.toLowerCase() === 'ada@example.com' ? member : undefined),
    isProvisioningAdministrator: () => provisioner,
    isAccountSuspended: (email) => suspendedAccounts.includes(email.toLowerCase()),
  };
}

describe('the owner of an API key, with account suspension (seed 001: suspension is of the account)', () => {
  it('is an active member while the account is not suspended', () => {
    expect(ownerStatus(key('org-acme'), lookup([]), 'miniapps-system')).toMatchObject({ may: true, as: 'member' });
  });
  it.each([
    ['an active member', 'org-acme', false],
    ['a provisioning administrator', 'miniapps-system', true],
  ])('may hold no key as %s once the account is suspended, with a reason saying so', (_who, ns, provisioner) => {
    const l = lookup(['ada@example.com'], provisioner);
    expect(ownerStatus(key(ns), l, 'miniapps-system')).toEqual({ may: false, as: 'accountSuspended' });
    expect(ownerStanding(key(ns), l, 'miniapps-system')).toMatchObject({
      ok: false,
      reason: ApiKeyReasons.AccountSuspended,
      problem: expect.stringContaining('the account of ada@example.com is suspended'),
    });
  });
});
