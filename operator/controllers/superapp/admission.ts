import type { SuperApp } from '../../api/superapp/schema.ts';
import { notAllowed } from '../../domain/apps.ts';
import type { Domain } from '../../domain/lookups.ts';
import { missingCapability } from '../../domain/organizations.ts';
import type { AdmissionRequest, Validator } from '../../servers/webhook.ts';

/**
 * SuperApps: only in an organization's namespace, created only with the superApps
 * capability, and naming only platforms PlatformConfig lists. A platform already in the
 * object is not refused again (PlatformConfig may have dropped it since: the reconciler
 * reports that), so the rest of the spec stays editable.
 */
export function superAppValidator(domain: Domain): Validator {
  return (req: AdmissionRequest) => {
    if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return undefined;
    const sa = req.object as SuperApp;
    const old = req.oldObject as SuperApp | undefined;
    const org = domain.organizationOf(req.namespace);
    if (req.operation === 'CREATE') {
      if (!org) return `Namespace ${req.namespace} belongs to no Organization: create SuperApps in an organization's namespace`;
      const missing = missingCapability(org, 'SuperApp');
      if (missing) return missing;
    }
    const allowed = domain.settings().platforms;
    const added = notAllowed(sa.spec.platforms, allowed).filter((p) => !(old?.spec.platforms ?? []).includes(p));
    if (added.length) {
      return `spec.platforms: ${added.join(', ')} ${added.length === 1 ? 'is' : 'are'} not allowed by PlatformConfig default (allowed: ${allowed.join(', ') || 'none'}); use one of those, or ask a provisioning administrator to add it to spec.platforms of the PlatformConfig`;
    }
    return undefined;
  };
}
