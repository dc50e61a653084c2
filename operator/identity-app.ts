// The embedded identity provider in a process of its own (--identity-only): the Helm chart's
// identity Deployment runs it under a ServiceAccount that holds only what the provider uses
// (the Secrets of its namespace, --identity-namespace; reading the kinds it answers about and
// the app id claims of the operator's namespace), never the operator's rights. It serves the provider's listener and /healthz, /readyz, /metrics, keeps
// read-only caches of what the modules' `identity` parts declare (frontend apps and their
// users' roles), and reconciles nothing: no controllers, webhooks, APIs, acceptance page or
// leader election (its state is shared through the API server, so every replica serves).
import type { Logger } from 'pino';
import { MODULES } from './controllers/index.ts';
import type { TenantApps } from './identity/tenant-apps.ts';
import type { IdentityListener } from './identity/listener.ts';
import { systemClock } from './runtime/clock.ts';
import type { Clock } from './runtime/clock.ts';
import type { ServingCertificates } from './runtime/certs/serving.ts';
import type { Config } from './runtime/config.ts';
import { Manager } from './runtime/controller.ts';
import { errorMessage } from './runtime/errors.ts';
import { KubeClient } from './runtime/kube/client.ts';
import type { ClusterAccess } from './runtime/kube/kubeconfig.ts';
import { OperatorMetrics } from './runtime/metrics.ts';
import { HealthServer } from './servers/health.ts';
import { loadKubeConfig } from './app.ts';

export interface IdentityProcessOptions {
  config: Config;
  log: Logger;
  clock?: Clock;
  clusterAccess?: ClusterAccess;
  /** How often a certificate not there yet (the operator generates the webhooks' on its first start) is looked for again. */
  certificateRetryMs?: number;
}

export class IdentityProcess {
  readonly config: Config;
  readonly log: Logger;
  readonly client: KubeClient;
  readonly metrics = new OperatorMetrics();
  readonly manager: Manager;
  readonly health: HealthServer;
  private readonly clock: Clock;
  private readonly certificateRetryMs: number;
  private certificates?: ServingCertificates;
  private listener?: IdentityListener;
  /** Set once the listener serves (readiness). */
  private serving = false;
  private stopped = false;

  constructor(opts: IdentityProcessOptions) {
    this.config = opts.config;
    this.log = opts.log;
    this.clock = opts.clock ?? systemClock;
    this.certificateRetryMs = opts.certificateRetryMs ?? 5_000;
    const cfg = this.config;
    const access = opts.clusterAccess ?? loadKubeConfig(cfg);
    this.client = new KubeClient(access, { connections: 16, qps: cfg.kubeApiQps, burst: cfg.kubeApiBurst, hooks: this.metrics.kubeClientHooks() });
    this.manager = new Manager({
      client: this.client,
      namespace: cfg.namespace,
      identityNamespace: cfg.identityNamespace,
      log: this.log,
      metrics: this.metrics,
      cacheSyncTimeoutMs: cfg.cacheSyncTimeoutMs,
      informerDefaults: { resyncMs: cfg.resyncPeriodMs, watchIdleMs: cfg.watchIdleTimeoutMs },
    });
    // Ready once the caches have listed and the listener serves; alive while the process runs.
    this.health = new HealthServer(this.metrics.registry, { healthy: () => true, ready: () => this.serving && this.manager.hasSynced() }, cfg.httpBindAddress, { metrics: true });
  }

  async start(onFatal: (reason: string, how: { drain: boolean }) => void): Promise<void> {
    const cfg = this.config;
    const port = await this.health.start();
    // Only the caches the modules declare for the provider: its ServiceAccount may read nothing else.
    let tenantApps: TenantApps | undefined;
    for (const mod of MODULES) {
      if (!mod.identity) continue;
      for (const decl of mod.identity.caches) this.manager.cache(decl);
      tenantApps = mod.identity.tenantApps(this.manager);
    }
    void this.manager.start(() => {}).catch((err: unknown) => onFatal(errorMessage(err), { drain: true }));
    const { identityCertificates, identityListener } = await import('./identity/listener.ts');
    this.certificates = identityCertificates(cfg, this.client, this.log, this.clock, this.metrics)!;
    const serving = await this.firstCertificate();
    if (!serving) return;
    this.listener = identityListener(cfg, this.client, this.log, this.clock, serving, tenantApps);
    const identityPort = await this.listener.start();
    const listener = this.listener;
    this.certificates.start((m) => listener.setCertificate(m));
    this.log.info({ port, identityPort, identity: cfg.identity }, 'Identity provider started');
    this.serving = true;
  }

  /** The certificate, waiting (not Ready) while its source holds none yet; undefined when stopped meanwhile. */
  private async firstCertificate() {
    for (let logged = false; !this.stopped; ) {
      try {
        return await this.certificates!.load();
      } catch (err) {
        if (!logged) this.log.warn({ err: errorMessage(err), retryMs: this.certificateRetryMs }, 'Identity certificate not there yet; looking again');
        logged = true;
        await new Promise((r) => setTimeout(r, this.certificateRetryMs));
      }
    }
    return undefined;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.certificates?.stop();
    await this.manager.stop();
    await Promise.all([this.health.stop(), this.listener?.stop()]);
    await this.client.close();
  }
}
