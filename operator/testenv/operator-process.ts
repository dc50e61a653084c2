// Runs the operator as a real child process (`node operator/cli/main.ts`) for
// integration tests that kill it, restart it or run two at once.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { fileURLToPath } from 'node:url';
import { eventually } from './eventually.ts';

const MAIN = fileURLToPath(new URL('../cli/main.ts', import.meta.url));
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

export interface LogLine {
  level: string;
  msg: string;
  [key: string]: unknown;
}

export interface OperatorProcessOptions {
  /** Its --kubeconfig; undefined for none (KUBECONFIG or the in-cluster service account, from env). */
  kubeconfig: string | undefined;
  /** The operator's own namespace (its Lease, its webhook registration). */
  namespace: string;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** Wait for the "Operator started" line (default true). */
  waitForStart?: boolean;
  /** More flags for node itself, after OPERATOR_NODE_FLAGS (e.g. --trace-gc, which NODE_OPTIONS may not carry). */
  nodeFlags?: string[];
  /** Another copy of operator/cli/main.ts to run (the image's layout), and the directory it runs in. */
  main?: string;
  cwd?: string;
}

/**
 * The heap Node gives the operator in the chart's default container, stated for a process
 * that runs on the bare machine: in the container Node reads the 512 MiB memory limit from
 * the cgroup, and `--max-old-space-size-percentage=75` (the chart's heapPercentage) gives
 * the old space 384 MiB, beside the 1 MiB semi-spaces V8 picks for that size. Without
 * these, V8 would size the heap from this machine's memory (and its young generation
 * alone would be larger than the operator). operator-process.test.ts checks the equivalence.
 */
export const OPERATOR_NODE_FLAGS = ['--max-old-space-size=384', '--max-semi-space-size=1'];

/**
 * Node's compile cache for the operator processes that tests and benchmarks start: the
 * stripped TypeScript and V8 code of its modules, as the image carries them (Dockerfile),
 * so a started operator does not load the type stripper. Keyed by file content: an edit
 * only misses for the files edited.
 */
export const OPERATOR_COMPILE_CACHE = fileURLToPath(new URL('../../node_modules/.cache/node-compile-cache', import.meta.url));

/**
 * Fills the compile cache with every module the operator loads at start (as the
 * Dockerfile does), so that the process measured next starts as it would from the image.
 */
export function warmCompileCache(nodeFlags: string[] = []): void {
  // V8 flags (--trace-gc) key the cache: the same ones as the process measured next.
  const res = spawnSync(process.execPath, [...OPERATOR_NODE_FLAGS, ...nodeFlags, MAIN, '--help'], { env: { NODE_COMPILE_CACHE: OPERATOR_COMPILE_CACHE, ...process.env }, encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`node ${MAIN} --help failed (${res.status ?? res.signal}): ${res.stderr}`);
}

/** Short leader-election timings, so that failover tests take seconds. */
export const FAST_LEADER_ELECTION = ['--lease-duration=4s', '--renew-deadline=3s', '--retry-period=500ms'];

export class OperatorProcess {
  readonly logs: LogLine[] = [];
  readonly stderr: string[] = [];
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;
  healthPort = 0;
  /** The acceptance page's port, when it listens. */
  publicPort = 0;
  /** The API server's TLS listener (the validating and authentication webhooks), when it listens. */
  webhookPort = 0;
  /** The APIs' TLS listener (verify, data protection, token roles, /metrics with --metrics-secure), when it listens. */
  apiPort = 0;
  /** The plain HTTP verify endpoint's port, when it listens. */
  verifyPort = 0;
  /** The embedded identity provider's port, when it listens (--identity-bind-address). */
  identityPort = 0;

  private constructor(opts: OperatorProcessOptions) {
    const args = [
      ...OPERATOR_NODE_FLAGS,
      ...(opts.nodeFlags ?? []),
      opts.main ?? MAIN,
      ...(opts.kubeconfig ? [`--kubeconfig=${opts.kubeconfig}`] : []),
      `--namespace=${opts.namespace}`,
      '--http-bind-address=127.0.0.1:0',
      '--webhook-bind-address=127.0.0.1:0',
      '--api-bind-address=127.0.0.1:0',
      // Tests read /metrics over plain HTTP (metrics() below); security-endpoints.itest and
      // health.itest pass --metrics-secure=true and read it as an authorized caller would.
      '--metrics-secure=false',
      '--public-bind-address=127.0.0.1:0',
      '--verify-bind-address=127.0.0.1:0',
      ...FAST_LEADER_ELECTION,
      ...(opts.args ?? []),
    ];
    // setpriv --pdeathsig: the operator dies with the test worker, never orphaned.
    const [cmd, argv] = SETPRIV ? [SETPRIV, ['--pdeathsig', 'KILL', '--', process.execPath, ...args]] : [process.execPath, args];
    this.child = spawn(cmd, argv, { cwd: opts.cwd, env: { NODE_COMPILE_CACHE: OPERATOR_COMPILE_CACHE, ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let buffered = '';
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        try {
          const parsed = JSON.parse(line) as LogLine;
          this.logs.push(parsed);
          // The operator, or the identity provider alone (--identity-only): each logs its ports once started.
          if (parsed.msg === 'Operator started' || parsed.msg === 'Identity provider started') {
            this.healthPort = parsed.port as number;
            this.publicPort = (parsed.publicPort as number | undefined) ?? 0;
            this.webhookPort = (parsed.webhookPort as number | undefined) ?? 0;
            this.apiPort = (parsed.apiPort as number | undefined) ?? 0;
            this.verifyPort = (parsed.verifyPort as number | undefined) ?? 0;
            this.identityPort = (parsed.identityPort as number | undefined) ?? 0;
          }
        } catch {
          this.stderr.push(line);
        }
      }
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => this.stderr.push(chunk));
    this.exit = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  static async start(opts: OperatorProcessOptions): Promise<OperatorProcess> {
    const p = new OperatorProcess(opts);
    if (opts.waitForStart !== false) {
      let exited = false;
      void p.exit.then(() => (exited = true));
      // Started and ready: caches synced, so the webhook answers and reconciles see everything.
      await eventually(
        async () => {
          if (exited) throw new Error(`operator exited at start: ${p.describe()}`);
          return p.healthPort > 0 && (await p.ready());
        },
        { timeoutMs: 30_000, describe: 'the operator to start and be ready' },
      );
    }
    return p;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  describe(): string {
    return [...this.logs.slice(-15).map((l) => JSON.stringify(l)), ...this.stderr.slice(-10)].join('\n');
  }

  /** Set by readMetricsAs: /metrics read over TLS on the API port, as that caller (an operator started with --metrics-secure=true). */
  private metricsReader?: { token: string; caPEM: string };

  /** From now on, metrics() reads /metrics as Prometheus would with --metrics-secure: over TLS, with a token allowed `get` on /metrics. */
  readMetricsAs(reader: { token: string; caPEM: string }): void {
    this.metricsReader = reader;
  }

  /** Prometheus text from /metrics. */
  async metrics(): Promise<string> {
    const r = this.metricsReader;
    if (!r) return (await fetch(`http://127.0.0.1:${this.healthPort}/metrics`)).text();
    return new Promise((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port: this.apiPort, servername: 'localhost', ca: r.caPEM, path: '/metrics', headers: { authorization: `Bearer ${r.token}` } }, (res) => {
        let text = '';
        res
          .setEncoding('utf8')
          .on('data', (c: string) => (text += c))
          .on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`/metrics answered ${res.statusCode}: ${text}`))));
      });
      req.on('error', reject);
      req.end();
    });
  }

  /** The sum of a counter or gauge over the series whose labels include `labels`. */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const text = await this.metrics();
    let sum = 0;
    for (const line of text.split('\n')) {
      const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)$/.exec(line);
      if (!m || m[1] !== name) continue;
      const set = m[2] ?? '';
      if (Object.entries(labels).every(([k, v]) => set.includes(`${k}="${v}"`))) sum += Number(m[3]);
    }
    return sum;
  }

  async ready(): Promise<boolean> {
    const res = await fetch(`http://127.0.0.1:${this.healthPort}/readyz`).catch(() => undefined);
    return res?.status === 200;
  }

  hasLog(msg: string): boolean {
    return this.logs.some((l) => l.msg === msg);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.child.kill(signal);
  }

  /** SIGTERM and wait; returns how it exited. */
  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 20_000);
    const res = await this.exit;
    clearTimeout(timer);
    return res;
  }
}

/** A JSON request over TLS with an optional bearer token, trusting `ca`; the body of the answer parsed (undefined when empty). */
export function httpsJson(
  target: { host: string; port: number; ca: string | Buffer; servername?: string },
  method: string,
  path: string,
  token?: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) };
    const req = httpsRequest({ ...target, path, method, headers }, (res) => {
      let text = '';
      res
        .setEncoding('utf8')
        .on('data', (c: string) => (text += c))
        .on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> });
          } catch {
            reject(new Error(`${method} ${path}: ${res.statusCode} with a body that is not JSON: ${text.slice(0, 200)}`));
          }
        });
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/**
 * A request to an operator's TLS listener (the data-protection and token-roles APIs, the
 * verify endpoint over TLS), trusting `caPEM`, as the callers of those APIs make it.
 */
export function operatorRequest(port: number, caPEM: string, method: 'GET' | 'POST', path: string, token?: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  return httpsJson({ host: '127.0.0.1', port, ca: caPEM, servername: 'localhost' }, method, path, token, body);
}
