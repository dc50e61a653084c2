import { describe, expect, it } from 'vitest';
import { FailureCounter, accountId, hashPassword, passwordProblem, verifyPassword } from './accounts.ts';
import { planKeys } from './keys.ts';
import { consentItems, consentPage, signInPage } from './page.ts';

const cheap = { N: 2 ** 12, r: 8, p: 1 };
const DAY = 24 * 3600_000;

describe('password hashes', () => {
  it('verify the password they were made from, and no other', async () => {
    const h = await hashPassword('correct horse battery staple', cheap);
    expect(h).toMatch(/^scrypt\$4096\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(await verifyPassword('correct horse battery staple', h)).toBe(true);
    expect(await verifyPassword('correct horse battery stapl', h)).toBe(false);
    expect(await verifyPassword('x', 'md5$abc')).toBe(false);
  });
  it('are salted: the same password hashes differently twice', async () => {
    expect(await hashPassword('same password here', cheap)).not.toBe(await hashPassword('same password here', cheap));
  });
  it('use OWASP scrypt parameters by default (N=2^17, r=8)', async () => {
    expect((await hashPassword('a long enough password')).split('$').slice(1, 4)).toEqual(['131072', '8', '1']);
  });
  it('refuse passwords shorter than 12 characters', () => {
    expect(passwordProblem('short')).toMatch(/at least 12/);
    expect(passwordProblem('twelve chars')).toBeUndefined();
  });
  it('derive the account id from the lowercased email, never the email itself', () => {
    expect(accountId(' Ada@Example.com ')).toBe(accountId('ada@example.com'));
    expect(accountId('ada@example.com')).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('signing keys', () => {
  it('are made when there are none', async () => {
    const made = await planKeys(undefined, 0, { rotateAfterMs: 30 * DAY, retainMs: 2 * DAY });
    expect(made!.signing).toHaveLength(1);
    expect(made!.signing[0]).toMatchObject({ alg: 'RS256', use: 'sig', kty: 'RSA' });
    expect(made!.cookieKeys).toHaveLength(1);
  });
  it('rotate once the newest is older than rotateAfter, the old one kept to verify, then dropped after retain', async () => {
    const policy = { rotateAfterMs: 30 * DAY, retainMs: 2 * DAY };
    const first = (await planKeys(undefined, 0, policy))!;
    expect(await planKeys(first, 29 * DAY, policy)).toBeUndefined();
    const rotated = (await planKeys(first, 30 * DAY, policy))!;
    expect(rotated.signing.map((k) => k.kid)).toEqual([expect.any(String), first.signing[0]!.kid]);
    expect(rotated.signing[0]!.kid).not.toBe(first.signing[0]!.kid);
    expect(await planKeys(rotated, 31 * DAY, policy)).toBeUndefined();
    const retired = (await planKeys(rotated, 32 * DAY, policy))!;
    expect(retired.signing.map((k) => k.kid)).toEqual([rotated.signing[0]!.kid]);
  });
});

describe('sign-in failures', () => {
  it('lock a login after 5 failures in a row, whether or not an account has it, until the lockout ends', () => {
    const f = new FailureCounter(5, 60_000);
    for (let i = 0; i < 4; i++) f.fail('Nobody', 0);
    expect(f.locked('nobody', 0)).toBe(false);
    f.fail('nobody', 0);
    expect(f.locked('NOBODY', 1)).toBe(true);
    expect(f.locked('nobody', 60_001)).toBe(false);
  });
  it('start counting again after a success', () => {
    const f = new FailureCounter(2, 60_000);
    f.fail('ada', 0);
    f.succeed('ada');
    f.fail('ada', 0);
    expect(f.locked('ada', 0)).toBe(false);
  });
});

describe('password reset tokens', () => {
  it('name the account and fingerprint while signed and unexpired, and nothing once tampered with or expired', async () => {
    const { readResetToken, resetToken } = await import('./accounts.ts');
    const t = resetToken('k1', 'abc', 'fp', 100);
    expect(readResetToken('k1', t, 99)).toEqual({ accountId: 'abc', fingerprint: 'fp' });
    expect(readResetToken('k1', t, 100)).toBeUndefined();
    expect(readResetToken('k2', t, 99)).toBeUndefined();
    const [body, sig] = t.split('.');
    const forged = Buffer.from(JSON.stringify({ a: 'other', e: 100, f: 'fp' })).toString('base64url');
    expect(readResetToken('k1', `${forged}.${sig}`, 99)).toBeUndefined();
    expect(readResetToken('k1', `${body}`, 99)).toBeUndefined();
  });
});

describe("kube-apiserver's AuthenticationConfiguration for the embedded provider", () => {
  it('maps username to userPrefix + email and groups to groupPrefix + groups: the subjects the operator binds', async () => {
    const { identityAuthenticationConfig } = await import('../testenv/controlplane.ts');
    const { parse } = await import('yaml');
    const cfg = parse(
      identityAuthenticationConfig({
        issuer: 'https://127.0.0.1:9444',
        caPEM: '-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n',
        audiences: ['miniapps-kubectl'],
        userPrefix: 'oidc:',
        groupPrefix: 'oidc:',
      }),
    );
    expect(cfg).toEqual({
      apiVersion: 'apiserver.config.k8s.io/v1',
      kind: 'AuthenticationConfiguration',
      jwt: [
        {
          issuer: {
            url: 'https://127.0.0.1:9444',
            audiences: ['miniapps-kubectl'],
            audienceMatchPolicy: 'MatchAny',
            certificateAuthority: '-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n',
          },
          claimMappings: { username: { claim: 'email', prefix: 'oidc:' }, groups: { claim: 'groups', prefix: 'oidc:' }, uid: { claim: 'sub' } },
          claimValidationRules: [{ expression: "claims.sub.matches('^[0-9a-f]{32}$')", message: "only platform accounts are Kubernetes users: a tenant user's account is not" }],
        },
      ],
    });
  });
});

describe("the platform's own client ids", () => {
  it('are never a frontend app, configured or not: every miniapps-* id is reserved', async () => {
    const { withoutPlatformClients, kubectlClient } = await import('./provider.ts');
    const app = (id: string) => ({ clientId: id, redirectUris: ['https://evil.example/cb'], audience: `evil/${id}`, organization: 'evil', organizationDisplayName: 'Evil', appId: id });
    const apps = { client: app, tenantNamespace: () => undefined, roles: () => undefined };
    // Only kubectl's client is configured (the chart without --identity-console-redirect-uris): the console's id is still no app.
    const filtered = withoutPlatformClients(apps, [kubectlClient()]);
    for (const id of ['miniapps-kubectl', 'miniapps-console', 'miniapps-anything']) expect(filtered.client(id), id).toBeUndefined();
    expect(filtered.client('platform:app:loans')?.clientId).toBe('platform:app:loans');
    expect(filtered.client('miniapps')?.clientId).toBe('miniapps');
  });
});

describe("the API server's claim validation rule", () => {
  it("matches a platform account's id and never a tenant account's", async () => {
    const { tenantAccountId, isTenantAccountId } = await import('./tenant-accounts.ts');
    const { PLATFORM_SUBJECT_RULE } = await import('../testenv/controlplane.ts');
    const pattern = new RegExp(/matches\('(.*)'\)/.exec(PLATFORM_SUBJECT_RULE)![1]!);
    const member = accountId('Ada@Example.com');
    const tenant = tenantAccountId('tenant-acme', 'ada@example.com');
    expect(isTenantAccountId(tenant)).toBe(true);
    expect(pattern.test(member)).toBe(true);
    expect(pattern.test(tenant)).toBe(false);
  });
});

describe('sign-in pages', () => {
  it('link to /reset from the platform page and the tenant page (a tenant user whose set-password link expired asks there for a fresh one)', () => {
    const platform = signInPage({ uid: 'u1', csrf: 'c1' });
    const tenant = signInPage({ uid: 'u1', csrf: 'c1', tenant: 'acme"<', error: 'Wrong' });
    for (const html of [platform, tenant]) expect(html).toContain('<p><a href="/reset">Forgot your password?</a></p>');
    expect(platform).toContain('<label for="login">User name or email</label>');
    expect(tenant).toContain('<label for="tenant">Tenant</label><input id="tenant" name="tenant" value="acme&quot;&lt;" required>');
    expect(tenant).toContain('<label for="login">Email</label><input id="login" name="login" type="email"');
    expect(tenant).toContain('<p class="error" role="alert">Wrong</p>');
  });

  it('after a refusal keep the login typed (escaped; never the password) and put the focus on the password', () => {
    const fresh = signInPage({ uid: 'u1', csrf: 'c1' });
    expect(fresh).toMatch(/<input id="login"[^>]* required autofocus>/);
    expect(fresh).toMatch(/<input id="password"[^>]* required>/);
    for (const refused of [signInPage({ uid: 'u1', csrf: 'c1', error: 'Wrong', login: 'ada"<x' }), signInPage({ uid: 'u1', csrf: 'c1', tenant: 'acme', error: 'Wrong', login: 'ada"<x' })]) {
      expect(refused).toMatch(/<input id="login"[^>]* value="ada&quot;&lt;x" required>/);
      expect(refused).toMatch(/<input id="password"[^>]* required autofocus>/);
      expect(refused).not.toMatch(/id="password"[^>]*value=/);
    }
  });

  it("a frontend app's consent page names the app and its organization (escaped), says what the grant lets it do by the scopes asked, and posts Allow or Cancel with the interaction's CSRF token", () => {
    const html = consentPage({ uid: 'u1', csrf: 'c1', app: 'platform:app:<x>', organization: 'acme"', scopes: ['openid', 'email'] });
    expect(html).toContain('<strong>platform:app:&lt;x&gt;</strong>, an app of the organization <strong>acme&quot;</strong>, asks to:');
    expect(html).toContain('<ul><li>know your email address</li><li>know your roles in it (from your groups in your tenant)</li></ul>');
    expect(html).toContain('<form method="post" action="/interaction/u1/consent"><input type="hidden" name="csrf" value="c1">');
    expect(html).toContain('name="decision" value="allow">Allow</button>');
    expect(html).toContain('name="decision" value="deny" class="secondary">Cancel</button>');
    // The roles are always in the token; the rest only when asked for.
    expect(consentItems([])).toEqual(['know your roles in it (from your groups in your tenant)']);
    expect(consentItems(['profile', 'offline_access'])).toEqual(['know your name', 'know your roles in it (from your groups in your tenant)', 'keep you signed in until you sign out']);
  });
});
