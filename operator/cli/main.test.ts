import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const run = (args: string[], env: Record<string, string> = {}) => spawnSync(process.execPath, [MAIN, ...args], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8', timeout: 20_000 });

describe('the operator process', () => {
  it.each([
    [['--concurrency=zero'], {}, '--concurrency (MINIAPPS_CONCURRENCY) must be a whole number'],
    [[], { MINIAPPS_LEASE_DURATION: 'forever' }, '--lease-duration (MINIAPPS_LEASE_DURATION) must be a duration'],
    [['--bogus'], {}, "Unknown option '--bogus'"],
    [
      ['--smtp-security=none', '--smtp-credentials-secret=mail/smtp'],
      {},
      '--smtp-credentials-secret (MINIAPPS_SMTP_CREDENTIALS_SECRET) cannot be used with --smtp-security=none (MINIAPPS_SMTP_SECURITY)',
    ],
  ])('exits 2 with a message naming the bad setting for %j %j', (args, env, message) => {
    const res = run(args, env);
    expect(res.status).toBe(2);
    expect(res.stderr).toContain(message);
    expect(res.stdout).toBe('');
  });

  it('exits 1 with a clear message when no cluster is configured', () => {
    const res = run(['--kubeconfig=/nonexistent/kubeconfig']);
    expect(res.status).toBe(1);
    expect(res.stdout).toContain('Operator not started');
    expect(res.stdout).toContain('/nonexistent/kubeconfig');
  });

  it('prints every setting with --help', () => {
    const res = run(['--help']);
    expect(res.status).toBe(0);
    expect(res.stdout).toContain('--leader-elect (MINIAPPS_LEADER_ELECT)');
  });
});
