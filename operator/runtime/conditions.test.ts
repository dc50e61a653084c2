import { describe, expect, it } from 'vitest';
import { conditionsFromChecks, replaceConditions, setCondition, setConditions } from './conditions.ts';

const t0 = new Date('2026-01-01T00:00:00Z');
const t1 = new Date('2026-01-01T01:00:00Z');

describe('setCondition', () => {
  it('moves lastTransitionTime only when the status flips', () => {
    const a = setCondition([], { type: 'Ready', status: 'False', reason: 'A', message: 'a' }, 1, t0);
    const b = setCondition(a, { type: 'Ready', status: 'False', reason: 'B', message: 'b' }, 2, t1);
    expect(b[0]).toMatchObject({ reason: 'B', lastTransitionTime: '2026-01-01T00:00:00Z', observedGeneration: 2 });
    const c = setCondition(b, { type: 'Ready', status: 'True', reason: 'Ok', message: 'ok' }, 2, t1);
    expect(c[0]!.lastTransitionTime).toBe('2026-01-01T01:00:00Z');
  });

  it('keeps the order of existing conditions and appends new types, so an unchanged status compares equal', () => {
    const a = setCondition([], { type: 'X', status: 'True', reason: 'R', message: '' }, 1, t0);
    const b = setCondition(a, { type: 'Ready', status: 'True', reason: 'R', message: '' }, 1, t0);
    const again = setCondition(b, { type: 'X', status: 'True', reason: 'R', message: '' }, 1, t1);
    expect(again.map((c) => c.type)).toEqual(['X', 'Ready']);
    expect(again).toEqual(b);
  });
});

describe('replaceConditions', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const later = new Date('2026-01-02T00:00:00Z');
  it('drops a type that no longer applies and keeps the transition time of one that did not flip', () => {
    const before = setConditions(
      undefined,
      [
        { type: 'IconValid', status: 'True', reason: 'IconValid', message: 'ok' },
        { type: 'Ready', status: 'True', reason: 'Ready', message: 'ok' },
      ],
      1,
      now,
    );
    const after = replaceConditions(before, [{ type: 'Ready', status: 'True', reason: 'Ready', message: 'ok' }], 2, later);
    expect(after).toEqual([{ type: 'Ready', status: 'True', reason: 'Ready', message: 'ok', lastTransitionTime: '2026-01-01T00:00:00Z', observedGeneration: 2 }]);
  });
});

describe('conditionsFromChecks', () => {
  const ok = (type: string) => ({ type, status: 'True' as const, reason: type, message: 'fine' });
  const bad = (type: string, reason: string) => ({ type, status: 'False' as const, reason, message: `${reason} happened` });
  it('is Ready when every gating check passes, whatever the others say', () => {
    const out = conditionsFromChecks(
      [
        { condition: ok('A'), gatesReady: true },
        { condition: bad('B', 'Waiting'), gatesReady: false },
      ],
      { reason: 'Ready', message: 'ready' },
    );
    expect(out.at(-1)).toEqual({ type: 'Ready', status: 'True', reason: 'Ready', message: 'ready' });
    expect(out.find((c) => c.type === 'Stalled')).toBeUndefined();
  });
  it('takes the first failed gating check as Ready, and sets Stalled when retrying cannot fix it', () => {
    const out = conditionsFromChecks(
      [
        { condition: bad('A', 'Retrying'), gatesReady: true },
        { condition: bad('B', 'Broken'), gatesReady: true, stalled: true },
      ],
      { reason: 'Ready', message: 'ready' },
    );
    expect(out.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'Retrying' });
    expect(out.find((c) => c.type === 'Stalled')).toBeUndefined();
    const stalled = conditionsFromChecks([{ condition: bad('B', 'Broken'), gatesReady: true, stalled: true }], { reason: 'Ready', message: 'ready' });
    expect(stalled.find((c) => c.type === 'Stalled')).toEqual({ type: 'Stalled', status: 'True', reason: 'Broken', message: 'Broken happened' });
  });
});
