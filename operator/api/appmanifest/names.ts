// The names of the appmanifest slice: conditions, reasons, labels, annotations and limits, as plain
// values (no TypeBox): the operator process imports them.
import { STALLED_CONDITION } from '../constants.ts';

export const AppManifestConditions = {
  Ready: 'Ready',
  Stalled: STALLED_CONDITION,
  /** The manifest names no group twice. Gates Ready. */
  ManifestValid: 'ManifestValid',
  /**
   * The app's organization holds its appId and listingId (domain/claims.ts: the first
   * organization to claim an id holds it for as long as it exists). When False the app is
   * used nowhere (no groups, no token); Unknown (ClaimPending) for a moment when another
   * organization claimed at the same time. Gates Ready; Stalled when False.
   */
  IdsOwned: 'IdsOwned',
  /** Every role of the last good manifest names a listing the organization owns; the others are left out (status.unownedRoles). Gates Ready. */
  RolesOwned: 'RolesOwned',
} as const;
