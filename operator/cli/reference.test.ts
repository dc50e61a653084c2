// docs/reference/ and docs/README.md are generated (operator/cli/reference.ts): they must be
// what the code says now, cover every kind, flag, metric and plugin command, and every link
// in the docs must lead to a page (and heading) that exists.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { MODULE_SETTINGS } from '../controllers/index.ts';
import { allSettings } from '../runtime/config.ts';
import { OperatorMetrics } from '../runtime/metrics.ts';
import { HTTP_ENDPOINTS, ROOT, docsIndex, endpointSources, pluginCommands, readableMessage, referenceFiles, staleReference } from './reference.ts';

const files = referenceFiles();
const page = (path: string) => files.get(path)!;

function markdown(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? markdown(join(dir, e.name)) : e.name.endsWith('.md') ? [join(dir, e.name)] : []));
}

describe('the generated reference', () => {
  it('is current: npm run generate would change no page of docs/reference/ or docs/README.md', () => {
    expect(staleReference(files), 'run `npm run generate` and commit docs/').toEqual({ outdated: [], extra: [] });
  });

  it('notices a page that no longer says what the code says', () => {
    const changed = new Map(files);
    changed.set('docs/reference/flags.md', page('docs/reference/flags.md').replace('--kubeconfig', '--kube-config'));
    expect(staleReference(changed).outdated).toEqual(['docs/reference/flags.md']);
  });

  it('documents every kind with every field of its spec and status, with the descriptions of the CRDs', () => {
    const crds = page('docs/reference/crds.md');
    for (const f of readdirSync(join(ROOT, 'crds')).filter((n) => n.endsWith('.yaml'))) {
      const crd = parse(readFileSync(join(ROOT, 'crds', f), 'utf8')) as {
        spec: { names: { kind: string }; versions: { schema: { openAPIV3Schema: { properties: Record<string, { description?: string; properties?: Record<string, { description?: string }> }> } } }[] };
      };
      expect(crds).toContain(`\n## ${crd.spec.names.kind}\n`);
      const spec = crd.spec.versions[0]!.schema.openAPIV3Schema.properties.spec!;
      for (const [name, field] of Object.entries(spec.properties ?? {})) {
        expect(crds).toContain(`| \`spec.${name}\` |`);
        if (field.description)
          expect(crds).toContain(
            field.description
              .replace(/\s*\n\s*/g, ' ')
              .replace(/\|/g, '\\|')
              .slice(0, 60),
          );
      }
    }
  });

  it('lists every flag with its environment variable', () => {
    const flags = page('docs/reference/flags.md');
    for (const s of Object.values(allSettings(MODULE_SETTINGS))) expect(flags).toContain(`| \`--${s.flag}\` | \`${s.env}\` |`);
  });

  it('lists every metric of the registry with its type', () => {
    const metrics = page('docs/reference/metrics.md');
    for (const m of new OperatorMetrics().registry.getMetricsAsArray() as unknown as { name: string; type: string }[]) expect(metrics).toContain(`| \`${m.name}\` | ${m.type} |`);
  });

  it("has a section for each of the plugin's commands, with the help the command prints", () => {
    const commands = pluginCommands();
    expect(commands).toEqual(expect.arrayContaining(['list', 'search', 'duplicate', 'catalog', 'delete', 'onboard', 'token-roles']));
    const plugin = page('docs/reference/plugin.md');
    for (const c of commands) expect(plugin).toContain(`\n## ${c}\n\n\`\`\`text\nkubectl miniapps ${c}`);
  });

  it('lists every endpoint, and describes the requests of the verify, data-protection, token-roles and acceptance endpoints from the files that serve them', () => {
    const http = page('docs/reference/http.md');
    for (const e of HTTP_ENDPOINTS) expect(http).toContain(`| \`${e.path}\` |`);
    const described = endpointSources()
      .map((s) => s.comment)
      .join('\n');
    for (const path of ['/verify', '/authenticate', '/dataprotection/v1/protect', '/dataprotection/v1/reveal', '/tokenroles/v1/roles', '/tokenroles/v1/jwks.json', '/invitations/accept']) {
      expect(HTTP_ENDPOINTS.map((e) => e.path)).toContain(path);
      if (path !== '/invitations/accept') expect(described).toMatch(new RegExp(`(GET|POST)\\s+${path.replace(/\./g, '\\.')}`));
    }
  });

  it('lists every admission policy of the chart with the messages it refuses with', () => {
    const policies = page('docs/reference/admission-policies.md');
    const template = readFileSync(join(ROOT, 'charts/miniapps-operator/templates/admission-policies.yaml'), 'utf8');
    const names = [...template.matchAll(/^kind: ValidatingAdmissionPolicy\nmetadata:\n {2}name: (\S+)/gm)].map((m) => m[1]!.replace(/\{\{.*/, ''));
    expect(names.length).toBeGreaterThan(5);
    for (const n of names) expect(policies).toContain(`| \`${n}`);
    expect(policies).toContain('to confirm, annotate it first: kubectl annotate organization <oldObject.metadata.name> miniapps.dev/confirm-delete="CONFIRM DELETE"');
  });

  it.each([
    ["'a ' + object.metadata.name + ' b'", 'a <object.metadata.name> b'],
    ["'it\\'s ' + request.userInfo.username", "it's <request.userInfo.username>"],
    ['"x"', 'x'],
  ])('reads the CEL message %s as %s', (cel, text) => {
    expect(readableMessage(cel)).toBe(text);
  });

  it('indexes every page under docs/ in docs/README.md', () => {
    const index = docsIndex();
    for (const f of markdown(join(ROOT, 'docs'))
      .map((p) => relative(join(ROOT, 'docs'), p))
      .filter((p) => p !== 'README.md'))
      expect(index).toContain(`](${f})`);
  });
});

/** GitHub's anchor of a heading. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/`/g, '')
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');

describe('links in README.md and docs/', () => {
  const pages = [join(ROOT, 'README.md'), ...markdown(join(ROOT, 'docs'))];
  const broken: string[] = [];
  for (const p of pages) {
    const text = readFileSync(p, 'utf8')
      .replace(/```[\s\S]*?```/g, '')
      .replace(/`[^`\n]*`/g, '');
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target!)) continue;
      const [path, anchor] = target!.split('#') as [string, string | undefined];
      const file = path ? join(dirname(p), path) : p;
      if (!existsSync(file)) {
        broken.push(`${relative(ROOT, p)}: ${target} (no such file)`);
        continue;
      }
      if (anchor && file.endsWith('.md')) {
        const headings = [...readFileSync(file, 'utf8').matchAll(/^#+\s+(.+)$/gm)].map((m) => slug(m[1]!));
        if (!headings.includes(anchor)) broken.push(`${relative(ROOT, p)}: ${target} (no such heading)`);
      }
    }
  }
  it('lead to files and headings that exist', () => {
    expect(broken).toEqual([]);
  });
});
