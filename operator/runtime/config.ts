import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { delimiter } from 'node:path';
import { parseArgs } from 'node:util';
import { parseCidr } from './netaddr.ts';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** What each kind of setting parses to. */
interface KindValues {
  string: string;
  boolean: boolean;
  /** In milliseconds (the setting's key gets `Ms`: `resyncPeriod` is `resyncPeriodMs`). */
  duration: number;
  int: number;
  number: number;
  address: { host: string; port: number };
  level: LogLevel;
  url: string;
  dns1123: string;
  namespacedName: { namespace: string; name: string };
  tlsMode: 'none' | 'starttls' | 'tls';
  cidrs: string[];
  forwardedHeader: 'x-forwarded-for' | 'forwarded';
  names: string[];
}
type Kind = keyof KindValues;

/**
 * One setting: its flag, its environment variable, its kind (how it is parsed and
 * validated), its help and its default. The operator's own are SETTINGS below; a module
 * declares its own with defineSettings (controllers/<kind>/settings.ts) and lists them in
 * OperatorModule.settings, from which the process gathers them (loadConfig's `modules`).
 */
export interface Setting {
  flag: string;
  env: string;
  kind: Kind;
  help: string;
  default?: (env: NodeJS.ProcessEnv) => string | undefined;
  min?: number;
  /** An address that "0" turns off (the value is then undefined). */
  off?: boolean;
  /** The environment variable is a list (path.delimiter between entries) kept apart from the flag's one value, under this Config key. */
  envList?: string;
}

const IN_CLUSTER_NS = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';
const ownNamespace = (env: NodeJS.ProcessEnv) => env.POD_NAMESPACE || (existsSync(IN_CLUSTER_NS) ? readFileSync(IN_CLUSTER_NS, 'utf8').trim() : undefined);
const inCluster = (env: NodeJS.ProcessEnv) => !!env.KUBERNETES_SERVICE_HOST;

/** Settings by name (the name, with `Ms` after a duration's, is their key in the configuration). */
export type SettingTable = Readonly<Record<string, Setting>>;

/** Declares a table of settings (typed: settingsOf gives their values with their types). */
export const defineSettings = <const T extends SettingTable>(table: T): T => table;

type ConfigKey<N extends string> = N extends `${string}${'Duration' | 'Deadline' | 'Period' | 'Timeout' | 'Interval' | 'RenewBefore'}` ? `${N}Ms` : N;
/** Whether a setting always has a value: it has a default that no "0" turns off and that is not an empty list. */
type Always<S> = S extends { default: unknown } ? (S extends { off: true } ? false : S extends { kind: 'names' } ? false : true) : false;
/** The values of a table of settings, by their keys in the configuration. */
export type SettingValues<T extends SettingTable> = { readonly [N in keyof T & string as Always<T[N]> extends true ? ConfigKey<N> : never]: KindValues[T[N]['kind']] } & {
  readonly [N in keyof T & string as Always<T[N]> extends true ? never : ConfigKey<N>]?: KindValues[T[N]['kind']];
};

/** Every setting, with its flag, its environment variable and its default. */
export const SETTINGS = {
  kubeconfig: {
    flag: 'kubeconfig',
    env: 'KUBECONFIG',
    kind: 'string',
    envList: 'kubeconfigPaths',
    help: `Path to a kubeconfig, used alone. KUBECONFIG may list several, separated by "${delimiter}", merged as kubectl merges them (missing files skipped). Default: KUBECONFIG, then in-cluster, then ~/.kube/config.`,
  },
  namespace: { flag: 'namespace', env: 'MINIAPPS_NAMESPACE', kind: 'dns1123', help: "The operator's own namespace (its Lease and Secrets).", default: (e) => ownNamespace(e) ?? 'miniapps-system' },
  httpBindAddress: { flag: 'http-bind-address', env: 'MINIAPPS_HTTP_BIND_ADDRESS', kind: 'address', help: 'Listener for /metrics, /healthz and /readyz.', default: () => ':8080' },
  webhookBindAddress: {
    flag: 'webhook-bind-address',
    env: 'MINIAPPS_WEBHOOK_BIND_ADDRESS',
    kind: 'address',
    off: true,
    help: 'TLS listener for the API server\'s calls: the validating webhook (/validate) and the API keys\' authentication webhook (/authenticate). "0" turns both off: the rules that need the operator\'s caches go unchecked (out of cluster no webhook is registered) and API keys do not authenticate to the API server; the APIs on --api-bind-address (verify, data protection, token roles) are not affected ("0" there turns them off).',
    default: () => ':9443',
  },
  webhookClientCaFile: {
    flag: 'webhook-client-ca-file',
    env: 'MINIAPPS_WEBHOOK_CLIENT_CA_FILE',
    kind: 'string',
    help: 'PEM file of the CA(s) that signed the client certificate the API server presents to the webhooks (the `users` entry of its webhook kubeconfigs): with it, --webhook-bind-address answers only such a caller (a bare 401 to anyone else). Without it, /validate answers whoever reaches the port and /authenticate is not served (docs/design/threat-model.md).',
  },
  webhookClientAllowedNames: {
    flag: 'webhook-client-allowed-names',
    env: 'MINIAPPS_WEBHOOK_CLIENT_ALLOWED_NAMES',
    kind: 'names',
    help: "Comma-separated common names (CN) of the client certificates of --webhook-client-ca-file that the webhook listener answers, as kube-apiserver's --requestheader-allowed-names: with a CA that signs other clients too, only the API server's name. Empty: any certificate of that CA.",
  },
  apiBindAddress: {
    flag: 'api-bind-address',
    env: 'MINIAPPS_API_BIND_ADDRESS',
    kind: 'address',
    off: true,
    help: 'TLS listener (same certificate as the webhooks) for the APIs that authenticate their callers by bearer token: /verify, the data-protection and token-roles APIs, and /metrics with --metrics-secure; "0" disables it.',
    default: () => ':8443',
  },
  metricsSecure: {
    flag: 'metrics-secure',
    env: 'MINIAPPS_METRICS_SECURE',
    kind: 'boolean',
    help: 'Serve /metrics on --api-bind-address to callers whose bearer token the API server authenticates (TokenReview) and authorizes for get on the non-resource URL /metrics (SubjectAccessReview), as controller-runtime does; false serves it on --http-bind-address to anyone who reaches it.',
    default: () => 'true',
  },
  reviewQps: {
    flag: 'review-qps',
    env: 'MINIAPPS_REVIEW_QPS',
    kind: 'number',
    help: "TokenReviews and SubjectAccessReviews a second (on average) that the APIs' callers may cost, on a client of their own: a flood of unknown tokens never takes the reconcilers' budget or connections. Beyond it a request is answered 503 with Retry-After at once (no queue); a quarter of --review-burst is kept for renewing the answers of callers already known.",
    default: () => '300',
    min: 1,
  },
  reviewBurst: { flag: 'review-burst', env: 'MINIAPPS_REVIEW_BURST', kind: 'int', help: 'Reviews at once after a quiet spell (the token bucket of --review-qps).', default: () => '600', min: 1 },
  webhookCertDir: {
    flag: 'webhook-cert-dir',
    env: 'MINIAPPS_WEBHOOK_CERT_DIR',
    kind: 'string',
    help: 'Directory with tls.crt and tls.key (and ca.crt) of the serving certificate, e.g. the one a local control plane started its authentication webhook with, or a mounted Secret; read again every --webhook-cert-check-interval. Default: --webhook-cert-secret, else generate one.',
  },
  webhookCertSecret: {
    flag: 'webhook-cert-secret',
    env: 'MINIAPPS_WEBHOOK_CERT_SECRET',
    kind: 'namespacedName',
    help: 'namespace/name of a Secret with tls.crt and tls.key (and ca.crt) of the serving certificate, e.g. the one cert-manager renews; read again every --webhook-cert-check-interval. With --webhook-cert-rotate the operator fills and rotates it. Default: generate one in memory.',
  },
  webhookCertRotate: {
    flag: 'webhook-cert-rotate',
    env: 'MINIAPPS_WEBHOOK_CERT_ROTATE',
    kind: 'boolean',
    help: 'Generated mode for --webhook-cert-secret: the operator keeps a CA (ca.crt, ca.key) and a serving certificate (tls.crt, tls.key) in that Secret, renews the certificate --webhook-cert-renew-before ahead of its expiry and the CA a third of its lifetime ahead, with both CAs trusted across the change, and writes the CA bundle into --webhook-configuration (or its own registration). Only the leader rotates. The Helm chart sets it unless cert-manager or your own CA provides the certificate. Without --webhook-cert-secret and --webhook-cert-dir the certificate is generated in memory and rotated the same way.',
    default: () => 'false',
  },
  webhookConfiguration: {
    flag: 'webhook-configuration',
    env: 'MINIAPPS_WEBHOOK_CONFIGURATION',
    kind: 'string',
    help: "The ValidatingWebhookConfiguration whose caBundle --webhook-cert-rotate keeps current (the chart's); default: the registration the operator makes itself (--webhook-register).",
  },
  webhookCertDuration: {
    flag: 'webhook-cert-duration',
    env: 'MINIAPPS_WEBHOOK_CERT_DURATION',
    kind: 'duration',
    help: "Lifetime of a generated serving certificate (as cert-manager's duration).",
    default: () => '2160h',
    min: 1000,
  },
  webhookCertRenewBefore: {
    flag: 'webhook-cert-renew-before',
    env: 'MINIAPPS_WEBHOOK_CERT_RENEW_BEFORE',
    kind: 'duration',
    help: "How long before its expiry a generated serving certificate is replaced (as cert-manager's renewBefore); below --webhook-cert-duration.",
    default: () => '720h',
    min: 1000,
  },
  webhookCaDuration: {
    flag: 'webhook-ca-duration',
    env: 'MINIAPPS_WEBHOOK_CA_DURATION',
    kind: 'duration',
    help: 'Lifetime of the generated CA; it is replaced a third of it ahead of its expiry, which must leave room for a whole serving certificate (at least 3 × --webhook-cert-duration).',
    default: () => '87600h',
    min: 3000,
  },
  webhookCertCheckInterval: {
    flag: 'webhook-cert-check-interval',
    env: 'MINIAPPS_WEBHOOK_CERT_CHECK_INTERVAL',
    kind: 'duration',
    help: 'How often the serving certificate is read again (a renewed one is served from then on, without a restart) and, generated, checked for rotation.',
    default: () => '1m',
    min: 100,
  },
  webhookRegister: {
    flag: 'webhook-register',
    env: 'MINIAPPS_WEBHOOK_REGISTER',
    kind: 'boolean',
    help: 'Register the ValidatingWebhookConfiguration (with the CA bundle) itself; default: true out of cluster, false in cluster (the Helm chart installs it).',
    default: (e) => String(!inCluster(e)),
  },
  webhookFailClosed: {
    flag: 'webhook-fail-closed',
    env: 'MINIAPPS_WEBHOOK_FAIL_CLOSED',
    kind: 'boolean',
    help: "With --webhook-register: also register the webhook that fails closed (last-administrator.miniapps.dev, failurePolicy Fail), so that no request that could remove an organization's last active administrator gets in while the operator is down; it stays after a crash and goes with a clean stop (out of cluster the registration calls this process). The chart's is webhook.failClosed.enabled (docs/closed-rules.md).",
    default: () => 'false',
  },
  webhookHost: { flag: 'webhook-host', env: 'MINIAPPS_WEBHOOK_HOST', kind: 'string', help: 'Host the API server calls the webhook on, when the operator registers it.', default: () => '127.0.0.1' },
  installAdmissionPolicies: {
    flag: 'install-admission-policies',
    env: 'MINIAPPS_INSTALL_ADMISSION_POLICIES',
    kind: 'boolean',
    help: 'Install the ValidatingAdmissionPolicies (who may change what, enforced by the API server even while the operator is down) itself; default: true out of cluster, false in cluster (the Helm chart installs them).',
    default: (e) => String(!inCluster(e)),
  },
  serviceAccount: {
    flag: 'service-account',
    env: 'MINIAPPS_SERVICE_ACCOUNT',
    kind: 'namespacedName',
    help: "namespace/name of the operator's own ServiceAccount: bound in each organization namespace to --namespace-access-role, so that the operator reads and writes Secrets and ConfigMaps only there. Set by the Helm chart; out of cluster the kubeconfig's identity is used as it is.",
  },
  namespaceAccessRole: {
    flag: 'namespace-access-role',
    env: 'MINIAPPS_NAMESPACE_ACCESS_ROLE',
    kind: 'string',
    help: 'The ClusterRole bound to --service-account in each organization namespace (the Helm chart defines it).',
  },
  leaderElect: { flag: 'leader-elect', env: 'MINIAPPS_LEADER_ELECT', kind: 'boolean', help: 'Elect a leader through a Lease, so that only one replica reconciles.', default: () => 'true' },
  leaderElectionId: { flag: 'leader-election-id', env: 'MINIAPPS_LEADER_ELECTION_ID', kind: 'dns1123', help: 'Name of the Lease.', default: () => 'miniapps-operator' },
  leaseDuration: { flag: 'lease-duration', env: 'MINIAPPS_LEASE_DURATION', kind: 'duration', help: 'How long a standby waits before taking over a silent leader.', default: () => '15s', min: 1000 },
  renewDeadline: { flag: 'renew-deadline', env: 'MINIAPPS_RENEW_DEADLINE', kind: 'duration', help: 'How long the leader keeps trying to renew before it gives up.', default: () => '10s', min: 500 },
  retryPeriod: { flag: 'retry-period', env: 'MINIAPPS_RETRY_PERIOD', kind: 'duration', help: 'How often leader election retries and renews.', default: () => '2s', min: 100 },
  kubeApiQps: {
    flag: 'kube-api-qps',
    env: 'MINIAPPS_KUBE_API_QPS',
    kind: 'number',
    help: 'Requests a second to the API server on average (client-side token bucket, as client-go QPS); watches are not counted; 0: no limit. Retries after 429 count too.',
    default: () => '500',
  },
  kubeApiBurst: {
    flag: 'kube-api-burst',
    env: 'MINIAPPS_KUBE_API_BURST',
    kind: 'int',
    help: "Requests to the API server at once after a quiet spell (the token bucket's size, as client-go Burst).",
    default: () => '1000',
    min: 1,
  },
  concurrency: { flag: 'concurrency', env: 'MINIAPPS_CONCURRENCY', kind: 'int', help: 'Reconciles in flight at once, per controller.', default: () => '16', min: 1 },
  resyncPeriod: { flag: 'resync-period', env: 'MINIAPPS_RESYNC_PERIOD', kind: 'duration', help: 'How often every object is reconciled again even if nothing changed.', default: () => '1h', min: 1000 },
  cacheSyncTimeout: {
    flag: 'cache-sync-timeout',
    env: 'MINIAPPS_CACHE_SYNC_TIMEOUT',
    kind: 'duration',
    help: 'How long start waits for every cache to list; then the operator stops, naming each cache that did not and the likely cause (a missing CRD or permission).',
    default: () => '2m',
    min: 1000,
  },
  watchIdleTimeout: {
    flag: 'watch-idle-timeout',
    env: 'MINIAPPS_WATCH_IDLE_TIMEOUT',
    kind: 'duration',
    help: 'A watch silent this long (no event, no bookmark) is restarted.',
    default: () => '5m',
    min: 1000,
  },
  logLevel: { flag: 'log-level', env: 'MINIAPPS_LOG_LEVEL', kind: 'level', help: 'trace, debug, info, warn, error or fatal.', default: () => 'info' },
  trustedProxies: {
    flag: 'trusted-proxies',
    env: 'MINIAPPS_TRUSTED_PROXIES',
    kind: 'cidrs',
    help: "Comma-separated addresses or CIDRs of the proxies in front of the acceptance page and the identity provider's listener (your Ingress controller's pods): only from them is --forwarded-header believed, and the client is the right-most address in them that is not one of these proxies. Empty: the connection's own address (every client behind a proxy shares its rate limit).",
  },
  forwardedHeader: {
    flag: 'forwarded-header',
    env: 'MINIAPPS_FORWARDED_HEADER',
    kind: 'forwardedHeader',
    help: "The header --trusted-proxies write the client's address in: X-Forwarded-For (ingress-nginx and most Ingress controllers) or Forwarded (RFC 7239). The other one is never read: a proxy passes a client's own copy of it through.",
    default: () => 'X-Forwarded-For',
  },
  smtpHost: { flag: 'smtp-host', env: 'MINIAPPS_SMTP_HOST', kind: 'string', help: 'SMTP server for invitation emails; without it invitations are not sent (InvitationSent=False, SMTPNotConfigured).' },
  smtpPort: { flag: 'smtp-port', env: 'MINIAPPS_SMTP_PORT', kind: 'int', help: 'SMTP port.', default: () => '587', min: 1 },
  smtpSecurity: {
    flag: 'smtp-security',
    env: 'MINIAPPS_SMTP_SECURITY',
    kind: 'tlsMode',
    help: 'none, starttls (upgrade a plain connection; required when offered) or tls (implicit TLS, usually port 465).',
    default: () => 'starttls',
  },
  smtpFrom: { flag: 'smtp-from', env: 'MINIAPPS_SMTP_FROM', kind: 'string', help: 'From address of invitation emails.', default: () => 'miniapps-operator@localhost' },
  smtpCredentialsSecret: {
    flag: 'smtp-credentials-secret',
    env: 'MINIAPPS_SMTP_CREDENTIALS_SECRET',
    kind: 'namespacedName',
    help: 'namespace/name of a Secret with the keys username and password for SMTP authentication; needs --smtp-security starttls or tls.',
  },
  identityBindAddress: {
    flag: 'identity-bind-address',
    env: 'MINIAPPS_IDENTITY_BIND_ADDRESS',
    kind: 'address',
    off: true,
    help: 'TLS listener of the embedded OpenID Connect provider (accounts, sign-in, tokens the API server trusts: docs/identity.md); "0" disables it.',
    default: () => '0',
  },
  identityIssuer: {
    flag: 'identity-issuer',
    env: 'MINIAPPS_IDENTITY_ISSUER',
    kind: 'url',
    help: "The embedded provider's issuer URL as people and the API server reach it (e.g. https://<acceptance host>/ behind the Ingress); must equal the issuer in kube-apiserver's AuthenticationConfiguration.",
  },
  identityEmbedded: {
    flag: 'identity-embedded',
    env: 'MINIAPPS_IDENTITY_EMBEDDED',
    kind: 'boolean',
    help: "The people's accounts are the embedded provider's, served by this process (--identity-bind-address) or by its own (--identity-only, the Helm chart's identity Deployment): invitations make accounts, Accounts and Users get their private halves. Default: true when --identity-bind-address is set. Needs --identity-issuer.",
  },
  identityNamespace: {
    flag: 'identity-namespace',
    env: 'MINIAPPS_IDENTITY_NAMESPACE',
    kind: 'dns1123',
    help: "Namespace of the embedded provider's Secrets (accounts, sessions and tokens, signing keys, lockouts). Default: --namespace. The Helm chart gives it a namespace of its own, so that the provider's ServiceAccount reads no Secret of the operator's.",
  },
  identityOnly: {
    flag: 'identity-only',
    env: 'MINIAPPS_IDENTITY_ONLY',
    kind: 'boolean',
    help: "Serve only the embedded identity provider (--identity-bind-address) and /healthz, /readyz, /metrics (--http-bind-address): no controllers, webhooks, APIs, acceptance page or leader election, and read-only caches of the kinds it answers about, so that it runs under a ServiceAccount of its own (docs/identity.md). Its listener's certificate: --identity-cert-dir, --identity-cert-secret, else one it generates and renews in memory.",
    default: () => 'false',
  },
  identityCertDir: {
    flag: 'identity-cert-dir',
    env: 'MINIAPPS_IDENTITY_CERT_DIR',
    kind: 'string',
    help: "Directory with tls.crt and tls.key of the identity listener, read again every --webhook-cert-check-interval. Default: --identity-cert-secret, else the webhooks' serving certificate.",
  },
  identityCertSecret: {
    flag: 'identity-cert-secret',
    env: 'MINIAPPS_IDENTITY_CERT_SECRET',
    kind: 'namespacedName',
    help: "namespace/name of a Secret with tls.crt and tls.key of the identity listener (e.g. the webhooks' generated one, or cert-manager's), read again every --webhook-cert-check-interval and never written. Default: the webhooks' serving certificate (with --identity-only, one generated in memory).",
  },
  identityConsoleRedirectUris: {
    flag: 'identity-console-redirect-uris',
    env: 'MINIAPPS_IDENTITY_CONSOLE_REDIRECT_URIS',
    kind: 'names',
    help: 'Comma-separated exact redirect URIs of the console (<its public URL>/auth/callback): registers it with the embedded provider as the public client miniapps-console (PKCE; docs/console.md). Empty: no console client.',
  },
  identityTokenDuration: {
    flag: 'identity-token-ttl',
    env: 'MINIAPPS_IDENTITY_TOKEN_TTL',
    kind: 'duration',
    help: 'Lifetime of the ID and access tokens the embedded provider issues: the longest a suspended account keeps the access a token already issued gives.',
    default: () => '5m',
    min: 10_000,
  },
  shutdownTimeout: { flag: 'shutdown-timeout', env: 'MINIAPPS_SHUTDOWN_TIMEOUT', kind: 'duration', help: 'How long SIGTERM waits for in-flight reconciles.', default: () => '30s', min: 0 },
} as const satisfies Record<string, Setting>;

/** The operator's own settings' values (what knows no kind); a module reads its own with settingsOf. */
export type Config = {
  /** --kubeconfig: one file, used alone. */
  kubeconfig?: string;
  /** KUBECONFIG: files merged as kubectl merges them (when --kubeconfig is not given). */
  kubeconfigPaths?: string[];
  namespace: string;
  httpBindAddress: { host: string; port: number };
  webhookBindAddress?: { host: string; port: number };
  webhookClientCaFile?: string;
  webhookClientAllowedNames?: string[];
  apiBindAddress?: { host: string; port: number };
  metricsSecure: boolean;
  reviewQps: number;
  reviewBurst: number;
  trustedProxies?: string[];
  forwardedHeader: 'x-forwarded-for' | 'forwarded';
  webhookCertDir?: string;
  webhookCertSecret?: { namespace: string; name: string };
  webhookCertRotate: boolean;
  webhookConfiguration?: string;
  webhookCertDurationMs: number;
  webhookCertRenewBeforeMs: number;
  webhookCaDurationMs: number;
  webhookCertCheckIntervalMs: number;
  webhookRegister: boolean;
  webhookFailClosed: boolean;
  webhookHost: string;
  installAdmissionPolicies: boolean;
  serviceAccount?: { namespace: string; name: string };
  namespaceAccessRole?: string;
  leaderElect: boolean;
  leaderElectionId: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  kubeApiQps: number;
  kubeApiBurst: number;
  concurrency: number;
  resyncPeriodMs: number;
  watchIdleTimeoutMs: number;
  cacheSyncTimeoutMs: number;
  logLevel: LogLevel;
  shutdownTimeoutMs: number;
  identityBindAddress?: { host: string; port: number };
  identityIssuer?: string;
  /** Whether the accounts are the embedded provider's (--identity-embedded; default: whether this process serves it). */
  identityEmbedded: boolean;
  identityOnly: boolean;
  /** --identity-namespace, else --namespace. */
  identityNamespace: string;
  identityCertDir?: string;
  identityCertSecret?: { namespace: string; name: string };
  identityTokenDurationMs: number;
  identityConsoleRedirectUris?: string[];
  smtpHost?: string;
  smtpPort: number;
  smtpSecurity: 'none' | 'starttls' | 'tls';
  smtpFrom: string;
  smtpCredentialsSecret?: { namespace: string; name: string };
  identity: string;
};

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Go-style durations ("1h30m", "500ms", "15s"), plus "d" for days; in milliseconds. */
export function parseDuration(s: string): number | undefined {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) {
    total += Number(m[1]) * UNITS[m[2]!]!;
    matched = re.lastIndex;
  }
  return s.length > 0 && matched === s.length ? total : undefined;
}

/** The inverse of parseDuration for whole units: 600000 → "10m", 90000 → "90s", 1500 → "1500ms". */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const)
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

function parseValue(s: Setting, raw: string): unknown {
  const bad = (why: string) => new ConfigError(`Invalid configuration: --${s.flag} (${s.env}) ${why}, got ${JSON.stringify(raw)}`);
  switch (s.kind) {
    case 'string':
      return raw;
    case 'boolean':
      if (!['true', 'false', '1', '0'].includes(raw)) throw bad('must be true or false');
      return raw === 'true' || raw === '1';
    case 'int': {
      const n = Number(raw);
      if (!Number.isInteger(n) || n < (s.min ?? 0)) throw bad(`must be a whole number of at least ${s.min ?? 0}`);
      return n;
    }
    case 'number': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n) || n < (s.min ?? 0)) throw bad(`must be a number of at least ${s.min ?? 0}`);
      return n;
    }
    case 'duration': {
      const ms = parseDuration(raw);
      if (ms === undefined) throw bad('must be a duration such as 500ms, 15s, 5m or 1h');
      if (ms < (s.min ?? 0)) throw bad(`must be at least ${s.min}ms`);
      return ms;
    }
    case 'address': {
      if (s.off && raw === '0') return undefined;
      const m = /^(.*):(\d{1,5})$/.exec(raw);
      const port = m ? Number(m[2]) : NaN;
      if (!m || port > 65535) throw bad('must be [host]:port with a port from 0 to 65535');
      return { host: m[1] || '0.0.0.0', port };
    }
    case 'level':
      if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal'].includes(raw)) throw bad('must be one of trace, debug, info, warn, error, fatal');
      return raw;
    case 'url':
      try {
        return new URL(raw).toString();
      } catch {
        throw bad('must be an absolute URL');
      }
    case 'dns1123':
      if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(raw)) throw bad('must be a DNS-1123 label (lowercase letters, digits and dashes)');
      return raw;
    case 'namespacedName': {
      const [ns, n, ...rest] = raw.split('/');
      if (!ns || !n || rest.length) throw bad('must be namespace/name');
      return { namespace: ns, name: n };
    }
    case 'cidrs': {
      const list = raw
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean);
      for (const entry of list) if (!parseCidr(entry)) throw bad('must be IP addresses or CIDRs (10.0.0.0/8, fd00::/8), separated by commas');
      return list;
    }
    case 'names': {
      const list = raw
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean);
      return list.length ? list : undefined;
    }
    case 'forwardedHeader': {
      const h = raw.toLowerCase();
      if (h !== 'x-forwarded-for' && h !== 'forwarded') throw bad('must be X-Forwarded-For or Forwarded');
      return h;
    }
    case 'tlsMode':
      if (!['none', 'starttls', 'tls'].includes(raw)) throw bad('must be none, starttls or tls');
      return raw;
  }
}

const camel = (k: string) => k.replace(/Duration$|Deadline$|Period$|Timeout$|Interval$|RenewBefore$/, (x) => `${x}Ms`);

/**
 * Reads the configuration from flags, then environment, then defaults, and validates
 * every value. Throws ConfigError naming the bad setting, its flag and its variable.
 */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv, modules: readonly SettingTable[] = []): Config {
  const all = allSettings(modules);
  const options: Record<string, { type: 'string' }> = {};
  for (const s of Object.values(all)) options[s.flag] = { type: 'string' };
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({ args: argv.map((a) => (/^--[a-z-]+$/.test(a) && isBool(all, a) ? `${a}=true` : a)), options, strict: true, allowPositionals: false }).values as Record<string, string>;
  } catch (err) {
    throw new ConfigError(`Invalid configuration: ${(err as Error).message}. Run with --help for the settings.`);
  }
  const out: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(all)) {
    if (s.envList && values[s.flag] === undefined) {
      // The variable is a list, not one value of the flag's kind (KUBECONFIG=a:b).
      const list = (env[s.env] ?? '').split(delimiter).filter(Boolean);
      if (list.length) out[s.envList] = list;
      continue;
    }
    const raw = values[s.flag] ?? env[s.env] ?? s.default?.(env);
    out[camel(name)] = raw === undefined || raw === '' ? undefined : parseValue(s, raw);
  }
  const cfg = out as unknown as Omit<Config, 'identity'>;
  if (cfg.webhookClientAllowedNames && !cfg.webhookClientCaFile) {
    throw new ConfigError('Invalid configuration: --webhook-client-allowed-names (MINIAPPS_WEBHOOK_CLIENT_ALLOWED_NAMES) needs --webhook-client-ca-file, the CA whose certificates it names');
  }
  if (cfg.metricsSecure && !cfg.apiBindAddress) {
    throw new ConfigError(
      'Invalid configuration: --metrics-secure (MINIAPPS_METRICS_SECURE) serves /metrics on --api-bind-address (MINIAPPS_API_BIND_ADDRESS), which is "0" (off): without it there would be no /metrics at all. Set --api-bind-address, or --metrics-secure=false to serve /metrics on --http-bind-address to anyone who reaches it',
    );
  }
  if (cfg.identityBindAddress && !cfg.identityIssuer?.startsWith('https://')) {
    throw new ConfigError(
      'Invalid configuration: --identity-bind-address (MINIAPPS_IDENTITY_BIND_ADDRESS) needs --identity-issuer (MINIAPPS_IDENTITY_ISSUER), an https:// URL: the issuer the API server trusts',
    );
  }
  (cfg as { identityEmbedded?: boolean }).identityEmbedded ??= !!cfg.identityBindAddress;
  (cfg as { identityNamespace?: string }).identityNamespace ??= cfg.namespace;
  if (cfg.identityEmbedded && !cfg.identityIssuer?.startsWith('https://')) {
    throw new ConfigError(
      "Invalid configuration: --identity-embedded (MINIAPPS_IDENTITY_EMBEDDED) needs --identity-issuer (MINIAPPS_IDENTITY_ISSUER), an https:// URL: the embedded provider's, which invitations and set-password emails link to",
    );
  }
  if (cfg.identityOnly && !cfg.identityBindAddress) {
    throw new ConfigError(
      'Invalid configuration: --identity-only (MINIAPPS_IDENTITY_ONLY) serves the embedded identity provider alone, and needs --identity-bind-address (MINIAPPS_IDENTITY_BIND_ADDRESS)',
    );
  }
  if (cfg.identityCertDir && cfg.identityCertSecret) {
    throw new ConfigError(
      'Invalid configuration: --identity-cert-dir (MINIAPPS_IDENTITY_CERT_DIR) and --identity-cert-secret (MINIAPPS_IDENTITY_CERT_SECRET) are two sources of one certificate: set one',
    );
  }
  if (cfg.renewDeadlineMs >= cfg.leaseDurationMs) throw new ConfigError('Invalid configuration: --renew-deadline must be shorter than --lease-duration');
  if (cfg.retryPeriodMs >= cfg.renewDeadlineMs) throw new ConfigError('Invalid configuration: --retry-period must be shorter than --renew-deadline');
  if (!cfg.serviceAccount !== !cfg.namespaceAccessRole) {
    throw new ConfigError('Invalid configuration: --service-account (MINIAPPS_SERVICE_ACCOUNT) and --namespace-access-role (MINIAPPS_NAMESPACE_ACCESS_ROLE) go together: set both or neither');
  }
  if (cfg.webhookCertRotate && !cfg.webhookCertSecret) {
    throw new ConfigError('Invalid configuration: --webhook-cert-rotate (MINIAPPS_WEBHOOK_CERT_ROTATE) needs --webhook-cert-secret, the Secret it keeps the CA and certificate in');
  }
  if (cfg.webhookCertRotate && cfg.webhookCertDir) {
    throw new ConfigError('Invalid configuration: --webhook-cert-rotate (MINIAPPS_WEBHOOK_CERT_ROTATE) cannot be used with --webhook-cert-dir: a directory is read, never written');
  }
  if (cfg.webhookCertRotate && !cfg.webhookRegister && !cfg.webhookConfiguration) {
    throw new ConfigError(
      'Invalid configuration: --webhook-cert-rotate (MINIAPPS_WEBHOOK_CERT_ROTATE) needs --webhook-configuration, the ValidatingWebhookConfiguration whose caBundle it keeps current, when --webhook-register is false',
    );
  }
  if (cfg.webhookCertRenewBeforeMs >= cfg.webhookCertDurationMs) {
    throw new ConfigError('Invalid configuration: --webhook-cert-renew-before (MINIAPPS_WEBHOOK_CERT_RENEW_BEFORE) must be shorter than --webhook-cert-duration (MINIAPPS_WEBHOOK_CERT_DURATION)');
  }
  if (cfg.webhookCaDurationMs < 3 * cfg.webhookCertDurationMs) {
    throw new ConfigError(
      'Invalid configuration: --webhook-ca-duration (MINIAPPS_WEBHOOK_CA_DURATION) must be at least 3 × --webhook-cert-duration (MINIAPPS_WEBHOOK_CERT_DURATION): the CA is replaced a third of its lifetime ahead of its expiry, and a certificate it signed just before must not outlive it',
    );
  }
  if (cfg.smtpPort > 65535) throw new ConfigError(`Invalid configuration: --smtp-port (MINIAPPS_SMTP_PORT) must be at most 65535, got ${cfg.smtpPort}`);
  if (cfg.smtpCredentialsSecret && cfg.smtpSecurity === 'none') {
    throw new ConfigError(
      'Invalid configuration: --smtp-credentials-secret (MINIAPPS_SMTP_CREDENTIALS_SECRET) cannot be used with --smtp-security=none (MINIAPPS_SMTP_SECURITY): the credentials would cross the network in clear; use --smtp-security=starttls or tls',
    );
  }
  if (!/^[^@\s]+@[^@\s]+$/.test(cfg.smtpFrom)) throw new ConfigError(`Invalid configuration: --smtp-from (MINIAPPS_SMTP_FROM) must be an email address, got ${JSON.stringify(cfg.smtpFrom)}`);
  return { ...cfg, identity: `${env.POD_NAME || hostname()}_${process.pid}` };
}

/**
 * The operator's settings and the modules' (`modules`, each a module's table), checked to
 * name no setting, flag or environment variable twice.
 */
export function allSettings(modules: readonly SettingTable[] = []): SettingTable {
  const all: Record<string, Setting> = { ...SETTINGS };
  const flags = new Set(Object.values(all).map((s) => s.flag));
  const envs = new Set(Object.values(all).map((s) => s.env));
  for (const table of modules)
    for (const [name, s] of Object.entries(table)) {
      if (name in all || flags.has(s.flag) || envs.has(s.env)) throw new Error(`Setting ${name} (--${s.flag}, ${s.env}) is declared twice`);
      all[name] = s;
      flags.add(s.flag);
      envs.add(s.env);
    }
  return all;
}

/**
 * The values of a module's settings (`table`, the one it lists in OperatorModule.settings),
 * typed, from a configuration loadConfig read with them. Throws when it was read without
 * them: a module's setting has no value of its own.
 */
export function settingsOf<T extends SettingTable>(config: Config, table: T): SettingValues<T> {
  const values: Record<string, unknown> = { ...config };
  const out: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(table)) {
    const key = camel(name);
    if (!(key in values)) throw new ConfigError(`Configuration read without --${s.flag} (${s.env}): load it with the settings of every module (loadConfig's modules)`);
    out[key] = values[key];
  }
  return out as SettingValues<T>;
}

function isBool(all: SettingTable, arg: string): boolean {
  const flag = arg.slice(2);
  return Object.values(all).some((s) => s.flag === flag && s.kind === 'boolean');
}

export function usage(modules: readonly SettingTable[] = []): string {
  const lines = ['Usage: miniapps-operator [flags]', '', 'Every flag can also be set through its environment variable.', ''];
  for (const s of Object.values(allSettings(modules))) {
    const def = s.default?.({});
    lines.push(`  --${s.flag} (${s.env})${def !== undefined ? ` [default ${def}]` : ''}`, `      ${s.help}`);
  }
  return lines.join('\n');
}
