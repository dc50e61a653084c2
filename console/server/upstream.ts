// Where the API server is, and how the console reaches it on a person's behalf. Only the
// kubeconfig's cluster is used (server URL, CA, TLS name): never its user, client
// certificate, token or impersonation. Every request carries the signed-in person's own
// bearer token and nothing else that identifies anyone.
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { loadClusterAccess } from '../../operator/runtime/kube/kubeconfig.ts';

export interface Upstream {
  /** The API server's URL, without a trailing slash. */
  readonly server: string;
  /**
   * Sends one request to the API server with `Authorization: Bearer <token>` and only the
   * headers given. Resolves with the response (a stream: watches are piped as they come).
   */
  request(opts: { method: string; path: string; token: string; headers?: Record<string, string>; body?: Buffer | string; signal?: AbortSignal }): Promise<IncomingMessage>;
}

/** The API server of the kubeconfig's current context (cluster part only). */
export function upstreamFromKubeconfig(path: string | undefined): Upstream {
  const access = loadClusterAccess({ path });
  return createUpstream({ server: access.server, ca: access.ca, rejectUnauthorized: access.rejectUnauthorized, servername: access.servername });
}

export function createUpstream(cluster: { server: string; ca?: string | Buffer; rejectUnauthorized?: boolean; servername?: string }): Upstream {
  const url = new URL(cluster.server);
  const https = url.protocol === 'https:';
  // Keep-alive: the proxy's added latency is mostly a new TLS handshake otherwise.
  const agent = https
    ? new HttpsAgent({ keepAlive: true, maxSockets: 64, ca: cluster.ca, rejectUnauthorized: cluster.rejectUnauthorized ?? true, servername: cluster.servername })
    : new HttpAgent({ keepAlive: true, maxSockets: 64 });
  const base = url.pathname.replace(/\/$/, '');
  return {
    server: cluster.server.replace(/\/$/, ''),
    request({ method, path, token, headers = {}, body, signal }) {
      return new Promise((resolve, reject) => {
        const send = https ? httpsRequest : httpRequest;
        const req = send(
          {
            agent,
            protocol: url.protocol,
            hostname: url.hostname,
            port: url.port || (https ? 443 : 80),
            method,
            path: base + path,
            headers: { ...headers, authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) },
            signal,
          },
          resolve,
        );
        req.on('error', reject);
        req.end(body);
      });
    },
  };
}

/** Reads a whole response as JSON (for the console's own questions, not for the proxy). */
export async function readJson<T>(res: IncomingMessage): Promise<T> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return (text ? JSON.parse(text) : {}) as T;
}

/** One JSON request as the person; throws the API server's Status message on failure. */
export async function kubeJson<T>(up: Upstream, token: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await up.request({
    method,
    path,
    token,
    headers: { accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await readJson<T & { message?: string }>(res);
  if ((res.statusCode ?? 500) >= 400) throw new KubeStatusError(res.statusCode ?? 500, json.message ?? `HTTP ${res.statusCode}`);
  return json;
}

export class KubeStatusError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'KubeStatusError';
    this.status = status;
  }
}
