import { ALL_KINDS, GROUP, VERSION } from '../api/index.ts';
import type { KindDefinition } from '../api/index.ts';
import type { ResourceType } from '../runtime/kube/resource.ts';

export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'miniapps-operator' } as const;
export const MANAGED_BY_SELECTOR = 'app.kubernetes.io/managed-by=miniapps-operator';

export const resourceOf = (def: KindDefinition): ResourceType => ({
  group: GROUP,
  version: VERSION,
  kind: def.kind,
  plural: def.plural,
  namespaced: def.scope === 'Namespaced',
});

/** The REST resource of every miniapps.dev kind, by kind name. */
export const Kinds = Object.fromEntries(ALL_KINDS.map((d) => [d.kind, resourceOf(d)])) as Record<
  'PlatformConfig' | 'Organization' | 'Tenant' | 'Membership' | 'SuperApp' | 'MiniApp' | 'MiniAppReview' | 'ApiKey' | 'Solution' | 'AppManifest' | 'Subscription' | 'UserGroup' | 'User',
  ResourceType
>;

/** `miniapps.dev/<kind>: <name>` and managed-by: the labels of everything the operator creates. */
export function ownedLabels(kind: string, name: string): Record<string, string> {
  return { ...MANAGED_BY, [`${GROUP}/${kind.toLowerCase()}`]: name };
}

export const Annotations = {
  confirmDelete: `${GROUP}/confirm-delete`,
  resendInvitation: `${GROUP}/resend-invitation`,
} as const;

export const CONFIRM_DELETE_VALUE = 'CONFIRM DELETE';
