// The module layout as a checked fact: controllers do not import each other (shared
// lookups live in operator/domain), every module is registered, and every cache a
// module reads is one of the declared table's.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Caches } from '../domain/caches.ts';
import { MODULES } from './index.ts';

const CONTROLLERS = fileURLToPath(new URL('./', import.meta.url));
const kinds = readdirSync(CONTROLLERS, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name);

function importsOf(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)[^'"]*from\s+'([^']+)'/gm)].map((m) => m[1]!);
}

describe('controller modules', () => {
  it.each(kinds)('%s imports no other controller', (kind) => {
    const dir = join(CONTROLLERS, kind);
    const offenders = readdirSync(dir)
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.itest.ts'))
      .flatMap((f) =>
        importsOf(join(dir, f))
          .filter((p) => kinds.some((other) => other !== kind && p.startsWith(`../${other}/`)))
          .map((p) => `${f} → ${p}`),
      );
    expect(offenders).toEqual([]);
  });

  it('every kind folder has a registered module', () => {
    expect(MODULES.map((m) => m.name).sort()).toEqual([...kinds].sort());
  });

  it('every cache a module reads is declared in the table', () => {
    const declared = new Set<unknown>(Object.values(Caches));
    for (const m of MODULES) for (const c of m.caches) expect(declared.has(c), `${m.name}: ${c.name}`).toBe(true);
  });
});
