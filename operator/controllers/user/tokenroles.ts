// The token-roles API, on the APIs' TLS listener (--api-bind-address): which roles a frontend app's token
// carries for a user, for an identity provider or gateway that builds the app's token.
//
//   POST /tokenroles/v1/roles  {"namespace": "<tenant namespace>", "user": "<User name>",
//                               "app": {"organization": "...", "name": "<AppManifest>"}, "jwt": true}
//        → {"namespace", "user", "app": {...}, "audience": "<organization>/<appId>",
//           "roles": ["role:<listingId>:<roleName>", ...], "token": "<JWT>" (with "jwt": true), "expiresAt"}
//   GET  /tokenroles/v1/jwks.json → {"keys": [...]}: the public keys the JWTs verify with.
//
// The roles are the intersection of the user's roles (their groups', as the User's status
// says) and the app's rolesRequired. The caller authenticates with a Kubernetes bearer
// token (TokenReview) and is authorized as themselves (SubjectAccessReview): `get` on the
// virtual subresource `users/tokenroles` of that User in the tenant namespace. Someone
// who may not read the User gets the 404 of a missing one. The app must belong to a
// solution the tenant subscribes to, and hold its ids (domain/claims.ts); its roles are
// only those of listings its organization owns. The JWT's audience is
// `<organization>/<appId>` (tokenAudience): an app id is one organization's, and naming
// the organization keeps a token for one organization's app from ever verifying as
// another's, even for an id that changed hands (its first claimant deleted). Answers are never cached; reviews are, for 10 s at
// most, renewed in the background while in use (a steady caller never waits for one).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { TOKEN_ROLES_JWKS_PATH, TOKEN_ROLES_PATH, tokenAudience } from '../../api/user/names.ts';
import { TOKEN_ROLES_SUBRESOURCE } from '../../domain/rbac.ts';
import type { Clock } from '../../runtime/clock.ts';
import { errorMessage } from '../../runtime/errors.ts';
import { RateLimiter } from '../../runtime/ratelimit.ts';
import { AccessDecisions, HttpError, admitPost, callerOf } from '../../servers/authority.ts';
import type { RateLimit } from '../../runtime/ratelimit.ts';
import { SIGNING_ALG, publicJwk } from './signing-keys.ts';
import type { SigningState } from './signing-keys.ts';
import type { Authority } from '../../servers/authority.ts';
import { readBody } from '../../servers/listen.ts';
import type { RouteHandler } from '../../servers/webhook.ts';

/** What the API answers from (the User module, over the caches). */
export interface TokenRolesBackend {
  /** The user's email and roles, or undefined when there is no such User. */
  user(namespace: string, name: string): { email: string; roles: string[] } | undefined;
  /** The app, when it exists, holds its ids and belongs to a solution the namespace's tenant subscribes to; rolesRequired only of its organization's listings. */
  app(namespace: string, ref: { organization: string; name: string }): { organization: string; appId: string; listingId?: string; rolesRequired: readonly string[] } | undefined;
  /** The key to sign with (rotated first when a rotation was asked for). */
  signingKey(): Promise<SigningState>;
  /** Every key the JWKS publishes. */
  publishedKeys(): Promise<SigningState>;
}

export interface TokenRolesOptions {
  authority: Authority;
  backend: TokenRolesBackend;
  /** Computes the answer (pure: the intersection). */
  tokenRoles: (userRoles: readonly string[], rolesRequired: readonly string[]) => string[];
  clock: Clock;
  log: Logger;
  /** The JWT's `iss`. */
  issuer?: string;
  /** How long a JWT is valid (default 5 minutes). */
  tokenTtlSeconds?: number;
  /** Requests per client address (default 1,200,000 a minute in bursts of 20,000: one identity provider or gateway calls it for every login). */
  clientLimit?: RateLimit;
}

interface Body {
  namespace: string;
  user: string;
  app: { organization: string; name: string };
  jwt?: boolean;
}

function parse(text: string): Body {
  let b: Partial<Body>;
  try {
    b = JSON.parse(text) as Partial<Body>;
  } catch {
    throw new HttpError(400, 'The body is not JSON');
  }
  if (!b || typeof b.namespace !== 'string' || typeof b.user !== 'string') throw new HttpError(400, 'namespace and user are required');
  if (typeof b.app?.organization !== 'string' || typeof b.app?.name !== 'string') throw new HttpError(400, 'app.organization and app.name are required');
  if (b.jwt !== undefined && typeof b.jwt !== 'boolean') throw new HttpError(400, 'jwt must be true or false');
  return b as Body;
}

const send = (res: ServerResponse, status: number, body: unknown, cache = 'no-store', headers?: Record<string, string>) => {
  const text = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': cache, 'content-length': text.length, ...headers }).end(text);
};

export const DEFAULT_ISSUER = 'miniapps-operator';

export function tokenRolesRoutes(opts: TokenRolesOptions): { path: string; handler: RouteHandler }[] {
  const limiter = new RateLimiter(opts.clientLimit ?? { perMinute: 1_200_000, burst: 20_000 });
  const log = opts.log.child({ server: 'tokenroles' });
  const decisions = new AccessDecisions(opts.authority, { ttlMs: 10_000, maxEntries: 10_000, clock: opts.clock });
  const issuer = opts.issuer ?? DEFAULT_ISSUER;
  const ttl = opts.tokenTtlSeconds ?? 300;
  let jose: typeof import('jose') | undefined;

  const may = (caller: Parameters<Authority['allowed']>[0], attrs: Parameters<Authority['allowed']>[1]) => decisions.allowed(caller, attrs);

  const roles: RouteHandler = (req: IncomingMessage, res: ServerResponse) => {
    if (!admitPost(req, res, limiter)) return;
    void (async () => {
      const caller = await callerOf(req, opts.authority);
      const body = parse(
        await readBody(req, 64 << 10).catch(() => {
          throw new HttpError(413, 'The body is larger than 64 KiB');
        }),
      );
      const who = `User ${body.namespace}/${body.user}`;
      const target = { namespace: body.namespace, name: body.user, resource: 'users' };
      if (!(await may(caller, { ...target, verb: 'get', subresource: TOKEN_ROLES_SUBRESOURCE }))) {
        if (!(await may(caller, { ...target, verb: 'get' }))) throw new HttpError(404, `${who} does not exist, or you may not ask about it`);
        throw new HttpError(403, `${caller.username} may not ask for the token roles of ${who}: it needs RBAC get on miniapps.dev users/${TOKEN_ROLES_SUBRESOURCE} in namespace ${body.namespace}`);
      }
      const user = opts.backend.user(body.namespace, body.user);
      if (!user) throw new HttpError(404, `${who} does not exist, or you may not ask about it`);
      const app = opts.backend.app(body.namespace, body.app);
      if (!app)
        throw new HttpError(
          404,
          `AppManifest ${body.app.organization}/${body.app.name} does not exist, is not an app of a solution namespace ${body.namespace} subscribes to, or its appId or listingId is another organization's`,
        );
      const answer = opts.tokenRoles(user.roles, app.rolesRequired);
      const audience = tokenAudience(app.organization, app.appId);
      const out: Record<string, unknown> = { namespace: body.namespace, user: body.user, app: { ...body.app, appId: app.appId, listingId: app.listingId }, audience, roles: answer };
      if (body.jwt) {
        const state = await opts.backend.signingKey();
        if (!state.ok) throw new HttpError(503, 'The signing key is not usable now; try again later');
        jose ??= await import('jose');
        const key = await jose.importJWK(state.current.jwk, SIGNING_ALG);
        const now = Math.floor(opts.clock.now().getTime() / 1000);
        out.token = await new jose.SignJWT({ roles: answer, email: user.email, tenant: body.namespace, organization: app.organization, appId: app.appId, listingId: app.listingId })
          .setProtectedHeader({ alg: SIGNING_ALG, kid: state.current.kid, typ: 'JWT' })
          .setIssuer(issuer)
          .setSubject(`${body.namespace}/${body.user}`)
          .setAudience(audience)
          .setIssuedAt(now)
          .setExpirationTime(now + ttl)
          .sign(key);
        out.expiresAt = new Date((now + ttl) * 1000).toISOString();
      }
      return out;
    })().then(
      (result) => send(res, 200, result),
      (err: unknown) => {
        if (err instanceof HttpError) return send(res, err.status, { error: err.message }, 'no-store', err.headers);
        log.error({ err: errorMessage(err) }, 'Token roles request failed');
        send(res, 500, { error: 'The operator could not answer now; try again' });
      },
    );
  };

  const jwks: RouteHandler = (req, res) => {
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    void opts.backend.publishedKeys().then(
      (state) => (state.ok ? send(res, 200, { keys: state.doc.keys.map(publicJwk) }, 'public, max-age=60') : send(res, 503, { error: 'No signing key yet' })),
      (err: unknown) => {
        log.error({ err: errorMessage(err) }, 'JWKS request failed');
        send(res, 500, { error: 'The operator could not answer now; try again' });
      },
    );
  };

  return [
    { path: TOKEN_ROLES_PATH, handler: roles },
    { path: TOKEN_ROLES_JWKS_PATH, handler: jwks },
  ];
}
