import type { MiniApp } from '../../api/miniapp/schema.ts';
import { notAllowed, refKey, targetRefusal, targetsOf } from '../../domain/apps.ts';
import type { Domain } from '../../domain/lookups.ts';
import { missingCapability } from '../../domain/organizations.ts';
import type { AdmissionRequest, Validator } from '../../servers/webhook.ts';

/**
 * MiniApps: only in an organization's namespace, created only with the miniApps
 * capability; each target super app the organization's own or in its miniAppTargets;
 * categories from PlatformConfig. What the object already has is not refused again (a
 * miniAppTargets entry or a category may have been removed since: the reconciler reports
 * it), so the rest of the spec stays editable.
 */
export function miniAppValidator(domain: Domain): Validator {
  return (req: AdmissionRequest) => {
    if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return undefined;
    const mini = req.object as MiniApp;
    const old = req.oldObject as MiniApp | undefined;
    const org = domain.organizationOf(req.namespace);
    if (!org) return req.operation === 'CREATE' ? `Namespace ${req.namespace} belongs to no Organization: create MiniApps in an organization's namespace` : undefined;
    if (req.operation === 'CREATE') {
      const missing = missingCapability(org, 'MiniApp');
      if (missing) return missing;
    }
    const had = new Set(old ? targetsOf(old, org.metadata.name).map(refKey) : []);
    for (const t of targetsOf(mini, org.metadata.name)) {
      if (had.has(refKey(t))) continue;
      const refused = targetRefusal(org, t);
      if (refused) return `spec.superApps: ${refused}`;
    }
    const allowed = domain.settings().categories;
    const added = notAllowed(mini.spec.categories, allowed).filter((c) => !(old?.spec.categories ?? []).includes(c));
    if (added.length) {
      return `spec.categories: ${added.join(', ')} ${added.length === 1 ? 'is' : 'are'} not allowed by PlatformConfig default (allowed: ${allowed.join(', ') || 'none'}); use one of those, or ask a provisioning administrator to add it to spec.categories of the PlatformConfig`;
    }
    return undefined;
  };
}
