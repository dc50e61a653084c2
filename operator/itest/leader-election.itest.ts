import { afterAll, describe, expect, it } from 'vitest';
import { testClient } from '../testenv/clients.ts';
import { eventually, testKubeconfig, uniqueName } from '../testenv/index.ts';
import { OperatorProcess } from '../testenv/operator-process.ts';
import { batchState, createOrgs } from './helpers.ts';

const client = testClient();
const running: OperatorProcess[] = [];
afterAll(async () => {
  await Promise.all(running.map((p) => p.stop()));
});

const leaderOf = async (ps: OperatorProcess[]) => {
  const flags = await Promise.all(ps.map((p) => p.metric('miniapps_leader').catch(() => 0)));
  const leaders = ps.filter((_, i) => flags[i] === 1);
  return leaders.length === 1 ? leaders[0]! : false;
};

describe('leader election', () => {
  it('lets one of two operators reconcile; the standby takes over when the leader is killed, and a SIGTERMed leader hands over at once', async () => {
    const namespace = uniqueName('op-le');
    const a = await OperatorProcess.start({ kubeconfig: testKubeconfig(), namespace });
    const b = await OperatorProcess.start({ kubeconfig: testKubeconfig(), namespace });
    running.push(a, b);
    const leader = await eventually(() => leaderOf([a, b]), { describe: 'exactly one leader' });
    const standby = leader === a ? b : a;
    await eventually(() => standby.ready(), { describe: 'the standby to be ready (caches synced)' });

    const batch = uniqueName('le');
    await createOrgs(
      client,
      Array.from({ length: 20 }, (_, i) => `${batch}-${i}`),
      batch,
    );
    await eventually(async () => (await batchState(client, batch)).ready === 20, { describe: '20 Organizations Ready' });
    expect(await leader.metric('miniapps_reconcile_total', { controller: 'organization' })).toBeGreaterThanOrEqual(20);
    expect(await standby.metric('miniapps_reconcile_total', { controller: 'organization' })).toBe(0);
    expect(await leaderOf([a, b])).toBe(leader);

    // The leader dies without releasing its lease: the standby waits out the lease (4s here).
    leader.kill('SIGKILL');
    const killedAt = Date.now();
    const batch2 = uniqueName('le2');
    await createOrgs(
      client,
      Array.from({ length: 5 }, (_, i) => `${batch2}-${i}`),
      batch2,
    );
    await eventually(async () => (await batchState(client, batch2)).ready === 5, { timeoutMs: 30_000, describe: 'the standby to converge new Organizations' });
    expect(Date.now() - killedAt).toBeLessThan(15_000);
    expect(await standby.metric('miniapps_leader')).toBe(1);
    expect(await standby.metric('miniapps_reconcile_total', { controller: 'organization' })).toBeGreaterThanOrEqual(5);

    // A leader stopped with SIGTERM drains, releases the lease and exits 0; a new process leads at once.
    const c = await OperatorProcess.start({ kubeconfig: testKubeconfig(), namespace });
    running.push(c);
    const exit = await standby.stop();
    expect(exit.code).toBe(0);
    expect(standby.hasLog('Leader lease released')).toBe(true);
    const releasedAt = Date.now();
    await eventually(async () => (await c.metric('miniapps_leader')) === 1, { timeoutMs: 10_000, describe: 'the third process to lead' });
    expect(Date.now() - releasedAt).toBeLessThan(3_000);
  });
});
