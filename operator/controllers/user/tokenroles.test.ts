// The token-roles API on loopback with a fake authority and backend: authentication,
// authorization as the caller, the seed's answer as JSON and as a JWT that verifies with
// the published JWKS (and only with it), key rotation.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { createLocalJWKSet, jwtVerify } from 'jose';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOKEN_ROLES_JWKS_PATH, TOKEN_ROLES_PATH } from '../../api/user/names.ts';
import { tokenRoles } from '../../domain/solutions.ts';
import { FakeStore } from '../../runtime/testing.ts';
import { SigningKeys } from './signing-keys.ts';
import type { Caller } from '../../servers/authority.ts';
import { close, listen } from '../../servers/listen.ts';
import { tokenRolesRoutes } from './tokenroles.ts';

const r = (n: string) => `role:gated-frontend:${n}`;
const tokens: Record<string, string> = { 'tok-gateway': 'system:serviceaccount:idp:gateway', 'tok-reader': 'reader', 'tok-other': 'other' };
/** What each caller may: `verb resource[/sub] namespace/name`. */
const grants: Record<string, string[]> = {
  'system:serviceaccount:idp:gateway': ['get users/tokenroles tenant-a/thandi', 'get users tenant-a/thandi'],
  reader: ['get users tenant-a/thandi'],
};
let now = new Date('2026-12-01T00:00:00Z');
const clock = { now: () => now };
const store = new FakeStore();
const keys = new SigningKeys(store, 'miniapps-system', clock, { ttlMs: 0 });
let rotation: string | undefined;
let server: Server;
let base: string;
let sarCalls = 0;

beforeAll(async () => {
  await keys.ensureExists();
  const routes = tokenRolesRoutes({
    log: pino({ level: 'silent' }),
    clock,
    tokenRoles,
    authority: {
      authenticate: async (t) => (tokens[t] ? ({ username: tokens[t] } as Caller) : undefined),
      allowed: async (c, a) => {
        sarCalls++;
        return (grants[c.username] ?? []).includes(`${a.verb} ${a.resource}${a.subresource ? `/${a.subresource}` : ''} ${a.namespace}/${a.name}`);
      },
    },
    backend: {
      user: (ns, name) => (ns === 'tenant-a' && name === 'thandi' ? { email: 'thandi@a.example', roles: [r('a'), r('b'), r('c'), r('d')] } : undefined),
      app: (ns, ref) =>
        ns === 'tenant-a' && ref.organization === 'acme' && ref.name === 'frontend'
          ? { organization: 'acme', appId: 'gated-frontend-app', listingId: 'gated-frontend', rolesRequired: [`platform:${r('a')}`, `platform:${r('b')}`] }
          : undefined,
      signingKey: () => keys.signingKey(rotation),
      publishedKeys: () => keys.signingKey(rotation),
    },
  });
  server = createServer((req, res) => routes.find((x) => x.path === req.url)!.handler(req, res));
  base = `http://127.0.0.1:${await listen(server, { host: '127.0.0.1', port: 0 })}`;
});
afterAll(() => close(server));

async function ask(token: string | undefined, body: Record<string, unknown>) {
  const res = await fetch(base + TOKEN_ROLES_PATH, { method: 'POST', headers: token ? { authorization: `Bearer ${token}` } : {}, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as { roles?: string[]; token?: string; audience?: string; error?: string } };
}
const question = { namespace: 'tenant-a', user: 'thandi', app: { organization: 'acme', name: 'frontend' } };
const jwks = async () => (await (await fetch(base + TOKEN_ROLES_JWKS_PATH)).json()) as { keys: { kid: string; d?: string; kty: string }[] };

describe('the token-roles API', () => {
  it("answers the seed's question: a user with a, b, c, d and an app requiring a, b gets a, b", async () => {
    const res = await ask('tok-gateway', question);
    expect(res.status).toBe(200);
    expect(res.body.roles).toEqual([r('a'), r('b')]);
    expect(res.body.token).toBeUndefined();
  });

  it('signs the answer as a JWT that verifies with the published JWKS, which holds no private key; its audience names the organization', async () => {
    const res = await ask('tok-gateway', { ...question, jwt: true });
    expect(res.body.audience).toBe('acme/gated-frontend-app');
    const set = await jwks();
    expect(set.keys.length).toBeGreaterThan(0);
    expect(set.keys.every((k) => k.d === undefined && k.kty === 'EC')).toBe(true);
    const { payload, protectedHeader } = await jwtVerify(res.body.token!, createLocalJWKSet(set as never), { issuer: 'miniapps-operator', audience: 'acme/gated-frontend-app', currentDate: now });
    expect(payload.aud).toBe('acme/gated-frontend-app');
    expect(payload).toMatchObject({ organization: 'acme', appId: 'gated-frontend-app', listingId: 'gated-frontend' });
    // An app of the same appId checking only the appId (the audience before) does not accept it.
    await expect(jwtVerify(res.body.token!, createLocalJWKSet(set as never), { audience: 'gated-frontend-app', currentDate: now })).rejects.toThrow(/aud/);
    expect(payload.roles).toEqual([r('a'), r('b')]);
    expect(payload.sub).toBe('tenant-a/thandi');
    expect(protectedHeader.alg).toBe('ES256');
    expect(payload.exp! - payload.iat!).toBe(300);
    // A token whose payload was changed does not verify.
    const [h, , s] = res.body.token!.split('.');
    const forged = Buffer.from(JSON.stringify({ ...payload, roles: [r('a'), r('b'), r('c')] })).toString('base64url');
    await expect(jwtVerify(`${h}.${forged}.${s}`, createLocalJWKSet(set as never), { currentDate: now })).rejects.toThrow();
  });

  it('rotates the key on request; tokens of the previous key still verify, the JWKS publishes both', async () => {
    const before = await ask('tok-gateway', { ...question, jwt: true });
    rotation = '2026-12-01';
    const after = await ask('tok-gateway', { ...question, jwt: true });
    const set = await jwks();
    expect(set.keys.map((k) => k.kid)).toEqual(['k1', 'k2']);
    const jwkSet = createLocalJWKSet(set as never);
    expect((await jwtVerify(after.body.token!, jwkSet, { currentDate: now })).protectedHeader.kid).toBe('k2');
    expect((await jwtVerify(before.body.token!, jwkSet, { currentDate: now })).protectedHeader.kid).toBe('k1');
    // A second rotation drops k1 from the JWKS.
    rotation = '2026-12-02';
    await ask('tok-gateway', { ...question, jwt: true });
    expect((await jwks()).keys.map((k) => k.kid)).toEqual(['k2', 'k3']);
    expect(JSON.stringify(store.all({ group: '', version: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true }).map((s) => s.metadata.name))).toBe('["miniapps-operator-token-signing-key"]');
  });

  it.each([
    { case: 'no token', token: undefined, body: question, status: 401 },
    { case: 'a token the API server refuses', token: 'forged', body: question, status: 401 },
    { case: 'a caller who may read the User but not ask for its token roles', token: 'tok-reader', body: question, status: 403 },
    { case: 'a caller who may not read the User (as if it did not exist)', token: 'tok-other', body: question, status: 404 },
    { case: 'a User that does not exist', token: 'tok-gateway', body: { ...question, user: 'nobody' }, status: 404 },
    { case: 'an app the tenant does not subscribe to', token: 'tok-gateway', body: { ...question, app: { organization: 'acme', name: 'other' } }, status: 404 },
    { case: 'a body without the app', token: 'tok-gateway', body: { namespace: 'tenant-a', user: 'thandi' }, status: 400 },
  ])('refuses $case', async ({ token, body, status }) => {
    const res = await ask(token, body);
    expect(res.status).toBe(status);
    expect(res.body.roles).toBeUndefined();
    expect(res.body.error).toBeTruthy();
  });

  it('reuses an authorization decision for a while instead of asking the API server on every request', async () => {
    await ask('tok-gateway', question);
    const before = sarCalls;
    for (let i = 0; i < 20; i++) await ask('tok-gateway', question);
    expect(sarCalls).toBe(before);
    now = new Date(now.getTime() + 11_000);
    await ask('tok-gateway', question);
    expect(sarCalls).toBe(before + 1);
  });

  it('renews a decision in use in the background, so a revoked grant stops answering within the 10 s and a steady caller never waits', async () => {
    now = new Date(now.getTime() + 60_000);
    expect((await ask('tok-gateway', question)).status).toBe(200);
    const before = sarCalls;
    const granted = grants['system:serviceaccount:idp:gateway']!;
    grants['system:serviceaccount:idp:gateway'] = [];
    try {
      now = new Date(now.getTime() + 4_000);
      expect((await ask('tok-gateway', question)).status).toBe(200);
      expect(sarCalls).toBe(before);
      // Half the ttl: still the remembered answer, and one review in the background.
      now = new Date(now.getTime() + 1_000);
      expect((await ask('tok-gateway', question)).status).toBe(200);
      expect(sarCalls).toBe(before + 1);
      // The renewed decision is the API server's new one: refused (looks like a missing User).
      expect((await ask('tok-gateway', question)).status).toBe(404);
    } finally {
      grants['system:serviceaccount:idp:gateway'] = granted;
    }
  });
});
