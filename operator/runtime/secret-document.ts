// A JSON document the operator keeps in a Secret of its own namespace (the key-encryption
// key ring, the token-roles signing keys): made on first start and never replaced, read
// through a short cache, changed one change at a time with compare-and-swap on a fresh
// read, so that two processes (an old leader, a new one) never overwrite each other.
import type { ObjectStore } from './apply.ts';
import type { Clock } from './clock.ts';
import { isAlreadyExists, isConflict } from './errors.ts';
import type { AnyObject } from './kube/client.ts';
import { Resources } from './kube/resource.ts';

export type SecretObject = AnyObject & { data?: Record<string, string>; type?: string };

/** A document as read: checked, with the resourceVersion it was read at, or why it does not check out. */
export type DocumentState<D> = { ok: true; doc: D; resourceVersion?: string } | { ok: false; problem: string };

export interface SecretDocumentOptions<D, S extends DocumentState<D>> {
  /** The Secret's name, and the key of its data that holds the JSON. */
  secretName: string;
  field: string;
  /** The app.kubernetes.io/component label. */
  component: string;
  /** Checks what the Secret holds (undefined: there is no Secret). */
  parse: (secret: SecretObject | undefined, namespace: string) => S;
  /** The document of a first start. */
  first: (now: Date) => D;
  /** How long a read is reused (default 10 s). */
  ttlMs?: number;
}

export class SecretDocument<D extends { rotationRequest?: string }, S extends DocumentState<D>> {
  private readonly store: ObjectStore;
  readonly namespace: string;
  private readonly clock: Clock;
  private readonly opts: SecretDocumentOptions<D, S>;
  private cached?: { state: S; at: number };
  private turn: Promise<unknown> = Promise.resolve();

  constructor(store: ObjectStore, namespace: string, clock: Clock, opts: SecretDocumentOptions<D, S>) {
    this.store = store;
    this.namespace = namespace;
    this.clock = clock;
    this.opts = opts;
  }

  private body(doc: D, resourceVersion?: string) {
    return {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: this.opts.secretName,
        namespace: this.namespace,
        labels: { 'app.kubernetes.io/managed-by': 'miniapps-operator', 'app.kubernetes.io/component': this.opts.component },
        ...(resourceVersion ? { resourceVersion } : {}),
      },
      type: 'Opaque',
      data: { [this.opts.field]: Buffer.from(JSON.stringify(doc)).toString('base64') },
    };
  }

  /** On first start: makes the Secret with the first document, unless it exists (whatever it holds: it is never replaced). */
  async ensureExists(): Promise<S> {
    if (!(await this.store.get<SecretObject>(Resources.Secret, this.opts.secretName, this.namespace))) {
      try {
        await this.store.create(Resources.Secret, this.body(this.opts.first(this.clock.now())));
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
      }
    }
    return this.state(true);
  }

  /** The checked document (from the last read when younger than the TTL). */
  async state(fresh = false): Promise<S> {
    const now = this.clock.now().getTime();
    if (!fresh && this.cached && now - this.cached.at < (this.opts.ttlMs ?? 10_000)) return this.cached.state;
    const state = this.opts.parse(await this.store.get<SecretObject>(Resources.Secret, this.opts.secretName, this.namespace), this.namespace);
    this.cached = { state, at: now };
    return state;
  }

  /** Runs `fn` after the changes queued before it (one change at a time in this process). */
  inTurn<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.turn.then(fn);
    this.turn = result.catch(() => undefined);
    return result;
  }

  /**
   * Writes `next` of the document read fresh, compare-and-swap on its resourceVersion.
   * `next` returns undefined when there is nothing to write. A conflict (another process
   * wrote meanwhile) reads again, up to `attempts` times. Returns whether it wrote, and the
   * state read before the write it made.
   */
  async update(next: (state: Extract<S, { ok: true }>) => D | undefined, attempts = 5): Promise<{ written?: { before: Extract<S, { ok: true }>; doc: D } }> {
    for (let attempt = 0; attempt < attempts; attempt++) {
      const state = await this.state(true);
      if (!state.ok) return {};
      const ok = state as Extract<S, { ok: true }>;
      const doc = next(ok);
      if (!doc) return {};
      try {
        await this.store.apply(Resources.Secret, this.body(doc, ok.resourceVersion));
      } catch (err) {
        if (isConflict(err)) continue; // changed meanwhile: read again
        throw err;
      }
      await this.state(true);
      return { written: { before: ok, doc } };
    }
    return {};
  }

  /** A new current key by `withNew` if `request` is not the one the current key answers (refused, the state says why, when the document does not check out). */
  rotate(request: string, withNew: (doc: D, now: Date, request: string) => D): Promise<S> {
    return this.inTurn(async () => {
      const cached = await this.state();
      if (cached.ok && cached.doc.rotationRequest === request) return cached;
      await this.update((s) => (s.doc.rotationRequest === request ? undefined : withNew(s.doc, this.clock.now(), request)));
      return this.state(true);
    });
  }
}
