import { Caches } from '../../domain/caches.ts';
import type { OperatorModule } from '../module.ts';
import { appManifestController } from './controller.ts';

/** AppManifest: its manifest inline or from a ConfigMap key, validated, the last good one kept in status; Ready. */
export const appManifestModule: OperatorModule = {
  name: 'appmanifest',
  caches: [Caches.appManifests],
  setup: ({ deps }) => ({ controllers: [appManifestController(deps)] }),
};
