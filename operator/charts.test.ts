// The Helm chart in charts/miniapps-operator: values.schema.json is a valid JSON
// Schema that values.yaml satisfies and that refuses unknown keys, every value is
// documented, and the chart's copy of the CRDs matches crds/. When a `helm` binary
// is on PATH (or in $HELM), `helm lint` and `helm template` run too.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { isMap, isScalar, parse, parseDocument } from 'yaml';
import type { Pair, YAMLMap } from 'yaml';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const CHART = join(ROOT, 'charts/miniapps-operator');

interface Schema {
  type?: string;
  description?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
}

const schema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8')) as Schema;
const valuesText = readFileSync(join(CHART, 'values.yaml'), 'utf8');
const values = parse(valuesText) as Record<string, unknown>;

function validator() {
  const ajv = new Ajv({ strict: true, allErrors: true });
  return ajv.compile(schema);
}

/** Dotted paths of the schema's declared properties, with their schema. */
function declared(node: Schema, path = ''): [string, Schema][] {
  return Object.entries(node.properties ?? {}).flatMap(([name, child]) => {
    const p = path ? `${path}.${name}` : name;
    return [[p, child] as [string, Schema], ...declared(child, p)];
  });
}

function helmBinary(): string | undefined {
  if (process.env.HELM && existsSync(process.env.HELM)) return process.env.HELM;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, 'helm'))) return join(dir, 'helm');
  }
  return undefined;
}

describe('values.schema.json', () => {
  it('is a valid JSON Schema, and values.yaml satisfies it', () => {
    const validate = validator();
    expect(validate(values), JSON.stringify(validate.errors)).toBe(true);
  });

  it.each<[string, (v: Record<string, unknown>) => void]>([
    ['an unknown top-level key', (v) => (v.replicas = 2)],
    ['an unknown nested key', (v) => ((v.webhook as Record<string, unknown>).certManger = { enabled: true })],
    ['a log level that does not exist', (v) => (v.logLevel = 'verbose')],
    ['a duration that is not one', (v) => ((v.leaderElection as Record<string, unknown>).leaseDuration = '15 seconds')],
    ['a webhook failurePolicy other than Ignore or Fail', (v) => ((v.webhook as Record<string, unknown>).failurePolicy = 'Retry')],
  ])('refuses %s', (_name, mutate) => {
    const copy = structuredClone(values);
    mutate(copy);
    expect(validator()(copy)).toBe(false);
  });

  it('refuses unknown keys in every object it declares', () => {
    const open = declared(schema)
      .filter(([, s]) => s.type === 'object' && s.properties && s.additionalProperties !== false)
      .map(([p]) => p);
    expect(schema.additionalProperties).toBe(false);
    expect(open).toEqual([]);
  });

  it('describes every value', () => {
    expect(declared(schema).filter(([, s]) => !s.description?.trim()).map(([p]) => p)).toEqual([]);
  });
});

describe('values.yaml', () => {
  it('has a comment above every value the schema declares', () => {
    const doc = parseDocument(valuesText);
    const declaredPaths = new Set(declared(schema).map(([p]) => p));
    const undocumented: string[] = [];
    const walk = (map: YAMLMap, path: string) => {
      map.items.forEach((pair: Pair, index) => {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        const p = path ? `${path}.${key}` : key;
        if (!declaredPaths.has(p)) return; // free-form content (securityContext, resources, ...)
        // The yaml library hangs the comment above a map's first key on the map itself.
        const comment = (isScalar(pair.key) ? pair.key.commentBefore : undefined) ?? (index === 0 ? map.commentBefore : undefined);
        if (!comment?.trim()) undocumented.push(p);
        if (isMap(pair.value)) walk(pair.value, p);
      });
    };
    walk(doc.contents as YAMLMap, '');
    expect(undocumented).toEqual([]);
  });
});

describe('the chart', () => {
  it('carries the CRDs of crds/ in files/crds/ (npm run generate copies them)', () => {
    const crds = readdirSync(join(ROOT, 'crds')).filter((f) => f.endsWith('.yaml')).sort();
    const copies = readdirSync(join(CHART, 'files/crds')).filter((f) => f.endsWith('.yaml')).sort();
    expect(copies).toEqual(crds);
    const stale = crds.filter((f) => readFileSync(join(ROOT, 'crds', f), 'utf8') !== readFileSync(join(CHART, 'files/crds', f), 'utf8'));
    expect(stale, 'charts/miniapps-operator/files/crds/ differs from crds/: copy crds/*.yaml there').toEqual([]);
  });

  const helm = helmBinary();
  it.skipIf(!helm)('passes helm lint, and helm template renders with the default values and with cert-manager', () => {
    execFileSync(helm!, ['lint', CHART, '--strict'], { encoding: 'utf8' });
    const rendered = execFileSync(helm!, ['template', 'release', CHART, '--namespace', 'miniapps-system'], { encoding: 'utf8' });
    const kinds = rendered.split('\n').filter((l) => l.startsWith('kind: ')).map((l) => l.slice(6));
    expect(kinds.filter((k) => k === 'CustomResourceDefinition')).toHaveLength(readdirSync(join(ROOT, 'crds')).filter((f) => f.endsWith('.yaml')).length);
    expect(kinds).toEqual(expect.arrayContaining(['Deployment', 'ServiceAccount', 'ClusterRole', 'Role', 'Service', 'ValidatingWebhookConfiguration', 'Secret']));
    const withCertManager = execFileSync(helm!, ['template', 'release', CHART, '--set', 'webhook.certManager.enabled=true', '--set', 'crds.enabled=false'], { encoding: 'utf8' });
    expect(withCertManager).toContain('cert-manager.io/inject-ca-from: default/release-miniapps-operator-webhook');
    expect(withCertManager).not.toContain('kind: CustomResourceDefinition');
  });
});
