import type { Server } from 'node:http';

/** Header and request timeouts of the plain HTTP listeners (health, verify), checked every second. */
export const PLAIN_HTTP_TIMEOUTS = { headersTimeout: 10_000, requestTimeout: 30_000, connectionsCheckingInterval: 1_000 } as const;

/** Listens and resolves with the bound port (port 0 picks a free one). */
export function listen(server: Server, address: { host: string; port: number }): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : address.port);
    });
  });
}

/**
 * Stops listening and drains: idle keep-alive connections are closed at once (and again as
 * requests in flight finish), requests in flight are answered, and whatever is still open
 * after `graceMs` (default 10 s) is cut. Resolves when every connection is gone.
 */
export function close(server: Server, graceMs = 10_000): Promise<void> {
  return new Promise((resolve) => {
    const idle = setInterval(() => server.closeIdleConnections?.(), 100);
    const cut = setTimeout(() => server.closeAllConnections?.(), graceMs);
    server.close(() => {
      clearInterval(idle);
      clearTimeout(cut);
      resolve();
    });
    server.closeIdleConnections?.();
  });
}

/**
 * Reads a request body up to a limit (larger: the promise rejects at once, so that the
 * handler can answer 413, and the rest is read and dropped). On 'data' events rather than
 * an async iterator: the APIs' hot paths read one small chunk per request.
 */
export function readBody(req: NodeJS.ReadableStream, limit = 1 << 20): Promise<string> {
  return new Promise((resolve, reject) => {
    let first: Buffer | undefined;
    let more: Buffer[] | undefined;
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      if (size > limit) return;
      size += chunk.length;
      if (size > limit) {
        first = more = undefined;
        return reject(new Error(`Request body larger than ${limit} bytes`));
      }
      if (!first) first = chunk;
      else (more ??= [first]).push(chunk);
    });
    req.on('end', () => resolve(more ? Buffer.concat(more).toString('utf8') : (first?.toString('utf8') ?? '')));
    req.on('error', reject);
  });
}

/** A listener a module serves beside the operator's own (started and stopped with the process). */
export interface ModuleListener {
  /** Starts listening; resolves with the bound port. */
  start(): Promise<number>;
  stop(): Promise<void>;
}
