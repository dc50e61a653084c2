// A controller is a module: each kind's folder exports one OperatorModule with its
// caches, its controllers, its admission rules, its HTTP routes and its metrics;
// operator/controllers/index.ts loads them from the registry (api/registry.ts), and the
// Operator (app.ts) registers whatever they declare.
import type { KindName } from '../api/registry.ts';
import type { AnyCacheDecl, CacheSource } from '../runtime/cache.ts';
import type { Config, SettingTable } from '../runtime/config.ts';
import type { ControllerSpec } from '../runtime/controller.ts';
import type { KubeClient } from '../runtime/kube/client.ts';
import type { MetricSet, OperatorMetrics } from '../runtime/metrics.ts';
import type { KubeAuthority } from '../servers/authority.ts';
import type { RouteHandler, Validator } from '../servers/webhook.ts';
import type { ControllerDeps } from './deps.ts';
import type { TenantApps } from '../identity/tenant-apps.ts';

/** What a module is set up with. */
export interface ModuleContext {
  deps: ControllerDeps;
  config: Config;
  /** For what a module loads once at start (a signing key, SMTP credentials); reconcilers use deps.store. */
  client: KubeClient;
  /** The operator's metrics, for a module's own counters (catalog writes) and its metric sets (`metrics.of`). */
  metrics: OperatorMetrics;
  /** Whose token, and may they: the one authority of every API's callers (its own client and budget). */
  authority: KubeAuthority;
}

/** A listener of the module's own (the invitation acceptance page): started after the caches, stopped at shutdown. */
/** A listener a module serves (defined with the listener plumbing, in servers/listen.ts). */
export type { ModuleListener } from '../servers/listen.ts';
import type { ModuleListener } from '../servers/listen.ts';

/** What a module contributes. */
export interface ModuleParts {
  controllers?: ControllerSpec[];
  /** Admission rules that need the caches, by kind (the validating webhook serves them). */
  admission?: { kind: string; validate: Validator }[];
  /** Routes on the APIs' TLS listener (--api-bind-address), whose callers authenticate by bearer token. */
  routes?: { path: string; handler: RouteHandler }[];
  /** Routes on the API server's TLS listener (--webhook-bind-address, beside /validate): the authentication webhook. */
  apiServerRoutes?: { path: string; handler: RouteHandler }[];
  listeners?: { name: string; listener: ModuleListener }[];
  /** Frontend apps as clients of the embedded identity provider, and their users' roles (the User module's). */
  tenantApps?: TenantApps;
}

export interface OperatorModule {
  name: string;
  /** The caches it reads, from the table in operator/domain/caches.ts. */
  caches: AnyCacheDecl[];
  /**
   * The kinds whose admission rules it serves (ModuleParts.admission): the webhook's
   * registration, the operator's and the chart's (npm run generate), asks the API server
   * to call it for these kinds only. The Operator refuses to start when setup returns a
   * rule for a kind not declared here.
   */
  admits?: readonly KindName[];
  /** Its own metrics (controllers/<kind>/metrics.ts): registered with the operator's at start, read in setup with `ctx.metrics.of(set)`. */
  metrics?: readonly MetricSet<unknown>[];
  /**
   * Its own flags (controllers/<kind>/settings.ts, defineSettings): the process reads them
   * with the operator's (loadConfig's `modules`, from MODULE_SETTINGS), --help and
   * docs/reference/flags.md list them, and setup reads their values with
   * `settingsOf(ctx.config, table)`.
   */
  settings?: SettingTable;
  /**
   * What it answers the embedded identity provider when the provider runs alone
   * (--identity-only): the caches it reads for that (and no others: the provider's
   * ServiceAccount may read only these), and the answers built on them.
   */
  identity?: {
    caches: AnyCacheDecl[];
    tenantApps(caches: CacheSource): TenantApps;
  };
  setup(ctx: ModuleContext): ModuleParts | Promise<ModuleParts>;
}
