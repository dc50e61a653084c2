// Every kind of the miniapps.dev API, in the stable order of KIND_NAMES (api/registry.ts:
// cluster-scoped first, then organization kinds, then tenant kinds), and lookups by kind name.

import type { KindDefinition } from './common.ts';
import { KIND_NAMES, sliceExport, sliceFolder } from './registry.ts';
import type { KindName } from './registry.ts';

// A kind's types come from its slice (`import type { Membership } from '.../api/membership/schema.ts'`),
// the kind-neutral ones from api/common.ts: this module re-exports no kind, so a new kind adds no line here.

/** Each kind's definition, from its slice (api/<folder>/schema.ts), in the registry's order. */
async function loadDefinition(kind: KindName): Promise<KindDefinition> {
  const slice = (await import(`./${sliceFolder(kind)}/schema.ts`)) as Record<string, unknown>;
  const def = slice[sliceExport(kind, 'Kind')] as KindDefinition | undefined;
  if (def?.kind !== kind) throw new Error(`api/${sliceFolder(kind)}/schema.ts must export ${sliceExport(kind, 'Kind')}, the definition of ${kind}`);
  return def;
}

/** Every kind's definition, in KIND_NAMES order. */
export const ALL_KINDS: readonly KindDefinition[] = await Promise.all((Object.keys(KIND_NAMES) as KindName[]).map(loadDefinition));

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
