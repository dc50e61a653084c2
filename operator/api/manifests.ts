// The manifest files (the seed's "uploaded artifacts"): a solution manifest and an app
// manifest as YAML documents, from the same TypeBox schemas as the Solution and
// AppManifest CRDs. `npm run generate` publishes them as JSON Schema files in schemas/
// (for editors and CI pipelines: `# yaml-language-server: $schema=...`), and the
// operator validates the manifests it reads against those files (operator/manifests/).
//
// Plain JSON Schema (draft 2020-12), not the CRDs' structural schema: the Kubernetes
// list annotations become `uniqueItems` for sets, and a map list's duplicate keys (a
// group named twice) are checked by the parser, which JSON Schema cannot say.

import type { Static, TSchema } from '@sinclair/typebox';
import { Obj, Optional, Str, Version } from './common.ts';
import { plainSchema } from './crd.ts';
import type { JSONSchema } from './crd.ts';
import { AppManifestContentSchema, AppManifestIdentity, FileRolesRequired } from './appmanifest/schema.ts';
import { FileAdminUserGroups, SolutionManifestSchema } from './solution/schema.ts';

export const SolutionManifestFileSchema = Obj(
  {
    solutionId: Str("Identifier of the solution in the platform's marketplace; when the Solution's spec.solutionId is set, they must be equal.", {
      minLength: 1,
      maxLength: 128,
    }),
    version: Optional(Version("Version of the solution the manifest describes (informative; the Solution's spec.version is what subscriptions pin).")),
    ...SolutionManifestSchema.properties,
    adminUserGroups: Optional(FileAdminUserGroups),
  },
  'A solution manifest: the user groups every subscribing tenant gets (userGroupsRequired), those its administrators get in addition (adminUserGroups), and the app roles `role:<listingId>:<roleName>` each group holds.',
);

export const AppManifestFileSchema = Obj(
  { ...AppManifestIdentity, ...AppManifestContentSchema.properties, rolesRequired: Optional(FileRolesRequired) },
  "An app manifest: the app's own user groups and, for a frontend app, the roles its tokens may carry (rolesRequired).",
);

export type SolutionManifestFile = Static<typeof SolutionManifestFileSchema>;
export type AppManifestFile = Static<typeof AppManifestFileSchema>;

/** The published files: name under schemas/, schema, title. */
export const MANIFEST_SCHEMAS: readonly { file: string; schema: TSchema; title: string }[] = [
  { file: 'solution-manifest.schema.json', schema: SolutionManifestFileSchema, title: 'miniapps.dev solution manifest' },
  { file: 'app-manifest.schema.json', schema: AppManifestFileSchema as TSchema, title: 'miniapps.dev app manifest' },
];

export const SCHEMA_BASE_URI = 'https://miniapps.dev/schemas/';

/** Kubernetes' list annotations as JSON Schema: a set's items are unique; the rest is dropped. Every object is closed. */
function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (typeof node !== 'object' || node === null) return node;
  const out: JSONSchema = {};
  for (const [key, value] of Object.entries(node as JSONSchema)) {
    if (key.startsWith('x-kubernetes-')) continue;
    out[key] = key === 'properties' ? Object.fromEntries(Object.entries(value as JSONSchema).map(([k, v]) => [k, toJsonSchema(v)])) : toJsonSchema(value);
  }
  const src = node as JSONSchema;
  if (src['x-kubernetes-list-type'] === 'set') out.uniqueItems = true;
  if (src.properties && !('additionalProperties' in src)) out.additionalProperties = false;
  return out;
}

/** One published schema file's content. */
export function manifestSchemaFile(entry: (typeof MANIFEST_SCHEMAS)[number]): string {
  const body = toJsonSchema(plainSchema(entry.schema)) as JSONSchema;
  const doc = { $schema: 'https://json-schema.org/draft/2020-12/schema', $id: `${SCHEMA_BASE_URI}${entry.file}`, title: entry.title, ...body };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
