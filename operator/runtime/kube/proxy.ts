// Which proxy a request to the API server goes through, decided as kubectl decides it: the
// cluster's proxy-url in the kubeconfig if it has one, else the environment as Go's
// net/http ProxyFromEnvironment reads it (golang.org/x/net/http/httpproxy): HTTPS_PROXY
// (or https_proxy) for an https server, HTTP_PROXY for an http one, never for localhost
// or a loopback address, and not for a host NO_PROXY names ("*", a domain and its
// subdomains, ".domain", "*.domain", an IP, a CIDR, each optionally with :port). The
// client hands the chosen URL to Node's own proxy support (an agent's proxyEnv).
import { BlockList, isIP } from 'node:net';

/** The proxy for requests to `server` from `env`, or undefined for a direct connection. */
export function proxyFromEnvironment(server: string, env: NodeJS.ProcessEnv): string | undefined {
  const target = new URL(server);
  const https = target.protocol === 'https:';
  const raw = (https ? env.HTTPS_PROXY || env.https_proxy : env.HTTP_PROXY || env.http_proxy)?.trim();
  if (!raw) return undefined;
  const host = target.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = target.port || (https ? '443' : '80');
  if (!useProxy(host, port, env.NO_PROXY || env.no_proxy || '')) return undefined;
  // Go takes a proxy without a scheme as http://.
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
}

function useProxy(host: string, port: string, noProxy: string): boolean {
  if (host === 'localhost') return false;
  const family = isIP(host);
  if (family === 4 && host.startsWith('127.')) return false;
  if (family === 6 && isLoopback6(host)) return false;
  for (let entry of noProxy.split(',')) {
    entry = entry.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return false;
    const cidr = entry.match(/^([^/]+)\/(\d+)$/);
    if (cidr && isIP(cidr[1]!)) {
      if (family) {
        const list = new BlockList();
        const type = isIP(cidr[1]!) === 4 ? 'ipv4' : 'ipv6';
        list.addSubnet(cidr[1]!, Number(cidr[2]), type);
        if (isIP(host) === (type === 'ipv4' ? 4 : 6) && list.check(host, type)) return false;
      }
      continue;
    }
    let entryHost = entry;
    let entryPort = '';
    const withPort = entry.match(/^(\[[^\]]*\]|[^:]+):(\d+)$/);
    if (withPort) {
      entryHost = withPort[1]!.replace(/^\[|\]$/g, '');
      entryPort = withPort[2]!;
    } else if (entry.startsWith('[') && entry.endsWith(']')) {
      entryHost = entry.slice(1, -1);
    }
    if (!entryHost) continue;
    const portMatches = entryPort === '' || entryPort === port;
    if (isIP(entryHost)) {
      if (family && sameIp(entryHost, host) && portMatches) return false;
      continue;
    }
    // foo.com matches foo.com and bar.foo.com; .foo.com and *.foo.com only bar.foo.com.
    if (entryHost.startsWith('*.')) entryHost = entryHost.slice(1);
    const matchHost = !entryHost.startsWith('.');
    const suffix = matchHost ? `.${entryHost}` : entryHost;
    if ((host.endsWith(suffix) || (matchHost && host === entryHost)) && portMatches) return false;
  }
  return true;
}

function isLoopback6(host: string): boolean {
  const list = new BlockList();
  list.addSubnet('::1', 128, 'ipv6');
  list.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');
  return list.check(host, 'ipv6');
}

function sameIp(a: string, b: string): boolean {
  if (isIP(a) !== isIP(b)) return false;
  const list = new BlockList();
  list.addAddress(a, isIP(a) === 4 ? 'ipv4' : 'ipv6');
  return list.check(b, isIP(b) === 4 ? 'ipv4' : 'ipv6');
}

/** True when this Node.js can send requests through a proxy (agents' proxyEnv: 22.21 and 24.5). */
export function nodeSupportsProxy(version = process.versions.node): boolean {
  const [major, minor] = version.split('.').map(Number) as [number, number];
  return major > 24 || (major === 24 && minor >= 5) || (major === 22 && minor >= 21);
}

/** A proxy URL for messages: no user name or password. */
export function proxyForDisplay(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return '(a proxy)';
  }
}
