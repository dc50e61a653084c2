import { Caches } from '../../domain/caches.ts';
import type { OperatorModule } from '../module.ts';
import { tenantController } from './controller.ts';

/** Tenant: its namespace, the administrators' RBAC (in it, and `get` on the Tenant itself) and Users. */
export const tenantModule: OperatorModule = {
  name: 'tenant',
  caches: [
    Caches.tenants,
    Caches.namespaces,
    Caches.users,
    Caches.platformConfigs,
    Caches.ownedRoleBindings,
    Caches.ownedClusterRoles,
    Caches.ownedClusterRoleBindings,
    Caches.ownedResourceQuotas,
    Caches.solutions,
    Caches.subscriptions,
    Caches.userGroups,
    Caches.organizations,
    Caches.appManifests,
    Caches.idClaims,
  ],
  setup: ({ deps }) => ({ controllers: [tenantController(deps)] }),
};
