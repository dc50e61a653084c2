// The one list of the miniapps.dev kinds: a new kind is one line of KIND_NAMES here, its
// api/<kind>/ folder (schema.ts, names.ts, and policies.ts if it has admission policies)
// and its controllers/<kind>/ folder (module.ts). Everything else that goes over the kinds
// (the schemas in api/index.ts, the REST resources below, the modules in
// controllers/index.ts, the health checks) is derived from this table; the folder of a kind
// is its name in lower case. The order is the CRDs' (cluster-scoped first, then
// organization kinds, then tenant kinds). Plain values: the operator process imports it.
import { GROUP, VERSION } from './constants.ts';
import type { ResourceType } from '../runtime/kube/resource.ts';

export interface KindNames {
  kind: string;
  plural: string;
  scope: 'Cluster' | 'Namespaced';
}

/** Checks that every entry's kind is its key. */
const kindTable = <const T extends { readonly [K in keyof T]: KindNames & { readonly kind: K } }>(table: T): T => table;

export const KIND_NAMES = kindTable({
  PlatformConfig: { kind: 'PlatformConfig', plural: 'platformconfigs', scope: 'Cluster' },
  Organization: { kind: 'Organization', plural: 'organizations', scope: 'Cluster' },
  Tenant: { kind: 'Tenant', plural: 'tenants', scope: 'Cluster' },
  Account: { kind: 'Account', plural: 'accounts', scope: 'Cluster' },
  Membership: { kind: 'Membership', plural: 'memberships', scope: 'Namespaced' },
  SuperApp: { kind: 'SuperApp', plural: 'superapps', scope: 'Namespaced' },
  MiniApp: { kind: 'MiniApp', plural: 'miniapps', scope: 'Namespaced' },
  MiniAppReview: { kind: 'MiniAppReview', plural: 'miniappreviews', scope: 'Namespaced' },
  ApiKey: { kind: 'ApiKey', plural: 'apikeys', scope: 'Namespaced' },
  Solution: { kind: 'Solution', plural: 'solutions', scope: 'Namespaced' },
  AppManifest: { kind: 'AppManifest', plural: 'appmanifests', scope: 'Namespaced' },
  Subscription: { kind: 'Subscription', plural: 'subscriptions', scope: 'Namespaced' },
  UserGroup: { kind: 'UserGroup', plural: 'usergroups', scope: 'Namespaced' },
  User: { kind: 'User', plural: 'users', scope: 'Namespaced' },
});

export type KindName = keyof typeof KIND_NAMES;

/** The kinds, in the registry's order. */
export const KIND_LIST = Object.keys(KIND_NAMES) as KindName[];

/**
 * Each kind's object type (`KindObjects['Membership']` is `Membership`), declared by its slice:
 * api/<folder>/schema.ts adds its line to this interface (`declare module '../registry.ts'`), so
 * what goes over every kind by type (the caches of domain/caches.ts) imports no kind's object type and a new
 * kind adds no line there. A registry kind whose slice declares no type fails to compile
 * (EveryKindDeclaresItsObject).
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by each slice's declaration (module augmentation)
export interface KindObjects {}

type Holds<T extends true> = T;
/** Compiles only when every registry kind's slice declares its object type: the error names the kinds that do not. */
export type EveryKindDeclaresItsObject = Holds<
  [Exclude<KindName, keyof KindObjects>] extends [never] ? true : `no KindObjects line in api/<folder>/schema.ts for ${Exclude<KindName, keyof KindObjects>}`
>;

/** The object type of `kind`, as its slice declares it. */
export type KindObject<K extends KindName & keyof KindObjects> = KindObjects[K];

/** The folder of a kind's slice, api/<folder>/ and controllers/<folder>/: its name in lower case. */
export const sliceFolder = (kind: KindName): string => kind.toLowerCase();

/**
 * The name a slice's file exports its part under: `<kind>Kind` (api/<folder>/schema.ts, the
 * kind's definition), `<kind>Policies` (api/<folder>/policies.ts, when the kind has admission
 * policies of its own) and `<kind>Module` (controllers/<folder>/module.ts), the kind's first
 * letter in lower case (`apiKeyKind`, `apiKeyPolicies`, `apiKeyModule`).
 */
export const sliceExport = (kind: KindName, part: 'Kind' | 'Policies' | 'Module'): string => `${kind[0]!.toLowerCase()}${kind.slice(1)}${part}`;

/** The REST resource of a kind. */
export const resourceOf = (def: KindNames): ResourceType => ({
  group: GROUP,
  version: VERSION,
  kind: def.kind,
  plural: def.plural,
  namespaced: def.scope === 'Namespaced',
});

/** The REST resource of every miniapps.dev kind, by kind name. */
export const Kinds = Object.fromEntries(Object.values(KIND_NAMES).map((d) => [d.kind, resourceOf(d)])) as Record<KindName, ResourceType>;
