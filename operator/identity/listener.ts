// The embedded identity provider as one of the operator's listeners (--identity-bind-address).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '../runtime/clock.ts';
import type { Config } from '../runtime/config.ts';
import type { KubeClient } from '../runtime/kube/client.ts';
import type { ModuleListener } from '../servers/listen.ts';
import { AccountStore } from './accounts.ts';
import { DEFAULT_TTLS, consoleClient, kubectlClient } from './provider.ts';
import { IdentityServer } from './server.ts';
import { Mailer } from '../runtime/mail/mailer.ts';
import { TenantAccountStore } from './tenant-accounts.ts';
import type { TenantApps } from './tenant-apps.ts';

export async function identityListener(cfg: Config, client: KubeClient, log: Logger, clock: Clock, serving?: { certPEM: string; keyPEM: string }, tenantApps?: TenantApps): Promise<ModuleListener> {
  const tls = cfg.identityCertDir
    ? { cert: readFileSync(join(cfg.identityCertDir, 'tls.crt'), 'utf8'), key: readFileSync(join(cfg.identityCertDir, 'tls.key'), 'utf8') }
    : serving && { cert: serving.certPEM, key: serving.keyPEM };
  if (!tls) throw new Error("The identity listener needs a certificate: --identity-cert-dir, or the webhooks' serving certificate (--webhook-bind-address or --api-bind-address)");
  const tokenSeconds = Math.round(cfg.identityTokenDurationMs / 1000);
  const server = new IdentityServer({
    issuer: cfg.identityIssuer!.replace(/\/$/, ''),
    bind: cfg.identityBindAddress!,
    tls,
    client,
    namespace: cfg.namespace,
    accounts: new AccountStore(client, cfg.namespace),
    clients: [kubectlClient(), ...(cfg.identityConsoleRedirectUris ? [consoleClient(cfg.identityConsoleRedirectUris)] : [])],
    log: log.child({ component: 'identity' }),
    clock,
    ttl: { ...DEFAULT_TTLS, token: tokenSeconds },
    // The same SMTP server as invitations send through, for password-reset emails.
    mailer: Mailer.fromConfig(cfg, client),
    trustedProxies: cfg.trustedProxies,
    forwardedHeader: cfg.forwardedHeader,
    tenants: tenantApps && { apps: tenantApps, accounts: new TenantAccountStore(client, cfg.namespace) },
  });
  return {
    async start() {
      await server.start();
      return server.port;
    },
    stop: () => server.stop(),
  };
}
