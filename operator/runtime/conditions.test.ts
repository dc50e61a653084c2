import { describe, expect, it } from 'vitest';
import { setCondition } from './conditions.ts';

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
