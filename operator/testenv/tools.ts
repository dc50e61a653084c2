// The tools the chart, health, metrics and plugin tests run, built by hack/tools/build.sh
// (`npm run tools:build`) from the Go module proxy:
//
//   helm (v3), helm4, kstatus (sigs.k8s.io/cli-utils), promtool, glua (a Lua 5.1),
//   krew, registry (distribution's OCI registry), cosign, helm-docs
//
// Each is found as: its environment variable ($HELM, $HELM4, $KSTATUS, $PROMTOOL, $LUA,
// $KREW, $REGISTRY, $COSIGN, $HELM_DOCS;
// an error if it names no file), else <cache>/tools/bin/<name> (the stable link the build
// script points at its last build; <cache> is $MINIAPPS_CACHE_DIR or
// ~/.cache/miniapps-operator), else <name> on PATH. Without it a test skips with a
// warning on a developer's machine; with CI set, a missing tool is an error, so CI
// never passes by skipping (.ci/run builds them all).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

export const TOOLS = { helm: 'HELM', helm4: 'HELM4', kstatus: 'KSTATUS', promtool: 'PROMTOOL', glua: 'LUA', krew: 'KREW', registry: 'REGISTRY', cosign: 'COSIGN', 'helm-docs': 'HELM_DOCS' } as const;
export type Tool = keyof typeof TOOLS;

/** Whether a missing tool fails (CI) rather than skips (a developer's machine). */
export const toolsRequired = (env: NodeJS.ProcessEnv = process.env): boolean => !!env.CI && env.CI !== 'false' && env.CI !== '0';

/** Where the tool is, or undefined (after a warning) when it is not there and CI is not set; throws when CI is set. */
export function findTool(name: Tool, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const variable = TOOLS[name];
  const fromEnv = env[variable];
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`${variable}=${fromEnv}: no such file`);
    return fromEnv;
  }
  const cache = env.MINIAPPS_CACHE_DIR || join(homedir(), '.cache/miniapps-operator');
  for (const dir of [join(cache, 'tools/bin'), ...(env.PATH ?? '').split(delimiter)]) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  const missing = `${name} not found in $${variable}, ${join(cache, 'tools/bin')} or PATH: build it with \`npm run tools:build\` (hack/tools/build.sh, needs Go 1.25+)`;
  if (toolsRequired(env)) throw new Error(`${missing}; CI is set, so the tests that need it fail instead of skipping`);
  console.warn(`${missing}; the tests that need it are skipped`);
  return undefined;
}

/** Runs a tool with `input` on stdin; its stdout, or an error with its stderr. */
export function run(binary: string, args: readonly string[], input?: string): string {
  return execFileSync(binary, args, { encoding: 'utf8', input, maxBuffer: 64 * 1024 * 1024, stdio: ['pipe', 'pipe', 'pipe'] });
}
