import { isDeepStrictEqual } from 'node:util';
import type { MiniAppReview } from '../../api/miniappreview/schema.ts';
import type { AppDirectory } from '../../domain/directory.ts';
import type { AdmissionRequest, Validator } from '../../servers/webhook.ts';
import { reviewProblem } from './logic.ts';

/** A review is refused where reviewProblem finds one, on create and whenever its spec changes. */
export function reviewValidator(dir: AppDirectory): Validator {
  return (req: AdmissionRequest) => {
    if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return undefined;
    const review = req.object as MiniAppReview;
    const old = req.oldObject as MiniAppReview | undefined;
    if (req.operation === 'UPDATE' && old && isDeepStrictEqual(old.spec, review.spec)) return undefined;
    return reviewProblem({ ...review, metadata: { ...review.metadata, namespace: req.namespace } }, dir)?.message;
  };
}
