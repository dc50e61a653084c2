// The identity provider's signing keys and cookie keys, kept in one Secret in the
// provider's namespace (--identity-namespace; never in a status, event or log). Keys rotate: a new signing key
// is added (and signs from then on) once the newest is older than `rotateAfterMs`; the
// previous ones stay published in the JWKS for `retainMs` so tokens they signed still
// verify, then are dropped. The write is a compare-and-swap on the Secret's
// resourceVersion, so replicas agree on one key set.
import { randomBytes, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import type { JWK } from 'jose';
import { ApiError } from '../runtime/errors.ts';
import type { KubeClient } from '../runtime/kube/client.ts';
import { Resources } from '../runtime/kube/resource.ts';

export const SIGNING_KEYS_SECRET = 'miniapps-identity-keys';
export const SIGNING_ALG = 'RS256';

export interface StoredKey extends JWK {
  kid: string;
  /** Seconds since the epoch when the key was made. */
  iat: number;
}

export interface KeyMaterial {
  /** Newest first: the first signs. */
  signing: StoredKey[];
  cookieKeys: string[];
}

export interface KeyPolicy {
  rotateAfterMs: number;
  retainMs: number;
}

export const DEFAULT_KEY_POLICY: KeyPolicy = { rotateAfterMs: 30 * 24 * 3600_000, retainMs: 2 * 24 * 3600_000 };

type SecretObject = { metadata: { name: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string> }; data?: Record<string, string>; type?: string };

async function newSigningKey(nowMs: number): Promise<StoredKey> {
  const { privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true, modulusLength: 2048 });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: randomUUID(), alg: SIGNING_ALG, use: 'sig', iat: Math.floor(nowMs / 1000) };
}

function decode(s: SecretObject | undefined): KeyMaterial | undefined {
  if (!s?.data?.jwks) return undefined;
  const jwks = JSON.parse(Buffer.from(s.data.jwks, 'base64').toString('utf8')) as { keys: StoredKey[] };
  const cookieKeys = s.data.cookieKeys ? (JSON.parse(Buffer.from(s.data.cookieKeys, 'base64').toString('utf8')) as string[]) : [];
  return { signing: jwks.keys, cookieKeys };
}

function encode(m: KeyMaterial): Record<string, string> {
  return {
    jwks: Buffer.from(JSON.stringify({ keys: m.signing })).toString('base64'),
    cookieKeys: Buffer.from(JSON.stringify(m.cookieKeys)).toString('base64'),
  };
}

/** What the key set should become at `nowMs`: undefined when it needs no change. Pure apart from making a key. */
export async function planKeys(current: KeyMaterial | undefined, nowMs: number, policy: KeyPolicy): Promise<KeyMaterial | undefined> {
  const nowS = Math.floor(nowMs / 1000);
  if (!current || current.signing.length === 0) {
    return { signing: [await newSigningKey(nowMs)], cookieKeys: [randomBytes(32).toString('base64url')] };
  }
  const newest = current.signing[0]!;
  const rotate = (nowS - newest.iat) * 1000 >= policy.rotateAfterMs;
  const signing = rotate ? [await newSigningKey(nowMs), ...current.signing] : [...current.signing];
  // A key is retired once it has stopped signing for retainMs: the key after it (newer) was made that long ago.
  const kept = signing.filter((_k, i) => i === 0 || (nowS - signing[i - 1]!.iat) * 1000 < policy.retainMs);
  const cookieKeys = rotate ? [randomBytes(32).toString('base64url'), ...current.cookieKeys].slice(0, 2) : current.cookieKeys;
  if (!rotate && kept.length === current.signing.length) return undefined;
  return { signing: kept, cookieKeys };
}

/** Reads the key set, making or rotating it when due; returns what is in the Secret afterwards. */
export async function ensureKeys(client: KubeClient, namespace: string, nowMs: number, policy: KeyPolicy = DEFAULT_KEY_POLICY): Promise<KeyMaterial> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const s = await client.get<SecretObject>(Resources.Secret, SIGNING_KEYS_SECRET, namespace);
    const current = decode(s);
    const next = await planKeys(current, nowMs, policy);
    if (!next) return current!;
    try {
      if (s) await client.replace(Resources.Secret, { ...s, data: encode(next) });
      else
        await client.create(Resources.Secret, {
          metadata: { name: SIGNING_KEYS_SECRET, namespace, labels: { 'app.kubernetes.io/managed-by': 'miniapps-operator' } },
          type: 'miniapps.dev/identity-keys',
          data: encode(next),
        });
      return next;
    } catch (err) {
      if (err instanceof ApiError && (err.status === 409 || err.status === 404)) continue; // another replica wrote first: read theirs
      throw err;
    }
  }
  throw new Error('Signing keys not written after 5 conflicting writes');
}
