// TEST-ONLY: puts a bearer token into a console session, as the OIDC callback would, and
// gives a browser context that session's cookie. The production server has no route that
// does this (console/server/main.ts never imports this file): in tests the token is an
// API key or a ServiceAccount token the API server itself authenticates.
import type { BrowserContext } from 'playwright-core';
import type { ConsoleServer } from './server/server.ts';
import { COOKIE } from './server/session.ts';

export async function signInWithToken(console: ConsoleServer, context: BrowserContext, bearer: string): Promise<void> {
  const s = console.sessions.create();
  s.tokens = { bearer };
  await context.addCookies([{ name: COOKIE, value: s.id, url: console.url, httpOnly: true, sameSite: 'Strict' }]);
}
