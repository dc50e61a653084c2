// What the plugin says when it cannot talk to the API server or finds no kubeconfig: one
// line naming the server and the kubeconfig it came from, and what failed (never a stack).
import { NoClusterConfigError } from '../runtime/kube/kubeconfig.ts';
import type { PluginApi } from './core.ts';

/** Where requests go, as ClusterAccess says it (server URL, and "kubeconfig /path (context x)"). */
export interface Endpoint {
  server: string;
  source: string;
}

const NETWORK: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'timed out',
  EPIPE: 'connection closed',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'name lookup failed (temporary)',
  EPROTO: 'TLS handshake failed',
};

const TLS = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
]);

/** The one line for a failure to reach `endpoint`, or undefined when `err` is not one (an API error, a bug). */
export function connectionFailure(err: unknown, endpoint: Endpoint): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (!code || !(code in NETWORK || TLS.has(code))) return undefined;
  const what = TLS.has(code) ? `the server's certificate is not trusted: ${(err as Error).message} (${code})` : `${NETWORK[code]} (${code})`;
  return `cannot connect to the API server ${endpoint.server} (${endpoint.source}): ${what}`;
}

/** The one line for a kubeconfig that is not there (undefined for any other error). */
export function noKubeconfig(err: unknown, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!(err instanceof NoClusterConfigError)) return undefined;
  return env.KUBECONFIG
    ? `no kubeconfig: ${err.message.replace(/^No Kubernetes cluster configured: /, '')}; pass --kubeconfig PATH or fix KUBECONFIG`
    : 'no kubeconfig: ~/.kube/config does not exist and neither --kubeconfig nor KUBECONFIG is set';
}

/** Thrown in place of a network error: its message is the one line. */
export class ConnectionError extends Error {}

/** `api` whose network failures become a ConnectionError naming `endpoint`. */
export function withConnectionErrors(api: PluginApi, endpoint: Endpoint): PluginApi {
  const guard = <T>(p: Promise<T>): Promise<T> =>
    p.catch((err: unknown) => {
      const line = connectionFailure(err, endpoint);
      throw line ? new ConnectionError(line) : err;
    });
  return {
    get: (rt, name, namespace) => guard(api.get(rt, name, namespace)),
    list: (rt, namespace) => guard(api.list(rt, namespace)),
    create: (rt, obj) => guard(api.create(rt, obj)),
    patch: (rt, name, namespace, patch) => guard(api.patch(rt, name, namespace, patch)),
    delete: (rt, name, namespace) => guard(api.delete(rt, name, namespace)),
  };
}
