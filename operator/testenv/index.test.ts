import { describe, expect, it } from 'vitest';
import { eventually, uniqueName } from './index.ts';

describe('eventually', () => {
  it('resolves with the first value that is not false', async () => {
    let n = 0;
    const v = await eventually(() => (++n < 3 ? false : n), { intervalMs: 1 });
    expect(v).toBe(3);
  });

  it('retries thrown errors and rethrows the last one on timeout', async () => {
    let n = 0;
    const err = await eventually(
      () => {
        throw new Error(`attempt ${++n}`);
      },
      { timeoutMs: 50, intervalMs: 5, describe: 'the thing' },
    ).catch((e: unknown) => e as Error);
    expect(err.message).toMatch(/timed out after 50ms waiting for the thing; last error: attempt \d+/);
    expect((err.cause as Error).message).toBe(`attempt ${n}`);
  });

  it('reports the last value on timeout', async () => {
    await expect(eventually(() => false, { timeoutMs: 20, intervalMs: 5 })).rejects.toThrow(/last value: false/);
  });
});

describe('uniqueName', () => {
  it('makes distinct DNS-1123 labels', () => {
    const a = uniqueName('My_Test.Name');
    expect(a).toMatch(/^my-test-name-[0-9a-f]{6}$/);
    expect(uniqueName('x')).not.toBe(uniqueName('x'));
    expect(uniqueName('a'.repeat(100)).length).toBeLessThanOrEqual(63);
  });
});

describe('the operator flags cluster:up prints', () => {
  it("finding 11: bind the APIs' TLS listener to loopback, like the webhook", async () => {
    const { localOperatorArgs } = await import('./controlplane.ts');
    const args = localOperatorArgs({ port: 9443, certDir: '/c', clientCAFile: '/c/client-ca.crt' } as never, 18443);
    expect(args).toContain('--api-bind-address=127.0.0.1:18443');
    expect(args).toContain('--webhook-bind-address=127.0.0.1:9443');
    expect(localOperatorArgs(undefined, 18443)).toEqual(['--api-bind-address=127.0.0.1:18443']);
  });
});
