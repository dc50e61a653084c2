// What an Organization allows, for every kind that asks (super apps, mini apps, the webhook).
import type { Organization } from '../api/organization/schema.ts';

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
