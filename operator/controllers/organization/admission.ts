import type { Domain } from '../../domain/lookups.ts';
import { missingCapability } from '../../domain/organizations.ts';
import type { AdmissionRequest, Validator } from '../../servers/webhook.ts';

/** SuperApps and MiniApps are created only in an organization that has the capability. */
export function appCapabilityValidator(domain: Domain, kind: 'SuperApp' | 'MiniApp'): Validator {
  return (req: AdmissionRequest) => {
    if (req.operation !== 'CREATE') return undefined;
    const org = domain.organizationOf(req.namespace);
    if (!org) return `Namespace ${req.namespace} belongs to no Organization: create ${kind}s in an organization's namespace`;
    return missingCapability(org, kind);
  };
}
