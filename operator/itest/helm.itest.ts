// The chart on the real control plane: `helm install`, `helm upgrade`, `helm uninstall`
// as the README's install section describes them, and least privilege proven: the
// operator runs out of cluster as the chart's ServiceAccount, through the in-cluster
// configuration path (KUBERNETES_SERVICE_HOST/PORT and a service account directory with
// a token from the TokenRequest API, as a pod sees it), and reconciles an Organization
// and a Membership to Ready with exactly the permissions the chart grants.
//
// The API server's audit log then says which of the chart's grants the operator used,
// and the test lists those it did not.
//
// There is no kubelet here: the Deployment's pod never runs; everything else is real.
// The file runs on a control plane of its own (with the audit log, and so that the
// release's cluster-wide objects never meet another file's). Who owns the CRDs in this
// flow: the harness installed them, as global-setup.ts does, so before `helm install`
// this test hands them to the release the way Helm adopts resources (label
// app.kubernetes.io/managed-by=Helm, annotations meta.helm.sh/release-name and
// -namespace). crds.keep (the default) is then what keeps the CRDs, and every object of
// their kinds, through `helm uninstall`, which this test checks. On a cluster where the
// CRDs are applied from crds/ by a GitOps tool, install with crds.enabled=false instead
// (the chart's README, "Installing, upgrading, uninstalling").
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { parseAllDocuments, parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Membership, Organization } from '../api/index.ts';
import { Kinds } from '../controllers/shared.ts';
import { grants } from '../domain/rbac-coverage.ts';
import type { Permission } from '../domain/rbac-coverage.ts';
import type { PolicyRule } from '../domain/rbac-types.ts';
import { systemClock } from '../runtime/clock.ts';
import { KubeClient } from '../runtime/kube/client.ts';
import { loadClusterAccess } from '../runtime/kube/kubeconfig.ts';
import type { ClusterAccess } from '../runtime/kube/kubeconfig.ts';
import { SecretStore, ServingCertificates, injectCaBundle } from '../servers/serving-cert.ts';
import { ControlPlane, eventually, uniqueName } from '../testenv/index.ts';
import { OperatorProcess } from '../testenv/operator-process.ts';
import { findTool, run } from '../testenv/tools.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHART = join(ROOT, 'charts/miniapps-operator');
const helmBin = findTool('helm');
const release = uniqueName('mo');
const ns = uniqueName('helm-ns');
const fullname = `${release}-miniapps-operator`;
const work = mkdtempSync(join(tmpdir(), 'helm-itest-'));
const org = uniqueName('helm-org');
const AUDIT_LOG = join(work, 'audit.log');
/** The chart's ServiceAccount (serviceAccount.name defaults to the full name). */
const SA_USER = `system:serviceaccount:${ns}:${fullname}`;

let cp: ControlPlane;
let admin: KubeClient;
const testKubeconfig = () => cp.kubeconfigPath;

const helm = (...args: string[]) => run(helmBin!, [...args, '--kubeconfig', testKubeconfig()]);
/** kubectl on this file's control plane. */
function kubectl(args: string[], opts: { allowFailure: true }): Promise<{ stdout: string; stderr: string; exitCode: number }>;
function kubectl(args: string[]): Promise<string>;
function kubectl(args: string[], opts: { allowFailure?: boolean } = {}): Promise<string | { stdout: string; stderr: string; exitCode: number }> {
  return new Promise((resolve, reject) => {
    execFile(join(cp.binDir, 'kubectl'), [`--kubeconfig=${testKubeconfig()}`, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 60_000 }, (err, stdout, stderr) => {
      const exitCode = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      if (opts.allowFailure) resolve({ stdout, stderr, exitCode });
      else if (exitCode !== 0) reject(new Error(`kubectl ${args.join(' ')}: ${stderr}`));
      else resolve(stdout);
    });
  });
}
type K8s = { kind: string; apiVersion: string; metadata: { name: string; namespace?: string; annotations?: Record<string, string>; labels?: Record<string, string> } };
const getJson = async <T = K8s>(...args: string[]): Promise<T | undefined> => {
  const res = await kubectl(['get', ...args, '-o', 'json'], { allowFailure: true });
  if (res.exitCode !== 0) {
    if (/NotFound|not found/.test(res.stderr)) return undefined;
    throw new Error(res.stderr);
  }
  return JSON.parse(res.stdout) as T;
};
const resourceOf = (o: K8s) => `${o.kind.toLowerCase()}.${o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : ''}`.replace(/\.$/, '');

/** The cluster-scoped objects the chart renders with these values. */
function clusterScoped(values: string[]): K8s[] {
  const rendered = run(helmBin!, ['template', release, CHART, '--namespace', ns, ...values]);
  const namespacedKinds = new Set(['Deployment', 'Service', 'ServiceAccount', 'Secret', 'Role', 'RoleBinding', 'ConfigMap']);
  return parseAllDocuments(rendered)
    .map((d) => d.toJS() as K8s | null)
    .filter((o): o is K8s => !!o && !namespacedKinds.has(o.kind));
}

/** Existing objects the release will own are handed to it, as Helm adopts resources. */
async function adopt(objects: K8s[]): Promise<string[]> {
  const adopted: string[] = [];
  for (const o of objects) {
    const ref = `${resourceOf(o)}/${o.metadata.name}`;
    if (!(await getJson(ref))) continue;
    await kubectl(['label', '--overwrite', ref, 'app.kubernetes.io/managed-by=Helm']);
    await kubectl(['annotate', '--overwrite', ref, `meta.helm.sh/release-name=${release}`, `meta.helm.sh/release-namespace=${ns}`]);
    adopted.push(ref);
  }
  return adopted;
}

beforeAll(async () => {
  if (!helmBin) return;
  // Metadata of every request the chart's ServiceAccount makes, nothing else.
  const policy = join(work, 'audit-policy.yaml');
  writeFileSync(policy, JSON.stringify({ apiVersion: 'audit.k8s.io/v1', kind: 'Policy', omitStages: ['RequestReceived'], rules: [{ level: 'Metadata', users: [SA_USER] }, { level: 'None' }] }));
  cp = await ControlPlane.start({ crdDir: join(ROOT, 'crds'), apiServerFlags: [`--audit-policy-file=${policy}`, `--audit-log-path=${AUDIT_LOG}`, '--audit-log-mode=blocking'] });
  admin = KubeClient.fromKubeconfig(cp.kubeconfigPath, { fieldManager: 'test' });
});

afterAll(async () => {
  admin?.close();
  await cp?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe.skipIf(!helmBin)('the chart on the real control plane', () => {
  const installed: K8s[] = [];

  beforeAll(async () => {
    // Only objects that exist already are adopted: the rest helm creates.
    await adopt(clusterScoped([]));
  });

  it('helm install creates the CRDs, RBAC, webhook configuration, admission policies, Services and the Deployment', async () => {
    const out = helm('install', release, CHART, '--namespace', ns, '--create-namespace');
    expect(out).toContain('STATUS: deployed');
    const manifest = helm('get', 'manifest', release, '--namespace', ns);
    installed.push(...parseAllDocuments(manifest).map((d) => d.toJS() as K8s | null).filter((o): o is K8s => !!o));
    const kinds = new Set(installed.map((o) => o.kind));
    expect(kinds).toEqual(new Set(['CustomResourceDefinition', 'ServiceAccount', 'Secret', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'Service', 'Deployment', 'ValidatingWebhookConfiguration', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']));
    // Every object of the release is there, as the API server has it.
    const missing: string[] = [];
    for (const o of installed) if (!(await getJson(`${resourceOf(o)}/${o.metadata.name}`, ...(o.metadata.namespace ? ['-n', o.metadata.namespace] : [])))) missing.push(`${o.kind} ${o.metadata.name}`);
    expect(missing).toEqual([]);

    // The webhook's certificate is the operator's to generate: an empty Secret, a webhook configuration without a caBundle.
    const secret = await getJson<{ data?: Record<string, string> }>('secret', `${fullname}-webhook-cert`, '-n', ns);
    expect(secret!.data).toBeUndefined();
    const vwc = await getJson<{ webhooks: { clientConfig: { caBundle?: string; service: { name: string; namespace: string; port: number } } }[] }>('validatingwebhookconfiguration', fullname);
    expect(vwc!.webhooks[0]!.clientConfig.caBundle).toBeUndefined();
    expect(vwc!.webhooks[0]!.clientConfig.service).toMatchObject({ name: fullname, namespace: ns, port: 443 });
    const svc = await getJson<{ spec: { ports: { name: string; port: number }[] } }>('service', fullname, '-n', ns);
    expect(svc!.spec.ports.map((p) => [p.name, p.port])).toEqual([['webhook', 443], ['metrics', 8080], ['acceptance', 8081]]);
  });

  it('helm upgrade changes what it says and keeps the webhook certificate the operator generated; webhook.enabled=false removes the webhook configuration', async () => {
    // What the operator's leader does at its first start, with the chart's flags and as the chart's ServiceAccount (RBAC: its Secrets, get and patch of this one webhook configuration).
    const args = (await getJson<{ spec: { template: { spec: { containers: { args: string[] }[] } } } }>('deployment', fullname, '-n', ns))!.spec.template.spec.containers[0]!.args;
    expect(args).toEqual(expect.arrayContaining(['--webhook-cert-rotate=true', `--webhook-configuration=${fullname}`, `--webhook-host=${fullname}.${ns}.svc`, `--webhook-cert-secret=$(POD_NAMESPACE)/${fullname}-webhook-cert`]));
    const access = loadClusterAccess({ path: testKubeconfig() });
    const asChart = new KubeClient(Object.defineProperty(Object.create(access) as ClusterAccess, 'impersonate', { value: { user: SA_USER, groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'] } }), { fieldManager: 'miniapps-operator' });
    const policy = { certDurationMs: 2160 * 3_600_000, renewBeforeMs: 720 * 3_600_000, caDurationMs: 87600 * 3_600_000, dnsNames: [`${fullname}.${ns}.svc`, `${fullname}.${ns}.svc.cluster.local`], ipAddresses: [] };
    const certs = new ServingCertificates({
      store: new SecretStore(asChart, { namespace: ns, name: `${fullname}-webhook-cert` }),
      log: pino({ level: 'silent' }),
      clock: systemClock,
      checkIntervalMs: 60_000,
      rotation: { policy, mayRotate: () => true, publish: (caPEM) => injectCaBundle(asChart, fullname, caPEM) },
    });
    const served = await certs.load();
    await asChart.close();
    const readBoth = async () => ({
      secret: (await getJson<{ data: Record<string, string> }>('secret', `${fullname}-webhook-cert`, '-n', ns))!.data,
      caBundle: (await getJson<{ webhooks: { clientConfig: { caBundle?: string } }[] }>('validatingwebhookconfiguration', fullname))!.webhooks[0]!.clientConfig.caBundle,
    });
    const before = await readBoth();
    expect(Object.keys(before.secret).sort()).toEqual(['ca.crt', 'ca.key', 'tls.crt', 'tls.key']);
    expect(before.caBundle).toBe(before.secret['ca.crt']);
    expect(Buffer.from(before.secret['tls.crt']!, 'base64').toString('utf8')).toBe(served.certPEM);

    helm('upgrade', release, CHART, '--namespace', ns, '--reuse-values', '--set', 'replicaCount=2', '--set', 'logLevel=debug');
    const deployment = await getJson<{ spec: { replicas: number; template: { spec: { containers: { args: string[] }[] } } } }>('deployment', fullname, '-n', ns);
    expect(deployment!.spec.replicas).toBe(2);
    // Two replicas: a PodDisruptionBudget keeps one through a drain.
    expect((await getJson<{ spec: { minAvailable: number } }>('poddisruptionbudget', fullname, '-n', ns))?.spec.minAvailable).toBe(1);
    expect(deployment!.spec.template.spec.containers[0]!.args).toContain('--log-level=debug');
    // Nothing of the certificate is in the chart's manifests: the upgrade leaves the operator's Secret data and caBundle as they were.
    expect(await readBoth()).toEqual(before);

    // Out of cluster the API server cannot reach the webhook's Service (no pod, no proxy): off, for the flows below.
    helm('upgrade', release, CHART, '--namespace', ns, '--reuse-values', '--set', 'webhook.enabled=false');
    expect(await getJson('validatingwebhookconfiguration', fullname)).toBeUndefined();
    expect(await getJson('secret', `${fullname}-webhook-cert`, '-n', ns)).toBeUndefined();
  });

  it('the operator, as the chart\'s ServiceAccount through the in-cluster path, reconciles an Organization and a Membership to Ready, and no request is forbidden', async () => {
    const deployment = (await getJson<{ spec: { template: { spec: { serviceAccountName: string; containers: { args: string[]; env: { name: string; value?: string; valueFrom?: unknown }[] }[] } } } }>('deployment', fullname, '-n', ns))!;
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0]!;

    // A pod's service account directory: a bound token (TokenRequest), the cluster CA, the namespace.
    const token = await admin.request<{ status: { token: string } }>('POST', `/api/v1/namespaces/${ns}/serviceaccounts/${pod.serviceAccountName}/token`, {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
    });
    const kubeconfig = parse(await kubectl(['config', 'view', '--raw', '-o', 'yaml'])) as { clusters: { cluster: { server: string; 'certificate-authority-data': string } }[] };
    const cluster = kubeconfig.clusters[0]!.cluster;
    const saDir = join(work, 'serviceaccount');
    mkdirSync(saDir, { recursive: true });
    writeFileSync(join(saDir, 'token'), token.status.token);
    writeFileSync(join(saDir, 'ca.crt'), Buffer.from(cluster['certificate-authority-data'], 'base64'));
    writeFileSync(join(saDir, 'namespace'), ns);
    const server = new URL(cluster.server);

    // The container's own flags and environment, as the kubelet would give them; its listeners on loopback ports instead.
    const podEnv: Record<string, string> = { POD_NAMESPACE: ns, POD_NAME: `${fullname}-test` };
    for (const e of container.env) if (e.value !== undefined && e.name !== 'NODE_OPTIONS') podEnv[e.name] = e.value;
    const expand = (s: string) => s.replace(/\$\((\w+)\)/g, (_, v: string) => podEnv[v] ?? '');
    const local = /^--(http|webhook|public)-bind-address=|^--(lease-duration|renew-deadline|retry-period)=/;
    const args = container.args.filter((a) => !local.test(a)).map(expand);
    expect(args).toContain(`--namespace=${ns}`);

    const operator = await OperatorProcess.start({
      kubeconfig: undefined,
      namespace: ns,
      args,
      // No kubeconfig anywhere (no flag, no KUBECONFIG, a HOME without ~/.kube): the service account is the only identity it has.
      env: { ...podEnv, KUBECONFIG: '', HOME: join(work, 'home'), KUBERNETES_SERVICE_HOST: server.hostname, KUBERNETES_SERVICE_PORT: server.port, MINIAPPS_TEST_SERVICE_ACCOUNT_DIR: saDir },
    });
    try {
      expect(operator.logs.find((l) => l.msg === 'Operator started')).toBeDefined();
      await admin.create<Organization>(Kinds.Organization, { metadata: { name: org }, spec: { displayName: 'Helm Inc' } });
      await eventually(async () => (await admin.get<Organization>(Kinds.Organization, org))?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True', { timeoutMs: 30_000, describe: 'the Organization Ready' });
      await admin.create<Membership>(Kinds.Membership, { metadata: { name: 'admin', namespace: `org-${org}` }, spec: { email: `admin@${org}.example`, role: 'OrganizationAdministrator', acceptance: 'Automatic' } });
      const m = await eventually(async () => {
        const x = await admin.get<Membership>(Kinds.Membership, 'admin', `org-${org}`);
        return x?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' && x.status.phase === 'Active' ? x : false;
      }, { timeoutMs: 30_000, describe: 'the Membership Ready and Active' });
      expect(m.status?.conditions?.find((c) => c.type === 'AccessGranted')?.status).toBe('True');
      // As whom it did that: the API server says the token is the chart's ServiceAccount.
      const review = await admin.request<{ status: { user: { username: string } } }>('POST', '/apis/authentication.k8s.io/v1/tokenreviews', { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: token.status.token } } });
      expect(review.status.user.username).toBe(`system:serviceaccount:${ns}:${pod.serviceAccountName}`);
      expect(await operator.metric('miniapps_kube_requests_total', { code: '403' })).toBe(0);
      expect(operator.logs.filter((l) => /forbidden/i.test(JSON.stringify(l))).map((l) => l.msg)).toEqual([]);
      expect(await operator.metric('miniapps_reconcile_errors_total')).toBe(0);
    } finally {
      expect((await operator.stop()).code).toBe(0);
    }

    // What it did, as the API server audited it: every request allowed and covered by a grant
    // of the chart; the grants no request used are listed.
    type Audit = { user: { username: string }; verb: string; objectRef?: { apiGroup?: string; resource?: string; subresource?: string; name?: string }; responseStatus?: { code: number } };
    const events = readFileSync(AUDIT_LOG, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Audit).filter((e) => e.user.username === SA_USER && e.objectRef?.resource);
    expect(events.length).toBeGreaterThan(20);
    expect(events.filter((e) => e.responseStatus?.code === 403)).toEqual([]);
    const used: Permission[] = events.map((e) => ({ apiGroup: e.objectRef!.apiGroup ?? '', resource: e.objectRef!.subresource ? `${e.objectRef!.resource}/${e.objectRef!.subresource}` : e.objectRef!.resource!, verb: e.verb, ...(e.objectRef!.name ? { resourceName: e.objectRef!.name } : {}) }));
    const rules = installed.filter((o) => ['ClusterRole', 'Role'].includes(o.kind)).flatMap((o) => ((o as unknown as { rules?: PolicyRule[] }).rules ?? []).map((rule) => ({ role: `${o.kind} ${o.metadata.name}`, rule })));
    expect(used.filter((p) => !rules.some(({ rule }) => grants(rule, p)))).toEqual([]);
    const unused = rules.flatMap(({ role, rule }) =>
      (rule.apiGroups ?? ['']).flatMap((apiGroup) =>
        rule.resources!.flatMap((resource) =>
          rule.verbs.filter((verb) => !used.some((p) => grants({ ...rule, apiGroups: [apiGroup], resources: [resource], verbs: [verb] }, p))).map((verb) => `${role}: ${verb} ${apiGroup || 'core'}/${resource}${rule.resourceNames ? ` [${rule.resourceNames.join(', ')}]` : ''}`),
        ),
      ),
    );
    console.log(`The chart grants ${unused.length} permission(s) that the Organization and Membership flows did not use (other controllers' and flows' needs, and the namespace access role bound in each organization namespace):\n  ${unused.join('\n  ')}`);
    expect(unused.length).toBeLessThan(rules.reduce((n, { rule }) => n + (rule.apiGroups ?? ['']).length * rule.resources!.length * rule.verbs.length, 0));
  });

  it('helm uninstall removes the release\'s objects, and keeps the CRDs (crds.keep) and the users\' objects', async () => {
    helm('uninstall', release, '--namespace', ns);
    const crds = installed.filter((o) => o.kind === 'CustomResourceDefinition');
    const others = installed.filter((o) => o.kind !== 'CustomResourceDefinition');
    expect(crds.length).toBeGreaterThan(10);
    const present = async (o: K8s) => !!(await getJson(`${resourceOf(o)}/${o.metadata.name}`, ...(o.metadata.namespace ? ['-n', o.metadata.namespace] : [])));
    expect((await Promise.all(crds.map(present))).every(Boolean)).toBe(true);
    const left: string[] = [];
    for (const o of others) if (await present(o)) left.push(`${o.kind} ${o.metadata.name}`);
    expect(left).toEqual([]);
    expect(await getJson('poddisruptionbudget', fullname, '-n', ns)).toBeUndefined();
    expect(await admin.get<Organization>(Kinds.Organization, org)).toBeDefined();
    expect(await admin.get<Membership>(Kinds.Membership, 'admin', `org-${org}`)).toBeDefined();
  });

});
