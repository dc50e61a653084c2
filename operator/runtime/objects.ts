import { CONFIRM_DELETE_ANNOTATION, GROUP, KIND_NAMES, RESEND_INVITATION_ANNOTATION, VERSION } from '../api/constants.ts';
import type { KindName, KindNames } from '../api/constants.ts';
import type { ResourceType } from '../runtime/kube/resource.ts';
import type { AnyObject } from '../runtime/kube/client.ts';
import type { EventRecorder } from '../runtime/events.ts';
import type { ObjectStore } from '../runtime/apply.ts';
import type { Clock } from '../runtime/clock.ts';
import { replaceConditions } from '../runtime/conditions.ts';
import type { Condition, ConditionInput } from '../runtime/conditions.ts';

export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'miniapps-operator' } as const;
export const MANAGED_BY_SELECTOR = 'app.kubernetes.io/managed-by=miniapps-operator';

export const resourceOf = (def: KindNames): ResourceType => ({
  group: GROUP,
  version: VERSION,
  kind: def.kind,
  plural: def.plural,
  namespaced: def.scope === 'Namespaced',
});

/** The REST resource of every miniapps.dev kind, by kind name. */
export const Kinds = Object.fromEntries(Object.values(KIND_NAMES).map((d) => [d.kind, resourceOf(d)])) as Record<KindName, ResourceType>;

/** `miniapps.dev/<kind>: <name>` and managed-by: the labels of everything the operator creates. */
export function ownedLabels(kind: string, name: string): Record<string, string> {
  return { ...MANAGED_BY, [`${GROUP}/${kind.toLowerCase()}`]: name };
}

export const Annotations = {
  confirmDelete: CONFIRM_DELETE_ANNOTATION,
  resendInvitation: RESEND_INVITATION_ANNOTATION,
} as const;

export { CONFIRM_DELETE_VALUE } from '../api/constants.ts';

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

/** Whether an update of an app changed what other kinds read of it: its spec, its deletion, its confirm-delete annotation. */
export function appChanged(a: AnyObject, b: AnyObject): boolean {
  return (
    a.metadata.generation !== b.metadata.generation ||
    a.metadata.deletionTimestamp !== b.metadata.deletionTimestamp ||
    a.metadata.annotations?.[CONFIRM_DELETE_ANNOTATION] !== b.metadata.annotations?.[CONFIRM_DELETE_ANNOTATION]
  );
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
