import { createServer } from 'node:http';
import type { Server } from 'node:http';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newKey } from './envelope.ts';
import { PROTECT_PATH, REVEAL_PATH, dataProtectionRoutes } from './protect.ts';
import type { Caller } from '../../servers/authority.ts';
import type { ProtectedApp } from './protect.ts';
import { close, listen } from '../../servers/listen.ts';

const apps: Record<string, ProtectedApp> = {
  plain: { namespace: 'org-p', name: 'plain', uid: 'u1', protection: 'None' },
  masked: { namespace: 'org-p', name: 'masked', uid: 'u2', protection: 'IrreversibleMasking' },
  vault: { namespace: 'org-p', name: 'vault', uid: 'u3', protection: 'EnvelopeEncryption' },
};
const keys = new Map<string, Buffer>([['u3', newKey()]]);
/** token → user; what each user may: `verb resource[/sub] name`. */
const tokens: Record<string, string> = { 'tok-store': 'store', 'tok-reader': 'reader' };
const grants: Record<string, string[]> = {
  store: ['get miniapps vault', 'get miniapps plain', 'get miniapps masked', 'create miniapps/reveal vault'],
  reader: ['get miniapps vault'],
};
let server: Server;
let base: string;
let small: Server;
let smallBase: string;
/** The SubjectAccessReviews asked, in order. */
const reviews: string[] = [];

beforeAll(async () => {
  const routes = dataProtectionRoutes({
    log: pino({ level: 'silent' }),
    authority: {
      authenticate: async (t) => (tokens[t] ? ({ username: tokens[t] } as Caller) : undefined),
      allowed: async (c, a) => {
        reviews.push(`${a.verb} ${a.resource}${a.subresource ? `/${a.subresource}` : ''} ${a.namespace}/${a.name}`);
        return (grants[c.username] ?? []).includes(`${a.verb} ${a.resource}${a.subresource ? `/${a.subresource}` : ''} ${a.name}`);
      },
    },
    backend: { target: (ref) => ({ namespace: 'org-p', name: ref.name }), resolve: (ref) => (ref.organization === 'partner' ? apps[ref.name] : undefined), dataKey: async (app) => keys.get(app.uid) },
  });
  server = createServer((req, res) => routes.find((r) => r.path === req.url)!.handler(req, res));
  base = `http://127.0.0.1:${await listen(server, { host: '127.0.0.1', port: 0 })}`;
  // The same API with 256 KiB of bodies in flight at most, its caller's answers held back until released.
  const smallRoutes = dataProtectionRoutes({
    log: pino({ level: 'silent' }),
    maxBytesInFlight: 256 << 10,
    authority: {
      authenticate: async (t) => (tokens[t] ? ({ username: tokens[t] } as Caller) : undefined),
      allowed: async () => {
        await hold;
        return false;
      },
    },
    backend: { target: (ref) => ({ namespace: 'org-p', name: ref.name }), resolve: () => undefined, dataKey: async () => undefined },
  });
  small = createServer((req, res) => smallRoutes.find((r) => r.path === req.url)!.handler(req, res));
  smallBase = `http://127.0.0.1:${await listen(small, { host: '127.0.0.1', port: 0 })}`;
});
let release: () => void = () => {};
let hold: Promise<void> = Promise.resolve();
afterAll(() => Promise.all([close(server), close(small)]));

async function call(path: string, token: string | undefined, name: string, values: string[]) {
  const res = await fetch(base + path, { method: 'POST', headers: token ? { authorization: `Bearer ${token}` } : {}, body: JSON.stringify({ miniApp: { organization: 'partner', name }, values }) });
  return { status: res.status, body: (await res.json()) as { values?: string[]; protection?: string; error?: string } };
}

describe('the data-protection API', () => {
  it('needs a token the API server accepts', async () => {
    expect((await call(PROTECT_PATH, undefined, 'plain', ['x'])).status).toBe(401);
    expect((await call(PROTECT_PATH, 'forged', 'plain', ['x'])).status).toBe(401);
  });

  it('protects as the mode says: as they are, masked, or encrypted', async () => {
    expect((await call(PROTECT_PATH, 'tok-store', 'plain', ['Jane'])).body).toEqual({ protection: 'None', values: ['Jane'] });
    expect((await call(PROTECT_PATH, 'tok-store', 'masked', ['+254700123456'])).body).toEqual({ protection: 'IrreversibleMasking', values: ['*********3456'] });
    const enc = await call(PROTECT_PATH, 'tok-store', 'vault', ['Jane', 'Doe']);
    expect(enc.body.protection).toBe('EnvelopeEncryption');
    expect(enc.body.values?.every((v) => v.startsWith('mae1:'))).toBe(true);
    expect(JSON.stringify(enc.body)).not.toContain('Jane');
    expect((await call(REVEAL_PATH, 'tok-store', 'vault', enc.body.values!)).body).toEqual({ values: ['Jane', 'Doe'] });
  });

  it('reveals only for those the authorizer allows miniapps/reveal; others learn nothing more than they may read', async () => {
    const enc = await call(PROTECT_PATH, 'tok-store', 'vault', ['secret']);
    const reader = await call(REVEAL_PATH, 'tok-reader', 'vault', enc.body.values!);
    expect(reader.status).toBe(403);
    expect(reader.body.error).toContain('miniapps/reveal');
    expect(JSON.stringify(reader.body)).not.toContain('secret');
    // A caller who may not even read the mini app cannot tell it from a missing one.
    expect((await call(REVEAL_PATH, 'tok-reader', 'plain', ['x'])).status).toBe(404);
    expect((await call(REVEAL_PATH, 'tok-reader', 'nosuch', ['x'])).status).toBe(404);
  });

  it.each([
    ['protect', PROTECT_PATH],
    ['reveal', REVEAL_PATH],
  ])('%s: a missing mini app and one the caller may not use get the same bytes after the same reviews', async (_op, path) => {
    const answer = async (name: string) => {
      reviews.length = 0;
      const res = await fetch(base + path, { method: 'POST', headers: { authorization: 'Bearer tok-reader' }, body: JSON.stringify({ miniApp: { organization: 'partner', name }, values: ['x'] }) });
      return { status: res.status, body: await res.text(), reviews: reviews.map((r) => r.replace(name, '<name>')) };
    };
    const existing = await answer('plain');
    const missing = await answer('ghost');
    expect(existing.status).toBe(404);
    expect(missing).toEqual({ ...existing, body: existing.body.replace('plain', 'ghost') });
    expect(missing.reviews.length).toBeGreaterThan(0);
  });

  it('finding 6: bodies of accepted callers share a cap of bytes in flight (503 beyond), and one above 4 MiB is refused from its Content-Length', async () => {
    hold = new Promise((r) => (release = r));
    const body = (kib: number) => JSON.stringify({ miniApp: { organization: 'partner', name: 'vault' }, values: ['x'.repeat(kib << 10)] });
    const post = (text: string) => fetch(smallBase + PROTECT_PATH, { method: 'POST', headers: { authorization: 'Bearer tok-store' }, body: text }).then((r) => r.status);
    // Two bodies of 100 KiB are held (their authorization waits), a third does not fit.
    const first = [post(body(100)), post(body(100))];
    await new Promise((r) => setTimeout(r, 200));
    expect(await post(body(100))).toBe(503);
    release();
    expect(await Promise.all(first)).toEqual([404, 404]);
    // Their bytes are given back once answered.
    expect(await post(body(100))).toBe(404);
    expect(await post(body(5 << 10))).toBe(413);
  });

  it('refuses what is not ciphertext of this mini app, and a mini app with no data key', async () => {
    const enc = await call(PROTECT_PATH, 'tok-store', 'vault', ['secret']);
    const changed = enc.body.values![0]!.slice(0, -2) + (enc.body.values![0]!.endsWith('AA') ? 'AB' : 'AA');
    expect((await call(REVEAL_PATH, 'tok-store', 'vault', [changed])).status).toBe(422);
    keys.delete('u3');
    expect((await call(REVEAL_PATH, 'tok-store', 'vault', enc.body.values!)).status).toBe(409);
  });
});
