// examples/ as the API server and the operator would take it: every miniapps.dev object
// valid against its CRD schema, every namespaced one in the namespace of an Organization or
// Tenant the examples declare, and the solution manifest in its ConfigMap valid against the
// published schema (the demo applies them on a real control plane).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { validate } from './api/validate.ts';
import { parseManifestFile } from './manifests/parse.ts';
import type { AnyObject } from './runtime/kube/client.ts';

const DIR = fileURLToPath(new URL('../examples/', import.meta.url));
const docs = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .flatMap((f) => parseAllDocuments(readFileSync(join(DIR, f), 'utf8')).map((d) => ({ file: f, obj: d.toJS() as AnyObject & { data?: Record<string, string> } })));

describe('examples/', () => {
  it.each(docs.filter((d) => d.obj.apiVersion === 'miniapps.dev/v1alpha1').map((d) => [`${d.file} ${d.obj.kind} ${d.obj.metadata.name}`, d.obj] as const))(
    '%s is valid against its CRD schema',
    (_name, obj) => {
      expect(validate(obj.kind!, obj)).toEqual({ ok: true });
    },
  );

  it("puts every namespaced object in the namespace of an Organization or Tenant it declares (or the demo operator's own, for provisioning administrators' keys)", () => {
    const owned = new Set([
      'miniapps-system',
      ...docs.flatMap(({ obj }) => (obj.kind === 'Organization' ? [`org-${obj.metadata.name}`] : obj.kind === 'Tenant' ? [`tenant-${obj.metadata.name}`] : [])),
    ]);
    const stray = docs.filter(({ obj }) => obj.metadata.namespace && !owned.has(obj.metadata.namespace)).map(({ file, obj }) => `${file} ${obj.kind} ${obj.metadata.name}`);
    expect(stray).toEqual([]);
  });

  type WithManifestFrom = AnyObject & { spec: { manifestFrom?: { configMapKeyRef: { name: string; key: string } }; appId?: string; listingId?: string } };
  const fileOf = (o: WithManifestFrom) => {
    const ref = o.spec.manifestFrom!.configMapKeyRef;
    return docs.find(({ obj }) => obj.kind === 'ConfigMap' && obj.metadata.name === ref.name && obj.metadata.namespace === o.metadata.namespace)?.obj.data?.[ref.key];
  };

  it('holds the seed solution manifest, valid against schemas/solution-manifest.schema.json, for a Solution that reads it', async () => {
    const solutions = docs.filter(({ obj }) => obj.kind === 'Solution').map(({ obj }) => obj as WithManifestFrom);
    expect(solutions.length).toBeGreaterThan(0);
    for (const s of solutions) {
      const parsed = await parseManifestFile('solution', fileOf(s)!);
      expect(parsed.ok, JSON.stringify(parsed)).toBe(true);
    }
  });

  it('holds an app manifest file valid against schemas/app-manifest.schema.json, with the appId and listingId of the AppManifest that reads it', async () => {
    const fromFiles = docs.filter(({ obj }) => obj.kind === 'AppManifest' && (obj as WithManifestFrom).spec.manifestFrom).map(({ obj }) => obj as WithManifestFrom);
    expect(fromFiles.length).toBeGreaterThan(0);
    for (const a of fromFiles) {
      const parsed = await parseManifestFile('app', fileOf(a)!);
      expect(parsed.ok, JSON.stringify(parsed)).toBe(true);
      expect(parsed.ok && { appId: parsed.manifest.appId, listingId: parsed.manifest.listingId }).toEqual({ appId: a.spec.appId, listingId: a.spec.listingId });
    }
  });
});
