import type { Solution } from '../../api/solution/schema.ts';
import { solutionRolesOf as rolesOf } from '../../domain/caches.ts';
import type { AppClaims } from '../../domain/claims.ts';
import type { AdmissionRequest, Validator } from '../../servers/webhook.ts';

/**
 * Solutions: an inline manifest may not add a role of a listing another organization holds
 * (a manifest from a ConfigMap is checked by the reconciler: RolesOwned). Roles already in
 * the object are not refused again, so it stays editable.
 */
export function solutionValidator(claims: AppClaims): Validator {
  return (req: AdmissionRequest) => {
    if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return undefined;
    const sol = req.object as Solution;
    const old = req.oldObject as Solution | undefined;
    return claims.foreignRolesAdded(req.namespace!, rolesOf(sol.spec.manifest), rolesOf(old?.spec.manifest), 'spec.manifest');
  };
}
