// Small measuring tools for the benchmark: a bounded pool of async work, process CPU and
// memory from /proc, and the operator's Prometheus figures.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const seconds = (fromMs: number, toMs = performance.now()): number => (toMs - fromMs) / 1000;

/** The p-th percentile (0 to 100) of samples sorted ascending: the nearest rank; NaN when there are none. */
export const percentile = (sorted: ArrayLike<number>, p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

/** Runs `task(i)` for i in [0, n) with at most `concurrency` in flight; rejects on the first failure. */
export async function pool(n: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async (): Promise<void> => {
    while (failed === undefined && next < n) {
      const i = next++;
      try {
        await task(i);
      } catch (err) {
        failed ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, concurrency) }, worker));
  if (failed !== undefined) throw failed;
}

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    clockTicks = Number(out.stdout?.trim()) || 100;
  }
  return clockTicks;
}

export interface ProcessSample {
  /** utime + stime. */
  cpuSeconds: number;
  /** VmHWM: the resident set's high-water mark. */
  peakRssMB: number;
  /** VmRSS now. */
  rssMB: number;
}

/** CPU time and memory of a live Linux process, from /proc/<pid>/stat and /proc/<pid>/status. */
export function sampleProcess(pid: number): ProcessSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after "(comm) ": state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kB = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { cpuSeconds, peakRssMB: kB('VmHWM') / 1024, rssMB: kB('VmRSS') / 1024 };
}

/** Prometheus text parsed into name → [{labels, value}]. */
export type MetricSet = Map<string, { labels: Record<string, string>; value: number }[]>;

export function parseMetrics(text: string): MetricSet {
  const out: MetricSet = new Map();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})?\s+(\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[k!] = v!;
    const list = out.get(m[1]!) ?? [];
    list.push({ labels, value: Number(m[3]) });
    out.set(m[1]!, list);
  }
  return out;
}

/** The sum of a metric over the series whose labels include `labels`. */
export function metricSum(set: MetricSet, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const s of set.get(name) ?? []) if (Object.entries(labels).every(([k, v]) => s.labels[k] === v)) sum += s.value;
  return sum;
}
