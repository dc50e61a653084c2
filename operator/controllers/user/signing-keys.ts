// The token-roles API's signing keys: ES256 (P-256) key pairs in the Secret
// miniapps-operator-token-signing-key of the operator's namespace, made on first start
// (a POST: never over an existing Secret), rotated when the PlatformConfig annotation
// miniapps.dev/rotate-token-signing-key takes a new value (compare-and-swap on a fresh
// read, so two processes add one key). The JWKS publishes the current key and the one
// before it, so tokens signed just before a rotation still verify until they expire.
// The private keys never leave the Secret and this process's memory.
import { generateKeyPairSync } from 'node:crypto';
import type { JWK } from 'jose';
import { TOKEN_SIGNING_SECRET } from '../../api/user/names.ts';
import type { ObjectStore } from '../../runtime/apply.ts';
import { rfc3339 } from '../../runtime/clock.ts';
import type { Clock } from '../../runtime/clock.ts';
import { errorMessage } from '../../runtime/errors.ts';
import { SecretDocument } from '../../runtime/secret-document.ts';
import type { SecretObject } from '../../runtime/secret-document.ts';

export const SIGNING_FIELD = 'keys.json';
export const SIGNING_ALG = 'ES256';
/** The JWKS holds the current key and this many before it. */
export const PUBLISHED_PREVIOUS = 1;

export interface SigningKey {
  kid: string;
  /** The private key as a JWK (EC P-256). */
  jwk: JWK;
  createdAt: string;
}

export interface SigningDocument {
  current: string;
  /** The PlatformConfig's rotation annotation value the current key answers (none for the first). */
  rotationRequest?: string;
  keys: SigningKey[];
}

export type SigningState = { ok: true; doc: SigningDocument; current: SigningKey; resourceVersion?: string } | { ok: false; problem: string };

function newKey(n: number, now: Date): SigningKey {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = privateKey.export({ format: 'jwk' }) as JWK;
  return { kid: `k${n}`, jwk: { ...jwk, alg: SIGNING_ALG, use: 'sig' }, createdAt: rfc3339(now) };
}

const keyNumber = (kid: string) => Number(/^k(\d+)$/.exec(kid)?.[1] ?? 0);

/** The document with a new current key, keeping only the keys the JWKS still publishes. */
export function withNewKey(doc: SigningDocument, now: Date, request: string): SigningDocument {
  const next = newKey(Math.max(0, ...doc.keys.map((k) => keyNumber(k.kid))) + 1, now);
  return { current: next.kid, rotationRequest: request, keys: [...doc.keys.slice(-PUBLISHED_PREVIOUS), next] };
}

export function parseSigning(secret: SecretObject | undefined, namespace: string): SigningState {
  const where = `Secret ${namespace}/${TOKEN_SIGNING_SECRET}`;
  if (!secret) return { ok: false, problem: `${where} does not exist` };
  try {
    const doc = JSON.parse(Buffer.from(secret.data?.[SIGNING_FIELD] ?? '', 'base64').toString('utf8')) as SigningDocument;
    const current = doc.keys?.find((k) => k.kid === doc.current);
    if (current?.jwk?.kty !== 'EC' || !current.jwk.d) return { ok: false, problem: `${where} has no usable current key` };
    return { ok: true, doc, current, resourceVersion: secret.metadata.resourceVersion };
  } catch (err) {
    return { ok: false, problem: `${where} is not a key document: ${errorMessage(err)}` };
  }
}

/** The public half of a key, for the JWKS. */
export function publicJwk(k: SigningKey): JWK {
  const { d: _d, ...pub } = k.jwk;
  return { ...pub, kid: k.kid, alg: SIGNING_ALG, use: 'sig' };
}

export class SigningKeys {
  private readonly secret: SecretDocument<SigningDocument, SigningState>;
  readonly namespace: string;

  constructor(store: ObjectStore, namespace: string, clock: Clock, opts: { ttlMs?: number } = {}) {
    this.namespace = namespace;
    this.secret = new SecretDocument<SigningDocument, SigningState>(store, namespace, clock, {
      secretName: TOKEN_SIGNING_SECRET,
      field: SIGNING_FIELD,
      component: 'token-roles',
      parse: parseSigning,
      first: (now) => ({ current: 'k1', keys: [newKey(1, now)] }),
      ttlMs: opts.ttlMs,
    });
  }

  /** Makes the Secret with a first key unless it exists (whatever it holds: it is never replaced). */
  ensureExists(): Promise<SigningState> {
    return this.secret.ensureExists();
  }

  state(fresh = false): Promise<SigningState> {
    return this.secret.state(fresh);
  }

  /** A new current key if `request` is not the one the current key answers (one at a time, compare-and-swap). */
  rotate(request: string): Promise<SigningState> {
    return this.secret.rotate(request, withNewKey);
  }

  /** The key to sign with now: rotated first when the request differs from the one the current key answers. */
  async signingKey(rotationRequest: string | undefined): Promise<SigningState> {
    let state = await this.state();
    if (state.ok && rotationRequest && state.doc.rotationRequest !== rotationRequest) state = await this.rotate(rotationRequest);
    return state;
  }
}
