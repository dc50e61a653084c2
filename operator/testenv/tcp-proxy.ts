// A TCP proxy on loopback in front of a real server, which a test can freeze: the path then
// holds every byte in both directions, neither delivering nor dropping them and closing
// nothing, as a network path that has stalled does (a partition, a hung load balancer).
// TLS passes through untouched, so a client that trusts the server trusts it here too.
//
// When the stall ends, each connection that is still open gets what it held, late: the
// requests of a process that lived through the stall reach the server after it. A
// connection whose client closed it during the stall is torn down with what it held: the
// stall outlived it. The proxy notes when each byte arrived from a client and when it was
// delivered to the server, so a test can tell what a client sent, and what reached the
// server, after a given moment.
import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';

interface Side {
  socket: Socket;
  /** Bytes that arrived while frozen, for the other side. */
  held: Buffer[];
  /** The socket ended, failed or closed. */
  gone: boolean;
}

interface Link {
  client: Side;
  server: Side;
}

export class FreezableProxy {
  readonly host = '127.0.0.1';
  port = 0;
  /** Bytes from clients, when they arrived at the proxy (ms since the epoch). */
  readonly received: { at: number; bytes: number }[] = [];
  /** Bytes from clients, when they were written to the server. */
  readonly delivered: { at: number; bytes: number }[] = [];
  private readonly target: { host: string; port: number };
  private readonly server: Server;
  private readonly links = new Set<Link>();
  private frozen = false;

  private constructor(target: { host: string; port: number }) {
    this.target = target;
    this.server = createServer((socket) => this.accept(socket));
  }

  /** A proxy to `target`, listening on a free loopback port. */
  static async start(target: { host: string; port: number }): Promise<FreezableProxy> {
    const p = new FreezableProxy(target);
    await new Promise<void>((resolve, reject) => {
      p.server.once('error', reject);
      p.server.listen(0, p.host, () => resolve());
    });
    p.port = (p.server.address() as { port: number }).port;
    return p;
  }

  get isFrozen(): boolean {
    return this.frozen;
  }

  /** From now on, every byte stays where it is. */
  freeze(): void {
    this.frozen = true;
  }

  /** Delivers what open connections held, drops the connections their clients closed meanwhile. */
  unfreeze(): void {
    this.frozen = false;
    for (const link of this.links) {
      if (link.client.gone || link.server.gone) {
        this.teardown(link);
        continue;
      }
      this.flush(link.client, link.server, true);
      this.flush(link.server, link.client, false);
    }
  }

  /** Client bytes that arrived at the proxy at or after `at`. */
  receivedSince(at: number): number {
    return this.received.filter((r) => r.at >= at).reduce((n, r) => n + r.bytes, 0);
  }

  /** Client bytes written to the server at or after `at`. */
  deliveredSince(at: number): number {
    return this.delivered.filter((r) => r.at >= at).reduce((n, r) => n + r.bytes, 0);
  }

  /** Open connections (both ends still there). */
  get connections(): number {
    return [...this.links].filter((l) => !l.client.gone && !l.server.gone).length;
  }

  async stop(): Promise<void> {
    for (const link of this.links) this.teardown(link);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    const upstream = connect(this.target.port, this.target.host);
    const link: Link = { client: { socket, held: [], gone: false }, server: { socket: upstream, held: [], gone: false } };
    this.links.add(link);
    this.wire(link, link.client, link.server, true);
    this.wire(link, link.server, link.client, false);
  }

  /** Bytes from `from` go to `to`, unless frozen (then `from` holds them). */
  private wire(link: Link, from: Side, to: Side, fromClient: boolean): void {
    // Writes to a socket that is still connecting are queued by node, so nothing waits here.
    from.socket.on('data', (chunk: Buffer) => {
      if (fromClient) this.received.push({ at: Date.now(), bytes: chunk.length });
      if (this.frozen || from.held.length) from.held.push(chunk);
      else this.write(to, chunk, fromClient);
    });
    const gone = () => {
      if (from.gone) return;
      from.gone = true;
      if (this.frozen) return; // unfreeze decides
      if (to.gone) return void this.links.delete(link);
      // What `to` was sent still goes out; then it closes too.
      to.socket.end();
      setTimeout(() => to.socket.destroy(), 1000).unref();
    };
    from.socket.on('end', gone);
    from.socket.on('close', gone);
    from.socket.on('error', gone);
  }

  private flush(from: Side, to: Side, fromClient: boolean): void {
    const held = from.held.splice(0);
    for (const chunk of held) this.write(to, chunk, fromClient);
  }

  private write(to: Side, chunk: Buffer, fromClient: boolean): void {
    if (to.gone || to.socket.destroyed) return;
    if (fromClient) this.delivered.push({ at: Date.now(), bytes: chunk.length });
    to.socket.write(chunk);
  }

  private teardown(link: Link): void {
    link.client.held.length = 0;
    link.server.held.length = 0;
    link.client.socket.destroy();
    link.server.socket.destroy();
    this.links.delete(link);
  }
}
