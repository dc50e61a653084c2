// planPod() on the chart's own Deployment (helm template), read back through a fake client:
// every listener the chart gives the container is moved to a free port of its own.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import type { KubeClient } from '../runtime/kube/client.ts';
import { planPod } from './pod.ts';
import type { PodSpec } from './pod.ts';
import { findTool, toolsRequired } from './tools.ts';

const CHART = fileURLToPath(new URL('../../charts/miniapps-operator', import.meta.url));
const helm = findTool('helm');
if (!helm && toolsRequired()) throw new Error('pod.test: no helm (npm run tools:build); CI is set, so it fails instead of skipping');
const work = mkdtempSync(join(tmpdir(), 'pod-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The chart's operator Deployment rendered with `set`, as the API server would return it. */
function deployment(set: string[]): { spec: { template: { spec: PodSpec } } } {
  const out = execFileSync(helm!, ['template', 'pod', CHART, '--namespace', 'ns', '--kube-version', '1.35.0', ...set.flatMap((s) => ['--set', s])], { encoding: 'utf8' });
  const docs = parseAllDocuments(out).map((d) => d.toJS() as { kind?: string; metadata?: { name?: string }; spec: { template: { spec: PodSpec } } });
  const found = docs.find((d) => d?.kind === 'Deployment' && d.metadata?.name === 'pod-miniapps-operator');
  if (!found) throw new Error('no operator Deployment rendered');
  return found;
}

/** A client answering the Deployment GET and the ServiceAccount token request. */
const fakeAdmin = (d: unknown) =>
  ({
    request: async (method: string, path: string) => {
      if (method === 'GET' && path === '/apis/apps/v1/namespaces/ns/deployments/pod-miniapps-operator') return d;
      if (method === 'POST' && path.endsWith('/token')) return { status: { token: 'a-token' } };
      throw new Error(`unexpected ${method} ${path}`);
    },
  }) as unknown as KubeClient;

describe.skipIf(!helm)("planPod, on the chart's Deployment", () => {
  it.each([
    ['the defaults', []],
    ['the embedded identity provider', ['identity.enabled=true', 'identity.issuer=https://id.example.com']],
  ])('with %s: moves every listener the container declares to a free port of its own', async (_, set) => {
    const d = deployment(set as string[]);
    const plan = await planPod({ admin: fakeAdmin(d), server: 'https://127.0.0.1:6443', caPEM: 'CA', namespace: 'ns', deployment: 'pod-miniapps-operator', work });
    expect(plan.container.ports.length).toBeGreaterThan(0);
    for (const p of plan.container.ports)
      expect(
        plan.args.filter((a) => a.endsWith(`=127.0.0.1:${plan.portOf[p.name]}`)),
        p.name,
      ).toHaveLength(1);
    // No listener is left on the container's declared port, which the host's network would share.
    expect(plan.args.filter((a) => /^--[\w-]*bind-address=:\d+$/.test(a))).toEqual([]);
  });
});
