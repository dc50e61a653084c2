// The names of the solution slice: conditions, reasons, labels, annotations and limits, as plain
// values (no TypeBox): the operator process imports them.
import { STALLED_CONDITION } from '../constants.ts';

export const SolutionConditions = {
  Ready: 'Ready',
  Stalled: STALLED_CONDITION,
  /** The manifest (inline or from the ConfigMap) is valid; when False the last good one stays in force. Gates Ready. */
  ManifestValid: 'ManifestValid',
  /**
   * Every role of the last good manifest names a listing the solution's organization holds
   * (the solution claims those no one holds). When False the message names the others:
   * they are left out of every tenant's groups. Gates Ready.
   */
  RolesOwned: 'RolesOwned',
} as const;

export const SolutionReasons = {
  Ready: 'Ready',
  ManifestValid: 'ManifestValid',
  /** The ConfigMap or its key named by spec.manifestFrom does not exist (it may still come). */
  ManifestNotFound: 'ManifestNotFound',
  /** The manifest is not YAML. */
  ManifestNotYAML: 'ManifestNotYAML',
  /** The manifest breaks the published JSON Schema (the message names line, column and field). */
  ManifestSchemaInvalid: 'ManifestSchemaInvalid',
  /** A group is named twice, or the manifest's solutionId is not spec.solutionId. */
  ManifestInconsistent: 'ManifestInconsistent',
} as const;
