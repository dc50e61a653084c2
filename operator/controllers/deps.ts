import type { Logger } from 'pino';
import type { ObjectWriter } from '../runtime/apply.ts';
import type { Clock } from '../runtime/clock.ts';
import type { Manager } from '../runtime/controller.ts';
import type { EventRecorder } from '../runtime/events.ts';

/** What every controller is built from: all dependencies come in here, none from module state. */
export interface ControllerDeps {
  manager: Manager;
  writer: ObjectWriter;
  clock: Clock;
  recorder: EventRecorder;
  log: Logger;
  /** The operator's own namespace (its Lease and keys): never an organization's or tenant's. */
  operatorNamespace: string;
}
