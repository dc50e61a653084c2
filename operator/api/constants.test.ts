import { describe, expect, it } from 'vitest';
import { KIND_NAMES } from './constants.ts';
import { ALL_KINDS } from './index.ts';

describe('KIND_NAMES', () => {
  it('is the kind, plural and scope of ALL_KINDS, in the same order', () => {
    expect(ALL_KINDS.map(({ kind, plural, scope }) => ({ kind, plural, scope }))).toEqual(Object.values(KIND_NAMES));
  });
});
