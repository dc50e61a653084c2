import { describe, expect, it } from 'vitest';
import { accountEditPatch, accountFieldOfRefusal, accountFormOf, accountFromForm, accountProblems } from './account-logic.ts';

describe('the Users screen (Security > Users)', () => {
  const form = { username: ' Carol.Shaw ', email: ' carol@example.com ', firstName: 'Carol', lastName: 'Shaw', provisioningAdministrator: true };

  it('makes the Account from the form, named after the user name in lowercase', () => {
    expect(accountFromForm(form)).toEqual({
      apiVersion: 'miniapps.dev/v1alpha1',
      kind: 'Account',
      metadata: { name: 'carol.shaw' },
      spec: { username: 'Carol.Shaw', email: 'carol@example.com', firstName: 'Carol', lastName: 'Shaw', provisioningAdministrator: true },
    });
  });

  it('generates a name when the user name is not a valid object name, and leaves the user name for the API server to judge', () => {
    const a = accountFromForm({ ...form, username: 'carol_shaw' });
    expect(a.metadata).toEqual({ generateName: 'account-' });
    expect(a.spec.username).toBe('carol_shaw');
    expect(accountFromForm({ ...form, username: '' }).metadata).toEqual({ generateName: 'account-' });
  });

  it('edits the user name and names only, with the resourceVersion read; nothing when nothing changed', () => {
    const read = {
      apiVersion: 'miniapps.dev/v1alpha1',
      kind: 'Account',
      metadata: { name: 'carol', resourceVersion: '42' },
      spec: { username: 'carol', email: 'carol@example.com', firstName: 'Carol', lastName: 'Shaw', provisioningAdministrator: true },
    };
    const f = accountFormOf(read);
    expect(f).toEqual({ username: 'carol', email: 'carol@example.com', firstName: 'Carol', lastName: 'Shaw', provisioningAdministrator: true });
    expect(accountEditPatch(read, f)).toBeUndefined();
    expect(accountEditPatch(read, { ...f, lastName: ' Shaw-Lee ', email: 'other@example.com', provisioningAdministrator: false })).toEqual({
      metadata: { resourceVersion: '42' },
      spec: { lastName: 'Shaw-Lee' },
    });
    expect(accountEditPatch(read, { ...f, username: 'carol.s', firstName: 'Caro' })).toEqual({ metadata: { resourceVersion: '42' }, spec: { username: 'carol.s', firstName: 'Caro' } });
  });

  it("finds the field the API server's refusal names", () => {
    expect(accountFieldOfRefusal('Account.miniapps.dev "x" is invalid: spec.email: Invalid value: "nope": spec.email in body must be of type email: "nope"')).toBe('email');
    expect(accountFieldOfRefusal("spec.username in body should match '^[A-Za-z0-9]'")).toBe('username');
    expect(accountFieldOfRefusal('accounts.miniapps.dev "carol" already exists')).toBe('username');
    expect(accountFieldOfRefusal('accounts.miniapps.dev is forbidden: User "x" cannot create resource "accounts"')).toBeUndefined();
    expect(accountFieldOfRefusal(undefined)).toBeUndefined();
  });

  it('shows the False conditions but Ready (which repeats them) and an email on its way', () => {
    const problems = accountProblems({
      metadata: { name: 'carol' },
      status: {
        conditions: [
          { type: 'Ready', status: 'False', reason: 'UsernameTaken', message: 'taken' },
          { type: 'Stored', status: 'False', reason: 'UsernameTaken', message: 'another account has the user name carol' },
          { type: 'Stalled', status: 'True', reason: 'UsernameTaken' },
          { type: 'AdministratorBound', status: 'True', reason: 'Bound' },
          { type: 'PasswordSet', status: 'False', reason: 'PasswordSetupSent' },
        ],
      },
    });
    expect(problems).toEqual([{ type: 'Stored', reason: 'UsernameTaken', message: 'another account has the user name carol' }]);
    expect(accountProblems({ metadata: { name: 'x' }, status: { conditions: [{ type: 'PasswordSet', status: 'False', reason: 'PasswordSetupNotSent', message: 'no SMTP server' }] } })).toEqual([
      { type: 'PasswordSet', reason: 'PasswordSetupNotSent', message: 'no SMTP server' },
    ]);
  });
});
