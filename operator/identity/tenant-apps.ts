// Frontend apps as OIDC clients of the embedded provider: what the provider asks the
// operator's caches (the User slice answers, controllers/user/apps.ts), so that it knows no
// kind. A frontend app's AppManifest is a public client (PKCE, no secret) whose client id is
// its appId and whose redirect URIs are the ones it declares; a tenant user signing in to it
// gets an access token (a JWT for the app's audience) whose `roles` are the intersection of
// their roles and the app's rolesRequired, only when their tenant may use the app.

/** A frontend app as a client. */
export interface TenantAppClient {
  clientId: string;
  redirectUris: string[];
  /** The access token's audience (`<organization>/<appId>`, as the token-roles API's). */
  audience: string;
  organization: string;
  /** Its organization as people read it (spec.displayName): what the consent page names. */
  organizationDisplayName: string;
  appId: string;
}

export interface TenantApps {
  /** The app whose appId is `clientId`, held by its organization and declaring redirect URIs; undefined otherwise. */
  client(clientId: string): TenantAppClient | undefined;
  /** The tenant's namespace, by the Tenant's name (what the sign-in page asks); undefined when there is none. */
  tenantNamespace(tenant: string): string | undefined;
  /**
   * The roles the app's token carries for the User `user` of the tenant namespace signed in
   * as the account of `email`, or undefined when that User does not exist (any more), its
   * email is no longer `email` (the account was another person's), or the tenant may not use the app.
   */
  roles(tenantNamespace: string, user: string, email: string, clientId: string): string[] | undefined;
}

/** The resource indicator a frontend app's access tokens are issued for (its audience as a URN). */
export const appResource = (audience: string): string => `urn:miniapps.dev:app:${audience}`;
