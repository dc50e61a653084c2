import { describe, expect, it } from 'vitest';
import { REDIRECT_URI_PATTERN } from '../api/appmanifest/schema.ts';
import { accountId } from './accounts.ts';
import { lockoutSecretName } from './lockout.ts';
import { isTenantAccountId, tenantAccountId, tenantLockoutKey, tenantUserKey } from './tenant-accounts.ts';

describe("tenant sign-ins' lockout", () => {
  it('counts every spelling of a login that reaches one account towards one lockout (the review: surrounding spaces, tabs, NBSP, case)', () => {
    const logins = ['alice@x.io', ' alice@x.io', '  alice@x.io', '\talice@x.io', '\u00a0alice@x.io', 'Alice@X.io '];
    expect(new Set(logins.map((l) => tenantAccountId('tenant-acme', l))).size).toBe(1);
    expect(new Set(logins.map((l) => lockoutSecretName(tenantLockoutKey('acme', l)))).size).toBe(1);
    expect(lockoutSecretName(tenantLockoutKey(' acme ', 'alice@x.io'))).toBe(lockoutSecretName(tenantLockoutKey('acme', 'alice@x.io')));
  });

  it('keeps tenants and emails apart', () => {
    const key = lockoutSecretName(tenantLockoutKey('acme', 'alice@x.io'));
    expect(lockoutSecretName(tenantLockoutKey('globex', 'alice@x.io'))).not.toBe(key);
    expect(lockoutSecretName(tenantLockoutKey('acme', 'bob@x.io'))).not.toBe(key);
    expect(lockoutSecretName('alice@x.io')).not.toBe(key);
  });
});

describe("tenant accounts' ids", () => {
  it('one email in two tenants is two accounts; one email in one tenant is one account whatever its case', () => {
    expect(tenantAccountId('tenant-a', 'Ada@Example.com')).toBe(tenantAccountId('tenant-a', 'ada@example.com '));
    expect(tenantAccountId('tenant-a', 'ada@example.com')).not.toBe(tenantAccountId('tenant-b', 'ada@example.com'));
  });

  it("a tenant account's id is never a platform account's, and tells itself apart", () => {
    const t = tenantAccountId('tenant-a', 'ada@example.com');
    expect(isTenantAccountId(t)).toBe(true);
    expect(isTenantAccountId(accountId('ada@example.com'))).toBe(false);
    expect(t.slice(1)).not.toBe(accountId('ada@example.com'));
  });

  it('the User key tells namespace and name apart (a/b-c is not a-b/c)', () => {
    expect(tenantUserKey('a', 'b-c')).not.toBe(tenantUserKey('a-b', 'c'));
    expect(tenantUserKey('a', 'b')).toMatch(/^[0-9a-f]{40}$/);
  });
});

describe("an AppManifest's redirect URIs (the schema's pattern; the API server also checks isURL)", () => {
  const re = new RegExp(REDIRECT_URI_PATTERN);
  it.each([
    ['https anywhere', 'https://app.example.com/callback', true],
    ['https with a port and a query', 'https://app.example.com:8443/cb?x=1', true],
    ['http on 127.0.0.1 with a port', 'http://127.0.0.1:8080/callback', true],
    ['http on [::1]', 'http://[::1]:3000/cb', true],
    ['http on localhost', 'http://localhost/cb', true],
    ['http off loopback', 'http://app.example.com/callback', false],
    ['a host that starts like loopback', 'http://127.0.0.1.evil.example/cb', false],
    ['a fragment', 'https://app.example.com/cb#frag', false],
    ['user info before the host', 'https://user@evil.example/cb', false],
    ['another scheme', 'ftp://app.example.com/cb', false],
    ['a space', 'https://app.example.com/a b', false],
    ['no host', 'https://', false],
  ])('%s: %s → %s', (_what, uri, ok) => {
    expect(re.test(uri)).toBe(ok);
  });
});
