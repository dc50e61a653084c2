// A symmetric key the operator keeps in a Secret of its own namespace (the invitation
// links' and the API keys' MACs): created on first start, read afterwards.
import { randomBytes } from 'node:crypto';
import { ApiError, isAlreadyExists } from './errors.ts';
import type { KubeClient } from './kube/client.ts';
import { Resources } from './kube/resource.ts';

const KEY_BYTES = 32;

interface SecretLike {
  metadata: { name?: string; namespace?: string };
  data?: Record<string, string>;
}

const KEY_FIELD = 'key';

/**
 * A signing key (the invitation links', the API keys' seal): 32 random bytes in the Secret
 * `name` of the operator's namespace (labelled with `component`), created on first start. Two replicas starting together both try to create it;
 * the loser (409 AlreadyExists) reads the winner's. Deleting the Secret rotates the key on the
 * next start (for the invitation key: every link sent before stops working).
 */
export async function loadOrCreateSigningKey(client: KubeClient, namespace: string, name: string, component: string): Promise<Buffer> {
  const existing = await client.get<SecretLike>(Resources.Secret, name, namespace);
  if (existing) return keyOf(existing, namespace, name);
  try {
    const created = await client.create<SecretLike>(Resources.Secret, {
      metadata: { name, namespace, labels: { 'app.kubernetes.io/managed-by': 'miniapps-operator', 'app.kubernetes.io/component': component } },
      type: 'Opaque',
      immutable: true,
      data: { [KEY_FIELD]: randomBytes(KEY_BYTES).toString('base64') },
    });
    return keyOf(created, namespace, name);
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
  const winner = await client.get<SecretLike>(Resources.Secret, name, namespace);
  if (!winner) throw new ApiError(404, 'NotFound', `Secret ${namespace}/${name} was created by another replica and is gone again`);
  return keyOf(winner, namespace, name);
}

function keyOf(secret: SecretLike, namespace: string, name: string): Buffer {
  const key = Buffer.from(secret.data?.[KEY_FIELD] ?? '', 'base64');
  if (key.length < KEY_BYTES) {
    throw new Error(`Secret ${namespace}/${name} has no usable signing key: data.${KEY_FIELD} must hold at least ${KEY_BYTES} bytes; delete the Secret to have a new key generated`);
  }
  return key;
}
