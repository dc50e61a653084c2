// Every kind of the miniapps.dev API, in the stable order of KIND_NAMES (cluster-scoped
// first, then organization kinds, then tenant kinds), and lookups by kind name.

import type { KindDefinition } from './common.ts';
import { KIND_NAMES } from './registry.ts';
import type { KindName } from './registry.ts';
import { apiKeyKind } from './apikey/schema.ts';
import { appManifestKind } from './appmanifest/schema.ts';
import { membershipKind } from './membership/schema.ts';
import { miniAppKind } from './miniapp/schema.ts';
import { miniAppReviewKind } from './miniappreview/schema.ts';
import { organizationKind } from './organization/schema.ts';
import { platformConfigKind } from './platformconfig/schema.ts';
import { solutionKind } from './solution/schema.ts';
import { subscriptionKind } from './subscription/schema.ts';
import { superAppKind } from './superapp/schema.ts';
import { tenantKind } from './tenant/schema.ts';
import { userKind } from './user/schema.ts';
import { userGroupKind } from './usergroup/schema.ts';

export * from './common.ts';
export * from './platformconfig/schema.ts';
export * from './organization/schema.ts';
export * from './tenant/schema.ts';
export * from './membership/schema.ts';
export * from './superapp/schema.ts';
export * from './miniapp/schema.ts';
export * from './miniappreview/schema.ts';
export * from './apikey/schema.ts';
export * from './solution/schema.ts';
export * from './appmanifest/schema.ts';
export * from './subscription/schema.ts';
export * from './usergroup/schema.ts';
export * from './user/schema.ts';
export { KIND_NAMES } from './registry.ts';
export type { KindName, KindNames } from './registry.ts';

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
