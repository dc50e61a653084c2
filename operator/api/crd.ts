// From a KindDefinition to an apiextensions.k8s.io/v1 CustomResourceDefinition
// with a structural schema, and to the YAML committed in crds/.

import { stringify } from 'yaml';
import type { TSchema } from '@sinclair/typebox';
import { GROUP, VERSION } from './common.ts';
import type { CelRule, KindDefinition, PrinterColumn } from './common.ts';

/** A JSON Schema node as plain JSON (no TypeBox symbols). */
export type JSONSchema = { [keyword: string]: unknown };

export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels: Record<string, string> };
  spec: {
    group: string;
    names: {
      kind: string;
      listKind: string;
      plural: string;
      singular: string;
      shortNames: string[];
      categories: string[];
    };
    scope: 'Cluster' | 'Namespaced';
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      schema: { openAPIV3Schema: JSONSchema };
      subresources: { status: Record<string, never> };
      additionalPrinterColumns: PrinterColumn[];
    }[];
  };
}

export const CRD_LABELS = { 'app.kubernetes.io/part-of': 'miniapps-operator' } as const;

/** Schema keywords first in a node, for readable YAML; the rest follow alphabetically. */
const LEADING_KEYWORDS = ['description', 'type'];

function keywordOrder(a: string, b: string): number {
  const rank = (k: string) => (LEADING_KEYWORDS.includes(k) ? LEADING_KEYWORDS.indexOf(k) : LEADING_KEYWORDS.length);
  return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
}

/**
 * A TypeBox schema as plain JSON: symbols and `$id` dropped, keywords of each
 * node in a fixed order (properties keep their declared order).
 */
export function plainSchema(schema: TSchema): JSONSchema {
  return JSON.parse(JSON.stringify(schema), (key, value: unknown) => {
    if (key === '$id') return undefined;
    if (typeof value === 'object' && value !== null && !Array.isArray(value) && 'type' in value) {
      return Object.fromEntries(Object.entries(value).sort(([a], [b]) => keywordOrder(a, b)));
    }
    return value;
  }) as JSONSchema;
}

function withRules(schema: JSONSchema, rules: readonly CelRule[]): JSONSchema {
  if (rules.length === 0) return schema;
  const existing = (schema['x-kubernetes-validations'] as CelRule[] | undefined) ?? [];
  return { ...schema, 'x-kubernetes-validations': [...existing, ...rules] };
}

/** The CRD's openAPIV3Schema: apiVersion, kind, metadata, spec (with the spec rules) and status. */
export function openAPISchema(def: KindDefinition): JSONSchema {
  let spec = withRules(plainSchema(def.specSchema), def.specRules);
  const specRequired = Array.isArray(spec.required) && spec.required.length > 0;
  // A spec without required fields may be left out; default it so its fields' defaults apply.
  if (!specRequired) spec = { ...spec, default: {} };
  return withRules(
    {
      description: def.description,
      type: 'object',
      properties: {
        apiVersion: {
          description:
            'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources',
          type: 'string',
        },
        kind: {
          description:
            'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds',
          type: 'string',
        },
        metadata: { type: 'object' },
        spec,
        status: plainSchema(def.statusSchema),
      },
      ...(specRequired ? { required: ['spec'] } : {}),
    },
    def.rootRules,
  );
}

export function crdName(def: KindDefinition): string {
  return `${def.plural}.${GROUP}`;
}

export function toCRD(def: KindDefinition): CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: crdName(def), labels: { ...CRD_LABELS } },
    spec: {
      group: GROUP,
      names: {
        kind: def.kind,
        listKind: def.listKind,
        plural: def.plural,
        singular: def.singular,
        shortNames: [...def.shortNames],
        categories: [...def.categories],
      },
      scope: def.scope,
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: openAPISchema(def) },
          subresources: { status: {} },
          additionalPrinterColumns: def.printerColumns.map((c) => ({ ...c })),
        },
      ],
    },
  };
}

/** File name of the kind's CRD in crds/. */
export function crdFileName(def: KindDefinition): string {
  return `${crdName(def)}.yaml`;
}

export const GENERATED_HEADER = "# Generated by `npm run generate` from operator/api. Do not edit: change the kind's module and run it again.\n";

/** The committed YAML of the kind's CRD. */
export function renderCRD(def: KindDefinition): string {
  return GENERATED_HEADER + stringify(toCRD(def), { lineWidth: 0 });
}
