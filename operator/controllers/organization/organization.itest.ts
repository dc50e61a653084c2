import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Organization } from '../../api/organization/schema.ts';
import { Resources } from '../../runtime/kube/resource.ts';
import type { AnyObject } from '../../runtime/kube/client.ts';
import { testClient } from '../../testenv/clients.ts';
import { eventually, testKubeconfig, uniqueName } from '../../testenv/index.ts';
import { OperatorProcess } from '../../testenv/operator-process.ts';
import { Kinds } from '../../api/registry.ts';

const client = testClient();
let operator: OperatorProcess;
const operatorNamespace = uniqueName('op-org');

const ready = (o: Organization | undefined) => o?.status?.conditions?.find((c) => c.type === 'Ready');

async function createOrg(name: string, spec: Partial<Organization['spec']> = {}): Promise<Organization> {
  return client.create<Organization>(Kinds.Organization, { metadata: { name }, spec: { displayName: name, ...spec } });
}

async function waitReady(name: string, status: 'True' | 'False' = 'True', timeoutMs = 20_000): Promise<Organization> {
  return eventually(
    async () => {
      const o = await client.get<Organization>(Kinds.Organization, name);
      return ready(o)?.status === status && o!.status!.observedGeneration === o!.metadata.generation ? o! : false;
    },
    { timeoutMs, describe: `Organization ${name} Ready=${status}` },
  );
}

beforeAll(async () => {
  operator = await OperatorProcess.start({ kubeconfig: testKubeconfig(), namespace: operatorNamespace });
});

afterAll(async () => {
  const exit = await operator?.stop();
  expect(exit?.code).toBe(0);
});

describe('Organization', () => {
  it('converges: its namespace exists with the labels and owner, and Ready is True', async () => {
    const name = uniqueName('acme');
    const created = await createOrg(name);
    const org = await waitReady(name);
    expect(org.status?.namespace).toBe(`org-${name}`);
    const ns = await client.get<AnyObject>(Resources.Namespace, `org-${name}`);
    expect(ns?.metadata.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'miniapps-operator', 'miniapps.dev/organization': name });
    expect(ns?.metadata.ownerReferences).toEqual([{ apiVersion: 'miniapps.dev/v1alpha1', kind: 'Organization', name, uid: created.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    expect(org.status?.conditions?.find((c) => c.type === 'NamespaceReady')).toMatchObject({ status: 'True', observedGeneration: org.metadata.generation });
  });

  it('uses spec.namespace when given', async () => {
    const name = uniqueName('named');
    const nsName = uniqueName('custom-ns');
    await createOrg(name, { namespace: nsName });
    expect((await waitReady(name)).status?.namespace).toBe(nsName);
  });

  it('adopts an existing namespace that opted in and nobody claims, keeping its labels', async () => {
    const name = uniqueName('adopt');
    await client.create(Resources.Namespace, { metadata: { name: `org-${name}`, labels: { keep: 'me' }, annotations: { 'miniapps.dev/adoptable-by': `Organization/${name}` } } });
    await createOrg(name);
    await waitReady(name);
    const ns = await client.get<AnyObject>(Resources.Namespace, `org-${name}`);
    expect(ns?.metadata.labels).toMatchObject({ keep: 'me', 'miniapps.dev/organization': name });
  });

  it('reports a namespace claimed by another organization, with a Warning event, and does not take it', async () => {
    const nsName = uniqueName('taken');
    await client.create(Resources.Namespace, { metadata: { name: nsName, labels: { 'miniapps.dev/organization': 'someone-else' } } });
    const name = uniqueName('late');
    await createOrg(name, { namespace: nsName });
    const org = await waitReady(name, 'False');
    expect(ready(org)).toMatchObject({ reason: 'NamespaceConflict', message: expect.stringContaining('Organization "someone-else"') });
    const ns = await client.get<AnyObject>(Resources.Namespace, nsName);
    expect(ns?.metadata.labels?.['miniapps.dev/organization']).toBe('someone-else');
    expect(ns?.metadata.ownerReferences).toBeUndefined();
    // Events about cluster-scoped objects live in the default namespace.
    const event = await eventually(
      async () => {
        const list = await client.list<AnyObject & { reason?: string; type?: string; note?: string; regarding?: { name?: string } }>(Resources.Event, { namespace: 'default' });
        return list.items.find((e) => e.regarding?.name === name) ?? false;
      },
      { describe: 'a Warning event about the conflict' },
    );
    expect(event).toMatchObject({ type: 'Warning', reason: 'NamespaceConflict' });
  });

  it('is deleted, once confirmed, with its namespace', async () => {
    const name = uniqueName('gone');
    await createOrg(name);
    await waitReady(name);
    await client.patch(Kinds.Organization, name, undefined, { metadata: { annotations: { 'miniapps.dev/confirm-delete': 'CONFIRM DELETE' } } });
    await client.delete(Kinds.Organization, name, undefined, { propagationPolicy: 'Background' });
    await eventually(async () => (await client.get(Resources.Namespace, `org-${name}`)) === undefined, {
      timeoutMs: 60_000,
      describe: `namespace org-${name} to be deleted`,
    });
    await eventually(async () => (await client.get(Kinds.Organization, name)) === undefined, { describe: `Organization ${name} gone (finalizer removed)` });
  });
});
