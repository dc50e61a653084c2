// The mini apps `list` and `search` show: read, filtered by category, sorted, printed.
import { Option } from 'commander';
import type { MiniApp } from '../api/miniapp/schema.ts';
import { Kinds } from '../api/registry.ts';
import { EXIT } from './core.ts';
import type { PluginContext } from './core.ts';
import { noneFound, printObjects, table } from './output.ts';

export const categoryOption = () => new Option('--category <C>', 'only mini apps with this category (case-insensitive)');
export const allNamespacesOption = () => new Option('-A, --all-namespaces', 'every namespace you may list');

export interface MiniAppListOptions {
  category?: string;
  allNamespaces?: boolean;
  output?: 'wide' | 'yaml' | 'json';
}

export async function miniApps(opts: MiniAppListOptions, ctx: PluginContext): Promise<MiniApp[]> {
  const items = await ctx.api.list<MiniApp>(Kinds.MiniApp, opts.allNamespaces ? undefined : ctx.namespace);
  const category = opts.category?.toLowerCase();
  const filtered = category ? items.filter((m) => (m.spec.categories ?? []).some((c) => c.toLowerCase() === category)) : items;
  return filtered.sort((a, b) => (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') || a.metadata.name.localeCompare(b.metadata.name));
}

/** Where a mini app stands in each super app: `org/name=State(version)`. */
function states(m: MiniApp): string {
  return (m.status?.superApps ?? []).map((t) => `${t.organization}/${t.name}=${t.state}${t.version ? `(${t.version}${t.pendingVersion ? `, ${t.pendingVersion} pending` : ''})` : ''}`).join(',');
}

export function printMiniApps(items: MiniApp[], opts: MiniAppListOptions, ctx: PluginContext): number {
  if (opts.output === 'yaml' || opts.output === 'json') {
    printObjects(ctx, opts.output, items, false);
    return EXIT.ok;
  }
  if (items.length === 0) {
    noneFound(ctx, !!opts.allNamespaces);
    return EXIT.ok;
  }
  const wide = opts.output === 'wide';
  const all = !!opts.allNamespaces;
  const header = [...(all ? ['NAMESPACE'] : []), 'NAME', 'ORGANIZATION', 'TYPE', 'CATEGORIES', 'PUBLISHED', 'SUPER APPS', ...(wide ? ['APP NAME', 'PROTECTION', 'LOCATIONS'] : [])];
  const rows = items.map((m) => [
    ...(all ? [m.metadata.namespace ?? ''] : []),
    m.metadata.name,
    m.status?.organization ?? '',
    m.spec.type,
    (m.spec.categories ?? []).join(','),
    m.spec.publishedVersion ?? '',
    states(m),
    ...(wide ? [m.spec.appName, m.spec.dataPrivacy?.protection ?? 'None', (m.spec.locations ?? []).join(',')] : []),
  ]);
  ctx.io.out(table(header, rows));
  return EXIT.ok;
}
