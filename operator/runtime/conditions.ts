import { rfc3339 } from './clock.ts';

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

/** What a check says about one condition: the condition without its bookkeeping. */
export interface ConditionInput {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
}

/**
 * Returns the conditions with `input` set: lastTransitionTime moves only when the
 * status flips; observedGeneration is always the generation that was seen. Order is
 * kept (new types are appended) so that unchanged status compares equal.
 */
export function setCondition(conditions: readonly Condition[] | undefined, input: ConditionInput, generation: number | undefined, now: Date): Condition[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((c) => c.type === input.type);
  const prev = i >= 0 ? list[i] : undefined;
  const next: Condition = {
    type: input.type,
    status: input.status,
    reason: input.reason,
    message: truncate(input.message),
    lastTransitionTime: prev && prev.status === input.status ? prev.lastTransitionTime : rfc3339(now),
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  };
  if (i >= 0) list[i] = next;
  else list.push(next);
  return list;
}

/** Sets several conditions at once. */
export function setConditions(conditions: readonly Condition[] | undefined, inputs: readonly ConditionInput[], generation: number | undefined, now: Date): Condition[] {
  let out = [...(conditions ?? [])];
  for (const c of inputs) out = setCondition(out, c, generation, now);
  return out;
}

const MAX_MESSAGE = 32768;
const truncate = (s: string) => (s.length > MAX_MESSAGE ? `${s.slice(0, MAX_MESSAGE - 3)}...` : s);

/**
 * Returns exactly `inputs` as the condition list: a type the reconcile did not report
 * no longer applies and is gone (a reconcile reports the kind's whole set).
 * lastTransitionTime is kept from `conditions` where the status did not flip, and the
 * order of the types already there is kept, so an unchanged set compares equal.
 */
export function replaceConditions(conditions: readonly Condition[] | undefined, inputs: readonly ConditionInput[], generation: number | undefined, now: Date): Condition[] {
  const wanted = new Set(inputs.map((c) => c.type));
  const kept = (conditions ?? []).filter((c) => wanted.has(c.type));
  return setConditions(kept, inputs, generation, now);
}

/** One check of a kind's readiness chain. */
export interface Check {
  condition: ConditionInput;
  /** A False condition here makes Ready False (a problem with what was asked); otherwise it is only reported. */
  gatesReady: boolean;
  /** Retrying cannot fix it (the spec must change): Ready False and Stalled True, as kstatus reads it. */
  stalled?: boolean;
}

export const READY = 'Ready';
export const STALLED = 'Stalled';

/**
 * The kind's conditions from an ordered chain of checks, as cert-manager's policy chain:
 * every check's condition, then Ready (True, or False with the reason and message of the
 * first gating check that failed), then Stalled when that check cannot be fixed by
 * retrying (absent otherwise, as kstatus expects).
 */
export function conditionsFromChecks(checks: readonly Check[], ready: { reason: string; message: string }): ConditionInput[] {
  const failed = checks.find((c) => c.gatesReady && c.condition.status !== 'True');
  const out = checks.map((c) => c.condition);
  out.push(failed ? { ...failed.condition, type: READY, status: 'False' } : { type: READY, status: 'True', ...ready });
  if (failed?.stalled) out.push({ type: STALLED, status: 'True', reason: failed.condition.reason, message: failed.condition.message });
  return out;
}
