// The heap the tests and benchmarks give the operator is the one Node gives it in the
// chart's default container: OPERATOR_NODE_FLAGS restate, for a process on the bare
// machine, what --max-old-space-size-percentage makes of the chart's memory limit.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { OPERATOR_NODE_FLAGS } from './operator-process.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const values = parse(readFileSync(`${ROOT}charts/miniapps-operator/values.yaml`, 'utf8')) as { heapPercentage: number; resources: { limits: { memory: string } } };
const limitMiB = Number(/^(\d+)Mi$/.exec(values.resources.limits.memory)?.[1]);
const percentage = values.heapPercentage;

const HEAP_LIMIT = "process.stdout.write(String(require('node:v8').getHeapStatistics().heap_size_limit))";

/**
 * heap_size_limit of a node given `flags` in a cgroup v2 container of `limitMiB`, as libuv
 * reads it (/proc/self/cgroup "0::/", /sys/fs/cgroup/memory.max), laid out in a private
 * mount namespace; undefined where that cannot be done (not root, no unshare).
 */
function heapLimitInContainer(flags: string[]): number | undefined {
  const script = [
    'printf \'0::/\\n\' > "$TMP/cgroup"',
    'mount --bind "$TMP/cgroup" /proc/$$/cgroup',
    'mount -t tmpfs none /sys/fs/cgroup',
    `echo ${limitMiB * 1024 * 1024} > /sys/fs/cgroup/memory.max`,
    'echo max > /sys/fs/cgroup/memory.high',
    'exec "$NODE" "$@"',
  ].join(' && ');
  const tmp = mkdtempSync(join(tmpdir(), 'cgroup-'));
  try {
    const res = spawnSync('unshare', ['-m', 'sh', '-c', script, 'sh', ...flags, '-e', HEAP_LIMIT], { env: { ...process.env, NODE: process.execPath, TMP: tmp }, encoding: 'utf8' });
    return res.status === 0 ? Number(res.stdout) : undefined;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

describe('OPERATOR_NODE_FLAGS', () => {
  it("give the old space the chart's heapPercentage of its resources.limits.memory, as the Dockerfile does", () => {
    expect(limitMiB).toBeGreaterThan(0);
    expect(OPERATOR_NODE_FLAGS).toContain(`--max-old-space-size=${(limitMiB * percentage) / 100}`);
    expect(readFileSync(`${ROOT}Dockerfile`, 'utf8')).toContain(`--max-old-space-size-percentage=${percentage}`);
  });

  const inContainer = heapLimitInContainer([`--max-old-space-size-percentage=${percentage}`]);
  it.skipIf(inContainer === undefined)("give the heap limit that Node 24 computes in a cgroup v2 container of the chart's memory limit (needs root and unshare)", () => {
    const bare = spawnSync(process.execPath, [...OPERATOR_NODE_FLAGS, '-e', HEAP_LIMIT], { encoding: 'utf8' });
    expect(Number(bare.stdout)).toBe(inContainer);
  });
});
