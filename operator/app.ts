import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { admissionPolicies } from './api/policies.ts';
import type { ControllerDeps } from './controllers/deps.ts';
import { ADMITTED_RESOURCES, MODULE_METRICS, MODULES } from './controllers/index.ts';
import type { ModuleListener, ModuleParts } from './controllers/module.ts';
import { Domain } from './domain/lookups.ts';
import { OPERATOR_BINDING_NAME } from './domain/rbac.ts';
import { ObjectWriter, OwnWrites } from './runtime/apply.ts';
import { systemClock } from './runtime/clock.ts';
import type { Clock } from './runtime/clock.ts';
import { ConfigError } from './runtime/config.ts';
import type { Config } from './runtime/config.ts';
import { Manager } from './runtime/controller.ts';
import { errorMessage } from './runtime/errors.ts';
import { KubeEventRecorder } from './runtime/events.ts';
import { KubeClient } from './runtime/kube/client.ts';
import { loadClusterAccess } from './runtime/kube/kubeconfig.ts';
import type { ClusterAccess } from './runtime/kube/kubeconfig.ts';
import { Resources } from './runtime/kube/resource.ts';
import { LeaderElector } from './runtime/leader.ts';
import { OperatorMetrics } from './runtime/metrics.ts';
import { KubeAuthority } from './servers/authority.ts';
import { HealthServer, METRICS_PATH, metricsRoute } from './servers/health.ts';
import { DirectoryStore, MemoryStore, SecretStore } from './runtime/certs/source.ts';
import { ServingCertificates } from './runtime/certs/serving.ts';
import { injectCaBundle } from './runtime/certs/cabundle.ts';
import type { CertStore, ServingMaterial } from './runtime/certs/source.ts';
import type { IdentityListener } from './identity/listener.ts';
import { TlsRouter, WEBHOOK_PATH, WebhookServer, registerWebhook, unregisterWebhook, webhookRegistrationName } from './servers/webhook.ts';

export interface OperatorOptions {
  config: Config;
  log: Logger;
  clock?: Clock;
  /** The cluster to work on; default: loadKubeConfig(config). */
  clusterAccess?: ClusterAccess;
}

/** The listener name of the embedded identity provider (its port is logged as identityPort). */
const IDENTITY_LISTENER = 'identity';

/**
 * Finds the cluster the way kubectl does: --kubeconfig, then KUBECONFIG, in-cluster,
 * ~/.kube/config. Throws "No Kubernetes cluster configured: pass --kubeconfig or set
 * KUBECONFIG" when there is none. (No @kubernetes/client-node here: see KubeClient.)
 */
export function loadKubeConfig(config: Pick<Config, 'kubeconfig' | 'kubeconfigPaths'> = {}): ClusterAccess {
  return loadClusterAccess({ path: config.kubeconfig, paths: config.kubeconfigPaths });
}

/**
 * The operator process: caches, controllers, leader election, the HTTP listeners.
 * Everything it uses is built here from the configuration and handed down.
 */
export class Operator {
  readonly config: Config;
  readonly log: Logger;
  readonly client: KubeClient;
  /** Leader election's own client: its renewals never queue behind reconciles for a token or a connection. */
  private readonly leaseClient: KubeClient;
  /** The APIs' callers' reviews (TokenReview, SubjectAccessReview) have their own client and budget: a flood of them never slows the reconcilers. */
  private readonly reviewClient: KubeClient;
  /** Whose token, and may they: one for every API (data protection, token roles, verify, /metrics). */
  readonly authority: KubeAuthority;
  readonly metrics = new OperatorMetrics({ sets: MODULE_METRICS });
  readonly manager: Manager;
  readonly health: HealthServer;
  /** The API server's TLS listener (--webhook-bind-address): /validate, /authenticate. */
  webhook?: WebhookServer;
  /** This process's user name, once asked (ownUserName). */
  private userName?: string;
  /** The APIs' TLS listener (--api-bind-address): /verify, data protection, token roles, /metrics. */
  api?: TlsRouter;
  /** The webhook listener's certificate, read again (and, generated, rotated) while it runs. */
  certificates?: ServingCertificates;
  /** The modules' own listeners (the acceptance page), by name. */
  private readonly listeners = new Map<string, ModuleListener>();
  /** The embedded identity provider's listener, and its own certificate source when it has one. */
  private identity?: { listener: IdentityListener; certificates?: ServingCertificates };
  /** What a module answers the embedded identity provider about frontend apps (the User module). */
  private tenantApps?: ModuleParts['tenantApps'];
  private webhookRegistration?: { name: string; url: string; caBundlePEM: string };
  private readonly ownWrites = new OwnWrites();
  private readonly clock: Clock;
  private readonly elector?: LeaderElector;

  constructor(opts: OperatorOptions) {
    this.config = opts.config;
    this.log = opts.log;
    this.clock = opts.clock ?? systemClock;
    const cfg = this.config;
    const access = opts.clusterAccess ?? loadKubeConfig(cfg);
    // One rate limit for everything the controllers send; leader election has its own
    // (as controller-runtime gives it a copy of the rest.Config, hence its own limiter).
    const limits = { qps: cfg.kubeApiQps, burst: cfg.kubeApiBurst, hooks: this.metrics.kubeClientHooks() };
    this.client = new KubeClient(access, { connections: Math.max(16, cfg.concurrency * 2), ...limits });
    this.leaseClient = new KubeClient(access, { connections: 2, userAgent: 'miniapps-operator/leader-election', ...limits });
    // The reviews' budget is the authority's (it refuses at once rather than queue): the client itself does not wait.
    this.reviewClient = new KubeClient(access, { connections: 4, userAgent: 'miniapps-operator/caller-reviews', timeoutMs: 10_000 });
    this.authority = new KubeAuthority(this.reviewClient, {
      clock: this.clock,
      budget: { qps: cfg.reviewQps, burst: cfg.reviewBurst },
      onReview: (review, result) => this.metrics.callerReviews.inc({ review, result }),
    });
    this.elector = cfg.leaderElect
      ? new LeaderElector(this.leaseClient, this.clock, this.log, {
          namespace: cfg.namespace,
          name: cfg.leaderElectionId,
          identity: cfg.identity,
          leaseDurationMs: cfg.leaseDurationMs,
          renewDeadlineMs: cfg.renewDeadlineMs,
          retryPeriodMs: cfg.retryPeriodMs,
        })
      : undefined;
    this.manager = new Manager({
      client: this.client,
      namespace: cfg.namespace,
      identityNamespace: cfg.identityNamespace,
      ownWrites: this.ownWrites,
      log: this.log,
      metrics: this.metrics,
      elector: this.elector,
      defaultConcurrency: cfg.concurrency,
      cacheSyncTimeoutMs: cfg.cacheSyncTimeoutMs,
      informerDefaults: { resyncMs: cfg.resyncPeriodMs, watchIdleMs: cfg.watchIdleTimeoutMs },
    });
    // Liveness fails when the lease was not renewed in time (or was lost): such a process must be restarted.
    this.health = new HealthServer(this.metrics.registry, { healthy: () => this.manager.healthy(), ready: () => this.manager.hasSynced() }, cfg.httpBindAddress, { metrics: !cfg.metricsSecure });
  }

  private controllerDeps(): ControllerDeps {
    // Controllers read fresh and write through a view whose requests end when this process
    // must stop acting (leadership lost): nothing of theirs is sent after that.
    const client = this.client.withSignal(this.manager.signal);
    return {
      caches: this.manager,
      domain: new Domain(this.manager),
      store: new ObjectWriter(client, this.ownWrites),
      clock: this.clock,
      recorder: new KubeEventRecorder(client, this.clock, this.log.child({ component: 'events' }), {
        instance: this.config.identity,
      }),
      log: this.log,
      operatorNamespace: this.config.namespace,
    };
  }

  /**
   * Starts everything; resolves once the listeners are up (reconciling starts on
   * leadership). Every module's caches, controllers, admission rules, routes and
   * listeners are registered before any listener starts, so no request meets a server
   * without its rules. `onFatal` is told when the process must end: with `drain: false`
   * when it lost the lease (another process may lead already: exit at once, finish
   * nothing), otherwise after a failure it may drain from.
   */
  async start(onFatal: (reason: string, how: { drain: boolean }) => void): Promise<void> {
    const cfg = this.config;
    await this.ensureOwnNamespace();
    if (cfg.installAdmissionPolicies) await this.installAdmissionPolicies();
    const tls = cfg.webhookBindAddress || cfg.apiBindAddress ? await this.servingCertificates().load() : undefined;
    const ready = () => this.manager.hasSynced();
    if (tls && cfg.webhookBindAddress) {
      const clientCA = cfg.webhookClientCaFile ? readClientCA(cfg.webhookClientCaFile) : undefined;
      this.webhook = new WebhookServer({ cert: tls.certPEM, key: tls.keyPEM }, cfg.webhookBindAddress, this.log, ready, { clientCA, clientNames: cfg.webhookClientAllowedNames });
      if (!clientCA)
        this.log.warn({}, "The webhook listener answers any caller that reaches it, and /authenticate is off: set --webhook-client-ca-file to the CA of the API server's client certificate");
    }
    if (tls && cfg.apiBindAddress) {
      this.api = new TlsRouter({ cert: tls.certPEM, key: tls.keyPEM }, cfg.apiBindAddress, this.log, { name: 'api', isReady: ready });
      if (cfg.metricsSecure) this.api.route(METRICS_PATH, metricsRoute(this.metrics.registry, this.authority, this.clock));
    }
    const deps = this.controllerDeps();
    for (const mod of MODULES) {
      for (const decl of mod.caches) this.manager.cache(decl);
      const parts = await mod.setup({ deps, config: cfg, client: this.client, metrics: this.metrics, authority: this.authority });
      const undeclared = (parts.admission ?? []).map((a) => a.kind).filter((k) => !(mod.admits ?? []).includes(k as never));
      // The webhook's registration lists only the declared kinds: an undeclared rule would never be asked.
      if (undeclared.length) throw new Error(`Module ${mod.name} serves admission rules for ${undeclared.join(', ')} without declaring them in admits`);
      this.registerParts(parts);
    }
    // Loaded only when served: the provider's libraries (koa, oidc-provider) stay out of an operator that does not serve it.
    if (cfg.identityBindAddress) {
      const { identityCertificates, identityListener } = await import('./identity/listener.ts');
      // Its own certificate when given one (read, never written), else the webhooks', whose reloads it follows (startTls).
      const own = identityCertificates(cfg, this.client, this.log, this.clock);
      const serving = own ? await own.load() : tls;
      if (!serving)
        throw new Error("The identity listener needs a certificate: --identity-cert-dir, --identity-cert-secret, or the webhooks' serving certificate (--webhook-bind-address or --api-bind-address)");
      const listener = identityListener(cfg, this.client, this.log, this.clock, serving, this.tenantApps);
      this.identity = { listener, certificates: own };
      this.listeners.set(IDENTITY_LISTENER, listener);
      own?.start((m) => listener.setCertificate(m));
    }
    if (tls) await this.startTls(tls);
    const ports: Record<string, number> = {};
    for (const [name, listener] of this.listeners) ports[name] = await listener.start();
    // Each module's listener logged as `<name>Port` (publicPort: the acceptance page; verifyPort: the verify endpoint).
    const listenerPorts = Object.fromEntries(Object.entries(ports).map(([name, p]) => [`${name}Port`, p]));
    const port = await this.health.start();
    this.log.info(
      {
        port,
        webhookPort: this.webhook?.port,
        webhookClientAuth: this.webhook?.authenticatesClients,
        apiPort: this.api?.port,
        ...listenerPorts,
        leaderElection: cfg.leaderElect,
        identity: cfg.identity,
      },
      'Operator started',
    );
    void this.manager.start((reason) => onFatal(`Leadership lost: ${reason}`, { drain: false })).catch((err: unknown) => onFatal(errorMessage(err), { drain: true }));
  }

  private registerParts(parts: ModuleParts): void {
    for (const spec of parts.controllers ?? []) this.manager.add(spec);
    for (const { kind, validate } of parts.admission ?? []) this.webhook?.register(kind, validate);
    for (const { path, handler } of parts.routes ?? []) this.api?.route(path, handler);
    for (const { path, handler } of parts.apiServerRoutes ?? []) this.webhook?.route(path, handler);
    for (const { name, listener } of parts.listeners ?? []) this.listeners.set(name, listener);
    if (parts.tenantApps) this.tenantApps = parts.tenantApps;
  }

  private namespaceAccess() {
    const { serviceAccount, namespaceAccessRole } = this.config;
    return serviceAccount && namespaceAccessRole ? { serviceAccount, clusterRole: namespaceAccessRole } : undefined;
  }

  /**
   * Out of cluster, the operator installs the admission policies itself (in cluster the
   * chart does). They stay when it stops: they are the rules that hold while it is down.
   */
  private async installAdmissionPolicies(): Promise<void> {
    const access = this.namespaceAccess();
    const user = await this.ownUserName();
    const objects = admissionPolicies(this.config.namespace, access && { ...access, bindingName: OPERATOR_BINDING_NAME }, user);
    const typeOf = (obj: (typeof objects)[number]) => (obj.kind === 'ValidatingAdmissionPolicy' ? Resources.ValidatingAdmissionPolicy : Resources.ValidatingAdmissionPolicyBinding);
    // The chart's policies name the chart's operator: replacing them (with this process's
    // user name, which stays after it stops) would lock that operator out of every status.
    for (const obj of objects) {
      const existing = await this.client.get(typeOf(obj), obj.metadata!.name!);
      if (existing && helmManaged(existing)) {
        throw new Error(
          `${obj.kind} ${obj.metadata!.name} is installed by a Helm release (${existing.metadata.annotations?.['meta.helm.sh/release-namespace'] ?? '?'}/${existing.metadata.annotations?.['meta.helm.sh/release-name'] ?? '?'}): not overwritten; run with --install-admission-policies=false against a cluster where the chart installed them`,
        );
      }
    }
    for (const obj of objects) await this.client.apply(typeOf(obj), obj);
  }

  /**
   * The user name the API server gives this process's credentials (SelfSubjectReview, which
   * every authenticated user may ask): the one identity the status-writer policy lets
   * write status. Out of cluster it is whatever the kubeconfig holds (a person, a
   * ServiceAccount, a system:masters certificate).
   */
  private async ownUserName(): Promise<string> {
    const review = await this.client.request<{ status?: { userInfo?: { username?: string } } }>('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
    });
    const user = review.status?.userInfo?.username;
    if (!user) throw new Error('The API server did not say who the operator is (SelfSubjectReview without a user name): the status-writer admission policy needs it');
    this.log.info({ user }, 'Learned own user name for the status-writer policy');
    this.userName = user;
    return user;
  }

  /** The operator keeps its Lease and its Secrets in its own namespace; the embedded identity provider's Secrets may have one of their own (--identity-namespace). */
  private async ensureOwnNamespace(): Promise<void> {
    const { namespace, identityNamespace, identityEmbedded } = this.config;
    for (const ns of new Set([namespace, ...(identityEmbedded ? [identityNamespace] : [])])) {
      if (await this.client.get(Resources.Namespace, ns)) continue;
      await this.client.apply(Resources.Namespace, { metadata: { name: ns, labels: { 'app.kubernetes.io/managed-by': 'miniapps-operator' } } });
    }
  }

  /** The listeners (their rules and routes already in), then the registration out of cluster, then the certificate checks. */
  private async startTls(tls: ServingMaterial): Promise<void> {
    const cfg = this.config;
    const webhook = this.webhook;
    const api = this.api;
    if (api) await api.start();
    const port = webhook ? await webhook.start() : 0;
    if (webhook && cfg.webhookRegister) {
      // One name per namespace: this apply replaces what an earlier (even SIGKILLed) run left.
      this.webhookRegistration = {
        name: webhookRegistrationName(cfg.namespace),
        url: `https://${cfg.webhookHost.includes(':') ? `[${cfg.webhookHost}]` : cfg.webhookHost}:${port}${WEBHOOK_PATH}`,
        caBundlePEM: tls.caPEM,
      };
      const failClosed = cfg.webhookFailClosed ? { operatorNamespace: cfg.namespace, operatorUser: this.userName ?? (await this.ownUserName()) } : undefined;
      await registerWebhook(this.client, { ...this.webhookRegistration, resources: ADMITTED_RESOURCES, failClosed });
    }
    const identity = this.identity && !this.identity.certificates ? this.identity.listener : undefined;
    this.certificates!.start((m) => {
      webhook?.setCertificate({ cert: m.certPEM, key: m.keyPEM });
      api?.setCertificate({ cert: m.certPEM, key: m.keyPEM });
      identity?.setCertificate(m);
    });
  }

  /**
   * The serving certificate's source: --webhook-cert-dir, --webhook-cert-secret (filled and
   * rotated by the operator with --webhook-cert-rotate), or generated in this process's
   * memory and rotated there. docs/design/decisions.md ("The webhook's serving certificate") says why.
   */
  private servingCertificates(): ServingCertificates {
    const cfg = this.config;
    const secret = cfg.webhookCertSecret;
    const store: CertStore = cfg.webhookCertDir ? new DirectoryStore(cfg.webhookCertDir) : secret ? new SecretStore(this.client, secret) : new MemoryStore();
    const generated = store instanceof MemoryStore || cfg.webhookCertRotate;
    const host = cfg.webhookHost;
    const isIp = /^[\d.]+$|:/.test(host);
    // A Service's name as the API server calls it (<service>.<namespace>.svc) is also valid with the cluster domain.
    const dnsNames = [...new Set(['localhost', ...(isIp ? [] : [host]), ...(host.endsWith('.svc') ? [`${host}.cluster.local`] : [])])];
    // Without the webhook listener (only the APIs' one) there is no registration to keep the CA bundle of.
    const target = !cfg.webhookBindAddress ? undefined : cfg.webhookRegister ? webhookRegistrationName(cfg.namespace) : cfg.webhookConfiguration;
    const publish = target
      ? async (caPEM: string) => {
          const reg = this.webhookRegistration;
          if (cfg.webhookRegister && !reg) return false; // not registered yet
          const ok = await injectCaBundle(this.client, target, caPEM, reg?.url);
          if (ok && reg) reg.caBundlePEM = caPEM;
          return ok;
        }
      : undefined;
    this.certificates = new ServingCertificates({
      store,
      log: this.log,
      clock: this.clock,
      metrics: this.metrics,
      checkIntervalMs: cfg.webhookCertCheckIntervalMs,
      rotation: generated
        ? {
            policy: {
              certDurationMs: cfg.webhookCertDurationMs,
              renewBeforeMs: cfg.webhookCertRenewBeforeMs,
              caDurationMs: cfg.webhookCaDurationMs,
              dnsNames,
              ipAddresses: ['127.0.0.1', ...(isIp ? [host] : [])].filter((v, i, a) => a.indexOf(v) === i),
            },
            // A Secret has one writer, the leader; a certificate in memory is this process's own.
            mayRotate: store instanceof MemoryStore ? () => true : () => this.manager.isLeading,
            publish,
          }
        : undefined,
    });
    return this.certificates;
  }

  /** Drains in-flight reconciles, releases the lease, closes the listeners. */
  async stop(): Promise<void> {
    await Promise.all([this.certificates?.stop(), this.identity?.certificates?.stop()]);
    await this.manager.stop();
    // A registration pointing at a stopped local process would only slow admission down; one
    // that another operator of the namespace has replaced since is its, and stays.
    if (this.webhookRegistration) {
      const deleted = await unregisterWebhook(this.client, this.webhookRegistration).catch((err: unknown) => this.log.warn({ err: errorMessage(err) }, 'Webhook registration not removed'));
      if (deleted === false) this.log.info({ name: this.webhookRegistration.name }, 'Webhook registration left in place: it no longer calls this process');
    }
    await Promise.all([this.health.stop(), this.webhook?.stop(), this.api?.stop(), ...[...this.listeners.values()].map((l) => l.stop())]);
    await Promise.all([this.client.close(), this.leaseClient.close(), this.reviewClient.close()]);
  }
}

/** The PEM bundle of --webhook-client-ca-file; a file without a certificate stops the start (ConfigError). */
function readClientCA(path: string): string {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`Invalid configuration: --webhook-client-ca-file (MINIAPPS_WEBHOOK_CLIENT_CA_FILE) cannot be read: ${errorMessage(err)}`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new ConfigError(`Invalid configuration: --webhook-client-ca-file (MINIAPPS_WEBHOOK_CLIENT_CA_FILE) holds no PEM certificate: ${path}`);
  return pem;
}

/** Whether a Helm release installed this object (its managed-by label, or Helm's release annotations). */
export function helmManaged(obj: { metadata: { labels?: Record<string, string>; annotations?: Record<string, string> } }): boolean {
  return obj.metadata.labels?.['app.kubernetes.io/managed-by'] === 'Helm' || !!obj.metadata.annotations?.['meta.helm.sh/release-name'];
}
