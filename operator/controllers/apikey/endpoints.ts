// The two ways a key is verified over HTTP, both through KeyVerifier:
//
//   POST /authenticate   the Kubernetes API server's authentication webhook (TokenReview,
//                        authentication.k8s.io/v1 or v1beta1), on the operator's TLS
//                        listener: kubectl --token=<key> authenticates as the key's owner.
//   POST /verify         for API gateways, on the TLS listener and (--verify-bind-address)
//                        on a plain HTTP listener: {"apiKey": "...", "scope": "..."} with
//                        the caller's own ServiceAccount token as `Authorization: Bearer`.
//                        The caller is authenticated by TokenReview and authorized by
//                        SubjectAccessReview (`create` on miniapps.dev apikeys/verify,
//                        ClusterRole miniapps:api-key-verifier), both remembered for a
//                        few seconds by the token's SHA-256, and rate-limited per caller
//                        (429 with Retry-After).
//
// Keys and tokens are never logged: only key ids and callers' user names.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { http } from '../../runtime/builtins.ts';
import { API_KEY_PREFIX, API_KEY_VERIFY_SUBRESOURCE, ApiKeyExtra, GROUP, KUBERNETES_SCOPE } from '../../api/constants.ts';
import type { Clock } from '../../runtime/clock.ts';
import { systemClock } from '../../runtime/clock.ts';
import { errorMessage } from '../../runtime/errors.ts';
import { tokenHash } from '../../servers/authority.ts';
import type { Authority } from '../../servers/dataprotection.ts';
import { RateLimiter, ReviewCache, clientKey } from '../../runtime/ratelimit.ts';
import type { RateLimit } from '../../runtime/ratelimit.ts';
import { close, listen, readBody } from '../../servers/listen.ts';
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
    readBody(req, 64 * 1024).then(
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
    ).catch((err: unknown) => reply(res, 500, { error: errorMessage(err) }));
  };
}

/** Who called the verify endpoint, as the API server authenticated them. */
export interface Caller {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

export type CallerCheck = { ok: true; caller: Caller } | { ok: false; status: 401 | 403; message: string };

export interface CallerAuthOptions {
  /** How long an answer about a token is reused (default 10 s; a refusal 2 s). */
  ttlMs?: number;
  negativeTtlMs?: number;
  /** Distinct tokens remembered at most (default 10,000). */
  maxEntries?: number;
  clock?: Clock;
}

/**
 * Authenticates callers of the verify endpoint by TokenReview and authorizes them by
 * SubjectAccessReview (`create` on miniapps.dev apikeys/verify, cluster-wide), with the
 * operator's own credentials. Answers are reused for a few seconds (a refusal for less),
 * keyed by the token's SHA-256 (the token itself is not kept); one lookup per token runs
 * at a time, and a caller's answer is renewed in the background while it keeps calling.
 */
export class CallerAuthenticator {
  private readonly authority: Authority;
  private readonly answers: ReviewCache<CallerCheck>;

  /** `authority`: the API server's TokenReview and SubjectAccessReview, uncached (the answers are cached here). */
  constructor(authority: Authority, opts: CallerAuthOptions = {}) {
    this.authority = authority;
    const [good, bad] = [opts.ttlMs ?? 10_000, opts.negativeTtlMs ?? 2_000];
    this.answers = new ReviewCache({ ttlMs: (a) => (a.ok ? good : bad), maxEntries: opts.maxEntries ?? 10_000, clock: opts.clock ?? systemClock });
  }

  /** The remembered answer for this token, if any (no waiting; renewed in the background when old enough). */
  cached(token: string, tokenHash: string): CallerCheck | undefined {
    return this.answers.peek(tokenHash, () => this.ask(token));
  }

  /** Asks the API server about the token (once at a time per token); throws when it cannot be asked. */
  lookup(token: string, tokenHash: string): Promise<CallerCheck> {
    return this.answers.get(tokenHash, () => this.ask(token));
  }

  private async ask(token: string): Promise<CallerCheck> {
    const user = await this.authority.authenticate(token);
    if (!user) return { ok: false, status: 401, message: 'The bearer token was not accepted by the Kubernetes API server: send a ServiceAccount token as Authorization: Bearer' };
    // Cluster-wide: no namespace, no name.
    if (!(await this.authority.allowed(user, { verb: 'create', resource: 'apikeys', subresource: API_KEY_VERIFY_SUBRESOURCE, namespace: '', name: '' }))) {
      return { ok: false, status: 403, message: `${user.username} may not verify API keys: it needs RBAC create on ${GROUP} apikeys/${API_KEY_VERIFY_SUBRESOURCE} (bind it to ClusterRole miniapps:api-key-verifier)` };
    }
    return { ok: true, caller: { username: user.username } };
  }
}

export interface VerifyLimits {
  /** Verifications per caller (default 60,000 a minute in bursts of 2,000). */
  perCaller: RateLimit;
  /** Requests per client address whose token is not remembered (each costs a TokenReview), default 600 a minute in bursts of 100. */
  perAddress?: RateLimit;
}

export const DEFAULT_VERIFY_LIMIT: RateLimit = { perMinute: 60_000, burst: 2_000 };
const DEFAULT_ADDRESS_LIMIT: RateLimit = { perMinute: 600, burst: 100 };

/** The verify endpoint's handler: the caller first, then its rate limit, then the key. */
export function verifyHandler(opts: { verifier: KeyVerifier; callers: CallerAuthenticator; limits: VerifyLimits; log: Logger; clock?: Clock }): RouteHandler {
  const { verifier, callers, log } = opts;
  const perCaller = new RateLimiter(opts.limits.perCaller, opts.clock);
  const perAddress = new RateLimiter(opts.limits.perAddress ?? DEFAULT_ADDRESS_LIMIT, opts.clock);
  const tooMany = (res: ServerResponse, seconds: number, message: string) => reply(res, 429, { error: message }, { 'retry-after': String(seconds) });

  const answer = (req: IncomingMessage, res: ServerResponse, check: CallerCheck) => {
    if (!check.ok) {
      reply(res, check.status, { error: check.message }, check.status === 401 ? { 'www-authenticate': 'Bearer' } : {});
      req.resume();
      return;
    }
    const admitted = perCaller.take(check.caller.username);
    if (!admitted.ok) {
      req.resume();
      return tooMany(res, admitted.retryAfterSeconds, `Too many verifications by ${check.caller.username}; retry after ${admitted.retryAfterSeconds}s`);
    }
    readBody(req, 16 * 1024).then(
      async (text) => {
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
          log.debug({ caller: check.caller.username, reason: verdict.reason }, 'API key refused');
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
      },
      (err: unknown) => reply(res, 400, { error: errorMessage(err) }),
    ).catch((err: unknown) => reply(res, 500, { error: errorMessage(err) }));
  };

  return (req, res) => {
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST' }).end();
      req.resume();
      return;
    }
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : '';
    if (!token) {
      req.resume();
      return reply(res, 401, { error: 'Authenticate with your ServiceAccount token: Authorization: Bearer <token>' }, { 'www-authenticate': 'Bearer' });
    }
    const hash = tokenHash(req, token);
    const known = callers.cached(token, hash);
    if (known) return answer(req, res, known);
    const admitted = perAddress.take(clientKey(req.socket.remoteAddress));
    if (!admitted.ok) {
      req.resume();
      return tooMany(res, admitted.retryAfterSeconds, `Too many callers to authenticate from this address; retry after ${admitted.retryAfterSeconds}s`);
    }
    callers.lookup(token, hash).then(
      (check) => answer(req, res, check),
      (err: unknown) => {
        log.warn({ err: errorMessage(err) }, 'Verify caller not authenticated: the API server could not be asked');
        req.resume();
        reply(res, 503, { error: 'The caller could not be authenticated right now; try again' }, { 'retry-after': '1' });
      },
    );
  };
}

/** The verify endpoint on a plain HTTP listener of its own (for a gateway next to the operator; TLS is on the webhook listener). */
export class VerifyServer implements ModuleListener {
  private readonly server: Server;
  private readonly address: { host: string; port: number };

  constructor(address: { host: string; port: number }, handler: RouteHandler) {
    this.address = address;
    this.server = http.createServer((req, res) => {
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
