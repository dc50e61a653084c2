import type { Membership, Organization } from '../../api/index.ts';
import type { Informer } from '../../runtime/cache.ts';
import type { AnyObject } from '../../runtime/kube/client.ts';
import type { AdmissionRequest, Validator } from '../../servers/webhook.ts';
import { Index, emailKey, organizationOf } from '../caches.ts';
import { isActiveMember } from './logic.ts';

/** An administrator who holds the role now: active (accepted or automatic) and not suspended. */
export function isActiveAdministrator(m: Membership): boolean {
  return m.spec.role === 'OrganizationAdministrator' && isActiveMember(m);
}

/** Active administrators of the namespace's organization, other than `except`. */
export function otherActiveAdministrators(members: Informer<Membership>, namespace: string, except: string): Membership[] {
  return members.byIndex(Index.namespace, namespace).filter((m) => m.metadata.name !== except && isActiveAdministrator(m));
}

/**
 * The rules that span objects, checked at admission from the caches: a Membership
 * lives in an organization's namespace; one Membership per email (case-insensitive)
 * per organization; the last active administrator cannot be removed, demoted,
 * suspended, or leave (unless the whole organization is being deleted).
 */
export function membershipValidator(members: Informer<Membership>, orgs: Informer<Organization>, namespaces: Informer<AnyObject>): Validator {
  return (req: AdmissionRequest) => {
    const ns = req.namespace!;
    const org = organizationOf(orgs, ns);
    if (req.operation === 'DELETE') {
      const old = req.oldObject as Membership | undefined;
      if (!old || !org || org.metadata.deletionTimestamp || namespaces.getByName(ns)?.metadata.deletionTimestamp) return undefined;
      if (isActiveAdministrator(old) && otherActiveAdministrators(members, ns, old.metadata.name).length === 0) {
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
      if (otherActiveAdministrators(members, ns, old.metadata.name).length === 0) {
        const what = m.spec.suspended ? 'suspended' : 'given another role';
        return `${old.spec.email} is the last active OrganizationAdministrator of Organization ${org.metadata.name} and cannot be ${what}; make another member an active administrator first`;
      }
    }
    return undefined;
  };
}
