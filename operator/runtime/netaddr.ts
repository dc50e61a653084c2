// Client addresses behind proxies: the one header the proxies write (--forwarded-header,
// X-Forwarded-For by default, or Forwarded of RFC 7239) is believed only from the proxies
// configured (--trusted-proxies), and the client is the right-most address in it that is not
// one of them (what each trusted proxy appended), so a client cannot choose its own
// rate-limit bucket by sending the headers itself. The other header is never read: a proxy
// that writes only X-Forwarded-For passes a client's own Forwarded header through.
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

/** `10.0.0.0/8`, `fd00::/8` or a single address; undefined when it is neither. */
export function parseCidr(entry: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const [addr, bits, ...rest] = entry.split('/');
  const family = isIP(addr ?? '');
  if (!family || rest.length) return undefined;
  const max = family === 4 ? 32 : 128;
  const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
  if (!(prefix >= 0 && prefix <= max)) return undefined;
  return { address: addr!, prefix, family: family === 4 ? 'ipv4' : 'ipv6' };
}

/** An address as compared: IPv4-mapped IPv6 as IPv4, brackets, ports and zones dropped; undefined when not an address. */
export function normalizeAddress(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  let a = raw.trim().replace(/^"|"$/g, '');
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(a);
  if (bracketed) a = bracketed[1]!;
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(a)) a = a.slice(0, a.lastIndexOf(':'));
  a = a.split('%')[0]!;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  if (mapped) a = mapped[1]!;
  return isIP(a) ? a : undefined;
}

/** The header the trusted proxies write the client's address in (lower case). */
export type ForwardedHeader = 'x-forwarded-for' | 'forwarded';

/** The trusted proxies, as a set to test addresses against. */
export class TrustedProxies {
  private readonly list = new BlockList();
  readonly size: number;
  readonly header: ForwardedHeader;

  constructor(entries: readonly string[] = [], header: ForwardedHeader = 'x-forwarded-for') {
    this.header = header;
    for (const e of entries) {
      const c = parseCidr(e);
      if (!c) throw new Error(`Not an IP address or CIDR: ${JSON.stringify(e)}`);
      this.list.addSubnet(c.address, c.prefix, c.family);
    }
    this.size = entries.length;
  }

  has(address: string | undefined): boolean {
    const a = normalizeAddress(address);
    return !!a && this.list.check(a, isIP(a) === 4 ? 'ipv4' : 'ipv6');
  }

  /**
   * The client's address: the connection's, unless that is a trusted proxy; then, walking
   * the forwarded addresses from the right (the nearest hop first), the first one that is
   * not a trusted proxy, in the configured header only (X-Forwarded-For, or the `for=` of
   * Forwarded). A
   * hop that is not an address (`unknown`, an obfuscated name) ends the walk there: the
   * proxy that wrote it is the client as far as we can tell.
   */
  clientAddress(req: IncomingMessage): string | undefined {
    const peer = req.socket.remoteAddress;
    if (!this.size || !this.has(peer)) return peer;
    const hops = forwardedHops(req, this.header);
    let client = normalizeAddress(peer);
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = normalizeAddress(hops[i]);
      if (!hop) break;
      client = hop;
      if (!this.has(hop)) break;
    }
    return client;
  }
}

/** The addresses the proxies recorded, left (the first) to right (the nearest). */
function forwardedHops(req: IncomingMessage, name: ForwardedHeader): string[] {
  const v = req.headers[name];
  const value = (Array.isArray(v) ? v.join(',') : (v ?? '')).trim();
  if (!value) return [];
  if (name === 'x-forwarded-for') return value.split(',').map((s) => s.trim());
  return value.split(',').map((element) => {
    const pair = element
      .split(';')
      .map((p) => p.trim())
      .find((p) => p.toLowerCase().startsWith('for='));
    return pair ? pair.slice(4) : '';
  });
}
