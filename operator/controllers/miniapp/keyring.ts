// The platform's key-encryption key (KEK): versioned, kept in one Secret of the operator's
// own namespace, made on first start. A new version is made when the PlatformConfig asks
// (miniapps.dev/rotate-key-encryption-key); an old version is retired only when no data
// key is wrapped by it any more. A Secret that does not check out (malformed, a key whose
// bytes no longer match its check value) is never used to wrap anything and never
// overwritten: the mini apps report it.
import type { ObjectStore } from '../../runtime/apply.ts';
import { rfc3339 } from '../../runtime/clock.ts';
import type { Clock } from '../../runtime/clock.ts';
import { errorMessage } from '../../runtime/errors.ts';
import { SecretDocument } from '../../runtime/secret-document.ts';
import type { SecretObject } from '../../runtime/secret-document.ts';
import { KEY_BYTES, keyCheck, keyCheckMatches, newKey } from './envelope.ts';

export const KEK_SECRET_NAME = 'miniapps-operator-key-encryption-key';
export const KEYRING_FIELD = 'keyring.json';

/** The Secret's content: every version, the current one, and the rotation request that made it. */
export interface KeyRingDocument {
  current: string;
  /** The value of the PlatformConfig's rotation annotation the current version answers (none for the first). */
  rotationRequest?: string;
  versions: { id: string; key: string; check: string; createdAt: string }[];
}

export type KeyRingState = { ok: true; current: { id: string; key: Buffer }; keys: ReadonlyMap<string, Buffer>; doc: KeyRingDocument; resourceVersion?: string } | { ok: false; problem: string };

const where = (ns: string) => `Secret ${ns}/${KEK_SECRET_NAME}`;

/** Reads and checks the key ring from its Secret: every version 256 bits and matching its check value, the current one present. */
export function parseKeyRing(secret: SecretObject | undefined, namespace: string): KeyRingState {
  if (!secret) return { ok: false, problem: `${where(namespace)} does not exist: restore it from a backup (a new one would unwrap none of the existing data keys)` };
  const tampered = (why: string): KeyRingState => ({
    ok: false,
    problem: `${where(namespace)} does not check out (${why}): nothing is wrapped or rewrapped with it and no data key is replaced; restore it from a backup`,
  });
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
  private readonly secret: SecretDocument<KeyRingDocument, KeyRingState>;
  readonly namespace: string;

  constructor(store: ObjectStore, namespace: string, clock: Clock, opts: { ttlMs?: number } = {}) {
    this.namespace = namespace;
    this.secret = new SecretDocument<KeyRingDocument, KeyRingState>(store, namespace, clock, {
      secretName: KEK_SECRET_NAME,
      field: KEYRING_FIELD,
      component: 'data-protection',
      parse: parseKeyRing,
      first: (now) => ({ current: 'v1', versions: [version(1, now)] }),
      ttlMs: opts.ttlMs,
    });
  }

  /** On first start: makes the Secret with a first version, unless it exists (whatever it holds: it is never replaced). */
  ensureExists(): Promise<KeyRingState> {
    return this.secret.ensureExists();
  }

  /** The checked key ring (from the last read when younger than the TTL). */
  state(fresh = false): Promise<KeyRingState> {
    return this.secret.state(fresh);
  }

  /** A new current version if `request` is not the one the current version answers. Refused (the state says why) for a ring that does not check out. */
  rotate(request: string): Promise<KeyRingState> {
    return this.secret.rotate(request, withNewVersion);
  }

  /** Removes the versions nothing uses (checked on a fresh read); returns the ids retired. */
  retire(inUse: (id: string) => boolean): Promise<string[]> {
    return this.secret.inTurn(async () => {
      const { written } = await this.secret.update((state) => withoutUnused(state.doc, inUse), 1);
      if (!written) return [];
      return written.before.doc.versions.filter((v) => !written.doc.versions.some((n) => n.id === v.id)).map((v) => v.id);
    });
  }
}
