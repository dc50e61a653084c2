// The operator under test, as a child process with production timings.
import { SETTINGS } from '../runtime/config.ts';
import type { KubeClient } from '../runtime/kube/client.ts';
import { Resources } from '../runtime/kube/resource.ts';
import { webhookRegistrationName } from '../servers/webhook.ts';
import { eventually } from '../testenv/eventually.ts';
import { OperatorProcess, warmCompileCache } from '../testenv/operator-process.ts';
import { parseMetrics, sampleProcess } from './measure.ts';
import type { MetricSet, ProcessSample } from './measure.ts';
import type { BenchContext } from './scenario.ts';

/** The operator's own default for --concurrency (per controller). */
export const DEFAULT_CONCURRENCY = Number(SETTINGS.concurrency.default());

/** Production leader-election timings (OperatorProcess defaults to fast test timings). */
const PRODUCTION_LEADER_ELECTION = (['leaseDuration', 'renewDeadline', 'retryPeriod'] as const).map((k) => `--${SETTINGS[k].flag}=${SETTINGS[k].default()}`);

export interface BenchOperator {
  readonly process: OperatorProcess;
  readonly pid: number;
  readonly namespace: string;
  sample(): ProcessSample;
  /** With --trace-gc: the heap V8 found live at its last full collection (MB), if it made one. */
  liveHeapMB(): number | undefined;
  metrics(): Promise<MetricSet>;
  /** SIGTERM and wait; throws when it exits other than cleanly. */
  stop(): Promise<void>;
}

/** Starts the operator in its own namespace and waits until /readyz says its caches synced. `args`: more flags (e.g. the SMTP server). */
export async function startOperator(ctx: BenchContext, namespace: string, opts: { args?: string[]; nodeFlags?: string[] } = {}): Promise<BenchOperator> {
  const env: NodeJS.ProcessEnv = {};
  if (ctx.cpuProfDir) env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --cpu-prof --cpu-prof-dir=${ctx.cpuProfDir}`.trim();
  // The operator starts as from the image: its modules' stripped and compiled code already in the cache.
  warmCompileCache(opts.nodeFlags);
  const op = await OperatorProcess.start({
    kubeconfig: ctx.kubeconfig,
    namespace,
    // No acceptance page: nothing measured uses it, and its default :8081 may be taken on a shared machine.
    args: [...PRODUCTION_LEADER_ELECTION, `--concurrency=${ctx.concurrency}`, '--public-bind-address=0', ...(opts.args ?? [])],
    nodeFlags: opts.nodeFlags,
    env,
  });
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    const exit = await op.stop();
    if (exit.code !== 0) throw new Error(`the operator exited with ${exit.code ?? exit.signal}: ${op.describe()}`);
  };
  ctx.defer('stop the operator', stop);
  await eventually(() => op.ready(), { timeoutMs: 60_000, intervalMs: 100, describe: 'the operator to be ready' });
  const pid = op.pid!;
  return {
    process: op,
    pid,
    namespace,
    sample: () => sampleProcess(pid),
    liveHeapMB: () => {
      // "... Mark-Compact 48.1 (70.2) -> 45.2 (69.0) MB, ..." (used (committed) before -> after)
      for (let i = op.stderr.length - 1; i >= 0; i--) {
        const m = /Mark-Compact[^\n]*?-> ([\d.]+) \(/.exec(op.stderr[i]!);
        if (m) return Number(m[1]);
      }
      return undefined;
    },
    metrics: async () => parseMetrics(await op.metrics()),
    stop,
  };
}

/**
 * Removes the validating webhook the operator registered for itself out of cluster.
 * Its failurePolicy is Ignore, but the API server would still call the dead address on
 * every write of a stopped operator.
 */
export async function removeOperatorWebhook(client: KubeClient, namespace: string): Promise<void> {
  await client.delete(Resources.ValidatingWebhookConfiguration, webhookRegistrationName(namespace));
}
