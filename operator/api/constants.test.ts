import { describe, expect, it } from 'vitest';
import { KIND_NAMES } from './registry.ts';
import { lowerAscii } from './constants.ts';
import { ALL_KINDS } from './index.ts';

describe('KIND_NAMES', () => {
  it('is the kind, plural and scope of ALL_KINDS, in the same order', () => {
    expect(ALL_KINDS.map(({ kind, plural, scope }) => ({ kind, plural, scope }))).toEqual(Object.values(KIND_NAMES));
  });
});

describe('lowerAscii, the one case fold (item 16)', () => {
  it.each([
    ['ASCII letters are lowercased', 'Alice@Example.COM', 'alice@example.com'],
    ['the Kelvin sign stays itself (toLowerCase would make it "k")', '\u212Aarl@x.example', '\u212Aarl@x.example'],
    ['a dotted capital I stays itself (toLowerCase would make it "i" and a combining dot)', '\u0130nci@x.example', '\u0130nci@x.example'],
    ['other letters are left as they are, as CEL lowerAscii() leaves them', 'ÉMILE@x.example', 'Émile@x.example'],
  ])('%s', (_what, input, folded) => {
    expect(lowerAscii(input)).toBe(folded);
  });
});
