// The names of the miniapp slice: conditions, reasons, labels, annotations and limits, as plain
// values (no TypeBox): the operator process imports them.
import { GROUP, STALLED_CONDITION } from '../constants.ts';

export const MiniAppConditions = {
  Ready: 'Ready',
  Stalled: STALLED_CONDITION,
  /** The mini app is in an organization's namespace and the organization has the miniApps capability. Gates Ready. */
  Allowed: 'Allowed',
  /** Every spec.superApps target is the organization's own or in its miniAppTargets. Gates Ready. */
  TargetsValid: 'TargetsValid',
  /** spec.categories are all allowed by PlatformConfig. Gates Ready. */
  CategoriesValid: 'CategoriesValid',
  /** With EnvelopeEncryption: the data key exists, wrapped by the current key-encryption key. Gates Ready; only with EnvelopeEncryption. */
  DataKeyReady: 'DataKeyReady',
  /** Every spec.superApps target exists. Reported, does not gate Ready (a target may come later); only while targets are set. */
  TargetsResolved: 'TargetsResolved',
} as const;

export const MiniAppReasons = {
  Ready: 'Ready',
  Allowed: 'Allowed',
  OrganizationNotFound: 'OrganizationNotFound',
  CapabilityMissing: 'CapabilityMissing',
  TargetsValid: 'TargetsValid',
  TargetNotAllowed: 'TargetNotAllowed',
  CategoriesValid: 'CategoriesValid',
  CategoryNotAllowed: 'CategoryNotAllowed',
  TargetsResolved: 'TargetsResolved',
  TargetNotFound: 'TargetNotFound',
  DataKeyReady: 'DataKeyReady',
  /** The key-encryption key Secret is missing, malformed or tampered with: nothing is wrapped or rewrapped with it. */
  KeyEncryptionKeyInvalid: 'KeyEncryptionKeyInvalid',
  /** The wrapped data key does not unwrap (a changed key-encryption key, a changed Secret): it is kept, never replaced. */
  DataKeyUnwrapFailed: 'DataKeyUnwrapFailed',
  /** The data key Secret recorded in status is gone: ciphertext made with it cannot be revealed; a new one is not made silently. */
  DataKeyMissing: 'DataKeyMissing',
  /** A Secret of the data key's name exists that is not this mini app's: it is left alone. */
  DataKeyConflict: 'DataKeyConflict',
  ApplyFailed: 'ApplyFailed',
  DeletionNotConfirmed: 'DeletionNotConfirmed',
} as const;

/** How a mini app's data is protected (spec.dataPrivacy.protection). */
export const DATA_PROTECTION_MODES = ['None', 'IrreversibleMasking', 'EnvelopeEncryption'] as const;

/** Where a mini app stands in one target super app (status.superApps[].state). */
export const MiniAppTargetStates = ['Listed', 'AwaitingReview', 'Rejected', 'NotAllowed', 'NotFound', 'Unpublished'] as const;
export type MiniAppTargetState = (typeof MiniAppTargetStates)[number];

/** The data key of a mini app with EnvelopeEncryption, in its namespace: `<miniapp>-data-key`. */
export const DATA_KEY_SECRET_SUFFIX = '-data-key';

/**
 * Any new value of this annotation on the PlatformConfig asks for a new version of the
 * key-encryption key: every data key is rewrapped with it, and the old version is retired
 * once nothing uses it.
 */
export const ROTATE_KEK_ANNOTATION = `${GROUP}/rotate-key-encryption-key`;

/**
 * The virtual subresource `miniapps/reveal`: the data-protection API decrypts a mini
 * app's ciphertext only for a caller the authorizer allows `create` on it (for that mini
 * app, in its namespace). Nobody holds it unless a Role grants it. Protecting values
 * needs only `get` on the mini app: it reveals nothing.
 */
export const REVEAL_SUBRESOURCE = 'reveal';
