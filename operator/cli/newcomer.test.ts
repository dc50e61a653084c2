// A newcomer's first errors: on a machine without Go, the build scripts and `npm run
// demo` say what is missing and the two ways on (install Go 1.25+, or use an existing
// cluster with --kubeconfig), instead of `go: command not found`.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** A PATH with Node, bash and the few commands the scripts run before they look for Go, and no Go, whatever the machine has. */
const bin = mkdtempSync(join(tmpdir(), 'no-go-'));
afterAll(() => rmSync(bin, { recursive: true, force: true }));
for (const tool of ['bash', 'dirname', 'cat', 'realpath'])
  symlinkSync(execFileSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim(), join(bin, tool));
symlinkSync(process.execPath, join(bin, 'node'));
const NO_GO = bin;

describe('without Go', () => {
  it.each([
    ['hack/controlplane/build.sh', ['bash', 'hack/controlplane/build.sh'], /Go is not installed[\s\S]*Go 1\.25 or later[\s\S]*--kubeconfig=PATH/],
    ['hack/tools/build.sh', ['bash', 'hack/tools/build.sh'], /Go is not installed[\s\S]*Go 1\.25 or later[\s\S]*\$HELM/],
    ['npm run demo', [process.execPath, join(ROOT, 'operator/cli/demo.ts')], /Go is not installed[\s\S]*Go 1\.25 or later[\s\S]*npm run demo -- --kubeconfig=PATH/],
  ])('%s says what is missing and the ways on', (_name, [cmd, ...args], message) => {
    // stdin not a pipe: bash would take itself for a remote shell and read ~/.bashrc, which may put Go back on PATH.
    const res = spawnSync(cmd!, args, { cwd: ROOT, env: { PATH: NO_GO, HOME: process.env.HOME }, encoding: 'utf8', timeout: 15_000, stdio: ['ignore', 'pipe', 'pipe'] });
    expect(res.status).not.toBe(0);
    expect(res.stderr).toMatch(message);
    expect(res.stderr).not.toContain('command not found');
  });
});
