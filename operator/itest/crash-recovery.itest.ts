import { afterAll, describe, expect, it } from 'vitest';
import { Resources } from '../runtime/kube/resource.ts';
import { testClient } from '../testenv/clients.ts';
import { eventually, testKubeconfig, uniqueName } from '../testenv/index.ts';
import { OperatorProcess } from '../testenv/operator-process.ts';
import { batchState, createOrgs } from './helpers.ts';

const client = testClient();
const running: OperatorProcess[] = [];
afterAll(async () => {
  await Promise.all(running.map((p) => p.stop()));
});

describe('an operator killed while converging', () => {
  it('SIGKILLed in the middle of 300 Organizations and started again ends with exactly 300 namespaces, all Ready', async () => {
    const N = 300;
    const batch = uniqueName('crash');
    const names = Array.from({ length: N }, (_, i) => `${batch}-${i}`);
    const namespace = uniqueName('op-crash');
    const first = await OperatorProcess.start({ kubeconfig: testKubeconfig(), namespace });
    running.push(first);
    const creating = createOrgs(client, names, batch);
    // Kill it once some, but not all, have converged.
    const partial = await eventually(
      async () => {
        const { ready } = await batchState(client, batch);
        return ready >= 10 ? ready : false;
      },
      { timeoutMs: 60_000, intervalMs: 50, describe: 'the first Organizations to converge' },
    );
    first.kill('SIGKILL');
    expect((await first.exit).signal).toBe('SIGKILL');
    await creating;
    const atKill = await batchState(client, batch);
    expect(partial).toBeLessThan(N);
    expect(atKill.ready).toBeLessThan(N);

    const second = await OperatorProcess.start({ kubeconfig: testKubeconfig(), namespace });
    running.push(second);
    await eventually(
      async () => {
        const { ready } = await batchState(client, batch);
        return ready === N || false;
      },
      { timeoutMs: 120_000, intervalMs: 500, describe: `all ${N} Organizations Ready` },
    );

    const { items } = await client.listAll(Resources.Namespace, { labelSelector: 'app.kubernetes.io/managed-by=miniapps-operator' });
    const ours = items.filter((ns) => ns.metadata.name?.startsWith(`org-${batch}-`));
    expect(ours).toHaveLength(N);
    expect(new Set(ours.map((ns) => ns.metadata.labels?.['miniapps.dev/organization']))).toEqual(new Set(names));
    expect(second.logs.filter((l) => l.level === 'error' || l.level === 'fatal')).toEqual([]);
  });
});
