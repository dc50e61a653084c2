// The ApiKey slice's metrics, registered with the operator's through its module (runtime/metrics.ts MetricSet).
import { defineMetrics } from '../../runtime/metrics.ts';

/** An active key's times (ms since the epoch), as the gauges read them. */
export interface KeyTimes {
  namespace: string;
  name: string;
  expiresAt?: number;
  rotatesAt?: number;
}

/**
 * The API keys' expiry and rotation times, read from the ApiKey cache when scraped (the
 * apikey module sets `times`): one series per active ApiKey that expires or rotates, none
 * for the others, never a key or its id in a label.
 */
export const apiKeyMetrics = defineMetrics('apikey', (m) => {
  const source: { times?: () => Iterable<KeyTimes> } = {};
  // One series per key with that time, set from the cache at each scrape.
  const keyGauge = (name: string, help: string, time: 'expiresAt' | 'rotatesAt') =>
    m.gauge({
      name,
      help,
      labelNames: ['apikey_namespace', 'apikey_name'] as const,
      collect() {
        this.reset();
        for (const k of source.times?.() ?? []) if (k[time] !== undefined) this.set({ apikey_namespace: k.namespace, apikey_name: k.name }, k[time] / 1000);
      },
    });
  return {
    source,
    expiration: keyGauge(
      'miniapps_apikey_expiration_timestamp_seconds',
      "When an active API key expires (spec.expiresAt or spec.ttl; rotation does not extend it), by the ApiKey's namespace and name (apikey_namespace, apikey_name: the target's own namespace label stays the operator's) (Unix time). Keys that never expire have no series.",
      'expiresAt',
    ),
    renewal: keyGauge(
      'miniapps_apikey_renewal_timestamp_seconds',
      "When the current key of an active API key with spec.rotation is due to be replaced, by the ApiKey's namespace and name (Unix time); past due means its rotation fails.",
      'rotatesAt',
    ),
  };
});
