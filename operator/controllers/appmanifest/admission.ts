import type { AppManifest, AppManifestContent } from '../../api/index.ts';
import type { AppClaims } from '../../domain/claims.ts';
import type { AdmissionRequest, Validator } from '../../servers/webhook.ts';

/** The roles an app manifest's spec names inline (its groups' and rolesRequired). */
const inlineRolesOf = (m: AppManifestContent | undefined): string[] => [...(m?.userGroups ?? []).flatMap((g) => g.roles ?? []), ...(m?.rolesRequired ?? [])];

/**
 * AppManifests: an appId or listingId another organization's AppManifest claimed first is
 * refused (it would let this one's tokens speak for that organization's app), and so is an
 * inline role of a listing another organization owns. Only what the request changes is
 * checked, so an object that slipped past stays editable (the reconciler reports it).
 */
export function appManifestValidator(claims: AppClaims): Validator {
  return (req: AdmissionRequest) => {
    if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return undefined;
    const app = req.object as AppManifest;
    const old = req.oldObject as AppManifest | undefined;
    const ns = req.namespace!;
    const taken = (what: 'appId' | 'listingId', owner: string | undefined) =>
      owner !== undefined && owner !== ns && app.spec[what] !== old?.spec[what]
        ? `spec.${what}: "${app.spec[what]}" is another organization's (its AppManifest claimed it first); ${what === 'appId' ? 'an app id' : 'a listing id'} belongs to one organization: choose another one`
        : undefined;
    return (
      taken('appId', claims.appIdOwner(app.spec.appId)) ??
      taken('listingId', claims.listingOwner(app.spec.listingId)) ??
      claims.foreignRolesAdded(ns, inlineRolesOf(app.spec), inlineRolesOf(old?.spec), 'spec.userGroups/spec.rolesRequired')
    );
  };
}
