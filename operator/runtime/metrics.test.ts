// The process metrics under prom-client's standard names (stock Node.js dashboards read
// them), checked against prom-client's own collectDefaultMetrics; and miniapps_build_info.
import { Registry, collectDefaultMetrics } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { findTool, run } from '../testenv/tools.ts';
import { OperatorMetrics } from './metrics.ts';
import { VERSION } from './version.ts';

const promtool = findTool('promtool');
type Described = { name: string; help: string; type: string };
const describe_ = (r: Registry) => (r.getMetricsAsArray() as unknown as Described[]).map((m) => ({ name: m.name, help: m.help, type: String(m.type) }));

describe('process metrics', () => {
  const ours = describe_(new OperatorMetrics().registry);
  const standard = (() => {
    const r = new Registry();
    collectDefaultMetrics({ register: r });
    return describe_(r);
  })();

  it("are prom-client's default metrics (name, type and help), not renamed", () => {
    const processAndNode = ours.filter((m) => /^(process|nodejs)_/.test(m.name));
    expect(processAndNode.map((m) => m.name)).toEqual(
      expect.arrayContaining(['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds', 'process_open_fds', 'nodejs_heap_size_used_bytes', 'nodejs_version_info']),
    );
    for (const m of processAndNode)
      expect(
        standard.find((s) => s.name === m.name),
        m.name,
      ).toEqual(m);
    expect(ours.filter((m) => m.name.startsWith('miniapps_process_'))).toEqual([]);
  });

  it('read real values when scraped', async () => {
    const text = await new OperatorMetrics().registry.metrics();
    const value = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1]);
    expect(value('process_resident_memory_bytes')).toBeGreaterThan(1e6);
    expect(value('process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(value('process_cpu_seconds_total')).toBeCloseTo(value('process_cpu_user_seconds_total') + value('process_cpu_system_seconds_total'), 5);
    expect(value('process_open_fds')).toBeGreaterThan(2);
    expect(value('process_max_fds')).toBeGreaterThan(value('process_open_fds'));
    expect(text).toContain(`nodejs_version_info{version="${process.version}",`);
  });
});

describe('miniapps_build_info', () => {
  it('is 1 with the version and Node.js version, and the revision only when the build recorded it', async () => {
    const before = process.env.MINIAPPS_REVISION;
    try {
      delete process.env.MINIAPPS_REVISION;
      expect(await new OperatorMetrics({ processMetrics: false }).registry.getSingleMetricAsString('miniapps_build_info')).toContain(
        `miniapps_build_info{version="${VERSION}",node_version="${process.versions.node}"} 1`,
      );
      process.env.MINIAPPS_REVISION = 'abc123';
      expect(await new OperatorMetrics({ processMetrics: false, version: '9.9.9' }).registry.getSingleMetricAsString('miniapps_build_info')).toContain(
        `miniapps_build_info{version="9.9.9",node_version="${process.versions.node}",revision="abc123"} 1`,
      );
    } finally {
      if (before === undefined) delete process.env.MINIAPPS_REVISION;
      else process.env.MINIAPPS_REVISION = before;
    }
  });
});

describe.skipIf(!promtool)('promtool check metrics', () => {
  it("finds nothing to say about a scrape with every controller and queue series set (the health itest checks a real operator's)", async () => {
    const m = new OperatorMetrics();
    const hooks = m.workQueueHooks('widget', () => ({ depth: 1, inFlightSeconds: () => [0.5] }));
    hooks.onAdd?.();
    hooks.onGet?.(0.01);
    hooks.onDone?.(0.2);
    hooks.onRetry?.();
    m.crReconcileTotal.inc({ controller: 'widget', result: 'success' });
    m.crReconcileTime.observe({ controller: 'widget' }, 0.2);
    expect(run(promtool!, ['check', 'metrics'], await m.registry.metrics())).toBe('');
  });
});
