import { describe, expect, it } from 'vitest';
import { RESEND_SETUP_ANNOTATION } from '../../api/account/names.ts';
import type { Account } from '../../api/account/schema.ts';
import { adminBinding, adminBindingName, phaseOf, privateHalfOf, setupEmailDue, wantsAdministrator } from './logic.ts';

const base: Account = {
  apiVersion: 'miniapps.dev/v1alpha1',
  kind: 'Account',
  metadata: { name: 'ada', uid: 'uid-ada' },
  spec: { username: 'ada', email: 'Ada@Example.com', firstName: 'Ada', lastName: 'Lovelace' },
};
const account = (spec: Partial<Account['spec']> = {}, more: Partial<Account> = {}): Account => ({ ...structuredClone(base), ...more, spec: { ...base.spec, ...spec } });

describe('Account logic', () => {
  it.each([
    ['an account with a password is Active', account(), true, 'Active'],
    ['an account without one is Pending', account(), false, 'Pending'],
    ['without a private half (external provider) it is Active', account(), undefined, 'Active'],
    ['a suspended account is Suspended, password or not', account({ suspended: true }), true, 'Suspended'],
    ['a suspended pending account is Suspended', account({ suspended: true }), false, 'Suspended'],
  ] as const)('%s', (_name, a, passwordSet, phase) => {
    expect(phaseOf(a, passwordSet)).toBe(phase);
  });

  it.each([
    ['an administrator', account({ provisioningAdministrator: true }), true],
    ['a suspended administrator holds no binding', account({ provisioningAdministrator: true, suspended: true }), false],
    ['someone who is not one', account({ provisioningAdministrator: false }), false],
    ['the default (unset) is not one', account(), false],
  ] as const)('wantsAdministrator: %s', (_name, a, want) => {
    expect(wantsAdministrator(a)).toBe(want);
  });

  it("binds the provisioning administrators' ClusterRole to userPrefix + the email lowercased, owned by the Account", () => {
    const b = adminBinding(account({ provisioningAdministrator: true }), 'oidc:');
    expect(b.metadata.name).toBe('miniapps:provisioning-administrator:account:ada');
    expect(b.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'miniapps:provisioning-administrator' });
    expect(b.subjects).toEqual([{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'oidc:ada@example.com' }]);
    expect(b.metadata.ownerReferences).toEqual([{ apiVersion: 'miniapps.dev/v1alpha1', kind: 'Account', name: 'ada', uid: 'uid-ada', controller: true, blockOwnerDeletion: true }]);
  });

  it('names a binding of a very long Account name by a digest, within 253 characters', () => {
    const long = 'a'.repeat(253);
    expect(adminBindingName(long).length).toBeLessThanOrEqual(253);
    expect(adminBindingName(long)).not.toBe(adminBindingName(`${'a'.repeat(252)}b`));
  });

  it('marks the Secret as the private half of the Account (owner and name label)', () => {
    expect(privateHalfOf(account())).toEqual({
      ownerReferences: [{ apiVersion: 'miniapps.dev/v1alpha1', kind: 'Account', name: 'ada', uid: 'uid-ada', controller: true, blockOwnerDeletion: true }],
      labels: { 'miniapps.dev/account-name': 'ada' },
    });
  });

  it.each([
    ['never sent: due', account(), true],
    ['sent, no request: not due', account({}, { status: { passwordSetup: { sentAt: '2026-01-01T00:00:00Z' } } }), false],
    [
      'sent, a new request through the annotation: due',
      account({}, { metadata: { ...base.metadata, annotations: { [RESEND_SETUP_ANNOTATION]: '1' } }, status: { passwordSetup: { sentAt: '2026-01-01T00:00:00Z' } } }),
      true,
    ],
    [
      'sent for that request already: not due',
      account({}, { metadata: { ...base.metadata, annotations: { [RESEND_SETUP_ANNOTATION]: '1' } }, status: { passwordSetup: { sentAt: '2026-01-01T00:00:00Z', resendAnswered: '1' } } }),
      false,
    ],
  ] as const)('the "set your password" email: %s', (_name, a, due) => {
    expect(setupEmailDue(a).due).toBe(due);
  });
});
