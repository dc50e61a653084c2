import type { Membership } from '../../api/membership/schema.ts';
import type { CacheReader } from '../../runtime/cache.ts';
import type { AdmissionRequest, Validator } from '../../servers/webhook.ts';
import { Index, emailKey } from '../../domain/caches.ts';
import type { Namespace } from '../../domain/caches.ts';
import type { Domain } from '../../domain/lookups.ts';
import { isActiveAdministrator } from '../../domain/members.ts';

/**
 * The rules that span objects, checked at admission from the caches: a Membership
 * lives in an organization's namespace; one Membership per email (case-insensitive)
 * per organization; the last active administrator cannot be removed, demoted,
 * suspended, or leave (unless the whole organization is being deleted).
 */
export function membershipValidator(domain: Domain, namespaces: CacheReader<Namespace>): Validator {
  const members = domain.memberships;
  return (req: AdmissionRequest) => {
    const ns = req.namespace!;
    const org = domain.organizationOf(ns);
    if (req.operation === 'DELETE') {
      const old = req.oldObject as Membership | undefined;
      if (!old || !org || org.metadata.deletionTimestamp || namespaces.getByName(ns)?.metadata.deletionTimestamp) return undefined;
      if (isActiveAdministrator(old) && domain.otherActiveAdministrators(ns, old.metadata.name).length === 0) {
        return `${old.spec.email} is the last active OrganizationAdministrator of Organization ${org.metadata.name} and cannot be removed or leave; make another member an active administrator first`;
      }
      return undefined;
    }
    const m = req.object as Membership;
    if (!org) return `Namespace ${ns} belongs to no Organization: create Memberships in an organization's namespace (kubectl get organizations shows them)`;
    const same = members.byIndex(Index.email, emailKey(ns, m.spec.email)).find((o) => o.metadata.name !== m.metadata.name);
    if (same) return `${m.spec.email} already has Membership ${same.metadata.name} in Organization ${org.metadata.name} (emails are compared case-insensitively); change that Membership instead`;
    const old = req.oldObject as Membership | undefined;
    if (req.operation === 'UPDATE' && old && isActiveAdministrator(old) && !isActiveAdministrator({ ...m, status: old.status })) {
      if (domain.otherActiveAdministrators(ns, old.metadata.name).length === 0) {
        const what = m.spec.suspended ? 'suspended' : 'given another role';
        return `${old.spec.email} is the last active OrganizationAdministrator of Organization ${org.metadata.name} and cannot be ${what}; make another member an active administrator first`;
      }
    }
    return undefined;
  };
}
