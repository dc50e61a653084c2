import { createServer, Agent, request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { close, listen } from './listen.ts';

/** A POST that resolves with the status, or with the error's message when the connection is cut. */
function post(port: number, agent: Agent): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', (err) => resolve(err.message));
    req.end('{}');
  });
}

describe('finding 9: closing a listener drains it', () => {
  it('answers the requests in flight, closes idle keep-alive connections, and cuts only what outlives the grace', async () => {
    const slow: Array<() => void> = [];
    const server = createServer((req, res) => {
      req.resume();
      const delay = req.headers['x-hang'] ? 60_000 : 300;
      const t = setTimeout(() => res.writeHead(200).end('ok'), delay);
      slow.push(() => clearTimeout(t));
    });
    const port = await listen(server, { host: '127.0.0.1', port: 0 });
    const agent = new Agent({ keepAlive: true });
    // A keep-alive connection made idle before the close.
    expect(await post(port, agent)).toBe(200);
    const inFlight = post(port, agent);
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    await close(server, 5_000);
    expect(await inFlight).toBe(200);
    expect(Date.now() - t0).toBeLessThan(2_000);
    agent.destroy();
  });

  it('cuts a request still in flight after the grace', async () => {
    const server = createServer(() => undefined); // never answers
    const port = await listen(server, { host: '127.0.0.1', port: 0 });
    const hung = post(port, new Agent());
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    await close(server, 300);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(typeof (await hung)).toBe('string');
  });
});
