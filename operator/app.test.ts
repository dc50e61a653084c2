// The operator process's /healthz: the liveness probe fails when the lease was not renewed
// in time, so that a leader stuck renewing is restarted (a standby is healthy).
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Operator } from './app.ts';
import { loadConfig } from './runtime/config.ts';
import { eventually } from './testenv/eventually.ts';
import { startFakeLeaseApi } from './testenv/fake-lease-api.ts';
import type { FakeLeaseApi } from './testenv/fake-lease-api.ts';

const log = pino({ level: 'silent' });
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function operator(api: FakeLeaseApi, identity: string): Promise<{ op: Operator; healthz: () => Promise<number> }> {
  const config = {
    ...loadConfig(['--namespace=ops', '--lease-duration=2s', '--renew-deadline=800ms', '--retry-period=100ms', '--http-bind-address=127.0.0.1:0'], {}),
    identity,
  };
  const op = new Operator({ config, log, clusterAccess: api.access });
  const port = await op.health.start();
  cleanups.push(async () => {
    await op.manager.stop();
    await op.health.stop();
    await op.client.close();
  });
  return { op, healthz: async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).status };
}

describe('/healthz', () => {
  it('fails once the leader has not renewed its lease within the renew deadline; a standby passes', async () => {
    const api = await startFakeLeaseApi();
    cleanups.push(() => api.close());
    const leader = await operator(api, 'leader');
    const standby = await operator(api, 'standby');
    let lost = '';
    await leader.op.manager.start((reason) => (lost = reason));
    void standby.op.manager.start(() => {});
    expect(leader.op.manager.isLeading).toBe(true);
    await new Promise((r) => setTimeout(r, 1_000)); // renewals go on past the deadline
    expect(await leader.healthz()).toBe(200);
    expect(await standby.healthz()).toBe(200);

    api.stall();
    const stalledAt = Date.now();
    await eventually(async () => (await leader.healthz()) === 500, { timeoutMs: 5_000, describe: '/healthz of the leader to fail' });
    // Within the renew deadline (800 ms), with room for timers that fire late on a loaded machine.
    expect(Date.now() - stalledAt).toBeLessThan(800 + 1_000);
    expect(lost).toMatch(/not renewed within the renew deadline/);
    expect(await standby.healthz()).toBe(200);
  });
});
