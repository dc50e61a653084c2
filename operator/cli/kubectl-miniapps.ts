#!/usr/bin/env node
// kubectl-miniapps: the kubectl plugin (`kubectl miniapps ...`). Put this file on PATH as
// `kubectl-miniapps` (see the README) and kubectl finds it. It uses your own kubeconfig
// (--kubeconfig, KUBECONFIG, ~/.kube/config) and permissions; see operator/plugin/plugin.ts.
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { KubePluginApi } from '../plugin/api.ts';
import { EXIT, FLAG_OPTIONS, run } from '../plugin/plugin.ts';
import type { PluginIO } from '../plugin/plugin.ts';
import { KubeClient } from '../runtime/kube/client.ts';
import { loadClusterAccess } from '../runtime/kube/kubeconfig.ts';

/** One line from stdin, whether it is a terminal or a pipe (the prompt goes to stderr). */
function readLine(prompt: string): Promise<string | undefined> {
  process.stderr.write(prompt);
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, terminal: false });
    let answered = false;
    rl.once('line', (line) => {
      answered = true;
      rl.close();
      resolve(line);
    });
    rl.once('close', () => {
      if (!answered) resolve(undefined);
    });
  });
}

async function main(argv: string[]): Promise<number> {
  const io: PluginIO = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), readLine };
  let global: { kubeconfig?: string; as?: string; 'as-group'?: string[] } = {};
  try {
    global = parseArgs({ args: argv, options: FLAG_OPTIONS, allowPositionals: true, strict: false }).values as typeof global;
  } catch {
    // run() reports bad flags
  }
  let client: KubeClient | undefined;
  const connect = () => {
    const access = loadClusterAccess({ path: global.kubeconfig });
    client = new KubeClient(access, { userAgent: 'kubectl-miniapps', timeoutMs: 30_000 });
    return { api: new KubePluginApi(client, global.as ? { user: global.as, groups: global['as-group'] } : undefined), defaultNamespace: access.namespace ?? 'default' };
  };
  try {
    return await run(argv, { io, connect });
  } finally {
    await client?.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(EXIT.error);
  },
);
