// The names of the superapp slice: conditions, reasons, labels, annotations and limits, as plain
// values (no TypeBox): the operator process imports them.
import { STALLED_CONDITION } from '../constants.ts';

export const SuperAppConditions = {
  Ready: 'Ready',
  Stalled: STALLED_CONDITION,
  /** The super app is in an organization's namespace and the organization has the superApps capability. Gates Ready. */
  Allowed: 'Allowed',
  /** spec.platforms are all allowed by PlatformConfig. Gates Ready (the catalog is still published). */
  PlatformsValid: 'PlatformsValid',
  /** The catalog ConfigMap is up to date. Gates Ready. */
  CatalogPublished: 'CatalogPublished',
  /** Every spec.versions entry has its snapshot ConfigMap. Gates Ready; only while spec.versions is set. */
  SnapshotsPublished: 'SnapshotsPublished',
  /** Every spec.featured entry is in the catalog. Reported, does not gate Ready; only while spec.featured is set. */
  FeaturedListed: 'FeaturedListed',
} as const;

export const SuperAppReasons = {
  Ready: 'Ready',
  Allowed: 'Allowed',
  OrganizationNotFound: 'OrganizationNotFound',
  CapabilityMissing: 'CapabilityMissing',
  PlatformsValid: 'PlatformsValid',
  PlatformNotAllowed: 'PlatformNotAllowed',
  CatalogPublished: 'CatalogPublished',
  CatalogConflict: 'CatalogConflict',
  ApplyFailed: 'ApplyFailed',
  SnapshotsPublished: 'SnapshotsPublished',
  SnapshotConflict: 'SnapshotConflict',
  FeaturedListed: 'FeaturedListed',
  FeaturedNotListed: 'FeaturedNotListed',
} as const;
