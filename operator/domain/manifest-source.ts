// Reading a manifest the way a Solution and an AppManifest both hold one: inline in the
// spec (the API server checked its schema), or the YAML document in a ConfigMap key (the
// seed's "uploaded artifact", checked here against the published JSON Schema). Either way
// the answer is the part kept in status with its digest, or a reason and a message naming
// file, line, column and field of every problem, and what happens meanwhile (the last good
// manifest stays in force). ConfigMaps are not watched: the caller looks again every
// MANIFEST_RECHECK_SECONDS.
import { MANIFEST_RECHECK_SECONDS, MANIFEST_ARTIFACT_ONLY_ANNOTATION, MANIFEST_LABEL } from '../api/constants.ts';
import { SolutionReasons } from '../api/solution/names.ts';
import { duplicateGroupProblems, formatProblems, manifestDigest, parseManifestFile } from '../manifests/parse.ts';
import type { ManifestFileOf, ManifestKind, ManifestProblem } from '../manifests/parse.ts';
import { isStatus } from '../runtime/errors.ts';
import { Resources } from '../runtime/kube/resource.ts';
import type { ObjectStore } from '../runtime/apply.ts';
import type { ConfigMapObject } from '../runtime/objects.ts';

export type ManifestRead<T> = { ok: true; manifest: T; digest: string } | { ok: false; reason: string; message: string; stalled: boolean };

export interface ManifestSource<K extends ManifestKind, M extends object, T> {
  kind: K;
  /** The object holding the manifest, e.g. `{ kind: 'Solution', name: 'gated', namespace: 'org-acme' }`. */
  owner: { kind: string; name: string; namespace: string };
  /** The inline manifest, and the field path it is at (`spec.manifest`, `spec`). */
  inline?: { manifest: M; path: string };
  /** Else the ConfigMap key holding it as YAML. */
  from?: { configMapKeyRef: { name: string; key: string } };
  /** Fields the file must agree on with the spec (the object's identity): field → the spec's value. */
  agree: Record<string, string | undefined>;
  /** The part of the manifest kept in status (and digested). */
  keep: (m: M) => T;
  /** Whether status holds a last good manifest, and what that means for those who use it. */
  hasLastGood: boolean;
  /**
   * Seed 003: the object carries MANIFEST_ARTIFACT_ONLY_ANNOTATION (it was admitted for
   * someone who may not read ConfigMaps): only a ConfigMap labelled MANIFEST_LABEL with this
   * kind (`solution`, `app`) is read; any other is reported as if it did not exist.
   */
  artifactsOnly?: boolean;
  meanwhile: { kept: string; none: string };
}

/** The manifest's problems as one condition message, with what happens meanwhile. */
function problemMessage<K extends ManifestKind, M extends object, T>(src: ManifestSource<K, M, T>, file: string, problems: readonly ManifestProblem[]): string {
  return `The manifest is invalid, so ${src.hasLastGood ? src.meanwhile.kept : src.meanwhile.none}: ${formatProblems(file, problems)}`;
}

/** The part of a manifest kept in status: the fields `keys` names that it sets (ids and the rest left to the spec). */
export const fieldsOf =
  <M extends object>(...keys: (keyof M)[]) =>
  (m: M): M =>
    Object.fromEntries(keys.filter((k) => m[k] !== undefined).map((k) => [k, m[k]])) as M;

/** Reads, parses and checks the manifest of `src`: the part to keep and its digest, or what is wrong. */
export async function readManifest<K extends ManifestKind, M extends object, T>(store: ObjectStore, src: ManifestSource<K, M, T>): Promise<ManifestRead<T>> {
  const { owner } = src;
  const found = (m: M): ManifestRead<T> => {
    const manifest = src.keep(m);
    return { ok: true, manifest, digest: manifestDigest(manifest) };
  };
  if (src.inline) {
    // What the API server cannot check: a group named twice (by the UserGroup it makes).
    const { manifest, path } = src.inline;
    const problems = duplicateGroupProblems(src.kind, manifest as Record<string, unknown>).map((p) => ({ ...p, path: `${path}.${p.path}` }));
    if (problems.length > 0) return { ok: false, reason: SolutionReasons.ManifestInconsistent, message: problemMessage(src, `${owner.kind} ${owner.name}`, problems), stalled: true };
    return found(manifest);
  }
  const ref = src.from!.configMapKeyRef;
  const file = `configmap/${ref.name}/${ref.key}`;
  let cm: ConfigMapObject | undefined;
  try {
    cm = await store.get<ConfigMapObject>(Resources.ConfigMap, ref.name, owner.namespace);
  } catch (err) {
    // Outside the namespaces it manages the operator may read no ConfigMap: no retrying fixes that.
    if (!isStatus(err, 403)) throw err;
    return {
      ok: false,
      reason: SolutionReasons.ManifestNotFound,
      message: `The operator may not read ConfigMaps in namespace ${owner.namespace} (it reads them only in the namespaces of organizations): create the ${owner.kind} in its organization's namespace`,
      stalled: true,
    };
  }
  if (src.artifactsOnly && cm && cm.metadata.labels?.[MANIFEST_LABEL] !== src.kind) {
    // Nothing about it (not even that it exists): its writer did not mark it as this kind's manifest.
    return {
      ok: false,
      reason: SolutionReasons.ManifestNotFound,
      message: `ConfigMap ${ref.name} is no ${src.kind} manifest artifact in namespace ${owner.namespace} (label ${MANIFEST_LABEL}: ${src.kind}); with ${MANIFEST_ARTIFACT_ONLY_ANNOTATION} the operator reads only those (looked again every ${MANIFEST_RECHECK_SECONDS}s)`,
      stalled: false,
    };
  }
  const text = cm?.data?.[ref.key];
  if (text === undefined) {
    const what = cm ? `ConfigMap ${ref.name} has no key "${ref.key}"` : `ConfigMap ${ref.name} does not exist`;
    return {
      ok: false,
      reason: SolutionReasons.ManifestNotFound,
      message: `${what} in namespace ${owner.namespace}; ${src.hasLastGood ? 'the last good manifest stays in force' : 'create it with the manifest YAML'} (looked again every ${MANIFEST_RECHECK_SECONDS}s)`,
      stalled: false,
    };
  }
  const parsed = await parseManifestFile(src.kind, text);
  if (!parsed.ok) return { ok: false, reason: parsed.reason, message: problemMessage(src, file, parsed.problems), stalled: true };
  const doc = parsed.manifest as ManifestFileOf<K> & Record<string, unknown>;
  const disagree = Object.entries(src.agree)
    .filter(([field, value]) => doc[field] !== value)
    .map(([field, value]) => ({
      ...parsed.locate([field]),
      path: field,
      message: `is ${doc[field] === undefined ? 'not set' : `"${String(doc[field])}"`}, but the ${owner.kind}'s spec.${field} is ${value === undefined ? 'not set' : `"${value}"`}`,
    }));
  if (disagree.length > 0) return { ok: false, reason: SolutionReasons.ManifestInconsistent, message: problemMessage(src, file, disagree), stalled: true };
  return found(parsed.manifest as unknown as M);
}
