// Writes crds/<plural>.miniapps.dev.yaml for every kind of operator/api, and
// removes CRD files of kinds that no longer exist. With --check it writes
// nothing and exits 1, naming the stale files, when crds/ is not up to date.
//
//   npm run generate
//   npm run generate -- --check

import { readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALL_KINDS, GROUP } from '../api/index.ts';
import { crdFileName, renderCRD } from '../api/crd.ts';

export const CRDS_DIR = fileURLToPath(new URL('../../crds/', import.meta.url));

/** File name to content, for every kind. */
export function generatedCRDs(): Map<string, string> {
  return new Map(ALL_KINDS.map((def) => [crdFileName(def), renderCRD(def)]));
}

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

export interface Staleness {
  /** Files whose content differs from the generated one, or that are missing. */
  outdated: string[];
  /** CRD files of this API group that no kind generates. */
  extra: string[];
}

export function findStale(dir: string, files: Map<string, string>): Staleness {
  const existing = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(`.${GROUP}.yaml`))
    .map((e) => e.name);
  return {
    outdated: [...files].filter(([name, content]) => readOrUndefined(join(dir, name)) !== content).map(([name]) => name),
    extra: existing.filter((name) => !files.has(name)).sort(),
  };
}

function main(args: string[]): number {
  const check = args.includes('--check');
  const files = generatedCRDs();
  mkdirSync(CRDS_DIR, { recursive: true });
  const { outdated, extra } = findStale(CRDS_DIR, files);
  if (check) {
    if (outdated.length === 0 && extra.length === 0) return 0;
    for (const name of outdated) console.error(`crds/${name} is stale`);
    for (const name of extra) console.error(`crds/${name} belongs to no kind`);
    console.error('Run `npm run generate` and commit crds/');
    return 1;
  }
  for (const name of outdated) writeFileSync(join(CRDS_DIR, name), files.get(name)!);
  for (const name of extra) rmSync(join(CRDS_DIR, name));
  for (const name of [...outdated, ...extra]) console.log(`${extra.includes(name) ? 'Removed' : 'Wrote'} crds/${name}`);
  return 0;
}

if (import.meta.main) process.exitCode = main(process.argv.slice(2));
