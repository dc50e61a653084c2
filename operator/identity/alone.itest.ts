// The embedded identity provider as the Helm chart deploys it (identity.enabled): its own
// process (--identity-only) under its own ServiceAccount, with exactly the rules the chart
// renders (helm template) and its Secrets in a namespace of their own, beside an operator
// that keeps the accounts there (--identity-embedded, --identity-namespace). On the real
// control plane, kube-apiserver trusting the provider: the API server says who the process
// is and refuses it what the chart does not grant (the operator's Secrets, any write of the
// platform's kinds); it becomes Ready (its caches listed with those rules); a provisioning
// administrator's Account gets its "set your password" email from the operator, the link
// opens on the provider alone, the person sets a password and signs in, and kube-apiserver
// takes the ID token. Everything the provider keeps is in its namespace, nothing in the
// operator's.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_LABEL } from '../api/constants.ts';
import type { Account } from '../api/account/schema.ts';
import { PLATFORM_CONFIG_NAME } from '../api/platformconfig/names.ts';
import type { PlatformConfig } from '../api/platformconfig/schema.ts';
import { Kinds } from '../api/registry.ts';
import type { AnyObject, KubeClient } from '../runtime/kube/client.ts';
import { Resources } from '../runtime/kube/resource.ts';
import type { ResourceType } from '../runtime/kube/resource.ts';
import { testClient } from '../testenv/clients.ts';
import { setPasswordByLink, signIn, untilApiServerAccepts } from '../testenv/identity.ts';
import { eventually, testIdentity, testKubeConfig, testKubeconfig, uniqueName } from '../testenv/index.ts';
import { invitationFlags } from '../testenv/invitations.ts';
import { OperatorProcess } from '../testenv/operator-process.ts';
import { TestSmtpServer } from '../testenv/smtp.ts';
import { findTool } from '../testenv/tools.ts';
import { accountId, accountSecretName } from './accounts.ts';
import { OIDC_MODEL_LABEL } from './adapter.ts';
import { SIGNING_KEYS_SECRET } from './keys.ts';
import { KUBECTL_CLIENT_ID } from './provider.ts';

const helmBin = findTool('helm');
const CHART = fileURLToPath(new URL('../../charts/miniapps-operator', import.meta.url));
const release = uniqueName('alone');
const ns = uniqueName('alone-op');
const fullname = `${release}-miniapps-operator-identity`;
const identityNs = `${ns}-identity`;
const SA_USER = `system:serviceaccount:${ns}:${fullname}`;
/** identity.certSecretName: the listener's certificate in a Secret of the release namespace (the one kube-apiserver trusts for the issuer). */
const CERT_SECRET = 'alone-identity-tls';
const person = uniqueName('ines');
const email = `${person}@example.com`;
const password = 'the password ines chose';

let admin: KubeClient;
let smtp: TestSmtpServer;
let operator: OperatorProcess;
let provider: OperatorProcess;
let token = '';
let userPrefix = '';
let hadConfig = false;
const rendered: AnyObject[] = [];

const KINDS: Record<string, ResourceType> = {
  Namespace: Resources.Namespace,
  ServiceAccount: Resources.ServiceAccount,
  Role: Resources.Role,
  RoleBinding: Resources.RoleBinding,
  ClusterRole: Resources.ClusterRole,
  ClusterRoleBinding: Resources.ClusterRoleBinding,
};

/** Whether the API server lets `user` do this (SubjectAccessReview, as it decides every request). */
async function allowed(user: string, attrs: { verb: string; resource: string; group?: string; namespace?: string; name?: string | undefined }): Promise<boolean> {
  const review = await admin.request<{ status: { allowed: boolean } }>('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
    body: {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: { user, groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'], resourceAttributes: { group: '', ...attrs } },
    },
  });
  return review.status.allowed;
}

const secretsIn = async (namespace: string, labelSelector: string) => (await admin.list<AnyObject>(Resources.Secret, { namespace, labelSelector })).items.map((s) => s.metadata.name);

beforeAll(async () => {
  if (!helmBin) return;
  admin = testClient();
  const idp = testIdentity()!;
  hadConfig = !!(await admin.get(Kinds.PlatformConfig, PLATFORM_CONFIG_NAME));
  if (!hadConfig) await admin.apply(Kinds.PlatformConfig, { metadata: { name: PLATFORM_CONFIG_NAME }, spec: {} });
  userPrefix = (await admin.get<PlatformConfig>(Kinds.PlatformConfig, PLATFORM_CONFIG_NAME))?.spec?.userPrefix ?? '';

  // What the chart makes for the provider, as `helm template` renders it: its namespace, its
  // ServiceAccount, its roles and the operator's Role in its namespace, and its Deployment.
  const yaml = execFileSync(
    helmBin,
    [
      'template',
      release,
      CHART,
      '--namespace',
      ns,
      '--set',
      'identity.enabled=true',
      '--set',
      `identity.issuer=${idp.issuer}`,
      '--set',
      `identity.certSecretName=${CERT_SECRET}`,
      '--show-only',
      'templates/identity.yaml',
      '--show-only',
      'templates/rbac.yaml',
    ],
    { encoding: 'utf8' },
  );
  rendered.push(
    ...parseAllDocuments(yaml)
      .map((d) => d.toJS() as AnyObject)
      .filter(Boolean),
  );
  await admin.create(Resources.Namespace, { metadata: { name: ns } });
  const pem = (f: string) => Buffer.from(readFileSync(join(idp.certDir, f))).toString('base64');
  await admin.create(Resources.Secret, { metadata: { name: CERT_SECRET, namespace: ns }, type: 'kubernetes.io/tls', data: { 'tls.crt': pem('tls.crt'), 'tls.key': pem('tls.key') } });
  const ofProvider = rendered.filter(
    (o) => KINDS[o.kind!] && (o.metadata.labels?.['app.kubernetes.io/component'] === 'identity' || (o.metadata.namespace === identityNs && o.kind!.startsWith('Role'))),
  );
  expect(ofProvider.map((o) => o.kind).sort()).toEqual(['ClusterRole', 'ClusterRoleBinding', 'Namespace', 'Role', 'Role', 'Role', 'RoleBinding', 'RoleBinding', 'RoleBinding', 'ServiceAccount']);
  for (const o of ofProvider) await admin.apply(KINDS[o.kind!]!, o);

  // The Deployment's container as the kubelet would start it: its flags and environment, its
  // ServiceAccount's token and the cluster's CA where a pod has them; its listener on the port
  // kube-apiserver trusts, its certificate read from identity.certSecretName as the chart says
  // (with its ServiceAccount's rules), and an SMTP server of the test's.
  const deployment = rendered.find((o) => o.kind === 'Deployment') as AnyObject & {
    spec: { template: { spec: { serviceAccountName: string; containers: { args: string[]; env: { name: string; value?: string }[] }[] } } };
  };
  const pod = deployment.spec.template.spec;
  expect(pod.serviceAccountName).toBe(fullname);
  const container = pod.containers[0]!;
  const tokenRequest = await admin.request<{ status: { token: string } }>('POST', `/api/v1/namespaces/${ns}/serviceaccounts/${fullname}/token`, {
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
  });
  token = tokenRequest.status.token;
  const work = mkdtempSync(join(tmpdir(), 'identity-alone-'));
  const saDir = join(work, 'serviceaccount');
  mkdirSync(saDir, { recursive: true });
  const cluster = testKubeConfig().getCurrentCluster()!;
  writeFileSync(join(saDir, 'token'), token);
  writeFileSync(join(saDir, 'ca.crt'), Buffer.from(cluster.caData!, 'base64'));
  writeFileSync(join(saDir, 'namespace'), ns);
  const server = new URL(cluster.server);
  const podEnv: Record<string, string> = { POD_NAMESPACE: ns, POD_NAME: `${fullname}-test` };
  const expand = (s: string) => s.replace(/\$\((\w+)\)/g, (_, v: string) => podEnv[v] ?? '');
  const local = /^--(http|identity)-bind-address=|^--identity-issuer=/;
  const args = [...container.args.filter((a) => !local.test(a)).map(expand), `--identity-bind-address=127.0.0.1:${idp.port}`, `--identity-issuer=${idp.issuer}`];
  expect(args).toEqual(expect.arrayContaining(['--identity-only=true', `--identity-namespace=${identityNs}`, `--identity-cert-secret=${ns}/${CERT_SECRET}`]));

  smtp = await TestSmtpServer.start();
  // The operator (as the test's administrator): the accounts in the provider's namespace, the provider served elsewhere.
  operator = await OperatorProcess.start({
    kubeconfig: testKubeconfig(),
    namespace: ns,
    args: ['--leader-elect=false', '--identity-embedded=true', `--identity-issuer=${idp.issuer}`, `--identity-namespace=${identityNs}`, ...invitationFlags(smtp.port)],
  });
  provider = await OperatorProcess.start({
    kubeconfig: undefined,
    namespace: ns,
    args: [...args, ...invitationFlags(smtp.port)],
    // No kubeconfig anywhere: the ServiceAccount is the only identity it has.
    env: { ...podEnv, KUBECONFIG: '', HOME: join(work, 'home'), KUBERNETES_SERVICE_HOST: server.hostname, KUBERNETES_SERVICE_PORT: server.port, MINIAPPS_TEST_SERVICE_ACCOUNT_DIR: saDir },
  });
}, 120_000);

afterAll(async () => {
  await provider?.stop();
  await operator?.stop();
  await smtp?.stop();
  if (!admin) return;
  await admin.delete(Kinds.Account, person).catch(() => {});
  for (const o of rendered.filter((x) => x.kind === 'ClusterRole' || x.kind === 'ClusterRoleBinding')) await admin.delete(KINDS[o.kind!]!, o.metadata.name!).catch(() => {});
  for (const name of [ns, identityNs]) await admin.delete(Resources.Namespace, name).catch(() => {});
  if (!hadConfig) await admin.delete(Kinds.PlatformConfig, PLATFORM_CONFIG_NAME).catch(() => {});
  await admin.close();
});

describe.skipIf(!helmBin)('the embedded identity provider alone, as the chart deploys it', () => {
  it("runs as its own ServiceAccount, Ready with the chart's rules, which give it its namespace's Secrets and nothing of the operator's", async () => {
    const review = await admin.request<{ status: { user: { username: string } } }>('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } },
    });
    expect(review.status.user.username).toBe(SA_USER);
    expect(provider.hasLog('Identity provider started')).toBe(true);
    expect(await provider.ready()).toBe(true);
    // What it may: its namespace's Secrets, reading what a frontend app's token is made from.
    for (const verb of ['get', 'list', 'create', 'update', 'patch', 'delete']) expect(await allowed(SA_USER, { verb, resource: 'secrets', namespace: identityNs }), verb).toBe(true);
    for (const resource of ['users', 'usergroups', 'tenants', 'subscriptions', 'solutions', 'organizations', 'appmanifests'])
      expect(await allowed(SA_USER, { verb: 'watch', resource, group: 'miniapps.dev' }), resource).toBe(true);
    // Its certificate's Secret, by name (identity.certSecretName), and no other of the release namespace.
    expect(await allowed(SA_USER, { verb: 'get', resource: 'secrets', namespace: ns, name: CERT_SECRET })).toBe(true);
    // What it may not: the operator's Secrets (its key-encryption key, the webhook's key, API keys), any Secret elsewhere, any write of the platform's kinds, RBAC.
    for (const name of ['miniapps-operator-key-encryption-key', `${release}-miniapps-operator-webhook-cert`, undefined])
      expect(await allowed(SA_USER, { verb: 'get', resource: 'secrets', namespace: ns, name }), name ?? 'any').toBe(false);
    expect(await allowed(SA_USER, { verb: 'list', resource: 'secrets' })).toBe(false);
    expect(await allowed(SA_USER, { verb: 'watch', resource: 'secrets', namespace: identityNs })).toBe(false);
    for (const verb of ['create', 'update', 'patch', 'delete']) expect(await allowed(SA_USER, { verb, resource: 'users', group: 'miniapps.dev', namespace: 'any' }), verb).toBe(false);
    expect(await allowed(SA_USER, { verb: 'get', resource: 'accounts', group: 'miniapps.dev' })).toBe(false);
    expect(await allowed(SA_USER, { verb: 'create', resource: 'rolebindings', group: 'rbac.authorization.k8s.io', namespace: identityNs })).toBe(false);
  });

  it('signs in a person whose Account the operator made: the set-password link opens on the provider alone, and kube-apiserver takes the token', async () => {
    const idp = testIdentity()!;
    await admin.create(Kinds.Account, { metadata: { name: person }, spec: { username: person, email, firstName: 'Ines', lastName: 'Alone' } });
    // The operator keeps the account's private half in the provider's namespace, not its own.
    const id = accountId(email);
    await eventually(async () => !!(await admin.get(Resources.Secret, accountSecretName(id), identityNs)), { describe: 'the account Secret in the identity namespace' });
    expect(await admin.get(Resources.Secret, accountSecretName(id), ns)).toBeUndefined();
    const mail = await eventually(() => smtp.messages.find((m) => m.to.includes(email) && m.subject === 'Set your password') ?? false, {
      describe: `the "set your password" email to ${email}`,
      timeoutMs: 30_000,
    });
    const link = /https:\/\/\S+\/reset\/confirm\?token=[\w.-]+/.exec(mail.text)?.[0];
    expect(link, mail.text).toBeTruthy();
    expect(link!.startsWith(`${idp.issuer}/`)).toBe(true);
    // Signed by the operator with the provider's keys (in the provider's namespace); opened and set on the provider alone.
    const { opened, res } = await setPasswordByLink(idp.caPEM, link!, password);
    expect(opened.status).toBe(200);
    expect(res.status, await res.clone().text()).toBe(200);
    await eventually(async () => (await admin.get<Account>(Kinds.Account, person))?.status?.conditions?.find((c) => c.type === 'PasswordSet')?.status === 'True', {
      describe: 'PasswordSet=True on the Account',
      timeoutMs: 30_000,
    });

    // A wrong password is refused; the right one signs in; the API server takes the ID token as the person.
    await expect(signIn({ issuer: idp.issuer, caPEM: idp.caPEM, clientId: KUBECTL_CLIENT_ID, login: person, password: 'not the password' })).rejects.toThrow(/Sign-in refused/);
    const signedIn = await signIn({ issuer: idp.issuer, caPEM: idp.caPEM, clientId: KUBECTL_CLIENT_ID, login: person, password });
    expect(signedIn.claims.email).toBe(email);
    expect((await untilApiServerAccepts(signedIn.idToken)).username).toBe(`${userPrefix}${email}`);

    // Its state, its keys, the accounts: in its namespace; nothing of the provider in the operator's.
    expect(await secretsIn(identityNs, OIDC_MODEL_LABEL)).not.toEqual([]);
    expect(await admin.get(Resources.Secret, SIGNING_KEYS_SECRET, identityNs)).toBeDefined();
    expect(await secretsIn(ns, OIDC_MODEL_LABEL)).toEqual([]);
    expect(await secretsIn(ns, ACCOUNT_LABEL)).toEqual([]);
    expect(await admin.get(Resources.Secret, SIGNING_KEYS_SECRET, ns)).toBeUndefined();
    // Nothing it logged carries its token or the password.
    const logged = JSON.stringify(provider.logs) + provider.stderr.join('');
    expect(logged).not.toContain(token);
    expect(logged).not.toContain(password);
  });
});
