import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { getHeapStatistics } from 'node:v8';
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { KubeClientHooks } from './kube/client.ts';

// prom-client's index also loads its Pushgateway (http, https, zlib), its cluster
// aggregation (cluster, child_process, dgram) and its default metrics (perf_hooks timers,
// @opentelemetry/api): about 9 MB of RSS the operator does not use. The four classes it
// uses come from their own modules; app.imports.test.ts pins this.
const require = createRequire(import.meta.url);
const prom = {
  Registry: require('prom-client/lib/registry') as typeof Registry,
  Counter: require('prom-client/lib/counter') as typeof Counter,
  Gauge: require('prom-client/lib/gauge') as typeof Gauge,
  Histogram: require('prom-client/lib/histogram') as typeof Histogram,
};

/** The operator's Prometheus metrics, on a registry of its own (no global state). */
export class OperatorMetrics {
  readonly registry: Registry = new prom.Registry();
  readonly reconcileTotal: Counter<'controller' | 'result'>;
  readonly reconcileErrors: Counter<'controller'>;
  readonly reconcileTriggers: Counter<'controller' | 'trigger'>;
  readonly reconcileDuration: Histogram<'controller'>;
  readonly queueDepth: Gauge<'controller'>;
  readonly inFlight: Gauge<'controller'>;
  readonly watchRestarts: Counter<'resource' | 'reason'>;
  readonly watchEvents: Counter<'resource' | 'type'>;
  readonly isLeader: Gauge;
  readonly kubeRequests: Counter<'verb' | 'code'>;
  readonly kubeRetries: Counter<'verb' | 'code'>;
  readonly kubeRetryWait: Counter;
  readonly kubeRateLimiterWait: Histogram;
  readonly catalogWrites: Counter<'kind'>;
  readonly invitationEmails: Counter<'result' | 'reason'>;
  readonly webhookCertExpiration: Gauge<'source'>;
  readonly webhookCertRenewal: Gauge<'source'>;
  readonly apiKeyExpiration: Gauge<'apikey_namespace' | 'apikey_name'>;
  readonly apiKeyRenewal: Gauge<'apikey_namespace' | 'apikey_name'>;
  readonly callerReviews: Counter<'review' | 'result'>;
  /**
   * The API keys' expiry and rotation times, read from the ApiKey cache when scraped (the
   * apikey module sets it): one series per active ApiKey that expires or rotates, none for
   * the others, never a key or its id in a label.
   */
  apiKeyTimes?: () => Iterable<{ namespace: string; name: string; expiresAt?: number; rotatesAt?: number }>;

  constructor(opts: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.reconcileTotal = new prom.Counter({ name: 'miniapps_reconcile_total', help: 'Reconciles by controller and result (success, requeue, error, terminal).', labelNames: ['controller', 'result'], registers });
    this.reconcileErrors = new prom.Counter({ name: 'miniapps_reconcile_errors_total', help: 'Reconciles that ended in an error, by controller.', labelNames: ['controller'], registers });
    this.reconcileTriggers = new prom.Counter({
      name: 'miniapps_reconcile_triggers_total',
      help: 'Reconciles by controller and by what queued the key: "<resource>:<add|update|delete|resync>" of a watched object, requeueAfter, retry (after an error).',
      labelNames: ['controller', 'trigger'],
      registers,
    });
    this.reconcileDuration = new prom.Histogram({
      name: 'miniapps_reconcile_duration_seconds',
      help: 'Time spent in one reconcile, by controller.',
      labelNames: ['controller'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.queueDepth = new prom.Gauge({ name: 'miniapps_workqueue_depth', help: 'Keys waiting in the work queue, by controller.', labelNames: ['controller'], registers });
    this.inFlight = new prom.Gauge({ name: 'miniapps_workqueue_in_flight', help: 'Keys being reconciled, by controller.', labelNames: ['controller'], registers });
    this.watchRestarts = new prom.Counter({ name: 'miniapps_watch_restarts_total', help: 'Watches restarted, by resource and reason (gone, error, stalled).', labelNames: ['resource', 'reason'], registers });
    this.watchEvents = new prom.Counter({ name: 'miniapps_watch_events_total', help: 'Watch events received, by resource and type.', labelNames: ['resource', 'type'], registers });
    this.isLeader = new prom.Gauge({ name: 'miniapps_leader', help: '1 while this process holds the leader Lease.', registers });
    this.kubeRequests = new prom.Counter({ name: 'miniapps_kube_requests_total', help: 'Attempts sent to the API server, by verb (WATCH for watches) and HTTP status (0: no answer).', labelNames: ['verb', 'code'], registers });
    this.kubeRetries = new prom.Counter({ name: 'miniapps_kube_request_retries_total', help: 'Requests sent again after a 429, or a 5xx with Retry-After, by verb and the status that caused it.', labelNames: ['verb', 'code'], registers });
    this.kubeRetryWait = new prom.Counter({ name: 'miniapps_kube_request_retry_wait_seconds_total', help: 'Time waited before retries, as the API server asked with Retry-After (capped).', registers });
    this.kubeRateLimiterWait = new prom.Histogram({
      name: 'miniapps_kube_rate_limiter_wait_seconds',
      help: 'Waits of requests for the client-side rate limit (--kube-api-qps, --kube-api-burst); requests that did not wait are not counted.',
      buckets: [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.catalogWrites = new prom.Counter({ name: 'miniapps_catalog_writes_total', help: 'Catalog ConfigMaps written, by kind (live: a super app catalog rewritten; snapshot: a version frozen).', labelNames: ['kind'], registers });
    this.invitationEmails = new prom.Counter({
      name: 'miniapps_invitation_emails_total',
      help: 'Invitation and access notification emails the operator tried to send, by result (sent, failed) and reason (the Membership condition reason of a failure; empty when sent).',
      labelNames: ['result', 'reason'],
      registers,
    });
    // As cert-manager's certmanager_certificate_expiration_timestamp_seconds and
    // certmanager_certificate_renewal_timestamp_seconds: Unix times, alerts compare with time().
    // Labelled by where the certificate comes from (secret, directory, memory): a label-less
    // gauge would read 0 (long expired) in a process without a webhook.
    this.webhookCertExpiration = new prom.Gauge({ name: 'miniapps_webhook_certificate_expiration_timestamp_seconds', help: 'When the serving certificate this process presents on the webhook listener expires (Unix time), by its source (secret, directory, memory).', labelNames: ['source'], registers });
    this.webhookCertRenewal = new prom.Gauge({
      name: 'miniapps_webhook_certificate_renewal_timestamp_seconds',
      help: 'When the operator renews the webhook serving certificate it generated (--webhook-cert-rotate, or in memory): its expiry less --webhook-cert-renew-before (Unix time), by its source. Absent when cert-manager or you provide the certificate.',
      labelNames: ['source'],
      registers,
    });
    // One series per key with that time, set from the cache at each scrape.
    const keyGauge = (name: string, help: string, time: 'expiresAt' | 'rotatesAt') => {
      const read = () => this.apiKeyTimes?.() ?? [];
      return new prom.Gauge({
        name,
        help,
        labelNames: ['apikey_namespace', 'apikey_name'] as const,
        registers,
        collect() {
          this.reset();
          for (const k of read()) if (k[time] !== undefined) this.set({ apikey_namespace: k.namespace, apikey_name: k.name }, k[time] / 1000);
        },
      });
    };
    this.apiKeyExpiration = keyGauge(
      'miniapps_apikey_expiration_timestamp_seconds',
      "When an active API key expires (spec.expiresAt or spec.ttl; rotation does not extend it), by the ApiKey's namespace and name (apikey_namespace, apikey_name: the target's own namespace label stays the operator's) (Unix time). Keys that never expire have no series.",
      'expiresAt',
    );
    this.apiKeyRenewal = keyGauge(
      'miniapps_apikey_renewal_timestamp_seconds',
      "When the current key of an active API key with spec.rotation is due to be replaced, by the ApiKey's namespace and name (Unix time); past due means its rotation fails.",
      'rotatesAt',
    );
    this.callerReviews = new prom.Counter({
      name: 'miniapps_caller_reviews_total',
      help: "Reviews the APIs' callers cost the API server, on the reviews' own client (--review-qps), by review (token: TokenReview, access: SubjectAccessReview) and result (allowed, refused, error; throttled: not sent, the budget spent, the caller answered 503).",
      labelNames: ['review', 'result'],
      registers,
    });
    if (opts.processMetrics !== false) processMetrics(this.registry);
  }

  /** KubeClient hooks that count requests, retries and rate-limit waits here. */
  kubeClientHooks(): KubeClientHooks {
    return {
      onResponse: (verb, status) => this.kubeRequests.inc({ verb, code: String(status) }),
      onRetry: (verb, status, waitMs) => {
        this.kubeRetries.inc({ verb, code: String(status) });
        this.kubeRetryWait.inc(waitMs / 1000);
      },
      onThrottle: (waitMs) => this.kubeRateLimiterWait.observe(waitMs / 1000),
    };
  }
}

/**
 * What prom-client's default metrics say about the process that matters for an operator
 * (CPU, memory, heap against its limit, open files), read when scraped: no timers, no GC
 * observers. The names are prom-client's, with the miniapps_ prefix.
 */
function processMetrics(registry: Registry): void {
  const registers = [registry];
  const gauge = (name: string, help: string, read: () => number) =>
    new prom.Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read());
      },
    });
  const startTime = Math.round(Date.now() / 1000 - process.uptime());
  let cpuSeen = 0;
  new prom.Counter({
    name: 'miniapps_process_cpu_seconds_total',
    help: 'Total user and system CPU time spent in seconds.',
    registers,
    collect() {
      const { user, system } = process.cpuUsage();
      const now = (user + system) / 1e6;
      this.inc(now - cpuSeen);
      cpuSeen = now;
    },
  });
  gauge('miniapps_process_resident_memory_bytes', 'Resident memory size in bytes.', () => process.memoryUsage.rss());
  gauge('miniapps_process_start_time_seconds', 'Start time of the process since unix epoch in seconds.', () => startTime);
  gauge('miniapps_process_open_fds', 'Number of open file descriptors.', () => {
    try {
      return readdirSync('/proc/self/fd').length - 1;
    } catch {
      return NaN;
    }
  });
  gauge('miniapps_nodejs_heap_size_used_bytes', 'V8 heap used in bytes.', () => process.memoryUsage().heapUsed);
  gauge('miniapps_nodejs_heap_size_total_bytes', 'V8 heap committed in bytes.', () => process.memoryUsage().heapTotal);
  gauge('miniapps_nodejs_heap_size_limit_bytes', 'The V8 heap limit in bytes (from the memory limit of the container, see docs/operate.md).', () => getHeapStatistics().heap_size_limit);
  gauge('miniapps_nodejs_constrained_memory_bytes', 'The memory limit Node sees (cgroup or rlimit), 0 when there is none.', () => process.constrainedMemory());
}
