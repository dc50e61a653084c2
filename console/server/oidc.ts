// OpenID Connect sign-in with openid-client: authorization code with PKCE (S256), state
// and nonce, exact redirect URI. The console is a confidential client when given a secret,
// a public one otherwise. The token forwarded to the API server is the ID token: it is the
// JWT whose audience is the console's client id, which is what kube-apiserver's JWT
// authenticator (structured AuthenticationConfiguration) is set up to trust.
import * as oidc from 'openid-client';
import { Agent, fetch as undiciFetch } from 'undici';
import type { Tokens } from './session.ts';

export interface OidcOptions {
  issuer: string;
  clientId: string;
  clientSecret?: string;
  /** The console's callback URL, registered exactly with the provider. */
  redirectUri: string;
  scopes?: string;
  /** PEM of the CA that signed the issuer's certificate, when it is not publicly trusted (the embedded provider's own CA). */
  caPEM?: string;
}

export interface OidcClient {
  /** Where to send the browser, and what to keep in the session until the callback. */
  start(): Promise<{ url: string; codeVerifier: string; state: string; nonce: string }>;
  /** Redeems the callback's code (checking state, nonce and PKCE) for tokens. */
  finish(callbackUrl: URL, pending: { codeVerifier: string; state: string; nonce: string }): Promise<Tokens>;
  refresh(refreshToken: string): Promise<Tokens>;
  /** The provider's end-session URL, if it has one. */
  endSessionUrl(postLogoutRedirectUri: string, idTokenHint: string): string | undefined;
}

const loopback = (u: URL): boolean => u.hostname === '127.0.0.1' || u.hostname === 'localhost' || u.hostname === '[::1]';

export async function createOidcClient(opts: OidcOptions): Promise<OidcClient> {
  const issuer = new URL(opts.issuer);
  // Plain http only for a provider on this machine (tests, a laptop demo).
  const execute = issuer.protocol === 'http:' && loopback(issuer) ? [oidc.allowInsecureRequests] : [];
  const customFetch = opts.caPEM ? trusting(opts.caPEM) : undefined;
  const config = await oidc.discovery(issuer, opts.clientId, opts.clientSecret, opts.clientSecret ? undefined : oidc.None(), { execute, ...(customFetch ? { [oidc.customFetch]: customFetch } : {}) });
  if (customFetch) config[oidc.customFetch] = customFetch;
  const scope = opts.scopes ?? 'openid email profile groups offline_access';
  const tokensOf = (t: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers, fallbackRefresh?: string): Tokens => {
    const bearer = t.id_token;
    if (!bearer) throw new Error('The identity provider returned no ID token');
    const claims = t.claims();
    return { bearer, idToken: bearer, refreshToken: t.refresh_token ?? fallbackRefresh, expiresAt: claims?.exp ? claims.exp * 1000 : undefined };
  };
  return {
    async start() {
      const codeVerifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: opts.redirectUri,
        scope,
        code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
        state,
        nonce,
        ...(scope.includes('offline_access') ? { prompt: 'consent' } : {}),
      });
      return { url: url.href, codeVerifier, state, nonce };
    },
    async finish(callbackUrl, pending) {
      const t = await oidc.authorizationCodeGrant(config, callbackUrl, { pkceCodeVerifier: pending.codeVerifier, expectedState: pending.state, expectedNonce: pending.nonce, idTokenExpected: true });
      return tokensOf(t);
    },
    async refresh(refreshToken) {
      return tokensOf(await oidc.refreshTokenGrant(config, refreshToken), refreshToken);
    },
    endSessionUrl(postLogoutRedirectUri, idTokenHint) {
      if (!config.serverMetadata().end_session_endpoint) return undefined;
      return oidc.buildEndSessionUrl(config, { post_logout_redirect_uri: postLogoutRedirectUri, id_token_hint: idTokenHint }).href;
    },
  };
}

/** fetch that trusts only `caPEM` (the issuer's own CA) for the issuer's endpoints. */
function trusting(caPEM: string): oidc.CustomFetch {
  const dispatcher = new Agent({ connect: { ca: caPEM } });
  return ((url: string, init: oidc.CustomFetchOptions) => undiciFetch(url, { ...(init as object), dispatcher } as never)) as unknown as oidc.CustomFetch;
}
