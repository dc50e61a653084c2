#!/usr/bin/env node
// A local control plane (etcd + kube-apiserver + kube-controller-manager) that outlives
// the command, for `npm run demo` and hands-on work.
//
//   node operator/cli/cluster.ts up       start it (builds the binaries on first use), install crds/
//   node operator/cli/cluster.ts status   show whether it runs, where, and its pids
//   node operator/cli/cluster.ts down     stop it and remove .cluster/
//
// `up` spawns a detached supervisor (`cluster.ts serve`) that holds the ControlPlane and
// stops it on SIGTERM/SIGINT/SIGHUP; the components die with the supervisor. Everything
// lives in .cluster/ at the repo root: kubeconfig, state.json, supervisor.log, data/
// (certificates, etcd data, component logs).
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ControlPlane, REPO_ROOT, localOperatorArgs } from '../testenv/controlplane.ts';
import { freePort } from '../testenv/eventually.ts';
import { processAlive, tailFile } from '../testenv/process.ts';

const CLUSTER_DIR = join(REPO_ROOT, '.cluster');
const STATE = join(CLUSTER_DIR, 'state.json');
const KUBECONFIG = join(CLUSTER_DIR, 'kubeconfig');
const SUPERVISOR_LOG = join(CLUSTER_DIR, 'supervisor.log');
const DATA_DIR = join(CLUSTER_DIR, 'data');

export interface ClusterState {
  supervisorPid: number;
  pids: Record<string, number | undefined>;
  ports: { etcd: number; apiServer: number };
  server: string;
  kubeconfig: string;
  workDir: string;
  binDir: string;
  logs: Record<string, string>;
  startedAt: string;
  /** The flags that make an operator serve this API server's authentication webhook (API keys with kubectl --token). */
  operatorArgs: string[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const alive = processAlive;

function readState(): ClusterState | undefined {
  try {
    return JSON.parse(readFileSync(STATE, 'utf8')) as ClusterState;
  } catch {
    return undefined;
  }
}

function usage(state: ClusterState): string {
  return [
    `control plane running at ${state.server} (supervisor pid ${state.supervisorPid})`,
    '',
    `  export KUBECONFIG=${state.kubeconfig}`,
    `  export PATH=${state.binDir}:$PATH   # kubectl, matching the server version`,
    '  kubectl get crds',
    '',
    'the API server authenticates API keys, and trusts the embedded identity provider (docs/identity.md), through an operator started with:',
    `  npm start -- --kubeconfig=${state.kubeconfig} ${(state.operatorArgs ?? []).join(' ')}`,
    '',
    `logs: ${Object.values(state.logs).join(' ')}`,
    'stop with: npm run cluster:down',
  ].join('\n');
}

async function up(): Promise<number> {
  const existing = readState();
  if (existing && alive(existing.supervisorPid)) {
    console.log(usage(existing));
    return 0;
  }
  if (existsSync(CLUSTER_DIR)) {
    if (existing) await down(true);
    rmSync(CLUSTER_DIR, { recursive: true, force: true });
  }
  mkdirSync(CLUSTER_DIR, { recursive: true });
  const fd = openSync(SUPERVISOR_LOG, 'a');
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'serve'], {
    cwd: REPO_ROOT,
    detached: true,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  child.unref();
  const pid = child.pid;
  console.error(`starting control plane (supervisor pid ${pid}, log ${SUPERVISOR_LOG})`);

  // Follow the supervisor log until it reports ready (state.json) or dies.
  let shown = 0;
  const follow = () => {
    let text = '';
    try {
      text = readFileSync(SUPERVISOR_LOG, 'utf8');
    } catch {}
    if (text.length > shown) {
      process.stderr.write(text.slice(shown));
      shown = text.length;
    }
  };
  for (;;) {
    follow();
    const state = readState();
    if (state) {
      console.log(usage(state));
      return 0;
    }
    if (!alive(pid)) {
      await sleep(200);
      follow();
      console.error(`control plane failed to start; see ${SUPERVISOR_LOG}`);
      return 1;
    }
    await sleep(300);
  }
}

async function serve(): Promise<void> {
  const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  let cp: ControlPlane | undefined;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`[cluster] ${signal}: stopping`);
    try {
      await cp?.stop();
    } finally {
      rmSync(STATE, { force: true });
      process.exit(0);
    }
  };
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => void stop(sig));

  cp = await ControlPlane.start({ workDir: DATA_DIR, keepWorkDir: true, crdDir: join(REPO_ROOT, 'crds'), log, tokenWebhook: true, identity: true });
  if (stopping) return;
  copyFileSync(cp.kubeconfigPath, KUBECONFIG);
  const state: ClusterState = {
    supervisorPid: process.pid,
    pids: cp.pids(),
    ports: cp.ports,
    server: cp.server,
    kubeconfig: KUBECONFIG,
    workDir: cp.workDir,
    binDir: cp.binDir,
    logs: { supervisor: SUPERVISOR_LOG, ...cp.logFiles() },
    startedAt: new Date().toISOString(),
    operatorArgs: localOperatorArgs(cp.tokenWebhook, await freePort(), cp.identity),
  };
  writeFileSync(`${STATE}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(`${STATE}.tmp`, STATE);
  log('[cluster] ready');
  // Keep the event loop alive until a signal arrives.
  setInterval(() => {}, 1 << 30);
}

async function down(quiet = false): Promise<number> {
  const state = readState();
  if (state && alive(state.supervisorPid)) {
    process.kill(state.supervisorPid, 'SIGTERM');
    const deadline = Date.now() + 30_000;
    while (alive(state.supervisorPid) && Date.now() < deadline) await sleep(200);
    if (alive(state.supervisorPid)) process.kill(state.supervisorPid, 'SIGKILL');
  }
  // The components die with the supervisor (pdeathsig); make sure anyway.
  for (const pid of Object.values(state?.pids ?? {})) {
    if (alive(pid)) {
      try {
        process.kill(pid!, 'SIGKILL');
      } catch {}
    }
  }
  rmSync(CLUSTER_DIR, { recursive: true, force: true });
  if (!quiet) console.log(state ? 'control plane stopped; .cluster/ removed' : 'no control plane was running; .cluster/ removed');
  return 0;
}

function status(): number {
  const state = readState();
  if (!state) {
    console.log('no control plane (run: npm run cluster:up)');
    return 1;
  }
  if (!alive(state.supervisorPid)) {
    console.log(`control plane is not running (stale ${STATE}; supervisor log tail:)\n${tailFile(SUPERVISOR_LOG, 20)}`);
    return 1;
  }
  const ready = spawnSync(join(state.binDir, 'kubectl'), [`--kubeconfig=${state.kubeconfig}`, 'get', '--raw', '/readyz'], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  const procs = Object.entries(state.pids)
    .map(([name, pid]) => `${name}=${pid}${alive(pid) ? '' : '(dead)'}`)
    .join(' ');
  console.log(`readyz: ${ready.status === 0 ? ready.stdout.trim() : `FAILED ${ready.stderr.trim()}`}`);
  console.log(`pids: supervisor=${state.supervisorPid} ${procs}; ports: ${JSON.stringify(state.ports)}; work dir: ${state.workDir}`);
  console.log(usage(state));
  return ready.status === 0 ? 0 : 1;
}

const cmd = process.argv[2];
switch (cmd) {
  case 'up':
    process.exitCode = await up();
    break;
  case 'serve':
    await serve().catch((err: unknown) => {
      console.error(err instanceof Error ? (err.stack ?? err.message) : err);
      process.exit(1);
    });
    break;
  case 'down':
    process.exitCode = await down();
    break;
  case 'status':
    process.exitCode = status();
    break;
  default:
    console.error('usage: node operator/cli/cluster.ts up|down|status');
    process.exitCode = 2;
}
