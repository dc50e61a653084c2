// Shared steps of the runtime integration tests.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, stringify } from 'yaml';
import type { Organization } from '../api/organization/schema.ts';
import { Kinds } from '../api/registry.ts';
import type { AnyObject, KubeClient } from '../runtime/kube/client.ts';
import { Resources } from '../runtime/kube/resource.ts';
import { eventually } from '../testenv/eventually.ts';
import type { ControlPlane } from '../testenv/controlplane.ts';
import { kubectl } from '../testenv/index.ts';
import type { KubectlResult } from '../testenv/index.ts';

export const isReady = (o: Organization): boolean => {
  const c = o.status?.conditions?.find((x) => x.type === 'Ready');
  return c?.status === 'True' && o.status?.observedGeneration === o.metadata.generation;
};

/** Creates `names` as Organizations labelled with `batch`, `parallel` at a time. */
export async function createOrgs(client: KubeClient, names: string[], batch: string, parallel = 16): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < names.length) {
        const name = names[next++]!;
        await client.create(Kinds.Organization, { metadata: { name, labels: { 'test-batch': batch } }, spec: { displayName: name } });
      }
    }),
  );
}

/** The batch's Organizations and how many are Ready. */
export async function batchState(client: KubeClient, batch: string): Promise<{ orgs: Organization[]; ready: number }> {
  const { items } = await client.listAll<Organization>(Kinds.Organization, { labelSelector: `test-batch=${batch}` });
  return { orgs: items, ready: items.filter(isReady).length };
}

/** kubectl of a control plane of the file's own, as its admin; never throws (the exit code says). */
export function kubectlOn(cp: ControlPlane, args: string[], stdin?: string): Promise<KubectlResult> {
  return kubectl(args, { controlPlane: cp, stdin, allowFailure: true });
}

export const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));
/** The files of examples/, in the order they are applied. */
export const exampleFiles = (): string[] =>
  readdirSync(EXAMPLES)
    .filter((f) => f.endsWith('.yaml'))
    .sort();

/**
 * examples/ applied file by file with server-side apply under `manager`, as a GitOps tool
 * applies them; returns every object applied. The organizations' and tenants' namespaces
 * are the operator's to make: a file's cluster-scoped objects go first (a file may hold a
 * Tenant and what goes in its namespace), then the namespaces are waited for. Throws,
 * naming the file, on anything kubectl says.
 */
export async function applyExamples(cp: ControlPlane, admin: KubeClient, manager: string): Promise<AnyObject[]> {
  // The webhook judges from the operator's caches, which may not yet hold what the file
  // before made (an Organization's namespace in its status, a Membership, a MiniApp): a
  // GitOps tool applies again until it is accepted, and so does this, for the webhook's
  // refusals only and for 30 s at most. Anything else kubectl says throws at once.
  const apply = async (file: string, args: string[], stdin?: string) => {
    let res = await kubectlOn(cp, ['apply', '--server-side', `--field-manager=${manager}`, ...args], stdin);
    for (const until = Date.now() + 30_000; res.exitCode !== 0 && res.stderr.includes('admission webhook') && Date.now() < until; ) {
      await new Promise((r) => setTimeout(r, 500));
      res = await kubectlOn(cp, ['apply', '--server-side', `--field-manager=${manager}`, ...args], stdin);
    }
    if (res.exitCode !== 0 || res.stderr !== '') throw new Error(`kubectl apply of examples/${file} (exit ${res.exitCode}): ${res.stderr}`);
  };
  const applied: AnyObject[] = [];
  for (const file of exampleFiles()) {
    const docs = parseAllDocuments(readFileSync(join(EXAMPLES, file), 'utf8'))
      .map((d) => d.toJS() as AnyObject)
      .filter(Boolean);
    const clusterScoped = docs.filter((d) => !d.metadata.namespace);
    if (clusterScoped.length && clusterScoped.length < docs.length) await apply(file, ['-f', '-'], clusterScoped.map((d) => stringify(d)).join('---\n'));
    for (const ns of new Set(docs.map((d) => d.metadata.namespace).filter((n): n is string => !!n))) {
      await eventually(async () => !!(await admin.get(Resources.Namespace, ns)), { timeoutMs: 30_000, describe: `namespace ${ns}` });
    }
    await apply(file, ['-f', join(EXAMPLES, file)]);
    applied.push(...docs);
  }
  return applied;
}
