import { API_KEY_VERIFY_SUBRESOURCE } from '../../api/apikey/names.ts';
import { GROUP } from '../../api/constants.ts';
import { Caches } from '../../domain/caches.ts';
import { RBAC_API_VERSION } from '../../domain/rbac-types.ts';
import type { ClusterRole } from '../../domain/rbac-types.ts';
import { errorMessage } from '../../runtime/errors.ts';
import { Resources } from '../../runtime/kube/resource.ts';
import type { KubeClient } from '../../runtime/kube/client.ts';
import { MANAGED_BY } from '../../runtime/objects.ts';
import type { ModuleParts, OperatorModule } from '../module.ts';
import { apiKeyValidator } from './admission.ts';
import { apiKeyController } from './controller.ts';
import { keyTimes } from './logic.ts';
import { apiKeyMetrics } from './metrics.ts';
import { AUTHENTICATE_PATH, VERIFY_PATH, VerifyServer, tokenReviewHandler, verifyHandler } from './endpoints.ts';
import { KeyVerifier } from './verify.ts';
import type { SecretReader } from './verify.ts';
import { KeySeal, SEAL_KEY_SECRET, sealKeyId } from './seal.ts';
import { loadOrCreateSigningKey } from '../../runtime/signing-key.ts';
import { settingsOf } from '../../runtime/config.ts';
import { apiKeySettings } from './settings.ts';

/** The listener name of the plain HTTP verify endpoint (its port is logged as verifyPort). */
export const VERIFY_LISTENER = 'verify';

/** Who may ask the verify endpoint: bind an API gateway's ServiceAccount to it. */
export const VERIFIER_ROLE = 'miniapps:api-key-verifier';

export function verifierClusterRole(): ClusterRole {
  return {
    apiVersion: RBAC_API_VERSION,
    kind: 'ClusterRole',
    metadata: { name: VERIFIER_ROLE, labels: { ...MANAGED_BY } },
    rules: [{ apiGroups: [GROUP], resources: [`apikeys/${API_KEY_VERIFY_SUBRESOURCE}`], verbs: ['create'] }],
  };
}

/**
 * ApiKey: keys issued into Secrets only their owner may read, rotation, expiry,
 * revocation and disabled owners; the Kubernetes authentication webhook
 * (/authenticate) and the verify endpoint (/verify), both on one verifier.
 */
export const apiKeyModule: OperatorModule = {
  name: 'apikey',
  caches: [Caches.apiKeys, Caches.accountSecrets, Caches.memberships, Caches.organizations, Caches.platformConfigs, Caches.ownedRoles, Caches.ownedRoleBindings],
  admits: ['ApiKey'],
  metrics: [apiKeyMetrics],
  settings: apiKeySettings,
  async setup({ deps, config, client, metrics, authority }): Promise<ModuleParts> {
    const own = settingsOf(config, apiKeySettings);
    const log = deps.log.child({ module: 'apikey' });
    // The expiry gauges, read from the cache at each scrape: nothing to keep in step, no series left behind.
    const keys = deps.caches.cache(Caches.apiKeys);
    metrics.of(apiKeyMetrics).source.times = function* () {
      const now = deps.clock.now();
      for (const k of keys.list()) {
        const t = keyTimes(k, now);
        if (t) yield { namespace: k.metadata.namespace!, name: k.metadata.name, ...t };
      }
    };
    // The key that seals what status records of each key (seal.ts): made on first start, in the operator's own namespace.
    const seal = await loadSeal(client, config.namespace, log);
    const secrets: SecretReader = (namespace, name) => client.get(Resources.Secret, name, namespace);
    const verifier = new KeyVerifier(deps.caches.cache(Caches.apiKeys), deps.domain, deps.clock, deps.operatorNamespace, seal, secrets);
    const verify = verifyHandler({ verifier, authority, limits: { perCaller: { perMinute: own.verifyRateLimit, burst: own.verifyRateBurst } }, log, clock: deps.clock });
    // A constant ClusterRole for API gateways; a failure only means it must be made by hand.
    await client.apply(Resources.ClusterRole, verifierClusterRole()).catch((err: unknown) => log.warn({ err: errorMessage(err), clusterRole: VERIFIER_ROLE }, 'ClusterRole not applied'));
    return {
      controllers: [apiKeyController(deps, { seal })],
      admission: [{ kind: 'ApiKey', validate: apiKeyValidator(deps.domain, deps.operatorNamespace, deps.clock, keys) }],
      routes: [{ path: VERIFY_PATH, handler: verify }],
      // The API server's own listener, for a caller with its client certificate only (none configured: not served).
      apiServerRoutes: config.webhookClientCaFile ? [{ path: AUTHENTICATE_PATH, handler: tokenReviewHandler(verifier, log) }] : [],
      listeners: own.verifyBindAddress ? [{ name: VERIFY_LISTENER, listener: new VerifyServer(own.verifyBindAddress, verify) }] : [],
    };
  },
};

/** How often the seal key's Secret is read again (sooner when a seal of an unknown key id is met, at most every RELOAD_MIN_MS). */
const RELOAD_EVERY_MS = 60_000;
const RELOAD_MIN_MS = 5_000;

/**
 * The seal ring (seal.ts): the key of the Secret SEAL_KEY_SECRET (made on first start), read
 * again every minute and whenever a seal names a key this process does not hold, so a key
 * made anew by another replica (the Secret deleted) is learned without a restart; the keys
 * seen before keep verifying.
 */
async function loadSeal(client: KubeClient, namespace: string, log: { warn: (o: object, m: string) => void }): Promise<KeySeal> {
  const read = async () => {
    const key = await loadOrCreateSigningKey(client, namespace, SEAL_KEY_SECRET, 'api-keys');
    const secret = await client.get<{ metadata: { creationTimestamp?: string } }>(Resources.Secret, SEAL_KEY_SECRET, namespace);
    return { key, createdAt: secret?.metadata.creationTimestamp };
  };
  const first = await read();
  const seal = new KeySeal(first.key, first.createdAt);
  let last = 0;
  const reload = () => {
    const now = Date.now();
    if (now - last < RELOAD_MIN_MS) return;
    last = now;
    read().then(
      ({ key, createdAt }) => {
        if (sealKeyId(key) !== seal.keyId) seal.use(key, createdAt);
      },
      (err: unknown) => log.warn({ err: errorMessage(err), secret: SEAL_KEY_SECRET }, 'The seal key could not be read again'),
    );
  };
  seal.onUnknown = reload;
  setInterval(reload, RELOAD_EVERY_MS).unref();
  return seal;
}
