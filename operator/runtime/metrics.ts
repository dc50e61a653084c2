import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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
    this.catalogWrites = new Counter({ name: 'miniapps_catalog_writes_total', help: 'Catalog ConfigMaps written, by kind (live: a super app catalog rewritten; snapshot: a version frozen).', labelNames: ['kind'], registers });
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'miniapps_' });
  }
}
