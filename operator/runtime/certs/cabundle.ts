// The CA bundle in the webhook configuration: the API server verifies the serving
// certificate with what is written here (cert-manager's cainjector, for one configuration).
import type { KubeClient } from '../kube/client.ts';
import { Resources } from '../kube/resource.ts';
import { isConflict, isStatus } from '../errors.ts';

interface WebhookConfigurationLike {
  metadata: { resourceVersion?: string };
  webhooks?: { name: string; clientConfig?: { caBundle?: string; url?: string } }[];
}

/**
 * Writes `caPEM` into every webhook's caBundle of the ValidatingWebhookConfiguration `name`
 * (a JSON patch of those fields only, conditional on the version read). Returns whether the
 * configuration carries the bundle now; false when it does not exist. With `onlyForUrl`
 * (the operator's own registration out of cluster), a configuration that calls another URL
 * is left alone.
 */
export async function injectCaBundle(client: KubeClient, name: string, caPEM: string, onlyForUrl?: string): Promise<boolean> {
  const vwc = await client.get<WebhookConfigurationLike>(Resources.ValidatingWebhookConfiguration, name);
  if (!vwc) return false;
  // A registration another operator of the namespace replaced ours with calls it, not this process: its CA is its own.
  if (onlyForUrl !== undefined && !(vwc.webhooks ?? []).every((h) => h.clientConfig?.url === onlyForUrl)) return true;
  const bundle = Buffer.from(caPEM).toString('base64');
  const hooks = vwc.webhooks ?? [];
  const stale = hooks.map((h, i) => ({ h, i })).filter(({ h }) => h.clientConfig?.caBundle !== bundle);
  if (stale.length === 0) return hooks.length > 0;
  const ops = [
    { op: 'test', path: '/metadata/resourceVersion', value: vwc.metadata.resourceVersion },
    ...stale.map(({ i }) => ({ op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value: bundle })),
  ];
  try {
    await client.patch(Resources.ValidatingWebhookConfiguration, name, undefined, ops, 'json');
  } catch (err) {
    if (isConflict(err) || isStatus(err, 422)) return false; // changed since the read: the next check
    throw err;
  }
  return true;
}
