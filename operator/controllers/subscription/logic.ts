// The UserGroup a tenant's subscriptions declare, as the operator applies it: pure.
import { createHash } from 'node:crypto';
import { API_VERSION, GROUP } from '../../api/constants.ts';
import { GROUP_DIGEST_ANNOTATION } from '../../api/usergroup/names.ts';
import type { Subscription } from '../../api/subscription/schema.ts';
import type { UserGroup } from '../../api/usergroup/schema.ts';
import type { DeclaredGroup } from '../../domain/solutions.ts';
import type { ObjectBody } from '../../runtime/kube/client.ts';
import { MANAGED_BY } from '../../runtime/objects.ts';

/**
 * The UserGroup `group` as applied: spec from the merged manifests (roles sorted),
 * owned (not controlled: several may declare it) by every subscription that declares
 * it, and annotated with the digest of all that, which is what decides whether to apply
 * again. Roles someone added by hand (another field manager) stay: spec.roles is a set
 * merged across field managers.
 */
export function desiredUserGroup(namespace: string, tenant: string, group: DeclaredGroup, owners: readonly Subscription[]): ObjectBody {
  const spec = {
    displayName: group.displayName,
    ...(group.description !== undefined ? { description: group.description } : {}),
    ...(group.landingPage ? { landingPage: group.landingPage } : {}),
    roles: [...group.roles.keys()].sort(),
  };
  const ownerReferences = [...owners]
    .sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : 1))
    .map((s) => ({ apiVersion: API_VERSION, kind: 'Subscription', name: s.metadata.name!, uid: s.metadata.uid!, controller: false, blockOwnerDeletion: false }));
  const digest = createHash('sha256')
    .update(JSON.stringify({ spec, owners: ownerReferences.map((r) => r.uid) }))
    .digest('hex');
  return {
    apiVersion: API_VERSION,
    kind: 'UserGroup',
    metadata: { name: group.name, namespace, labels: { ...MANAGED_BY, [`${GROUP}/tenant`]: tenant }, annotations: { [GROUP_DIGEST_ANNOTATION]: digest }, ownerReferences },
    spec,
  };
}

export { madeBySubscription } from '../../domain/solutions.ts';

/** Whether the applied group differs from the desired one (by the digest the operator wrote). */
export const groupNeedsApply = (current: UserGroup | undefined, desired: ObjectBody) =>
  current?.metadata.annotations?.[GROUP_DIGEST_ANNOTATION] !== desired.metadata.annotations?.[GROUP_DIGEST_ANNOTATION];
