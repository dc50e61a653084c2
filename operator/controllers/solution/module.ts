import { Caches } from '../../domain/caches.ts';
import { AppClaims } from '../../domain/claims.ts';
import type { OperatorModule } from '../module.ts';
import { solutionValidator } from './admission.ts';
import { solutionController } from './controller.ts';

/** Solution: its manifest read and validated, the last good one kept in status. */
export const solutionModule: OperatorModule = {
  name: 'solution',
  caches: [Caches.solutions, Caches.appManifests, Caches.idClaims, Caches.organizations],
  admits: ['Solution'],
  setup: ({ deps }) => ({
    admission: [{ kind: 'Solution', validate: solutionValidator(new AppClaims(deps.caches)) }],
    controllers: [solutionController(deps)],
  }),
};
