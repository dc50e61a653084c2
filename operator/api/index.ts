// Every kind of the miniapps.dev API, in the stable order of KIND_NAMES (cluster-scoped
// first, then organization kinds, then tenant kinds), and lookups by kind name.

import type { KindDefinition } from './common.ts';
import { KIND_NAMES } from './constants.ts';
import type { KindName } from './constants.ts';
import { apiKeyKind } from './apikey.ts';
import { appManifestKind } from './appmanifest.ts';
import { membershipKind } from './membership.ts';
import { miniAppKind } from './miniapp.ts';
import { miniAppReviewKind } from './miniappreview.ts';
import { organizationKind } from './organization.ts';
import { platformConfigKind } from './platformconfig.ts';
import { solutionKind } from './solution.ts';
import { subscriptionKind } from './subscription.ts';
import { superAppKind } from './superapp.ts';
import { tenantKind } from './tenant.ts';
import { userKind } from './user.ts';
import { userGroupKind } from './usergroup.ts';

export * from './common.ts';
export * from './platformconfig.ts';
export * from './organization-model.ts';
export * from './organization.ts';
export * from './tenant.ts';
export * from './membership.ts';
export * from './superapp.ts';
export * from './miniapp.ts';
export * from './miniappreview.ts';
export * from './apikey.ts';
export * from './solution.ts';
export * from './appmanifest.ts';
export * from './subscription.ts';
export * from './usergroup.ts';
export * from './user.ts';
export { KIND_NAMES } from './constants.ts';
export type { KindName, KindNames } from './constants.ts';

const definitions: Record<KindName, KindDefinition> = {
  PlatformConfig: platformConfigKind,
  Organization: organizationKind,
  Tenant: tenantKind,
  Membership: membershipKind,
  SuperApp: superAppKind,
  MiniApp: miniAppKind,
  MiniAppReview: miniAppReviewKind,
  ApiKey: apiKeyKind,
  Solution: solutionKind,
  AppManifest: appManifestKind,
  Subscription: subscriptionKind,
  UserGroup: userGroupKind,
  User: userKind,
};

/** Every kind's definition, in KIND_NAMES order. */
export const ALL_KINDS: readonly KindDefinition[] = (Object.keys(KIND_NAMES) as KindName[]).map((name) => definitions[name]);

const byKind = new Map(ALL_KINDS.map((def) => [def.kind, def]));
const byPlural = new Map(ALL_KINDS.map((def) => [def.plural, def]));

/** The definition of `kind` (e.g. `Organization`), or undefined. */
export function findKind(kind: string): KindDefinition | undefined {
  return byKind.get(kind);
}

/** The definition of `kind`; throws for a kind this API does not have. */
export function getKind(kind: string): KindDefinition {
  const def = byKind.get(kind);
  if (!def) throw new Error(`Unknown kind ${kind}; known kinds: ${[...byKind.keys()].join(', ')}`);
  return def;
}

/** The definition whose plural resource name is `plural` (e.g. `organizations`), or undefined. */
export function findKindByPlural(plural: string): KindDefinition | undefined {
  return byPlural.get(plural);
}
