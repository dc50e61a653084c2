// Sessions on the cluster: one Secret per session in the console's own namespace, written
// with the console's own ServiceAccount (a Role on Secrets there, nothing else). Its name
// is `console-session-` and a hash of the cookie's id; its data is the session sealed with
// a key derived from that id (session.ts), which the cluster never sees. So a replica or a
// restarted console finds a session by the browser's cookie, and someone who can read the
// Secrets finds no usable token in them. Expired ones are deleted by a sweep.
import { randomBytes } from 'node:crypto';
import { ApiError } from '../../operator/runtime/errors.ts';
import type { KubeClient } from '../../operator/runtime/kube/client.ts';
import { Resources } from '../../operator/runtime/kube/resource.ts';
import type { SessionBackend, StoredSession } from './session.ts';

export const SESSION_SECRET_PREFIX = 'console-session-';
export const SESSION_LABEL = 'miniapps.dev/console-session';
export const SESSION_EXPIRES_ANNOTATION = 'miniapps.dev/console-session-expires';
/** The Secret holding the replicas' shared secret that a sign-in in progress is sealed with in its cookie (signin.ts). */
export const SIGNIN_KEY_SECRET = 'console-signin-key';

type SecretLike = {
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; resourceVersion?: string };
  data?: Record<string, string>;
  type?: string;
};

export class SecretSessionBackend implements SessionBackend {
  readonly #client: KubeClient;
  readonly #namespace: string;

  constructor(client: KubeClient, namespace: string) {
    this.#client = client;
    this.#namespace = namespace;
  }

  static nameOf(key: string): string {
    return `${SESSION_SECRET_PREFIX}${key}`;
  }

  async read(key: string): Promise<StoredSession | undefined> {
    const s = await this.#client.get<SecretLike>(Resources.Secret, SecretSessionBackend.nameOf(key), this.#namespace);
    const sealed = s?.data?.session;
    const expires = Date.parse(s?.metadata.annotations?.[SESSION_EXPIRES_ANNOTATION] ?? '');
    if (!sealed || Number.isNaN(expires)) return undefined;
    return { sealed: Buffer.from(sealed, 'base64'), expiresAt: expires };
  }

  async write(key: string, record: StoredSession, existing?: boolean): Promise<void> {
    const name = SecretSessionBackend.nameOf(key);
    const body: SecretLike = {
      metadata: { name, namespace: this.#namespace, labels: { [SESSION_LABEL]: 'true' }, annotations: { [SESSION_EXPIRES_ANNOTATION]: new Date(record.expiresAt).toISOString() } },
      type: 'miniapps.dev/console-session',
      data: { session: record.sealed.toString('base64') },
    };
    // Saved again (its tokens refreshed, its expiry moved): replaced whole, if it is still there.
    const replace = () => this.#client.patch(Resources.Secret, name, this.#namespace, { metadata: body.metadata, data: body.data });
    if (existing) {
      try {
        await replace();
      } catch (err) {
        // Signed out on another replica, or swept: it stays gone.
        if (!(err instanceof ApiError && err.status === 404)) throw err;
      }
      return;
    }
    try {
      await this.#client.create(Resources.Secret, body);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 409)) throw err;
      await replace();
    }
  }

  async remove(key: string): Promise<void> {
    await this.#client.delete(Resources.Secret, SecretSessionBackend.nameOf(key), this.#namespace);
  }

  /**
   * The secret every replica seals sign-ins in progress with: read from the Secret
   * SIGNIN_KEY_SECRET, or created there by the first replica to start (one Secret, ever:
   * not one per visitor). Not a session's Secret, so the sweep never deletes it.
   */
  async signinSecret(): Promise<Uint8Array> {
    const read = async (): Promise<Uint8Array | undefined> => {
      const s = await this.#client.get<SecretLike>(Resources.Secret, SIGNIN_KEY_SECRET, this.#namespace);
      const key = s?.data?.key ? Buffer.from(s.data.key, 'base64') : undefined;
      if (s && !(key && key.length >= 32)) throw new Error(`The Secret ${this.#namespace}/${SIGNIN_KEY_SECRET} has no key of 32 bytes or more: delete it and the console makes a new one`);
      return key && new Uint8Array(key);
    };
    const found = await read();
    if (found) return found;
    try {
      await this.#client.create(Resources.Secret, {
        metadata: { name: SIGNIN_KEY_SECRET, namespace: this.#namespace },
        type: 'Opaque',
        data: { key: randomBytes(32).toString('base64') },
      } satisfies SecretLike);
    } catch (err) {
      // Another replica made it first: theirs is used.
      if (!(err instanceof ApiError && err.status === 409)) throw err;
    }
    const key = await read();
    if (!key) throw new Error(`The Secret ${this.#namespace}/${SIGNIN_KEY_SECRET} could not be read after it was made`);
    return key;
  }

  /** Deletes the sessions whose idle time ran out; returns how many. */
  async sweep(now = Date.now()): Promise<number> {
    const list = await this.#client.listAll<SecretLike>(Resources.Secret, { namespace: this.#namespace, labelSelector: SESSION_LABEL });
    let n = 0;
    for (const s of list.items) {
      const expires = Date.parse(s.metadata.annotations?.[SESSION_EXPIRES_ANNOTATION] ?? '');
      if (!s.metadata.name.startsWith(SESSION_SECRET_PREFIX) || !(Number.isNaN(expires) || expires <= now)) continue;
      try {
        await this.#client.delete(Resources.Secret, s.metadata.name, this.#namespace, { resourceVersion: s.metadata.resourceVersion });
        n++;
      } catch (err) {
        // Used (and so saved) again since the list: kept.
        if (!(err instanceof ApiError && err.status === 409)) throw err;
      }
    }
    return n;
  }
}
