// The names of the miniappreview slice: conditions, reasons, labels, annotations and limits, as plain
// values (no TypeBox): the operator process imports them.
import { STALLED_CONDITION } from '../constants.ts';

export const MiniAppReviewConditions = {
  Ready: 'Ready',
  Stalled: STALLED_CONDITION,
  /** The mini app, its version and the super app exist, and the super app is a target of the mini app. Gates Ready. */
  TargetResolved: 'TargetResolved',
} as const;

export const MiniAppReviewReasons = {
  Ready: 'Ready',
  TargetResolved: 'TargetResolved',
  NotInOrganization: 'NotInOrganization',
  SuperAppNotFound: 'SuperAppNotFound',
  MiniAppNotFound: 'MiniAppNotFound',
  VersionNotFound: 'VersionNotFound',
} as const;
