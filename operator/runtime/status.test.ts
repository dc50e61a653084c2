import { describe, expect, it } from 'vitest';
import type { Condition, ConditionInput } from './conditions.ts';
import type { AnyObject } from './kube/client.ts';
import type { ResourceType } from './kube/resource.ts';
import { newFailures, writeStatus } from './status.ts';
import type { StatusUpdate } from './status.ts';
import { FakeStore } from './testing.ts';

const rt: ResourceType = { group: 'example.dev', version: 'v1', kind: 'Widget', plural: 'widgets', namespaced: true };
type Widget = AnyObject & { status?: { conditions?: Condition[]; size?: number; phase?: string; observedGeneration?: number } };

const T0 = new Date('2026-12-01T00:00:00Z');
const T1 = new Date('2026-12-01T01:00:00Z');
const cond = (type: string, status: 'True' | 'False', reason: string): ConditionInput => ({ type, status, reason, message: `${type} is ${reason}` });

/** A store holding one Widget (generation 2, with `status`), a clock at `now`, and the events recorded. */
function world(status?: Widget['status'], now = T0) {
  const store = new FakeStore();
  const obj = store.seed<Widget>(rt, { apiVersion: 'example.dev/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'ns', generation: 2, uid: 'u' }, ...(status ? { status } : {}) });
  const events: string[] = [];
  const deps = { store, clock: { now: () => now }, recorder: { event: (_o: AnyObject, type: string, reason: string, message: string) => events.push(`${type} ${reason}: ${message}`) } };
  const write = (update: StatusUpdate, from: Widget = obj) => writeStatus(deps, rt, from, update);
  const current = () => store.peek<Widget>(rt, 'w', 'ns')!;
  return { store, obj, events, write, current };
}

describe('writeStatus, the one status writer', () => {
  it('writes the fields, observedGeneration and the conditions with their generation and transition time', async () => {
    const w = world();
    const written = await w.write({ fields: { size: 3 }, conditions: [cond('Ready', 'True', 'Ready')] });
    expect(written).toBeDefined();
    expect(w.current().status).toEqual({
      size: 3,
      observedGeneration: 2,
      conditions: [{ type: 'Ready', status: 'True', reason: 'Ready', message: 'Ready is Ready', observedGeneration: 2, lastTransitionTime: '2026-12-01T00:00:00Z' }],
    });
  });

  it('writes nothing when nothing changed (and makes no event)', async () => {
    const w = world();
    await w.write({ fields: { size: 3 }, conditions: [cond('Sized', 'False', 'TooBig')] });
    const again = world(w.current().status, T1);
    expect(await again.write({ fields: { size: 3 }, conditions: [cond('Sized', 'False', 'TooBig')] })).toBeUndefined();
    expect(again.store.writes).toEqual([]);
    expect(again.events).toEqual([]);
  });

  it('moves lastTransitionTime only when a condition flips', async () => {
    const w = world();
    await w.write({ conditions: [cond('Ready', 'True', 'Ready'), cond('Sized', 'True', 'Fits')] });
    const later = world(w.current().status, T1);
    await later.write({ conditions: [cond('Ready', 'True', 'Ready'), cond('Sized', 'False', 'TooBig')] });
    const byType = Object.fromEntries(later.current().status!.conditions!.map((c) => [c.type, c.lastTransitionTime]));
    expect(byType).toEqual({ Ready: '2026-12-01T00:00:00Z', Sized: '2026-12-01T01:00:00Z' });
  });

  it('replace (the default) drops a type not reported; merge keeps it, after dropping the types asked', async () => {
    const before = world();
    await before.write({ conditions: [cond('Ready', 'False', 'Broken'), cond('Stalled', 'True', 'Broken'), cond('Sized', 'True', 'Fits')] });
    const replaced = world(before.current().status);
    await replaced.write({ conditions: [cond('Ready', 'True', 'Ready')] });
    expect(replaced.current().status!.conditions!.map((c) => c.type)).toEqual(['Ready']);
    const merged = world(before.current().status);
    await merged.write({ conditions: [cond('Ready', 'True', 'Ready')], mode: 'merge', drop: ['Stalled'] });
    expect(merged.current().status!.conditions!.map((c) => `${c.type}=${c.status}`)).toEqual(['Ready=True', 'Sized=True']);
  });

  it('makes the conditions from a readiness chain: the first gating failure is Ready, and Stalled when retrying cannot fix it', async () => {
    const w = world();
    await w.write({
      checks: {
        chain: [
          { condition: cond('Sized', 'False', 'TooBig'), gatesReady: true, stalled: true },
          { condition: cond('Painted', 'False', 'NoPaint'), gatesReady: false },
        ],
        ready: { reason: 'Ready', message: 'fine' },
      },
    });
    expect(w.current().status!.conditions!.map((c) => `${c.type}=${c.status}/${c.reason}`)).toEqual(['Sized=False/TooBig', 'Painted=False/NoPaint', 'Ready=False/TooBig', 'Stalled=True/TooBig']);
  });

  it('the Warning rule: by default one event per False condition that is new or has a new reason, none for Ready and Stalled', async () => {
    const w = world({ conditions: [{ type: 'Painted', status: 'False', reason: 'NoPaint', message: '', lastTransitionTime: '2026-12-01T00:00:00Z' }] });
    await w.write({ conditions: [cond('Sized', 'False', 'TooBig'), cond('Painted', 'False', 'NoPaint'), cond('Ready', 'False', 'TooBig'), cond('Stalled', 'True', 'TooBig')] });
    expect(w.events).toEqual(['Warning TooBig: Sized is TooBig']);
  });

  it("the Warning rule: 'none', or the kind's own rule, which sees the status before and the one written", async () => {
    const quiet = world();
    await quiet.write({ conditions: [cond('Sized', 'False', 'TooBig')], warn: 'none' });
    expect(quiet.events).toEqual([]);
    const own = world({ phase: 'Active' });
    await own.write({
      fields: { phase: 'Expired' },
      conditions: [cond('Ready', 'False', 'Expired')],
      warn: ({ before, status }) => (before?.phase !== status.phase ? [{ reason: 'PhaseChanged', message: `${before?.phase} to ${status.phase}` }] : []),
    });
    expect(own.events).toEqual(['Warning PhaseChanged: Active to Expired']);
  });

  it("writes to `target` (compare-and-swap on `resourceVersion` is the store's)", async () => {
    const w = world();
    const stale = { ...w.obj, status: { size: 9 } } as Widget;
    await w.write({ fields: { size: 1 }, conditions: [], target: w.obj }, stale);
    expect(w.current().status!.size).toBe(1);
  });
});

describe('newFailures', () => {
  it.each([
    ['a False condition that was True', [{ type: 'A', status: 'True', reason: 'Ok' }], ['Bad']],
    ['a False condition that was absent', undefined, ['Bad']],
    ['a False condition with a new reason', [{ type: 'A', status: 'False', reason: 'Other' }], ['Bad']],
    ['the same failure again: none', [{ type: 'A', status: 'False', reason: 'Bad' }], []],
  ])('%s', (_what, before, reasons) => {
    expect(newFailures(before, [cond('A', 'False', 'Bad'), cond('Ready', 'False', 'Bad')]).map((w) => w.reason)).toEqual(reasons);
  });
});
