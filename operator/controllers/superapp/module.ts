import { Caches } from '../../domain/caches.ts';
import type { OperatorModule } from '../module.ts';
import { superAppValidator } from './admission.ts';
import { superAppController } from './controller.ts';

/** SuperApp: the live catalog ConfigMap, the version snapshots, the capability and platform rules. */
export const superAppModule: OperatorModule = {
  name: 'superapp',
  caches: [Caches.superApps, Caches.miniApps, Caches.miniAppReviews, Caches.organizations, Caches.namespaces, Caches.platformConfigs],
  admits: ['SuperApp'],
  setup: ({ deps, metrics }) => ({
    controllers: [superAppController(deps, { onCatalogWrite: (kind) => metrics.catalogWrites.inc({ kind }) })],
    admission: [{ kind: 'SuperApp', validate: superAppValidator(deps.domain) }],
  }),
};
