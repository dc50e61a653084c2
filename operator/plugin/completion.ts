// Shell completion. `kubectl miniapps __complete WORD... PARTIAL` answers as a cobra
// program's hidden __complete command does (one candidate a line, then `:<directive>`),
// which is what kubectl (1.26 and later) expects from a plugin's kubectl_complete-<name>
// executable: `kubectl miniapps <TAB>` runs it with the words after `kubectl miniapps`.
// `completion bash|zsh` prints scripts for kubectl-miniapps typed on its own.
import type { Command, Option } from 'commander';
import { FILE_OPTIONS } from './core.ts';

/** cobra's ShellCompDirective bits. */
export const DIRECTIVE = { default: 0, noFileComp: 4 } as const;

/** The option `word` names among `options` (--name, -x; not --name=value). */
const optionNamed = (options: readonly Option[], word: string): Option | undefined => options.find((o) => o.long === word || o.short === word);

/**
 * The completions of `words`' last word (the one being typed, maybe empty), in cobra's
 * __complete format, from `program`'s command tree: its commands, each command's flags and
 * the program's, the values a flag or argument takes (choices), files for --kubeconfig.
 */
export function completeIn(program: Command, words: string[]): string {
  const partial = words.at(-1) ?? '';
  const globals = [...program.options];
  const helpOption = (program as unknown as { _getHelpOption(): Option | null })._getHelpOption();
  let command: Command | undefined;
  const positionals: string[] = [];
  let pending: Option | undefined;
  for (const w of words.slice(0, -1)) {
    if (pending) {
      pending = undefined;
      continue;
    }
    if (w.startsWith('-') && w.length > 1) {
      const o = w.includes('=') ? undefined : optionNamed([...(command?.options ?? []), ...globals], w);
      if (o && (o.required || o.optional)) pending = o;
      continue;
    }
    if (!command) command = program.commands.find((c) => c.name() === w);
    else positionals.push(w);
  }
  const answer = (candidates: readonly string[], directive: number = DIRECTIVE.noFileComp) => `${[...candidates.filter((c) => c.startsWith(partial)), `:${directive}`].join('\n')}\n`;
  const valuesOf = (o: Option) => (FILE_OPTIONS.has(o.attributeName()) ? undefined : (o.argChoices ?? []));

  if (pending) return FILE_OPTIONS.has(pending.attributeName()) ? answer([], DIRECTIVE.default) : answer(valuesOf(pending) ?? []);
  const eq = partial.match(/^(--[^=]+)=/);
  if (eq) {
    const o = optionNamed([...(command?.options ?? []), ...globals], eq[1]!);
    return answer((o ? (valuesOf(o) ?? []) : []).map((v) => `${eq[1]}=${v}`));
  }
  if (partial.startsWith('-'))
    return answer(
      [...(command?.options ?? []), ...globals, ...(helpOption ? [helpOption] : [])]
        .filter((o) => !o.hidden)
        .map((o) => o.long!)
        .filter(Boolean),
    );
  if (!command) return answer(program.commands.map((c) => c.name()));
  return answer(command.registeredArguments[positionals.length]?.argChoices ?? []);
}

/** `kubectl miniapps completion bash|zsh`: for kubectl-miniapps typed on its own (source it in your shell's rc file). */
export function completionScript(shell: string): string | undefined {
  if (shell === 'bash') {
    return `# bash completion for kubectl-miniapps: source <(kubectl-miniapps completion bash)
# (\`kubectl miniapps <TAB>\` completes through kubectl_complete-miniapps on PATH instead)
_kubectl_miniapps() {
  local cur=\${COMP_WORDS[COMP_CWORD]} out directive IFS=$'\\n'
  out=$("\${COMP_WORDS[0]}" __complete "\${COMP_WORDS[@]:1:COMP_CWORD-1}" "$cur" 2>/dev/null) || return
  directive=\${out##*:}
  out=$(printf '%s\\n' "$out" | sed '$d' | cut -f1)
  COMPREPLY=($(compgen -W "$out" -- "$cur"))
  if [ \${#COMPREPLY[@]} -eq 0 ] && [ $((directive & 4)) -eq 0 ]; then COMPREPLY=($(compgen -f -- "$cur")); fi
}
complete -F _kubectl_miniapps kubectl-miniapps
`;
  }
  if (shell === 'zsh') {
    return `#compdef kubectl-miniapps
# zsh completion for kubectl-miniapps: source <(kubectl-miniapps completion zsh), after compinit
# (\`kubectl miniapps <TAB>\` completes through kubectl_complete-miniapps on PATH instead)
_kubectl_miniapps() {
  local -a lines
  lines=("\${(@f)$(\${words[1]} __complete "\${(@)words[2,CURRENT-1]}" "\${words[CURRENT]}" 2>/dev/null)}")
  (( \${#lines} )) || return 1
  local directive=\${lines[-1]#:}
  lines=("\${(@)lines[1,-2]}")
  if (( \${#lines} )); then
    compadd -- "\${(@)lines%%$'\\t'*}"
  elif (( (directive & 4) == 0 )); then
    _files
  fi
}
compdef _kubectl_miniapps kubectl-miniapps
`;
  }
  return undefined;
}

/** The kubectl_complete-miniapps executable kubectl runs for \`kubectl miniapps <TAB>\` (shipped beside the plugin). */
export const KUBECTL_COMPLETE_SCRIPT = `#!/bin/sh
# kubectl (1.26 and later) runs kubectl_complete-miniapps, found on PATH, for
# \`kubectl miniapps <TAB>\`: with the words after \`kubectl miniapps\`, the one being typed
# last. The plugin answers as a cobra program's __complete command does.
exec kubectl-miniapps __complete "$@"
`;
