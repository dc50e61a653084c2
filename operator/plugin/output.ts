// Printing as kubectl prints: tables, -o yaml and -o json, "No resources found".
import { stringify } from 'yaml';
import type { PluginContext } from './core.ts';

/** kubectl's table: upper-case headers, columns three spaces apart, `<none>` for nothing. */
export function table(header: string[], rows: string[][]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (c === '' ? '<none>' : c)))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return `${cells
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3)))
        .join('')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

/** -o json / -o yaml of one object or a list (kubectl prints a v1 List). */
export function printObjects(ctx: PluginContext, output: 'yaml' | 'json', objects: unknown[], single: boolean): void {
  const value = single ? objects[0] : { apiVersion: 'v1', kind: 'List', items: objects, metadata: { resourceVersion: '' } };
  ctx.io.out(output === 'json' ? `${JSON.stringify(value, null, 4)}\n` : stringify(value));
}

/** -o json / -o yaml of a document that is not an object of the API. */
export function printDocument(ctx: PluginContext, output: 'yaml' | 'json', doc: unknown): void {
  ctx.io.out(output === 'json' ? `${JSON.stringify(doc, null, 4)}\n` : stringify(doc));
}

export function noneFound(ctx: PluginContext, allNamespaces: boolean): void {
  ctx.io.err(allNamespaces ? 'No resources found\n' : `No resources found in ${ctx.namespace} namespace.\n`);
}
