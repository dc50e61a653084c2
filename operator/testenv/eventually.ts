// Poll-until, free of vitest so that CLIs (the benchmark) can use it too; re-exported
// by ./index.ts for the integration tests.

export interface EventuallyOptions {
  /** Default 30s. */
  timeoutMs?: number;
  /** Default 200ms. */
  intervalMs?: number;
  /** What is awaited, for the timeout message. */
  describe?: string;
}

/**
 * Calls `fn` until it returns without throwing and with a value other than `false`,
 * and resolves with that value. On timeout, throws an Error naming `describe` and
 * carrying the last error (as `cause`) or the last value seen.
 */
export async function eventually<T>(fn: () => T | Promise<T>, opts: EventuallyOptions = {}): Promise<Exclude<T, false>> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const intervalMs = opts.intervalMs ?? 200;
  const deadline = Date.now() + timeoutMs;
  let last: { error: unknown } | { value: unknown } | undefined;
  for (;;) {
    try {
      const value = await fn();
      if (value !== false) return value as Exclude<T, false>;
      last = { value };
    } catch (error) {
      last = { error };
    }
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, Math.min(intervalMs, Math.max(0, deadline - Date.now()))));
  }
  const what = opts.describe ?? 'condition';
  if (last && 'error' in last) {
    const msg = last.error instanceof Error ? last.error.message : String(last.error);
    throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}; last error: ${msg}`, { cause: last.error });
  }
  throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}; last value: ${JSON.stringify(last && 'value' in last ? last.value : undefined)}`);
}

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}
