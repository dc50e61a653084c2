// The console server's promises, against a stand-in API server on loopback that records
// what reaches it: only the session's bearer token goes upstream (never a cookie, the
// browser's own Authorization, or an impersonation header), only allow-listed paths and
// query parameters, writes only with the session's CSRF token from the console's own
// origin, and watches stream through.
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkProxyRequest } from './allowlist.ts';
import type { OidcClient } from './oidc.ts';
import { safeReturnTo, startConsoleServer } from './server.ts';
import type { ConsoleServer } from './server.ts';
import { COOKIE, SIGNIN_COOKIE, SessionStore, csrfOk, sessionIdFrom } from './session.ts';
import type { SessionBackend, StoredSession } from './session.ts';
import { createUpstream } from './upstream.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

describe('the proxy allow-list', () => {
  it.each([
    ['GET', '/apis/miniapps.dev/v1alpha1/namespaces/org-a/miniapps'],
    ['GET', '/apis/miniapps.dev/v1alpha1/namespaces/org-a/miniapps?watch=1&resourceVersion=5'],
    ['POST', '/apis/miniapps.dev/v1alpha1/namespaces/org-a/memberships?fieldValidation=Strict'],
    ['PATCH', '/apis/miniapps.dev/v1alpha1/namespaces/org-a/memberships/alice'],
    ['DELETE', '/apis/miniapps.dev/v1alpha1/namespaces/org-a/miniapps/pay'],
    ['POST', '/apis/miniapps.dev/v1alpha1/organizations'],
    ['GET', '/apis/miniapps.dev/v1alpha1/accounts?watch=1&resourceVersion=7'],
    ['POST', '/apis/miniapps.dev/v1alpha1/accounts?fieldValidation=Strict'],
    ['PATCH', '/apis/miniapps.dev/v1alpha1/accounts/carol'],
    ['DELETE', '/apis/miniapps.dev/v1alpha1/accounts/carol'],
    ['GET', '/apis/miniapps.dev/v1alpha1/namespaces/org-a/miniapps/pay/status'],
    ['GET', '/api/v1/namespaces/org-a/events'],
    ['GET', '/api/v1/namespaces/org-a/secrets/key-abc'],
    ['GET', '/api/v1/namespaces/org-a/configmaps/wallet-catalog'],
    ['PATCH', '/api/v1/namespaces/org-a/configmaps/organization-icon'],
    ['POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews'],
    ['POST', '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews'],
  ])('forwards %s %s', (method, path) => {
    expect(checkProxyRequest(method, path)).toMatchObject({ ok: true });
  });

  it.each([
    ['GET', '/api/v1/namespaces/org-a/secrets', 403, 'listing Secrets'],
    ['POST', '/api/v1/namespaces/org-a/secrets/key-abc', 405, 'writing a Secret'],
    ['GET', '/api/v1/namespaces/org-a/configmaps', 403, 'listing ConfigMaps'],
    ['PATCH', '/api/v1/namespaces/org-a/configmaps/wallet-catalog', 405, 'writing a ConfigMap other than the icon'],
    ['POST', '/api/v1/namespaces/org-a/configmaps/organization-icon', 405, 'creating the icon ConfigMap'],
    ['GET', '/api/v1/nodes', 403, 'nodes'],
    ['POST', '/api/v1/namespaces/org-a/pods/x/exec', 403, 'exec'],
    ['PATCH', '/apis/miniapps.dev/v1alpha1/namespaces/org-a/miniapps/pay/status', 405, "writing the operator's status"],
    ['PATCH', '/apis/miniapps.dev/v1alpha1/accounts/carol/status', 405, "writing an Account's status"],
    ['POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', 403, 'RBAC'],
    ['POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', 403, "asking about someone else's access"],
    ['GET', '/apis/miniapps.dev/v1alpha1/namespaces/org-a/../../../api/v1/secrets', 400, 'dot segments'],
    ['GET', '/apis/miniapps.dev/v1alpha1/namespaces/org-a/miniapps%2f..%2fx', 400, 'percent escapes'],
    ['GET', '/apis/miniapps.dev/v1alpha1//namespaces/org-a/miniapps', 400, 'doubled slashes'],
    ['GET', '/apis/miniapps.dev/v1alpha1/namespaces/org-a/miniapps?as=admin', 400, 'unknown query parameters'],
  ])('refuses %s %s (%i: %s)', (method, path, status) => {
    expect(checkProxyRequest(method, path)).toMatchObject({ ok: false, status });
  });
});

describe('where sign-in returns to', () => {
  it.each([
    ['/#/orgs/bank/members', '/#/orgs/bank/members'],
    ['/', '/'],
    ['//evil.example/', '/'],
    ['/\\evil.example/', '/'],
    ['https://evil.example/', '/'],
    ['/ok\\x', '/'],
    ['', '/'],
  ])('%s goes to %s', (asked, went) => {
    expect(safeReturnTo(asked)).toBe(went);
  });

  it('a path of at most 2048 characters is kept, a longer one goes to /', () => {
    const kept = `/#/${'a'.repeat(2045)}`;
    expect(safeReturnTo(kept)).toBe(kept);
    expect(safeReturnTo(`${kept}a`)).toBe('/');
  });
});

describe('sessions and CSRF', () => {
  it('keeps only a hash of the id, expires idle sessions, and evicts the least recently used', () => {
    let now = 1_000;
    const store = new SessionStore({ idleMs: 100, now: () => now, max: 2 });
    const a = store.create();
    const b = store.create();
    expect(store.get(a.id)).toBe(a);
    store.create(); // evicts b, the least recently used
    expect(store.get(b.id)).toBeUndefined();
    now += 101;
    expect(store.get(a.id)).toBeUndefined();
    expect(store.get('made-up')).toBeUndefined();
  });

  it('accepts a write only with the session token and the own origin', () => {
    const s = new SessionStore().create();
    const own = 'http://127.0.0.1:8090';
    expect(csrfOk('GET', undefined, undefined, undefined, own)).toBe(true);
    expect(csrfOk('POST', s, s.csrf, own, own)).toBe(true);
    expect(csrfOk('POST', s, s.csrf, undefined, own)).toBe(true);
    expect(csrfOk('POST', s, undefined, own, own)).toBe(false);
    expect(csrfOk('POST', s, `${s.csrf.slice(0, -1)}x`, own, own)).toBe(false);
    expect(csrfOk('DELETE', s, s.csrf, 'http://evil.example', own)).toBe(false);
    expect(csrfOk('PATCH', undefined, s.csrf, own, own)).toBe(false);
  });

  it('reads its cookie among others', () => {
    expect(sessionIdFrom(`a=1; ${COOKIE}=abc; b=2`)).toBe('abc');
    expect(sessionIdFrom('a=1')).toBeUndefined();
  });
});

describe('the console server against a stand-in API server', () => {
  let api: Server;
  let consoleServer: ConsoleServer;
  const seen: Seen[] = [];

  beforeAll(async () => {
    api = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() });
        if (req.url!.includes('watch=1')) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write(`${JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'one' } } })}\n`);
          setTimeout(() => res.end(`${JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'two' } } })}\n`), 50);
          return;
        }
        if (req.url!.includes('/forbidden')) {
          res.writeHead(403, { 'content-type': 'application/json' });
          return res.end(JSON.stringify({ kind: 'Status', message: 'memberships.miniapps.dev "forbidden" is forbidden: the last administrator cannot be removed', code: 403 }));
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: true }));
      });
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    const port = (api.address() as { port: number }).port;
    consoleServer = await startConsoleServer({ upstream: createUpstream({ server: `http://127.0.0.1:${port}` }), distDir: '/nonexistent/' });
  });

  afterAll(async () => {
    await consoleServer?.close();
    await new Promise((r) => api?.close(r));
  });

  /** A browser-like session: the cookie from /console/api/session, with a token stored by the test (as OIDC's callback would). */
  async function signedIn(token = 'person-token'): Promise<{ cookie: string; csrf: string }> {
    const res = await fetch(`${consoleServer.url}/console/api/session`);
    const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
    expect(res.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Strict/);
    const body = (await res.json()) as { csrfToken: string; signedIn: boolean };
    expect(body.signedIn).toBe(false);
    consoleServer.sessions.get(cookie.split('=')[1])!.tokens = { bearer: token };
    return { cookie, csrf: body.csrfToken };
  }

  it("forwards the person's own bearer token and nothing else that identifies anyone", async () => {
    const { cookie } = await signedIn('alice-token');
    seen.length = 0;
    const res = await fetch(`${consoleServer.url}/k8s/apis/miniapps.dev/v1alpha1/namespaces/org-a/miniapps`, {
      headers: { cookie, authorization: 'Bearer browser-chosen', 'impersonate-user': 'system:admin', 'impersonate-group': 'system:masters', 'x-remote-user': 'root' },
    });
    expect(res.status).toBe(200);
    expect(seen).toHaveLength(1);
    const h = seen[0]!.headers;
    expect(h.authorization).toBe('Bearer alice-token');
    expect(h.cookie).toBeUndefined();
    expect(Object.keys(h).filter((k) => k.startsWith('impersonate') || k.startsWith('x-remote'))).toEqual([]);
    expect(seen[0]!.url).toBe('/apis/miniapps.dev/v1alpha1/namespaces/org-a/miniapps');
  });

  it('sends nothing upstream without a session, and answers 401', async () => {
    seen.length = 0;
    const res = await fetch(`${consoleServer.url}/k8s/apis/miniapps.dev/v1alpha1/namespaces/org-a/miniapps`, { headers: { authorization: 'Bearer stolen' } });
    expect(res.status).toBe(401);
    expect(seen).toHaveLength(0);
  });

  it('refuses a path off the allow-list before it reaches the API server', async () => {
    const { cookie } = await signedIn();
    seen.length = 0;
    const res = await fetch(`${consoleServer.url}/k8s/api/v1/namespaces/org-a/secrets`, { headers: { cookie } });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { message: string }).message).toContain('allow-list');
    expect(seen).toHaveLength(0);
  });

  it('refuses a write without the CSRF token or from another origin, and forwards it with both', async () => {
    const { cookie, csrf } = await signedIn();
    seen.length = 0;
    const url = `${consoleServer.url}/k8s/apis/miniapps.dev/v1alpha1/namespaces/org-a/memberships`;
    const body = JSON.stringify({ spec: { email: 'a@b.example', role: 'MiniAppDeveloper' } });
    expect((await fetch(url, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body })).status).toBe(403);
    expect((await fetch(url, { method: 'POST', headers: { cookie, 'content-type': 'application/json', 'x-csrf-token': csrf, origin: 'http://evil.example' }, body })).status).toBe(403);
    expect(seen).toHaveLength(0);
    const ok = await fetch(url, { method: 'POST', headers: { cookie, 'content-type': 'application/json', 'x-csrf-token': csrf, origin: consoleServer.url }, body });
    expect(ok.status).toBe(200);
    expect(seen[0]).toMatchObject({ method: 'POST', body });
  });

  it("passes the API server's refusal and its message through unchanged", async () => {
    const { cookie, csrf } = await signedIn();
    const res = await fetch(`${consoleServer.url}/k8s/apis/miniapps.dev/v1alpha1/namespaces/org-a/memberships/forbidden`, { method: 'DELETE', headers: { cookie, 'x-csrf-token': csrf } });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { message: string }).message).toContain('the last administrator cannot be removed');
  });

  it('streams a watch event by event', async () => {
    const { cookie } = await signedIn();
    const res = await fetch(`${consoleServer.url}/k8s/apis/miniapps.dev/v1alpha1/namespaces/org-a/miniapps?watch=1`, { headers: { cookie } });
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toContain('"one"');
    expect(first).not.toContain('"two"');
    let rest = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      rest += new TextDecoder().decode(value);
    }
    expect(rest).toContain('"two"');
  });

  it('signs out: the session is gone and the cookie cleared', async () => {
    const { cookie, csrf } = await signedIn();
    const out = await fetch(`${consoleServer.url}/auth/logout`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrf } });
    expect(out.status).toBe(200);
    expect(out.headers.get('set-cookie')).toContain('Max-Age=0');
    seen.length = 0;
    const after = await fetch(`${consoleServer.url}/k8s/apis/miniapps.dev/v1alpha1/namespaces/org-a/miniapps`, { headers: { cookie } });
    expect(after.status).toBe(401);
    expect(seen).toHaveLength(0);
  });
});

describe('sign-in: the callback belongs to the browser that started it', () => {
  let consoleServer: ConsoleServer;
  const finished: { state: string }[] = [];
  // A stand-in for openid-client's side (console.itest.ts signs in for real with the embedded provider).
  const oidc: OidcClient = {
    start: async () => ({ url: 'https://id.example/authorize?state=s1', codeVerifier: 'v', state: 's1', nonce: 'n' }),
    finish: async (_url, pending) => {
      finished.push({ state: pending.state });
      return { bearer: 'id-token', idToken: 'id-token' };
    },
    refresh: async () => ({ bearer: 'x' }),
    endSessionUrl: () => 'https://id.example/session/end',
  };

  beforeAll(async () => {
    consoleServer = await startConsoleServer({ upstream: createUpstream({ server: 'http://127.0.0.1:9' }), oidc, distDir: '/nonexistent/' });
  });
  afterAll(() => consoleServer?.close());

  it('keeps the sign-in in a Lax cookie for the callback path only, redeems it once, and starts a new Strict session', async () => {
    const login = await fetch(`${consoleServer.url}/auth/login?returnTo=/%23/orgs`, { redirect: 'manual' });
    expect(login.status).toBe(302);
    expect(login.headers.get('location')).toBe('https://id.example/authorize?state=s1');
    const signin = login.headers.get('set-cookie')!;
    expect(signin).toMatch(/^miniapps_console_signin=[^;]+; Max-Age=600; Path=\/auth\/callback; HttpOnly; SameSite=Lax$/);
    const cookie = signin.split(';')[0]!;

    // Another browser (no sign-in cookie) cannot redeem it.
    expect((await fetch(`${consoleServer.url}/auth/callback?code=c&state=s1`, { redirect: 'manual' })).status).toBe(400);
    expect(finished).toEqual([]);

    const back = await fetch(`${consoleServer.url}/auth/callback?code=c&state=s1`, { redirect: 'manual', headers: { cookie } });
    expect(back.status).toBe(302);
    expect(back.headers.get('location')).toBe('/#/orgs');
    const set = back.headers.getSetCookie();
    expect(set.find((c) => c.startsWith('miniapps_console='))).toMatch(/HttpOnly; SameSite=Strict/);
    expect(set.find((c) => c.startsWith('miniapps_console_signin='))).toContain('Max-Age=0');
    expect(finished).toEqual([{ state: 's1' }]);

    // Replayed: refused, nothing redeemed twice.
    expect((await fetch(`${consoleServer.url}/auth/callback?code=c&state=s1`, { redirect: 'manual', headers: { cookie } })).status).toBe(400);
    expect(finished).toHaveLength(1);

    // Signed in: the session says so; signing out goes to the provider's end-session page.
    const session = set.find((c) => c.startsWith('miniapps_console='))!.split(';')[0]!;
    const info = (await (await fetch(`${consoleServer.url}/console/api/session`, { headers: { cookie: session } })).json()) as { signedIn: boolean; csrfToken: string };
    expect(info.signedIn).toBe(true);
    const out = (await (await fetch(`${consoleServer.url}/auth/logout`, { method: 'POST', headers: { cookie: session, 'x-csrf-token': info.csrfToken } })).json()) as { redirect: string };
    expect(out.redirect).toBe('https://id.example/session/end');
  });
});

describe('a sign-in in progress is a sealed cookie, not a stored session', () => {
  const servers: ConsoleServer[] = [];
  const writes: string[] = [];
  const stored = new Map<string, StoredSession>();
  // What SecretSessionBackend would write to the cluster: recorded.
  const backend: SessionBackend = {
    read: async (k) => stored.get(k),
    write: async (k, r) => {
      writes.push(k);
      stored.set(k, r);
    },
    remove: async (k) => void stored.delete(k),
  };
  let started = 0;
  const finished: { state: string; codeVerifier: string; nonce: string }[] = [];
  const oidc: OidcClient = {
    start: async () => {
      started++;
      return { url: `https://id.example/authorize?state=s${started}`, codeVerifier: `v${started}`, state: `s${started}`, nonce: `n${started}` };
    },
    finish: async (_url, pending) => {
      finished.push({ state: pending.state, codeVerifier: pending.codeVerifier, nonce: pending.nonce });
      return { bearer: 'id-token', idToken: 'id-token' };
    },
    refresh: async () => ({ bearer: 'x' }),
    endSessionUrl: () => undefined,
  };
  const secret = new Uint8Array(32).fill(7);
  const start = async (o: Partial<Parameters<typeof startConsoleServer>[0]> = {}) => {
    const c = await startConsoleServer({
      upstream: createUpstream({ server: 'http://127.0.0.1:9' }),
      oidc,
      distDir: '/nonexistent/',
      sessions: new SessionStore({ backend }),
      signinSecret: secret,
      ...o,
    });
    servers.push(c);
    return c;
  };
  afterAll(async () => {
    for (const c of servers) await c.close();
  });
  const signinOf = (res: Response) =>
    res.headers
      .getSetCookie()
      .find((c) => c.startsWith(`${SIGNIN_COOKIE}=`))!
      .split(';')[0]!;

  it('many anonymous sign-ins with a long returnTo store nothing, and each cookie stays small', async () => {
    const c = await start({ loginRateLimit: { perMinute: 1000, burst: 1000 } });
    const long = `/${'a'.repeat(12_000)}`;
    for (let i = 0; i < 50; i++) {
      const res = await fetch(`${c.url}/auth/login?returnTo=${long}`, { redirect: 'manual' });
      expect(res.status).toBe(302);
      expect(signinOf(res).length).toBeLessThan(1024);
    }
    expect(writes).toEqual([]);
    expect(stored.size).toBe(0);
    expect(c.sessions.size).toBe(0);
  });

  it('is finished by another replica sharing the secret, once, and returns where it was asked to', async () => {
    const a = await start();
    const b = await start();
    const login = await fetch(`${a.url}/auth/login?returnTo=/%23/orgs`, { redirect: 'manual' });
    const cookie = signinOf(login);
    const value = cookie.slice(SIGNIN_COOKIE.length + 1);
    // Sealed: nothing of the sign-in can be read from the cookie.
    const state = new URL(login.headers.get('location')!).searchParams.get('state')!;
    const n = state.slice(1);
    expect(Buffer.from(value.replaceAll('.', ''), 'base64url').toString('latin1')).not.toContain(`v${n}`);
    expect(value).not.toContain('orgs');

    // Altered, or sealed by a console with another secret: refused.
    const other = await start({ signinSecret: new Uint8Array(32).fill(8) });
    expect((await fetch(`${other.url}/auth/callback?code=c&state=${state}`, { redirect: 'manual', headers: { cookie } })).status).toBe(400);
    const altered = `${cookie.slice(0, -3)}${cookie.endsWith('AAA') ? 'BBB' : 'AAA'}`;
    expect((await fetch(`${b.url}/auth/callback?code=c&state=${state}`, { redirect: 'manual', headers: { cookie: altered } })).status).toBe(400);
    expect(finished).toEqual([]);

    const back = await fetch(`${b.url}/auth/callback?code=c&state=${state}`, { redirect: 'manual', headers: { cookie } });
    expect(back.status).toBe(302);
    expect(back.headers.get('location')).toBe('/#/orgs');
    expect(finished).toEqual([{ state, codeVerifier: `v${n}`, nonce: `n${n}` }]);
    // The signed-in session is the first thing stored.
    expect(writes).toHaveLength(1);
    expect((await fetch(`${b.url}/auth/callback?code=c&state=${state}`, { redirect: 'manual', headers: { cookie } })).status).toBe(400);
    expect(finished).toHaveLength(1);
  });

  it('limits the sign-ins started per client address, and believes X-Forwarded-For only from a trusted proxy', async () => {
    const c = await start({ loginRateLimit: { perMinute: 1, burst: 3 } });
    const login = (headers: Record<string, string> = {}) => fetch(`${c.url}/auth/login`, { redirect: 'manual', headers });
    for (let i = 0; i < 3; i++) expect((await login()).status).toBe(302);
    const refused = await login({ 'x-forwarded-for': '192.0.2.1' });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.headers.getSetCookie()).toEqual([]);

    const behindProxy = await start({ loginRateLimit: { perMinute: 1, burst: 1 }, trustedProxies: ['127.0.0.1'] });
    const via = (client: string) => fetch(`${behindProxy.url}/auth/login`, { redirect: 'manual', headers: { 'x-forwarded-for': client } });
    expect((await via('192.0.2.1')).status).toBe(302);
    expect((await via('192.0.2.1')).status).toBe(429);
    expect((await via('192.0.2.2')).status).toBe(302);
  });
});

describe("the token-roles question, asked of the operator's API with the person's own token", () => {
  let operatorApi: Server;
  let withTokenRoles: ConsoleServer;
  let without: ConsoleServer;
  const asked: Seen[] = [];

  beforeAll(async () => {
    operatorApi = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        asked.push({ method: req.method!, url: req.url!, headers: req.headers, body });
        const q = JSON.parse(body) as { user: string };
        if (q.user === 'someone-else') {
          res.writeHead(404, { 'content-type': 'application/json' });
          return res.end(JSON.stringify({ error: 'User t/someone-else does not exist, or you may not ask about it' }));
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ namespace: 'tenant-a', user: q.user, roles: ['role:l:a'] }));
      });
    });
    await new Promise<void>((r) => operatorApi.listen(0, '127.0.0.1', r));
    const port = (operatorApi.address() as { port: number }).port;
    const nowhere = createUpstream({ server: 'http://127.0.0.1:9' });
    withTokenRoles = await startConsoleServer({ upstream: nowhere, tokenRoles: createUpstream({ server: `http://127.0.0.1:${port}` }), distDir: '/nonexistent/' });
    without = await startConsoleServer({ upstream: nowhere, distDir: '/nonexistent/' });
  });

  afterAll(async () => {
    await withTokenRoles?.close();
    await without?.close();
    await new Promise((r) => operatorApi?.close(r));
  });

  async function session(c: ConsoleServer, token?: string): Promise<{ cookie: string; csrf: string }> {
    const res = await fetch(`${c.url}/console/api/session`);
    const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
    const body = (await res.json()) as { csrfToken: string };
    if (token) c.sessions.get(cookie.split('=')[1])!.tokens = { bearer: token };
    return { cookie, csrf: body.csrfToken };
  }
  const question = { namespace: 'tenant-a', user: 'thandi', app: { organization: 'lumen', name: 'frontend' }, jwt: true, extra: 'dropped' };
  const ask = (c: ConsoleServer, s: { cookie: string; csrf: string }, body: unknown = question) =>
    fetch(`${c.url}/console/api/tokenroles`, {
      method: 'POST',
      headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, 'content-type': 'application/json', authorization: 'Bearer browser-chosen' },
      body: JSON.stringify(body),
    });

  it("forwards the question's fields only (never asking for a JWT) with the session's bearer token, and answers the roles", async () => {
    asked.length = 0;
    const res = await ask(withTokenRoles, await session(withTokenRoles, 'tina-token'));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ roles: ['role:l:a'] });
    expect(asked).toHaveLength(1);
    expect(asked[0]!.url).toBe('/tokenroles/v1/roles');
    expect(asked[0]!.headers.authorization).toBe('Bearer tina-token');
    expect(asked[0]!.headers.cookie).toBeUndefined();
    expect(JSON.parse(asked[0]!.body)).toEqual({ namespace: 'tenant-a', user: 'thandi', app: { organization: 'lumen', name: 'frontend' }, jwt: false });
  });

  it("passes the operator's refusal and its message through", async () => {
    const res = await ask(withTokenRoles, await session(withTokenRoles, 'tina-token'), { ...question, user: 'someone-else' });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { message: string }).message).toContain('does not exist, or you may not ask about it');
  });

  it('asks nothing without a session, without the CSRF token, or with a malformed question', async () => {
    asked.length = 0;
    expect((await ask(withTokenRoles, await session(withTokenRoles))).status).toBe(401);
    const s = await session(withTokenRoles, 'tina-token');
    expect((await ask(withTokenRoles, { ...s, csrf: 'wrong' })).status).toBe(403);
    expect((await ask(withTokenRoles, s, { namespace: 'tenant-a', user: 'thandi' })).status).toBe(400);
    expect(asked).toHaveLength(0);
  });

  it('says so when the console was started without --token-roles-url', async () => {
    const res = await ask(without, await session(without, 'tina-token'));
    expect(res.status).toBe(404);
    expect(((await res.json()) as { message: string }).message).toContain('--token-roles-url');
  });
});

describe('the sessions kept on the cluster are read only by the requests that need one', () => {
  let c: ConsoleServer;
  let reads = 0;
  const backend: SessionBackend = {
    read: async () => {
      reads++;
      return undefined;
    },
    write: async () => {},
    remove: async () => {},
  };
  beforeAll(async () => {
    c = await startConsoleServer({ upstream: createUpstream({ server: 'http://127.0.0.1:9' }), distDir: '/nonexistent/', sessions: new SessionStore({ backend }) });
  });
  afterAll(async () => c?.close());
  const cookie = `${COOKIE}=${'x'.repeat(43)}`;

  it('the probes and the page ask nothing of the cluster, whatever cookie they carry', async () => {
    expect((await fetch(`${c.url}/healthz`, { headers: { cookie } })).status).toBe(200);
    await fetch(`${c.url}/`, { headers: { cookie } });
    await fetch(`${c.url}/assets/app.js`, { headers: { cookie } });
    expect(reads).toBe(0);
    expect((await fetch(`${c.url}/console/api/session`, { headers: { cookie } })).status).toBe(200);
    expect(reads).toBe(1);
  });

  it('asks the provider once for a refresh it refused, however often the session is read back from the cluster', async () => {
    let refreshes = 0;
    const stored = new Map<string, StoredSession>();
    const sessions = new SessionStore({ backend: { read: async (k) => stored.get(k), write: async (k, r) => void stored.set(k, r), remove: async (k) => void stored.delete(k) }, recheckMs: 0 });
    const refusing: OidcClient = {
      start: async () => ({ url: 'https://id.example/authorize', codeVerifier: 'v', state: 's', nonce: 'n' }),
      finish: async () => ({ bearer: 'x' }),
      refresh: async () => {
        refreshes++;
        throw new Error('invalid_grant');
      },
      endSessionUrl: () => undefined,
    };
    const r = await startConsoleServer({ upstream: createUpstream({ server: 'http://127.0.0.1:9' }), oidc: refusing, distDir: '/nonexistent/', sessions });
    try {
      const s = sessions.create();
      s.tokens = { bearer: 'expired', refreshToken: 'r1', expiresAt: Date.now() - 1 };
      await sessions.save(s);
      for (let i = 0; i < 3; i++) expect((await fetch(`${r.url}/console/api/me`, { headers: { cookie: `${COOKIE}=${s.id}` } })).status).toBe(401);
      expect(refreshes).toBe(1);
    } finally {
      await r.close();
    }
  });

  it('answers a path that is not percent-encoding with not found, not a failure', async () => {
    expect((await fetch(`${c.url}/assets/%E0%A4%A.js`)).status).toBe(404);
    expect((await fetch(`${c.url}/%ZZ`)).status).toBe(404);
  });
});
