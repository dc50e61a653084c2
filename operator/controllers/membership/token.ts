// Acceptance tokens: the signed part of an invitation link.
//
// A token is `base64url(payload).base64url(HMAC-SHA256(key, domain + payload))`: URL-safe,
// compact, and verifiable without any lookup. It proves that the operator issued the link for
// this Membership (uid), this email and this attempt, until expiresAt. What a signature alone
// cannot tell is whether the link is still the current one: the caller enforces that against
// the Membership it reads fresh, by requiring
//   - claims.uid   === membership.metadata.uid   (a deleted and re-created Membership, even of
//                                                  the same name, does not honour old links),
//   - claims.email === membership.spec.email,
//   - claims.attempt === status.invitation.attempts (a new attempt invalidates older links),
//   - status.acceptedAt unset                      (single use).
// The token is never stored: it is derived again from these claims whenever it is needed.

import { createHmac, timingSafeEqual } from 'node:crypto';
import type { KubeClient } from '../../runtime/kube/client.ts';
import { loadOrCreateSigningKey } from '../../runtime/signing-key.ts';

export interface TokenClaims {
  /** metadata.uid of the Membership. */
  uid: string;
  email: string;
  /** status.invitation.attempts when the link was sent. */
  attempt: number;
  /** RFC 3339. */
  expiresAt: string;
}

export type TokenVerification = { ok: true; claims: TokenClaims } | { ok: false; reason: 'malformed' | 'tampered' | 'expired' };

/** Separates these MACs from any other use of the key. */
const DOMAIN = 'miniapps.dev/invitation.v1\n';
const MAX_TOKEN_LENGTH = 2048;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

function mac(key: Buffer, payload: string): Buffer {
  return createHmac('sha256', key).update(DOMAIN).update(payload).digest();
}

export function signToken(key: Buffer, claims: TokenClaims): string {
  const { uid, email, attempt, expiresAt } = claims;
  const payload = Buffer.from(JSON.stringify({ uid, email, attempt, expiresAt })).toString('base64url');
  return `${payload}.${mac(key, payload).toString('base64url')}`;
}

/** Checks shape (canonical base64url only), signature (in constant time) and expiry, in that order. */
export function verifyToken(key: Buffer, token: string, now: Date): TokenVerification {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return { ok: false, reason: 'malformed' };
  const parts = token.split('.');
  if (parts.length !== 2 || !BASE64URL.test(parts[0]) || !BASE64URL.test(parts[1])) return { ok: false, reason: 'malformed' };
  const [payload, signature] = parts;
  const given = Buffer.from(signature, 'base64url');
  // Only the canonical encoding: a lenient decoder ignores the unused low bits of the last
  // character (and a trailing character that makes no byte), which gave one token several
  // spellings that all verified.
  if (given.toString('base64url') !== signature || Buffer.from(payload, 'base64url').toString('base64url') !== payload) return { ok: false, reason: 'malformed' };
  const expected = mac(key, payload);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'tampered' };
  const claims = parseClaims(payload);
  if (!claims) return { ok: false, reason: 'malformed' };
  if (now.getTime() >= Date.parse(claims.expiresAt)) return { ok: false, reason: 'expired' };
  return { ok: true, claims };
}

function parseClaims(payload: string): TokenClaims | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { uid, email, attempt, expiresAt } = value as Record<string, unknown>;
  if (typeof uid !== 'string' || typeof email !== 'string' || typeof expiresAt !== 'string') return undefined;
  if (typeof attempt !== 'number' || !Number.isSafeInteger(attempt) || Number.isNaN(Date.parse(expiresAt))) return undefined;
  return { uid, email, attempt, expiresAt };
}

/** The Secret (in the operator's namespace) with the key that signs acceptance links. */
export const INVITATION_KEY_SECRET = 'miniapps-operator-invitation-key';

/** The key that signs acceptance tokens; deleting its Secret rotates it on the next start and invalidates every link sent before. */
export function loadInvitationKey(client: KubeClient, namespace: string, name = INVITATION_KEY_SECRET): Promise<Buffer> {
  return loadOrCreateSigningKey(client, namespace, name, 'invitations');
}
