import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { KubeClientHooks } from './kube/client.ts';

/** The operator's Prometheus metrics, on a registry of its own (no global state). */
export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconcileTotal: Counter<'controller' | 'result'>;
  readonly reconcileErrors: Counter<'controller'>;
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

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.reconcileTotal = new Counter({ name: 'miniapps_reconcile_total', help: 'Reconciles by controller and result (success, requeue, error, terminal).', labelNames: ['controller', 'result'], registers });
    this.reconcileErrors = new Counter({ name: 'miniapps_reconcile_errors_total', help: 'Reconciles that ended in an error, by controller.', labelNames: ['controller'], registers });
    this.reconcileDuration = new Histogram({
      name: 'miniapps_reconcile_duration_seconds',
      help: 'Time spent in one reconcile, by controller.',
      labelNames: ['controller'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.queueDepth = new Gauge({ name: 'miniapps_workqueue_depth', help: 'Keys waiting in the work queue, by controller.', labelNames: ['controller'], registers });
    this.inFlight = new Gauge({ name: 'miniapps_workqueue_in_flight', help: 'Keys being reconciled, by controller.', labelNames: ['controller'], registers });
    this.watchRestarts = new Counter({ name: 'miniapps_watch_restarts_total', help: 'Watches restarted, by resource and reason (gone, error, stalled).', labelNames: ['resource', 'reason'], registers });
    this.watchEvents = new Counter({ name: 'miniapps_watch_events_total', help: 'Watch events received, by resource and type.', labelNames: ['resource', 'type'], registers });
    this.isLeader = new Gauge({ name: 'miniapps_leader', help: '1 while this process holds the leader Lease.', registers });
    this.kubeRequests = new Counter({ name: 'miniapps_kube_requests_total', help: 'Attempts sent to the API server, by verb (WATCH for watches) and HTTP status (0: no answer).', labelNames: ['verb', 'code'], registers });
    this.kubeRetries = new Counter({ name: 'miniapps_kube_request_retries_total', help: 'Requests sent again after a 429, or a 5xx with Retry-After, by verb and the status that caused it.', labelNames: ['verb', 'code'], registers });
    this.kubeRetryWait = new Counter({ name: 'miniapps_kube_request_retry_wait_seconds_total', help: 'Time waited before retries, as the API server asked with Retry-After (capped).', registers });
    this.kubeRateLimiterWait = new Histogram({
      name: 'miniapps_kube_rate_limiter_wait_seconds',
      help: 'Waits of requests for the client-side rate limit (--kube-api-qps, --kube-api-burst); requests that did not wait are not counted.',
      buckets: [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.catalogWrites = new Counter({ name: 'miniapps_catalog_writes_total', help: 'Catalog ConfigMaps written, by kind (live: a super app catalog rewritten; snapshot: a version frozen).', labelNames: ['kind'], registers });
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'miniapps_' });
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
