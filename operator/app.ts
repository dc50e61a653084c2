import type { Logger } from 'pino';
import { allNamespaces, memberships, organizations } from './controllers/caches.ts';
import type { ControllerDeps } from './controllers/deps.ts';
import { MembershipAcceptance } from './controllers/membership/acceptance.ts';
import { membershipValidator } from './controllers/membership/admission.ts';
import { membershipController } from './controllers/membership/controller.ts';
import { SmtpInvitationMailer } from './controllers/membership/mail.ts';
import { appCapabilityValidator } from './controllers/organization/admission.ts';
import { organizationController } from './controllers/organization/controller.ts';
import { OPERATOR_BINDING_NAME } from './controllers/organization/rbac.ts';
import type { NamespaceAccess } from './controllers/organization/rbac.ts';
import { admissionPolicies } from './api/policies.ts';
import { platformConfigController } from './controllers/platformconfig/controller.ts';
import { Mailer } from './invitations/mailer.ts';
import { loadOrCreateSigningKey } from './invitations/token.ts';
import { AcceptServer } from './servers/accept.ts';
import { ObjectWriter, OwnWrites } from './runtime/apply.ts';
import { systemClock } from './runtime/clock.ts';
import type { Clock } from './runtime/clock.ts';
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
import { createCA, issueCertificate } from './runtime/pki.ts';
import { HealthServer } from './servers/health.ts';
import { WEBHOOK_PATH, WebhookServer, registerWebhook, unregisterWebhook, webhookRegistrationName } from './servers/webhook.ts';

export interface OperatorOptions {
  config: Config;
  log: Logger;
  clock?: Clock;
  /** The cluster to work on; default: loadKubeConfig(config.kubeconfig). */
  clusterAccess?: ClusterAccess;
}

/**
 * Finds the cluster the way kubectl does: --kubeconfig, then KUBECONFIG, in-cluster,
 * ~/.kube/config. Throws "No Kubernetes cluster configured: pass --kubeconfig or set
 * KUBECONFIG" when there is none. (No @kubernetes/client-node here: see KubeClient.)
 */
export function loadKubeConfig(path?: string): ClusterAccess {
  return loadClusterAccess({ path });
}

/**
 * The operator process: caches, controllers, leader election, the HTTP listeners.
 * Everything it uses is built here from the configuration and handed down.
 */
export class Operator {
  readonly config: Config;
  readonly log: Logger;
  readonly client: KubeClient;
  readonly metrics = new OperatorMetrics();
  readonly manager: Manager;
  readonly health: HealthServer;
  webhook?: WebhookServer;
  accept?: AcceptServer;
  private webhookRegistration?: { name: string; url: string; caBundlePEM: string };
  private readonly ownWrites = new OwnWrites();
  private readonly clock: Clock;
  private readonly elector?: LeaderElector;

  constructor(opts: OperatorOptions) {
    this.config = opts.config;
    this.log = opts.log;
    this.clock = opts.clock ?? systemClock;
    const cfg = this.config;
    this.client = new KubeClient(opts.clusterAccess ?? loadKubeConfig(cfg.kubeconfig), {
      connections: Math.max(16, cfg.concurrency * 2),
      onResponse: (verb, code) => this.metrics.kubeRequests.inc({ verb, code }),
    });
    this.elector = cfg.leaderElect
      ? new LeaderElector(this.client, this.clock, this.log, {
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
      ownWrites: this.ownWrites,
      log: this.log,
      metrics: this.metrics,
      elector: this.elector,
      defaultConcurrency: cfg.concurrency,
      informerDefaults: { resyncMs: cfg.resyncPeriodMs, watchIdleMs: cfg.watchIdleTimeoutMs },
    });
    this.health = new HealthServer(this.metrics.registry, { healthy: () => true, ready: () => this.manager.hasSynced() }, cfg.httpBindAddress);
  }

  private controllerDeps(): ControllerDeps {
    return {
      manager: this.manager,
      writer: new ObjectWriter(this.client, this.ownWrites),
      clock: this.clock,
      recorder: new KubeEventRecorder(this.client, this.clock, this.log.child({ component: 'events' }), {
        instance: this.config.identity,
      }),
      log: this.log,
      operatorNamespace: this.config.namespace,
    };
  }

  /** Starts everything; resolves once the listeners are up (reconciling starts on leadership). */
  async start(onFatal: (reason: string) => void): Promise<void> {
    const cfg = this.config;
    await this.ensureOwnNamespace();
    if (cfg.installAdmissionPolicies) await this.installAdmissionPolicies();
    if (cfg.webhookBindAddress) await this.startWebhook();
    const deps = this.controllerDeps();
    const signingKey = await loadOrCreateSigningKey(this.client, cfg.namespace);
    const mailer = cfg.smtpHost ? new SmtpInvitationMailer(await this.mailer(), signingKey, cfg.publicUrl) : undefined;
    if (!mailer) this.log.warn('No SMTP server configured (--smtp-host): invitations will not be sent');
    const membershipOptions = { mailer, invitationResendIntervalMs: cfg.invitationResendIntervalMs, invitationResendLimit: cfg.invitationResendLimit };
    for (const spec of [platformConfigController(deps), organizationController(deps, { namespaceAccess: this.namespaceAccess() }), membershipController(deps, membershipOptions)]) this.manager.add(spec);
    if (cfg.publicBindAddress) {
      const backend = new MembershipAcceptance({ client: this.client, members: memberships(this.manager), orgs: organizations(this.manager), signingKey, clock: this.clock });
      this.accept = new AcceptServer({ address: cfg.publicBindAddress, log: this.log, backend });
      await this.accept.start();
    }
    const port = await this.health.start();
    this.log.info({ port, webhookPort: this.webhook?.port, publicPort: this.accept?.port, leaderElection: cfg.leaderElect, identity: cfg.identity }, 'Operator started');
    void this.manager.start((reason) => onFatal(`Leadership lost: ${reason}`)).catch((err: unknown) => onFatal(errorMessage(err)));
  }

  private namespaceAccess(): NamespaceAccess | undefined {
    const { serviceAccount, namespaceAccessRole } = this.config;
    return serviceAccount && namespaceAccessRole ? { serviceAccount, clusterRole: namespaceAccessRole } : undefined;
  }

  /**
   * Out of cluster, the operator installs the admission policies itself (in cluster the
   * chart does). They stay when it stops: they are the rules that hold while it is down.
   */
  private async installAdmissionPolicies(): Promise<void> {
    const access = this.namespaceAccess();
    for (const obj of admissionPolicies(this.config.namespace, access && { ...access, bindingName: OPERATOR_BINDING_NAME })) {
      await this.client.apply(obj.kind === 'ValidatingAdmissionPolicy' ? Resources.ValidatingAdmissionPolicy : Resources.ValidatingAdmissionPolicyBinding, obj);
    }
  }

  /** Cross-object rules, checked at admission from the caches (every replica serves them). */
  private registerValidators(webhook: WebhookServer): void {
    const orgs = organizations(this.manager);
    const namespaces = allNamespaces(this.manager);
    webhook.register('Membership', membershipValidator(memberships(this.manager), orgs, namespaces));
    webhook.register('SuperApp', appCapabilityValidator(orgs, 'SuperApp'));
    webhook.register('MiniApp', appCapabilityValidator(orgs, 'MiniApp'));
  }

  private async mailer(): Promise<Mailer> {
    const cfg = this.config;
    const config = { host: cfg.smtpHost!, port: cfg.smtpPort, security: cfg.smtpSecurity, from: cfg.smtpFrom };
    return cfg.smtpCredentialsSecret ? Mailer.fromSecret(this.client, cfg.smtpCredentialsSecret, config) : new Mailer(config);
  }

  /** The operator keeps its Lease and its Secrets in its own namespace. */
  private async ensureOwnNamespace(): Promise<void> {
    const ns = this.config.namespace;
    if (await this.client.get(Resources.Namespace, ns)) return;
    await this.client.apply(Resources.Namespace, { metadata: { name: ns, labels: { 'app.kubernetes.io/managed-by': 'miniapps-operator' } } });
  }

  private async startWebhook(): Promise<void> {
    const cfg = this.config;
    const tls = await this.servingCertificate();
    this.webhook = new WebhookServer({ cert: tls.certPEM, key: tls.keyPEM }, cfg.webhookBindAddress!, this.log, () => this.manager.hasSynced());
    // Rules first, then the listener, then the registration: no request meets a webhook without its rules.
    this.registerValidators(this.webhook);
    const port = await this.webhook.start();
    if (cfg.webhookRegister) {
      // One name per namespace: this apply replaces what an earlier (even SIGKILLed) run left.
      this.webhookRegistration = {
        name: webhookRegistrationName(cfg.namespace),
        url: `https://${cfg.webhookHost.includes(':') ? `[${cfg.webhookHost}]` : cfg.webhookHost}:${port}${WEBHOOK_PATH}`,
        caBundlePEM: tls.caPEM,
      };
      await registerWebhook(this.client, this.webhookRegistration);
    }
  }

  /** From the configured kubernetes.io/tls Secret, or a CA and certificate generated for this process. */
  private async servingCertificate(): Promise<{ certPEM: string; keyPEM: string; caPEM: string }> {
    const ref = this.config.webhookCertSecret;
    if (ref) {
      const secret = await this.client.get<{ metadata: object; data?: Record<string, string> }>(Resources.Secret, ref.name, ref.namespace);
      const get = (k: string) => (secret?.data?.[k] ? Buffer.from(secret.data[k], 'base64').toString('utf8') : undefined);
      const certPEM = get('tls.crt');
      const keyPEM = get('tls.key');
      if (!certPEM || !keyPEM) throw new Error(`Secret ${ref.namespace}/${ref.name} must hold tls.crt and tls.key (--webhook-cert-secret)`);
      return { certPEM, keyPEM, caPEM: get('ca.crt') ?? certPEM };
    }
    const ca = createCA('miniapps-operator-webhook-ca');
    const host = this.config.webhookHost;
    const isIp = /^[\d.]+$|:/.test(host);
    const cert = issueCertificate({
      ca,
      commonName: 'miniapps-operator-webhook',
      dnsNames: ['localhost', ...(isIp ? [] : [host])],
      ipAddresses: ['127.0.0.1', ...(isIp ? [host] : [])],
      usages: 'server',
      validityDays: 365,
    });
    return { ...cert, caPEM: ca.certPEM };
  }

  /** Drains in-flight reconciles, releases the lease, closes the listeners. */
  async stop(): Promise<void> {
    await this.manager.stop();
    // A registration pointing at a stopped local process would only slow admission down; one
    // that another operator of the namespace has replaced since is its, and stays.
    if (this.webhookRegistration) {
      const deleted = await unregisterWebhook(this.client, this.webhookRegistration).catch((err: unknown) => this.log.warn({ err: errorMessage(err) }, 'Webhook registration not removed'));
      if (deleted === false) this.log.info({ name: this.webhookRegistration.name }, 'Webhook registration left in place: it no longer calls this process');
    }
    await Promise.all([this.health.stop(), this.webhook?.stop(), this.accept?.stop()]);
    await this.client.close();
  }
}
