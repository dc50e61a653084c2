// Health as GitOps tools read it, for tests: kstatus (sigs.k8s.io/cli-utils, what Flux
// uses) and the chart's Argo CD Lua scripts run by a Lua 5.1 interpreter (glua), each
// over many objects in one process. The binaries come from hack/tools/build.sh
// (operator/testenv/tools.ts finds them).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../testenv/tools.ts';
import { healthScriptPath } from './argocd.ts';

export const CHART_DIR = fileURLToPath(new URL('../../charts/miniapps-operator/', import.meta.url));

export interface KstatusResult {
  kind: string;
  namespace: string;
  name: string;
  status: 'InProgress' | 'Failed' | 'Current' | 'Terminating' | 'NotFound' | 'Unknown';
  message: string;
}

/** kstatus.Compute of each object, in order. */
export function kstatus(binary: string, objects: readonly object[]): KstatusResult[] {
  const out = run(binary, [], JSON.stringify(objects));
  return out
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as KstatusResult);
}

export interface ArgoHealth {
  status: 'Healthy' | 'Progressing' | 'Degraded' | 'Suspended' | 'Missing' | 'Unknown';
  message: string;
}

/** A JavaScript value as a Lua literal, as Argo CD hands an object to its scripts (null fields absent). */
export function luaLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  if (typeof value === 'boolean' || typeof value === 'number') return String(value);
  if (typeof value === 'string') {
    let out = '"';
    for (const byte of Buffer.from(value, 'utf8')) out += byte >= 0x20 && byte < 0x7f && byte !== 0x22 && byte !== 0x5c ? String.fromCharCode(byte) : `\\${byte}`;
    return `${out}"`;
  }
  if (Array.isArray(value)) return `{${value.map(luaLiteral).join(', ')}}`;
  return `{${Object.entries(value as Record<string, unknown>)
    .map(([k, v]) => `[${luaLiteral(k)}] = ${luaLiteral(v)}`)
    .join(', ')}}`;
}

/** The chart's Argo CD health script of each object's kind, run on it, in order. */
export function argoHealth(lua: string, objects: readonly { kind?: string }[]): ArgoHealth[] {
  const dir = mkdtempSync(join(tmpdir(), 'argo-health-'));
  try {
    const runner = [
      // One line per object: status, a tab, the message with its newlines escaped.
      ...objects.map(
        (o) => `obj = ${luaLiteral(o)}\nlocal hs = dofile(${luaLiteral(join(CHART_DIR, healthScriptPath(o.kind ?? '')))})\nprint(hs.status .. "\\t" .. string.gsub(hs.message or "", "\\n", " "))`,
      ),
    ]
      .map((chunk) => `do\n${chunk}\nend`)
      .join('\n');
    const file = join(dir, 'runner.lua');
    writeFileSync(file, runner);
    const out = run(lua, [file]);
    return out
      .trimEnd()
      .split('\n')
      .map((line) => {
        const [status, ...message] = line.split('\t');
        return { status: status as ArgoHealth['status'], message: message.join('\t') };
      });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
