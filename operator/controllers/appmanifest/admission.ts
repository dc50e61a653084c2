import type { AppManifest } from '../../api/appmanifest/schema.ts';
import { appRolesOf } from '../../domain/caches.ts';
import type { AppClaims } from '../../domain/claims.ts';
import type { AdmissionRequest, Validator } from '../../servers/webhook.ts';

/**
 * AppManifests: an appId or listingId another organization holds is refused (it would let
 * this one's tokens speak for that organization's app), and so is an inline role of a
 * listing another organization holds. Only what the request changes is checked, so an
 * object that slipped past stays editable (the reconciler reports it, and it stays
 * refused: a claim never moves). An id no one holds is let through: the reconciler claims
 * it (first come).
 */
export function appManifestValidator(claims: AppClaims): Validator {
  return (req: AdmissionRequest) => {
    if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return undefined;
    const app = req.object as AppManifest;
    const old = req.oldObject as AppManifest | undefined;
    const ns = req.namespace!;
    const taken = (what: 'appId' | 'listingId') =>
      app.spec[what] !== undefined && app.spec[what] !== old?.spec[what] && claims.takenFrom(ns, what, app.spec[what])
        ? `spec.${what}: "${app.spec[what]}" is another organization's (the first organization to claim an id holds it); choose another one`
        : undefined;
    return taken('appId') ?? taken('listingId') ?? claims.foreignRolesAdded(ns, appRolesOf(app.spec), appRolesOf(old?.spec), 'spec.userGroups/spec.rolesRequired');
  };
}
