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
import { COOKIE, SessionStore, csrfOk, sessionIdFrom } from './session.ts';
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
