import { describe, expect, it } from 'vitest';
import { Resources } from '../../runtime/kube/resource.ts';
import { FakeStore } from '../../runtime/testing.ts';
import { keyCheck, newKey } from './envelope.ts';
import { KEK_SECRET_NAME, KEYRING_FIELD, KeyRing, parseKeyRing, withNewVersion, withoutUnused } from './keyring.ts';
import type { KeyRingDocument } from './keyring.ts';

const clock = { now: () => new Date('2026-12-01T00:00:00Z') };
const secretOf = (doc: unknown) => ({
  metadata: { name: KEK_SECRET_NAME, namespace: 'ops' },
  data: { [KEYRING_FIELD]: Buffer.from(typeof doc === 'string' ? doc : JSON.stringify(doc)).toString('base64') },
});
const good = (): KeyRingDocument => {
  const key = newKey();
  return { current: 'v1', versions: [{ id: 'v1', key: key.toString('base64'), check: keyCheck(key, 'v1'), createdAt: '2026-01-01T00:00:00Z' }] };
};

describe('parseKeyRing: a key ring that does not check out is never used', () => {
  it('reads a good one', () => {
    const state = parseKeyRing(secretOf(good()), 'ops');
    expect(state.ok && state.current.id).toBe('v1');
  });

  it.each<[string, () => unknown, RegExp]>([
    ['not JSON', () => 'garbage', /is not JSON/],
    ['no versions', () => ({ current: 'v1', versions: [] }), /has no versions/],
    [
      'a key whose bytes were changed',
      () => {
        const d = good();
        const k = Buffer.from(d.versions[0]!.key, 'base64');
        k[0] ^= 1;
        d.versions[0]!.key = k.toString('base64');
        return d;
      },
      /v1 no longer matches its check value/,
    ],
    [
      'a key that is not 256 bits',
      () => {
        const d = good();
        d.versions[0]!.key = Buffer.alloc(16).toString('base64');
        return d;
      },
      /not a 256-bit key/,
    ],
    ['a current version that is missing', () => ({ ...good(), current: 'v9' }), /current version v9/],
  ])('refuses %s', (_what, doc, problem) => {
    const state = parseKeyRing(secretOf(doc()), 'ops');
    expect(state.ok).toBe(false);
    if (!state.ok) {
      expect(state.problem).toMatch(problem);
      expect(state.problem).toContain('no data key is replaced');
    }
  });

  it('refuses a missing Secret (a new one would unwrap nothing)', () => {
    const state = parseKeyRing(undefined, 'ops');
    expect(!state.ok && state.problem).toContain('does not exist');
  });
});

describe('versions', () => {
  it('a rotation adds the next version as current and keeps the old ones', () => {
    const next = withNewVersion(withNewVersion(good(), clock.now(), 'r1'), clock.now(), 'r2');
    expect(next.versions.map((v) => v.id)).toEqual(['v1', 'v2', 'v3']);
    expect(next).toMatchObject({ current: 'v3', rotationRequest: 'r2' });
    expect(parseKeyRing(secretOf(next), 'ops').ok).toBe(true);
  });

  it('retires only versions nothing uses, never the current one', () => {
    const doc = withNewVersion(withNewVersion(good(), clock.now(), 'r1'), clock.now(), 'r2');
    expect(withoutUnused(doc, (id) => id === 'v2')?.versions.map((v) => v.id)).toEqual(['v2', 'v3']);
    expect(withoutUnused(doc, () => false)?.versions.map((v) => v.id)).toEqual(['v3']);
    expect(withoutUnused(doc, () => true)).toBeUndefined();
  });
});

describe('KeyRing on a store', () => {
  it('is made on first start, once; an existing Secret is never replaced, whatever it holds', async () => {
    const store = new FakeStore();
    const ring = new KeyRing(store, 'ops', clock);
    const first = await ring.ensureExists();
    expect(first.ok).toBe(true);
    const secret = store.peek(Resources.Secret, KEK_SECRET_NAME, 'ops');
    await new KeyRing(store, 'ops', clock).ensureExists();
    expect(store.peek(Resources.Secret, KEK_SECRET_NAME, 'ops')).toEqual(secret);

    const tampered = new FakeStore();
    tampered.seed(Resources.Secret, secretOf('garbage'));
    const state = await new KeyRing(tampered, 'ops', clock).ensureExists();
    expect(state.ok).toBe(false);
    expect(tampered.writes).toEqual([]);
  });

  it('rotates once per request, and refuses to rotate a ring that does not check out', async () => {
    const store = new FakeStore();
    const ring = new KeyRing(store, 'ops', clock);
    await ring.ensureExists();
    const a = await ring.rotate('2026-12');
    const b = await ring.rotate('2026-12');
    expect(a.ok && a.current.id).toBe('v2');
    expect(b.ok && b.current.id).toBe('v2');
    expect(store.writes.filter((w) => w.verb === 'apply')).toHaveLength(1);

    store.seed(Resources.Secret, secretOf('garbage'));
    const refused = await ring.rotate('2027-01');
    expect(refused.ok).toBe(false);
    expect(store.writes.filter((w) => w.verb === 'apply')).toHaveLength(1);
  });
});
