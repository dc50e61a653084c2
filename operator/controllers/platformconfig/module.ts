import { Caches } from '../../domain/caches.ts';
import type { OperatorModule } from '../module.ts';
import { platformConfigController } from './controller.ts';

/** PlatformConfig: validated, provisioning administrators bound to their ClusterRole. */
export const platformConfigModule: OperatorModule = {
  name: 'platformconfig',
  caches: [Caches.platformConfigs, Caches.ownedClusterRoles, Caches.ownedClusterRoleBindings],
  setup: ({ deps }) => ({ controllers: [platformConfigController(deps)] }),
};
