// The page's only way to the cluster: same-origin requests to the console's proxy
// (/k8s/...), which adds the person's token on the server. The page never sees a token;
// it sends the session's CSRF token on writes.
import { useEffect, useState } from 'preact/hooks';

let csrf = '';
export const setCsrf = (token: string): void => {
  csrf = token;
};

export interface Obj {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    resourceVersion?: string;
    generateName?: string;
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
    creationTimestamp?: string;
    deletionTimestamp?: string;
  };
  spec?: any;
  status?: any;
}

/** The API server's refusal, with its own message (shown next to the field). */
export class ApiError extends Error {
  readonly code: number;
  readonly reason?: string;
  constructor(code: number, message: string, reason?: string) {
    super(message);
    this.code = code;
    this.reason = reason;
  }
}

export const GROUP_PATH = '/apis/miniapps.dev/v1alpha1';
export const nsPath = (ns: string, plural: string, name?: string): string => `${GROUP_PATH}/namespaces/${ns}/${plural}${name ? `/${name}` : ''}`;
export const clusterPath = (plural: string, name?: string): string => `${GROUP_PATH}/${plural}${name ? `/${name}` : ''}`;

export async function call<T = any>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
  const res = await fetch(path.startsWith('/k8s') || path.startsWith('/console') || path.startsWith('/auth') ? path : `/k8s${path}`, {
    method,
    credentials: 'same-origin',
    headers: { accept: 'application/json', ...(method === 'GET' ? {} : { 'x-csrf-token': csrf }), ...(body !== undefined ? { 'content-type': contentType } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any = {};
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = { message: text };
  }
  if (!res.ok) throw new ApiError(res.status, json.message ?? `HTTP ${res.status}`, json.reason);
  return json as T;
}

export const get = <T = any>(path: string) => call<T>('GET', path);
export const create = <T = any>(path: string, body: unknown) => call<T>('POST', `${path}?fieldValidation=Strict`, body);
export const mergePatch = <T = any>(path: string, body: unknown) => call<T>('PATCH', `${path}?fieldValidation=Strict`, body, 'application/merge-patch+json');
export const remove = (path: string) => call('DELETE', path);

export interface ListState<T> {
  items: T[];
  loaded: boolean;
  error?: string;
}

const key = (o: Obj): string => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/**
 * A live list: read once, then a watch from that resourceVersion; when the watch ends or
 * fails, read again. `path` may carry a list's query (a fieldSelector); undefined: nothing.
 */
export function useWatchList<T extends Obj>(path: string | undefined): ListState<T> {
  const [state, setState] = useState<ListState<T>>({ items: [], loaded: false });
  useEffect(() => {
    if (!path) return;
    let stopped = false;
    const abort = new AbortController();
    const run = async (): Promise<void> => {
      while (!stopped) {
        try {
          const list: { items: T[]; metadata: { resourceVersion: string } } = await get(path!);
          const byKey = new Map<string, T>(list.items.map((o: T) => [key(o), o]));
          setState({ items: [...byKey.values()], loaded: true });
          const watch = `${path!.includes('?') ? '&' : '?'}watch=1&allowWatchBookmarks=true&resourceVersion=${list.metadata.resourceVersion}`;
          const res = await fetch(`/k8s${path}${watch}`, { signal: abort.signal, credentials: 'same-origin' });
          if (!res.ok || !res.body) throw new ApiError(res.status, (await res.json().catch(() => ({}))).message ?? `HTTP ${res.status}`);
          const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
          let buf = '';
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            buf += value;
            let nl: number;
            let changed = false;
            while ((nl = buf.indexOf('\n')) >= 0) {
              const line = buf.slice(0, nl);
              buf = buf.slice(nl + 1);
              if (!line.trim()) continue;
              const ev = JSON.parse(line) as { type: string; object: T };
              if (ev.type === 'ADDED' || ev.type === 'MODIFIED') byKey.set(key(ev.object), ev.object), (changed = true);
              else if (ev.type === 'DELETED') byKey.delete(key(ev.object)), (changed = true);
              else if (ev.type === 'ERROR') throw new Error('watch expired');
            }
            if (changed) setState({ items: [...byKey.values()], loaded: true });
          }
        } catch (err) {
          if (stopped) return;
          if (err instanceof ApiError && (err.code === 403 || err.code === 401)) {
            setState({ items: [], loaded: true, error: err.message });
            return;
          }
        }
        await new Promise((r) => setTimeout(r, 1000));
      }
    };
    void run();
    return () => {
      stopped = true;
      abort.abort();
    };
  }, [path]);
  return state;
}

/** Objects known by name only (the person may get them, not list them): a short poll. */
export function usePolledObjects<T extends Obj>(paths: string[], everyMs = 3000): ListState<T> {
  const [state, setState] = useState<ListState<T>>({ items: [], loaded: false });
  const joined = paths.join('\n');
  useEffect(() => {
    let stopped = false;
    const tick = async (): Promise<void> => {
      const got: (T | undefined)[] = await Promise.all(paths.map((p) => get<T>(p).catch(() => undefined)));
      if (!stopped) setState({ items: got.filter((x): x is T => x !== undefined), loaded: true });
    };
    void tick();
    const timer = setInterval(() => void tick(), everyMs);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [joined]);
  return state;
}

/** The Ready condition as a person reads it. */
export function readiness(o: Obj): { ready: boolean; reason?: string; message?: string } {
  const c = (o.status?.conditions as { type: string; status: string; reason?: string; message?: string }[] | undefined)?.find((x) => x.type === 'Ready');
  return { ready: c?.status === 'True', reason: c?.reason, message: c?.message };
}

/**
 * A new API key, read once: the operator makes it and writes it to a Secret that only its
 * owner may read; wait for the Secret's name in status, then read the key. Undefined when
 * it did not come within 30 s (the key's conditions say why).
 */
export async function readNewKey(ns: string, name: string): Promise<string | undefined> {
  for (let i = 0; i < 60; i++) {
    const now = await get<Obj>(nsPath(ns, 'apikeys', name)).catch(() => undefined);
    const secretName = now?.status?.secretName;
    if (secretName) {
      const secret = await get<{ data?: Record<string, string> }>(`/api/v1/namespaces/${ns}/secrets/${secretName}`).catch(() => undefined);
      const data = secret?.data && Object.values(secret.data)[0];
      if (data) return atob(data);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return undefined;
}

/** Creates an ApiKey for `owner` in `ns`: until the expiration date (a day, UTC), or 30 days. */
export function createApiKey(ns: string, owner: string, description: string, expires: string): Promise<Obj> {
  const expiry = expires ? { expiresAt: new Date(`${expires}T00:00:00Z`).toISOString().replace('.000', '') } : { ttl: '720h' };
  return create<Obj>(nsPath(ns, 'apikeys'), {
    apiVersion: 'miniapps.dev/v1alpha1',
    kind: 'ApiKey',
    metadata: { generateName: 'key-', namespace: ns },
    spec: { owner, ...(description ? { description } : {}), ...expiry },
  });
}
