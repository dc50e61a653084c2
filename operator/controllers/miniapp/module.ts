import { Caches } from '../../domain/caches.ts';
import type { OperatorModule } from '../module.ts';
import { miniAppValidator } from './admission.ts';
import { miniAppController } from './controller.ts';

/** MiniApp: where it stands in each super app, its data key, its confirmed deletion, the target and category rules. */
export const miniAppModule: OperatorModule = {
  name: 'miniapp',
  caches: [Caches.miniApps, Caches.superApps, Caches.miniAppReviews, Caches.organizations, Caches.namespaces, Caches.platformConfigs],
  setup: ({ deps }) => ({
    controllers: [miniAppController(deps)],
    admission: [{ kind: 'MiniApp', validate: miniAppValidator(deps.domain) }],
  }),
};
