// Writes crds/<plural>.miniapps.dev.yaml for every kind of operator/api, and the
// same files into the Helm chart (charts/miniapps-operator/files/crds/, since Helm
// reads nothing outside the chart), removing CRD files of kinds that no longer
// exist. With --check it writes nothing and exits 1, naming the stale files.
//
//   npm run generate
//   npm run generate -- --check

import { readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALL_KINDS, GROUP } from '../api/index.ts';
import { crdFileName, renderCRD } from '../api/crd.ts';

export const CRDS_DIR = fileURLToPath(new URL('../../crds/', import.meta.url));
export const CHART_CRDS_DIR = fileURLToPath(new URL('../../charts/miniapps-operator/files/crds/', import.meta.url));
const OUTPUTS = [
  { dir: CRDS_DIR, label: 'crds' },
  { dir: CHART_CRDS_DIR, label: 'charts/miniapps-operator/files/crds' },
];

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
  let stale = 0;
  for (const { dir, label } of OUTPUTS) {
    mkdirSync(dir, { recursive: true });
    const { outdated, extra } = findStale(dir, files);
    stale += outdated.length + extra.length;
    if (check) {
      for (const name of outdated) console.error(`${label}/${name} is stale`);
      for (const name of extra) console.error(`${label}/${name} belongs to no kind`);
      continue;
    }
    for (const name of outdated) writeFileSync(join(dir, name), files.get(name)!);
    for (const name of extra) rmSync(join(dir, name));
    for (const name of [...outdated, ...extra]) console.log(`${extra.includes(name) ? 'Removed' : 'Wrote'} ${label}/${name}`);
  }
  if (check && stale > 0) {
    console.error('Run `npm run generate` and commit crds/ and charts/');
    return 1;
  }
  return 0;
}

if (import.meta.main) process.exitCode = main(process.argv.slice(2));
