// What the operator puts on the objects it makes (labels), how it tells they are its own,
// and how a reconciler writes a status. Kind-neutral: the kind is a parameter.
import { GROUP } from '../api/constants.ts';
import type { ResourceType } from './kube/resource.ts';
import type { AnyObject } from './kube/client.ts';
import type { EventRecorder } from './events.ts';
import type { ObjectStore } from './apply.ts';
import type { Clock } from './clock.ts';
import { replaceConditions } from './conditions.ts';
import type { Condition, ConditionInput } from './conditions.ts';

export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'miniapps-operator' } as const;
export const MANAGED_BY_SELECTOR = 'app.kubernetes.io/managed-by=miniapps-operator';

/** `miniapps.dev/<kind>: <name>` and managed-by: the labels of everything the operator creates. */
export function ownedLabels(kind: string, name: string): Record<string, string> {
  return { ...MANAGED_BY, [`${GROUP}/${kind.toLowerCase()}`]: name };
}

/** The ConfigMap shape the catalog and icon code reads. */
export type ConfigMapObject = AnyObject & { data?: Record<string, string>; binaryData?: Record<string, string>; immutable?: boolean };

/** Whether `obj` has `owner` (by uid) as its controller. */
export function controlledBy(obj: AnyObject, owner: AnyObject): boolean {
  return (obj.metadata.ownerReferences ?? []).some((r) => r.controller && r.uid === owner.metadata.uid);
}

/**
 * Warning events for the False conditions of `conditions` that are new, or False with a
 * new reason, compared with `before` (Ready and Stalled repeat another condition's
 * reason: they get none).
 */
export function warnNewFailures(
  recorder: EventRecorder,
  obj: AnyObject,
  before: readonly { type: string; status: string; reason: string }[] | undefined,
  conditions: readonly { type: string; status: string; reason: string; message: string }[],
): void {
  for (const c of conditions) {
    if (c.status !== 'False' || c.type === 'Ready' || c.type === 'Stalled') continue;
    const prev = before?.find((x) => x.type === c.type);
    if (prev?.status !== 'False' || prev.reason !== c.reason) recorder.event(obj, 'Warning', c.reason, c.message);
  }
}

/**
 * Writes a kind's status: `fields` (every status field this field manager owns: one left
 * out would be removed by server-side apply), observedGeneration, and `conditions` as the
 * kind's whole condition set; then a Warning event for each new failure. Nothing is
 * written when nothing changed. Returns whether it wrote.
 */
export async function writeKindStatus(
  deps: { store: ObjectStore; clock: Clock; recorder: EventRecorder },
  rt: ResourceType,
  obj: AnyObject & { status?: { conditions?: Condition[] } },
  fields: Record<string, unknown>,
  conditions: ConditionInput[],
): Promise<boolean> {
  const generation = obj.metadata.generation;
  const status = {
    // A field left undefined is sent as absent, so server-side apply removes it (it was this field manager's).
    ...fields,
    observedGeneration: generation,
    conditions: replaceConditions(obj.status?.conditions, conditions, generation, deps.clock.now()),
  };
  const written = await deps.store.applyStatus(rt, obj, status);
  if (written) warnNewFailures(deps.recorder, obj, obj.status?.conditions, conditions);
  return !!written;
}
