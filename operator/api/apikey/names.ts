// The names of the apikey slice: conditions, reasons, labels, annotations and limits, as plain
// values (no TypeBox): the operator process imports them.
import { GROUP, STALLED_CONDITION } from '../constants.ts';

export const ApiKeyConditions = {
  Ready: 'Ready',
  Stalled: STALLED_CONDITION,
  /** Not revoked, not expired. Gates Ready (Stalled: revoked, or expired until the expiry changes). */
  KeyValid: 'KeyValid',
  /** The owner is an active member of the key's organization, or a provisioning administrator. Gates Ready. */
  OwnerActive: 'OwnerActive',
  /** The key of the current revision is generated, in its Secret, and recorded in status. Gates Ready. */
  KeyIssued: 'KeyIssued',
} as const;

/** status.phase of an ApiKey: what verification answers for its current key. */
export const ApiKeyPhases = ['Pending', 'Active', 'Expired', 'Revoked', 'Disabled'] as const;
export type ApiKeyPhase = (typeof ApiKeyPhases)[number];

/** Key in the key's Secret that holds the key itself. */
export const API_KEY_SECRET_KEY = 'apiKey';

/** Type of the Secrets that hold API keys (one per key revision, owned by the ApiKey). */
export const API_KEY_SECRET_TYPE = `${GROUP}/api-key`;

/** Every key starts with this: secret scanners and people recognise a miniapps API key by it. */
export const API_KEY_PREFIX = 'mak_';

/**
 * The scope that lets a key authenticate to the Kubernetes API (kubectl --token): a key
 * whose spec.scopes is not empty and leaves it out serves only the verify endpoint.
 */
export const KUBERNETES_SCOPE = 'kubernetes';

/**
 * The virtual subresource `apikeys/owner`: RBAC `update` on it, in the key's namespace, is
 * what lets someone hold a key for another owner (an admission policy asks the
 * authorizer). Organization administrators (the role table) and provisioning
 * administrators (by name, in their ClusterRole) hold it.
 */
export const API_KEY_OWNER_SUBRESOURCE = 'owner';

/** The ApiKey spec fields that make a key do more or for longer: not changed for an owner who may not hold a key (the admission policy and the webhook). */
export const API_KEY_WIDENING_FIELDS = ['scopes', 'ttl', 'expiresAt', 'rotation'] as const;

/**
 * The virtual subresource `apikeys/verify`: RBAC `create` on it, cluster-wide, is what
 * lets an API gateway ask the operator's verify endpoint about a key (ClusterRole
 * `miniapps:api-key-verifier`).
 */
export const API_KEY_VERIFY_SUBRESOURCE = 'verify';

/** Extra fields of a key's identity in a TokenReview answer (`user.extra`). */
export const ApiKeyExtra = {
  keyId: `${GROUP}/api-key-id`,
  apiKey: `${GROUP}/api-key`,
  scopes: `${GROUP}/api-key-scopes`,
} as const;
