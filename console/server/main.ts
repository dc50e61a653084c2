#!/usr/bin/env node
// The console's entry: `npm run console -- --kubeconfig=PATH [--port=8090]
// [--issuer-url=URL --client-id=ID [--client-secret-file=FILE]] [--public-url=URL]`.
// Only the kubeconfig's cluster (server and CA) is read, never its user: every request
// to the API server carries the signed-in person's own token.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createOidcClient } from './oidc.ts';
import { KubeClient } from '../../operator/runtime/kube/client.ts';
import { startConsoleServer } from './server.ts';
import { SessionStore } from './session.ts';
import { SecretSessionBackend } from './session-secrets.ts';
import { createUpstream, upstreamFromKubeconfig } from './upstream.ts';

const USAGE = `Usage: npm run console -- [flags]
  --kubeconfig=PATH          the cluster to show (its server and CA only; default KUBECONFIG, in-cluster, ~/.kube/config)
  --api-server-url=URL       the API server to forward to, instead of the kubeconfig's (with --api-server-ca-file)
  --api-server-ca-file=FILE  the CA of that API server's certificate (default: the system's trusted CAs)
  --host=ADDR                listen address (default 127.0.0.1)
  --port=N                   listen port (default 8090)
  --public-url=URL           the console's URL as browsers reach it (default http://HOST:PORT)
  --issuer-url=URL           OpenID Connect issuer (the embedded provider or an external one)
  --client-id=ID             the console's client id at that issuer
  --client-secret-file=FILE  the client secret, if the console is a confidential client
  --issuer-ca-file=FILE      the CA of the issuer's certificate, when it is not publicly trusted (the embedded provider's)
  --scopes=LIST              scopes to ask for (default "openid email profile groups offline_access")
  --token-roles-url=URL      the operator's APIs listener (its --api-bind-address, https://...), for a tenant user's token roles
  --token-roles-ca-file=FILE the CA of that listener's certificate (the operator's webhook CA)
  --sessions-namespace=NS    keep sessions in Secrets in NS too (shared by replicas, kept over a restart); default: memory only
  --sessions-kubeconfig=PATH the console's own credentials for those Secrets (default KUBECONFIG, in-cluster, ~/.kube/config)
  --signin-key-file=FILE     the secret (32 bytes or more) every replica seals a sign-in in progress with in its cookie
                             (default: the Secret console-signin-key in --sessions-namespace, made once; else a random one)
  --trusted-proxies=LIST     addresses or CIDRs of proxies in front of the console whose X-Forwarded-For names the client
                             (for the limit on sign-ins started per client address); default none
  --operator-namespace=NS    the operator's namespace, where provisioning administrators' API keys live (default miniapps-system, the operator's own default)`;

function log(msg: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ level: 'info', time: new Date().toISOString(), component: 'console', msg, ...fields })}\n`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      kubeconfig: { type: 'string' },
      'api-server-url': { type: 'string' },
      'api-server-ca-file': { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '8090' },
      'public-url': { type: 'string' },
      'issuer-url': { type: 'string' },
      'client-id': { type: 'string' },
      'client-secret-file': { type: 'string' },
      'issuer-ca-file': { type: 'string' },
      scopes: { type: 'string' },
      'token-roles-url': { type: 'string' },
      'token-roles-ca-file': { type: 'string' },
      'sessions-namespace': { type: 'string' },
      'sessions-kubeconfig': { type: 'string' },
      'signin-key-file': { type: 'string' },
      'trusted-proxies': { type: 'string' },
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
  if (values['api-server-url'] && values.kubeconfig) throw new Error('--api-server-url and --kubeconfig name the cluster twice: give one');
  const upstream = values['api-server-url']
    ? createUpstream({ server: values['api-server-url'], ca: values['api-server-ca-file'] ? readFileSync(values['api-server-ca-file'], 'utf8') : undefined })
    : upstreamFromKubeconfig(values.kubeconfig);
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
  const tokenRoles = values['token-roles-url']
    ? createUpstream({ server: values['token-roles-url'], ca: values['token-roles-ca-file'] ? readFileSync(values['token-roles-ca-file'], 'utf8') : undefined })
    : undefined;
  let sessions: SessionStore | undefined;
  let sweeper: NodeJS.Timeout | undefined;
  let signinSecret: Uint8Array | undefined = values['signin-key-file'] ? new Uint8Array(readFileSync(values['signin-key-file'])) : undefined;
  if (values['sessions-namespace']) {
    // The console's own ServiceAccount, for its sessions' Secrets only: never for anyone's request.
    const client = KubeClient.fromKubeconfig(values['sessions-kubeconfig'], { userAgent: 'miniapps-console', fieldManager: 'miniapps-console' });
    const backend = new SecretSessionBackend(client, values['sessions-namespace']);
    sessions = new SessionStore({ backend });
    // Shared by the replicas, so the provider's redirect back may land on any of them.
    signinSecret ??= await backend.signinSecret();
    const sweep = (): void => {
      backend.sweep().then(
        (n) => n && log('Expired sessions deleted', { count: n }),
        (err: unknown) => log('Deleting expired sessions failed', { error: (err as Error).message }),
      );
    };
    sweep();
    sweeper = setInterval(sweep, 10 * 60_000);
    sweeper.unref();
  }
  const trustedProxies = (values['trusted-proxies'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const c = await startConsoleServer({ upstream, oidc, host, port, publicUrl, log, tokenRoles, sessions, signinSecret, trustedProxies, operatorNamespace: values['operator-namespace'] });
  log('Console started', { url: publicUrl ?? c.url, apiServer: upstream.server, sessions: values['sessions-namespace'] ? `Secrets in ${values['sessions-namespace']}` : 'memory' });
  process.stdout.write(`Console: ${publicUrl ?? c.url}\n`);
  const stop = (): void => {
    if (sweeper) clearInterval(sweeper);
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
