import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { takeLock } from './node.ts';

const dir = mkdtempSync(join(tmpdir(), 'node-lock-test-'));
const lock = join(dir, 'lock');
afterEach(() => rmSync(lock, { recursive: true, force: true }));

describe("the node test's machine-wide lock", () => {
  it('is taken when free, and names its owner', async () => {
    await takeLock(1000, lock);
    expect(readFileSync(join(lock, 'pid'), 'utf8')).toBe(String(process.pid));
  });

  it('waits while a live process holds it, and says whose lock it waited for', async () => {
    mkdirSync(lock);
    writeFileSync(join(lock, 'pid'), String(process.ppid));
    await expect(takeLock(1500, lock)).rejects.toThrow(/the node lock .* \(another test's node is running\)/);
  });

  it("takes over a dead owner's lock", async () => {
    mkdirSync(lock);
    writeFileSync(join(lock, 'pid'), '999999999');
    await takeLock(5000, lock);
    expect(readFileSync(join(lock, 'pid'), 'utf8')).toBe(String(process.pid));
  });

  it('takes over a lock without an owner a minute after it was made, not before', async () => {
    mkdirSync(lock);
    await expect(takeLock(1500, lock)).rejects.toThrow(/node lock/);
    const old = new Date(Date.now() - 120_000);
    utimesSync(lock, old, old);
    await takeLock(5000, lock);
    expect(readFileSync(join(lock, 'pid'), 'utf8')).toBe(String(process.pid));
  });
});
