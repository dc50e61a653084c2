// The embedded identity provider as a listener (--identity-bind-address): one of the
// operator's, or the only one of its own process (--identity-only, identity-app.ts).
import type { Logger } from 'pino';
import type { Clock } from '../runtime/clock.ts';
import type { Config } from '../runtime/config.ts';
import type { KubeClient } from '../runtime/kube/client.ts';
import type { OperatorMetrics } from '../runtime/metrics.ts';
import { DirectoryStore, MemoryStore, SecretStore } from '../runtime/certs/source.ts';
import type { ServingMaterial } from '../runtime/certs/source.ts';
import { ServingCertificates } from '../runtime/certs/serving.ts';
import type { ModuleListener } from '../servers/listen.ts';
import { AccountStore } from './accounts.ts';
import { DEFAULT_TTLS, consoleClient, kubectlClient } from './provider.ts';
import { IdentityServer } from './server.ts';
import { Mailer } from '../runtime/mail/mailer.ts';
import { TenantAccountStore } from './tenant-accounts.ts';
import type { TenantApps } from './tenant-apps.ts';

/** The provider's listener, and how a renewed certificate reaches it. */
export interface IdentityListener extends ModuleListener {
  /** Serves this certificate from the next handshake on. */
  setCertificate(m: ServingMaterial): void;
}

/**
 * The identity listener's own certificate source, when it has one: --identity-cert-dir or
 * --identity-cert-secret (read, never written, and read again every
 * --webhook-cert-check-interval, so that a certificate renewed there by cert-manager or the
 * kubelet is served without a restart), else with --identity-only one generated in memory.
 * Undefined: the listener serves the webhooks' certificate, and follows its reloads.
 */
export function identityCertificates(cfg: Config, client: KubeClient, log: Logger, clock: Clock, metrics?: OperatorMetrics): ServingCertificates | undefined {
  const common = { log, clock, metrics, checkIntervalMs: cfg.webhookCertCheckIntervalMs, listener: 'Identity' };
  if (cfg.identityCertDir) return new ServingCertificates({ ...common, store: new DirectoryStore(cfg.identityCertDir) });
  if (cfg.identityCertSecret) return new ServingCertificates({ ...common, store: new SecretStore(client, cfg.identityCertSecret) });
  if (!cfg.identityOnly) return undefined;
  // Alone, with no certificate given: one of its own, made and renewed in this process's memory
  // (for the issuer's host), as the operator does for its webhooks out of cluster. The Ingress
  // in front re-encrypts to it; people and the API server meet the Ingress's certificate.
  const host = new URL(cfg.identityIssuer!).hostname;
  const isIp = /^[\d.]+$|:/.test(host);
  return new ServingCertificates({
    ...common,
    store: new MemoryStore(),
    rotation: {
      policy: {
        certDurationMs: cfg.webhookCertDurationMs,
        renewBeforeMs: cfg.webhookCertRenewBeforeMs,
        caDurationMs: cfg.webhookCaDurationMs,
        dnsNames: [...new Set(['localhost', ...(isIp ? [] : [host])])],
        ipAddresses: [...new Set(['127.0.0.1', ...(isIp ? [host.replace(/^\[|\]$/g, '')] : [])])],
      },
      mayRotate: () => true,
    },
  });
}

export function identityListener(cfg: Config, client: KubeClient, log: Logger, clock: Clock, serving: ServingMaterial, tenantApps?: TenantApps): IdentityListener {
  const tokenSeconds = Math.round(cfg.identityTokenDurationMs / 1000);
  const server = new IdentityServer({
    issuer: cfg.identityIssuer!.replace(/\/$/, ''),
    bind: cfg.identityBindAddress!,
    tls: { cert: serving.certPEM, key: serving.keyPEM },
    client,
    namespace: cfg.identityNamespace,
    accounts: new AccountStore(client, cfg.identityNamespace),
    clients: [kubectlClient(), ...(cfg.identityConsoleRedirectUris ? [consoleClient(cfg.identityConsoleRedirectUris)] : [])],
    log: log.child({ component: 'identity' }),
    clock,
    ttl: { ...DEFAULT_TTLS, token: tokenSeconds },
    // The same SMTP server as invitations send through, for password-reset emails.
    mailer: Mailer.fromConfig(cfg, client),
    trustedProxies: cfg.trustedProxies,
    forwardedHeader: cfg.forwardedHeader,
    tenants: tenantApps && { apps: tenantApps, accounts: new TenantAccountStore(client, cfg.identityNamespace) },
  });
  return {
    async start() {
      await server.start();
      return server.port;
    },
    stop: () => server.stop(),
    setCertificate: (m) => server.setCertificate({ cert: m.certPEM, key: m.keyPEM }),
  };
}
