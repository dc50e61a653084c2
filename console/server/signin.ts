// A sign-in in progress (PKCE verifier, state, nonce, where to return) lives in the
// browser, not on the cluster: sealed (encrypted and authenticated: a JWE, `dir` with
// A256GCM, by jose) with a key every replica of the console shares, in a short-lived
// HttpOnly cookie for the callback path only. So an anonymous `GET /auth/login` stores
// nothing anywhere (no Secret, no memory beyond a rate-limit bucket), and the provider's
// redirect back may land on any replica: the cookie carries what the callback needs.
import { hkdfSync, randomBytes } from 'node:crypto';
import { EncryptJWT, jwtDecrypt } from 'jose';

/** What the callback needs to finish a sign-in. */
export interface PendingSignin {
  codeVerifier: string;
  state: string;
  nonce: string;
  returnTo: string;
}

/** How long a sign-in may take, from the redirect to the provider to the callback (the cookie's Max-Age too). */
export const SIGNIN_TTL_SECONDS = 600;
const PURPOSE = 'miniapps-console-signin';

/** The sealing key, derived (HKDF-SHA256) from the console's shared secret, for this purpose only. */
export function signinKey(secret: Uint8Array): Uint8Array {
  if (secret.length < 32) throw new Error(`The console's sign-in key must be at least 32 bytes, got ${secret.length}`);
  return new Uint8Array(hkdfSync('sha256', secret, Buffer.alloc(0), PURPOSE, 32));
}

/** A fresh random secret: for a console alone (one replica), which shares it with nobody. */
export const randomSecret = (): Uint8Array => new Uint8Array(randomBytes(32));

/** The sealed cookie value of a sign-in in progress, valid for SIGNIN_TTL_SECONDS. */
export async function sealSignin(key: Uint8Array, p: PendingSignin, now = Date.now()): Promise<string> {
  const iat = Math.floor(now / 1000);
  return new EncryptJWT({ v: p.codeVerifier, s: p.state, n: p.nonce, r: p.returnTo })
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
    .setAudience(PURPOSE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + SIGNIN_TTL_SECONDS)
    .encrypt(key);
}

/** The sign-in a cookie carries, or undefined when it is missing, expired, altered or sealed with another key. */
export async function openSignin(key: Uint8Array, sealed: string | undefined, now = Date.now()): Promise<PendingSignin | undefined> {
  if (!sealed) return undefined;
  try {
    const { payload } = await jwtDecrypt(sealed, key, { audience: PURPOSE, currentDate: new Date(now), keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] });
    const { v, s, n, r } = payload as Record<string, unknown>;
    if (typeof v !== 'string' || typeof s !== 'string' || typeof n !== 'string' || typeof r !== 'string') return undefined;
    return { codeVerifier: v, state: s, nonce: n, returnTo: r };
  } catch {
    return undefined;
  }
}
