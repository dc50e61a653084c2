#!/usr/bin/env node
// npm run demo [-- --keep] [-- --kubeconfig=PATH]
//
// With no kubeconfig: builds (once) and starts a local control plane (etcd,
// kube-apiserver, kube-controller-manager on loopback), installs the CRDs, starts a
// loopback SMTP server and the operator, applies examples/, accepts the invitations
// through the acceptance page as the invited people would, and prints what converged;
// then uses the example API keys with `kubectl --token` as their owners would (the local
// kube-apiserver authenticates them through the operator's /authenticate): the
// provisioning administrator's key creates an Organization, a member's key is refused.
// Everything stops at the end, unless --keep (then it runs until Ctrl-C).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { PLATFORM_CONFIG_NAME } from '../api/index.ts';
import type { Membership, Organization, PlatformConfig } from '../api/index.ts';
import { Kinds } from '../controllers/shared.ts';
import type { ObjectBody } from '../runtime/kube/client.ts';
import { KubeClient } from '../runtime/kube/client.ts';
import { Resources } from '../runtime/kube/resource.ts';
import type { ResourceType } from '../runtime/kube/resource.ts';
import { loadClusterAccess } from '../runtime/kube/kubeconfig.ts';
import { readKey, waitForKey } from '../testenv/apikeys.ts';
import { ControlPlane, REPO_ROOT, installCRDs, tokenWebhookOperatorArgs } from '../testenv/controlplane.ts';
import type { TokenWebhookEndpoint } from '../testenv/controlplane.ts';
import { eventually, freePort } from '../testenv/eventually.ts';
import { countMembers } from '../controllers/organization/checks.ts';
import { isDeepStrictEqual } from 'node:util';
import { OperatorProcess } from '../testenv/operator-process.ts';
import { TestSmtpServer } from '../testenv/smtp.ts';
import { accessAllowed } from '../testenv/access.ts';
import { acceptByForm, acceptLink, invitationFlags } from '../testenv/invitations.ts';

const { values: flags } = parseArgs({ options: { keep: { type: 'boolean' }, kubeconfig: { type: 'string' } } });
const say = (s = '') => process.stdout.write(`${s}\n`);
const cleanups: (() => Promise<unknown>)[] = [];

type Status = { status?: { conditions?: { type: string; status: string; reason: string; message: string }[] } };
const cond = (o: Status | undefined, type = 'Ready') => o?.status?.conditions?.find((c) => c.type === type);

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

const KINDS: Record<string, ResourceType> = { ...Kinds, ConfigMap: Resources.ConfigMap, Secret: Resources.Secret, Namespace: Resources.Namespace };

function examples(): ObjectBody[] {
  const dir = join(REPO_ROOT, 'examples');
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS() as ObjectBody))
    .filter(Boolean);
}

async function main(): Promise<void> {
  let kubeconfig = flags.kubeconfig;
  let tokenWebhook: TokenWebhookEndpoint | undefined;
  let binDir: string | undefined;
  if (kubeconfig) {
    say(`Using the cluster of ${kubeconfig}`);
    await installCRDs(kubeconfig, 'crds', { log: say });
  } else {
    say('Starting a local control plane (the first run builds it from source: about 10 minutes)…');
    // The API server authenticates unknown bearer tokens (API keys) through the operator's /authenticate.
    const cp = await ControlPlane.start({ crdDir: 'crds', log: say, tokenWebhook: true });
    cleanups.push(() => cp.stop());
    kubeconfig = cp.kubeconfigPath;
    tokenWebhook = cp.tokenWebhook;
    binDir = cp.binDir;
  }
  const client = KubeClient.fromKubeconfig(kubeconfig, { fieldManager: 'kubectl' });
  cleanups.push(() => client.close());

  const smtp = await TestSmtpServer.start();
  cleanups.push(() => smtp.stop());
  const publicPort = await freePort();
  const publicUrl = `http://127.0.0.1:${publicPort}/`;
  say(`Loopback SMTP server on 127.0.0.1:${smtp.port}; acceptance page at ${publicUrl}`);
  const operator = await OperatorProcess.start({
    kubeconfig,
    namespace: 'miniapps-system',
    args: [...invitationFlags(smtp.port, publicPort), '--lease-duration=15s', '--renew-deadline=10s', '--retry-period=2s', ...(tokenWebhook ? tokenWebhookOperatorArgs(tokenWebhook) : [])],
  });
  cleanups.push(() => operator.stop());
  say(`Operator started (metrics: http://127.0.0.1:${operator.healthPort}/metrics)`);

  // Cluster-scoped objects first; the namespaced ones once their organization's namespace exists.
  const docs = examples();
  const apply = (o: ObjectBody) => client.apply(KINDS[o.kind!]!, o);
  const clusterScoped = docs.filter((d) => !d.metadata.namespace);
  for (const d of clusterScoped) await apply(d);
  say(`Applied ${clusterScoped.length} cluster-scoped objects from examples/`);
  const orgNames = clusterScoped.filter((d) => d.kind === 'Organization').map((d) => d.metadata.name!);
  await eventually(async () => (await Promise.all(orgNames.map((n) => client.get<Organization>(Kinds.Organization, n)))).every((o) => cond(o, 'NamespaceReady')?.status === 'True'), {
    timeoutMs: 60_000,
    describe: 'the organizations’ namespaces',
  });
  // API keys last: their owners must be active members (or provisioning administrators) first.
  const keyDocs = docs.filter((d) => d.kind === 'ApiKey');
  const namespaced = docs.filter((d) => d.metadata.namespace && d.kind !== 'ApiKey');
  for (const d of namespaced) await apply(d);
  say(`Applied ${namespaced.length} namespaced objects from examples/`);

  // The invited people accept through the page, with the link from their email.
  const invited = namespaced.filter((d) => d.kind === 'Membership' && (d.spec as Membership['spec']).acceptance !== 'Automatic');
  for (const m of invited) {
    const email = (m.spec as Membership['spec']).email;
    const mail = await eventually(() => smtp.messages.find((x) => JSON.stringify(x.to).includes(email)) ?? false, { timeoutMs: 60_000, describe: `the invitation email to ${email}` });
    const res = await acceptByForm(acceptLink(mail));
    say(`${email} opened the link from their email and accepted: HTTP ${res.status}`);
  }

  const all = async () => ({
    pc: await client.get<PlatformConfig>(Kinds.PlatformConfig, PLATFORM_CONFIG_NAME),
    orgs: (await Promise.all(orgNames.map((n) => client.get<Organization>(Kinds.Organization, n)))).filter((o): o is Organization => !!o),
    members: (await client.listAll<Membership>(Kinds.Membership)).items,
  });
  const state = await eventually(async () => {
    const s = await all();
    const ready = [s.pc, ...s.orgs, ...s.members].every((o) => cond(o as Status)?.status === 'True') && s.members.every((m) => m.status?.phase === 'Active');
    // Each Organization's counts must reflect the Memberships seen here, not an earlier moment.
    const counted = s.orgs.every((o) => isDeepStrictEqual(o.status?.members, countMembers(s.members.filter((m) => m.metadata.namespace === o.status?.namespace))));
    return ready && counted ? s : false;
  }, { timeoutMs: 90_000, describe: 'every example Ready, with member counts that reflect the Memberships' });

  say('\nConverged:\n');
  say(table([
    ['KIND', 'NAME', 'READY', 'DETAILS'],
    ['PlatformConfig', PLATFORM_CONFIG_NAME, cond(state.pc)!.status, cond(state.pc, 'AdministratorsBound')?.message ?? ''],
    ...state.orgs.map((o) => ['Organization', o.metadata.name, cond(o)!.status, `namespace ${o.status?.namespace}; members ${o.status?.members?.active} active, ${o.status?.members?.administrators} admin; icon: ${cond(o, 'IconValid')?.message ?? 'none'}; targets: ${cond(o, 'MiniAppTargetsResolved')?.message ?? 'none'}`]),
  ]));
  say('');
  say(table([
    ['NAMESPACE', 'MEMBERSHIP', 'EMAIL', 'ROLE', 'PHASE', 'READY'],
    ...state.members.map((m) => [m.metadata.namespace!, m.metadata.name, m.spec.email, m.spec.role, m.status?.phase ?? '', cond(m)?.status ?? '']),
  ]));
  say('\nEmails the loopback SMTP server received:\n');
  say(table([['TO', 'SUBJECT'], ...smtp.messages.map((m) => [String(m.to), m.subject])]));

  say('\nWhat the API server allows each member (SubjectAccessReview, as kubectl --as would see it):\n');
  const can = async (user: string, verb: string, resource: string, namespace: string, name?: string) =>
    (await accessAllowed(client, user, { verb, resource, namespace, name })) ? 'yes' : 'no';
  // RBAC says what the role allows; the webhook adds the organization's capabilities.
  const capability = (ns: string, field: 'superApps' | 'miniApps', allowed: string) => {
    const org = state.orgs.find((o) => o.status?.namespace === ns);
    return allowed === 'yes' && !org?.spec.capabilities?.[field] ? 'no (capability)' : allowed;
  };
  const rows = [['EMAIL', 'NAMESPACE', 'CREATE SUPERAPPS', 'CREATE MINIAPPS', 'CREATE MEMBERSHIPS', 'DELETE OWN MEMBERSHIP']];
  for (const m of state.members) {
    const ns = m.metadata.namespace!;
    const user = m.spec.email.toLowerCase();
    rows.push([
      m.spec.email,
      ns,
      capability(ns, 'superApps', await can(user, 'create', 'superapps', ns)),
      capability(ns, 'miniApps', await can(user, 'create', 'miniapps', ns)),
      await can(user, 'create', 'memberships', ns),
      await can(user, 'delete', 'memberships', ns, m.metadata.name),
    ]);
  }
  say(table(rows));

  await apiKeys(client, keyDocs, kubeconfig, tokenWebhook ? binDir : undefined);

  if (flags.keep) {
    say(`\nEverything keeps running. In another shell:\n  export KUBECONFIG=${kubeconfig}\n  kubectl get organizations,memberships -A\nPress Ctrl-C to stop.`);
    await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  }
}

/** Applies the example keys, shows them, and uses them with kubectl --token as their owners would. */
async function apiKeys(client: KubeClient, keyDocs: ObjectBody[], kubeconfig: string, binDir: string | undefined): Promise<void> {
  // The webhook refuses a key whose owner it does not see active yet: its cache follows the Memberships a moment later.
  for (const d of keyDocs) await eventually(() => client.apply(KINDS[d.kind!]!, d), { timeoutMs: 30_000, describe: `ApiKey ${d.metadata.name} accepted` });
  const keys = await Promise.all(keyDocs.map((d) => waitForKey(client, d.metadata.namespace!, d.metadata.name!, (k) => k.status?.phase === 'Active', 'Active', 60_000)));
  say(`\nAPI keys (examples/40-apikeys.yaml): each in a Secret only its owner may read; status keeps its SHA-256 only\n`);
  say(table([
    ['NAMESPACE', 'APIKEY', 'OWNER', 'PHASE', 'PREFIX', 'SECRET', 'EXPIRES', 'ROTATION'],
    ...keys.map((k) => [k.metadata.namespace!, k.metadata.name, k.spec.owner, k.status!.phase!, k.status!.prefix!, k.status!.secretName!, k.status!.expiresAt ?? '', k.spec.rotation ? `${k.spec.rotation.period} (grace ${k.spec.rotation.gracePeriod})` : 'none']),
  ]));
  if (!binDir) {
    say('\n(kubectl --token needs an API server that calls the operator\'s /authenticate: the local control plane does; see the README for a cluster of your own)');
    return;
  }
  const access = loadClusterAccess({ path: kubeconfig });
  const dir = mkdtempSync(join(tmpdir(), 'miniapps-demo-'));
  const bare = join(dir, 'kubeconfig');
  const b64 = (x: string | Buffer | undefined) => (x ? Buffer.from(x).toString('base64') : '');
  writeFileSync(bare, `apiVersion: v1\nkind: Config\nclusters:\n- name: demo\n  cluster:\n    server: ${access.server}\n    certificate-authority-data: ${b64(access.ca)}\nusers:\n- name: key\n  user: {}\ncontexts:\n- name: demo\n  context: {cluster: demo, user: key}\ncurrent-context: demo\n`, { mode: 0o600 });
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  const kubectl = (token: string, args: string[], stdin?: string) => spawnSync(join(binDir, 'kubectl'), [`--kubeconfig=${bare}`, `--token=${token}`, ...args], { input: stdin, encoding: 'utf8', timeout: 60_000 });
  const org = (name: string) => JSON.stringify({ apiVersion: 'miniapps.dev/v1alpha1', kind: 'Organization', metadata: { name }, spec: { displayName: 'Made with an API key' } });
  for (const k of keys) {
    const token = await readKey(client, k);
    const who = kubectl(token, ['auth', 'whoami']);
    say(`\n$ kubectl --token=${k.status!.prefix}_… auth whoami      # the key of ${k.metadata.namespace}/${k.metadata.name}`);
    say((who.stdout || who.stderr).trimEnd());
    const name = `made-by-${k.metadata.name}`;
    const created = kubectl(token, ['create', '-f', '-'], org(name));
    say(`$ kubectl --token=${k.status!.prefix}_… create -f organization-${name}.yaml`);
    say((created.status === 0 ? created.stdout : created.stderr).trimEnd());
  }
}

async function cleanup(): Promise<void> {
  for (const c of cleanups.reverse()) await c().catch(() => {});
}

process.once('SIGTERM', () => void cleanup().then(() => process.exit(143)));
main().then(
  async () => {
    await cleanup();
    say('\nDemo finished; everything it started is stopped.');
  },
  async (err: unknown) => {
    process.stderr.write(`Demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
    await cleanup();
    process.exit(1);
  },
);
