import type { Organization } from '../../api/index.ts';
import type { Informer } from '../../runtime/cache.ts';
import type { AdmissionRequest, Validator } from '../../servers/webhook.ts';
import { organizationOf } from '../caches.ts';

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
