// kubectl miniapps completion bash|zsh
import { Argument } from 'commander';
import type { Command } from 'commander';
import { completionScript } from '../completion.ts';
import type { CommandEnv } from '../core.ts';

export function completion(program: Command, env: CommandEnv): Command {
  return program
    .command('completion')
    .summary('a shell completion script for kubectl-miniapps run on its own; `kubectl miniapps` completes through the kubectl_complete-miniapps script beside the plugin (kubectl 1.26 and later)')
    .addArgument(new Argument('<SHELL>').choices(['bash', 'zsh']))
    .usage('bash|zsh')
    .action((shell: string) => env.io.out(completionScript(shell)!));
}
