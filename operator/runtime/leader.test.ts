// Leadership as a fence, against a fake API server on loopback that can stall: it then
// answers nothing (as a partition or a hung API server does), so only the renew deadline
// ends the leader's requests (testenv/fake-lease-api.ts). Short timings: lease 2 s, renew deadline 800 ms, retry 100 ms;
// the slack allowed for timers is a fraction of the deadline, so the suite holds on a loaded 2-core machine.
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../testenv/eventually.ts';
import { startFakeLeaseApi } from '../testenv/fake-lease-api.ts';
import type { FakeLeaseApi } from '../testenv/fake-lease-api.ts';
import { systemClock } from './clock.ts';
import { Manager } from './controller.ts';
import type { ReconcileContext } from './controller.ts';
import type { KubeClient } from './kube/client.ts';
import { Resources } from './kube/resource.ts';
import { LeaderElector } from './leader.ts';
import { OperatorMetrics } from './metrics.ts';

const log = pino({ level: 'silent' });
const timings = { leaseDurationMs: 2_000, renewDeadlineMs: 800, retryPeriodMs: 100 };
/** How late a timer may fire under load. */
const SLACK_MS = 250;

const apis: FakeLeaseApi[] = [];
afterEach(async () => {
  for (const api of apis.splice(0)) await api.close();
});

async function fakeApi(): Promise<FakeLeaseApi> {
  const api = await startFakeLeaseApi();
  apis.push(api);
  return api;
}

const elector = (client: KubeClient, identity = 'a') => new LeaderElector(client, systemClock, log, { namespace: 'ns', name: 'lease', identity, ...timings });

describe('LeaderElector', () => {
  it('gives up leadership at the renew deadline when the API server stalls, not after the client timeout, and ends its Lease requests by then', async () => {
    const api = await fakeApi();
    const e = elector(api.client);
    let lostAt = 0;
    let why = '';
    expect(await e.acquire((reason) => ((lostAt = Date.now()), (why = reason)))).toBe(true);
    await new Promise((r) => setTimeout(r, 200)); // a few renewals
    const renewed = api.leaseRequests.length;
    api.stall();
    const stalledAt = Date.now();
    await eventually(() => lostAt > 0, { timeoutMs: 3_000, describe: 'leadership lost' });
    expect(api.leaseRequests.length).toBeGreaterThan(renewed);
    // The last renewal began at most a retry period before the stall.
    expect(lostAt - stalledAt).toBeLessThanOrEqual(timings.renewDeadlineMs + SLACK_MS);
    expect(why).toMatch(/not renewed within the renew deadline/);
    expect(e.isLeader).toBe(false);
    // No Lease request outlived the deadline: each was closed by the client by the time leadership was lost.
    await eventually(() => api.leaseRequests.every((r) => r.closedAt !== undefined), { timeoutMs: 1_000, describe: 'every Lease request closed' });
    expect(Math.max(...api.leaseRequests.map((r) => r.closedAt!))).toBeLessThanOrEqual(lostAt + SLACK_MS / 2);
  });

  it('healthy: a standby is; a leader is while it renews, is not once its renew loop is stuck past the deadline, and never again once it lost the lease', async () => {
    const api = await fakeApi();
    // A client whose requests, once stuck, never settle, whatever their signal says (a bug, or an event loop too starved to run timers).
    let stuck = false;
    const sticky = Object.create(api.client) as KubeClient;
    sticky.withSignal = (signal) => (stuck ? Object.assign(Object.create(api.client) as KubeClient, { get: () => new Promise(() => {}) }) : api.client.withSignal(signal));
    const a = elector(sticky, 'a');
    const b = elector(api.client, 'b');
    expect(a.healthy()).toBe(true);
    expect(await a.acquire(() => {})).toBe(true);
    void b.acquire(() => {});
    await new Promise((r) => setTimeout(r, timings.renewDeadlineMs * 2));
    expect(a.healthy()).toBe(true); // renewing
    expect(b.healthy()).toBe(true); // a standby
    stuck = true;
    const stuckAt = Date.now();
    await eventually(() => !a.healthy(), { timeoutMs: timings.renewDeadlineMs * 3, describe: 'the stuck leader to be unhealthy' });
    expect(Date.now() - stuckAt).toBeLessThanOrEqual(timings.renewDeadlineMs + timings.retryPeriodMs + SLACK_MS);
    expect(a.isLeader).toBe(true); // its renew loop never came back to say otherwise
    expect(b.healthy()).toBe(true);
    await b.release();

    // Lost: unhealthy for good.
    const api2 = await fakeApi();
    const f = elector(api2.client, 'f');
    let lost = false;
    expect(await f.acquire(() => (lost = true))).toBe(true);
    api2.stall();
    await eventually(() => lost, { timeoutMs: 3_000, describe: 'leadership lost' });
    expect(f.healthy()).toBe(false);
    await new Promise((r) => setTimeout(r, timings.leaseDurationMs));
    expect(f.healthy()).toBe(false);
  });
});

describe('Manager on losing the lease', () => {
  it('aborts the signal of reconciles in flight, takes no more keys and says why, at the renew deadline', async () => {
    const api = await fakeApi();
    const e = elector(api.client);
    const metrics = new OperatorMetrics();
    const manager = new Manager({ client: api.client, log, metrics, elector: e, defaultConcurrency: 1 });
    const inFlight: ReconcileContext[] = [];
    let reconciles = 0;
    manager.add({
      name: 'test',
      for: { name: 'configmaps', resource: Resources.ConfigMap },
      reconciler: {
        reconcile: async (_key, ctx) => {
          reconciles++;
          inFlight.push(ctx);
          // Work that only the signal ends (an email, a write).
          await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
          throw ctx.signal.reason;
        },
      },
    });
    let lost = '';
    let lostAt = 0;
    await manager.start((reason) => ((lost = reason), (lostAt = Date.now())));
    await eventually(() => inFlight.length === 1, { describe: 'a reconcile in flight' });
    expect(manager.healthy()).toBe(true);
    expect(manager.signal.aborted).toBe(false);
    api.stall();
    const stalledAt = Date.now();
    await eventually(() => lost !== '', { timeoutMs: 3_000, describe: 'leadership lost' });
    expect(lostAt - stalledAt).toBeLessThanOrEqual(timings.renewDeadlineMs + SLACK_MS);
    expect(inFlight[0]!.signal.aborted).toBe(true);
    expect(String(inFlight[0]!.signal.reason)).toMatch(/Leadership lost/);
    expect(manager.isLeading).toBe(false);
    expect(manager.healthy()).toBe(false);
    expect(await metrics.isLeader.get()).toMatchObject({ values: [{ value: 0 }] });
    await new Promise((r) => setTimeout(r, 100));
    expect(reconciles).toBe(1);
  });
});
