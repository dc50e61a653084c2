// The platform's key-encryption key (KEK): versioned, kept in one Secret of the operator's
// own namespace, made on first start. A new version is made when the PlatformConfig asks
// (miniapps.dev/rotate-key-encryption-key); an old version is retired only when no data
// key is wrapped by it any more. A Secret that does not check out (malformed, a key whose
// bytes no longer match its check value) is never used to wrap anything and never
// overwritten: the mini apps report it.
import type { ObjectStore } from '../runtime/apply.ts';
import { rfc3339 } from '../runtime/clock.ts';
import type { Clock } from '../runtime/clock.ts';
import { errorMessage, isAlreadyExists, isConflict } from '../runtime/errors.ts';
import type { AnyObject } from '../runtime/kube/client.ts';
import { Resources } from '../runtime/kube/resource.ts';
import { KEY_BYTES, keyCheck, keyCheckMatches, newKey } from './envelope.ts';

export const KEK_SECRET_NAME = 'miniapps-operator-key-encryption-key';
export const KEYRING_FIELD = 'keyring.json';

type SecretObject = AnyObject & { data?: Record<string, string>; type?: string };

/** The Secret's content: every version, the current one, and the rotation request that made it. */
export interface KeyRingDocument {
  current: string;
  /** The value of the PlatformConfig's rotation annotation the current version answers (none for the first). */
  rotationRequest?: string;
  versions: { id: string; key: string; check: string; createdAt: string }[];
}

export type KeyRingState =
  | { ok: true; current: { id: string; key: Buffer }; keys: ReadonlyMap<string, Buffer>; doc: KeyRingDocument; resourceVersion?: string }
  | { ok: false; problem: string };

const where = (ns: string) => `Secret ${ns}/${KEK_SECRET_NAME}`;

/** Reads and checks the key ring from its Secret: every version 256 bits and matching its check value, the current one present. */
export function parseKeyRing(secret: SecretObject | undefined, namespace: string): KeyRingState {
  if (!secret) return { ok: false, problem: `${where(namespace)} does not exist: restore it from a backup (a new one would unwrap none of the existing data keys)` };
  const tampered = (why: string): KeyRingState => ({ ok: false, problem: `${where(namespace)} does not check out (${why}): nothing is wrapped or rewrapped with it and no data key is replaced; restore it from a backup` });
  let doc: KeyRingDocument;
  try {
    doc = JSON.parse(Buffer.from(secret.data?.[KEYRING_FIELD] ?? '', 'base64').toString('utf8')) as KeyRingDocument;
  } catch (err) {
    return tampered(`data.${KEYRING_FIELD} is not JSON: ${errorMessage(err)}`);
  }
  if (!doc || typeof doc.current !== 'string' || !Array.isArray(doc.versions) || doc.versions.length === 0) return tampered(`data.${KEYRING_FIELD} has no versions`);
  const keys = new Map<string, Buffer>();
  for (const v of doc.versions) {
    const key = Buffer.from(typeof v?.key === 'string' ? v.key : '', 'base64');
    if (typeof v?.id !== 'string' || keys.has(v.id)) return tampered('a version without an id, or twice');
    if (key.length !== KEY_BYTES) return tampered(`version ${v.id} is not a 256-bit key`);
    if (typeof v.check !== 'string' || !keyCheckMatches(key, v.id, v.check)) return tampered(`version ${v.id} no longer matches its check value`);
    keys.set(v.id, key);
  }
  const current = keys.get(doc.current);
  if (!current) return tampered(`the current version ${doc.current} is not among its versions`);
  return { ok: true, current: { id: doc.current, key: current }, keys, doc, resourceVersion: secret.metadata.resourceVersion };
}

function version(n: number, now: Date): KeyRingDocument['versions'][number] {
  const id = `v${n}`;
  const key = newKey();
  return { id, key: key.toString('base64'), check: keyCheck(key, id), createdAt: rfc3339(now) };
}

const versionNumber = (id: string) => Number(/^v(\d+)$/.exec(id)?.[1] ?? 0);

/** The ring with a new current version (numbered after the highest), answering `request`. */
export function withNewVersion(doc: KeyRingDocument, now: Date, request: string): KeyRingDocument {
  const next = version(Math.max(0, ...doc.versions.map((v) => versionNumber(v.id))) + 1, now);
  return { current: next.id, rotationRequest: request, versions: [...doc.versions, next] };
}

/** The ring without the versions nothing uses (never the current one); undefined when none can go. */
export function withoutUnused(doc: KeyRingDocument, inUse: (id: string) => boolean): KeyRingDocument | undefined {
  const versions = doc.versions.filter((v) => v.id === doc.current || inUse(v.id));
  return versions.length === doc.versions.length ? undefined : { ...doc, versions };
}

/**
 * The key ring as the operator uses it: read from its Secret (reused for `ttlMs`),
 * rotated and pruned with compare-and-swap on a fresh read, one change at a time.
 */
export class KeyRing {
  private readonly store: ObjectStore;
  readonly namespace: string;
  private readonly clock: Clock;
  private readonly ttlMs: number;
  private cached?: { state: KeyRingState; at: number };
  private turn: Promise<unknown> = Promise.resolve();

  constructor(store: ObjectStore, namespace: string, clock: Clock, opts: { ttlMs?: number } = {}) {
    this.store = store;
    this.namespace = namespace;
    this.clock = clock;
    this.ttlMs = opts.ttlMs ?? 10_000;
  }

  private body(doc: KeyRingDocument, resourceVersion?: string) {
    return {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: KEK_SECRET_NAME,
        namespace: this.namespace,
        labels: { 'app.kubernetes.io/managed-by': 'miniapps-operator', 'app.kubernetes.io/component': 'data-protection' },
        ...(resourceVersion ? { resourceVersion } : {}),
      },
      type: 'Opaque',
      data: { [KEYRING_FIELD]: Buffer.from(JSON.stringify(doc)).toString('base64') },
    };
  }

  /** On first start: makes the Secret with a first version, unless it exists (whatever it holds: it is never replaced). */
  async ensureExists(): Promise<KeyRingState> {
    if (!(await this.store.get<SecretObject>(Resources.Secret, KEK_SECRET_NAME, this.namespace))) {
      try {
        await this.store.create(Resources.Secret, this.body({ current: 'v1', versions: [version(1, this.clock.now())] }));
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
      }
    }
    return this.state(true);
  }

  /** The checked key ring (from the last read when younger than the TTL). */
  async state(fresh = false): Promise<KeyRingState> {
    const now = this.clock.now().getTime();
    if (!fresh && this.cached && now - this.cached.at < this.ttlMs) return this.cached.state;
    const state = parseKeyRing(await this.store.get<SecretObject>(Resources.Secret, KEK_SECRET_NAME, this.namespace), this.namespace);
    this.cached = { state, at: now };
    return state;
  }

  private inTurn<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.turn.then(fn);
    this.turn = result.catch(() => undefined);
    return result;
  }

  /** A new current version if `request` is not the one the current version answers. Refused (the state says why) for a ring that does not check out. */
  rotate(request: string): Promise<KeyRingState> {
    return this.inTurn(async () => {
      const cached = await this.state();
      if (cached.ok && cached.doc.rotationRequest === request) return cached;
      for (let attempt = 0; attempt < 5; attempt++) {
        const state = await this.state(true);
        if (!state.ok || state.doc.rotationRequest === request) return state;
        try {
          await this.store.apply(Resources.Secret, this.body(withNewVersion(state.doc, this.clock.now(), request), state.resourceVersion));
        } catch (err) {
          if (isConflict(err)) continue; // changed meanwhile: read again
          throw err;
        }
      }
      return this.state(true);
    });
  }

  /** Removes the versions nothing uses (checked on a fresh read); returns the ids retired. */
  retire(inUse: (id: string) => boolean): Promise<string[]> {
    return this.inTurn(async () => {
      const state = await this.state(true);
      if (!state.ok) return [];
      const next = withoutUnused(state.doc, inUse);
      if (!next) return [];
      try {
        await this.store.apply(Resources.Secret, this.body(next, state.resourceVersion));
      } catch (err) {
        if (isConflict(err)) return [];
        throw err;
      }
      await this.state(true);
      return state.doc.versions.filter((v) => !next.versions.some((n) => n.id === v.id)).map((v) => v.id);
    });
  }
}
