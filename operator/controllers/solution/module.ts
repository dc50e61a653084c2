import { Caches } from '../../domain/caches.ts';
import type { OperatorModule } from '../module.ts';
import { solutionController } from './controller.ts';

/** Solution: its manifest read and validated, the last good one kept in status. */
export const solutionModule: OperatorModule = {
  name: 'solution',
  caches: [Caches.solutions],
  setup: ({ deps }) => ({ controllers: [solutionController(deps)] }),
};
