import { API_KEY_WIDENING_FIELDS } from '../../api/apikey/names.ts';
import type { ApiKey } from '../../api/apikey/schema.ts';
import { Index, emailKey } from '../../domain/caches.ts';
import type { CacheReader } from '../../runtime/cache.ts';
import type { Clock } from '../../runtime/clock.ts';
import { isDeepStrictEqual } from 'node:util';
import type { AdmissionRequest, Validator } from '../../servers/webhook.ts';
import { expiryOf, ownerStanding } from './logic.ts';
import type { OwnerLookup } from './logic.ts';

/**
 * The ApiKey rules that need the operator's caches, checked at admission (the webhook's
 * failurePolicy is Ignore: what slips past while the operator is down, the reconciler
 * reports as a disabled or expired key, and no key is issued for it):
 * - a new key's owner is an active member of the namespace's organization or a
 *   provisioning administrator; in the operator's own namespace, a provisioning
 *   administrator; nobody's anywhere else;
 * - an expiry that is already past is refused (when the key is created, or when
 *   spec.expiresAt changes);
 * - a new key beyond PlatformConfig spec.quotas.apiKeysPerOwner keys of its owner in the
 *   namespace is refused (the reconciler issues none for one that slipped past);
 * - a key whose owner is not (or no longer) an active member or a provisioning
 *   administrator is not widened (scopes, ttl, expiresAt, rotation); revoking it, or a new
 *   description, is allowed.
 * Who may create a key for whom is not decided here but by the API server itself (the
 * admission policy miniapps.dev-apikey-owner), so it holds while the operator is down.
 */
export function apiKeyValidator(lookup: OwnerLookup & { settings(): { quotas: { apiKeysPerOwner: number } } }, operatorNamespace: string, clock: Clock, keys: CacheReader<ApiKey>): Validator {
  return (req: AdmissionRequest) => {
    if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return undefined;
    const k = req.object as ApiKey;
    const old = req.oldObject as ApiKey | undefined;
    if (req.operation === 'CREATE') {
      const owner = ownerStanding({ ...k, metadata: { ...k.metadata, namespace: req.namespace } }, lookup, operatorNamespace);
      if (!owner.ok) return `ApiKey ${k.metadata.name} refused: ${owner.problem}`;
      const limit = lookup.settings().quotas.apiKeysPerOwner;
      const held = keys.byIndex(Index.email, emailKey(req.namespace!, k.spec.owner)).filter((o) => !o.metadata.deletionTimestamp).length;
      if (held >= limit) {
        return `ApiKey ${k.metadata.name} refused: ${k.spec.owner} already holds ${held} ApiKeys in namespace ${req.namespace}, and the limit is ${limit} (PlatformConfig spec.quotas.apiKeysPerOwner); delete one of them, or ask a provisioning administrator to raise the limit`;
      }
    } else if (old && API_KEY_WIDENING_FIELDS.some((f) => !isDeepStrictEqual(k.spec[f], old.spec[f]))) {
      const owner = ownerStanding({ ...k, metadata: { ...k.metadata, namespace: req.namespace } }, lookup, operatorNamespace);
      if (!owner.ok) return `ApiKey ${k.metadata.name} refused: its ${API_KEY_WIDENING_FIELDS.join(', ')} cannot change while ${owner.problem}; revoke it or delete it instead`;
    }
    const expiresAtChanged = req.operation === 'CREATE' || k.spec.expiresAt !== old?.spec.expiresAt;
    if (expiresAtChanged && k.spec.expiresAt) {
      const at = expiryOf(k)!;
      if (at.getTime() <= clock.now().getTime()) return `ApiKey ${k.metadata.name} refused: spec.expiresAt ${k.spec.expiresAt} is in the past; choose a later time (or a spec.ttl such as 720h)`;
    }
    return undefined;
  };
}
