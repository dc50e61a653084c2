// npm run docs:chart: writes charts/miniapps-operator/README.md from README.md.gotmpl and
// the `# --` comments of values.yaml with helm-docs (built by hack/tools/build.sh), so the
// values table is never out of step with values.yaml. `--check` writes nothing and exits 1
// when README.md is stale (operator/charts.test.ts runs the same check).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findTool } from '../testenv/tools.ts';

export const CHART_DIR = fileURLToPath(new URL('../../charts/miniapps-operator/', import.meta.url));

/** The chart README helm-docs makes from the template and values.yaml. */
export function renderChartReadme(helmDocs: string): string {
  return execFileSync(helmDocs, ['--chart-search-root', CHART_DIR, '--template-files', 'README.md.gotmpl', '--skip-version-footer', '--dry-run', '--log-level', 'warning'], { encoding: 'utf8' });
}

if (import.meta.main) {
  const helmDocs = findTool('helm-docs');
  if (!helmDocs) process.exit(1);
  const readme = join(CHART_DIR, 'README.md');
  const rendered = renderChartReadme(helmDocs);
  if (process.argv.includes('--check')) {
    if (readFileSync(readme, 'utf8') !== rendered) {
      console.error('charts/miniapps-operator/README.md is stale: npm run docs:chart');
      process.exit(1);
    }
  } else {
    writeFileSync(readme, rendered);
    console.log('Wrote charts/miniapps-operator/README.md');
  }
}
