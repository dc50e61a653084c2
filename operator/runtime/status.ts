// The one status writer every controller uses (cert-manager's `updateStatus` helpers, the
// status half of controller-runtime's reconcileHandler): the kind's conditions (its whole
// set, or a few over the ones there), observedGeneration, every other status field this
// field manager owns, written with server-side apply only when something differs, and the
// Warning events the write calls for. Kind-neutral: the kind is a parameter.
import type { ObjectStore } from './apply.ts';
import type { Clock } from './clock.ts';
import { conditionsFromChecks, replaceConditions, setConditions } from './conditions.ts';
import type { Check, Condition, ConditionInput } from './conditions.ts';
import type { EventRecorder } from './events.ts';
import type { AnyObject } from './kube/client.ts';
import type { ResourceType } from './kube/resource.ts';

/** What a status write needs: where it writes, the time of a transition, where events go. */
export interface StatusDeps {
  store: ObjectStore;
  clock: Clock;
  recorder: EventRecorder;
}

/** A Warning event a write calls for. */
export interface StatusWarning {
  reason: string;
  message: string;
}

/** What the warning rule of a write sees: the status before, the one written, and the conditions asked for. */
export interface WrittenStatus {
  before: { conditions?: Condition[]; [field: string]: unknown } | undefined;
  status: Record<string, unknown>;
  conditions: readonly ConditionInput[];
}

export interface StatusUpdate {
  /**
   * Every other status field this field manager owns. One left out would be removed by
   * server-side apply (it was this field manager's); one set to undefined is removed on purpose.
   */
  fields?: Record<string, unknown>;
  /** The conditions; or `checks`, the readiness chain they are made from (Ready, and Stalled when retrying cannot help). */
  conditions?: readonly ConditionInput[];
  checks?: { chain: readonly Check[]; ready: { reason: string; message: string } };
  /**
   * `replace` (the default): the conditions are the kind's whole set, a type not reported
   * is gone. `merge`: they are set over the ones there (a failure before the checks ran, a
   * deletion on hold), after removing the types in `drop`.
   */
  mode?: 'replace' | 'merge';
  drop?: readonly string[];
  /**
   * The Warning events of a write that changed something. The default (`newFailures`): one
   * for each False condition that is new or has a new reason (Ready and Stalled repeat
   * another condition's reason: none for them). `none`, or a rule of the kind's own.
   */
  warn?: 'newFailures' | 'none' | ((w: WrittenStatus) => StatusWarning[]);
  /** Write only if the object is still at this version (compare-and-swap, for side-effect protocols). */
  resourceVersion?: string;
  /** The object to apply to, when not the one the status was computed from (its managed fields differ). */
  target?: AnyObject;
}

/**
 * Warning events for the False conditions of `conditions` that are new, or False with a
 * new reason, compared with `before` (Ready and Stalled repeat another condition's
 * reason: they get none).
 */
export function newFailures(before: readonly { type: string; status: string; reason: string }[] | undefined, conditions: readonly ConditionInput[]): StatusWarning[] {
  return conditions
    .filter((c) => c.status === 'False' && c.type !== 'Ready' && c.type !== 'Stalled')
    .filter((c) => {
      const prev = before?.find((x) => x.type === c.type);
      return prev?.status !== 'False' || prev.reason !== c.reason;
    })
    .map((c) => ({ reason: c.reason, message: c.message }));
}

/**
 * Writes the status of `obj` (of resource `rt`): `update.fields`, observedGeneration (the
 * object's generation), and the conditions, whose lastTransitionTime moves only when
 * their status flips. Nothing is written when nothing changed. Returns the written object,
 * or undefined when nothing needed writing.
 */
export async function writeStatus<T extends AnyObject & { status?: { conditions?: Condition[] } }>(deps: StatusDeps, rt: ResourceType, obj: T, update: StatusUpdate): Promise<T | undefined> {
  const generation = obj.metadata.generation;
  const inputs = update.checks ? conditionsFromChecks(update.checks.chain, update.checks.ready) : (update.conditions ?? []);
  const previous = obj.status?.conditions;
  const conditions =
    (update.mode ?? 'replace') === 'replace'
      ? replaceConditions(previous, inputs, generation, deps.clock.now())
      : setConditions(update.drop?.length ? previous?.filter((c) => !update.drop!.includes(c.type)) : previous, inputs, generation, deps.clock.now());
  // A field left undefined is sent as absent, so server-side apply removes it (it was this field manager's).
  const status = { ...update.fields, observedGeneration: generation, conditions };
  const written = await deps.store.applyStatus(rt, (update.target ?? obj) as T, status, update.resourceVersion ? { resourceVersion: update.resourceVersion } : {});
  if (!written) return undefined;
  const warn = update.warn ?? 'newFailures';
  const warnings = warn === 'none' ? [] : warn === 'newFailures' ? newFailures(previous, inputs) : warn({ before: obj.status, status, conditions: inputs });
  for (const w of warnings) deps.recorder.event(obj, 'Warning', w.reason, w.message);
  return written;
}
