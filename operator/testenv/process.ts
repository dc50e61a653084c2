// Child process supervision for the local control plane: output goes to a log file,
// an early death is reported with the log's tail, and no child outlives its parent.
//
// Orphan prevention, in layers:
//  1. each binary is started through `setpriv --pdeathsig KILL` (util-linux), so the
//     kernel SIGKILLs it as soon as the Node process that spawned it dies, even by
//     SIGKILL or a crash;
//  2. a process 'exit' hook SIGKILLs every child still running (covers machines
//     without setpriv and a normal process.exit()).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';

const live = new Set<ManagedProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const p of live) p.killNow();
  });
}

let setprivPath: string | null | undefined;
function findSetpriv(): string | null {
  if (setprivPath !== undefined) return setprivPath;
  setprivPath = null;
  if (process.platform !== 'linux') return null;
  for (const candidate of ['/usr/bin/setpriv', '/bin/setpriv']) {
    if (!existsSync(candidate)) continue;
    const probe = spawnSync(candidate, ['--pdeathsig', 'KILL', '--', 'true'], { stdio: 'ignore' });
    if (probe.status === 0) setprivPath = candidate;
    break;
  }
  return setprivPath;
}

/**
 * Whether `pid` names a live process. A zombie counts as dead: an orphan killed by
 * pdeathsig is reparented to init, which may reap it only much later.
 */
export function processAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return process.platform !== 'linux';
  }
}

/** Last `lines` lines of a text file ('' when missing). */
export function tailFile(path: string, lines = 40): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return '';
  }
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

export interface ManagedProcessOptions {
  name: string;
  command: string;
  args: string[];
  logPath: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export class ManagedProcess {
  readonly name: string;
  readonly logPath: string;
  private readonly opts: ManagedProcessOptions;
  private child: ChildProcess | undefined;
  private exitPromise: Promise<void> = Promise.resolve();
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private stopping = false;
  private spawnError: Error | undefined;

  constructor(opts: ManagedProcessOptions) {
    this.opts = opts;
    this.name = opts.name;
    this.logPath = opts.logPath;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.exitInfo === undefined;
  }

  start(): void {
    if (this.running) throw new Error(`${this.name} is already running`);
    installExitHook();
    const fd = openSync(this.logPath, 'a');
    const setpriv = findSetpriv();
    const [cmd, args] = setpriv ? [setpriv, ['--pdeathsig', 'KILL', '--', this.opts.command, ...this.opts.args]] : [this.opts.command, this.opts.args];
    this.exitInfo = undefined;
    this.spawnError = undefined;
    this.stopping = false;
    let child: ChildProcess;
    try {
      child = spawn(cmd, args, {
        cwd: this.opts.cwd,
        env: this.opts.env ?? process.env,
        stdio: ['ignore', fd, fd],
        detached: false,
      });
    } finally {
      closeSync(fd);
    }
    this.child = child;
    live.add(this);
    this.exitPromise = new Promise<void>((resolve) => {
      const done = (code: number | null, signal: NodeJS.Signals | null) => {
        if (this.exitInfo === undefined) this.exitInfo = { code, signal };
        live.delete(this);
        resolve();
      };
      child.once('exit', done);
      child.once('error', (err) => {
        this.spawnError = err;
        done(null, null);
      });
    });
  }

  /** An Error describing an unexpected exit, with the tail of the log, or undefined while running. */
  failure(): Error | undefined {
    if (this.exitInfo === undefined || this.stopping) return undefined;
    const how = this.spawnError ? `could not be started: ${this.spawnError.message}` : `exited (code ${this.exitInfo.code}, signal ${this.exitInfo.signal})`;
    const tail = tailFile(this.logPath);
    return new Error(`${this.name} ${how}; log ${this.logPath}${tail ? `, last lines:\n${tail}` : ' is empty'}`);
  }

  /** SIGTERM, then SIGKILL after `timeoutMs`; resolves once the process is gone. */
  async stop(timeoutMs = 10_000): Promise<void> {
    const child = this.child;
    if (!child || this.exitInfo !== undefined) return;
    this.stopping = true;
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve();
      }, timeoutMs);
    });
    await Promise.race([this.exitPromise, killed]);
    clearTimeout(timer);
    await this.exitPromise;
  }

  /** Synchronous SIGKILL, for exit hooks. */
  killNow(): void {
    if (this.running) {
      this.stopping = true;
      try {
        this.child?.kill('SIGKILL');
      } catch {}
    }
  }

  /** Resolves when the process exits for any reason. */
  exited(): Promise<void> {
    return this.exitPromise;
  }
}
