import { CONFIRM_DELETE_ANNOTATION, GROUP, KIND_NAMES, RESEND_INVITATION_ANNOTATION, VERSION } from '../api/constants.ts';
import type { KindName, KindNames } from '../api/constants.ts';
import type { ResourceType } from '../runtime/kube/resource.ts';

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
