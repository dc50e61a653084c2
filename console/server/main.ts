#!/usr/bin/env node
// The console's entry: `npm run console -- --kubeconfig=PATH [--port=8090]
// [--issuer-url=URL --client-id=ID [--client-secret-file=FILE]] [--public-url=URL]`.
// Only the kubeconfig's cluster (server and CA) is read, never its user: every request
// to the API server carries the signed-in person's own token.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createOidcClient } from './oidc.ts';
import { startConsoleServer } from './server.ts';
import { upstreamFromKubeconfig } from './upstream.ts';

const USAGE = `Usage: npm run console -- [flags]
  --kubeconfig=PATH          the cluster to show (its server and CA only; default KUBECONFIG, in-cluster, ~/.kube/config)
  --host=ADDR                listen address (default 127.0.0.1)
  --port=N                   listen port (default 8090)
  --public-url=URL           the console's URL as browsers reach it (default http://HOST:PORT)
  --issuer-url=URL           OpenID Connect issuer (the embedded provider or an external one)
  --client-id=ID             the console's client id at that issuer
  --client-secret-file=FILE  the client secret, if the console is a confidential client
  --issuer-ca-file=FILE      the CA of the issuer's certificate, when it is not publicly trusted (the embedded provider's)
  --scopes=LIST              scopes to ask for (default "openid email profile groups offline_access")
  --operator-namespace=NS    the operator's namespace, where provisioning administrators' API keys live (default miniapps-system, the operator's own default)`;

function log(msg: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ level: 'info', time: new Date().toISOString(), component: 'console', msg, ...fields })}\n`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      kubeconfig: { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '8090' },
      'public-url': { type: 'string' },
      'issuer-url': { type: 'string' },
      'client-id': { type: 'string' },
      'client-secret-file': { type: 'string' },
      'issuer-ca-file': { type: 'string' },
      scopes: { type: 'string' },
      'operator-namespace': { type: 'string', default: 'miniapps-system' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a port number, not ${JSON.stringify(values.port)}`);
  if (!!values['issuer-url'] !== !!values['client-id']) throw new Error('--issuer-url and --client-id go together');
  const host = values.host!;
  if (port === 0 && values['issuer-url'] && !values['public-url']) throw new Error('--port=0 with --issuer-url needs --public-url: the redirect URI is registered before the port is known');
  const publicUrl = values['public-url'] ?? (port === 0 ? undefined : `http://${host.includes(':') ? `[${host}]` : host}:${port}`);
  const upstream = upstreamFromKubeconfig(values.kubeconfig);
  const oidc = values['issuer-url']
    ? await createOidcClient({
        issuer: values['issuer-url'],
        clientId: values['client-id']!,
        clientSecret: values['client-secret-file'] ? readFileSync(values['client-secret-file'], 'utf8').trim() : undefined,
        redirectUri: new URL('/auth/callback', publicUrl!).href,
        scopes: values.scopes,
        caPEM: values['issuer-ca-file'] ? readFileSync(values['issuer-ca-file'], 'utf8') : undefined,
      })
    : undefined;
  if (!oidc) log('No --issuer-url: nobody can sign in (see docs/console.md)');
  const c = await startConsoleServer({ upstream, oidc, host, port, publicUrl, log, operatorNamespace: values['operator-namespace'] });
  log('Console started', { url: publicUrl ?? c.url, apiServer: upstream.server });
  process.stdout.write(`Console: ${publicUrl ?? c.url}\n`);
  const stop = (): void => {
    void c.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return -1;
}

main().then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`console: ${(err as Error).message}\n${USAGE}\n`);
    process.exit(2);
  },
);
