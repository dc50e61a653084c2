// Shared pieces of the miniapps.dev API: group and version, object metadata,
// the condition shape, field builders that always carry a description, and the
// KindDefinition every kind module exports. From a KindDefinition come the CRD
// (crd.ts), the ajv validator (validate.ts) and, through Static, the TS types.

import type { ObjectMetaLike, OwnerReference } from '../runtime/kube/client.ts';
import { Type } from '@sinclair/typebox';
import type { ArrayOptions, IntegerOptions, ObjectOptions, SchemaOptions, Static, StringOptions, TArray, TObject, TProperties, TSchema, TUnsafe } from '@sinclair/typebox';
import { CATEGORY, RESERVED_NAMESPACES } from './constants.ts';
import type { KindNames as KindIdentity } from './registry.ts';

export { GROUP, VERSION, API_VERSION, CATEGORY, CONFIRM_DELETE_ANNOTATION, CONFIRM_DELETE_VALUE } from './constants.ts';

// ---------------------------------------------------------------------------
// Object metadata, as plain JSON from the API server.

export type { OwnerReference };

/** Metadata of this API's objects: the runtime's, with the name always set. */
export type ObjectMeta = ObjectMetaLike & { name: string };

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
}

/** A custom resource of this API: metadata, the user's spec, the operator's status. */
export type Resource<Spec, Status> = KubeObject & { spec: Spec; status?: Status };

// ---------------------------------------------------------------------------
// Patterns. They are RE2- and ECMAScript-compatible, so the API server and ajv
// enforce the same thing.

export const Patterns = {
  /** RFC 1123 label: namespaces and most object names. */
  dnsLabel: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
  /** RFC 1123 subdomain: ConfigMap, Secret and custom resource names. */
  dnsSubdomain: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
  /** Deliberately permissive: one @, no spaces, a dot in the domain. */
  email: '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$',
  /** Go duration (time.ParseDuration), e.g. `168h`, `90m`, `1h30m`. */
  duration: '^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$',
  /** ConfigMap and Secret data keys. */
  configKey: '^[-._a-zA-Z0-9]+$',
  /** Versions of apps and solutions: `1.2.0`, `v2`, `2024.1-rc1`. */
  version: '^[0-9A-Za-z]([0-9A-Za-z.+_-]*[0-9A-Za-z])?$',
  /** Condition reasons: PascalCase-like identifiers (metav1.Condition). */
  reason: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
  /** Condition types (metav1.Condition). */
  conditionType: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
} as const;

// ---------------------------------------------------------------------------
// Field builders. Each takes the description first, so no field goes without
// one (kubectl explain shows it); options add bounds, defaults and the like.

export function Str(description: string, options: StringOptions = {}): ReturnType<typeof Type.String> {
  return Type.String({ description, ...options });
}

export function Int(description: string, options: IntegerOptions = {}): ReturnType<typeof Type.Integer> {
  return Type.Integer({ format: 'int32', description, ...options });
}

export function Int64(description: string, options: IntegerOptions = {}): ReturnType<typeof Type.Integer> {
  return Type.Integer({ format: 'int64', description, ...options });
}

export function Bool(description: string, options: SchemaOptions = {}): ReturnType<typeof Type.Boolean> {
  return Type.Boolean({ description, ...options });
}

export function List<T extends TSchema>(items: T, description: string, options: ArrayOptions = {}): TArray<T> {
  return Type.Array(items, { description, ...options });
}

export function Obj<P extends TProperties>(properties: P, description: string, options: ObjectOptions = {}): TObject<P> {
  return Type.Object(properties, { description, ...options });
}

/**
 * A string restricted to `values`, emitted as `{type: string, enum: [...]}`
 * (a structural CRD schema needs enum, not TypeBox's anyOf of literals) and
 * typed as the union of the literals.
 */
export function StringEnum<const V extends readonly string[]>(values: V, description: string, options: SchemaOptions = {}): TUnsafe<V[number]> {
  return Type.Unsafe<V[number]>({ type: 'string', enum: [...values], description, ...options });
}

export const Optional = Type.Optional;

export function Email(description: string, options: StringOptions = {}) {
  return Str(description, { pattern: Patterns.email, maxLength: 254, ...options });
}

export function Duration(description: string, options: StringOptions = {}) {
  return Str(`${description} A Go duration such as \`168h\`, \`30m\` or \`1h30m\`.`, {
    pattern: Patterns.duration,
    maxLength: 64,
    ...options,
  });
}

export function Timestamp(description: string) {
  return Str(`${description} RFC 3339 date-time.`, { format: 'date-time', maxLength: 64 });
}

/** The name of a namespaced object (a DNS-1123 subdomain). */
export function ObjectName(description: string, options: StringOptions = {}) {
  return Str(description, { pattern: Patterns.dnsSubdomain, minLength: 1, maxLength: 253, ...options });
}

/** A name that becomes, or names, a namespace or another label-sized name. */
export function LabelName(description: string, options: StringOptions = {}) {
  return Str(description, { pattern: Patterns.dnsLabel, minLength: 1, maxLength: 63, ...options });
}

export function Version(description: string, options: StringOptions = {}) {
  return Str(description, { pattern: Patterns.version, minLength: 1, maxLength: 64, ...options });
}

/** A list of distinct strings (`x-kubernetes-list-type: set`). */
export function StringSet<T extends TSchema>(items: T, description: string, maxItems: number) {
  return List(items, description, { maxItems, 'x-kubernetes-list-type': 'set' });
}

/** List options for a list of objects keyed, for server-side apply, by `keys`. */
export function mapList(keys: readonly string[], maxItems: number): ArrayOptions {
  return { maxItems, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': [...keys] };
}

// ---------------------------------------------------------------------------
// Shared references.

/** A reference to a ConfigMap or Secret key in the referring object's namespace. */
export function KeyRef(what: string) {
  return Obj(
    {
      name: ObjectName(`Name of the ${what} in the same namespace.`),
      key: Str(`Key in the ${what}'s data.`, { pattern: Patterns.configKey, minLength: 1, maxLength: 253 }),
    },
    `A key of a ${what} in the same namespace.`,
  );
}

/**
 * Where a manifest (a Solution's, an AppManifest's) is read from instead of inline: a
 * ConfigMap key holding it as YAML, and the digest of the last good one in status.
 */
export function ManifestFrom(description: string) {
  return Optional(Obj({ configMapKeyRef: KeyRef('ConfigMap') }, description));
}

export function ManifestDigest(description: string) {
  return Optional(Str(description, { maxLength: 128 }));
}

/** An object in an organization's namespace, named by organization and name. */
export function OrgRef(what: string, description: string) {
  return Obj(
    {
      organization: LabelName(`Organization that owns the ${what}.`),
      name: ObjectName(`Name of the ${what} in that organization's namespace.`),
    },
    description,
  );
}

/** Like OrgRef, but the organization defaults to the referring object's own. */
export function LocalOrgRef(what: string, description: string, defaultOrganization: string) {
  return Obj(
    {
      organization: Optional(LabelName(`Organization that owns the ${what}. Defaults to ${defaultOrganization}.`)),
      name: ObjectName(`Name of the ${what} in that organization's namespace.`),
    },
    description,
  );
}

/**
 * The optional spec.namespace of an Organization or Tenant, and the rule that
 * keeps it from moving after creation.
 */
export function OwnNamespace(kind: 'Organization' | 'Tenant', prefixField: string) {
  return Optional(
    LabelName(
      `Name of the ${kind}'s namespace. Defaults to PlatformConfig ${prefixField} followed by the ${kind} name. ` +
        `An existing namespace is adopted only when the namespace itself opts in with the annotation \`miniapps.dev/adoptable-by: ${kind}/<name>\` ` +
        `(which only someone allowed to update the namespace can set) and no other Organization or Tenant claims it; an adopted namespace is released, not deleted, with its ${kind}. ` +
        `\`default\`, \`kube-*\` and the operator's own namespace are refused. Cannot be changed after creation.`,
    ),
  );
}

export function ownNamespaceRules(kind: 'Organization' | 'Tenant'): CelRule[] {
  return [
    {
      // `namespace` is a CEL reserved word: the API server exposes the field as `__namespace__`.
      rule: 'has(self.__namespace__) == has(oldSelf.__namespace__) && (!has(self.__namespace__) || self.__namespace__ == oldSelf.__namespace__)',
      message: `spec.namespace cannot be set, changed or removed after the ${kind} is created; create a new ${kind} to use another namespace`,
      fieldPath: '.namespace',
    },
    {
      // The cluster's own namespaces are never an organization's or tenant's (the operator's
      // own namespace depends on its configuration: an admission policy refuses that one).
      rule: `!has(self.__namespace__) || !(self.__namespace__ == '${RESERVED_NAMESPACES.exact[0]}' || self.__namespace__.startsWith('${RESERVED_NAMESPACES.prefix}'))`,
      message: `spec.namespace may not be "${RESERVED_NAMESPACES.exact[0]}" or start with "${RESERVED_NAMESPACES.prefix}": those namespaces belong to the cluster; choose another name`,
      fieldPath: '.namespace',
    },
  ];
}

// ---------------------------------------------------------------------------
// CEL validation rules (x-kubernetes-validations).

export interface CelRule {
  /** CEL expression evaluated with `self` (and `oldSelf` for transition rules). */
  rule: string;
  /** What is wrong and how to fix it. */
  message: string;
  /** JSONPath of the field the error is reported on, relative to the node. */
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

export function celRules(...rules: CelRule[]): { 'x-kubernetes-validations': CelRule[] } {
  return { 'x-kubernetes-validations': rules };
}

/** A field that cannot change once written. */
export function immutable(field: string, hint: string): { 'x-kubernetes-validations': CelRule[] } {
  return celRules({ rule: 'self == oldSelf', message: `${field} is immutable; ${hint}` });
}

// ---------------------------------------------------------------------------
// Status: the Kubernetes condition shape and the base every status extends.

export const ConditionStatusValues = ['True', 'False', 'Unknown'] as const;

export const ConditionSchema = Obj(
  {
    type: Str('Type of the condition, in CamelCase, e.g. `Ready`.', {
      pattern: Patterns.conditionType,
      maxLength: 316,
    }),
    status: StringEnum(ConditionStatusValues, 'Status of the condition: True, False or Unknown.'),
    reason: Str('Machine-readable reason for the last transition, in PascalCase.', {
      pattern: Patterns.reason,
      minLength: 1,
      maxLength: 1024,
    }),
    message: Str('Human-readable message: when False, what is wrong and how to fix it.', { maxLength: 32768 }),
    lastTransitionTime: Timestamp('When the condition last changed from one status to another.'),
    observedGeneration: Optional(Int64('The .metadata.generation the condition was computed from.', { minimum: 0 })),
  },
  'One aspect of the current state of the object.',
);

export type Condition = Static<typeof ConditionSchema>;
export type ConditionStatus = Condition['status'];

export const ConditionsSchema = List(ConditionSchema, 'Latest observations of the object, one per condition type. Every kind has `Ready`.', mapList(['type'], 32));

export const statusBaseProperties = {
  observedGeneration: Optional(Int64('The .metadata.generation the status was computed from.', { minimum: 0 })),
  conditions: Optional(ConditionsSchema),
};

/** A kind's status schema: observedGeneration, conditions and the kind's own fields. */
export function Status<P extends TProperties>(properties: P, description: string) {
  return Obj({ ...statusBaseProperties, ...properties }, description);
}

// biome-ignore lint/complexity/noBannedTypes: a status with no fields of its own besides the common ones
export type StatusBase = Static<ReturnType<typeof Status<{}>>>;

// ---------------------------------------------------------------------------
// Printer columns.

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description: string;
  priority?: number;
  format?: string;
}

export const ReadyColumn: PrinterColumn = {
  name: 'Ready',
  type: 'string',
  jsonPath: '.status.conditions[?(@.type=="Ready")].status',
  description: 'Whether the object is ready (status of the Ready condition).',
};

export const ReasonColumn: PrinterColumn = {
  name: 'Reason',
  type: 'string',
  jsonPath: '.status.conditions[?(@.type=="Ready")].reason',
  description: 'Reason of the Ready condition.',
  priority: 1,
};

export const AgeColumn: PrinterColumn = {
  name: 'Age',
  type: 'date',
  jsonPath: '.metadata.creationTimestamp',
  description: 'Time since the object was created.',
};

/** The kind's own columns, then Ready, Reason (wide output) and Age. */
export function printerColumns(...columns: PrinterColumn[]): PrinterColumn[] {
  return [...columns, ReadyColumn, ReasonColumn, AgeColumn];
}

export function column(name: string, jsonPath: string, description: string, type: PrinterColumn['type'] = 'string', priority?: number): PrinterColumn {
  return priority === undefined ? { name, type, jsonPath, description } : { name, type, jsonPath, description, priority };
}

// ---------------------------------------------------------------------------
// The definition of a kind: everything toCRD needs.

export interface KindDefinition {
  kind: string;
  plural: string;
  singular: string;
  listKind: string;
  shortNames: string[];
  scope: 'Cluster' | 'Namespaced';
  categories: string[];
  /** One or two sentences: what the kind is and what the operator does with it. */
  description: string;
  specSchema: TObject;
  statusSchema: TObject;
  printerColumns: PrinterColumn[];
  /** CEL rules on spec that span several of its fields. */
  specRules: CelRule[];
  /** CEL rules on the whole object, e.g. on metadata.name. */
  rootRules: CelRule[];
}

/** The kind's KIND_NAMES entry (constants.ts), its short names and its description. */
type KindNames = KindIdentity & Pick<KindDefinition, 'shortNames' | 'description'>;

/** Fills in the derived names (singular, listKind, categories) and empty rule lists. */
export function defineKind(
  names: KindNames,
  schemas: Pick<KindDefinition, 'specSchema' | 'statusSchema' | 'printerColumns'> & Partial<Pick<KindDefinition, 'specRules' | 'rootRules'>>,
): KindDefinition {
  return {
    ...names,
    singular: names.kind.toLowerCase(),
    listKind: `${names.kind}List`,
    categories: [CATEGORY],
    specRules: [],
    rootRules: [],
    ...schemas,
  };
}
