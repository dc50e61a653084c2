import { Caches } from '../../domain/caches.ts';
import type { OperatorModule } from '../module.ts';
import { organizationController } from './controller.ts';

/** Organization: its namespace, the RBAC of the role table, member counts, the checks. */
export const organizationModule: OperatorModule = {
  name: 'organization',
  // apiKeys to appManifests: what keeps its access in a namespace being deleted (releaseNamespaceAccess).
  caches: [
    Caches.organizations,
    Caches.memberships,
    Caches.namespaces,
    Caches.superApps,
    Caches.miniApps,
    Caches.apiKeys,
    Caches.miniAppReviews,
    Caches.solutions,
    Caches.appManifests,
    Caches.platformConfigs,
    Caches.ownedRoleBindings,
    Caches.ownedClusterRoles,
    Caches.ownedClusterRoleBindings,
    Caches.ownedResourceQuotas,
  ],
  setup: ({ deps, config }) => {
    const { serviceAccount, namespaceAccessRole } = config;
    const namespaceAccess = serviceAccount && namespaceAccessRole ? { serviceAccount, clusterRole: namespaceAccessRole } : undefined;
    return {
      controllers: [organizationController(deps, { namespaceAccess })],
    };
  },
};
