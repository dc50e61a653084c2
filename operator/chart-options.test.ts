// helm lint and helm template of charts/miniapps-operator with its default values and
// with every value the chart documents set to something else: each value of
// values.schema.json has an example below (a value without one fails the test), each
// example passes the schema, `helm lint --strict`, and renders something different from
// the chart without it (so no documented value is ignored by the templates). helm v4
// renders the same objects as helm v3. The helm binaries come from hack/tools/build.sh
// (see testenv/tools.ts: with CI set, a missing one fails instead of skipping).
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { parse, parseAllDocuments } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { findTool, run } from './testenv/tools.ts';

const CHART = fileURLToPath(new URL('../charts/miniapps-operator', import.meta.url));
const KUBE_VERSION = ['--kube-version', '1.35.0'];

interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
}
const schema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8')) as Schema;
const defaults = parse(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as Record<string, unknown>;

/** Dotted paths of the values the schema declares that hold a value (not a map of declared keys). */
function leaves(node: Schema, path = ''): string[] {
  return Object.entries(node.properties ?? {}).flatMap(([name, child]) => {
    const p = path ? `${path}.${name}` : name;
    return child.properties ? leaves(child, p) : [p];
  });
}

type Values = Record<string, unknown>;
/** `{a: {b: value}}` for 'a.b'. */
const at = (path: string, value: unknown): Values => path.split('.').reduceRight<unknown>((v, key) => ({ [key]: v }), value) as Values;
const merge = (a: Values, b: Values): Values => {
  const out: Values = { ...a };
  for (const [k, v] of Object.entries(b)) {
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && out[k] && typeof out[k] === 'object' ? merge(out[k] as Values, v as Values) : v;
  }
  return out;
};

interface Example {
  /** The value set, other than the default. */
  set: unknown;
  /** Values it needs to take effect (set in both renders compared). */
  with?: Values;
  /** Text the render shows with the value and not without it. */
  shows?: string;
  /** The lint profile it is linted in (default: `off` for a value set to false, else `on`). */
  profile?: string;
}

const SHA = `sha256:${'a'.repeat(64)}`;
const CA_BUNDLE = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const b64 = (s: string) => Buffer.from(s).toString('base64');
/** One example per documented value; `with` where the value only matters alongside another. */
const EXAMPLES: Record<string, Example> = {
  nameOverride: { set: 'apps', shows: 'app.kubernetes.io/name: apps' },
  fullnameOverride: { set: 'ops', shows: 'name: ops\n' },
  namespaceOverride: { set: 'operators', shows: 'namespace: operators' },
  'crds.enabled': { set: false },
  'crds.keep': { set: false },
  replicaCount: { set: 3, shows: 'replicas: 3' },
  'image.repository': { set: 'registry.example.com/miniapps-operator', shows: 'image: "registry.example.com/miniapps-operator:' },
  'image.tag': { set: '9.9.9', shows: ':9.9.9"' },
  'image.digest': { set: SHA, shows: `@${SHA}` },
  'image.pullPolicy': { set: 'Always', shows: 'imagePullPolicy: Always' },
  imagePullSecrets: { set: [{ name: 'regcred' }], shows: 'name: regcred' },
  logLevel: { set: 'debug', shows: '--log-level=debug' },
  'leaderElection.enabled': { set: false, shows: '--leader-elect=false' },
  'leaderElection.id': { set: 'other-lease', shows: '--leader-election-id=other-lease' },
  'leaderElection.leaseDuration': { set: '30s', shows: '--lease-duration=30s' },
  'leaderElection.renewDeadline': { set: '20s', shows: '--renew-deadline=20s' },
  'leaderElection.retryPeriod': { set: '4s', shows: '--retry-period=4s' },
  concurrency: { set: 4, shows: '--concurrency=4' },
  resyncPeriod: { set: '30m', shows: '--resync-period=30m' },
  shutdownTimeout: { set: '20s', shows: '--shutdown-timeout=20s' },
  terminationGracePeriodSeconds: { set: 60, shows: 'terminationGracePeriodSeconds: 60' },
  extraArgs: { set: ['--watch-idle-timeout=10m'], shows: '"--watch-idle-timeout=10m"' },
  extraEnv: { set: [{ name: 'EXTRA', value: 'yes' }], shows: 'name: EXTRA' },
  'serviceAccount.create': { set: false, with: { serviceAccount: { name: 'existing' } } },
  'serviceAccount.name': { set: 'operator-sa', shows: 'serviceAccountName: operator-sa' },
  'serviceAccount.annotations': { set: { 'iam.example.com/role': 'operator' }, shows: 'iam.example.com/role: operator' },
  'serviceAccount.automountServiceAccountToken': { set: false, shows: 'automountServiceAccountToken: false' },
  'rbac.create': { set: false },
  podAnnotations: { set: { 'example.com/pod': 'yes' }, shows: 'example.com/pod: "yes"' },
  podLabels: { set: { team: 'platform' }, shows: 'team: platform' },
  deploymentAnnotations: { set: { 'example.com/deployment': 'yes' }, shows: 'example.com/deployment: "yes"' },
  podSecurityContext: { set: { fsGroup: 2000 }, shows: 'fsGroup: 2000' },
  containerSecurityContext: { set: { runAsUser: 1001 }, shows: 'runAsUser: 1001' },
  heapPercentage: { set: 60, shows: '--max-old-space-size-percentage=60' },
  resources: { set: { limits: { cpu: '2' } }, shows: 'cpu: "2"' },
  nodeSelector: { set: { disktype: 'ssd' }, shows: 'disktype: ssd' },
  tolerations: { set: [{ key: 'dedicated', operator: 'Exists', effect: 'NoSchedule' }], shows: 'key: dedicated' },
  affinity: {
    set: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }] } } },
    shows: 'nodeAffinity:',
  },
  topologySpreadConstraints: {
    set: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'miniapps-operator' } } }],
    shows: 'maxSkew: 1',
  },
  priorityClassName: { set: 'system-cluster-critical', shows: 'priorityClassName: "system-cluster-critical"' },
  'livenessProbe.enabled': { set: false },
  'livenessProbe.initialDelaySeconds': { set: 11, shows: 'initialDelaySeconds: 11' },
  'livenessProbe.periodSeconds': { set: 12, shows: 'periodSeconds: 12' },
  'livenessProbe.timeoutSeconds': { set: 13, shows: 'timeoutSeconds: 13' },
  'livenessProbe.failureThreshold': { set: 14, shows: 'failureThreshold: 14' },
  'readinessProbe.enabled': { set: false },
  'readinessProbe.initialDelaySeconds': { set: 21, shows: 'initialDelaySeconds: 21' },
  'readinessProbe.periodSeconds': { set: 22, shows: 'periodSeconds: 22' },
  'readinessProbe.timeoutSeconds': { set: 23, shows: 'timeoutSeconds: 23' },
  'readinessProbe.failureThreshold': { set: 24, shows: 'failureThreshold: 24' },
  'service.type': { set: 'NodePort', shows: 'type: NodePort' },
  'service.metricsPort': { set: 9090, shows: 'port: 9090' },
  'service.acceptancePort': { set: 9091, shows: 'port: 9091' },
  'service.apiPort': { set: 9092, shows: 'port: 9092' },
  'metrics.secure': { set: false, shows: '--metrics-secure=false' },
  'service.annotations': { set: { 'example.com/service': 'yes' }, shows: 'example.com/service: "yes"' },
  'monitoring.serviceMonitor.enabled': { set: true, shows: 'kind: ServiceMonitor' },
  'monitoring.serviceMonitor.interval': { set: '15s', with: { monitoring: { serviceMonitor: { enabled: true } } }, shows: 'interval: 15s' },
  'monitoring.serviceMonitor.labels': { set: { release: 'prometheus' }, with: { monitoring: { serviceMonitor: { enabled: true } } }, shows: 'release: prometheus' },
  'monitoring.prometheusRule.enabled': { set: true, shows: 'kind: PrometheusRule' },
  'monitoring.prometheusRule.labels': { set: { release: 'prometheus' }, with: { monitoring: { prometheusRule: { enabled: true } } }, shows: 'release: prometheus' },
  'monitoring.prometheusRule.queueDepthThreshold': { set: 500, with: { monitoring: { prometheusRule: { enabled: true } } }, shows: '> 500' },
  'monitoring.prometheusRule.watchRestartsThreshold': { set: 12, with: { monitoring: { prometheusRule: { enabled: true } } }, shows: '[30m])) > 12' },
  'monitoring.prometheusRule.webhookCertificateExpiryDays': { set: 21, with: { monitoring: { prometheusRule: { enabled: true } } }, shows: 'time() < 1814400' },
  'monitoring.prometheusRule.apiKeyExpiryDays': { set: 3, with: { monitoring: { prometheusRule: { enabled: true } } }, shows: 'time() < 259200' },
  'podDisruptionBudget.enabled': { set: false, with: { replicaCount: 2 } },
  'podDisruptionBudget.minAvailable': { set: 2, with: { replicaCount: 3 }, shows: 'minAvailable: 2' },
  'networkPolicy.enabled': { set: true, shows: 'kind: NetworkPolicy' },
  'networkPolicy.webhookFrom': { set: [{ ipBlock: { cidr: '172.16.0.0/28' } }], with: { networkPolicy: { enabled: true } }, shows: 'cidr: 172.16.0.0/28' },
  'networkPolicy.apiFrom': {
    set: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'gateways' } } }],
    with: { networkPolicy: { enabled: true } },
    shows: 'kubernetes.io/metadata.name: gateways',
  },
  'networkPolicy.metricsFrom': {
    set: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
    with: { networkPolicy: { enabled: true } },
    shows: 'kubernetes.io/metadata.name: monitoring',
  },
  'networkPolicy.acceptanceFrom': {
    set: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } }],
    with: { networkPolicy: { enabled: true } },
    shows: 'kubernetes.io/metadata.name: ingress-nginx',
  },
  'networkPolicy.consoleFrom': {
    set: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'console-ingress' } } }],
    with: { networkPolicy: { enabled: true }, console: { enabled: true, issuerUrl: 'https://id.example', publicUrl: 'https://console.example' } },
    shows: 'kubernetes.io/metadata.name: console-ingress',
  },
  'ingress.enabled': { set: true, shows: 'kind: Ingress' },
  'ingress.className': { set: 'nginx', with: { ingress: { enabled: true } }, shows: 'ingressClassName: nginx' },
  'ingress.host': { set: 'join.example.org', with: { ingress: { enabled: true } }, shows: 'host: "join.example.org"' },
  'ingress.annotations': { set: { 'cert-manager.io/cluster-issuer': 'letsencrypt' }, with: { ingress: { enabled: true } }, shows: 'cert-manager.io/cluster-issuer: letsencrypt' },
  'ingress.tls': { set: [{ hosts: ['invite.example.com'], secretName: 'invite-tls' }], with: { ingress: { enabled: true } }, shows: 'secretName: invite-tls' },
  'invitations.publicUrl': { set: 'https://join.example.com/', shows: '--public-url=https://join.example.com/' },
  'invitations.trustedProxies': { set: ['10.0.0.0/8', 'fd00::/8'], shows: '--trusted-proxies=10.0.0.0/8,fd00::/8' },
  'invitations.forwardedHeader': { set: 'Forwarded', shows: '--forwarded-header=Forwarded' },
  'invitations.smtp.host': { set: 'smtp.example.com', shows: '--smtp-host=smtp.example.com' },
  'invitations.smtp.port': { set: 465, with: { invitations: { smtp: { host: 'smtp.example.com' } } }, shows: '--smtp-port=465' },
  'invitations.smtp.security': { set: 'tls', with: { invitations: { smtp: { host: 'smtp.example.com' } } }, shows: '--smtp-security=tls' },
  'invitations.smtp.from': { set: 'noreply@example.com', with: { invitations: { smtp: { host: 'smtp.example.com' } } }, shows: '--smtp-from=noreply@example.com' },
  'invitations.smtp.credentialsSecret': { set: 'smtp-auth', with: { invitations: { smtp: { host: 'smtp.example.com' } } }, shows: '--smtp-credentials-secret=$(POD_NAMESPACE)/smtp-auth' },
  // metrics.secure needs the APIs' TLS port, which webhook.enabled=false turns off (refused below).
  'webhook.enabled': { set: false, with: { metrics: { secure: false } }, shows: '--webhook-bind-address=0' },
  'webhook.failurePolicy': {
    set: 'Fail',
    shows:
      'failurePolicy: Fail\n    matchPolicy: Equivalent\n    timeoutSeconds: 5\n    clientConfig:\n      service:\n        name: rel-miniapps-operator\n        namespace: miniapps-system\n        path: /validate\n        port: 443\n    rules:',
  },
  'webhook.failClosed.enabled': { set: false },
  'webhook.timeoutSeconds': { set: 10, shows: 'timeoutSeconds: 10' },
  'webhook.port': { set: 8444, shows: 'port: 8444' },
  'webhook.clientCA': { set: CA_BUNDLE, shows: '--webhook-client-ca-file=/etc/miniapps/webhook-client-ca/ca.crt' },
  'webhook.clientAllowedNames': { set: ['kube-apiserver-webhook-client'], with: { webhook: { clientCA: CA_BUNDLE } }, shows: '--webhook-client-allowed-names=kube-apiserver-webhook-client' },
  'webhook.certSecretName': { set: 'my-webhook-tls', shows: '--webhook-cert-secret=$(POD_NAMESPACE)/my-webhook-tls' },
  'webhook.caBundle': { set: CA_BUNDLE, shows: `caBundle: ${b64(CA_BUNDLE)}`, profile: 'own CA' },
  'webhook.certCheckInterval': { set: '30s', shows: '--webhook-cert-check-interval=30s' },
  'webhook.generated.duration': { set: '720h', shows: '--webhook-cert-duration=720h' },
  'webhook.generated.renewBefore': { set: '240h', shows: '--webhook-cert-renew-before=240h' },
  'webhook.generated.caDuration': { set: '43800h', shows: '--webhook-ca-duration=43800h' },
  'webhook.certManager.enabled': { set: true, shows: 'kind: Certificate' },
  'webhook.certManager.issuerRef.name': { set: 'my-ca', with: { webhook: { certManager: { enabled: true } } }, shows: 'name: my-ca' },
  'webhook.certManager.issuerRef.kind': { set: 'ClusterIssuer', with: { webhook: { certManager: { enabled: true, issuerRef: { name: 'my-ca' } } } }, shows: 'kind: ClusterIssuer' },
  'webhook.certManager.issuerRef.group': { set: 'issuers.example.com', with: { webhook: { certManager: { enabled: true, issuerRef: { name: 'my-ca' } } } }, shows: 'group: issuers.example.com' },
  'webhook.certManager.duration': { set: '2160h', with: { webhook: { certManager: { enabled: true } } }, shows: 'duration: 2160h' },
  'webhook.certManager.renewBefore': { set: '360h', with: { webhook: { certManager: { enabled: true } } }, shows: 'renewBefore: 360h' },
  'service.identityPort': { set: 9445, with: { identity: { enabled: true, issuer: 'https://id.example.com' } }, shows: 'port: 9445' },
  'networkPolicy.identityFrom': {
    set: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } }],
    with: { networkPolicy: { enabled: true }, identity: { enabled: true, issuer: 'https://id.example.com' } },
    shows: '- port: 9444\n          protocol: TCP\n      from:\n        - namespaceSelector:',
  },
  'identity.enabled': { set: true, with: { ingress: { enabled: true, host: 'join.example.com' } }, shows: '--identity-issuer=https://join.example.com\n' },
  'identity.issuer': { set: 'https://id.example.com/', with: { identity: { enabled: true }, ingress: { enabled: true } }, shows: '--identity-issuer=https://id.example.com\n' },
  'identity.namespace': { set: 'accounts', with: { identity: { enabled: true, issuer: 'https://id.example.com' } }, shows: '--identity-namespace=accounts' },
  'identity.replicaCount': { set: 3, with: { identity: { enabled: true, issuer: 'https://id.example.com' } }, shows: 'replicas: 3' },
  'identity.certSecretName': { set: 'id-tls', with: { identity: { enabled: true, issuer: 'https://id.example.com' } }, shows: '--identity-cert-secret=$(POD_NAMESPACE)/id-tls' },
  'identity.resources': { set: { limits: { memory: '333Mi' } }, with: { identity: { enabled: true, issuer: 'https://id.example.com' } }, shows: 'memory: 333Mi' },
  'identity.port': { set: 9555, with: { identity: { enabled: true, issuer: 'https://id.example.com' } }, shows: '--identity-bind-address=:9555' },
  'identity.tokenTTL': { set: '2m', with: { identity: { enabled: true, issuer: 'https://id.example.com' } }, shows: '--identity-token-ttl=2m' },
  'identity.ingress.paths': { set: ['/oidc'], with: { identity: { enabled: true }, ingress: { enabled: true } }, shows: '- path: /oidc' },
  'identity.ingress.annotations': {
    set: { 'example.com/identity': 'yes' },
    with: { identity: { enabled: true }, ingress: { enabled: true } },
    shows: 'example.com/identity: "yes"',
  },
};
/** Values the schema declares that the chart's templates do not read, and why. */
/** The console on: what its examples need. */
const CONSOLE_ON = { console: { enabled: true, issuerUrl: 'https://id.example', publicUrl: 'https://console.example' } };
const consoleWith = (extra: Values): Values => merge(CONSOLE_ON, { console: extra });
Object.assign(EXAMPLES, {
  'console.enabled': { set: true, with: { console: { issuerUrl: 'https://id.example', publicUrl: 'https://console.example' } }, shows: 'command: ["/usr/local/bin/node", "console/server/main.ts"]' },
  'console.replicaCount': { set: 3, with: CONSOLE_ON, shows: 'replicas: 3' },
  'console.issuerUrl': { set: 'https://login.example.org/realms/apps', with: CONSOLE_ON, shows: '--issuer-url=https://login.example.org/realms/apps' },
  'console.clientId': { set: 'apps-console', with: CONSOLE_ON, shows: '--client-id=apps-console' },
  'console.clientSecretSecret': { set: 'console-oidc', with: CONSOLE_ON, shows: 'secretName: console-oidc' },
  'console.issuerCAConfigMap': { set: 'id-ca', with: CONSOLE_ON, shows: '--issuer-ca-file=/etc/miniapps-console/issuer-ca/ca.crt' },
  'console.tokenRolesCAConfigMap': { set: 'operator-ca', with: CONSOLE_ON, shows: '--token-roles-url=https://rel-miniapps-operator.miniapps-system.svc:8443' },
  'console.apiServerUrl': { set: 'https://api.example:6443', with: CONSOLE_ON, shows: '--api-server-url=https://api.example:6443' },
  'console.apiServerCAConfigMap': { set: 'ca-of-api', with: consoleWith({ apiServerUrl: 'https://api.example:6443' }), shows: 'name: ca-of-api' },
  'console.publicUrl': { set: 'https://apps.example', with: CONSOLE_ON, shows: '--public-url=https://apps.example' },
  'console.servicePort': { set: 8091, with: CONSOLE_ON, shows: 'port: 8091' },
  'console.sessions.namespace': { set: 'console-sessions', with: CONSOLE_ON, shows: '--sessions-namespace=console-sessions' },
  'console.trustedProxies': { set: ['10.0.0.0/8', 'fd00::/8'], with: CONSOLE_ON, shows: '--trusted-proxies=10.0.0.0/8,fd00::/8' },
  'console.sessions.maxSecrets': { set: 500, with: CONSOLE_ON, shows: 'count/secrets: "500"' },
  'console.resources': { set: { limits: { memory: '321Mi' } }, with: CONSOLE_ON, shows: 'memory: 321Mi' },
  'console.ingress.enabled': { set: true, with: CONSOLE_ON, shows: 'name: rel-miniapps-operator-console\n                port:\n                  name: http' },
  'console.ingress.className': { set: 'nginx', with: consoleWith({ ingress: { enabled: true } }), shows: 'ingressClassName: nginx' },
  'console.ingress.host': { set: 'apps.example.org', with: consoleWith({ ingress: { enabled: true } }), shows: 'host: "apps.example.org"' },
  'console.ingress.annotations': { set: { 'cert-manager.io/cluster-issuer': 'letsencrypt' }, with: consoleWith({ ingress: { enabled: true } }), shows: 'cert-manager.io/cluster-issuer: letsencrypt' },
  'console.ingress.tls': { set: [{ hosts: ['console.example.com'], secretName: 'console-tls' }], with: consoleWith({ ingress: { enabled: true } }), shows: 'secretName: console-tls' },
} satisfies Record<string, Example>);

const NOT_RENDERED: Record<string, string> = {
  global: "Helm's values shared with subcharts: declared so that a parent chart's globals pass the schema",
};

const helm = findTool('helm');
const helm4 = findTool('helm4');

const work = mkdtempSync(join(tmpdir(), 'chart-options-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let files = 0;
/** A values file with `values` (JSON is YAML). */
function valuesFile(values: Values): string {
  const file = join(work, `values-${files++}.json`);
  writeFileSync(file, JSON.stringify(values));
  return file;
}

const rendered = new Map<string, string>();
/** The rendered manifest, its generated certificates and keys (random per render) blanked; rendered once per binary and values. */
function template(binary: string, values: Values): string {
  const key = `${binary}\0${JSON.stringify(values)}`;
  let out = rendered.get(key);
  if (out === undefined) {
    out = normalized(run(binary, ['template', 'rel', CHART, '--namespace', 'miniapps-system', '-f', valuesFile(values), ...KUBE_VERSION]));
    rendered.set(key, out);
  }
  return out;
}
function normalized(out: string): string {
  return out.replace(/^(\s*(?:tls\.crt|tls\.key|ca\.crt|caBundle): )(\S+)$/gm, (line, key: string, value: string) => (value === b64(CA_BUNDLE) ? line : `${key}<generated>`));
}
type Manifest = { kind: string; metadata: { name: string; namespace?: string } };
const id = (o: Manifest) => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`;
/** The objects of a manifest, in an order of their own (helm v3 and v4 sort kinds differently). */
const objects = (manifest: string) =>
  parseAllDocuments(manifest)
    .map((d) => d.toJS() as Manifest | null)
    .filter((o): o is Manifest => !!o)
    .sort((a, b) => id(a).localeCompare(id(b)));

/**
 * The examples merged into a few values files for `helm lint` (one lint per value would
 * take a minute): `on` (every value changed but those set to false), `off` (every value
 * set to false), and those of a profile of their own.
 */
const PROFILES: [string, Values][] = [
  ['the default values', {}],
  ...Object.entries(
    Object.entries(EXAMPLES).reduce<Record<string, Values>>((acc, [path, e]) => {
      const profile = e.profile ?? (e.set === false ? 'off' : 'on');
      acc[profile] = merge(merge(acc[profile] ?? {}, e.with ?? {}), at(path, e.set));
      return acc;
    }, {}),
  ).map(([name, values]): [string, Values] => [`every example of profile "${name}"`, values]),
];
const lint = (binary: string, values: Values) => run(binary, ['lint', CHART, '--strict', '-f', valuesFile(values), ...KUBE_VERSION]);

const validate = new Ajv({ strict: true, allErrors: true }).compile(schema);

describe('the documented values', () => {
  it('each have an example here, or a reason why the templates do not read them', () => {
    const declared = leaves(schema);
    expect(declared.filter((p) => !(p in EXAMPLES) && !(p in NOT_RENDERED))).toEqual([]);
    expect(Object.keys(EXAMPLES).filter((p) => !declared.includes(p))).toEqual([]);
  });

  it('are all the templates read (.Values.x in the templates is declared in values.schema.json)', () => {
    const declared = new Set(leaves(schema).flatMap((p) => p.split('.').map((_, i, parts) => parts.slice(0, i + 1).join('.'))));
    const templates = readdirSync(join(CHART, 'templates'))
      .map((f) => readFileSync(join(CHART, 'templates', f), 'utf8'))
      .join('\n');
    const read = [...new Set([...templates.matchAll(/\.Values\.([A-Za-z0-9_.]+)/g)].map((m) => m[1]!.replace(/\.$/, '')))];
    expect(read.length).toBeGreaterThan(30);
    expect(read.filter((p) => !declared.has(p))).toEqual([]);
  });

  it.each(Object.entries(EXAMPLES))('%s: the example satisfies values.schema.json', (path, example) => {
    const values = merge(merge(defaults, example.with ?? {}), at(path, example.set));
    expect(validate(values), JSON.stringify(validate.errors)).toBe(true);
    expect(JSON.stringify(example.set)).not.toEqual(JSON.stringify(path.split('.').reduce<unknown>((v, k) => (v as Values | undefined)?.[k], defaults)));
  });
});

describe.skipIf(!helm)('helm lint and helm template (helm v3)', () => {
  it('lint --strict passes with the default values, and the render has every kind of the chart', () => {
    expect(lint(helm!, {})).toContain('0 chart(s) failed');
    const kinds = objects(template(helm!, {})).map((o) => (o as { kind: string }).kind);
    expect(new Set(kinds)).toEqual(
      new Set([
        'CustomResourceDefinition',
        'Deployment',
        'ServiceAccount',
        'ClusterRole',
        'ClusterRoleBinding',
        'Role',
        'RoleBinding',
        'Service',
        'Secret',
        'ValidatingWebhookConfiguration',
        'PodDisruptionBudget',
        'ValidatingAdmissionPolicy',
        'ValidatingAdmissionPolicyBinding',
      ]),
    );
  });

  it.each(PROFILES)('lint --strict passes with %s', (_name, values) => {
    expect(lint(helm!, values)).toContain('0 chart(s) failed');
  });

  it.each(Object.entries(EXAMPLES))('%s: the render changes', (path, example) => {
    const base = example.with ?? {};
    const values = merge(base, at(path, example.set));
    const without = template(helm!, base);
    const withIt = template(helm!, values);
    expect(objects(withIt)).not.toEqual(objects(without));
    if (example.shows) {
      expect(withIt).toContain(example.shows);
      expect(without).not.toContain(example.shows);
    }
  });

  it.each<[string, Values, RegExp]>([
    ['a value the schema does not declare', { replicas: 2 }, /additional properties 'replicas' not allowed|replicas/],
    ['serviceAccount.create false without a name', { serviceAccount: { create: false } }, /serviceAccount.name is required/],
    ['a log level that does not exist', { logLevel: 'verbose' }, /logLevel/],
    ["metrics.secure without the APIs' TLS port (webhook.enabled false): no /metrics anywhere", { webhook: { enabled: false } }, /metrics.secure needs webhook.enabled/],
    ['a forwarded header proxies do not write', { invitations: { forwardedHeader: 'X-Real-IP' } }, /forwardedHeader/],
    ['the console without an issuer', { console: { enabled: true, publicUrl: 'https://console.example' } }, /console.enabled needs console.issuerUrl/],
    [
      "the console without a URL (the redirect URI can't be registered)",
      { console: { enabled: true, issuerUrl: 'https://id.example' } },
      /console.enabled needs console.publicUrl or console.ingress.enabled/,
    ],
    ['the console with a plain-http issuer', { console: { enabled: true, issuerUrl: 'http://id.example', publicUrl: 'https://console.example' } }, /issuerUrl/],
    [
      "the console's token roles without the APIs' port (webhook.enabled false)",
      {
        webhook: { enabled: false },
        metrics: { secure: false },
        console: { enabled: true, issuerUrl: 'https://id.example', publicUrl: 'https://console.example', tokenRolesCAConfigMap: 'operator-ca' },
      },
      /console.tokenRolesCAConfigMap needs webhook.enabled/,
    ],
    [
      "the console's sessions in the release namespace (its ServiceAccount would read the operator's Secrets)",
      merge(CONSOLE_ON, { console: { sessions: { namespace: 'miniapps-system' } } }),
      /console.sessions.namespace must not be the release namespace \(miniapps-system\)/,
    ],
    [
      "the console's sessions in the release namespace, overridden by namespaceOverride",
      merge(CONSOLE_ON, { namespaceOverride: 'operators', console: { sessions: { namespace: 'operators' } } }),
      /console.sessions.namespace must not be the release namespace \(operators\)/,
    ],
    [
      "the identity provider's Secrets in the release namespace (its ServiceAccount would read the operator's)",
      { identity: { enabled: true, issuer: 'https://id.example.com', namespace: 'miniapps-system' } },
      /identity.namespace must not be the release namespace \(miniapps-system\)/,
    ],
    [
      "the identity provider's Secrets beside the console's sessions (each ServiceAccount would read the other's)",
      merge(CONSOLE_ON, { identity: { enabled: true, issuer: 'https://id.example.com', namespace: 'shared' }, console: { sessions: { namespace: 'shared' } } }),
      /identity.namespace must not be the console's sessions namespace \(shared\)/,
    ],
  ])('refuses %s', (_name, values, message) => {
    expect(() => template(helm!, values)).toThrow(message);
  });
});

describe.skipIf(!helm)('the pods roll when what they read only at start changes', () => {
  const podAnnotations = (values: Values) => {
    const deployment = objects(template(helm!, values)).find((o) => (o as { kind: string }).kind === 'Deployment') as unknown as {
      spec: { template: { metadata: { annotations?: Record<string, string> } } };
    };
    return deployment.spec.template.metadata.annotations ?? {};
  };
  it('finding 8: another webhook.clientCA changes the pod template (a checksum annotation), podAnnotations kept', () => {
    const other = CA_BUNDLE.replace('MIIB', 'MIIC');
    const a = podAnnotations({ webhook: { clientCA: CA_BUNDLE }, podAnnotations: { 'example.com/pod': 'yes' } });
    const b = podAnnotations({ webhook: { clientCA: other }, podAnnotations: { 'example.com/pod': 'yes' } });
    expect(a['checksum/webhook-client-ca']).toMatch(/^[0-9a-f]{64}$/);
    expect(b['checksum/webhook-client-ca']).not.toEqual(a['checksum/webhook-client-ca']);
    expect(a['example.com/pod']).toBe('yes');
  });
  it("registers the console's client with the provider when both run: --identity-console-redirect-uris is the console's public URL + /auth/callback", () => {
    const both = merge(CONSOLE_ON, { identity: { enabled: true, issuer: 'https://id.example.com' } });
    expect(template(helm!, both)).toContain('--identity-console-redirect-uris=https://console.example/auth/callback\n');
    expect(template(helm!, merge(both, { console: { publicUrl: 'https://apps.example.org/' } }))).toContain('--identity-console-redirect-uris=https://apps.example.org/auth/callback\n');
    expect(template(helm!, CONSOLE_ON)).not.toContain('--identity-console-redirect-uris');
    expect(template(helm!, { identity: { enabled: true, issuer: 'https://id.example.com' } })).not.toContain('--identity-console-redirect-uris');
  });
  it("tells the console the operator's namespace, where provisioning administrators' own API keys are made", () => {
    expect(template(helm!, CONSOLE_ON)).toContain('--operator-namespace=miniapps-system');
    expect(template(helm!, merge(CONSOLE_ON, { namespaceOverride: 'operators' }))).toContain('--operator-namespace=operators');
  });
});

describe.skipIf(!helm || !helm4)('helm v4', () => {
  it.each(PROFILES)('lint --strict passes, and it renders the objects helm v3 renders, with %s', (_name, values) => {
    expect(lint(helm4!, values)).toContain('0 chart(s) failed');
    expect(objects(template(helm4!, values))).toEqual(objects(template(helm!, values)));
  });
});
