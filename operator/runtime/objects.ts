// What the operator puts on the objects it makes (labels) and how it tells they are its
// own. Kind-neutral: the kind is a parameter. (Status is written by status.ts.)
import { GROUP } from '../api/constants.ts';
import type { AnyObject } from './kube/client.ts';

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
