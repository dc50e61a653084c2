// What a benchmark scenario is: given a cluster and a client, it runs its phases and
// returns figures for the table and a one-line JSON summary. `npm run bench` picks one
// by name (operator/cli/bench.ts); see ./organizations.ts for the first.
import type { KubeClient } from '../runtime/kube/client.ts';

export interface BenchContext {
  /** Admin kubeconfig of the cluster under test. */
  kubeconfig: string;
  /** An admin client (its own connection pool) for the bench's own writes and reads. */
  client: KubeClient;
  /** How many objects the scenario creates (its unit of scale). */
  n: number;
  /** The values of the scenario's own size flags (Scenario.sizes), defaults filled in. */
  sizes: Record<string, number>;
  /** Writes in flight at once, and the operator's --concurrency. */
  concurrency: number;
  /** Short random id: names and labels of this run never collide with another's. */
  runId: string;
  /** True for the control plane the bench started (thrown away after); false for --kubeconfig, where the scenario deletes what it made. */
  disposableCluster: boolean;
  /** When set, the operator writes a V8 CPU profile into this directory on exit. */
  cpuProfDir?: string;
  /** Progress lines (stderr), not part of the report. */
  log: (line: string) => void;
  /** Registers cleanup that runs at the end, even on error or SIGINT; last registered runs first. */
  defer: (what: string, fn: () => Promise<void>) => void;
}

export interface Figure {
  label: string;
  value: number | string;
  unit?: string;
}

export interface ScenarioResult {
  /** The human-readable table, one section per phase. */
  table: { phase: string; figures: Figure[] }[];
  /** Printed as the last line of output, as JSON. */
  summary: { bench: string; n: number } & Record<string, number | string | boolean | null>;
}

export interface Scenario {
  name: string;
  description: string;
  /** Whole-number flags of its own (`--orgs=20`), with defaults; without them its scale is --n. */
  sizes?: Record<string, { default: number; help: string }>;
  /** Its unit of scale (BenchContext.n) from its sizes, when it has them. */
  n?: (sizes: Record<string, number>) => number;
  run(ctx: BenchContext): Promise<ScenarioResult>;
}
