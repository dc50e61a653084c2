import { describe, expect, it } from 'vitest';
import { GUIDE_ORDER, GuideError, loadGuides, missingOutput, parseGuide } from './guides.ts';

describe('the guides as tests read them', () => {
  it('are all there, each with its person and commands that run (no shell block left unmarked)', () => {
    const guides = loadGuides();
    expect(guides.map((g) => g.name).slice(0, GUIDE_ORDER.length)).toEqual(GUIDE_ORDER);
    for (const g of guides) {
      expect(g.person.user).toMatch(/@/);
      expect(g.steps.filter((s) => s.kind === 'run').length).toBeGreaterThan(0);
    }
  });

  it.each([
    ['a shell block not marked to run', '<!-- guide: person=a@x.example -->\n```sh\nkubectl get pods\n```\n', /does not run/],
    ['no person', '```sh run\ntrue\n```\n', /no <!-- guide: person/],
    ['an output block after no command', '<!-- guide: person=a@x.example -->\n```text output\nyes\n```\n', /after no command/],
    ['an unknown directive', '<!-- guide: person=a@x.example -->\n<!-- guide: click-button -->\n```sh run\ntrue\n```\n', /unknown guide directive/],
    ['an unclosed block', '<!-- guide: person=a@x.example -->\n```sh run\ntrue\n', /not closed/],
  ])('refuses %s', (_case, text, message) => {
    expect(() => parseGuide('g', text)).toThrow(GuideError);
    expect(() => parseGuide('g', text)).toThrow(message);
  });

  it('reads commands, exit codes, another person, outputs and invitations in order', () => {
    const g = parseGuide(
      'g',
      [
        '<!-- guide: person=a@x.example groups=ops,dev -->',
        '```sh run',
        'kubectl auth can-i get pods',
        '```',
        '```text output',
        'yes',
        '',
        '```',
        '<!-- guide: accept-invitation b@x.example -->',
        '```sh run exit=1 as=c@x.example',
        'false',
        '```',
        '```yaml',
        'not: run',
        '```',
      ].join('\n'),
    );
    expect(g.person).toEqual({ user: 'a@x.example', groups: ['ops', 'dev'] });
    expect(g.steps).toEqual([
      { kind: 'run', script: 'kubectl auth can-i get pods', exit: 0, output: ['yes'], line: 2 },
      { kind: 'accept-invitation', email: 'b@x.example', line: 9 },
      { kind: 'run', script: 'false', exit: 1, output: [], line: 10, as: 'c@x.example' },
    ]);
  });

  it('finds expected lines in order, each within a later line, spaces collapsed', () => {
    const out = 'NAME   READY\nlumen  True\nyes\n';
    expect(missingOutput(['NAME READY', 'lumen True', 'yes'], out)).toEqual([]);
    expect(missingOutput(['yes', 'lumen True'], out)).toEqual(['lumen True']);
    expect(missingOutput(['no'], out)).toEqual(['no']);
  });
});
