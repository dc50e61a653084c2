// The one reader of a manifest, inline or from a ConfigMap key, as the Solution and the
// AppManifest controllers use it: the part kept and its digest, or the reason and every
// problem with file, line, column and field, and what happens meanwhile.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../runtime/errors.ts';
import { Resources } from '../runtime/kube/resource.ts';
import type { AnyObject } from '../runtime/kube/client.ts';
import { FakeStore } from '../runtime/testing.ts';
import { readManifest } from './manifest-source.ts';
import type { ManifestSource } from './manifest-source.ts';

const FRONTEND = readFileSync(new URL('../manifests/testdata/gated-frontend.yaml', import.meta.url), 'utf8');
type Content = { userGroups?: unknown[]; rolesRequired?: string[] };
const keep = (m: Content): Content => ({ ...(m.userGroups ? { userGroups: m.userGroups } : {}), ...(m.rolesRequired ? { rolesRequired: m.rolesRequired } : {}) });
const meanwhile = { kept: 'the last one stands', none: 'nothing is used' };

function appSource(over: Partial<ManifestSource<'app', Content, Content>> = {}): ManifestSource<'app', Content, Content> {
  return {
    kind: 'app',
    owner: { kind: 'AppManifest', name: 'fe', namespace: 'org-acme' },
    from: { configMapKeyRef: { name: 'fe-manifest', key: 'app.yaml' } },
    agree: { appId: 'gated-frontend-app', listingId: 'gated-frontend' },
    keep,
    hasLastGood: false,
    meanwhile,
    ...over,
  };
}

function storeWith(data?: Record<string, string>): FakeStore {
  const store = new FakeStore();
  if (data) store.seed(Resources.ConfigMap, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'fe-manifest', namespace: 'org-acme' }, data } as AnyObject);
  return store;
}

describe('readManifest', () => {
  it('reads an app manifest from its ConfigMap key: the part kept, digested without appId and listingId', async () => {
    const r = await readManifest(storeWith({ 'app.yaml': FRONTEND }), appSource());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(Object.keys(r.manifest).sort()).toEqual(['rolesRequired', 'userGroups']);
    expect(r.manifest.rolesRequired).toContain('platform:role:gated-frontend:owner');
    // The same content inline has the same digest: where it is written does not matter.
    const inline = await readManifest(storeWith(), appSource({ from: undefined, inline: { manifest: { appId: 'x', listingId: 'y', ...r.manifest } as Content, path: 'spec' } }));
    expect(inline.ok && inline.digest).toBe(r.digest);
  });

  it("names the line and field of a file whose appId or listingId is not the spec's", async () => {
    const r = await readManifest(storeWith({ 'app.yaml': FRONTEND.replace('listingId: gated-frontend', 'listingId: other') }), appSource({ hasLastGood: true }));
    expect(r).toMatchObject({ ok: false, reason: 'ManifestInconsistent', stalled: true });
    expect(!r.ok && r.message).toBe(
      'The manifest is invalid, so the last one stands: configmap/fe-manifest/app.yaml:3:12 listingId: is "other", but the AppManifest\'s spec.listingId is "gated-frontend"',
    );
  });

  it('reports a role in the wrong format with file, line, column and field', async () => {
    const r = await readManifest(storeWith({ 'app.yaml': FRONTEND.replace('- role:gated-frontend:offline-sync', '- gated-frontend:offline-sync') }), appSource());
    expect(r).toMatchObject({ ok: false, reason: 'ManifestSchemaInvalid', stalled: true });
    expect(!r.ok && r.message).toBe('The manifest is invalid, so nothing is used: configmap/fe-manifest/app.yaml:7:9 userGroups[0].roles[0]: must match role:<listingId>:<roleName>');
  });

  it('reports a missing ConfigMap or key as not found, to be looked at again (not stalled)', async () => {
    const none = await readManifest(storeWith(), appSource());
    expect(none).toMatchObject({ ok: false, reason: 'ManifestNotFound', stalled: false });
    expect(!none.ok && none.message).toContain('ConfigMap fe-manifest does not exist in namespace org-acme; create it with the manifest YAML');
    const noKey = await readManifest(storeWith({ other: FRONTEND }), appSource({ hasLastGood: true }));
    expect(!noKey.ok && noKey.message).toContain('ConfigMap fe-manifest has no key "app.yaml" in namespace org-acme; the last good manifest stays in force');
  });

  it('reports a namespace where the operator may read no ConfigMap as stalled, with where to create it (no retrying for ever)', async () => {
    const store = storeWith();
    store.get = () => Promise.reject(new ApiError(403, 'Forbidden', 'configmaps "fe-manifest" is forbidden'));
    const r = await readManifest(store, appSource());
    expect(r).toMatchObject({ ok: false, reason: 'ManifestNotFound', stalled: true });
    expect(!r.ok && r.message).toContain(
      "The operator may not read ConfigMaps in namespace org-acme (it reads them only in the namespaces of organizations): create the AppManifest in its organization's namespace",
    );
  });

  it('refuses an inline manifest that names a group twice, with its field path in the spec', async () => {
    const manifest = { userGroups: [{ name: 'Field Executive' }, { name: 'field-executive' }] };
    const r = await readManifest(storeWith(), appSource({ from: undefined, inline: { manifest, path: 'spec' } }));
    expect(r).toMatchObject({ ok: false, reason: 'ManifestInconsistent' });
    expect(!r.ok && r.message).toMatch(/^The manifest is invalid, so nothing is used: AppManifest fe spec\.userGroups\[1\]\.name: names the group "field-executive" again/);
  });

  it("reads a solution manifest the same way, checking its solutionId against the spec's", async () => {
    const seed = readFileSync(new URL('../manifests/testdata/gated-solution.yaml', import.meta.url), 'utf8');
    const src = {
      kind: 'solution' as const,
      owner: { kind: 'Solution', name: 'gated', namespace: 'org-acme' },
      from: { configMapKeyRef: { name: 'fe-manifest', key: 'app.yaml' } },
      keep: (m: object) => m,
      hasLastGood: false,
      meanwhile,
    };
    expect((await readManifest(storeWith({ 'app.yaml': seed }), { ...src, agree: { solutionId: 'gated-solution' } })).ok).toBe(true);
    const r = await readManifest(storeWith({ 'app.yaml': seed }), { ...src, agree: { solutionId: 'another' } });
    expect(!r.ok && r.message).toMatch(/configmap\/fe-manifest\/app\.yaml:2:13 solutionId: is "gated-solution", but the Solution's spec\.solutionId is "another"$/);
  });
});
