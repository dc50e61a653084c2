#!/usr/bin/env node
// kubectl-miniapps: the kubectl plugin (`kubectl miniapps ...`). Put this file on PATH as
// `kubectl-miniapps` (see docs/plugin.md) and kubectl finds it. It uses your own kubeconfig
// (--kubeconfig, KUBECONFIG, ~/.kube/config; --context) and permissions, and your proxy
// (the cluster's proxy-url, else HTTPS_PROXY and NO_PROXY, as kubectl); see
// operator/plugin/plugin.ts. `npm run package` bundles it (operator/cli/package.ts) into
// dist/kubectl-miniapps, one file of JavaScript that checks the Node.js version before
// this module runs.
import { createInterface } from 'node:readline';
import { KubePluginApi } from '../plugin/api.ts';
import { noKubeconfig, withConnectionErrors } from '../plugin/connection.ts';
import { EXIT, complete, run } from '../plugin/plugin.ts';
import type { GlobalOptions, PluginIO } from '../plugin/plugin.ts';
import { KubeClient } from '../runtime/kube/client.ts';
import { loadClusterAccess } from '../runtime/kube/kubeconfig.ts';
import type { ClusterAccess } from '../runtime/kube/kubeconfig.ts';
import { proxyForDisplay, proxyFromEnvironment } from '../runtime/kube/proxy.ts';
import { VERSION } from '../runtime/version.ts';

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
  if (argv[0] === '--version') {
    io.out(`kubectl-miniapps ${VERSION}\n`);
    return EXIT.ok;
  }
  // What kubectl_complete-miniapps runs for `kubectl miniapps <TAB>` (operator/plugin/completion.ts).
  if (argv[0] === '__complete') {
    io.out(complete(argv.slice(1)));
    return EXIT.ok;
  }
  let client: KubeClient | undefined;
  const connect = (g: GlobalOptions) => {
    let access: ClusterAccess;
    try {
      access = loadClusterAccess({ path: g.kubeconfig, context: g.context });
    } catch (err) {
      throw new Error(noKubeconfig(err) ?? (err as Error).message);
    }
    // kubectl's order: the cluster's proxy-url, else HTTPS_PROXY / NO_PROXY.
    const proxyUrl = access.proxyUrl ?? proxyFromEnvironment(access.server, process.env);
    // --request-timeout bounds each request whole (KubePluginApi); 0 waits as long as it takes; without it, 30 s of silence fail.
    client = new KubeClient(access, { userAgent: `kubectl-miniapps/${VERSION}`, timeoutMs: g.requestTimeout ? 0 : 30_000, proxyUrl });
    const api = new KubePluginApi(client, g.as ? { user: g.as, groups: g.asGroup } : undefined, g.requestTimeout);
    const source = proxyUrl ? `${access.source}, through the proxy ${proxyForDisplay(proxyUrl)}` : access.source;
    return { api: withConnectionErrors(api, { server: access.server, source }), defaultNamespace: access.namespace ?? 'default' };
  };
  try {
    return await run(argv, { io, connect });
  } finally {
    await client?.close();
  }
}

// Whatever fails is one line on stderr, never a stack trace.
const fail = (err: unknown) => {
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(EXIT.error);
};
process.on('uncaughtException', fail);
main(process.argv.slice(2)).then((code) => process.exit(code), fail);
