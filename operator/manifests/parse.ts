// Reading a manifest file (the seed's "uploaded artifact"): YAML, validated against the
// JSON Schema the project publishes in schemas/ (generated from operator/api/manifests.ts),
// then the checks JSON Schema cannot say (a group named twice). Every problem names the
// file, line, column and field path: `manifest.yaml:14:9 userGroupsRequired[1].roles[0]:
// must match role:<listingId>:<roleName>`.
//
// The operator process loads yaml, ajv and the schema files only when it reads its first
// manifest file (operator/app.imports.test.ts keeps the start small), never TypeBox.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Document, LineCounter, Node } from 'yaml';
import { SolutionReasons } from '../api/solution/names.ts';
import { groupObjectName } from '../api/usergroup/names.ts';
import type { ManifestUserGroup } from '../api/usergroup/schema.ts';
import type { SolutionManifest } from '../api/solution/schema.ts';
import type { AppManifestFile } from '../api/manifests.ts';

export type ManifestKind = 'solution' | 'app';

/** A solution manifest file as parsed (the inline spec.manifest plus solutionId and version). */
export type SolutionManifestFile = SolutionManifest & { solutionId: string; version?: string };

/** What parseManifestFile gives for each kind. */
export type ManifestFileOf<K extends ManifestKind> = K extends 'solution' ? SolutionManifestFile : AppManifestFile;

export interface ManifestProblem {
  /** 1-based, when the problem is at a place in the file. */
  line?: number;
  col?: number;
  /** Field path, e.g. `userGroupsRequired[1].roles[0]`; empty for the document. */
  path: string;
  message: string;
}

export type ManifestReason = typeof SolutionReasons.ManifestNotYAML | typeof SolutionReasons.ManifestSchemaInvalid | typeof SolutionReasons.ManifestInconsistent;

export type ParseResult<T> =
  | { ok: true; manifest: T /** Line and column of a field of the file. */; locate: (segments: (string | number)[]) => { line?: number; col?: number } }
  | { ok: false; reason: ManifestReason; problems: ManifestProblem[] };

const SCHEMA_FILES: Record<ManifestKind, string> = { solution: 'solution-manifest.schema.json', app: 'app-manifest.schema.json' };
const SCHEMAS_DIR = new URL('../../schemas/', import.meta.url);

type ValidateFn = ((data: unknown) => boolean) & { errors?: AjvError[] | null };
interface AjvError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
  schema?: unknown;
  parentSchema?: { pattern?: string; description?: string };
}

const validators = new Map<ManifestKind, ValidateFn>();

/** The validator of the published schema file (compiled once, on first use). */
async function validatorFor(kind: ManifestKind): Promise<ValidateFn> {
  let fn = validators.get(kind);
  if (fn) return fn;
  const { Ajv2020 } = (await import('ajv/dist/2020.js')) as unknown as { Ajv2020: new (opts: object) => { compile(schema: unknown): ValidateFn } };
  const schema = JSON.parse(readFileSync(new URL(SCHEMA_FILES[kind], SCHEMAS_DIR), 'utf8')) as unknown;
  // int32 and int64 are OpenAPI's formats (the CRDs'): annotations here, the bounds are in the schema.
  fn = new Ajv2020({ allErrors: true, strict: false, formats: { int32: true, int64: true } }).compile(schema);
  validators.set(kind, fn);
  return fn;
}

/** `file:line:col path: message` (without line and column when there is no place). */
export function formatProblem(file: string, p: ManifestProblem): string {
  const where = p.line !== undefined ? `${file}:${p.line}:${p.col}` : file;
  return `${where} ${p.path ? `${p.path}: ` : ''}${p.message}`;
}

/** Every problem on one line each, at most `max` of them (then how many more). */
export function formatProblems(file: string, problems: readonly ManifestProblem[], max = 20): string {
  const shown = problems.slice(0, max).map((p) => formatProblem(file, p));
  if (problems.length > max) shown.push(`... and ${problems.length - max} more`);
  return shown.join('; ');
}

const pathString = (segments: readonly (string | number)[]) => segments.reduce<string>((path, s) => (typeof s === 'number' ? `${path}[${s}]` : path ? `${path}.${s}` : s), '');

function segmentsOf(instancePath: string): (string | number)[] {
  return instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** The messages people read: the role format spelled out, the rest as JSON Schema says. */
function messageOf(e: AjvError): string {
  switch (e.keyword) {
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return 'is not a field of this manifest';
    case 'pattern': {
      const pattern = String(e.params.pattern);
      if (pattern.startsWith('^platform:role:')) return 'must match platform:role:<listingId>:<roleName>';
      if (pattern.startsWith('^role:')) return 'must match role:<listingId>:<roleName>';
      if (pattern.startsWith('^[A-Za-z0-9]([A-Za-z0-9 ._-]')) return 'must be a group name: letters, digits, spaces, `.`, `_` and `-`, starting and ending with a letter or digit';
      if (pattern.startsWith('^(https://')) return 'must be an https:// URL or a path starting with a single / (no other scheme: javascript:, http:)';
      return `must match ${pattern}`;
    }
    case 'uniqueItems':
      return `repeats item ${Math.min(Number(e.params.i), Number(e.params.j))}: a list of roles holds each once`;
    case 'type':
      return `must be ${String(e.params.type)}`;
    case 'anyOf':
      return 'has none of the forms this field takes (see the schema: schemas/)';
    default:
      return e.message ?? `fails ${e.keyword}`;
  }
}

type Yaml = typeof import('yaml');

class Locator {
  private readonly doc: Document;
  private readonly lines: LineCounter;
  private readonly y: Yaml;
  constructor(y: Yaml, doc: Document, lines: LineCounter) {
    this.y = y;
    this.doc = doc;
    this.lines = lines;
  }

  /** Line and column of the node at `segments` (or of the key `key` in it), else of its nearest parent that exists. */
  at(segments: readonly (string | number)[], key?: string): { line?: number; col?: number } {
    const { isMap, isNode, isPair, isScalar } = this.y;
    for (let n = segments.length; n >= 0; n--) {
      const node = n === 0 ? this.doc.contents : (this.doc.getIn(segments.slice(0, n), true) as unknown);
      if (!isNode(node)) continue;
      if (key !== undefined && n === segments.length && isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === key);
        if (pair && isNode(pair.key) && pair.key.range) return this.pos(pair.key.range[0]);
      }
      if ((node as Node).range) return this.pos((node as Node).range![0]);
    }
    return {};
  }

  private pos(offset: number) {
    const { line, col } = this.lines.linePos(offset);
    return { line, col };
  }
}

/** The groups of a manifest with the field path of each list. */
function groupLists(kind: ManifestKind, manifest: Record<string, unknown>): { field: string; groups: ManifestUserGroup[] }[] {
  const fields = kind === 'solution' ? ['userGroupsRequired', 'adminUserGroups'] : ['userGroups'];
  return fields.map((field) => ({ field, groups: (manifest[field] as ManifestUserGroup[] | undefined) ?? [] }));
}

/** An adminUserGroups entry that only names a group (the seed's `- solutions admin`, or `- name: solutions admin`). */
const namesOnly = (g: ManifestUserGroup) => Object.keys(g).every((k) => k === 'name');

/**
 * What JSON Schema cannot say: no group named twice (by the UserGroup name it makes, so
 * `Field Executive` and `field-executive` are one group), in one list or across
 * userGroupsRequired and adminUserGroups; except that an adminUserGroups entry that only
 * names a group may name one of userGroupsRequired (its administrators get that group).
 * Paths start at `prefix` (e.g. `spec.manifest`).
 */
export function duplicateGroupProblems(kind: ManifestKind, manifest: Record<string, unknown>, locate?: (segments: (string | number)[]) => { line?: number; col?: number }): ManifestProblem[] {
  const seen = new Map<string, string>();
  const problems: ManifestProblem[] = [];
  for (const { field, groups } of groupLists(kind, manifest)) {
    groups.forEach((g, i) => {
      const objectName = groupObjectName(g.name);
      const segments = [field, i, 'name'];
      const first = seen.get(objectName);
      if (first && field === 'adminUserGroups' && namesOnly(g) && first.startsWith('userGroupsRequired[')) return;
      if (first) {
        problems.push({
          ...(locate?.(segments) ?? {}),
          path: pathString(segments),
          message: `names the group "${g.name}" again (as UserGroup ${objectName}, already named at ${first}); a group may appear once`,
        });
      } else seen.set(objectName, pathString(segments));
    });
  }
  return problems;
}

/** SHA-256 (hex) of the manifest's canonical JSON: formatting and comments do not change it. */
export function manifestDigest(manifest: unknown): string {
  return createHash('sha256').update(canonicalJson(manifest)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Parses and validates a manifest file: YAML (one document), the published JSON Schema,
 * then duplicate groups. A problem with no place (an empty file) has no line.
 */
export async function parseManifestFile<K extends ManifestKind>(kind: K, text: string): Promise<ParseResult<ManifestFileOf<K>>> {
  const y = await import('yaml');
  const lines = new y.LineCounter();
  const doc = y.parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const locator = new Locator(y, doc, lines);
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => {
      const { line, col } = lines.linePos(e.pos[0]);
      return { line, col, path: '', message: `is not YAML: ${e.message.split('\n')[0]}` };
    });
    return { ok: false, reason: SolutionReasons.ManifestNotYAML, problems };
  }
  const value: unknown = doc.toJS({ maxAliasCount: 100 });
  if (value === null || value === undefined) return { ok: false, reason: SolutionReasons.ManifestSchemaInvalid, problems: [{ path: '', message: 'is empty: a manifest is a YAML mapping' }] };
  const validate = await validatorFor(kind);
  if (!validate(value)) {
    const problems = dedupe(
      oneBranch(validate.errors ?? []).map((e) => {
        const segments = [...segmentsOf(e.instancePath), ...(e.keyword === 'uniqueItems' ? [Math.max(Number(e.params.i), Number(e.params.j))] : [])];
        const extra = e.keyword === 'required' ? String(e.params.missingProperty) : e.keyword === 'additionalProperties' ? String(e.params.additionalProperty) : undefined;
        const pos = locator.at(segments, e.keyword === 'additionalProperties' ? extra : undefined);
        return { ...pos, path: pathString(extra !== undefined ? [...segments, extra] : segments), message: messageOf(e) };
      }),
    );
    return { ok: false, reason: SolutionReasons.ManifestSchemaInvalid, problems };
  }
  normalize(kind, value as Record<string, unknown>);
  const dupes = duplicateGroupProblems(kind, value as Record<string, unknown>, (s) => locator.at(s));
  if (dupes.length > 0) return { ok: false, reason: SolutionReasons.ManifestInconsistent, problems: dupes };
  return { ok: true, manifest: value as ManifestFileOf<K>, locate: (segments) => locator.at(segments) };
}

/**
 * The seed's forms as the operator keeps them (status.manifest, the CRDs' shape): an
 * adminUserGroups entry that is a name becomes `{name}`; rolesRequired written `roles:`
 * under it becomes the list. The digest is of this form, so both writings are one manifest.
 */
function normalize(kind: ManifestKind, doc: Record<string, unknown>): void {
  if (kind === 'solution' && Array.isArray(doc.adminUserGroups)) doc.adminUserGroups = doc.adminUserGroups.map((g: unknown) => (typeof g === 'string' ? { name: g } : g));
  if (kind === 'app' && doc.rolesRequired && !Array.isArray(doc.rolesRequired)) doc.rolesRequired = (doc.rolesRequired as { roles?: unknown }).roles ?? [];
}

/**
 * A field that takes one of several forms (anyOf: a group's name or the group written whole;
 * rolesRequired as a list or under `roles:`) fails in every form; the errors of the form the
 * value has are the ones people read: the `type` errors of the other forms at that field and
 * the anyOf summary go, unless nothing else is left (then the value has none of the forms).
 */
function oneBranch(errors: AjvError[]): AjvError[] {
  const unions = errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath);
  if (unions.length === 0) return errors;
  return errors.filter((e) => {
    if (!unions.includes(e.instancePath) || (e.keyword !== 'anyOf' && e.keyword !== 'type')) return true;
    const deeper = errors.some((o) => o !== e && o.keyword !== 'anyOf' && o.keyword !== 'type' && (o.instancePath === e.instancePath || o.instancePath.startsWith(`${e.instancePath}/`)));
    return !deeper && e.keyword === 'anyOf';
  });
}

/** The same problem reported by several keywords (a pattern and its anyOf) once. */
function dedupe(problems: ManifestProblem[]): ManifestProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const k = `${p.line}:${p.col}:${p.path}:${p.message}`;
    return seen.size !== seen.add(k).size;
  });
}
