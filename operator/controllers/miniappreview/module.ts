import { Caches } from '../../domain/caches.ts';
import { AppDirectory } from '../../domain/directory.ts';
import type { OperatorModule } from '../module.ts';
import { reviewValidator } from './admission.ts';
import { miniAppReviewController } from './controller.ts';

/** MiniAppReview: what it names exists and fits, at admission and in its status. Who may write reviews is the role table's RBAC. */
export const miniAppReviewModule: OperatorModule = {
  name: 'miniappreview',
  caches: [Caches.miniAppReviews, Caches.miniApps, Caches.superApps, Caches.organizations, Caches.namespaces],
  admits: ['MiniAppReview'],
  setup: ({ deps }) => ({
    controllers: [miniAppReviewController(deps)],
    admission: [{ kind: 'MiniAppReview', validate: reviewValidator(new AppDirectory(deps.caches, deps.domain)) }],
  }),
};
