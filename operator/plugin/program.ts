// The plugin's command tree on commander: kubectl's global flags on the program, each
// command from its own file (commands/), help as kubectl plugins print it, and errors
// turned into exit codes instead of process.exit. Help, usage errors and shell completion
// (completion.ts) all read this one tree.
import { Command, CommanderError } from 'commander';
import type { Help, Option } from 'commander';
import { COMMANDS } from './commands/index.ts';
import { EXIT, globalOptions } from './core.ts';
import type { CommandEnv } from './core.ts';

const SUMMARY = 'kubectl miniapps: super apps, mini apps and their catalogs, with your own kubeconfig and permissions.';
const EXIT_CODES = 'Exit codes: 0 done, 1 error, 2 usage, 3 not found, 4 refused (RBAC or admission), 5 not confirmed, 6 invalid or conflicting.';

/** `-n, --namespace NS` as help shows a flag. */
export function flagTerm(o: Option): string {
  const arg = /[<[]([^>\]]*)[>\]]/.exec(o.flags)?.[1];
  return `${o.short ? `${o.short}, ` : '    '}${o.long}${arg ? ` ${arg}` : ''}`;
}

/** Flags one a line, their descriptions aligned at `width`; the values a flag takes when its description does not say them. */
const flagLines = (options: readonly Option[], width: number) =>
  options.map((o) => `  ${flagTerm(o).padEnd(width)}${o.description}${o.argChoices && !o.description.includes(o.argChoices[0]!) ? ` (${o.argChoices.join(', ')})` : ''}`);
const widthOf = (...lists: (readonly Option[])[]) => Math.max(...lists.flat().map((o) => flagTerm(o).length)) + 2;

/** The help of the program (every command) or of one command. */
function formatHelp(cmd: Command, helper: Help): string {
  const program = cmd.parent ?? cmd;
  const globals = optionsOf(undefined, program);
  if (!cmd.parent) {
    const commands = helper.visibleCommands(cmd);
    const width = Math.max(...commands.map((c) => c.name().length)) + 2;
    return [
      SUMMARY,
      '',
      'Usage:',
      ...commands.map((c) => `  kubectl miniapps ${c.name()} ${c.usage()}`),
      '  kubectl miniapps COMMAND --help',
      '  kubectl miniapps --version',
      '',
      ...commands.map((c) => `  ${c.name().padEnd(width)}${c.summary() || c.description()}`),
      '',
      'Flags:',
      ...flagLines(globals, widthOf(globals)),
      '',
      EXIT_CODES,
      '',
    ].join('\n');
  }
  const shown = cmd.options.filter((o) => !o.hidden);
  return [
    `kubectl miniapps ${cmd.name()}: ${cmd.description() || cmd.summary()}`,
    '',
    'Usage:',
    `  kubectl miniapps ${cmd.name()} ${cmd.usage()}`,
    '',
    ...(shown.length ? ['Flags:', ...flagLines(shown, widthOf(shown, globals)), ''] : []),
    'Global flags:',
    ...flagLines(globals, widthOf(shown, globals)),
    '',
  ].join('\n');
}

/** The -h, --help option as an Option (commander keeps it apart from the others). */
function helpOptionOf(cmd: Command): Option | undefined {
  return (cmd as unknown as { _getHelpOption(): Option | null })._getHelpOption() ?? undefined;
}

/** Every option `cmd` takes: its own, the program's, and -h. */
export function optionsOf(cmd: Command | undefined, program: Command): Option[] {
  return [...(cmd?.options ?? []), ...program.options, helpOptionOf(program)].filter((o): o is Option => !!o);
}

/**
 * The program. `env` runs the commands' work; `write` takes what commander itself prints
 * (help to out, errors to err). Errors throw CommanderError (exitOverride) for run to
 * turn into an exit code.
 */
export function buildProgram(env: CommandEnv, write: { out(t: string): void; err(t: string): void } = env.io): Command {
  const program = new Command('kubectl miniapps');
  program.helpCommand(false);
  for (const o of globalOptions()) program.addOption(o);
  program.helpOption('-h, --help', 'this help');
  program.configureHelp({ formatHelp });
  program.configureOutput({ writeOut: (t) => write.out(t), writeErr: (t) => write.err(t) });
  program.exitOverride();
  program.showSuggestionAfterError(true);
  // Each command inherits the settings above (program.command copies them).
  for (const add of COMMANDS) add(program, env);
  return program;
}

export { CommanderError, EXIT };
