import { Caches } from '../../domain/caches.ts';
import type { OperatorModule } from '../module.ts';
import { subscriptionController } from './controller.ts';

/** Subscription: the tenant's UserGroups from the solution's and its apps' manifests. */
export const subscriptionModule: OperatorModule = {
  name: 'subscription',
  caches: [Caches.subscriptions, Caches.solutions, Caches.appManifests, Caches.tenants, Caches.organizations, Caches.userGroups, Caches.users, Caches.idClaims],
  setup: ({ deps }) => ({ controllers: [subscriptionController(deps)] }),
};
