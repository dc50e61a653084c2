// Per-command help and shell completion (cobra's __complete protocol, as kubectl calls a plugin's kubectl_complete-<name>).
import { describe, expect, it } from 'vitest';
import { complete, completionScript } from './completion.ts';
import { COMMAND_HELP } from './help.ts';
import { EXIT, USAGE, run } from './plugin.ts';

async function exec(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(argv, {
    io: { out: (t) => out.push(t), err: (t) => err.push(t), readLine: async () => undefined },
    connect: () => {
      throw new Error('no connection for help or completion');
    },
  });
  return { code, out: out.join(''), err: err.join('') };
}

describe('per-command help', () => {
  it.each(Object.keys(COMMAND_HELP))('%s --help prints its usage and flags, without connecting', async (command) => {
    const res = await exec(command, '--help');
    expect(res.code).toBe(EXIT.ok);
    expect(res.err).toBe('');
    expect(res.out).toContain(`kubectl miniapps ${COMMAND_HELP[command]!.usage}`);
    for (const flag of COMMAND_HELP[command]!.flags) expect(res.out).toContain(`--${flag}`);
    expect(res.out).toContain('--kubeconfig PATH');
  });

  it('every command of the usage has its help (and completes)', () => {
    const commands = [...USAGE.matchAll(/^ {2}kubectl miniapps ([a-z][a-z-]*)/gm)].map((m) => m[1]);
    expect(commands.length).toBeGreaterThan(7);
    expect(Object.keys(COMMAND_HELP)).toEqual(commands);
  });

  it('list --help is not the whole usage', async () => {
    const res = await exec('list', '-h');
    expect(res.out).toMatch(/^kubectl miniapps list: mini apps with/);
    expect(res.out).not.toContain('token-roles');
  });
});

describe('completion', () => {
  const lines = (...words: string[]) => complete(words).trimEnd().split('\n');

  it('commands, then the flags of the command, then the values of a flag', () => {
    expect(lines('')).toEqual(['list', 'search', 'duplicate', 'catalog', 'delete', 'onboard', 'token-roles', 'completion', ':4']);
    expect(lines('d')).toEqual(['duplicate', 'delete', ':4']);
    expect(lines('delete', '--')).toEqual(['--namespace', '--kubeconfig', '--as', '--as-group', '--help', ':4']);
    expect(lines('list', '-o', '')).toEqual(['wide', 'yaml', 'json', ':4']);
    expect(lines('catalog', 'wallet', '--output', '')).toEqual(['yaml', 'json', ':4']);
    expect(lines('list', '--output=y')).toEqual(['--output=yaml', ':4']);
    expect(lines('duplicate', 'a', 'b', '--data-privacy', 'I')).toEqual(['IrreversibleMasking', ':4']);
    expect(lines('completion', '')).toEqual(['bash', 'zsh', ':4']);
  });

  it('a flag value is not taken for the command; --kubeconfig completes files', () => {
    expect(lines('-n', 'org-a', 'l')).toEqual(['list', ':4']);
    expect(lines('list', '--kubeconfig', '')).toEqual([':0']);
    expect(lines('list', 'extra', '')).toEqual([':4']);
  });

  it('scripts for bash and zsh, through the plugin command too; another shell is a usage error', async () => {
    expect(completionScript('bash')).toContain('complete -F _kubectl_miniapps kubectl-miniapps');
    expect(completionScript('zsh')).toContain('compdef _kubectl_miniapps kubectl-miniapps');
    expect((await exec('completion', 'bash')).out).toBe(completionScript('bash'));
    expect(await exec('completion', 'fish')).toMatchObject({ code: EXIT.usage, out: '' });
    expect(await exec('completion')).toMatchObject({ code: EXIT.usage });
  });
});
