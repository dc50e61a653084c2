// ajv validators compiled from the same schemas as the CRDs. They check what the
// API server's structural schema checks (types, enums, patterns, bounds,
// required fields), and reject unknown fields as `fieldValidation=Strict` does.
// They cannot evaluate CEL rules (x-kubernetes-validations): those are
// annotations here and are enforced by the API server only.

import { Ajv } from 'ajv';
import type { AnySchemaObject, ErrorObject, FuncKeywordDefinition, SchemaValidateFunction, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { TSchema } from '@sinclair/typebox';
import { API_VERSION } from './common.ts';
import { openAPISchema, plainSchema } from './crd.ts';
import type { JSONSchema } from './crd.ts';
import { getKind } from './index.ts';

export interface ValidationError {
  /** Where, e.g. `spec.apps[0].kind`; empty for the value itself. */
  path: string;
  message: string;
}

export type ValidationResult = { ok: true } | { ok: false; errors: ValidationError[] };

export type Validator = (value: unknown) => ValidationResult;

/** Annotations for ajv; the API server acts on them. */
const KUBERNETES_KEYWORDS = [
  'x-kubernetes-validations',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-embedded-resource',
  'x-kubernetes-int-or-string',
];

/** The index of the first item whose identity (the whole item, or its map keys) repeats an earlier one. */
function firstDuplicate(items: unknown[], keys: string[] | undefined): number {
  const seen = new Set<string>();
  return items.findIndex((item) => {
    const identity = JSON.stringify(keys ? keys.map((k) => (item as Record<string, unknown>)[k]) : item);
    return seen.size === seen.add(identity).size;
  });
}

/** `x-kubernetes-list-type` set and map: the API server refuses duplicates, and so does ajv. */
const listTypeKeyword: FuncKeywordDefinition = {
  keyword: 'x-kubernetes-list-type',
  type: 'array',
  errors: true,
  validate: function validateListType(listType: string, data: unknown[], parent?: AnySchemaObject): boolean {
    const self = validateListType as SchemaValidateFunction;
    if (listType !== 'set' && listType !== 'map') return true;
    const keys = listType === 'map' ? (parent?.['x-kubernetes-list-map-keys'] as string[]) : undefined;
    const index = firstDuplicate(data, keys);
    if (index < 0) return true;
    const what = keys ? `the same ${keys.join(' and ')} as an earlier item` : 'a duplicate';
    self.errors = [{ keyword: 'x-kubernetes-list-type', message: `must not hold duplicates: item ${index} has ${what}`, params: { index } }];
    return false;
  },
};

function newAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false });
  addFormats.default(ajv);
  for (const keyword of KUBERNETES_KEYWORDS) ajv.addKeyword({ keyword });
  ajv.addKeyword(listTypeKeyword);
  return ajv;
}

/** Adds `additionalProperties: false` to every object that declares its properties. */
function closed(schema: JSONSchema): JSONSchema {
  const out: JSONSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'properties') {
      out[key] = Object.fromEntries(Object.entries(value as Record<string, JSONSchema>).map(([name, child]) => [name, closed(child)]));
    } else if (key === 'items' || key === 'additionalProperties') {
      out[key] = typeof value === 'object' && value !== null ? closed(value as JSONSchema) : value;
    } else {
      out[key] = value;
    }
  }
  if (schema.properties && !('additionalProperties' in schema)) out.additionalProperties = false;
  return out;
}

function pathOf(error: ErrorObject): string {
  const segments = error.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
  if (error.keyword === 'required') segments.push(String(error.params.missingProperty));
  if (error.keyword === 'additionalProperties') segments.push(String(error.params.additionalProperty));
  return segments.reduce((path, s) => (/^\d+$/.test(s) ? `${path}[${s}]` : path ? `${path}.${s}` : s), '');
}

function messageOf(error: ErrorObject): string {
  switch (error.keyword) {
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return 'is not a field of this kind';
    case 'enum':
      return `must be one of ${(error.params.allowedValues as unknown[]).join(', ')}`;
    case 'const':
      return `must be ${String(error.params.allowedValue)}`;
    default:
      return error.message ?? `fails ${error.keyword}`;
  }
}

function toResult(validate: ValidateFunction, value: unknown): ValidationResult {
  if (validate(value)) return { ok: true };
  const errors = (validate.errors ?? []).map((e) => ({ path: pathOf(e), message: messageOf(e) }));
  return { ok: false, errors };
}

let shared: Ajv | undefined;
const compiled = new Map<string, ValidateFunction>();

function compileCached(key: string, schema: () => JSONSchema): ValidateFunction {
  let fn = compiled.get(key);
  if (!fn) {
    shared ??= newAjv();
    fn = shared.compile(closed(schema()));
    compiled.set(key, fn);
  }
  return fn;
}

/** A validator for any schema of this API, e.g. SolutionManifestSchema for a manifest read from a ConfigMap. */
export function compileValidator(schema: TSchema): Validator {
  const validate = newAjv().compile(closed(plainSchema(schema)));
  return (value) => toResult(validate, value);
}

/**
 * Validates a whole object of `kind` (e.g. `Membership`): apiVersion and kind,
 * when present, must be this API's; spec and status must match their schemas.
 * Throws for an unknown kind.
 */
export function validate(kind: string, object: unknown): ValidationResult {
  const def = getKind(kind);
  const fn = compileCached(`object:${kind}`, () => {
    const root = openAPISchema(def);
    const properties = root.properties as Record<string, JSONSchema>;
    return {
      ...root,
      properties: {
        ...properties,
        apiVersion: { ...properties.apiVersion, const: API_VERSION },
        kind: { ...properties.kind, const: def.kind },
      },
    };
  });
  return toResult(fn, object);
}

/** Validates a spec of `kind` on its own; paths start at the spec's fields (e.g. `role`). */
export function validateSpec(kind: string, spec: unknown): ValidationResult {
  const def = getKind(kind);
  return toResult(
    compileCached(`spec:${kind}`, () => plainSchema(def.specSchema)),
    spec,
  );
}
