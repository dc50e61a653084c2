import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { getHeapStatistics } from 'node:v8';
import type { Counter, CounterConfiguration, Gauge, GaugeConfiguration, Histogram, HistogramConfiguration, Registry } from 'prom-client';
import type { KubeClientHooks } from './kube/client.ts';
import { VERSION } from './version.ts';
import type { WorkQueueHooks } from './workqueue.ts';

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

/** How a slice makes its metrics: prom-client's classes, on the operator's registry. */
export interface MetricMakers {
  counter<L extends string>(cfg: Omit<CounterConfiguration<L>, 'registers'>): Counter<L>;
  gauge<L extends string>(cfg: Omit<GaugeConfiguration<L>, 'registers'>): Gauge<L>;
  histogram<L extends string>(cfg: Omit<HistogramConfiguration<L>, 'registers'>): Histogram<L>;
}

/**
 * The metrics of one slice (controllers/<kind>/metrics.ts), kind-neutral here: the module
 * declares the set (OperatorModule.metrics), the Operator registers it with its own, and
 * the slice reads its metrics with `metrics.of(set)`.
 */
export interface MetricSet<T> {
  readonly name: string;
  make(m: MetricMakers): T;
}

export const defineMetrics = <T>(name: string, make: (m: MetricMakers) => T): MetricSet<T> => ({ name, make });

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
  readonly webhookCertExpiration: Gauge<'source'>;
  readonly webhookCertRenewal: Gauge<'source'>;
  readonly callerReviews: Counter<'review' | 'result'>;
  /** controller-runtime's names (pkg/internal/controller/metrics), so its stock dashboards and alerts work here. */
  readonly crReconcileTotal: Counter<'controller' | 'result'>;
  readonly crReconcileErrors: Counter<'controller'>;
  readonly crTerminalErrors: Counter<'controller'>;
  readonly crReconcileTime: Histogram<'controller'>;
  readonly crMaxConcurrent: Gauge<'controller'>;
  readonly crActiveWorkers: Gauge<'controller'>;
  /** client-go's workqueue metrics as controller-runtime registers them (pkg/metrics/workqueue.go): name and controller are the controller's name. */
  readonly wqDepth: Gauge<'name' | 'controller'>;
  readonly wqAdds: Counter<'name' | 'controller'>;
  readonly wqQueueDuration: Histogram<'name' | 'controller'>;
  readonly wqWorkDuration: Histogram<'name' | 'controller'>;
  readonly wqRetries: Counter<'name' | 'controller'>;
  /** Each controller's queue, for the seconds its keys in flight have been held (read when scraped). */
  private readonly queues = new Map<string, { inFlightSeconds(): number[] }>();
  /** The slices' metric sets (MetricSet), made on this registry. */
  private readonly sets = new Map<MetricSet<unknown>, unknown>();

  constructor(
    opts: {
      processMetrics?: boolean;
      /** For tests: the version miniapps_build_info says (default package.json's). */ version?: string;
      /** The slices' own metrics (OperatorModule.metrics), registered after the operator's and before the process's. */
      sets?: readonly MetricSet<unknown>[];
    } = {},
  ) {
    const registers = [this.registry];
    this.reconcileTotal = new prom.Counter({
      name: 'miniapps_reconcile_total',
      help: 'Reconciles by controller and result (success, requeue, error, terminal).',
      labelNames: ['controller', 'result'],
      registers,
    });
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
    this.watchRestarts = new prom.Counter({
      name: 'miniapps_watch_restarts_total',
      help: 'Watches restarted, by resource and reason (gone, error, stalled).',
      labelNames: ['resource', 'reason'],
      registers,
    });
    this.watchEvents = new prom.Counter({ name: 'miniapps_watch_events_total', help: 'Watch events received, by resource and type.', labelNames: ['resource', 'type'], registers });
    this.isLeader = new prom.Gauge({ name: 'miniapps_leader', help: '1 while this process holds the leader Lease.', registers });
    this.kubeRequests = new prom.Counter({
      name: 'miniapps_kube_requests_total',
      help: 'Attempts sent to the API server, by verb (WATCH for watches) and HTTP status (0: no answer).',
      labelNames: ['verb', 'code'],
      registers,
    });
    this.kubeRetries = new prom.Counter({
      name: 'miniapps_kube_request_retries_total',
      help: 'Requests sent again after a 429, or a 5xx with Retry-After, by verb and the status that caused it.',
      labelNames: ['verb', 'code'],
      registers,
    });
    this.kubeRetryWait = new prom.Counter({
      name: 'miniapps_kube_request_retry_wait_seconds_total',
      help: 'Time waited before retries, as the API server asked with Retry-After (capped).',
      registers,
    });
    this.kubeRateLimiterWait = new prom.Histogram({
      name: 'miniapps_kube_rate_limiter_wait_seconds',
      help: 'Waits of requests for the client-side rate limit (--kube-api-qps, --kube-api-burst); requests that did not wait are not counted.',
      buckets: [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.catalogWrites = new prom.Counter({
      name: 'miniapps_catalog_writes_total',
      help: 'Catalog ConfigMaps written, by kind (live: a super app catalog rewritten; snapshot: a version frozen).',
      labelNames: ['kind'],
      registers,
    });
    // As cert-manager's certmanager_certificate_expiration_timestamp_seconds and
    // certmanager_certificate_renewal_timestamp_seconds: Unix times, alerts compare with time().
    // Labelled by where the certificate comes from (secret, directory, memory): a label-less
    // gauge would read 0 (long expired) in a process without a webhook.
    this.webhookCertExpiration = new prom.Gauge({
      name: 'miniapps_webhook_certificate_expiration_timestamp_seconds',
      help: 'When the serving certificate this process presents on the webhook listener expires (Unix time), by its source (secret, directory, memory).',
      labelNames: ['source'],
      registers,
    });
    this.webhookCertRenewal = new prom.Gauge({
      name: 'miniapps_webhook_certificate_renewal_timestamp_seconds',
      help: 'When the operator renews the webhook serving certificate it generated (--webhook-cert-rotate, or in memory): its expiry less --webhook-cert-renew-before (Unix time), by its source. Absent when cert-manager or you provide the certificate.',
      labelNames: ['source'],
      registers,
    });
    this.callerReviews = new prom.Counter({
      name: 'miniapps_caller_reviews_total',
      help: "Reviews the APIs' callers cost the API server, on the reviews' own client (--review-qps), by review (token: TokenReview, access: SubjectAccessReview) and result (allowed, refused, error; throttled: not sent, the budget spent, the caller answered 503).",
      labelNames: ['review', 'result'],
      registers,
    });
    // controller-runtime's reconcile metrics (its result label: success, error, requeue, requeue_after).
    this.crReconcileTotal = new prom.Counter({ name: 'controller_runtime_reconcile_total', help: 'Total number of reconciliations per controller', labelNames: ['controller', 'result'], registers });
    this.crReconcileErrors = new prom.Counter({
      name: 'controller_runtime_reconcile_errors_total',
      help: 'Total number of reconciliation errors per controller',
      labelNames: ['controller'],
      registers,
    });
    this.crTerminalErrors = new prom.Counter({
      name: 'controller_runtime_terminal_reconcile_errors_total',
      help: 'Total number of terminal reconciliation errors per controller',
      labelNames: ['controller'],
      registers,
    });
    this.crReconcileTime = new prom.Histogram({
      name: 'controller_runtime_reconcile_time_seconds',
      help: 'Length of time per reconciliation per controller',
      labelNames: ['controller'],
      buckets: [
        0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50,
        60,
      ],
      registers,
    });
    this.crMaxConcurrent = new prom.Gauge({
      name: 'controller_runtime_max_concurrent_reconciles',
      help: 'Maximum number of concurrent reconciles per controller',
      labelNames: ['controller'],
      registers,
    });
    this.crActiveWorkers = new prom.Gauge({ name: 'controller_runtime_active_workers', help: 'Number of currently used workers per controller', labelNames: ['controller'], registers });
    // client-go's workqueue metrics, with controller-runtime's labels and buckets (ExponentialBuckets(10e-9, 10, 12)).
    const queueBuckets = Array.from({ length: 12 }, (_, i) => Number((1e-8 * 10 ** i).toPrecision(1)));
    const wq = { labelNames: ['name', 'controller'] as const, registers };
    this.wqDepth = new prom.Gauge({ name: 'workqueue_depth', help: 'Current depth of workqueue', ...wq });
    this.wqAdds = new prom.Counter({ name: 'workqueue_adds_total', help: 'Total number of adds handled by workqueue', ...wq });
    this.wqQueueDuration = new prom.Histogram({
      name: 'workqueue_queue_duration_seconds',
      help: 'How long in seconds an item stays in workqueue before being requested',
      buckets: queueBuckets,
      ...wq,
    });
    this.wqWorkDuration = new prom.Histogram({ name: 'workqueue_work_duration_seconds', help: 'How long in seconds processing an item from workqueue takes.', buckets: queueBuckets, ...wq });
    const queues = this.queues;
    const inFlight = (name: string, help: string, of: (seconds: number[]) => number) =>
      new prom.Gauge({
        name,
        help,
        ...wq,
        collect() {
          for (const [controller, q] of queues) this.set({ name: controller, controller }, of(q.inFlightSeconds()));
        },
      });
    inFlight(
      'workqueue_unfinished_work_seconds',
      "How many seconds of work has been done that is in progress and hasn't been observed by work_duration. Large values indicate stuck threads. One can deduce the number of stuck threads by observing the rate at which this increases.",
      (s) => s.reduce((a, b) => a + b, 0),
    );
    inFlight('workqueue_longest_running_processor_seconds', 'How many seconds has the longest running processor for workqueue been running.', (s) => Math.max(0, ...s));
    this.wqRetries = new prom.Counter({ name: 'workqueue_retries_total', help: 'Total number of retries handled by workqueue', ...wq });
    // As prometheus_build_info and go_build_info: 1, the facts in labels (revision only when the build says it: MINIAPPS_REVISION).
    const buildInfo = new prom.Gauge({
      name: 'miniapps_build_info',
      help: 'Always 1: the version of the operator (revision: the source revision, when the build recorded it) and of the Node.js running it.',
      labelNames: ['version', 'revision', 'node_version'],
      registers,
    });
    const revision = process.env.MINIAPPS_REVISION;
    buildInfo.set({ version: opts.version ?? VERSION, node_version: process.versions.node, ...(revision ? { revision } : {}) }, 1);
    for (const set of opts.sets ?? []) this.of(set);
    if (opts.processMetrics !== false) processMetrics(this.registry);
  }

  /** The metrics of `set` on this registry, made the first time they are asked for. */
  of<T>(set: MetricSet<T>): T {
    if (!this.sets.has(set)) {
      const registers = [this.registry];
      const made = set.make({
        counter: (cfg) => new prom.Counter({ ...cfg, registers }),
        gauge: (cfg) => new prom.Gauge({ ...cfg, registers }),
        histogram: (cfg) => new prom.Histogram({ ...cfg, registers }),
      });
      this.sets.set(set, made);
    }
    return this.sets.get(set) as T;
  }

  /** WorkQueue hooks that feed controller `name`'s workqueue_* series; `queue` is read when scraped for its keys in flight. */
  workQueueHooks(name: string, queue: () => { inFlightSeconds(): number[]; depth: number }): WorkQueueHooks {
    const labels = { name, controller: name };
    this.queues.set(name, { inFlightSeconds: () => queue().inFlightSeconds() });
    this.wqDepth.set(labels, 0);
    return {
      onAdd: () => {
        this.wqAdds.inc(labels);
        this.wqDepth.set(labels, queue().depth);
      },
      onGet: (seconds) => {
        this.wqQueueDuration.observe(labels, seconds);
        this.wqDepth.set(labels, queue().depth);
      },
      onDone: (seconds) => this.wqWorkDuration.observe(labels, seconds),
      onRetry: () => this.wqRetries.inc(labels),
    };
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
 * (CPU, memory, heap, open files, the Node.js version), under prom-client's own names
 * (collectDefaultMetrics: process_*, nodejs_*), so stock Node.js dashboards find them.
 * Read when scraped: no timers, no GC or event-loop observers (perf_hooks), and not
 * prom-client's default-metrics modules themselves (their CPU counter loads
 * @opentelemetry/api; app.imports.test.ts pins that). metrics.test.ts checks each name,
 * type and help against collectDefaultMetrics. Two that prom-client does not have keep
 * the operator's prefix: the V8 heap limit and the memory limit Node sees.
 */
function processMetrics(registry: Registry): void {
  const registers = [registry];
  const gauge = (name: string, help: string, read: () => number | undefined) =>
    new prom.Gauge({
      name,
      help,
      registers,
      collect() {
        const v = read();
        if (v !== undefined) this.set(v);
      },
    });
  const startTime = Math.round(Date.now() / 1000 - process.uptime());
  // prom-client's three CPU counters, set together by the first one's collect.
  let cpuSeen = { user: 0, system: 0 };
  const cpuCounter = (name: string, help: string, collect?: () => void) => new prom.Counter({ name, help, registers, ...(collect ? { collect } : {}) });
  const cpuUser: Counter = cpuCounter('process_cpu_user_seconds_total', 'Total user CPU time spent in seconds.', () => {
    const now = process.cpuUsage();
    const user = (now.user - cpuSeen.user) / 1e6;
    const system = (now.system - cpuSeen.system) / 1e6;
    cpuSeen = now;
    cpuUser.inc(user);
    cpuSystem.inc(system);
    cpuTotal.inc(user + system);
  });
  const cpuSystem = cpuCounter('process_cpu_system_seconds_total', 'Total system CPU time spent in seconds.');
  const cpuTotal = cpuCounter('process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.');
  gauge('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.', () => startTime);
  gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', () => process.memoryUsage.rss());
  gauge('process_open_fds', 'Number of open file descriptors.', () => {
    try {
      return readdirSync('/proc/self/fd').length - 1;
    } catch {
      return undefined;
    }
  });
  let maxFds: number | undefined;
  gauge('process_max_fds', 'Maximum number of open file descriptors.', () => {
    try {
      maxFds ??= Number(/^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1]) || undefined;
    } catch {
      // not Linux
    }
    return maxFds;
  });
  gauge('nodejs_heap_size_total_bytes', 'Process heap size from Node.js in bytes.', () => process.memoryUsage().heapTotal);
  gauge('nodejs_heap_size_used_bytes', 'Process heap size used from Node.js in bytes.', () => process.memoryUsage().heapUsed);
  gauge('nodejs_external_memory_bytes', 'Node.js external memory size in bytes.', () => process.memoryUsage().external);
  const [major, minor, patch] = process.versions.node.split('.');
  new prom.Gauge({
    name: 'nodejs_version_info',
    help: 'Node.js version info.',
    labelNames: ['version', 'major', 'minor', 'patch'],
    registers,
    collect() {
      this.set({ version: process.version, major: major!, minor: minor!, patch: patch! }, 1);
    },
  });
  gauge('miniapps_nodejs_heap_size_limit_bytes', 'The V8 heap limit in bytes (from the memory limit of the container, see docs/operate.md).', () => getHeapStatistics().heap_size_limit);
  gauge('miniapps_nodejs_constrained_memory_bytes', 'The memory limit Node sees (cgroup or rlimit), 0 when there is none.', () => process.constrainedMemory());
}
