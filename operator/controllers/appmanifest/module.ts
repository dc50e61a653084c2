import { Caches } from '../../domain/caches.ts';
import { AppClaims } from '../../domain/claims.ts';
import type { OperatorModule } from '../module.ts';
import { appManifestValidator } from './admission.ts';
import { appManifestController } from './controller.ts';

/** AppManifest: its manifest inline or from a ConfigMap key, validated, the last good one kept in status; Ready. */
export const appManifestModule: OperatorModule = {
  name: 'appmanifest',
  caches: [Caches.appManifests, Caches.idClaims, Caches.organizations],
  admits: ['AppManifest'],
  setup: ({ deps }) => ({
    admission: [{ kind: 'AppManifest', validate: appManifestValidator(new AppClaims(deps.caches)) }],
    controllers: [appManifestController(deps)],
  }),
};
