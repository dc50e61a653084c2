// Health as Flux (kstatus, the real library) and Argo CD (the chart's Lua scripts, run by
// a Lua interpreter) read it, on the status shapes the controllers write: the conditions
// come from operator/runtime/conditions.ts as the reconcilers call it. health.itest.ts
// does the same on objects read back from the control plane. The scripts are current
// with operator/health/argocd.ts (`npm run generate`), one per kind a controller reconciles.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GROUP } from '../api/common.ts';
import { MODULES } from '../controllers/index.ts';
import { READY, conditionsFromChecks, replaceConditions } from '../runtime/conditions.ts';
import type { Condition } from '../runtime/conditions.ts';
import { findTool } from '../testenv/tools.ts';
import { HEALTH_KINDS, argoHealthScript, healthFiles } from './argocd.ts';
import type { ArgoHealth, KstatusResult } from './readers.ts';
import { CHART_DIR, argoHealth, kstatus, luaLiteral } from './readers.ts';

const kstatusBin = findTool('kstatus');
const lua = findTool('glua');
const NOW = new Date('2026-01-02T03:04:05Z');

interface Shape {
  generation: number;
  status?: { observedGeneration: number; conditions: Condition[] };
  deleting?: boolean;
}
const checked = (ok: boolean, stalled: boolean) =>
  conditionsFromChecks(
    [{ condition: { type: 'Checked', status: ok ? 'True' : 'False', reason: ok ? 'Fine' : 'SpecInvalid', message: ok ? 'All good' : 'spec.x is not allowed: change it' }, gatesReady: true, stalled }],
    { reason: 'Ready', message: 'It is ready' },
  );
const status = (observedGeneration: number, ok: boolean, stalled = false) => ({ observedGeneration, conditions: replaceConditions(undefined, checked(ok, stalled), observedGeneration, NOW) });

/** Each shape a kind's status takes, with what kstatus and Argo CD must make of it. */
const SHAPES: [string, Shape, KstatusResult['status'], ArgoHealth['status']][] = [
  ['converged (Ready True, generation observed)', { generation: 3, status: status(3, true) }, 'Current', 'Healthy'],
  ['converging on a new generation (Ready True of the last one)', { generation: 4, status: status(3, true) }, 'InProgress', 'Progressing'],
  ['converging (Ready False, retrying)', { generation: 3, status: status(3, false) }, 'InProgress', 'Progressing'],
  ['stalled on its spec (Ready False, Stalled True)', { generation: 3, status: status(3, false, true) }, 'Failed', 'Degraded'],
  [
    'fixed after it stalled (the reconcile reports the whole set: Stalled gone)',
    {
      generation: 4,
      status: { observedGeneration: 4, conditions: replaceConditions(status(3, false, true).conditions, checked(true, false), 4, NOW) },
    },
    'Current',
    'Healthy',
  ],
  // kstatus cannot tell a kind without status from one not yet reconciled; the Argo CD scripts can.
  ['not yet seen by the operator (no status)', { generation: 1 }, 'Current', 'Progressing'],
];

const object = (kind: string, shape: Shape) => ({
  apiVersion: `${GROUP}/v1alpha1`,
  kind,
  metadata: { name: 'x', generation: shape.generation, ...(shape.deleting ? { deletionTimestamp: NOW.toISOString() } : {}) },
  ...(shape.status ? { status: shape.status } : {}),
});

describe('the Argo CD health scripts', () => {
  it('exist for exactly the kinds a controller reconciles', () => {
    expect(HEALTH_KINDS.map((k) => k.toLowerCase()).sort()).toEqual(MODULES.map((m) => m.name).sort());
  });

  it.each([...healthFiles()])('%s is current (npm run generate)', (path, content) => {
    expect(readFileSync(join(CHART_DIR, path), 'utf8')).toBe(content);
  });

  it('name their kind, and are otherwise the same check', () => {
    const [first, ...rest] = HEALTH_KINDS.map((k) => argoHealthScript(k).replaceAll(k, '<Kind>'));
    for (const script of rest) expect(script).toBe(first);
  });
});

describe('luaLiteral', () => {
  it.skipIf(!lua)('hands Lua the same strings, numbers, tables and absent nulls', () => {
    const value = { s: 'é "q" \\ \n\t]]', n: 3, b: false, a: [1, 'two'], none: null };
    const [hs] = argoHealth(lua!, [
      { kind: 'Organization', metadata: { generation: 1 }, status: { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True', message: value.s }] } } as never,
    ]);
    expect(hs).toEqual({ status: 'Healthy', message: value.s.replace('\n', ' ') });
    expect(luaLiteral(value)).toBe('{["s"] = "\\195\\169 \\34q\\34 \\92 \\10\\9]]", ["n"] = 3, ["b"] = false, ["a"] = {1, "two"}, ["none"] = nil}');
  });
});

describe.each(HEALTH_KINDS)('%s', (kind) => {
  const objects = SHAPES.map(([, shape]) => object(kind, shape));

  it.skipIf(!kstatusBin)('kstatus: Current when converged, InProgress while converging, Failed (Stalled) when the spec must change', () => {
    const got = kstatus(kstatusBin!, objects);
    expect(SHAPES.map(([name], i) => [name, got[i]!.status])).toEqual(SHAPES.map(([name, , want]) => [name, want]));
    expect(got[3]!.message).toBe('spec.x is not allowed: change it');
  });

  it.skipIf(!lua)('Argo CD: Healthy when converged, Progressing while converging, Degraded when the spec must change', () => {
    const got = argoHealth(lua!, objects);
    expect(SHAPES.map(([name], i) => [name, got[i]!.status])).toEqual(SHAPES.map(([name, , , want]) => [name, want]));
    expect(got[3]!.message).toBe('SpecInvalid: spec.x is not allowed: change it');
    expect(got[1]!.message).toBe('Waiting for the operator to observe generation 4');
  });
});

describe('a Ready condition', () => {
  it("is the last check's verdict (conditionsFromChecks), the type both readers look for", () => {
    expect(checked(true, false).map((c) => c.type)).toEqual(['Checked', READY]);
    expect(checked(false, true).map((c) => c.type)).toEqual(['Checked', READY, 'Stalled']);
  });
});
