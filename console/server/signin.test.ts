import { describe, expect, it } from 'vitest';
import { SIGNIN_TTL_SECONDS, openSignin, randomSecret, sealSignin, signinKey } from './signin.ts';

describe('a sealed sign-in in progress', () => {
  const pending = { codeVerifier: 'verifier', state: 'state', nonce: 'nonce', returnTo: '/#/orgs' };

  it('opens with the same secret until it expires, and not after', async () => {
    const key = signinKey(randomSecret());
    const now = Date.now();
    const sealed = await sealSignin(key, pending, now);
    expect(await openSignin(key, sealed, now + (SIGNIN_TTL_SECONDS - 5) * 1000)).toEqual(pending);
    expect(await openSignin(key, sealed, now + (SIGNIN_TTL_SECONDS + 5) * 1000)).toBeUndefined();
  });

  it('does not open with another secret, altered, or empty', async () => {
    const sealed = await sealSignin(signinKey(randomSecret()), pending);
    const key = signinKey(randomSecret());
    expect(await openSignin(key, sealed)).toBeUndefined();
    expect(await openSignin(key, undefined)).toBeUndefined();
    expect(await openSignin(key, 'not.a.jwe.at.all')).toBeUndefined();
  });

  it('refuses a secret shorter than 32 bytes', () => {
    expect(() => signinKey(new Uint8Array(16))).toThrow(/at least 32 bytes/);
  });
});
