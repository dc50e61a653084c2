// Waiting for many objects to reach a state, with a list and then a watch (cheaper for
// the API server than listing thousands of objects every 250 ms, and exact to the event).
import { ApiError } from '../runtime/errors.ts';
import type { AnyObject, KubeClient } from '../runtime/kube/client.ts';
import type { ResourceType } from '../runtime/kube/resource.ts';

export interface ConvergeOptions<T> {
  labelSelector: string;
  /** How many objects must satisfy `done`. */
  n: number;
  done: (obj: T) => boolean;
  timeoutMs: number;
  /** Called about every `progressMs` with how many are done. */
  progress?: (done: number) => void;
  progressMs?: number;
}

/** Resolves with performance.now() at the event that made the n-th object done. */
export async function convergence<T extends AnyObject>(client: KubeClient, rt: ResourceType, opts: ConvergeOptions<T>): Promise<number> {
  const state = new Map<string, boolean>();
  let doneCount = 0;
  const set = (obj: T, present: boolean) => {
    const key = `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
    const was = state.get(key) ?? false;
    const now = present && opts.done(obj);
    if (present) state.set(key, now);
    else state.delete(key);
    doneCount += Number(now) - Number(was);
  };
  const deadline = AbortSignal.timeout(opts.timeoutMs);
  const ticker = setInterval(() => opts.progress?.(doneCount), opts.progressMs ?? 2000);
  try {
    for (;;) {
      const list = await client.list<T>(rt, { labelSelector: opts.labelSelector });
      state.clear();
      doneCount = 0;
      for (const o of list.items) set(o, true);
      if (doneCount >= opts.n) return performance.now();
      const stop = new AbortController();
      const signal = AbortSignal.any([deadline, stop.signal]);
      try {
        for await (const ev of client.watch<T>(rt, { labelSelector: opts.labelSelector, resourceVersion: list.metadata.resourceVersion, timeoutSeconds: 300, signal })) {
          if (ev.type === 'ERROR') break;
          if (ev.type === 'BOOKMARK') continue;
          set(ev.object, ev.type !== 'DELETED');
          if (doneCount >= opts.n) {
            const at = performance.now();
            stop.abort();
            return at;
          }
        }
      } catch (err) {
        if (deadline.aborted) throw new Error(`timed out after ${opts.timeoutMs}ms with ${doneCount} of ${opts.n} done`, { cause: err });
        if (!(err instanceof ApiError && err.status === 410) && !stop.signal.aborted) throw err;
      }
      if (deadline.aborted) throw new Error(`timed out after ${opts.timeoutMs}ms with ${doneCount} of ${opts.n} done`);
    }
  } finally {
    clearInterval(ticker);
  }
}
