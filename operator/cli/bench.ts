#!/usr/bin/env node
// `npm run bench`: how fast the operator converges at scale, against the floor of the same
// API writes from a plain client, and what it costs in CPU and memory.
//
//   node operator/cli/bench.ts [--n=1000] [--concurrency=16] [--kubeconfig=PATH]
//                              [--scenario=organizations] [--cpu-prof[=DIR]]
//   node operator/cli/bench.ts --scenario=memberships [--orgs=20] [--members=100] [...]
//   node operator/cli/bench.ts --scenario=catalogs [--orgs=50] [--miniapps=5000] [...]
//   node operator/cli/bench.ts --scenario=scale [--orgs=10000] [--member-orgs=200] [--members=100] [...]
//   node operator/cli/bench.ts --scenario=apikeys [--n=10000] [...]
//   node operator/cli/bench.ts --scenario=tenants [--users=10000] [--groups=50] [...]
//   node operator/cli/bench.ts --scenario=tokenroles [--users=1000] [--connections=16] [--seconds=10] [...]
//   node operator/cli/bench.ts --scenario=verify [--keys=10000] [--connections=16] [--seconds=10] [...]
//   node operator/cli/bench.ts --scenario=identity [--accounts=8] [--connections=4] [--seconds=10] [...]
//   node operator/cli/bench.ts --scenario=console [--requests=2000] [--objects=20] [...]
//   node operator/cli/bench.ts --scenario=console-page [--miniapps=2000] [--rounds=5] [...]
//   node operator/cli/bench.ts --scenario=image [--starts=5] [...]
//
// Starts a local control plane (etcd + kube-apiserver + kube-controller-manager, crds/
// installed) unless --kubeconfig names an existing cluster. Prints a table, then as the
// last line a JSON summary. Progress goes to stderr. The operator, the control plane and
// (on an existing cluster) the objects made are cleaned up even on error or Ctrl-C.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { apikeys, verify } from '../bench/apikeys.ts';
import { catalogs } from '../bench/catalogs.ts';
import { identityScenario } from '../bench/identity.ts';
import { consoleProxy } from '../bench/console.ts';
import { consolePage } from '../bench/console-page.ts';
import { image } from '../bench/image.ts';
import { DEFAULT_CONCURRENCY } from '../bench/operator.ts';
import { memberships } from '../bench/memberships.ts';
import { organizations } from '../bench/organizations.ts';
import { scale } from '../bench/scale.ts';
import { tenants, tokenRolesScenario } from '../bench/tenants.ts';
import type { BenchContext, Scenario, ScenarioResult } from '../bench/scenario.ts';
import { errorMessage } from '../runtime/errors.ts';
import { KubeClient } from '../runtime/kube/client.ts';
import { ControlPlane, REPO_ROOT } from '../testenv/controlplane.ts';

const SCENARIOS: Record<string, Scenario> = Object.fromEntries(
  [organizations, memberships, catalogs, scale, apikeys, verify, tenants, tokenRolesScenario, identityScenario, consoleProxy, consolePage, image].map((s) => [s.name, s]),
);

/** Every scenario's own size flags, e.g. --orgs of memberships. */
const SIZE_FLAGS = Object.values(SCENARIOS).flatMap((s) => Object.entries(s.sizes ?? {}).map(([flag, d]) => ({ scenario: s.name, flag, ...d })));

const USAGE = `Usage: node operator/cli/bench.ts [flags]

  --n=N               objects to create (default 1000; scenarios with size flags of their own take those)
  --concurrency=C     writes in flight, and the operator's --concurrency (default ${DEFAULT_CONCURRENCY})
  --kubeconfig=PATH   use this cluster instead of starting a local control plane
  --scenario=NAME     ${Object.values(SCENARIOS)
    .map((s) => `${s.name}: ${s.description}`)
    .join('; ')}
  --cpu-prof[=DIR]    write the operator's V8 CPU profile to DIR (default .bench/) and summarise it
${SIZE_FLAGS.map((f) => `  ${`--${f.flag}=N`.padEnd(18)}  ${f.scenario}: ${f.help} (default ${f.default})`).join('\n')}`;

/** Cleanup actions, run once, last registered first. */
class Cleanup {
  private readonly actions: { what: string; fn: () => Promise<void> }[] = [];
  private running?: Promise<void>;
  private readonly log: (line: string) => void;
  constructor(log: (line: string) => void) {
    this.log = log;
  }

  add(what: string, fn: () => Promise<void>): void {
    this.actions.push({ what, fn });
  }

  run(): Promise<void> {
    this.running ??= (async () => {
      for (const { what, fn } of this.actions.reverse()) {
        try {
          await fn();
        } catch (err) {
          this.log(`[bench] could not ${what}: ${errorMessage(err)}`);
        }
      }
    })();
    return this.running;
  }
}

function positiveInt(flag: string, raw: string | undefined, def: number): number {
  if (raw === undefined) return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag} must be a whole number of at least 1, got ${JSON.stringify(raw)}`);
  return n;
}

function printTable(result: ScenarioResult): void {
  const rows = result.table.flatMap((s) => s.figures);
  const labelWidth = Math.max(...rows.map((r) => r.label.length));
  const valueWidth = Math.max(...rows.map((r) => String(r.value).length));
  const lines: string[] = [];
  for (const section of result.table) {
    lines.push('', section.phase);
    for (const f of section.figures) lines.push(`  ${f.label.padEnd(labelWidth)}  ${String(f.value).padStart(valueWidth)} ${f.unit ?? ''}`.trimEnd());
  }
  process.stdout.write(`${lines.join('\n')}\n\n`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      n: { type: 'string' },
      concurrency: { type: 'string' },
      kubeconfig: { type: 'string' },
      scenario: { type: 'string', default: organizations.name },
      'cpu-prof': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      ...Object.fromEntries(SIZE_FLAGS.map((f) => [f.flag, { type: 'string' as const }])),
    },
    // A bare --cpu-prof takes the default directory.
    args: process.argv.slice(2).map((a) => (a === '--cpu-prof' ? '--cpu-prof=' : a)),
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const scenario = SCENARIOS[values.scenario];
  if (!scenario) throw new Error(`unknown --scenario ${values.scenario}; known: ${Object.keys(SCENARIOS).join(', ')}`);
  const given = values as Record<string, string | boolean | undefined>;
  const stray = SIZE_FLAGS.find((f) => given[f.flag] !== undefined && !scenario.sizes?.[f.flag]);
  if (stray) throw new Error(`--${stray.flag} is a flag of scenario ${stray.scenario}, not of ${scenario.name}`);
  if (scenario.n && values.n !== undefined)
    throw new Error(
      `scenario ${scenario.name} takes ${Object.keys(scenario.sizes ?? {})
        .map((k) => `--${k}`)
        .join(' and ')}, not --n`,
    );
  const sizes = Object.fromEntries(Object.entries(scenario.sizes ?? {}).map(([flag, d]) => [flag, positiveInt(flag, given[flag] as string | undefined, d.default)]));
  const n = scenario.n ? scenario.n(sizes) : positiveInt('n', values.n, 1000);
  const concurrency = positiveInt('concurrency', values.concurrency, DEFAULT_CONCURRENCY);
  const cpuProfDir = values['cpu-prof'] === undefined ? undefined : resolve(values['cpu-prof'] || join(REPO_ROOT, '.bench'));
  if (cpuProfDir) mkdirSync(cpuProfDir, { recursive: true });

  const log = (line: string) => process.stderr.write(`${line}\n`);
  const cleanup = new Cleanup(log);
  const interrupted = (signal: NodeJS.Signals) => {
    log(`[bench] ${signal}: cleaning up`);
    void cleanup.run().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);

  try {
    let kubeconfig = values.kubeconfig;
    if (!kubeconfig) {
      log('[bench] starting a local control plane');
      const cp = await ControlPlane.start({ crdDir: join(REPO_ROOT, 'crds'), log });
      cleanup.add('stop the control plane', () => cp.stop());
      kubeconfig = cp.kubeconfigPath;
    }
    const client = KubeClient.fromKubeconfig(kubeconfig, { fieldManager: 'miniapps-bench', connections: Math.max(16, concurrency * 2), userAgent: 'miniapps-bench' });
    cleanup.add('close the client', () => client.close());
    const ctx: BenchContext = {
      kubeconfig,
      client,
      n,
      sizes,
      concurrency,
      runId: randomBytes(3).toString('hex'),
      disposableCluster: !values.kubeconfig,
      cpuProfDir,
      log,
      defer: (what, fn) => cleanup.add(what, fn),
    };
    log(
      `[bench] scenario ${scenario.name}, N=${n}${Object.entries(sizes)
        .map(([k, v]) => ` ${k}=${v}`)
        .join('')}, concurrency ${concurrency}, run ${ctx.runId}`,
    );
    const result = await scenario.run(ctx);
    printTable(result);
    process.stdout.write(`${JSON.stringify(result.summary)}\n`);
    return 0;
  } finally {
    await cleanup.run();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
