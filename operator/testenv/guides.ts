// The guides under docs/guides/ as steps a test runs (operator/itest/guides.itest.ts):
//
//   <!-- guide: person=EMAIL [groups=G1,G2] -->   whom every command of the guide runs as
//   ```sh run [exit=N] [as=EMAIL]                a block of commands, run with bash; it must
//   ...                                          end with exit code N (default 0); as=: run
//                                                as that person instead of the guide's
//   ```
//   ```text output                               lines the block before must print (stdout
//   ...                                          and stderr), in this order, each within a
//   ```                                          line of the output (spaces collapsed)
//   <!-- guide: accept-invitation EMAIL -->      the person of EMAIL accepts their newest
//                                                invitation through its link, as in a browser
//
// Every ```sh block of a guide must be a `sh run` block: every command in the guides runs.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const GUIDES_DIR = fileURLToPath(new URL('../../docs/guides/', import.meta.url));

/** The order the guides run in (each picks up what the ones before it made); others follow, by name. */
export const GUIDE_ORDER = ['provisioning-administrator', 'organization-administrator', 'mini-app-developer', 'reviewer', 'super-app-administrator', 'tenant-administrator'];

export type GuideStep = { kind: 'run'; script: string; exit: number; output: string[]; line: number; as?: string } | { kind: 'accept-invitation'; email: string; line: number };

export interface Guide {
  name: string;
  person: { user: string; groups: string[] };
  steps: GuideStep[];
}

export class GuideError extends Error {}

/** Parses one guide's Markdown; throws GuideError naming the line of anything it cannot run. */
export function parseGuide(name: string, text: string): Guide {
  const lines = text.split('\n');
  let person: Guide['person'] | undefined;
  const steps: GuideStep[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const directive = /^<!--\s*guide:\s*(.*?)\s*-->\s*$/.exec(line);
    if (directive) {
      const [word, ...rest] = directive[1]!.split(/\s+/);
      if (word!.startsWith('person=')) {
        const groups = rest.find((r) => r.startsWith('groups='))?.slice('groups='.length);
        person = { user: word!.slice('person='.length), groups: groups ? groups.split(',') : [] };
      } else if (word === 'accept-invitation' && rest.length === 1) steps.push({ kind: 'accept-invitation', email: rest[0]!, line: i + 1 });
      else throw new GuideError(`${name}.md:${i + 1}: unknown guide directive "${directive[1]}"`);
      continue;
    }
    const fence = /^```(\S*)\s*(.*)$/.exec(line);
    if (!fence) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    if (i >= lines.length) throw new GuideError(`${name}.md:${start + 1}: the code block is not closed`);
    const [lang, info] = [fence[1]!, fence[2]!.trim().split(/\s+/).filter(Boolean)];
    if (lang === 'sh' || lang === 'bash' || lang === 'shell') {
      if (info[0] !== 'run') throw new GuideError(`${name}.md:${start + 1}: a shell block that does not run (write \`\`\`sh run): every command in the guides runs in a test`);
      const exitArg = info.find((a) => a.startsWith('exit='));
      const exit = exitArg ? Number(exitArg.slice('exit='.length)) : 0;
      if (!Number.isInteger(exit)) throw new GuideError(`${name}.md:${start + 1}: ${exitArg} is not an exit code`);
      const as = info.find((a) => a.startsWith('as='))?.slice('as='.length);
      steps.push({ kind: 'run', script: body.join('\n'), exit, output: [], line: start + 1, ...(as ? { as } : {}) });
    } else if (lang === 'text' && info[0] === 'output') {
      const last = steps.at(-1);
      if (last?.kind !== 'run') throw new GuideError(`${name}.md:${start + 1}: an output block after no command`);
      last.output.push(...body.filter((l) => l.trim()));
    }
  }
  if (!person) throw new GuideError(`${name}.md: no <!-- guide: person=EMAIL --> says whom its commands run as`);
  if (!steps.some((s) => s.kind === 'run')) throw new GuideError(`${name}.md: no \`\`\`sh run block`);
  return { name, person, steps };
}

/** Every guide, in GUIDE_ORDER, then the others by name. */
export function loadGuides(dir = GUIDES_DIR): Guide[] {
  const names = readdirSync(dir)
    .filter((f) => f.endsWith('.md'))
    .map((f) => f.slice(0, -3));
  const rank = (n: string) => (GUIDE_ORDER.includes(n) ? GUIDE_ORDER.indexOf(n) : GUIDE_ORDER.length);
  return names.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b)).map((n) => parseGuide(n, readFileSync(join(dir, `${n}.md`), 'utf8')));
}

const squash = (s: string) => s.replace(/\s+/g, ' ').trim();

/** The expected lines not found, in order, each within one line of `actual`; empty when all are. */
export function missingOutput(expected: string[], actual: string): string[] {
  const lines = actual.split('\n').map(squash);
  let at = 0;
  const missing: string[] = [];
  for (const want of expected.map(squash)) {
    const found = lines.findIndex((l, i) => i >= at && l.includes(want));
    if (found < 0) missing.push(want);
    else at = found + 1;
  }
  return missing;
}
