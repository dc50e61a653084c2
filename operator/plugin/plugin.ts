// `kubectl miniapps`: what people want from a console, over the user's own kubeconfig and
// permissions. The commands (commands/, one file each, on commander: program.ts) work on a
// small API interface (the entry point, operator/cli/kubectl-miniapps.ts, gives it the
// user's KubeClient, made from kubectl's global flags), print like kubectl (tables,
// -o yaml|json) and return exit codes scripts can rely on (EXIT). A command's arguments
// and flags are checked before any connection is made.
import type { Command } from 'commander';
import { ApiError } from '../runtime/errors.ts';
import { EXIT, UsageError } from './core.ts';
import type { CommandEnv, GlobalOptions, PluginContext, PluginSetup } from './core.ts';
import { completeIn } from './completion.ts';
import { CommanderError, buildProgram } from './program.ts';

export { EXIT, UsageError } from './core.ts';
export type { CommandEnv, Connection, GlobalOptions, PluginApi, PluginContext, PluginIO, PluginSetup } from './core.ts';
export { table } from './output.ts';

/** The help of the program, as `kubectl miniapps --help` prints it. */
export function usage(): string {
  const io = { out: () => {}, err: () => {}, readLine: async () => undefined };
  return buildProgram({ io, run: async () => {}, runOffline: async () => {} }).helpInformation();
}

/** What `kubectl miniapps __complete WORD... PARTIAL` prints (completion.ts), from the command tree. */
export function complete(words: string[]): string {
  const io = { out: () => {}, err: () => {}, readLine: async () => undefined };
  return completeIn(buildProgram({ io, run: async () => {}, runOffline: async () => {} }), words);
}

/** Runs one command; returns the exit code. */
export async function run(argv: string[], setup: PluginSetup): Promise<number> {
  const { io } = setup;
  let code: number = EXIT.ok;
  let program: Command | undefined;
  const env: CommandEnv = {
    io,
    run: async (work) => {
      code = await connected(program!.opts() as GlobalOptions, setup, work);
    },
    runOffline: async (work) => {
      code = await work();
    },
  };
  program = buildProgram(env);
  if (argv.length === 0) {
    io.err(program.helpInformation());
    return EXIT.usage;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    const command = argv.find((a) => program!.commands.some((c) => c.name() === a));
    const hint = `Run "kubectl miniapps${command ? ` ${command}` : ''} --help" for usage.\n`;
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return EXIT.ok; // --help
      io.err(hint);
      return EXIT.usage;
    }
    if (err instanceof UsageError) {
      io.err(`error: ${err.message}\n${hint}`);
      return EXIT.usage;
    }
    io.err(`error: ${(err as Error)?.message ?? String(err)}\n`);
    return EXIT.error;
  }
  return code;
}

/** Connects with the global flags, runs `work`, and turns what failed into one message and an exit code. */
async function connected(globals: GlobalOptions, setup: PluginSetup, work: (ctx: PluginContext) => Promise<number>): Promise<number> {
  const { io } = setup;
  try {
    const connection = setup.connect(globals);
    return await work({ ...connection, io, namespace: globals.namespace ?? connection.defaultNamespace });
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`error: ${err.message}\nRun "kubectl miniapps --help" for usage.\n`);
      return EXIT.usage;
    }
    if (err instanceof ApiError) {
      io.err(`Error from server (${err.reason}): ${err.message}\n`);
      if (err.status === 404) return EXIT.notFound;
      if (err.status === 401 || err.status === 403) return EXIT.forbidden;
      if (err.status === 409 || err.status === 422) return EXIT.invalid;
      return EXIT.error;
    }
    io.err(`error: ${(err as Error)?.message ?? String(err)}\n`);
    return EXIT.error;
  }
}
