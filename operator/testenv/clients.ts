// A runtime KubeClient on the test cluster, for integration tests.
import { KubeClient } from '../runtime/kube/client.ts';
import { testKubeconfig } from './index.ts';

/** An admin client on the test cluster, writing as the field manager `test`. */
export function testClient(): KubeClient {
  return KubeClient.fromKubeconfig(testKubeconfig(), { fieldManager: 'test' });
}
