import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ManagedProcess, processAlive } from './process.ts';

const dir = mkdtempSync(join(tmpdir(), 'managed-process-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const alive = processAlive;

describe('ManagedProcess', () => {
  it('reports an early exit with the tail of its log', async () => {
    const p = new ManagedProcess({ name: 'failing', command: 'sh', args: ['-c', 'echo boom-line; exit 3'], logPath: join(dir, 'f.log') });
    p.start();
    await p.exited();
    const err = p.failure();
    expect(err?.message).toMatch(/failing exited \(code 3/);
    expect(err?.message).toContain('boom-line');
  });

  it('stops with SIGTERM and escalates to SIGKILL', async () => {
    const p = new ManagedProcess({ name: 'stubborn', command: 'sh', args: ['-c', 'trap "" TERM; while :; do sleep 0.05; done'], logPath: join(dir, 's.log') });
    p.start();
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    await p.stop(300);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    expect(p.running).toBe(false);
    expect(p.failure()).toBeUndefined();
  });

  it('leaves no orphan when its parent is SIGKILLed', async () => {
    const pidFile = join(dir, 'child.pid');
    const script = join(dir, 'parent.ts');
    const processTs = fileURLToPath(new URL('./process.ts', import.meta.url));
    writeFileSync(
      script,
      `import { ManagedProcess } from ${JSON.stringify(processTs)};
import { writeFileSync } from 'node:fs';
const p = new ManagedProcess({ name: 'sleeper', command: 'sleep', args: ['300'], logPath: ${JSON.stringify(join(dir, 'o.log'))} });
p.start();
writeFileSync(${JSON.stringify(pidFile)}, String(p.pid));
setInterval(() => {}, 1000);
`,
    );
    const parent = spawn(process.execPath, [script], { stdio: 'inherit' });
    let childPid = 0;
    for (let i = 0; i < 100 && !childPid; i++) {
      await new Promise((r) => setTimeout(r, 50));
      try {
        childPid = Number(readFileSync(pidFile, 'utf8'));
      } catch {}
    }
    expect(childPid).toBeGreaterThan(0);
    expect(alive(childPid)).toBe(true);
    parent.kill('SIGKILL');
    await new Promise((r) => parent.once('exit', r));
    for (let i = 0; i < 50 && alive(childPid); i++) await new Promise((r) => setTimeout(r, 20));
    expect(alive(childPid)).toBe(false);
  });
});
