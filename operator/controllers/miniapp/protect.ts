// The data-protection API, on the APIs' TLS listener (--api-bind-address), for whoever stores a mini app's
// data: values go in as they are and come back as the mini app's mode says.
//
//   POST /dataprotection/v1/protect  {"miniApp": {"organization", "name"}, "values": [...]}
//        → {"protection": "None" | "IrreversibleMasking" | "EnvelopeEncryption", "values": [...]}
//        None: the values as they are; IrreversibleMasking: masked; EnvelopeEncryption:
//        AES-256-GCM ciphertext (`mae1:...`) with the mini app's data key.
//   POST /dataprotection/v1/reveal   {"miniApp": {...}, "values": ["mae1:..."]} → {"values": [...]}
//
// The caller authenticates with a Kubernetes bearer token (TokenReview) and is authorized by
// the API server (SubjectAccessReview) as themselves, never by the operator's own rights:
// protect needs `get` on the MiniApp, reveal needs `create` on the virtual subresource
// `miniapps/reveal` of that MiniApp, before the mini app is looked up: whoever may not use
// it gets the same answer, after the same reviews, whether it exists or not. Each client
// address has a request budget; bodies are read only once the caller is authenticated, and
// all the bodies being read or answered hold at most 32 MiB together (503 beyond), so accepted tokens cannot fill the memory with 4 MiB bodies. A
// caller's allowed decisions are remembered for 10 s (renewed while in use), refusals never
// (every refusal costs the same review, whether the mini app exists or not).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { REVEAL_SUBRESOURCE } from '../../api/miniapp/names.ts';
import { decryptValue, encryptValue, maskValue } from './envelope.ts';
import { errorMessage } from '../../runtime/errors.ts';
import { RateLimiter } from '../../runtime/ratelimit.ts';
import { AccessDecisions, HttpError, admitPost, callerOf } from '../../servers/authority.ts';
import type { Authority } from '../../servers/authority.ts';
import type { RateLimit } from '../../runtime/ratelimit.ts';
import type { RouteHandler } from '../../servers/webhook.ts';

export const PROTECT_PATH = '/dataprotection/v1/protect';
export const REVEAL_PATH = '/dataprotection/v1/reveal';

/** A mini app as the API sees it. */
export interface ProtectedApp {
  namespace: string;
  name: string;
  uid: string;
  protection: 'None' | 'IrreversibleMasking' | 'EnvelopeEncryption';
}

/** The mini apps and their data keys (the MiniApp module). */
export interface DataProtectionBackend {
  /**
   * Where the mini app is, or would be: its organization's namespace (for an organization
   * that does not exist, the one it would get), whether the mini app exists or not. The
   * caller is authorized against this before anything is looked up.
   */
  target(ref: { organization: string; name: string }): { namespace: string; name: string };
  resolve(ref: { organization: string; name: string }): ProtectedApp | undefined;
  /** The unwrapped data key; undefined when the mini app has none (yet). */
  dataKey(app: ProtectedApp): Promise<Buffer | undefined>;
}

export interface DataProtectionOptions {
  authority: Authority;
  backend: DataProtectionBackend;
  log: Logger;
  /** Requests per client address (default 600 a minute in bursts of 100). */
  clientLimit?: RateLimit;
  /** Values per request at most (default 1,000). */
  maxValues?: number;
  /** Bytes of request bodies held by all requests at once at most (default 32 MiB): 503 beyond. */
  maxBytesInFlight?: number;
}

export const MAX_BODY_BYTES = 4 << 20;

/**
 * Reads a body of at most `limit` bytes (413), counting its bytes against the shared `pool`
 * until the response is done (503 with Retry-After when the pool is full: nothing more is
 * buffered). A Content-Length above the limit is refused before anything is read.
 */
function readPooledBody(req: IncomingMessage, res: ServerResponse, limit: number, pool: { used: number; max: number }): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) return Promise.reject(new HttpError(413, `The body is larger than ${limit >> 20} MiB`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let held = 0;
    let failed = false;
    res.once('close', () => {
      pool.used -= held;
      held = 0;
    });
    const fail = (err: HttpError) => {
      failed = true;
      chunks.length = 0;
      pool.used -= held;
      held = 0;
      req.resume();
      reject(err);
    };
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      if (held + chunk.length > limit) return fail(new HttpError(413, `The body is larger than ${limit >> 20} MiB`));
      if (pool.used + chunk.length > pool.max) return fail(new HttpError(503, 'The operator is reading too many requests at once; try again shortly', { 'retry-after': '1' }));
      pool.used += chunk.length;
      held += chunk.length;
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', (err) => {
      if (!failed) {
        failed = true;
        reject(err);
      }
    });
  });
}

interface Body {
  miniApp: { organization: string; name: string };
  values: string[];
}

function parse(text: string, maxValues: number): Body {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'The body is not JSON');
  }
  const b = body as Partial<Body>;
  if (!b || typeof b.miniApp?.organization !== 'string' || typeof b.miniApp?.name !== 'string') throw new HttpError(400, 'miniApp.organization and miniApp.name are required');
  if (!Array.isArray(b.values) || !b.values.every((v) => typeof v === 'string')) throw new HttpError(400, 'values must be a list of strings');
  if (b.values.length > maxValues) throw new HttpError(413, `At most ${maxValues} values per request`);
  return b as Body;
}

const send = (res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>) =>
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers }).end(JSON.stringify(body));

/** The two routes, for the APIs' TLS listener. */
export function dataProtectionRoutes(opts: DataProtectionOptions): { path: string; handler: RouteHandler }[] {
  const limiter = new RateLimiter(opts.clientLimit ?? { perMinute: 600, burst: 100 });
  const maxValues = opts.maxValues ?? 1000;
  const pool = { used: 0, max: opts.maxBytesInFlight ?? 32 << 20 };
  const decisions = new AccessDecisions(opts.authority, { ttlMs: 10_000, refusalTtlMs: 0, maxEntries: 10_000 });
  const log = opts.log.child({ server: 'dataprotection' });

  const handle = (op: 'protect' | 'reveal') => (req: IncomingMessage, res: ServerResponse) => {
    if (!admitPost(req, res, limiter)) return;
    void (async () => {
      const caller = await callerOf(req, opts.authority);
      const body = parse(await readPooledBody(req, res, MAX_BODY_BYTES, pool), maxValues);
      // Authorized first, on where the mini app is or would be: a caller who may not use it
      // gets the same answer, after the same reviews, whether it exists or not (no timing
      // oracle); only then is it looked up.
      const what = `MiniApp ${body.miniApp.organization}/${body.miniApp.name}`;
      const notFound = () => new HttpError(404, `${what} does not exist, or you may not use it`);
      const target = opts.backend.target(body.miniApp);
      const attrs = op === 'protect' ? { verb: 'get', resource: 'miniapps' } : { verb: 'create', resource: 'miniapps', subresource: REVEAL_SUBRESOURCE };
      if (!(await decisions.allowed(caller, { ...attrs, ...target }))) {
        const visible = op === 'reveal' && (await decisions.allowed(caller, { verb: 'get', resource: 'miniapps', ...target }));
        if (!visible) throw notFound();
        // They may read the mini app (kubectl get tells them whether it exists): the reason may say more.
        if (!opts.backend.resolve(body.miniApp)) throw notFound();
        throw new HttpError(
          403,
          `${caller.username} may not reveal data of ${what}: it needs RBAC create on miniapps.dev miniapps/${REVEAL_SUBRESOURCE} (resourceNames: ${target.name}) in namespace ${target.namespace}`,
        );
      }
      const app = opts.backend.resolve(body.miniApp);
      if (!app) throw notFound();
      if (op === 'protect') {
        if (app.protection === 'None') return { protection: app.protection, values: body.values };
        if (app.protection === 'IrreversibleMasking') return { protection: app.protection, values: body.values.map(maskValue) };
      }
      const key = await opts.backend.dataKey(app);
      if (!key)
        throw new HttpError(op === 'protect' ? 503 : 409, op === 'protect' ? `${what} has no data key yet; try again in a few seconds` : `${what} holds no data key: there is nothing to reveal`);
      if (op === 'protect') return { protection: app.protection, values: body.values.map((v) => encryptValue(key, app.uid, v)) };
      const values = body.values.map((v, i) => {
        try {
          return decryptValue(key, app.uid, v);
        } catch {
          throw new HttpError(422, `values[${i}] is not ciphertext of ${what}'s data key`);
        }
      });
      log.info({ op, miniApp: `${app.namespace}/${app.name}`, user: caller.username, values: values.length }, 'Values revealed');
      return { values };
    })().then(
      (result) => send(res, 200, result),
      (err: unknown) => {
        if (err instanceof HttpError) return send(res, err.status, { error: err.message }, err.headers);
        log.error({ op, err: errorMessage(err) }, 'Data protection request failed');
        send(res, 500, { error: 'The operator could not do this now; try again' });
      },
    );
  };
  return [
    { path: PROTECT_PATH, handler: handle('protect') },
    { path: REVEAL_PATH, handler: handle('reveal') },
  ];
}
