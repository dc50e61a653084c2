// What the API server allows a user, asked as it decides it (SubjectAccessReview): the
// same answer `kubectl auth can-i --as` gives. For tests and the demo.
import type { KubeClient } from '../runtime/kube/client.ts';
import { resourcePath, Resources } from '../runtime/kube/resource.ts';

export interface AccessAttributes {
  verb: string;
  resource: string;
  namespace?: string;
  name?: string;
  /** Default miniapps.dev. */
  group?: string;
}

/** Whether `user` (authenticated, with `groups`) may do `attrs`, as RBAC answers now. */
export async function accessAllowed(client: KubeClient, user: string, attrs: AccessAttributes, groups: string[] = []): Promise<boolean> {
  const review = await client.request<{ status: { allowed?: boolean } }>('POST', resourcePath(Resources.SubjectAccessReview), {
    body: {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: { user, groups: ['system:authenticated', ...groups], resourceAttributes: { group: 'miniapps.dev', ...attrs } },
    },
  });
  return review.status.allowed === true;
}
