// API keys as their holders and gateways use them: the key read from its Secret, the
// verify endpoint asked with a ServiceAccount token. For tests, the demo and the bench.
import { API_KEY_SECRET_KEY } from '../api/apikey/names.ts';
import type { ApiKey } from '../api/apikey/schema.ts';
import { Kinds } from '../api/registry.ts';
import type { KubeClient } from '../runtime/kube/client.ts';
import { Resources, resourcePath } from '../runtime/kube/resource.ts';
import { eventually } from './eventually.ts';

/** Waits until the ApiKey's status satisfies `done`, and returns it. */
export function waitForKey(client: KubeClient, namespace: string, name: string, done: (k: ApiKey) => boolean, describe: string, timeoutMs = 30_000): Promise<ApiKey> {
  return eventually(
    async () => {
      const k = await client.get<ApiKey>(Kinds.ApiKey, name, namespace);
      return k && done(k) ? k : false;
    },
    { timeoutMs, describe: `ApiKey ${namespace}/${name}: ${describe}` },
  );
}

/** The key of the ApiKey's current revision, read from its Secret (as its owner may). */
export async function readKey(client: KubeClient, k: ApiKey, which: 'current' | 'previous' = 'current'): Promise<string> {
  const name = which === 'current' ? k.status?.secretName : k.status?.previousKey?.secretName;
  if (!name) throw new Error(`ApiKey ${k.metadata.name} has no ${which} key in status`);
  const secret = await client.get<{ metadata: object; data?: Record<string, string> }>(Resources.Secret, name, k.metadata.namespace);
  const data = secret?.data?.[API_KEY_SECRET_KEY];
  if (!data) throw new Error(`Secret ${name} holds no ${API_KEY_SECRET_KEY}`);
  return Buffer.from(data, 'base64').toString('utf8');
}

/** A token of the ServiceAccount (TokenRequest), created if missing. */
export async function serviceAccountToken(client: KubeClient, namespace: string, name: string, expirationSeconds = 3600): Promise<string> {
  if (!(await client.get(Resources.ServiceAccount, name, namespace))) await client.create(Resources.ServiceAccount, { metadata: { name, namespace } });
  const res = await client.request<{ status: { token: string } }>('POST', resourcePath(Resources.ServiceAccount, { namespace, name, subresource: 'token' }), {
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds } },
  });
  return res.status.token;
}

export interface VerifyAnswer {
  status: number;
  retryAfter?: string;
  body: {
    valid?: boolean;
    reason?: string;
    error?: string;
    owner?: string;
    username?: string;
    organization?: string | null;
    scopes?: string[];
    keyId?: string;
    expiresAt?: string | null;
    previousKey?: boolean;
  };
}

/** Asks the operator's plain HTTP verify endpoint about `apiKey`, as the caller holding `callerToken`. */
export async function verifyKey(port: number, callerToken: string | undefined, apiKey: string, scope?: string): Promise<VerifyAnswer> {
  const res = await fetch(`http://127.0.0.1:${port}/verify`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(callerToken ? { authorization: `Bearer ${callerToken}` } : {}) },
    body: JSON.stringify(scope === undefined ? { apiKey } : { apiKey, scope }),
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after') ?? undefined, body: (await res.json()) as VerifyAnswer['body'] };
}
