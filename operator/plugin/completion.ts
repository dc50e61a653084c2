// Shell completion. `kubectl miniapps __complete WORD... PARTIAL` answers as a cobra
// program's hidden __complete command does (one candidate a line, then `:<directive>`),
// which is what kubectl (1.26 and later) expects from a plugin's kubectl_complete-<name>
// executable: `kubectl miniapps <TAB>` runs it with the words after `kubectl miniapps`.
// `completion bash|zsh` prints scripts for kubectl-miniapps typed on its own.
import { COMMAND_HELP, FLAG_HELP, GLOBAL_FLAGS } from './help.ts';

/** cobra's ShellCompDirective bits. */
export const DIRECTIVE = { default: 0, noFileComp: 4 } as const;

const flagNamed = (word: string): string | undefined => {
  if (word.startsWith('--')) return FLAG_HELP[word.slice(2)] ? word.slice(2) : undefined;
  return Object.keys(FLAG_HELP).find((n) => FLAG_HELP[n]!.short === word.slice(1));
};

/** The completions of `words`' last word (the one being typed, maybe empty), in cobra's __complete format. */
export function complete(words: string[]): string {
  const partial = words.at(-1) ?? '';
  const before = words.slice(0, -1);
  const positionals: string[] = [];
  let pendingFlag: string | undefined;
  for (const w of before) {
    if (pendingFlag) {
      pendingFlag = undefined;
      continue;
    }
    if (w.startsWith('-') && w.length > 1) {
      const name = w.includes('=') ? undefined : flagNamed(w);
      if (name && FLAG_HELP[name]!.arg) pendingFlag = name;
      continue;
    }
    positionals.push(w);
  }
  const command = positionals[0] !== undefined ? COMMAND_HELP[positionals[0]] : undefined;
  const answer = (candidates: readonly string[], directive: number = DIRECTIVE.noFileComp) =>
    `${[...candidates.filter((c) => c.startsWith(partial)), `:${directive}`].join('\n')}\n`;
  const valuesOf = (flag: string) => (flag === 'output' && command?.outputs) || FLAG_HELP[flag]!.values;

  if (pendingFlag) {
    if (pendingFlag === 'kubeconfig') return answer([], DIRECTIVE.default);
    return answer(valuesOf(pendingFlag) ?? []);
  }
  const eq = partial.match(/^--([^=]+)=/);
  if (eq) return answer((valuesOf(eq[1]!) ?? []).map((v) => `--${eq[1]}=${v}`));
  if (partial.startsWith('-')) {
    const flags = [...(command?.flags ?? []), ...GLOBAL_FLAGS];
    return answer(flags.map((f) => `--${f}`));
  }
  if (positionals.length === 0) return answer(Object.keys(COMMAND_HELP));
  if (command?.args && positionals.length === 1) return answer(command.args);
  return answer([]);
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
