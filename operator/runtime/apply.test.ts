import { describe, expect, it } from 'vitest';
import { OwnWrites, needsApply } from './apply.ts';

const obj = (uid: string, rv: string) => ({ metadata: { uid, resourceVersion: rv } });

describe('OwnWrites', () => {
  it('knows the versions its writes produced, and no others', () => {
    const own = new OwnWrites();
    own.record(obj('a', '5'));
    expect(own.has(obj('a', '5'))).toBe(true);
    expect(own.has(obj('a', '6'))).toBe(false); // someone else's later change
    expect(own.has(obj('b', '5'))).toBe(false);
  });

  it('forgets the oldest versions past its bound', () => {
    const own = new OwnWrites(2);
    own.record(obj('a', '1'));
    own.record(obj('a', '2'));
    own.record(obj('a', '3'));
    expect([own.has(obj('a', '1')), own.has(obj('a', '2')), own.has(obj('a', '3'))]).toEqual([false, true, true]);
  });
});

describe('needsApply', () => {
  const desired = {
    metadata: { name: 'r', labels: { a: '1' }, ownerReferences: [{ apiVersion: 'v1', kind: 'X', name: 'x', uid: 'u', controller: true }] },
    rules: [{ verbs: ['get'] }],
  };
  it.each([
    ['a missing object', undefined, true],
    ['the same object', structuredClone(desired), false],
    ['extra labels and owners', { ...structuredClone(desired), metadata: { ...structuredClone(desired.metadata), labels: { a: '1', b: '2' } } }, false],
    ['a changed label', { ...structuredClone(desired), metadata: { ...structuredClone(desired.metadata), labels: { a: '2' } } }, true],
    ['another controller', { ...structuredClone(desired), metadata: { ...structuredClone(desired.metadata), ownerReferences: [] } }, true],
    ['other rules', { ...structuredClone(desired), rules: [{ verbs: ['list'] }] }, true],
  ])('%s: %s', (_what, current, expected) => {
    expect(needsApply(current as never, desired, ['rules'])).toBe(expected);
  });

  it('applies a desired finalizer that an object written before it had one lacks, and nothing when it is there', () => {
    const withFinalizer = { ...desired, metadata: { ...desired.metadata, finalizers: ['miniapps.dev/namespace-access'] } };
    expect(needsApply(structuredClone(desired) as never, withFinalizer, ['rules'])).toBe(true);
    expect(
      needsApply({ ...structuredClone(withFinalizer), metadata: { ...structuredClone(withFinalizer.metadata), finalizers: ['other', 'miniapps.dev/namespace-access'] } } as never, withFinalizer, [
        'rules',
      ]),
    ).toBe(false);
  });
});
