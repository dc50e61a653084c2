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

export function removeCondition(conditions: readonly Condition[] | undefined, type: string): Condition[] {
  return (conditions ?? []).filter((c) => c.type !== type);
}

export function getCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return getCondition(conditions, type)?.status === 'True';
}

/**
 * Readiness as a chain of checks (cert-manager's policies.go): the first check that is
 * not satisfied becomes the Ready condition; when all pass, Ready is True with `ok`.
 */
export type Check = () => ConditionInput | undefined;

export function readyFromChecks(checks: readonly Check[], ok: { reason: string; message: string }): ConditionInput {
  for (const check of checks) {
    const failed = check();
    if (failed) return { type: 'Ready', status: failed.status, reason: failed.reason, message: failed.message };
  }
  return { type: 'Ready', status: 'True', reason: ok.reason, message: ok.message };
}

const MAX_MESSAGE = 32768;
const truncate = (s: string) => (s.length > MAX_MESSAGE ? `${s.slice(0, MAX_MESSAGE - 3)}...` : s);
