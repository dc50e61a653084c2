import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CRDS_DIR, SCHEMAS_DIR, findStale, generatedCRDs, generatedSchemas } from '../cli/generate.ts';
import { openAPISchema, toCRD } from './crd.ts';
import type { JSONSchema } from './crd.ts';
import { ALL_KINDS, getKind } from './index.ts';

/** Every schema node below `schema`, with its path (`spec.apps[].kind`). */
function* walk(schema: JSONSchema, path: string): Generator<[string, JSONSchema]> {
  yield [path, schema];
  for (const [name, child] of Object.entries((schema.properties ?? {}) as Record<string, JSONSchema>)) {
    yield* walk(child, `${path}.${name}`);
  }
  if (schema.items) yield* walk(schema.items as JSONSchema, `${path}[]`);
  if (typeof schema.additionalProperties === 'object') yield* walk(schema.additionalProperties as JSONSchema, `${path}{}`);
}

function specAndStatusNodes(kind: string): [string, JSONSchema][] {
  const root = openAPISchema(getKind(kind));
  const properties = root.properties as Record<string, JSONSchema>;
  return [...walk(properties.spec!, 'spec'), ...walk(properties.status!, 'status')];
}

const kinds = ALL_KINDS.map((def) => def.kind);

describe('generated CRDs', () => {
  it('crds/ holds exactly what `npm run generate` writes', () => {
    expect(findStale(CRDS_DIR, generatedCRDs())).toEqual({ outdated: [], extra: [] });
  });

  it('schemas/ holds the manifest JSON Schemas `npm run generate` writes, closed objects with no Kubernetes annotations', () => {
    for (const [name, content] of generatedSchemas()) {
      expect(readFileSync(join(SCHEMAS_DIR, name), 'utf8'), name).toBe(content);
      expect(content).not.toContain('x-kubernetes-');
      expect(JSON.parse(content).additionalProperties).toBe(false);
    }
  });

  it.each(kinds)('every schema node of %s under spec and status has a description and a type', (kind) => {
    const missing = specAndStatusNodes(kind)
      .filter(([, node]) => typeof node.description !== 'string' || node.description === '' || typeof node.type !== 'string')
      .map(([path]) => path);
    expect(missing).toEqual([]);
  });

  it.each(kinds)('the %s schema is structural: no anyOf, oneOf, allOf, not or patternProperties', (kind) => {
    const forbidden = ['anyOf', 'oneOf', 'allOf', 'not', 'patternProperties', '$ref', 'const'];
    const offenders = specAndStatusNodes(kind).flatMap(([path, node]) => forbidden.filter((keyword) => keyword in node).map((keyword) => `${path}: ${keyword}`));
    expect(offenders).toEqual([]);
  });

  it.each(kinds)('every string and list of %s is bounded, so CEL cost estimation accepts rules on them', (kind) => {
    const unbounded = specAndStatusNodes(kind)
      .filter(([, node]) => (node.type === 'string' && node.maxLength === undefined && node.enum === undefined) || (node.type === 'array' && node.maxItems === undefined))
      .map(([path]) => path);
    expect(unbounded).toEqual([]);
  });

  it.each(kinds)('%s has a short name, the miniapps-all category, and Ready and Age printer columns', (kind) => {
    const def = getKind(kind);
    expect(def.shortNames.length).toBeGreaterThan(0);
    expect(def.categories).toEqual(['miniapps-all']);
    const columns = def.printerColumns.map((c) => `${c.name}:${c.type}:${c.jsonPath}`);
    expect(columns).toContain('Ready:string:.status.conditions[?(@.type=="Ready")].status');
    expect(columns).toContain('Age:date:.metadata.creationTimestamp');
  });

  it.each(kinds)('the %s CRD is named plural.group, labelled part-of, and has a status subresource', (kind) => {
    const def = getKind(kind);
    const crd = toCRD(def);
    expect(crd.metadata.name).toBe(`${def.plural}.miniapps.dev`);
    expect(crd.metadata.labels['app.kubernetes.io/part-of']).toBe('miniapps-operator');
    expect(crd.spec.versions[0]!.subresources).toEqual({ status: {} });
  });

  it('no two kinds share a plural or a short name', () => {
    const names = ALL_KINDS.flatMap((def) => [def.plural, ...def.shortNames]);
    expect(new Set(names).size).toBe(names.length);
  });

  it('the status conditions of every kind are a map keyed by type', () => {
    for (const def of ALL_KINDS) {
      const conditions = (openAPISchema(def).properties as Record<string, JSONSchema>).status!.properties as Record<string, JSONSchema>;
      expect(conditions.conditions).toMatchObject({
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['type'],
      });
    }
  });
});

/** The rules x-kubernetes-validations holds at `path` (`''` is the root). */
function rulesAt(kind: string, path: string): string[] {
  let node = openAPISchema(getKind(kind));
  for (const name of path.split('.').filter(Boolean)) node = (node.properties as Record<string, JSONSchema>)[name]!;
  return ((node['x-kubernetes-validations'] ?? []) as { rule: string }[]).map((r) => r.rule);
}

// ajv cannot evaluate CEL; these pin each rule to its node. The API server runs them
// in the integration tests.
describe('CEL rules', () => {
  it.each([
    ['a PlatformConfig must be named default', 'PlatformConfig', '', "self.metadata.name == 'default'"],
    ['an Intent mini app needs a domain', 'MiniApp', 'spec', "self.type != 'Intent' || has(self.domain)"],
    ['a published version must be one of the versions', 'MiniApp', 'spec', '!has(self.publishedVersion) || (has(self.versions) && self.versions.exists(v, v.name == self.publishedVersion))'],
    ['an ApiKey has exactly one of expiresAt and ttl', 'ApiKey', 'spec', 'has(self.expiresAt) != has(self.ttl)'],
    ['an ApiKey owner is immutable', 'ApiKey', 'spec.owner', 'self == oldSelf'],
    ['a Solution has exactly one of manifest and manifestFrom', 'Solution', 'spec', 'has(self.manifest) != has(self.manifestFrom)'],
    ['a Membership email is immutable', 'Membership', 'spec.email', 'self == oldSelf'],
    [
      'an Organization namespace cannot move',
      'Organization',
      'spec',
      'has(self.__namespace__) == has(oldSelf.__namespace__) && (!has(self.__namespace__) || self.__namespace__ == oldSelf.__namespace__)',
    ],
    ['a Tenant namespace cannot move', 'Tenant', 'spec', 'has(self.__namespace__) == has(oldSelf.__namespace__) && (!has(self.__namespace__) || self.__namespace__ == oldSelf.__namespace__)'],
  ])('%s', (_, kind, path, rule) => {
    expect(rulesAt(kind, path)).toContain(rule);
  });

  it('every rule has a message that says how to fix it', () => {
    const rules = ALL_KINDS.flatMap((def) => [...walk(openAPISchema(def), '')].flatMap(([, node]) => (node['x-kubernetes-validations'] ?? []) as { message?: string }[]));
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) expect(rule.message).toMatch(/.{20,}/);
  });
});
