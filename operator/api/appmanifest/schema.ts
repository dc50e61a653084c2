// AppManifest: an app's own user groups and, for a frontend app, the roles its tokens may carry.

import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { List, ManifestDigest, ManifestFrom, Obj, Optional, Status, Str, StringSet, column, defineKind, mapList, printerColumns } from '../common.ts';
import type { Resource } from '../common.ts';
import { KIND_NAMES } from '../registry.ts';

export { AppManifestConditions } from './names.ts';
import { ManifestUserGroupSchema, ROLE_ID_RULE } from '../usergroup/schema.ts';

/** `platform:role:<listingId>:<roleName>`: the last part is the role name, the listing id may hold colons (ROLE_ID_RULE). */
export const PLATFORM_ROLE_PATTERN = '^platform:role:[^:\\s]+(:[^:\\s]+)+$';

/**
 * What an app manifest declares: inline in the spec, or in the YAML document the ConfigMap
 * key spec.manifestFrom names (with appId and listingId, which must agree with the spec's).
 * The last good one is kept in status.manifest.
 */
export const AppManifestContentSchema = Obj(
  {
    userGroups: Optional(
      List(ManifestUserGroupSchema, "The app's user groups. A group with the name of a solution's group is merged with it: the tenant's group holds the roles of both.", mapList(['name'], 128)),
    ),
    rolesRequired: Optional(
      StringSet(
        Str(`A role, written \`platform:role:<listingId>:<roleName>\` (e.g. \`platform:role:platform:app:example:users\`: role \`users\` of listing \`platform:app:example\`). ${ROLE_ID_RULE}`, {
          pattern: PLATFORM_ROLE_PATTERN,
          maxLength: 512,
        }),
        "For a frontend app: the roles its tokens may carry. A user's token for the app carries each role `role:<listingId>:<roleName>` the user has whose `platform:`-prefixed form is listed here: the intersection of the user's roles and these (a user with roles a, b, c and d, an app requiring a and b: the token carries a and b). In a manifest file it may also be written as the seed writes it, `rolesRequired:` with a nested `roles:` list.",
        512,
      ),
    ),
  },
  "The app's user groups and, for a frontend app, the roles its tokens may carry.",
);

/**
 * An app or listing id: lower case letters, digits, `.`, `_`, `-` and `:`, starting and ending
 * with a letter or digit (the seed's `platform:app:example-client`). One case, no spaces or look-alikes: ids are compared exactly as
 * written, and a listing id is also the `<listingId>` of a role.
 */
export const APP_ID_PATTERN = '^[a-z0-9]([a-z0-9._:-]*[a-z0-9])?$';

export const AppManifestIdentity = {
  appId: Str(
    "Identifier of the app (lower case letters, digits, `.`, `_`, `-`, `:`; e.g. the seed's `platform:app:example-client`; never starting `miniapps-`, the platform's own client ids), held by one organization: the first to claim it, for as long as that organization exists (a claim is not released when the AppManifest is deleted, re-created or changes its ids). Another organization's AppManifest naming it is refused at admission, or reported (IdsOwned False, AppIdClaimed) and used nowhere. A token's audience is `<organization>/<appId>`.",
    { pattern: APP_ID_PATTERN, minLength: 1, maxLength: 128 },
  ),
  listingId: Optional(
    Str(
      "Marketplace listing of the app: the `<listingId>` in its roles `role:<listingId>:<roleName>` (lower case letters, digits, `.`, `_`, `-`, `:`). Held by one organization as appId is (claimed by its first AppManifest or Solution naming it): only that organization's manifests grant roles of the listing. Optional: a frontend app written as the seed writes it has none; it then belongs to no solution's groups, and its tokens serve the tenants subscribed to a solution of its organization.",
      { pattern: APP_ID_PATTERN, minLength: 1, maxLength: 128 },
    ),
  ),
};

/**
 * A frontend app's redirect URI: https, or http on a loopback address (127.0.0.1, [::1],
 * localhost) for development; no fragment, no spaces. Compared exactly as written.
 */
export const REDIRECT_URI_PATTERN = '^(https://[^/?#\\s@]+(/[^#\\s]*)?|http://(127\\.0\\.0\\.1|\\[::1\\]|localhost)(:[0-9]{1,5})?(/[^#\\s]*)?)$';

export const AppManifestSpecSchema = Obj(
  {
    ...AppManifestIdentity,
    redirectUris: Optional(
      StringSet(
        Str(
          'A redirect URI of the app: `https://...`, or `http://` on a loopback address (`127.0.0.1`, `[::1]`, `localhost`) for development; no fragment (`#`). Compared exactly as written: an authorization request naming any other URI is refused.',
          { pattern: REDIRECT_URI_PATTERN, maxLength: 2048 },
        ),
        "For a frontend app: the redirect URIs of its OpenID Connect client in the platform's embedded identity provider, whose client id is the appId (a public client: authorization code with PKCE, no secret). With none, the app is no client of the provider.",
        32,
      ),
    ),
    ...AppManifestContentSchema.properties,
    manifestFrom: ManifestFrom(
      "Where to read userGroups and rolesRequired from instead: a ConfigMap key holding the app manifest as YAML (appId and listingId included, equal to the spec's). The operator validates it and reports errors with line and field in the ManifestValid condition.",
    ),
  },
  "Desired state of the app's manifest: userGroups and rolesRequired inline, or manifestFrom (not both).",
);

export const AppManifestStatusSchema = Status(
  {
    manifestDigest: ManifestDigest('SHA-256 (hex) of the last good manifest (userGroups and rolesRequired); changes when it does.'),
    manifest: Optional({
      ...AppManifestContentSchema,
      description:
        "The last good manifest, as parsed: what subscribed tenants' groups and the app's tokens are built from. A new manifest that does not validate never replaces it (ManifestValid says what is wrong); until there is one, the app contributes nothing.",
    }),
    unownedRoles: Optional(
      StringSet(
        Str('A role of the manifest (userGroups or rolesRequired).', { maxLength: 512 }),
        "Roles of the last good manifest that name a listing this organization does not hold (another organization claimed it first): left out of every tenant's groups and every token (RolesOwned says why).",
        2048,
      ),
    ),
  },
  "Observed state of the app's manifest.",
);

export type AppManifestContent = Static<typeof AppManifestContentSchema>;

export type AppManifestSpec = Static<typeof AppManifestSpecSchema>;
export type AppManifestStatus = Static<typeof AppManifestStatusSchema>;
export type AppManifest = Resource<AppManifestSpec, AppManifestStatus>;

// This kind's object type, for what goes over every kind by the registry (domain/caches.ts).
declare module '../registry.ts' {
  interface KindObjects {
    AppManifest: AppManifest;
  }
}

export const appManifestKind = defineKind(
  {
    ...KIND_NAMES.AppManifest,
    shortNames: ['amf'],
    description:
      "AppManifest declares an app's own user groups and, for a frontend app, the roles its tokens may carry. " +
      "A solution includes the app when a Solution in the same namespace grants a role of the app's listingId; subscribing tenants then get the app's groups merged with the solution's.",
  },
  {
    specSchema: AppManifestSpecSchema,
    statusSchema: AppManifestStatusSchema,
    printerColumns: printerColumns(column('App ID', '.spec.appId', 'Identifier of the app.'), column('Listing ID', '.spec.listingId', 'Marketplace listing of the app.')),
    specRules: [
      {
        rule: "!self.appId.startsWith('miniapps-')",
        message:
          "spec.appId must not start with 'miniapps-': those are the client ids of the platform's own OpenID Connect clients (miniapps-kubectl, miniapps-console), whose tokens the Kubernetes API server accepts; choose another appId, e.g. platform:app:<your-app>",
        fieldPath: '.appId',
        reason: 'FieldValueForbidden',
      },
      {
        rule: '!has(self.manifestFrom) || !(has(self.userGroups) || has(self.rolesRequired))',
        message: 'set either spec.userGroups/spec.rolesRequired (inline) or spec.manifestFrom (a ConfigMap key), not both',
        reason: 'FieldValueInvalid',
      },
      {
        rule: '!has(self.redirectUris) || self.redirectUris.all(u, isURL(u))',
        message: 'every spec.redirectUris entry must be an absolute URL (https, or http on a loopback address), without a fragment',
        reason: 'FieldValueInvalid',
      },
    ],
  },
);

/** rolesRequired in a file: as the seed writes it (`rolesRequired:` / `roles:` / `- platform:role:...`), or a plain list. */
export const FileRolesRequired = Type.Union([
  AppManifestContentSchema.properties.rolesRequired,
  Obj({ roles: AppManifestContentSchema.properties.rolesRequired }, "The seed's form: the roles under `roles:`."),
]);
