import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { TrustedProxies, normalizeAddress, parseCidr } from './netaddr.ts';

const req = (remoteAddress: string, headers: Record<string, string> = {}) => ({ socket: { remoteAddress }, headers }) as unknown as IncomingMessage;

describe('the client address behind trusted proxies', () => {
  const proxies = new TrustedProxies(['10.0.0.0/8', '192.0.2.7', 'fd00::/8']);

  it.each([
    ['no proxy configured: the connection, whatever the headers say', new TrustedProxies(), req('10.1.2.3', { 'x-forwarded-for': '203.0.113.9' }), '10.1.2.3'],
    ['a connection from an untrusted address: its own, the headers ignored', proxies, req('198.51.100.1', { 'x-forwarded-for': '203.0.113.9' }), '198.51.100.1'],
    ['from a trusted proxy: the address it forwarded', proxies, req('10.1.2.3', { 'x-forwarded-for': '203.0.113.9' }), '203.0.113.9'],
    ['the right-most untrusted address, not what the client wrote to the left', proxies, req('10.1.2.3', { 'x-forwarded-for': '1.1.1.1, 203.0.113.9' }), '203.0.113.9'],
    ['through two trusted proxies', proxies, req('10.1.2.3', { 'x-forwarded-for': '1.1.1.1, 203.0.113.9, 192.0.2.7' }), '203.0.113.9'],
    [
      'Forwarded (RFC 7239) when the proxies write it, quoted IPv6 with a port',
      new TrustedProxies(['10.0.0.0/8'], 'forwarded'),
      req('::ffff:10.1.2.3', { forwarded: 'for=1.1.1.1, for="[2001:db8::1]:4711";proto=https' }),
      '2001:db8::1',
    ],
    [
      "a client's own Forwarded header is ignored when the proxies write X-Forwarded-For",
      proxies,
      req('10.1.1.1', { forwarded: 'for=203.0.113.77', 'x-forwarded-for': '198.51.100.9' }),
      '198.51.100.9',
    ],
    [
      "a client's own X-Forwarded-For is ignored when the proxies write Forwarded",
      new TrustedProxies(['10.0.0.0/8'], 'forwarded'),
      req('10.1.1.1', { forwarded: 'for=198.51.100.9', 'x-forwarded-for': '203.0.113.77' }),
      '198.51.100.9',
    ],
    ['an IPv6 proxy', proxies, req('fd00::5', { 'x-forwarded-for': '203.0.113.9' }), '203.0.113.9'],
    ['a hop that is no address ends the walk at the proxy that wrote it', proxies, req('10.1.2.3', { 'x-forwarded-for': '1.1.1.1, unknown' }), '10.1.2.3'],
    ['every hop trusted: the left-most', proxies, req('10.1.2.3', { 'x-forwarded-for': '10.9.9.9' }), '10.9.9.9'],
  ])('%s', (_case, list, request, client) => {
    expect(list.clientAddress(request)).toBe(client);
  });

  it('parses addresses and CIDRs, and refuses anything else', () => {
    expect(parseCidr('10.0.0.0/8')).toEqual({ address: '10.0.0.0', prefix: 8, family: 'ipv4' });
    expect(parseCidr('fd00::/8')).toEqual({ address: 'fd00::', prefix: 8, family: 'ipv6' });
    expect(parseCidr('192.0.2.7')).toMatchObject({ prefix: 32 });
    for (const bad of ['10.0.0.0/33', 'example.com', '10.0.0.0/8/1', '']) expect(parseCidr(bad)).toBeUndefined();
    expect(() => new TrustedProxies(['nope'])).toThrow('Not an IP address or CIDR');
    expect(normalizeAddress('[::1]:80')).toBe('::1');
    expect(normalizeAddress('203.0.113.9:443')).toBe('203.0.113.9');
  });
});
