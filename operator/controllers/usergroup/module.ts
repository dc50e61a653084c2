import { Caches } from '../../domain/caches.ts';
import type { OperatorModule } from '../module.ts';
import { userGroupController } from './controller.ts';

/** UserGroup: effective roles, member count, where each role comes from. */
export const userGroupModule: OperatorModule = {
  name: 'usergroup',
  caches: [Caches.userGroups, Caches.users, Caches.subscriptions, Caches.solutions, Caches.appManifests, Caches.tenants, Caches.organizations, Caches.idClaims],
  setup: ({ deps }) => ({ controllers: [userGroupController(deps)] }),
};
