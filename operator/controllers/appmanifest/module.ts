import { Caches } from '../../domain/caches.ts';
import type { OperatorModule } from '../module.ts';
import { appManifestController } from './controller.ts';

/** AppManifest: the checks its schema cannot make, and Ready. */
export const appManifestModule: OperatorModule = {
  name: 'appmanifest',
  caches: [Caches.appManifests],
  setup: ({ deps }) => ({ controllers: [appManifestController(deps)] }),
};
