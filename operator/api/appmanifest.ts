// AppManifest: an app's own user groups and, for a frontend app, the roles its tokens may carry.

import type { Static } from '@sinclair/typebox';
import {
  List,
  Obj,
  Optional,
  Status,
  Str,
  StringSet,
  column,
  defineKind,
  mapList,
  printerColumns,
} from './common.ts';
import type { Resource } from './common.ts';
import { KIND_NAMES } from './constants.ts';

export { AppManifestConditions } from './constants.ts';
import { ManifestUserGroupSchema } from './usergroup.ts';

/** `platform:role:<listingId>:<roleName>`. */
export const PLATFORM_ROLE_PATTERN = '^platform:role:[^:]+:[^:]+$';

export const AppManifestSpecSchema = Obj(
  {
    appId: Str('Identifier of the app.', { minLength: 1, maxLength: 128 }),
    listingId: Str('Marketplace listing of the app: the `<listingId>` in its roles `role:<listingId>:<roleName>`.', {
      pattern: '^[^:]+$',
      minLength: 1,
      maxLength: 128,
    }),
    userGroups: Optional(
      List(
        ManifestUserGroupSchema,
        "The app's user groups. A group with the name of a solution's group is merged with it: the tenant's group holds the roles of both.",
        mapList(['name'], 128),
      ),
    ),
    rolesRequired: Optional(
      StringSet(
        Str('A role, written `platform:role:<listingId>:<roleName>`.', { pattern: PLATFORM_ROLE_PATTERN, maxLength: 512 }),
        "For a frontend app: the roles its tokens may carry. A user's token for the app carries each role `role:<listingId>:<roleName>` the user has whose `platform:`-prefixed form is listed here.",
        512,
      ),
    ),
  },
  "Desired state of the app's manifest.",
);

export const AppManifestStatusSchema = Status({}, "Observed state of the app's manifest.");

export type AppManifestSpec = Static<typeof AppManifestSpecSchema>;
export type AppManifestStatus = Static<typeof AppManifestStatusSchema>;
export type AppManifest = Resource<AppManifestSpec, AppManifestStatus>;

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
    printerColumns: printerColumns(
      column('App ID', '.spec.appId', 'Identifier of the app.'),
      column('Listing ID', '.spec.listingId', 'Marketplace listing of the app.'),
    ),
  },
);
