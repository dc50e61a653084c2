// The chart on the real control plane: `helm install`, `helm upgrade`, `helm uninstall`
// as docs/install.md describes them, from an OCI registry as users get the
// chart (packaged, `helm push`ed to distribution's registry on loopback over TLS, installed
// with `oci://`), and least privilege proven: the
// operator runs out of cluster as the chart's ServiceAccount, through the in-cluster
// configuration path (KUBERNETES_SERVICE_HOST/PORT and a service account directory with
// a token from the TokenRequest API, as a pod sees it), and runs a flow of every
// controller to Ready (examples/ applied as a GitOps tool applies it, the invited members
// accepting, then an API key, a tenant and an organization deleted) and of every API
// (verify, the authentication webhook, data protection, token roles), with exactly the
// permissions the chart grants.
//
// The API server's audit log then says what the operator asked: no request may be
// denied, and each single permission of the chart's rules is either used (requested, or
// handed out or bound in the RBAC the operator wrote, which the API server lets it write
// only holding those permissions) or in the declared list UNEXERCISED_GRANTS of
// chart-permissions.ts, each with why it stays; a grant that becomes unused, or a
// declared one that becomes used, fails the test.
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
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { parseAllDocuments, parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIRM_DELETE_ANNOTATION, CONFIRM_DELETE_VALUE, GROUP } from '../api/constants.ts';
import { ROTATE_KEK_ANNOTATION } from '../api/miniapp/names.ts';
import { ROTATE_TOKEN_KEY_ANNOTATION } from '../api/user/names.ts';
import { PLATFORM_CONFIG_NAME } from '../api/platformconfig/schema.ts';
import type { ApiKey } from '../api/apikey/schema.ts';
import type { Membership } from '../api/membership/schema.ts';
import type { MiniApp } from '../api/miniapp/schema.ts';
import type { Organization } from '../api/organization/schema.ts';
import { FULLNAME, SCOPES, UNEXERCISED_GRANTS } from '../chart-permissions.ts';
import type { Scope } from '../chart-permissions.ts';
import { Kinds } from '../api/registry.ts';
import { MANAGED_BY_SELECTOR } from '../runtime/objects.ts';
import { breakDown, grants } from '../domain/rbac-coverage.ts';
import type { Permission } from '../domain/rbac-coverage.ts';
import { TENANT_ADMINISTRATORS_BINDING, TENANT_ADMINISTRATOR_ROLE } from '../domain/rbac.ts';
import { RBAC_GROUP } from '../domain/rbac-types.ts';
import type { PolicyRule } from '../domain/rbac-types.ts';
import type { AnyObject } from '../runtime/kube/client.ts';
import { systemClock } from '../runtime/clock.ts';
import { KubeClient } from '../runtime/kube/client.ts';
import { loadClusterAccess } from '../runtime/kube/kubeconfig.ts';
import type { ClusterAccess } from '../runtime/kube/kubeconfig.ts';
import { Resources } from '../runtime/kube/resource.ts';
import { SecretStore } from '../runtime/certs/source.ts';
import { ServingCertificates } from '../runtime/certs/serving.ts';
import { injectCaBundle } from '../runtime/certs/cabundle.ts';
import { readKey, serviceAccountToken, verifyKey } from '../testenv/apikeys.ts';
import { deleteOrganizationsAndWait } from '../testenv/clients.ts';
import { tokenWebhookOperatorArgs } from '../testenv/controlplane.ts';
import { ControlPlane, eventually, freePort, uniqueName } from '../testenv/index.ts';
import { acceptByForm, acceptLink, invitationFlags } from '../testenv/invitations.ts';
import { OperatorProcess, httpsJson, operatorRequest } from '../testenv/operator-process.ts';
import { TestRegistry } from '../testenv/registry.ts';
import { TestSmtpServer } from '../testenv/smtp.ts';
import { VERSION } from '../runtime/version.ts';
import { findTool, run } from '../testenv/tools.ts';
import { applyExamples, kubectlOn } from './helpers.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHART = join(ROOT, 'charts/miniapps-operator');
const helmBin = findTool('helm');
/** The chart is installed and upgraded from an OCI registry, as users get it (packaged and pushed in beforeAll). */
const registryBin = helmBin ? findTool('registry') : undefined;
let registry: TestRegistry | undefined;
let chartSource: string[] = [];
const release = uniqueName('mo');
/** The release namespace: where examples/ puts the provisioning administrator's ApiKey (the operator's namespace). */
const ns = 'miniapps-system';
const fullname = `${release}-miniapps-operator`;
const work = mkdtempSync(join(tmpdir(), 'helm-itest-'));
const AUDIT_LOG = join(work, 'audit.log');
/** The chart's ServiceAccount (serviceAccount.name defaults to the full name). */
const SA_USER = `system:serviceaccount:${ns}:${fullname}`;

let cp: ControlPlane;
let admin: KubeClient;
let smtp: TestSmtpServer | undefined;
const testKubeconfig = () => cp.kubeconfigPath;

const helm = (...args: string[]) => run(helmBin!, [...args, '--kubeconfig', testKubeconfig()]);
/** kubectl on this file's control plane. */
function kubectl(args: string[], opts: { allowFailure: true }): Promise<{ stdout: string; stderr: string; exitCode: number }>;
function kubectl(args: string[]): Promise<string>;
function kubectl(args: string[], opts: { allowFailure?: boolean } = {}): Promise<string | { stdout: string; stderr: string; exitCode: number }> {
  return kubectlOn(cp, args).then((res) => {
    if (opts.allowFailure) return res;
    if (res.exitCode !== 0) throw new Error(`kubectl ${args.join(' ')}: ${res.stderr}`);
    return res.stdout;
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

type WithStatus = AnyObject & { status?: { observedGeneration?: number; conditions?: { type: string; status: string; reason: string; message: string }[] } };
type Audit = {
  user: { username: string };
  verb: string;
  requestURI: string;
  stageTimestamp: string;
  objectRef?: { apiGroup?: string; resource?: string; subresource?: string; namespace?: string; name?: string };
  responseStatus?: { code: number; message?: string };
  annotations?: Record<string, string>;
};
/** Refused by the authorizer (the chart does not grant it), not by admission. */
const deniedByRbac = (e: Audit) => e.annotations?.['authorization.k8s.io/decision'] === 'forbid';
/** A request as the authorizer saw it: create, list, watch and deletecollection are authorized without a name. */
const permissionOf = (e: Audit): { namespace?: string; p: Permission } => {
  const ref = e.objectRef!;
  const named = ref.name !== undefined && !['create', 'list', 'watch', 'deletecollection'].includes(e.verb);
  return {
    namespace: ref.namespace,
    p: { apiGroup: ref.apiGroup ?? '', resource: ref.subresource ? `${ref.resource}/${ref.subresource}` : ref.resource!, verb: e.verb, ...(named ? { resourceName: ref.name } : {}) },
  };
};
const permissionText = (p: Permission) => `${p.verb} ${p.apiGroup || 'core'}/${p.resource}${p.resourceName ? ` (${p.resourceName.replace(fullname, FULLNAME)})` : ''}`;
const requestText = (e: Audit) => (e.objectRef?.resource ? `${permissionText(permissionOf(e).p)} in ${e.objectRef.namespace ?? 'the cluster'}` : `${e.verb} ${e.requestURI}`);

/** A single permission as a rule that grants it alone. */
const asRule = (p: Permission): PolicyRule => ({ apiGroups: [p.apiGroup], resources: [p.resource], verbs: [p.verb], ...(p.resourceName === undefined ? {} : { resourceNames: [p.resourceName] }) });

type RbacObject = AnyObject & { kind: string; metadata: { name: string; namespace?: string }; rules: PolicyRule[]; roleRef: { kind: string; name: string } };
/** The chart's roles, each rule with the scope of chart-permissions.ts it belongs to. */
function chartRoles(installed: K8s[]): { scope: Scope; rule: PolicyRule }[] {
  return installed.flatMap((o) => {
    const scope = (Object.keys(SCOPES) as Scope[]).find((k) => SCOPES[k].kind === o.kind && SCOPES[k].name.replace(FULLNAME, fullname) === o.metadata.name);
    return scope ? ((o as unknown as RbacObject).rules ?? []).map((rule) => ({ scope, rule })) : [];
  });
}
/** The Roles, ClusterRoles and bindings the operator wrote (its label), as they are now. */
async function writtenRbac(): Promise<{ roles: RbacObject[]; bindings: RbacObject[] }> {
  const list = async (rt: (typeof Resources)[keyof typeof Resources]) => (await admin.listAll<RbacObject>(rt, { labelSelector: MANAGED_BY_SELECTOR })).items.map((o) => ({ ...o, kind: rt.kind }));
  const [roles, clusterRoles, bindings, clusterBindings] = await Promise.all([Resources.Role, Resources.ClusterRole, Resources.RoleBinding, Resources.ClusterRoleBinding].map(list));
  return { roles: [...roles!, ...clusterRoles!], bindings: [...bindings!, ...clusterBindings!] };
}
beforeAll(async () => {
  if (!helmBin) return;
  // Metadata of every request the chart's ServiceAccount makes, nothing else.
  const policy = join(work, 'audit-policy.yaml');
  writeFileSync(policy, JSON.stringify({ apiVersion: 'audit.k8s.io/v1', kind: 'Policy', omitStages: ['RequestReceived'], rules: [{ level: 'Metadata', users: [SA_USER] }, { level: 'None' }] }));
  cp = await ControlPlane.start({ crdDir: join(ROOT, 'crds'), apiServerFlags: [`--audit-policy-file=${policy}`, `--audit-log-path=${AUDIT_LOG}`, '--audit-log-mode=blocking'], tokenWebhook: true });
  admin = KubeClient.fromKubeconfig(cp.kubeconfigPath, { fieldManager: 'test' });
  if (registryBin) {
    registry = await TestRegistry.start(registryBin);
    const pkgDir = join(work, 'package');
    mkdirSync(pkgDir);
    run(helmBin, ['package', CHART, '-d', pkgDir]);
    run(helmBin, ['push', join(pkgDir, `miniapps-operator-${VERSION}.tgz`), `oci://${registry.host}/charts`, '--ca-file', registry.caFile]);
    chartSource = [`oci://${registry.host}/charts/miniapps-operator`, '--version', VERSION, '--ca-file', registry.caFile];
  } else {
    chartSource = [CHART];
  }
});

afterAll(async () => {
  await registry?.stop();
  await smtp?.stop();
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
    const out = helm('install', release, ...chartSource, '--namespace', ns, '--create-namespace');
    expect(out).toContain('STATUS: deployed');
    const manifest = helm('get', 'manifest', release, '--namespace', ns);
    installed.push(
      ...parseAllDocuments(manifest)
        .map((d) => d.toJS() as K8s | null)
        .filter((o): o is K8s => !!o),
    );
    const kinds = new Set(installed.map((o) => o.kind));
    // Two replicas by default, so a PodDisruptionBudget keeps one answering the fail-closed webhook through a drain.
    expect(kinds).toEqual(
      new Set([
        'CustomResourceDefinition',
        'ServiceAccount',
        'Secret',
        'ClusterRole',
        'ClusterRoleBinding',
        'Role',
        'RoleBinding',
        'Service',
        'Deployment',
        'PodDisruptionBudget',
        'ValidatingWebhookConfiguration',
        'ValidatingAdmissionPolicy',
        'ValidatingAdmissionPolicyBinding',
      ]),
    );
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
    expect(svc!.spec.ports.map((p) => [p.name, p.port])).toEqual([
      ['webhook', 443],
      ['api', 8443],
      ['metrics', 8080],
      ['acceptance', 8081],
    ]);
  });

  it('helm upgrade changes what it says and keeps the webhook certificate the operator generated; webhook.enabled=false removes the webhook configuration', async () => {
    // What the operator's leader does at its first start, with the chart's flags and as the chart's ServiceAccount (RBAC: its Secrets, get and patch of this one webhook configuration).
    const args = (await getJson<{ spec: { template: { spec: { containers: { args: string[] }[] } } } }>('deployment', fullname, '-n', ns))!.spec.template.spec.containers[0]!.args;
    expect(args).toEqual(
      expect.arrayContaining([
        '--webhook-cert-rotate=true',
        `--webhook-configuration=${fullname}`,
        `--webhook-host=${fullname}.${ns}.svc`,
        `--webhook-cert-secret=$(POD_NAMESPACE)/${fullname}-webhook-cert`,
      ]),
    );
    // With a token of the chart's ServiceAccount (not impersonation: the audit log below counts what its own requests used).
    const access = loadClusterAccess({ path: testKubeconfig() });
    const saToken = await serviceAccountToken(admin, ns, fullname, 600);
    const asChart = new KubeClient(
      Object.defineProperties(Object.create(access) as ClusterAccess, {
        cert: { value: undefined },
        key: { value: undefined },
        impersonate: { value: undefined },
        headers: { value: async () => ({ authorization: `Bearer ${saToken}` }) },
      }),
      { fieldManager: 'miniapps-operator' },
    );
    const policy = {
      certDurationMs: 2160 * 3_600_000,
      renewBeforeMs: 720 * 3_600_000,
      caDurationMs: 87600 * 3_600_000,
      dnsNames: [`${fullname}.${ns}.svc`, `${fullname}.${ns}.svc.cluster.local`],
      ipAddresses: [],
    };
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
    // The fail-closed last-administrator webhook gets the same bundle: without it the API server could not call it, and would refuse.
    const hooks = (await getJson<{ webhooks: { name: string; clientConfig: { caBundle?: string } }[] }>('validatingwebhookconfiguration', fullname))!.webhooks;
    expect(hooks.map((h) => [h.name, h.clientConfig.caBundle])).toEqual([
      ['validate.miniapps.dev', before.caBundle],
      ['last-administrator.miniapps.dev', before.caBundle],
    ]);
    expect(Buffer.from(before.secret['tls.crt']!, 'base64').toString('utf8')).toBe(served.certPEM);

    helm('upgrade', release, ...chartSource, '--namespace', ns, '--reuse-values', '--set', 'replicaCount=3', '--set', 'logLevel=debug');
    const deployment = await getJson<{ spec: { replicas: number; template: { spec: { containers: { args: string[] }[] } } } }>('deployment', fullname, '-n', ns);
    expect(deployment!.spec.replicas).toBe(3);
    // More than one replica: a PodDisruptionBudget keeps one through a drain.
    expect((await getJson<{ spec: { minAvailable: number } }>('poddisruptionbudget', fullname, '-n', ns))?.spec.minAvailable).toBe(1);
    expect(deployment!.spec.template.spec.containers[0]!.args).toContain('--log-level=debug');
    // Nothing of the certificate is in the chart's manifests: the upgrade leaves the operator's Secret data and caBundle as they were.
    expect(await readBoth()).toEqual(before);

    // Out of cluster the API server cannot reach the webhook's Service (no pod, no proxy): off, for the flows below.
    // metrics.secure goes with it (the chart refuses metrics.secure without the APIs' TLS port, which webhook.enabled=false turns off).
    expect(() => helm('upgrade', release, ...chartSource, '--namespace', ns, '--reuse-values', '--set', 'webhook.enabled=false')).toThrow(/metrics.secure needs webhook.enabled/);
    helm('upgrade', release, ...chartSource, '--namespace', ns, '--reuse-values', '--set', 'webhook.enabled=false', '--set', 'metrics.secure=false');
    expect(await getJson('validatingwebhookconfiguration', fullname)).toBeUndefined();
    expect(await getJson('secret', `${fullname}-webhook-cert`, '-n', ns)).toBeUndefined();
  });

  it("the operator, as the chart's ServiceAccount through the in-cluster path, runs a flow of every controller and API to Ready, and no request is forbidden", async () => {
    const deployment = (await getJson<{ spec: { template: { spec: { serviceAccountName: string; containers: { args: string[]; env: { name: string; value?: string; valueFrom?: unknown }[] }[] } } } }>(
      'deployment',
      fullname,
      '-n',
      ns,
    ))!;
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0]!;

    // A pod's service account directory: a bound token (TokenRequest), the cluster CA, the namespace.
    const token = await admin.request<{ status: { token: string } }>('POST', `/api/v1/namespaces/${ns}/serviceaccounts/${pod.serviceAccountName}/token`, {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
    });
    const kubeconfig = parse(await kubectl(['config', 'view', '--raw', '-o', 'yaml'])) as { clusters: { cluster: { server: string; 'certificate-authority-data': string } }[] };
    const cluster = kubeconfig.clusters[0]!.cluster;
    const clusterCA = Buffer.from(cluster['certificate-authority-data'], 'base64');
    const saDir = join(work, 'serviceaccount');
    mkdirSync(saDir, { recursive: true });
    writeFileSync(join(saDir, 'token'), token.status.token);
    writeFileSync(join(saDir, 'ca.crt'), clusterCA);
    writeFileSync(join(saDir, 'namespace'), ns);
    const server = new URL(cluster.server);

    // The container's own flags and environment, as the kubelet would give them; its listeners on
    // loopback ports instead: the TLS one where the API server's authentication webhook calls it, the
    // acceptance page where the invitations' links point, and an SMTP server of the test's.
    const podEnv: Record<string, string> = { POD_NAMESPACE: ns, POD_NAME: `${fullname}-test` };
    for (const e of container.env) if (e.value !== undefined && e.name !== 'NODE_OPTIONS') podEnv[e.name] = e.value;
    const expand = (s: string) => s.replace(/\$\((\w+)\)/g, (_, v: string) => podEnv[v] ?? '');
    const local = /^--(http|webhook|api|public)-bind-address=|^--(lease-duration|renew-deadline|retry-period)=|^--public-url=/;
    smtp = await TestSmtpServer.start();
    const args = [...container.args.filter((a) => !local.test(a)).map(expand), ...tokenWebhookOperatorArgs(cp.tokenWebhook!), ...invitationFlags(smtp.port, await freePort())];
    expect(args).toContain(`--namespace=${ns}`);
    const caPEM = readFileSync(join(cp.tokenWebhook!.certDir, 'ca.crt'), 'utf8');

    const operator = await OperatorProcess.start({
      kubeconfig: undefined,
      namespace: ns,
      args,
      // No kubeconfig anywhere (no flag, no KUBECONFIG, a HOME without ~/.kube): the service account is the only identity it has.
      env: { ...podEnv, KUBECONFIG: '', HOME: join(work, 'home'), KUBERNETES_SERVICE_HOST: server.hostname, KUBERNETES_SERVICE_PORT: server.port, MINIAPPS_TEST_SERVICE_ACCOUNT_DIR: saDir },
    });
    const snapshots: { roles: RbacObject[]; bindings: RbacObject[] }[] = [];
    try {
      expect(operator.logs.find((l) => l.msg === 'Operator started')).toBeDefined();
      // As whom it runs: the API server says the token is the chart's ServiceAccount.
      const review = await admin.request<{ status: { user: { username: string } } }>('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: token.status.token } },
      });
      expect(review.status.user.username).toBe(SA_USER);

      // Every controller's kinds, as examples/ has them: PlatformConfig, Organizations (one with an icon),
      // Memberships (automatic and invited), a SuperApp, MiniApps (a data key, a catalog), MiniAppReviews,
      // ApiKeys (in the operator's namespace and an organization's), a Solution with its manifest in a
      // ConfigMap, an AppManifest, Tenants, their Subscriptions (which make the UserGroups) and a User.
      const applied = await applyExamples(cp, admin, 'gitops');
      const custom = applied.filter((o) => o.apiVersion?.startsWith('miniapps.dev/'));
      expect(new Set(custom.map((o) => o.kind))).toEqual(new Set(Object.keys(Kinds).filter((k) => k !== 'UserGroup')));

      // A provisioning administrator's key that rotates every 2 s (its rotated-out Secret deleted after a 1 s grace period).
      await admin.create(Kinds.ApiKey, { metadata: { name: 'rotating', namespace: ns }, spec: { owner: 'platform-admin@example.com', ttl: '1h', rotation: { period: '2s', gracePeriod: '1s' } } });
      // And an Organization that adopts a namespace which opted in (released, not deleted, with it).
      await admin.create(Resources.Namespace, { metadata: { name: 'adopted', annotations: { 'miniapps.dev/adoptable-by': 'Organization/adopter' } } });
      await admin.create(Kinds.Organization, { metadata: { name: 'adopter' }, spec: { displayName: 'Adopter', namespace: 'adopted' } });
      custom.push({ apiVersion: 'miniapps.dev/v1alpha1', kind: 'Organization', metadata: { name: 'adopter' } });

      // Item 1 of issue 16, with the chart's policy: status is written by the chart's ServiceAccount alone (the whole flow
      // below writes it as that), not by the cluster's administrator (system:masters) nor anyone else.
      const statusWrite = await admin
        .request('PATCH', `/apis/miniapps.dev/v1alpha1/organizations/acme-bank/status`, { body: { status: { namespace: 'kube-system' } }, contentType: 'application/merge-patch+json' })
        .then(
          () => 'written',
          (e: { status?: number; message?: string }) => `${e.status} ${e.message}`,
        );
      expect(statusWrite).toContain(`403 `);
      expect(statusWrite).toContain(`Only the miniapps operator (${SA_USER}) writes the status of Organization acme-bank`);

      // The invited members accept on the acceptance page, with the link their email holds.
      const invited = ['bob@acme-bank.example', 'dave@fintech-partner.example'];
      await eventually(() => invited.every((to) => smtp!.messages.some((m) => m.to.includes(to))), { timeoutMs: 30_000, describe: `invitations to ${invited.join(', ')}` });
      for (const to of invited) expect((await acceptByForm(acceptLink(smtp.messages.find((m) => m.to.includes(to))!))).status).toBe(200);

      // Everything Ready at its generation, and the UserGroups the Subscriptions made.
      const notReady = async () => {
        const groups = (await Promise.all(['tenant-contoso', 'tenant-northwind'].map((n) => admin.listAll<AnyObject>(Kinds.UserGroup, { namespace: n })))).flatMap((l) => l.items);
        expect(groups.length).toBeGreaterThanOrEqual(6); // three groups for each Subscription
        const all = [
          ...custom.map((o) => ({ kind: o.kind!, name: o.metadata.name!, namespace: o.metadata.namespace })),
          ...groups.map((g) => ({ kind: 'UserGroup', name: g.metadata.name!, namespace: g.metadata.namespace })),
        ];
        const states = await Promise.all(
          all.map(async (o) => {
            const x = await admin.get<WithStatus>(Kinds[o.kind as keyof typeof Kinds], o.name, o.namespace);
            const ready = x?.status?.conditions?.find((c) => c.type === 'Ready');
            return ready?.status === 'True' && x!.status!.observedGeneration === x!.metadata.generation
              ? undefined
              : `${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}: ${ready ? `${ready.reason}: ${ready.message}` : 'no Ready condition yet'}`;
          }),
        );
        return states.filter((x): x is string => !!x);
      };
      await eventually(
        async () => {
          const left = await notReady();
          if (left.length) throw new Error(left.join('\n'));
          return true;
        },
        { timeoutMs: 90_000, describe: 'every object Ready at its generation' },
      );

      // The APIs beside the controllers, each asked as its callers ask it.
      // The verify endpoint: a gateway allowed to verify keys (TokenReview, SubjectAccessReview).
      await admin.create(Resources.Namespace, { metadata: { name: 'gateways' } });
      await admin.create(Resources.ClusterRoleBinding, {
        metadata: { name: 'gateway-verifier' },
        roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: 'miniapps:api-key-verifier' },
        subjects: [{ kind: 'ServiceAccount', name: 'gateway', namespace: 'gateways' }],
      });
      const gateway = await serviceAccountToken(admin, 'gateways', 'gateway');
      const adminKey = await readKey(admin, (await admin.get<ApiKey>(Kinds.ApiKey, 'platform-automation', ns))!);
      await eventually(async () => (await verifyKey(operator.verifyPort, gateway, adminKey)).body.valid === true, { describe: "the verify endpoint accepting the administrator's key" });
      expect((await verifyKey(operator.verifyPort, gateway, adminKey)).body).toMatchObject({ valid: true, owner: 'platform-admin@example.com' });
      // The authentication webhook: the API server asks the operator whose key it is.
      const erinKey = await readKey(admin, (await admin.get<ApiKey>(Kinds.ApiKey, 'erin-review-bot', 'org-fintech-partner'))!);
      const whoami = await eventually(
        async () => {
          const r = await httpsJson({ host: server.hostname, port: Number(server.port), ca: clusterCA }, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', erinKey, {
            apiVersion: 'authentication.k8s.io/v1',
            kind: 'SelfSubjectReview',
          });
          return r.status === 201 ? r.body : false;
        },
        { describe: "the API server authenticating Erin's key" },
      );
      expect(JSON.stringify(whoami)).toContain('erin@fintech-partner.example');
      // The data-protection API: a data store that may read quick-pay and reveal its data.
      await admin.create(Resources.Role, {
        metadata: { name: 'store', namespace: 'org-fintech-partner' },
        rules: [
          { apiGroups: [GROUP], resources: ['miniapps'], verbs: ['get'] },
          { apiGroups: [GROUP], resources: ['miniapps/reveal'], verbs: ['create'], resourceNames: ['quick-pay'] },
        ],
      });
      await admin.create(Resources.RoleBinding, {
        metadata: { name: 'store', namespace: 'org-fintech-partner' },
        roleRef: { apiGroup: RBAC_GROUP, kind: 'Role', name: 'store' },
        subjects: [{ kind: 'ServiceAccount', name: 'store', namespace: 'org-fintech-partner' }],
      });
      const store = await serviceAccountToken(admin, 'org-fintech-partner', 'store');
      const quickPay = { organization: 'fintech-partner', name: 'quick-pay' };
      const protectedValues = await eventually(
        async () => {
          const r = await operatorRequest(operator.apiPort, caPEM, 'POST', '/dataprotection/v1/protect', store, { miniApp: quickPay, values: ['Jane Doe'] });
          if (r.status !== 200) throw new Error(JSON.stringify(r));
          return r.body;
        },
        { describe: 'protect for quick-pay' },
      );
      expect(protectedValues.protection).toBe('EnvelopeEncryption');
      expect((await operatorRequest(operator.apiPort, caPEM, 'POST', '/dataprotection/v1/reveal', store, { miniApp: quickPay, values: protectedValues.values })).body).toEqual({
        values: ['Jane Doe'],
      });
      // The token-roles API: a tenant's gateway asks for a user's roles in an app, as a signed JWT.
      await admin.create(Resources.RoleBinding, {
        metadata: { name: 'gateway', namespace: 'tenant-contoso' },
        roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: TENANT_ADMINISTRATOR_ROLE },
        subjects: [{ kind: 'ServiceAccount', name: 'gateway', namespace: 'tenant-contoso' }],
      });
      const tenantGateway = await serviceAccountToken(admin, 'tenant-contoso', 'gateway');
      const answer = await eventually(
        async () => {
          const r = await operatorRequest(operator.apiPort, caPEM, 'POST', '/tokenroles/v1/roles', tenantGateway, {
            namespace: 'tenant-contoso',
            user: 'thandi-mokoena',
            app: { organization: 'acme-bank', name: 'gated-frontend' },
            jwt: true,
          });
          if (r.status !== 200) throw new Error(JSON.stringify(r));
          return r.body;
        },
        { describe: "thandi's token roles" },
      );
      expect(answer.roles).toEqual(['role:gated-frontend:field-entry', 'role:gated-frontend:owner', 'role:gated-frontend:viewer']);
      expect(answer.token).toEqual(expect.any(String));

      await eventually(async () => ((await admin.get<ApiKey>(Kinds.ApiKey, 'rotating', ns))?.status?.rotationRevision ?? 0) >= 1 && !(await admin.get(Resources.Secret, 'rotating-r0', ns)), {
        timeoutMs: 30_000,
        describe: 'the rotating key rotated and its first Secret deleted',
      });
      // Rotations: a new key-encryption key version (each data key rewrapped) and a new token signing key.
      await admin.patch(Kinds.PlatformConfig, PLATFORM_CONFIG_NAME, undefined, { metadata: { annotations: { [ROTATE_KEK_ANNOTATION]: 'r1', [ROTATE_TOKEN_KEY_ANNOTATION]: 'r1' } } });
      await eventually(async () => (await admin.get<MiniApp>(Kinds.MiniApp, 'quick-pay', 'org-fintech-partner'))?.status?.dataKey?.keyEncryptionKeyId === 'v2', {
        describe: "quick-pay's data key rewrapped with v2",
      });
      await eventually(async () => ((await operatorRequest(operator.apiPort, caPEM, 'GET', '/tokenroles/v1/jwks.json')).body.keys as unknown[]).length === 2, {
        describe: 'a second token signing key published',
      });
      // Access taken away: a member suspended (their Role and RoleBinding go), a tenant left without administrators (their RoleBinding goes).
      const bob = (await admin.get<Membership>(Kinds.Membership, 'bob', 'org-acme-bank'))!;
      const ownedByBob = async () =>
        (
          await Promise.all(
            [Resources.Role, Resources.RoleBinding].map(async (rt) =>
              (await admin.listAll(rt, { namespace: 'org-acme-bank' })).items.filter((o) => o.metadata.ownerReferences?.some((r) => r.uid === bob.metadata.uid)).map(() => rt.kind),
            ),
          )
        ).flat();
      expect(await ownedByBob()).toEqual(['Role', 'RoleBinding']);
      await admin.patch(Kinds.Membership, 'bob', 'org-acme-bank', { spec: { suspended: true } });
      await admin.patch(Kinds.Tenant, 'contoso', undefined, { spec: { administrators: [] } });
      await eventually(async () => !(await admin.get(Resources.RoleBinding, TENANT_ADMINISTRATORS_BINDING, 'tenant-contoso')), { describe: "the tenant administrators' binding removed" });
      await eventually(async () => (await admin.get<Membership>(Kinds.Membership, 'bob', 'org-acme-bank'))?.status?.phase === 'Suspended' && (await ownedByBob()).length === 0, {
        describe: 'bob suspended, his Role and RoleBinding removed',
      });
      // Its last active member suspended too: the Organization's ClusterRoles and their bindings, which nobody holds any more, go.
      const orgGrants = ['miniapps:org:acme-bank:member', 'miniapps:org:acme-bank:administrator'];
      expect(await Promise.all(orgGrants.map(async (n) => !!(await admin.get(Resources.ClusterRole, n)) && !!(await admin.get(Resources.ClusterRoleBinding, n))))).toEqual([true, true]);
      await admin.patch(Kinds.Membership, 'alice', 'org-acme-bank', { spec: { suspended: true } });
      await eventually(async () => (await Promise.all(orgGrants.flatMap((n) => [admin.get(Resources.ClusterRole, n), admin.get(Resources.ClusterRoleBinding, n)]))).every((o) => o === undefined), {
        describe: "acme-bank's ClusterRoles and bindings removed",
      });

      // A mini app deleted (confirmed): its data key shredded, the catalog rewritten without it.
      await admin.patch(Kinds.MiniApp, 'quick-pay', 'org-fintech-partner', { metadata: { annotations: { [CONFIRM_DELETE_ANNOTATION]: CONFIRM_DELETE_VALUE } } });
      await admin.delete(Kinds.MiniApp, 'quick-pay', 'org-fintech-partner');
      await eventually(async () => !(await admin.get(Kinds.MiniApp, 'quick-pay', 'org-fintech-partner')) && !(await admin.get(Resources.Secret, 'quick-pay-data-key', 'org-fintech-partner')), {
        describe: 'quick-pay and its data key gone',
      });

      // What the operator handed out and bound, before the deletions take some of it away.
      snapshots.push(await writtenRbac());

      // The deletion paths: an API key revoked by deletion, a tenant and an organization (with its
      // namespace, members, mini apps and their data keys) deleted.
      await admin.delete(Kinds.ApiKey, 'platform-automation', ns);
      await admin.delete(Kinds.ApiKey, 'rotating', ns);
      await admin.delete(Kinds.Tenant, 'northwind');
      await deleteOrganizationsAndWait(admin, ['fintech-partner', 'adopter']);
      const adopted = await admin.get<AnyObject>(Resources.Namespace, 'adopted');
      expect(adopted?.metadata.deletionTimestamp).toBeUndefined();
      expect(adopted?.metadata.labels).toEqual({ 'kubernetes.io/metadata.name': 'adopted' }); // the operator's labels gone
      // Its binding there goes with the Organization (the garbage collector), its finalizer already let go.
      await eventually(async () => !(await admin.get(Resources.RoleBinding, 'miniapps-operator', 'adopted')), { describe: "the operator's binding in the released namespace gone" });
      await eventually(async () => !(await admin.get(Kinds.ApiKey, 'platform-automation', ns)) && !(await admin.get(Kinds.ApiKey, 'rotating', ns)) && !(await admin.get(Kinds.Tenant, 'northwind')), {
        timeoutMs: 60_000,
        describe: 'the ApiKeys and the Tenant deleted',
      });
      snapshots.push(await writtenRbac());

      // Nothing the authorizer refused, as the operator saw it (the audit log below says it as the API server saw it).
      expect(operator.logs.map((l) => JSON.stringify(l)).filter((l) => /cannot \w+ resource/.test(l))).toEqual([]);
    } catch (err) {
      // What went wrong, as the operator and the API server saw it.
      const denied = readFileSync(AUDIT_LOG, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Audit)
        .filter((e) => e.user.username === SA_USER && deniedByRbac(e));
      console.log(
        `Denied requests: ${[...new Set(denied.map(requestText))].join('; ') || 'none'}\nThe operator's last warnings and errors:\n${operator.logs
          .filter((l) => l.level === 'warn' || l.level === 'error')
          .slice(-20)
          .map((l) => JSON.stringify(l))
          .join('\n')}`,
      );
      throw err;
    } finally {
      expect((await operator.stop()).code).toBe(0);
    }

    // What it did, as the API server audited it: no request denied, each covered by a grant of
    // the chart that applies where it was made.
    const events = readFileSync(AUDIT_LOG, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Audit)
      .filter((e) => e.user.username === SA_USER);
    expect(events.length).toBeGreaterThan(100);
    // RBAC denied nothing; the only other refusals are the API server's (NamespaceLifecycle) of new
    // content in the namespaces being deleted, which the controllers there still reconciled.
    expect(events.filter(deniedByRbac).map(requestText)).toEqual([]);
    const deletedNamespaces = ['org-fintech-partner', 'tenant-northwind'];
    expect(
      events
        .filter((e) => e.responseStatus?.code === 403 && !(deletedNamespaces.includes(e.objectRef?.namespace ?? '') && /because it is being terminated/.test(e.responseStatus.message ?? '')))
        .map(requestText),
    ).toEqual([]);

    // Every Role, ClusterRole and binding it wrote (before and after the deletions), by its label.
    const key = (o: { kind: string; metadata: { namespace?: string; name: string } }) => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    const written = { roles: new Map<string, RbacObject>(), bindings: new Map<string, RbacObject>() };
    for (const snap of snapshots) for (const part of ['roles', 'bindings'] as const) for (const o of snap[part]) written[part].set(key(o), o);
    const kindOf: Record<string, string> = { roles: 'Role', clusterroles: 'ClusterRole', rolebindings: 'RoleBinding', clusterrolebindings: 'ClusterRoleBinding' };
    const rbacKey = (e: Audit) => `${kindOf[e.objectRef!.resource!]} ${e.objectRef!.namespace ?? ''}/${e.objectRef!.name}`;
    const rbacEvents = events.filter((e) => e.objectRef?.apiGroup === RBAC_GROUP && !e.objectRef.subresource && e.objectRef.name && (e.responseStatus?.code ?? 500) < 300);
    const deleted = new Set(rbacEvents.filter((e) => e.verb === 'delete').map(rbacKey));
    const unseen = rbacEvents
      .filter((e) => ['create', 'update', 'patch'].includes(e.verb))
      .map(rbacKey)
      .filter((k) => !written.roles.has(k) && !written.bindings.has(k) && !deleted.has(k));
    expect(unseen, 'RBAC the operator wrote without its label').toEqual([]);

    // Where each of the chart's roles applies: the namespace access ClusterRole where the operator bound it.
    const accessNamespaces = new Set([...written.bindings.values()].filter((b) => b.roleRef.kind === 'ClusterRole' && b.roleRef.name === `${fullname}-namespace`).map((b) => b.metadata.namespace!));
    expect(accessNamespaces).toContain('org-acme-bank');
    const appliesIn = (scope: Scope, namespace: string | undefined) =>
      scope === 'cluster' || (namespace !== undefined && (scope === 'ownNamespace' ? namespace === ns : accessNamespaces.has(namespace)));
    const roles = chartRoles(installed);
    const held = (namespace: string | undefined, p: Permission) => roles.some((r) => appliesIn(r.scope, namespace) && grants(r.rule, p));
    const where = ({ namespace, p }: { namespace?: string; p: Permission }) => `${permissionText(p)} in ${namespace ?? 'the cluster'}`;
    // A server-side apply that creates the object (201) is also authorized as `create`, which the audit does not show as a request of its own.
    const used = events
      .filter((e) => e.objectRef?.resource)
      .flatMap((e) => {
        const asked = permissionOf(e);
        return e.verb === 'patch' && e.responseStatus?.code === 201 ? [asked, { namespace: asked.namespace, p: { ...asked.p, verb: 'create', resourceName: undefined } }] : [asked];
      });
    expect(used.filter(({ namespace, p }) => !held(namespace, p)).map(where)).toEqual([]);

    // It has no escalate: each Role and ClusterRole it wrote hands out only permissions it holds where
    // the role applies, and those permissions of the chart are used though no request shows them. A
    // binding needs the role's permissions held there, or bind on the role: then bind is used.
    const handedOut = [...written.roles.values()].flatMap((role) => role.rules.flatMap(breakDown).map((p) => ({ namespace: role.metadata.namespace, p })));
    expect(handedOut.filter(({ namespace, p }) => !held(namespace, p)).map(where)).toEqual([]);
    const roleOf = (ref: { kind: string; name: string }, namespace?: string) =>
      written.roles.get(`${ref.kind} ${ref.kind === 'Role' ? namespace : ''}/${ref.name}`) ?? (installed.find((o) => o.kind === ref.kind && o.metadata.name === ref.name) as RbacObject | undefined);
    const bound = [...written.bindings.values()].flatMap((b) => {
      const target = roleOf(b.roleRef, b.metadata.namespace);
      expect(target, `the role of ${key(b)}`).toBeDefined();
      // What it holds there without this binding (the namespace access one gives what it binds) and without bind.
      const self = b.roleRef.name === `${fullname}-namespace`;
      const holdsAll = target!.rules
        .flatMap(breakDown)
        .every((p) => roles.some((r) => appliesIn(r.scope, b.metadata.namespace) && !(self && r.scope === 'namespaceAccess') && !r.rule.verbs.includes('bind') && grants(r.rule, p)));
      return holdsAll
        ? []
        : [{ namespace: b.metadata.namespace, p: { apiGroup: RBAC_GROUP, resource: b.roleRef.kind === 'Role' ? 'roles' : 'clusterroles', verb: 'bind', resourceName: b.roleRef.name } }];
    });
    expect(bound.filter(({ namespace, p }) => !held(namespace, p)).map(where)).toEqual([]);

    // The chart's grants no flow used, each single permission of each rule: exactly those declared
    // (chart-permissions.ts), each with why it stays.
    const needed = [...used, ...handedOut, ...bound];
    const usage = roles.flatMap((r) =>
      breakDown(r.rule).map((single) => ({
        grant: `${SCOPES[r.scope].kind} ${SCOPES[r.scope].name}: ${permissionText(single)}`,
        used: needed.some(({ namespace, p }) => appliesIn(r.scope, namespace) && grants(asRule(single), p)),
      })),
    );
    const unused = usage.filter((u) => !u.used).map((u) => u.grant);
    const declared = new Map(UNEXERCISED_GRANTS.map((g) => [g.grant, g.why]));
    console.log(
      `The chart's grants that no flow used (${unused.length} of ${usage.length}):\n${unused.map((g) => `  ${g}\n      ${declared.get(g) ?? 'NOT DECLARED in operator/chart-permissions.ts'}`).join('\n')}`,
    );
    expect({ unusedButNotDeclared: unused.filter((g) => !declared.has(g)), declaredButUsed: [...declared.keys()].filter((g) => !unused.includes(g)) }).toEqual({
      unusedButNotDeclared: [],
      declaredButUsed: [],
    });
  });

  it("helm uninstall removes the release's objects, and keeps the CRDs (crds.keep) and the users' objects", async () => {
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
    expect(await admin.get<Organization>(Kinds.Organization, 'acme-bank')).toBeDefined();
    expect(await admin.get<Membership>(Kinds.Membership, 'alice', 'org-acme-bank')).toBeDefined();
  });
});
