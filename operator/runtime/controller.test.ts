// The Manager's event filtering, against a fake client whose watches the test feeds: a
// watch event of the controller's own write can arrive before the answer to that write
// (the watch and the request are separate connections), and must not reconcile again.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { OwnWrites } from './apply.ts';
import { Manager } from './controller.ts';
import type { AnyObject, KubeClient, WatchEvent } from './kube/client.ts';
import type { ResourceType } from './kube/resource.ts';
import { OperatorMetrics } from './metrics.ts';

const Widgets: ResourceType = { group: 'test.dev', version: 'v1', kind: 'Widget', plural: 'widgets', namespaced: false };
const Parts: ResourceType = { group: 'test.dev', version: 'v1', kind: 'Part', plural: 'parts', namespaced: false };

/** Lists nothing; each watch yields what the test pushes for its resource. */
class FakeClient {
  private readonly feeds = new Map<string, { queue: WatchEvent[]; wake?: () => void }>();

  private feed(plural: string) {
    let f = this.feeds.get(plural);
    if (!f) this.feeds.set(plural, (f = { queue: [] }));
    return f;
  }

  push(rt: ResourceType, ev: WatchEvent): void {
    const f = this.feed(rt.plural);
    f.queue.push(ev);
    f.wake?.();
  }

  async list() {
    return { items: [], metadata: { resourceVersion: '1' } };
  }

  async *watch<T extends AnyObject>(rt: ResourceType, opts: { signal: AbortSignal }): AsyncGenerator<WatchEvent<T>> {
    const f = this.feed(rt.plural);
    while (!opts.signal.aborted) {
      const ev = f.queue.shift();
      if (ev) {
        yield ev as WatchEvent<T>;
        continue;
      }
      await new Promise<void>((resolve) => {
        f.wake = resolve;
        opts.signal.addEventListener('abort', () => resolve(), { once: true });
      });
    }
  }
}

const widget = (name: string, rv: string): AnyObject => ({ apiVersion: 'test.dev/v1', kind: 'Widget', metadata: { name, uid: `w-${name}`, resourceVersion: rv } });
const part = (owner: string, rv: string): AnyObject => ({
  apiVersion: 'test.dev/v1',
  kind: 'Part',
  metadata: { name: `${owner}-part`, uid: `p-${owner}`, resourceVersion: rv, ownerReferences: [{ apiVersion: 'test.dev/v1', kind: 'Widget', name: owner, uid: `w-${owner}`, controller: true }] },
});
const tick = (ms = 20) => new Promise((r) => setTimeout(r, ms));

/**
 * A Widget controller owning Parts, whose reconcile "writes" the widget's Part: the
 * Part's watch event is delivered first, the write's answer (recorded in OwnWrites)
 * only after it, unless `someoneElse` (then it is never the operator's).
 */
async function run(opts: { someoneElse?: boolean }) {
  const client = new FakeClient();
  const ownWrites = new OwnWrites();
  const metrics = new OperatorMetrics({ processMetrics: false });
  const manager = new Manager({ client: client as unknown as KubeClient, ownWrites, log: pino({ level: 'silent' }), metrics, defaultConcurrency: 1 });
  const reconciled: string[] = [];
  let writes = 0;
  manager.add({
    name: 'widget',
    for: { name: 'widgets', resource: Widgets },
    owns: [{ name: 'parts', resource: Parts }],
    reconciler: {
      async reconcile(key) {
        reconciled.push(key);
        if (writes++ > 0) return; // the Part is in place
        const written = part(key, '2');
        client.push(Parts, { type: 'ADDED', object: written });
        await tick(); // the event is handled before the answer arrives
        if (!opts.someoneElse) ownWrites.record(written);
      },
    },
  });
  void manager.start(() => {});
  await manager.waitForSync();
  client.push(Widgets, { type: 'ADDED', object: widget('a', '1') });
  await tick(200);
  await manager.stop();
  const triggers = (await metrics.registry.getSingleMetricAsString('miniapps_reconcile_triggers_total')).split('\n').filter((l) => !l.startsWith('#'));
  return { reconciled, triggers };
}

describe('Manager', () => {
  it("does not reconcile again for the event of its own write that arrived before the write's answer", async () => {
    const { reconciled, triggers } = await run({});
    expect(reconciled).toEqual(['a']);
    expect(triggers).toEqual(['miniapps_reconcile_triggers_total{controller="widget",trigger="widgets:add"} 1']);
  });

  it("reconciles again, after the reconcile in flight, when that event was someone else's change", async () => {
    const { reconciled, triggers } = await run({ someoneElse: true });
    expect(reconciled).toEqual(['a', 'a']);
    expect(triggers).toContain('miniapps_reconcile_triggers_total{controller="widget",trigger="parts:add"} 1');
  });
});

describe('Manager: reconcile loggers and queue metrics', () => {
  /** Widgets `names` reconciled by `reconcile`; the JSON lines logged, and the metrics. */
  async function reconcileWidgets(names: string[], reconcile: (key: string, log: import('pino').Logger) => Promise<void>) {
    const client = new FakeClient();
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: 'debug' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
    const metrics = new OperatorMetrics({ processMetrics: false });
    const manager = new Manager({ client: client as unknown as KubeClient, log, metrics, defaultConcurrency: 1, queue: { baseDelayMs: 60_000 } });
    manager.add({ name: 'widget', for: { name: 'widgets', resource: Widgets }, reconciler: { reconcile: (key, ctx) => reconcile(key, ctx.log!) } });
    void manager.start(() => {});
    await manager.waitForSync();
    for (const [i, n] of names.entries()) client.push(Widgets, { type: 'ADDED', object: widget(n, String(i + 1)) });
    await tick(200);
    await manager.stop();
    const series = (await metrics.registry.metrics()).split('\n').filter((l) => l && !l.startsWith('#'));
    return { lines, series };
  }

  it("gives each reconcile the controller's logger with the object's name and one reconcileID, and logs a failure with its cause chain", async () => {
    const { lines } = await reconcileWidgets(['a', 'b'], async (key, log) => {
      log.info('Converging');
      if (key === 'b') throw new Error('Apply of the Part failed', { cause: new Error('connection reset by peer') });
    });
    const of = (name: string) => lines.filter((l) => l.name === name);
    for (const name of ['a', 'b']) {
      expect(of(name)[0]).toMatchObject({ controller: 'widget', controllerGroup: 'test.dev', controllerKind: 'Widget', name, msg: 'Converging' });
      expect(new Set(of(name).map((l) => l.reconcileID)).size).toBe(1);
    }
    expect(of('a')[0]!.reconcileID).toMatch(/^[0-9a-f-]{36}$/);
    expect(of('a')[0]!.reconcileID).not.toBe(of('b')[0]!.reconcileID);
    const failed = of('b').find((l) => l.msg === 'Reconcile failed; retrying') as { err: { type: string; message: string; stack: string } } | undefined;
    expect(failed?.err.type).toBe('Error');
    expect(failed?.err.message).toBe('Apply of the Part failed: connection reset by peer');
    expect(failed?.err.stack).toContain('caused by: Error: connection reset by peer');
  });

  it('counts what controller-runtime counts: workqueue adds, queue and work durations, retries, and reconciles by result', async () => {
    const { series } = await reconcileWidgets(['a', 'b'], async (key) => {
      await tick(30);
      if (key === 'b') throw new Error('boom');
    });
    const value = (line: string) => Number(series.find((s) => s.startsWith(`${line} `))?.split(' ')[1]);
    const q = '{name="widget",controller="widget"}';
    expect(value(`workqueue_adds_total${q}`)).toBe(2);
    expect(value(`workqueue_queue_duration_seconds_count${q}`)).toBe(2);
    // b waited in the queue while a was reconciled (one worker).
    expect(value(`workqueue_queue_duration_seconds_sum${q}`)).toBeGreaterThan(0.02);
    expect(value(`workqueue_work_duration_seconds_count${q}`)).toBe(2);
    expect(value(`workqueue_work_duration_seconds_sum${q}`)).toBeGreaterThan(0.05);
    expect(value(`workqueue_retries_total${q}`)).toBe(1);
    expect(value(`workqueue_depth${q}`)).toBe(0);
    expect(value(`workqueue_unfinished_work_seconds${q}`)).toBe(0);
    expect(value('controller_runtime_reconcile_total{controller="widget",result="success"}')).toBe(1);
    expect(value('controller_runtime_reconcile_total{controller="widget",result="error"}')).toBe(1);
    expect(value('controller_runtime_reconcile_errors_total{controller="widget"}')).toBe(1);
    expect(value('controller_runtime_reconcile_time_seconds_count{controller="widget"}')).toBe(2);
    expect(value('controller_runtime_max_concurrent_reconciles{controller="widget"}')).toBe(1);
    expect(value('controller_runtime_active_workers{controller="widget"}')).toBe(0);
  });
});

describe('Manager: owned objects', () => {
  it("wakes the owner only for a controller reference of the primary's group and kind (a Widget of another API group is someone else's)", async () => {
    const client = new FakeClient();
    const manager = new Manager({ client: client as unknown as KubeClient, log: pino({ level: 'silent' }), metrics: new OperatorMetrics({ processMetrics: false }), defaultConcurrency: 1 });
    const reconciled: string[] = [];
    manager.add({ name: 'widget', for: { name: 'widgets', resource: Widgets }, owns: [{ name: 'parts', resource: Parts }], reconciler: { reconcile: async (key) => void reconciled.push(key) } });
    void manager.start(() => {});
    await manager.waitForSync();
    const ownedBy = (name: string, apiVersion: string): AnyObject => ({
      apiVersion: 'test.dev/v1',
      kind: 'Part',
      metadata: { name: `${name}-part`, uid: `p-${name}`, resourceVersion: '1', ownerReferences: [{ apiVersion, kind: 'Widget', name, uid: `w-${name}`, controller: true }] },
    });
    client.push(Parts, { type: 'ADDED', object: ownedBy('theirs', 'other.example/v1') });
    client.push(Parts, { type: 'ADDED', object: ownedBy('ours', 'test.dev/v1') });
    await tick(200);
    await manager.stop();
    expect(reconciled).toEqual(['ours']);
  });
});
