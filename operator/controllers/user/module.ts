import { Caches } from '../../domain/caches.ts';
import type { OperatorModule } from '../module.ts';
import { userController } from './controller.ts';

/** User: effective roles, landing page, missing groups. */
export const userModule: OperatorModule = {
  name: 'user',
  caches: [Caches.users, Caches.userGroups, Caches.tenants, Caches.subscriptions, Caches.solutions, Caches.organizations],
  setup: ({ deps }) => ({ controllers: [userController(deps)] }),
};
