import { request } from 'node:http';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../runtime/clock.ts';
import { AcceptServer } from './accept.ts';
import type { AcceptBackend, AcceptRefusal, AcceptResult, AcceptServerOptions, AcceptView, AccountField } from './accept.ts';

const TOKEN = 'eyJ1aWQiOiJ1MSJ9.c2lnbmF0dXJl';
const valid: Extract<AcceptView, { state: 'valid' }> = { state: 'valid', organization: 'Acme <Corp>', role: 'MiniAppDeveloper', email: 'dev@example.com', expiresAt: '2030-03-04T05:06:07Z' };
const refusals: Record<string, AcceptRefusal> = {
  expired: { state: 'expired', message: 'This invitation has expired. Ask for a new one.' },
  used: { state: 'used', message: 'This invitation has already been accepted.' },
  invalid: { state: 'invalid', message: 'This invitation link is not valid.' },
  unknown: { state: 'unknown', message: 'This invitation no longer exists.' },
};

/** Answers by token: `valid`, one of the refusal states, or `fail` (throws). */
class FakeBackend implements AcceptBackend {
  accepted: string[] = [];
  async describe(token: string): Promise<AcceptView> {
    if (token === 'fail') throw new Error('etcd is down');
    return refusals[token] ?? valid;
  }
  async accept(token: string): Promise<AcceptResult> {
    if (token === 'fail') throw new Error('etcd is down');
    const retry = /^retry-(.*)$/.exec(token);
    if (retry)
      return {
        state: 'retry',
        message: `Refused <${retry[1]}>.`,
        status: 400,
        view: { ...valid, accounts: true },
        field: (retry[1] || undefined) as AccountField | undefined,
        fields: { username: 'ada' },
      };
    if (refusals[token]) return refusals[token];
    if (this.accepted.includes(token)) return refusals.used;
    this.accepted.push(token);
    return { state: 'accepted', organization: valid.organization, role: valid.role, email: valid.email };
  }
}

let server: AcceptServer;
let base: string;
const backend = new FakeBackend();
const logs: string[] = [];

beforeAll(async () => {
  const log = pino({ level: 'debug' }, { write: (line: string) => void logs.push(line) });
  // Limits out of the way: these tests are about the pages (the limits have their own below).
  const unlimited = { perMinute: 60_000, burst: 1_000 };
  server = new AcceptServer({ address: { host: '127.0.0.1', port: 0 }, log, backend, bodyLimit: 4096, clientLimit: unlimited, tokenLimit: unlimited });
  base = `http://127.0.0.1:${await server.start()}`;
});
afterAll(() => server.stop());

const get = (token?: string) => fetch(`${base}/invitations/accept${token === undefined ? '' : `?token=${encodeURIComponent(token)}`}`);
const post = (body: string, type = 'application/x-www-form-urlencoded') => fetch(`${base}/invitations/accept`, { method: 'POST', headers: { 'content-type': type }, body });

describe('GET /invitations/accept', () => {
  it('shows a valid invitation: organization, role, email, expiry, and a form posting the token', async () => {
    const res = await get(TOKEN);
    const html = await res.text();
    expect(res.status).toBe(200);
    expect(html).toContain('<h1>Join Acme &lt;Corp&gt;</h1>');
    expect(html).toContain('<dd>Acme &lt;Corp&gt;</dd>');
    expect(html).toContain('<dd>mini app developer</dd>');
    expect(html).toContain('<dd>dev@example.com</dd>');
    expect(html).toContain('4 March 2030, 05:06 UTC');
    expect(html).toContain('<form method="post" action="/invitations/accept">');
    expect(html).toContain(`<input type="hidden" name="token" value="${TOKEN}">`);
    expect(html.split(TOKEN)).toHaveLength(2); // only in the hidden field
    expect(html).toContain('<button type="submit">Accept invitation</button>');
  });

  it.each([
    ['expired', 410, 'This invitation has expired'],
    ['used', 409, 'This invitation was already used'],
    ['invalid', 400, 'This invitation link is not valid'],
    ['unknown', 404, 'This invitation no longer exists'],
  ])('answers a token the backend calls %s with %i and says why', async (state, status, title) => {
    const res = await get(state);
    const html = await res.text();
    expect(res.status).toBe(status);
    expect(html).toContain(`<h1>${title}</h1>`);
    expect(html).toContain(refusals[state].message);
    expect(html).not.toContain('<form');
  });

  it('answers a link without a token with 400', async () => {
    const res = await get();
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('The link has no invitation token');
  });

  it('answers 503 with a retry message when the backend fails, and keeps the token out of the log', async () => {
    const res = await get('fail');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('30');
    expect(await res.text()).toContain('Please try again in a minute');
    expect(logs.join('')).toContain('Invitation lookup failed');
    expect(logs.join('')).not.toContain(TOKEN);
  });

  it('sends the security headers on every page', async () => {
    for (const res of [await get(TOKEN), await get('expired'), await fetch(`${base}/nowhere`)]) {
      const csp = res.headers.get('content-security-policy')!;
      expect(csp).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'$/);
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    }
  });

  it('escapes a token that tries to break out of the hidden field', async () => {
    const html = await (await get('"><script>alert(1)</script>')).text();
    expect(html).not.toContain('<script>');
    expect(html).toContain('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
  });
});

describe('POST /invitations/accept', () => {
  it('accepts once and shows the success page; a second post is 409', async () => {
    const first = await post(new URLSearchParams({ token: 'post-flow' }).toString());
    const html = await first.text();
    expect(first.status).toBe(200);
    expect(html).toContain('<h1>Welcome to Acme &lt;Corp&gt;</h1>');
    expect(html).toContain('<strong>dev@example.com</strong> is now a member of <strong>Acme &lt;Corp&gt;</strong> as <strong>mini app developer</strong>');
    expect(html).not.toContain('post-flow');
    expect(backend.accepted).toEqual(['post-flow']);
    const again = await post('token=post-flow');
    expect(again.status).toBe(409);
    expect(await again.text()).toContain('This invitation was already used');
  });

  it.each([
    ['expired', 410],
    ['invalid', 400],
    ['unknown', 404],
    ['fail', 503],
  ])('answers a %s token with %i', async (token, status) => {
    expect((await post(`token=${token}`)).status).toBe(status);
  });

  it('answers a form without a token with 400', async () => {
    expect((await post('other=1')).status).toBe(400);
  });

  it.each(['username', 'password', 'firstName', 'lastName', 'signin-password'])('shows a refusal about %s next to that field, once, and keeps what was typed', async (field) => {
    const res = await post(`token=retry-${field}`);
    const html = await res.text();
    expect(res.status).toBe(400);
    expect(html.split('role="alert"')).toHaveLength(2);
    expect(html).toContain(`<p class="error" role="alert">Refused &lt;${field}&gt;.</p>\n<label for="${field}">`);
    expect(html).toContain('<input id="username" name="username" autocomplete="username" required minlength="2" maxlength="63" value="ada">');
  });

  it('shows a refusal about no field above both forms', async () => {
    const html = await (await post('token=retry-')).text();
    expect(html).toContain('<p class="error" role="alert">Refused &lt;&gt;.</p>\n<h2>Create your account</h2>');
  });

  it('refuses another content type with 415 and a body over the limit with 413', async () => {
    expect((await post(JSON.stringify({ token: TOKEN }), 'application/json')).status).toBe(415);
    expect((await post(`token=${'a'.repeat(10_000)}`)).status).toBe(413);
  });
});

describe('other routes', () => {
  it('answers /healthz', async () => {
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok');
  });

  it('answers unknown paths with 404 and other methods with 405', async () => {
    expect((await fetch(`${base}/admin`)).status).toBe(404);
    const res = await fetch(`${base}/invitations/accept`, { method: 'DELETE' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD, POST');
  });
});

/** Counts the backend's calls; every token is a valid invitation. */
class CountingBackend implements AcceptBackend {
  describes = 0;
  accepts = 0;
  async describe(): Promise<AcceptView> {
    this.describes++;
    return valid;
  }
  async accept(): Promise<AcceptResult> {
    this.accepts++;
    return { state: 'accepted', organization: valid.organization, role: valid.role, email: valid.email };
  }
}

function fakeClock(): Clock & { advance(ms: number): void } {
  let t = Date.parse('2030-01-01T00:00:00Z');
  return { now: () => new Date(t), advance: (ms) => void (t += ms) };
}

/** One request from a chosen loopback address (Linux routes all of 127/8 to lo). */
function send(port: number, opts: { from?: string; method?: 'GET' | 'POST'; token: string }): Promise<{ status: number; retryAfter?: string; html: string }> {
  const post = opts.method === 'POST';
  const body = post ? new URLSearchParams({ token: opts.token }).toString() : '';
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        localAddress: opts.from ?? '127.0.0.1',
        method: opts.method ?? 'GET',
        path: post ? '/invitations/accept' : `/invitations/accept?token=${encodeURIComponent(opts.token)}`,
        headers: post ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } : {},
        agent: false,
      },
      (res) => {
        let html = '';
        res.setEncoding('utf8').on('data', (c: string) => (html += c));
        res.on('end', () => resolve({ status: res.statusCode!, retryAfter: res.headers['retry-after'], html }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('limits and cache of the acceptance page', () => {
  const started: AcceptServer[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((s) => s.stop()));
  });
  async function start(opts: Partial<AcceptServerOptions>): Promise<{ port: number; backend: CountingBackend; clock: ReturnType<typeof fakeClock> }> {
    const backend = new CountingBackend();
    const clock = fakeClock();
    const s = new AcceptServer({ address: { host: '127.0.0.1', port: 0 }, log: pino({ level: 'silent' }), backend, clock, ...opts });
    started.push(s);
    return { port: await s.start(), backend, clock };
  }

  it('answers 429 with Retry-After once a client has used its budget (no rate limit per client)', async () => {
    const { port, clock } = await start({ clientLimit: { perMinute: 6, burst: 3 }, tokenLimit: { perMinute: 600, burst: 100 } });
    for (let i = 0; i < 3; i++) expect((await send(port, { token: `t${i}` })).status).toBe(200);
    const refused = await send(port, { token: 't3' });
    expect(refused.status).toBe(429);
    expect(refused.retryAfter).toBe('10');
    expect(refused.html).toContain('<h1>Too many requests</h1>');
    expect(refused.html).not.toContain('t3');
    expect((await send(port, { method: 'POST', token: 't4' })).status).toBe(429);
    // Another client has its own budget; this one gets a request back after 10 s.
    expect((await send(port, { from: '127.0.0.2', token: 't5' })).status).toBe(200);
    clock.advance(10_000);
    expect((await send(port, { token: 't6' })).status).toBe(200);
  });

  it('answers 429 once a token has used its budget, whichever clients send it (no rate limit per token)', async () => {
    const { port, backend } = await start({ clientLimit: { perMinute: 600, burst: 100 }, tokenLimit: { perMinute: 2, burst: 2 } });
    expect((await send(port, { from: '127.0.0.2', token: 'tok' })).status).toBe(200);
    expect((await send(port, { from: '127.0.0.3', method: 'POST', token: 'tok' })).status).toBe(200);
    const refused = await send(port, { from: '127.0.0.4', token: 'tok' });
    expect(refused.status).toBe(429);
    expect(refused.retryAfter).toBe('30');
    expect((await send(port, { from: '127.0.0.5', method: 'POST', token: 'tok' })).status).toBe(429);
    expect(backend.accepts).toBe(1);
    expect((await send(port, { from: '127.0.0.4', token: 'other' })).status).toBe(200);
  });

  it('answers a second GET of a token within the cache window without asking the backend again (each GET was an API read)', async () => {
    const { port, backend, clock } = await start({ cacheTtlMs: 5_000 });
    expect((await send(port, { token: 'tok' })).status).toBe(200);
    clock.advance(4_999);
    const again = await send(port, { from: '127.0.0.2', token: 'tok' });
    expect(again.status).toBe(200);
    expect(again.html).toContain('<dd>dev@example.com</dd>');
    expect(backend.describes).toBe(1);
    expect((await send(port, { token: 'another' })).status).toBe(200);
    expect(backend.describes).toBe(2);
    clock.advance(1);
    await send(port, { token: 'tok' });
    expect(backend.describes).toBe(3);
  });

  it('always asks the backend on POST and forgets the cached page of its token (accept is never answered from the cache)', async () => {
    const { port, backend } = await start({ cacheTtlMs: 5_000 });
    await send(port, { token: 'tok' });
    expect((await send(port, { method: 'POST', token: 'tok' })).status).toBe(200);
    expect((await send(port, { method: 'POST', token: 'tok' })).status).toBe(200);
    expect(backend.accepts).toBe(2);
    await send(port, { token: 'tok' });
    expect(backend.describes).toBe(2);
  });

  it('does not cache a failed lookup', async () => {
    const failing = new CountingBackend();
    let fail = true;
    failing.describe = async () => {
      failing.describes++;
      if (fail) throw new Error('etcd is down');
      return valid;
    };
    const { port } = await start({ backend: failing, cacheTtlMs: 5_000 });
    expect((await send(port, { token: 'tok' })).status).toBe(503);
    fail = false;
    expect((await send(port, { token: 'tok' })).status).toBe(200);
    expect(failing.describes).toBe(2);
  });
});
