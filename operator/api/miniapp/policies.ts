// The MiniApp's admission policy: the confirmation its deletion needs (policy.ts confirmDeletePolicy).
import { confirmDeletePolicy } from '../policy.ts';
import type { ConfirmedDeletion, PolicyObject } from '../policy.ts';

/** Deleting a MiniApp takes it out of every catalog and destroys its data key. */
export const MINIAPP_DELETION: ConfirmedDeletion = {
  kind: 'MiniApp',
  resource: 'miniapps',
  consequence: 'takes it out of every catalog and destroys its data key (what it encrypted can never be revealed again)',
  exemptWhileNamespaceTerminates: true,
};

/** This kind's admission policies, in a fixed order (api/policies.ts gathers every kind's in the registry's order). */
export const miniAppPolicies = (): PolicyObject[] => confirmDeletePolicy(MINIAPP_DELETION);
