import { isDeepStrictEqual } from 'node:util';
import type { Organization } from '../../api/index.ts';
import type { Informer } from '../../runtime/cache.ts';
import type { AdmissionRequest, Validator } from '../../servers/webhook.ts';
import { organizationOf } from '../caches.ts';
import type { PlatformSettings } from '../platformconfig/logic.ts';
import { userName } from '../rbac-types.ts';
import { Annotations, CONFIRM_DELETE_VALUE } from '../shared.ts';

/** Who may change what a provisioning administrator decides about an organization. */
export function isProvisioningAdministrator(user: AdmissionRequest['userInfo'], settings: PlatformSettings): boolean {
  const groups = new Set(user.groups ?? []);
  if (groups.has('system:masters')) return true;
  const name = user.username ?? '';
  if (name.startsWith('system:serviceaccount:')) return false;
  const admins = settings.provisioningAdministrators;
  return admins.users.some((u) => userName(settings.userPrefix, u) === name) || admins.groups.some((g) => groups.has(`${settings.groupPrefix}${g}`));
}

const PROVISIONED_FIELDS = ['capabilities', 'miniAppTargets'] as const;

/**
 * Deleting an Organization removes everything in it: it must be confirmed by
 * annotation. Its capabilities and mini app targets are the provisioning
 * administrators' decision: its own administrators (whom RBAC lets update it) may not
 * change them.
 */
export function organizationValidator(settings: () => PlatformSettings): Validator {
  return (req: AdmissionRequest) => {
    const old = req.oldObject as Organization | undefined;
    if (req.operation === 'DELETE') {
      if (old?.metadata.annotations?.[Annotations.confirmDelete] === CONFIRM_DELETE_VALUE) return undefined;
      return `Deleting Organization ${req.name} deletes its namespace and everything in it; to confirm, annotate it first: kubectl annotate organization ${req.name} ${Annotations.confirmDelete}="${CONFIRM_DELETE_VALUE}"`;
    }
    if (req.operation === 'UPDATE' && old) {
      const org = req.object as Organization;
      const changed = PROVISIONED_FIELDS.filter((f) => !isDeepStrictEqual(old.spec[f], org.spec[f]));
      if (changed.length && !isProvisioningAdministrator(req.userInfo, settings())) {
        return `Only provisioning administrators may change ${changed.map((f) => `spec.${f}`).join(' and ')} of Organization ${req.name}`;
      }
    }
    return undefined;
  };
}

const CAPABILITY = {
  SuperApp: { field: 'superApps', what: 'super apps' },
  MiniApp: { field: 'miniApps', what: 'mini apps' },
} as const;

/** A capability the organization lacks for an app of this kind, if it lacks it. */
export function missingCapability(org: Organization, kind: 'SuperApp' | 'MiniApp'): string | undefined {
  const { field, what } = CAPABILITY[kind];
  if (org.spec.capabilities?.[field]) return undefined;
  return `Organization ${org.metadata.name} may not create ${what} (spec.capabilities.${field} is false); ask a provisioning administrator to grant it`;
}

/** SuperApps and MiniApps are created only in an organization that has the capability. */
export function appCapabilityValidator(orgs: Informer<Organization>, kind: 'SuperApp' | 'MiniApp'): Validator {
  return (req: AdmissionRequest) => {
    if (req.operation !== 'CREATE') return undefined;
    const org = organizationOf(orgs, req.namespace);
    if (!org) return `Namespace ${req.namespace} belongs to no Organization: create ${kind}s in an organization's namespace`;
    return missingCapability(org, kind);
  };
}
