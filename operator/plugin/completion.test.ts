// Per-command help and shell completion (cobra's __complete protocol, as kubectl calls a
// plugin's kubectl_complete-<name>), both read from the one command tree (program.ts).
import { describe, expect, it } from 'vitest';
import { completionScript } from './completion.ts';
import { COMMANDS } from './commands/index.ts';
import { buildProgram, flagTerm } from './program.ts';
import { EXIT, complete, run, usage } from './plugin.ts';

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

const program = buildProgram({ io: { out: () => {}, err: () => {}, readLine: async () => undefined }, run: async () => {}, runOffline: async () => {} });
const names = program.commands.map((c) => c.name());

describe('per-command help', () => {
  it.each(names)('%s --help prints its usage and flags, without connecting', async (name) => {
    const cmd = program.commands.find((c) => c.name() === name)!;
    const res = await exec(name, '--help');
    expect(res.code).toBe(EXIT.ok);
    expect(res.err).toBe('');
    expect(res.out).toContain(`kubectl miniapps ${name} ${cmd.usage()}`);
    // Every flag but the hidden ones (test-only, as login's --cache-dir).
    for (const o of cmd.options) expect(res.out.includes(flagTerm(o))).toBe(!o.hidden);
    expect(res.out).toContain('--kubeconfig PATH');
    expect(res.out).toContain('--context NAME');
    expect(res.out).toContain('--request-timeout DURATION');
  });

  it('every command of the registry is in the usage, with its help and its completion', () => {
    expect(names).toHaveLength(COMMANDS.length);
    expect(names.length).toBeGreaterThan(7);
    const commands = [...usage().matchAll(/^ {2}kubectl miniapps ([a-z][a-z-]*)/gm)].map((m) => m[1]);
    expect(commands).toEqual(names);
    expect(lines('')).toEqual([...names, ':4']);
  });

  it('list --help is not the whole usage', async () => {
    const res = await exec('list', '-h');
    expect(res.out).toMatch(/^kubectl miniapps list: mini apps with/);
    expect(res.out).not.toContain('token-roles');
  });

  it('--help prints the usage on stdout (exit 0); no command prints it on stderr (exit 2)', async () => {
    expect(await exec('--help')).toEqual({ code: EXIT.ok, out: usage(), err: '' });
    expect(await exec()).toEqual({ code: EXIT.usage, out: '', err: usage() });
  });
});

const lines = (...words: string[]) => complete(words).trimEnd().split('\n');

describe('completion', () => {
  it('commands, then the flags of the command, then the values of a flag', () => {
    expect(lines('')).toEqual(['list', 'search', 'duplicate', 'catalog', 'delete', 'onboard', 'token-roles', 'login', 'get-token', 'completion', ':4']);
    expect(lines('d')).toEqual(['duplicate', 'delete', ':4']);
    // delete has no flags of its own: kubectl's global ones.
    expect(lines('delete', '--')).toEqual(['--namespace', '--kubeconfig', '--context', '--as', '--as-group', '--request-timeout', '--help', ':4']);
    expect(lines('list', '--')).toEqual(['--category', '--all-namespaces', '--output', '--namespace', '--kubeconfig', '--context', '--as', '--as-group', '--request-timeout', '--help', ':4']);
    expect(lines('list', '-o', '')).toEqual(['wide', 'yaml', 'json', ':4']);
    expect(lines('catalog', 'wallet', '--output', '')).toEqual(['yaml', 'json', ':4']);
    expect(lines('list', '--output=y')).toEqual(['--output=yaml', ':4']);
    expect(lines('duplicate', 'a', 'b', '--data-privacy', 'I')).toEqual(['IrreversibleMasking', ':4']);
    expect(lines('completion', '')).toEqual(['bash', 'zsh', ':4']);
  });

  it('a flag value is not taken for the command; --kubeconfig completes files', () => {
    expect(lines('-n', 'org-a', 'l')).toEqual(['list', 'login', ':4']);
    expect(lines('--context', 'kind-a', 'l')).toEqual(['list', 'login', ':4']);
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
