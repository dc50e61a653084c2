import { GROUP } from '../../api/constants.ts';
import { MiniAppConditions, MiniAppReasons } from '../../api/miniapp/names.ts';
import type { MiniApp, MiniAppStatus } from '../../api/miniapp/schema.ts';
import { dataKeySecretName } from '../../domain/apps.ts';
import { Caches, Index, NO_DATA_KEY_YET } from '../../domain/caches.ts';
import { newKey, unwrapDataKey, wrapDataKey } from './envelope.ts';
import type { KeyRing, KeyRingState } from './keyring.ts';
import { controllerRef } from '../../runtime/apply.ts';
import type { ObjectStore } from '../../runtime/apply.ts';
import type { CacheReader, CacheSource } from '../../runtime/cache.ts';
import { rfc3339 } from '../../runtime/clock.ts';
import type { Clock } from '../../runtime/clock.ts';
import type { ConditionInput } from '../../runtime/conditions.ts';
import { errorMessage, isAlreadyExists } from '../../runtime/errors.ts';
import type { AnyObject } from '../../runtime/kube/client.ts';
import { Resources } from '../../runtime/kube/resource.ts';
import type { Logger } from 'pino';
import { ownedLabels } from '../../runtime/objects.ts';

/** What a reconcile learns of a mini app's data key. */
export interface DataKeyOutcome {
  condition: ConditionInput;
  /** Retrying cannot fix it (a conflict or a lost key to resolve by hand). */
  stalled: boolean;
  /** status.dataKey as it should be now (undefined: leave it as it is). */
  status?: NonNullable<MiniAppStatus['dataKey']>;
  /** Look again after this long: what is wrong is outside the spec (a Secret, the key ring) and is not watched. */
  requeueAfterMs?: number;
}

/** A key ring or data key Secret that does not check out is looked at again this often (neither is watched). */
export const RECHECK_KEYS_MS = 15_000;

/** The data keys of mini apps with EnvelopeEncryption. */
export interface DataKeys {
  /** Makes the data key if it has none (once, persisted before use), rewraps it with the current key-encryption key. */
  ensure(mini: MiniApp): Promise<DataKeyOutcome>;
  /** Destroys the data key (crypto-shredding). */
  destroy(mini: MiniApp): Promise<void>;
  /** The unwrapped data key of a mini app, for the data-protection API; undefined when it has none. */
  dataKeyOf(mini: MiniApp): Promise<Buffer | undefined>;
}

/** The data key Secret's fields (data: base64 of the bytes, as Secrets hold them). */
export const DataKeyFields = { wrapped: 'wrappedKey', kek: 'keyEncryptionKeyId', uid: 'miniAppUid' } as const;
export const DATA_KEY_LABEL = `${GROUP}/data-key`;
const WRAPPED_AT = `${GROUP}/wrapped-at`;

type SecretObject = AnyObject & { data?: Record<string, string>; type?: string };
const field = (s: SecretObject, f: string) => Buffer.from(s.data?.[f] ?? '', 'base64');
const text = (s: SecretObject, f: string) => field(s, f).toString('utf8');

/**
 * Data keys as Secrets `<miniapp>-data-key` in the mini app's namespace: a random 256-bit
 * key, generated once and stored only wrapped by the current key-encryption key (bound to
 * the mini app's uid and the key-encryption key's version). The Secret is created with a
 * POST before the key is ever used: a restart at any line either finds it or makes one
 * that nothing used yet, so there is never a second key. A key-encryption key rotation
 * rewraps the same data key (compare-and-swap); an old version is retired once no data
 * key is wrapped by it. Nothing ever overwrites a data key that does not unwrap.
 */
export class SecretDataKeys implements DataKeys {
  private readonly store: ObjectStore;
  private readonly ring: KeyRing;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly miniApps: CacheReader<MiniApp>;
  private readonly rotationRequest: () => string | undefined;
  /** Mini apps (by uid) this process rewrapped, with the version: the cache may not show their status yet. */
  private readonly rewrapped = new Map<string, string>();

  constructor(opts: { store: ObjectStore; ring: KeyRing; clock: Clock; log: Logger; caches: CacheSource; rotationRequest: () => string | undefined }) {
    this.store = opts.store;
    this.ring = opts.ring;
    this.clock = opts.clock;
    this.log = opts.log;
    this.miniApps = opts.caches.cache(Caches.miniApps);
    this.rotationRequest = opts.rotationRequest;
  }

  private async ringState(): Promise<KeyRingState> {
    const request = this.rotationRequest();
    return request ? this.ring.rotate(request) : this.ring.state();
  }

  async ensure(mini: MiniApp): Promise<DataKeyOutcome> {
    const ns = mini.metadata.namespace!;
    const name = dataKeySecretName(mini.metadata.name);
    // Restoring a Secret fixes these, not a new spec: not Stalled, looked at again; a lost key needs a new MiniApp: Stalled.
    const problem = (reason: string, message: string): DataKeyOutcome => ({
      condition: { type: MiniAppConditions.DataKeyReady, status: 'False', reason, message },
      stalled: reason === MiniAppReasons.DataKeyMissing,
      ...(reason === MiniAppReasons.DataKeyMissing ? {} : { requeueAfterMs: RECHECK_KEYS_MS }),
    });
    const ring = await this.ringState();
    if (!ring.ok) return problem(MiniAppReasons.KeyEncryptionKeyInvalid, ring.problem);
    const secret = await this.store.get<SecretObject>(Resources.Secret, name, ns);
    if (!secret) {
      if (mini.status?.dataKey) {
        return problem(
          MiniAppReasons.DataKeyMissing,
          `The data key Secret ${name} recorded in status is gone: what was encrypted with it cannot be revealed, and a new key is not made silently; restore the Secret from a backup, or delete and recreate the MiniApp to start with a new key`,
        );
      }
      return this.create(mini, name, ring);
    }
    if (!ownedBy(secret, mini)) {
      return problem(MiniAppReasons.DataKeyConflict, `Secret ${name} exists and is not this mini app's data key: it is left alone; delete or rename it, and the data key is made there`);
    }
    const kekId = text(secret, DataKeyFields.kek);
    const kek = ring.keys.get(kekId);
    if (!kek)
      return problem(
        MiniAppReasons.KeyEncryptionKeyInvalid,
        `The data key is wrapped by key-encryption key version ${kekId}, which the key ring no longer holds; restore that version from a backup (the data key is kept as it is)`,
      );
    let dataKey: Buffer;
    try {
      dataKey = unwrapDataKey(kek, kekId, field(secret, DataKeyFields.wrapped), mini.metadata.uid!);
    } catch (err) {
      return problem(
        MiniAppReasons.DataKeyUnwrapFailed,
        `The data key in Secret ${name} does not unwrap with key-encryption key ${kekId} (${errorMessage(err)}): the Secret or the key ring was changed; it is kept as it is and not replaced, restore them from a backup`,
      );
    }
    const wrappedAt = secret.metadata.annotations?.[WRAPPED_AT] ?? rfc3339(this.clock.now());
    if (kekId === ring.current.id) {
      // Already current (maybe rewrapped by a process killed before it recorded status): an
      // old version may be retirable now, and the last reconcile of a rotation may be this one.
      if (ring.keys.size > 1) await this.retireUnused(mini);
      return ready(name, kekId, wrappedAt, `Data key in Secret ${name}, wrapped by key-encryption key ${kekId}`);
    }
    // Rewrap the same data key with the current version, on the version read (compare-and-swap).
    const now = rfc3339(this.clock.now());
    const rewrapped = wrapDataKey(ring.current.key, ring.current.id, dataKey, mini.metadata.uid!);
    if (!unwrapDataKey(ring.current.key, ring.current.id, rewrapped, mini.metadata.uid!).equals(dataKey)) throw new Error('Rewrapping produced a different data key; not written');
    await this.store.apply(Resources.Secret, this.body(mini, name, rewrapped, ring.current.id, now, secret.metadata.resourceVersion));
    this.rewrapped.set(mini.metadata.uid!, ring.current.id);
    this.log.info({ miniApp: `${ns}/${mini.metadata.name}`, from: kekId, to: ring.current.id }, 'Data key rewrapped');
    await this.retireUnused(mini);
    return ready(name, ring.current.id, now, `Data key in Secret ${name}, rewrapped from key-encryption key ${kekId} to ${ring.current.id}`);
  }

  /** The first data key: generated, wrapped, created (POST); a Secret that appeared meanwhile is read next time, this key is never used. */
  private async create(mini: MiniApp, name: string, ring: Extract<KeyRingState, { ok: true }>): Promise<DataKeyOutcome> {
    const now = rfc3339(this.clock.now());
    const wrapped = wrapDataKey(ring.current.key, ring.current.id, newKey(), mini.metadata.uid!);
    try {
      await this.store.create(Resources.Secret, this.body(mini, name, wrapped, ring.current.id, now));
    } catch (err) {
      if (isAlreadyExists(err)) throw new Error(`Secret ${name} appeared meanwhile; reading it next time`, { cause: err });
      throw new Error(`Secret ${name} could not be created: ${errorMessage(err)}`, { cause: err });
    }
    return ready(name, ring.current.id, now, `Data key created in Secret ${name}, wrapped by key-encryption key ${ring.current.id}`);
  }

  private body(mini: MiniApp, name: string, wrapped: Buffer, kekId: string, wrappedAt: string, resourceVersion?: string) {
    return {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name,
        namespace: mini.metadata.namespace,
        labels: { ...ownedLabels('MiniApp', mini.metadata.name), [DATA_KEY_LABEL]: 'true' },
        annotations: { [WRAPPED_AT]: wrappedAt },
        ownerReferences: [controllerRef(mini as unknown as AnyObject)],
        ...(resourceVersion ? { resourceVersion } : {}),
      },
      type: `${GROUP}/data-key`,
      data: {
        [DataKeyFields.wrapped]: wrapped.toString('base64'),
        [DataKeyFields.kek]: Buffer.from(kekId).toString('base64'),
        [DataKeyFields.uid]: Buffer.from(mini.metadata.uid!).toString('base64'),
      },
    };
  }

  /**
   * Retires the key-encryption key versions no data key uses: none of the mini apps in the
   * cache records it (or has a key not recorded yet), counting what this process rewrapped
   * (the cache may not show it yet).
   */
  private async retireUnused(self: MiniApp): Promise<void> {
    const inUse = (id: string) =>
      [...this.miniApps.byIndex(Index.kek, id), ...this.miniApps.byIndex(Index.kek, NO_DATA_KEY_YET)].some(
        (m) => m.metadata.uid !== self.metadata.uid && (this.rewrapped.get(m.metadata.uid!) ?? id) === id,
      );
    const retired = await this.ring.retire(inUse);
    if (retired.length) this.log.info({ retired }, 'Key-encryption key versions retired: no data key uses them');
  }

  async destroy(mini: MiniApp): Promise<void> {
    const name = dataKeySecretName(mini.metadata.name);
    const secret = await this.store.get<SecretObject>(Resources.Secret, name, mini.metadata.namespace!);
    this.rewrapped.delete(mini.metadata.uid!);
    if (!secret || !ownedBy(secret, mini)) return;
    await this.store.delete(Resources.Secret, name, mini.metadata.namespace!, { uid: secret.metadata.uid });
    this.log.info({ miniApp: `${mini.metadata.namespace}/${mini.metadata.name}` }, 'Data key destroyed');
  }

  async dataKeyOf(mini: MiniApp): Promise<Buffer | undefined> {
    const secret = await this.store.get<SecretObject>(Resources.Secret, dataKeySecretName(mini.metadata.name), mini.metadata.namespace!);
    if (!secret || !ownedBy(secret, mini)) return undefined;
    const ring = await this.ring.state();
    if (!ring.ok) throw new Error(ring.problem);
    const kekId = text(secret, DataKeyFields.kek);
    const kek = ring.keys.get(kekId) ?? (await this.ring.state(true).then((s) => (s.ok ? s.keys.get(kekId) : undefined)));
    if (!kek) throw new Error(`key-encryption key version ${kekId} is not in the key ring`);
    return unwrapDataKey(kek, kekId, field(secret, DataKeyFields.wrapped), mini.metadata.uid!);
  }
}

function ownedBy(secret: SecretObject, mini: MiniApp): boolean {
  return text(secret, DataKeyFields.uid) === mini.metadata.uid && (secret.metadata.ownerReferences ?? []).some((r) => r.uid === mini.metadata.uid);
}

function ready(secretName: string, kekId: string, wrappedAt: string, message: string): DataKeyOutcome {
  return {
    condition: { type: MiniAppConditions.DataKeyReady, status: 'True', reason: MiniAppReasons.DataKeyReady, message },
    stalled: false,
    status: { secretName, keyEncryptionKeyId: kekId, wrappedAt },
  };
}
