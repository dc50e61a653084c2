// Shared steps of the runtime integration tests.
import type { Organization } from '../api/index.ts';
import { Kinds } from '../controllers/shared.ts';
import type { KubeClient } from '../runtime/kube/client.ts';

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
