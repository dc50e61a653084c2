// Ports the README.md edits of a branch written before the README moved into docs/ onto
// the pages its text now lives in. During a merge that conflicts in README.md:
//
//   git checkout --ours README.md             (keep the short README)
//   node hack/docs/port-readme.ts             (merge base..MERGE_HEAD)
//   node hack/docs/port-readme.ts BASE THEIRS (or any two commits)
//
// Each hunk of `git diff BASE THEIRS -- README.md` is looked for, as the text it had
// before (context lines trimmed from its ends if need be), in exactly one page of
// README.md and docs/, and replaced there by the text it has after. Hunks it cannot place
// are printed for a person to move by hand (exit code 1).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = process.env.ROOT ?? fileURLToPath(new URL('../../', import.meta.url));
const git = (...args: string[]) => execFileSync('git', ['-C', ROOT, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });

function pages(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? pages(join(dir, e.name)) : e.name.endsWith('.md') ? [join(dir, e.name)] : []));
}

const [base, theirs] = process.argv.length === 4 ? [process.argv[2]!, process.argv[3]!] : [git('merge-base', 'HEAD', 'MERGE_HEAD').trim(), 'MERGE_HEAD'];
const hunks: string[][] = [];
for (const line of git('diff', '-U3', base, theirs, '--', 'README.md').split('\n')) {
  if (line.startsWith('@@')) hunks.push([]);
  else if (hunks.length && !line.startsWith('\\')) {
    if (line === '') hunks.at(-1)!.push(' ');
    else if (' -+'.includes(line[0]!)) hunks.at(-1)!.push(line);
  }
}

const text = new Map([join(ROOT, 'README.md'), ...pages(join(ROOT, 'docs'))].map((p) => [p, readFileSync(p, 'utf8')]));
const unplaced: string[] = [];
for (const h of hunks) {
  let [lo, hi] = [0, h.length];
  let placed = false;
  for (;;) {
    const seg = h.slice(lo, hi);
    const before = seg
      .filter((l) => l[0] !== '+')
      .map((l) => l.slice(1))
      .join('\n');
    const after = seg
      .filter((l) => l[0] !== '-')
      .map((l) => l.slice(1))
      .join('\n');
    if (seg.some((l) => l[0] !== ' ') && after && [...text.values()].some((t) => t.includes(after)) && !before.includes(after)) {
      console.log(
        `already there: ${after
          .split('\n')
          .find((l) => l.trim())
          ?.trim()
          .slice(0, 80)} ...`,
      );
      placed = true;
      break;
    }
    const hits = before ? [...text].filter(([, t]) => t.split(before).length === 2) : [];
    if (hits.length === 1) {
      const [page, t] = hits[0]!;
      // README links to docs/ pages, made relative to the page the text now lives in.
      const up = relative(dirname(page), join(ROOT, 'docs'));
      const moved = after.replace(/\]\(docs\/([^)]*)\)/g, (_m, rest: string) => `](${up ? `${up}/` : ''}${rest})`);
      text.set(
        page,
        t.replace(before, () => moved),
      );
      writeFileSync(page, text.get(page)!);
      console.log(`placed in ${relative(ROOT, page)} (${seg.filter((l) => l[0] !== ' ').length} changed lines)`);
      placed = true;
      break;
    }
    // Trim a context line from the end that has more of them; stop when none is left.
    const leading = h.slice(lo, hi).findIndex((l) => l[0] !== ' ');
    const trailing = [...h.slice(lo, hi)].reverse().findIndex((l) => l[0] !== ' ');
    if (leading <= 0 && trailing <= 0) break;
    if (leading >= trailing) lo++;
    else hi--;
  }
  if (!placed) unplaced.push(h.join('\n'));
}
for (const u of unplaced) console.log(`NOT PLACED (move it by hand):\n${u}\n----`);
process.exitCode = unplaced.length ? 1 : 0;
