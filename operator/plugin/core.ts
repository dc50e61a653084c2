// What every command of the plugin shares: exit codes, the API and IO it works on, the
// global flags (kubectl's), and how a command runs its work once its input is checked.
import { InvalidArgumentError, Option } from 'commander';
import type { AnyObject, ObjectBody } from '../runtime/kube/client.ts';
import type { ResourceType } from '../runtime/kube/resource.ts';

/** Exit codes. */
export const EXIT = {
  ok: 0,
  /** The API server or the network failed, or anything else went wrong. */
  error: 1,
  /** A command or flag the plugin does not know, or a missing argument. */
  usage: 2,
  notFound: 3,
  /** Refused: RBAC, an admission policy or the operator's webhook said no (the message says why). */
  forbidden: 4,
  /** `delete` was not confirmed with CONFIRM DELETE. */
  notConfirmed: 5,
  /** The object is invalid or conflicts with one that exists (422, 409). */
  invalid: 6,
} as const;

export interface PluginApi {
  get<T extends AnyObject>(rt: ResourceType, name: string, namespace?: string): Promise<T | undefined>;
  /** Every object; `namespace` undefined: all namespaces. */
  list<T extends AnyObject>(rt: ResourceType, namespace?: string): Promise<T[]>;
  create<T extends AnyObject>(rt: ResourceType, obj: ObjectBody): Promise<T>;
  patch<T extends AnyObject>(rt: ResourceType, name: string, namespace: string | undefined, patch: unknown): Promise<T>;
  delete(rt: ResourceType, name: string, namespace?: string): Promise<boolean>;
}

export interface PluginIO {
  out(text: string): void;
  err(text: string): void;
  /** Shows `prompt` and reads one line (undefined at end of input). */
  readLine(prompt: string): Promise<string | undefined>;
}

export interface Connection {
  api: PluginApi;
  /** The kubeconfig context's namespace (kubectl's default), else `default`. */
  defaultNamespace: string;
}

/** kubectl's global flags, as given (the entry point makes the connection from them). */
export interface GlobalOptions {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  as?: string;
  asGroup?: string[];
  /** --request-timeout in milliseconds (0: none), and as written. */
  requestTimeout?: { ms: number; text: string };
}

export interface PluginContext extends Connection {
  io: PluginIO;
  /** The namespace: -n, else the kubeconfig context's. */
  namespace: string;
}

/** What run needs: the IO, and the connection, made only once a command's input is checked (none for --help or a usage error). */
export interface PluginSetup {
  io: PluginIO;
  connect(globals: GlobalOptions): Connection;
}

/** What a command file gets to run its work: `run` connects, runs, and turns what failed into a message and an exit code. */
export interface CommandEnv {
  io: PluginIO;
  run(work: (ctx: PluginContext) => Promise<number>): Promise<void>;
  /** Runs work that needs no cluster connection (login, get-token: no kubeconfig user need exist); its result is the exit code. */
  runOffline(work: () => Promise<number>): Promise<void>;
}

/** A wrong argument or flag value found after parsing (before any request): exit 2. */
export class UsageError extends Error {}

/**
 * kubectl's --request-timeout: a Go duration ("1s", "2m30s", "500ms"), a bare integer of
 * seconds, or 0 for none.
 */
export function parseRequestTimeout(value: string): { ms: number; text: string } {
  const v = value.trim();
  if (/^\d+$/.test(v)) return { ms: Number(v) * 1000, text: v === '0' ? '0' : `${v}s` };
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const parts = [...v.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)];
  if (!parts.length || parts.map((p) => p[0]).join('') !== v) {
    throw new InvalidArgumentError('expected a duration with a unit, such as 30s, 2m or 1m30s (0: no timeout)');
  }
  return { ms: Math.round(parts.reduce((ms, p) => ms + Number(p[1]) * unit[p[2]!]!, 0)), text: v };
}

/** kubectl's global flags, on the program (recognised before and after the command). */
export function globalOptions(): Option[] {
  return [
    new Option('-n, --namespace <NS>', "the namespace (default: the kubeconfig context's)"),
    new Option('--kubeconfig <PATH>', 'the kubeconfig (default: KUBECONFIG, then ~/.kube/config)'),
    new Option('--context <NAME>', 'the kubeconfig context to use (default: its current-context)'),
    new Option('--as <USER>', 'impersonate USER, as kubectl does'),
    new Option('--as-group <GROUP>', 'impersonate GROUP (repeatable), as kubectl does').argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]),
    new Option('--request-timeout <DURATION>', 'how long to wait for each answer of the API server, as 30s or 2m; 0: as long as it takes (default: until 30 s pass without a byte)').argParser(
      parseRequestTimeout,
    ),
  ];
}

/** Options whose value is a file (completion offers files). */
export const FILE_OPTIONS = new Set(['kubeconfig', 'certificateAuthority', 'cacheDir']);

/** -o: the formats a command prints. */
export const outputOption = (formats: readonly string[]) => new Option('-o, --output <FORMAT>', formats.join(', ').replace(/, ([^,]*)$/, ' or $1')).choices(formats);

/** `ORG/NAME`, or NAME with --organization. */
export function orgRef(value: string, organization: string | undefined, what: string): { organization: string; name: string } {
  const [a, b, ...rest] = value.split('/');
  if (rest.length === 0 && b) return { organization: a!, name: b };
  if (rest.length === 0 && a && organization) return { organization, name: a };
  throw new UsageError(`${what} must be written ORGANIZATION/NAME (or NAME with --organization), not "${value}"`);
}
