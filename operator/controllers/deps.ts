import type { Logger } from 'pino';
import type { Domain } from '../domain/lookups.ts';
import type { ObjectStore } from '../runtime/apply.ts';
import type { CacheSource } from '../runtime/cache.ts';
import type { Clock } from '../runtime/clock.ts';
import type { EventRecorder } from '../runtime/events.ts';

/** What every controller is built from: all dependencies come in here, none from module state. */
export interface ControllerDeps {
  /** The declared caches (the Manager; an in-memory fake in unit tests). */
  caches: CacheSource;
  /** Lookups several kinds share (the organization of a namespace, its members, the settings). */
  domain: Domain;
  /** Fresh reads and every write. */
  store: ObjectStore;
  clock: Clock;
  recorder: EventRecorder;
  log: Logger;
  /** The operator's own namespace (its Lease and keys): never an organization's or tenant's. */
  operatorNamespace: string;
}
