// The two ways a key is verified over HTTP, both through KeyVerifier:
//
//   POST /authenticate   the Kubernetes API server's authentication webhook (TokenReview,
//                        authentication.k8s.io/v1 or v1beta1), on the webhook listener
//                        (--webhook-bind-address, the API server's client certificate
//                        only): kubectl --token=<key> authenticates as the key's owner.
//   POST /verify         for API gateways, on the APIs' TLS listener (--api-bind-address)
//                        and (--verify-bind-address) on a plain HTTP listener:
//                        {"apiKey": "...", "scope": "..."} with the caller's own
//                        ServiceAccount token as `Authorization: Bearer`. The caller is
//                        authenticated by the APIs' shared authority (TokenReview, its
//                        caches and budgets, servers/authority.ts) and authorized by
//                        SubjectAccessReview (`create` on miniapps.dev apikeys/verify,
//                        ClusterRole miniapps:api-key-verifier), that decision remembered
//                        for a few seconds by user name and groups, and rate-limited per
//                        caller (429 with Retry-After).
//
// Keys and tokens are never logged: only key ids and callers' user names.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { http } from '../../runtime/builtins.ts';
import { API_KEY_PREFIX, API_KEY_VERIFY_SUBRESOURCE, ApiKeyExtra, KUBERNETES_SCOPE } from '../../api/apikey/names.ts';
import { GROUP } from '../../api/constants.ts';
import type { Clock } from '../../runtime/clock.ts';
import { errorMessage } from '../../runtime/errors.ts';
import { AccessDecisions, HttpError, callerOf } from '../../servers/authority.ts';
import type { Authority } from '../../servers/authority.ts';
import { RateLimiter } from '../../runtime/ratelimit.ts';
import type { RateLimit } from '../../runtime/ratelimit.ts';
import { PLAIN_HTTP_TIMEOUTS, close, listen, readBody } from '../../servers/listen.ts';
import type { RouteHandler } from '../../servers/webhook.ts';
import type { ModuleListener } from '../module.ts';
import type { KeyIdentity, KeyVerifier } from './verify.ts';

export const AUTHENTICATE_PATH = '/authenticate';
export const VERIFY_PATH = '/verify';

function reply(res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>): void {
  const text = JSON.stringify(body);
  const h: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' };
  if (headers) for (const k in headers) h[k] = headers[k]!;
  res.writeHead(status, h).end(text);
}

/** The `user` of a TokenReview answer for a key: the owner, no groups of its own (the API server adds system:authenticated), the key in `extra`. */
export function tokenReviewUser(id: KeyIdentity): { username: string; groups: string[]; extra: Record<string, string[]> } {
  return {
    username: id.username,
    groups: [],
    extra: {
      [ApiKeyExtra.keyId]: [id.keyId],
      [ApiKeyExtra.apiKey]: [`${id.namespace}/${id.name}`],
      ...(id.scopes.length ? { [ApiKeyExtra.scopes]: [...id.scopes] } : {}),
    },
  };
}

/**
 * The authentication webhook: answers a TokenReview for a miniapps key (with the scope
 * `kubernetes`, or no scopes) with its owner's identity; any other token is not ours
 * (authenticated false, no error, so the API server's other authenticators decide).
 */
export function tokenReviewHandler(verifier: KeyVerifier, log: Logger): RouteHandler {
  return (req, res) => {
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    readBody(req, 64 * 1024)
      .then(
        async (text) => {
          let review: { apiVersion?: string; spec?: { token?: unknown } };
          try {
            review = JSON.parse(text) as typeof review;
          } catch {
            return reply(res, 400, { error: 'not a TokenReview (invalid JSON)' });
          }
          const token = typeof review.spec?.token === 'string' ? review.spec.token : '';
          const apiVersion = review.apiVersion === 'authentication.k8s.io/v1beta1' ? review.apiVersion : 'authentication.k8s.io/v1';
          let status: Record<string, unknown> = { authenticated: false };
          if (token.startsWith(API_KEY_PREFIX)) {
            const verdict = await verifier.verify(token, KUBERNETES_SCOPE);
            if (verdict.ok) {
              status = { authenticated: true, user: tokenReviewUser(verdict.identity) };
              log.debug({ keyId: verdict.identity.keyId, user: verdict.identity.username }, 'API key authenticated');
            } else {
              status = { authenticated: false, error: verdict.reason };
              log.info({ reason: verdict.reason }, 'API key refused');
            }
          }
          reply(res, 200, { apiVersion, kind: 'TokenReview', status });
        },
        (err: unknown) => reply(res, 400, { error: errorMessage(err) }),
      )
      .catch((err: unknown) => reply(res, 500, { error: errorMessage(err) }));
  };
}

export interface VerifyLimits {
  /** Verifications per caller (default 60,000 a minute in bursts of 2,000). */
  perCaller: RateLimit;
}

export const DEFAULT_VERIFY_LIMIT: RateLimit = { perMinute: 60_000, burst: 2_000 };

/**
 * The verify endpoint's handler: the caller first, through the APIs' one authority
 * (callerOf: its cache of accepted tokens, refused ones kept apart, the per-address
 * budget of unknown tokens and the review budget, shared with every other API), then
 * whether they may verify (an access decision remembered for a few seconds by user name
 * and groups, the only cache of its own), then its rate limit, then the key.
 */
export function verifyHandler(opts: { verifier: KeyVerifier; authority: Authority; limits: VerifyLimits; log: Logger; clock?: Clock }): RouteHandler {
  const { verifier, authority, log } = opts;
  const perCaller = new RateLimiter(opts.limits.perCaller, opts.clock);
  const decisions = new AccessDecisions(authority, { ttlMs: 10_000, refusalTtlMs: 2_000, clock: opts.clock });

  const check = async (req: IncomingMessage): Promise<string> => {
    const caller = await callerOf(req, authority).catch((err: unknown) => {
      if (err instanceof HttpError && err.status === 401)
        throw new HttpError(401, 'The bearer token was not accepted by the Kubernetes API server: send a ServiceAccount token as Authorization: Bearer', { 'www-authenticate': 'Bearer' });
      throw err;
    });
    // Cluster-wide: no namespace, no name.
    if (!(await decisions.allowed(caller, { verb: 'create', resource: 'apikeys', subresource: API_KEY_VERIFY_SUBRESOURCE, namespace: '', name: '' }))) {
      throw new HttpError(403, `${caller.username} may not verify API keys: it needs RBAC create on ${GROUP} apikeys/${API_KEY_VERIFY_SUBRESOURCE} (bind it to ClusterRole miniapps:api-key-verifier)`);
    }
    const admitted = perCaller.take(caller.username);
    if (!admitted.ok) throw new HttpError(429, `Too many verifications by ${caller.username}; retry after ${admitted.retryAfterSeconds}s`, { 'retry-after': String(admitted.retryAfterSeconds) });
    return caller.username;
  };

  const answer = async (res: ServerResponse, caller: string, text: string): Promise<void> => {
    let body: { apiKey?: unknown; scope?: unknown };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      return reply(res, 400, { error: 'The body must be JSON: {"apiKey": "mak_...", "scope": "optional"}' });
    }
    if (typeof body.apiKey !== 'string' || (body.scope !== undefined && typeof body.scope !== 'string')) {
      return reply(res, 400, { error: 'The body must be JSON: {"apiKey": "mak_...", "scope": "optional"}' });
    }
    const verdict = await verifier.verify(body.apiKey, body.scope as string | undefined);
    if (!verdict.ok) {
      log.debug({ caller, reason: verdict.reason }, 'API key refused');
      return reply(res, 200, { valid: false, reason: verdict.reason });
    }
    const id = verdict.identity;
    reply(res, 200, {
      valid: true,
      owner: id.owner,
      username: id.username,
      organization: id.organization ?? null,
      apiKey: { namespace: id.namespace, name: id.name },
      keyId: id.keyId,
      scopes: id.scopes,
      expiresAt: id.expiresAt ?? null,
      previousKey: id.previous,
    });
  };

  return (req, res) => {
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST' }).end();
      req.resume();
      return;
    }
    check(req).then(
      (caller) =>
        readBody(req, 16 * 1024).then(
          (text) => answer(res, caller, text).catch((err: unknown) => reply(res, 500, { error: errorMessage(err) })),
          (err: unknown) => reply(res, 400, { error: errorMessage(err) }),
        ),
      (err: unknown) => {
        req.resume();
        if (err instanceof HttpError) return reply(res, err.status, { error: err.message }, err.headers);
        log.warn({ err: errorMessage(err) }, 'Verify caller not authenticated: the API server could not be asked');
        reply(res, 503, { error: 'The caller could not be authenticated right now; try again' }, { 'retry-after': '1' });
      },
    );
  };
}

/** The verify endpoint on a plain HTTP listener of its own (for a gateway next to the operator; TLS is on the APIs' listener). */
export class VerifyServer implements ModuleListener {
  private readonly server: Server;
  private readonly address: { host: string; port: number };

  constructor(address: { host: string; port: number }, handler: RouteHandler) {
    this.address = address;
    this.server = http.createServer({ ...PLAIN_HTTP_TIMEOUTS }, (req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path === VERIFY_PATH) return handler(req, res);
      if (path === '/healthz') return void res.writeHead(200).end('ok');
      req.resume();
      res.writeHead(404).end();
    });
    this.server.keepAliveTimeout = 65_000;
  }

  start(): Promise<number> {
    return listen(this.server, this.address);
  }

  stop(): Promise<void> {
    return close(this.server);
  }
}
