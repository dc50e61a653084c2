import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loginFlags } from './login-command.ts';
import { EXIT, complete, run, usage } from './plugin.ts';
import * as oidc from 'openid-client';
import { browserLogin, execCredential, execUser, writeKubeconfigUser } from './login.ts';

/** Runs the plugin with `argv`; connecting to a cluster fails the test (login and get-token never do). */
async function runPlugin(argv: string[]) {
  let out = '';
  let err = '';
  const io = { out: (t: string) => void (out += t), err: (t: string) => void (err += t), readLine: async () => undefined };
  const code = await run(argv, {
    io,
    connect: () => {
      throw new Error('connected to a cluster');
    },
  });
  return { code, out, err };
}

describe('kubectl miniapps login flags', () => {
  it.each([
    [[], '--issuer is required'],
    [['--issuer=not a url'], '--issuer must be a URL'],
    [['--issuer=http://idp.example'], '--issuer must be an https:// URL'],
    [['--issuer=https://idp.example', '--certificate-authority=/nonexistent/ca.crt'], '--certificate-authority: ENOENT'],
    [['--issuer=https://idp.example', '--bogus'], "unknown option '--bogus'"],
  ])('refuse %j before any network call, with exit 2', async (argv, message) => {
    const r = await runPlugin(['login', ...argv]);
    expect(r.err).toContain(message);
    expect(r.err).toContain('kubectl miniapps login --help');
    expect(r.out).toBe('');
    expect(r.code).toBe(EXIT.usage);
  });
  it.each([
    [[], '--issuer is required'],
    [['--issuer=https://idp.example', '--certificate-authority=/nonexistent/ca.crt'], '--certificate-authority: ENOENT'],
    [['--issuer=https://idp.example', '--bogus'], "unknown option '--bogus'"],
  ])('get-token refuses %j before any network call, with exit 2 and nothing on stdout', async (argv, message) => {
    const r = await runPlugin(['get-token', ...argv]);
    expect(r.err).toContain(message);
    expect(r.out).toBe('');
    expect(r.code).toBe(EXIT.usage);
  });
  it("default to the kubectl client, the browser flow and KUBECONFIG's first file", () => {
    const f = loginFlags({ issuer: 'https://idp.example/' }, { KUBECONFIG: '/a/config:/b/config' });
    expect(f).toMatchObject({
      issuer: 'https://idp.example',
      clientId: 'miniapps-kubectl',
      device: false,
      browser: true,
      user: 'miniapps',
      kubeconfig: '/a/config',
      execCommand: ['kubectl', 'miniapps'],
    });
  });
  it('are in the help and in completion, with the global --kubeconfig and --context', async () => {
    expect(usage()).toMatch(/kubectl miniapps login --issuer URL/);
    expect(usage()).toMatch(/kubectl miniapps get-token --issuer URL/);
    const help = await runPlugin(['login', '--help']);
    expect(help.code).toBe(EXIT.ok);
    expect(help.out).toContain('--device');
    expect(help.out).toContain('--kubeconfig');
    expect(help.out).not.toContain('--cache-dir');
    expect(complete(['']).split('\n')).toEqual(expect.arrayContaining(['login', 'get-token']));
    expect(complete(['login', '--d']).split('\n')).toContain('--device');
  });
});

describe('the kubeconfig user', () => {
  it('is an exec plugin running get-token with the issuer, written beside the other users, and the current context points at it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'login-test-'));
    const path = join(dir, 'config');
    writeFileSync(
      path,
      'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://k"}}]\ncontexts: [{name: ctx, context: {cluster: c, user: admin}}]\ncurrent-context: ctx\nusers: [{name: admin, user: {token: x}}]\n',
    );
    const out = writeKubeconfigUser(path, 'miniapps', execUser({ issuer: 'https://idp.example', clientId: 'miniapps-kubectl' }, ['kubectl', 'miniapps']));
    expect(out.context).toBe('ctx');
    const cfg = parse(readFileSync(path, 'utf8'));
    expect(cfg.contexts[0].context.user).toBe('miniapps');
    expect(cfg.users.map((u: { name: string }) => u.name)).toEqual(['admin', 'miniapps']);
    expect(cfg.users[1].user.exec).toEqual({
      apiVersion: 'client.authentication.k8s.io/v1',
      command: 'kubectl',
      args: ['miniapps', 'get-token', '--issuer=https://idp.example', '--client-id=miniapps-kubectl'],
      interactiveMode: 'Never',
      provideClusterInfo: false,
    });
    expect(() => writeKubeconfigUser(path, 'miniapps', {}, 'nope')).toThrow('has no context nope');
  });
  it('gets an ExecCredential with the ID token and its expiry', () => {
    expect(JSON.parse(execCredential({ idToken: 'abc', expiresAt: 1_800_000_000 }))).toEqual({
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      status: { token: 'abc', expirationTimestamp: '2027-01-15T08:00:00.000Z' },
    });
  });
});

describe('kubectl miniapps login in a browser: the loopback callback', () => {
  it('refuses an answer whose state is not its own (forged) and keeps waiting for the real one', async () => {
    const config = new oidc.Configuration({ issuer: 'https://idp.example', authorization_endpoint: 'https://idp.example/auth', token_endpoint: 'https://idp.example/token' }, 'miniapps-kubectl');
    let opened = '';
    const result = browserLogin(config, { open: (u) => void (opened = u), timeoutMs: 1_500 }).then(
      () => 'signed in',
      (e: Error) => e.message,
    );
    await expect.poll(() => opened).not.toBe('');
    const redirect = new URL(opened).searchParams.get('redirect_uri')!;
    const forged = await fetch(`${redirect}?code=made-up&state=forged`);
    expect(forged.status).toBe(400);
    expect(await forged.text()).toContain('state mismatch');
    // Still waiting: the forged answer neither signed in nor ended the sign-in.
    expect(await result).toBe('No sign-in within the time allowed; run the command again');
  });
});
