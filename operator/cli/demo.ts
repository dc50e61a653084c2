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
// With the local control plane (which trusts the operator's embedded identity provider) it
// also starts the console (console/, docs/console.md) with sign-in through that provider,
// signs one of the invited people in to it as a browser would, and prints its URL and who
// to sign in as. Everything stops at the end, unless --keep (then it runs until Ctrl-C).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, isDeepStrictEqual } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { request as httpsRequest } from 'node:https';
import { PLATFORM_CONFIG_NAME } from '../api/platformconfig/schema.ts';
import type { Membership } from '../api/membership/schema.ts';
import type { MiniApp } from '../api/miniapp/schema.ts';
import type { MiniAppReview } from '../api/miniappreview/schema.ts';
import type { Organization } from '../api/organization/schema.ts';
import type { PlatformConfig } from '../api/platformconfig/schema.ts';
import type { Solution } from '../api/solution/schema.ts';
import type { Subscription } from '../api/subscription/schema.ts';
import type { SuperApp } from '../api/superapp/schema.ts';
import type { Tenant } from '../api/tenant/schema.ts';
import type { User } from '../api/user/schema.ts';
import type { UserGroup } from '../api/usergroup/schema.ts';
import { TOKEN_ROLES_PATH } from '../api/user/names.ts';
import { lowerAscii } from '../api/constants.ts';
import { KubePluginApi } from '../plugin/api.ts';
import { run as plugin } from '../plugin/plugin.ts';
import { ApiError } from '../runtime/errors.ts';
import { webhookRegistrationName } from '../servers/webhook.ts';
import { Kinds } from '../api/registry.ts';
import type { ObjectBody } from '../runtime/kube/client.ts';
import { KubeClient } from '../runtime/kube/client.ts';
import { Resources } from '../runtime/kube/resource.ts';
import type { ResourceType } from '../runtime/kube/resource.ts';
import { loadClusterAccess } from '../runtime/kube/kubeconfig.ts';
import { readKey, waitForKey } from '../testenv/apikeys.ts';
import { ControlPlane, REPO_ROOT, identityOperatorArgs, installCRDs, tokenWebhookOperatorArgs } from '../testenv/controlplane.ts';
import type { IdentityEndpoint, TokenWebhookEndpoint } from '../testenv/controlplane.ts';
import { eventually, freePort } from '../testenv/eventually.ts';
import { countMembers } from '../controllers/organization/checks.ts';
import { OperatorProcess } from '../testenv/operator-process.ts';
import { TestSmtpServer } from '../testenv/smtp.ts';
import { accessAllowed } from '../testenv/access.ts';
import { acceptByForm, acceptLink, invitationFlags } from '../testenv/invitations.ts';
import { UserAgent, loginForm, pageMessage } from '../testenv/identity.ts';
import { CONSOLE_CLIENT_ID } from '../identity/provider.ts';
import { createOidcClient } from '../../console/server/oidc.ts';
import { startConsoleServer } from '../../console/server/server.ts';
import { upstreamFromKubeconfig } from '../../console/server/upstream.ts';

const { values: flags } = parseArgs({ options: { keep: { type: 'boolean' }, kubeconfig: { type: 'string' } } });
const say = (s = '') => process.stdout.write(`${s}\n`);
const cleanups: (() => Promise<unknown>)[] = [];

type Status = { status?: { conditions?: { type: string; status: string; reason: string; message: string }[] } };
const cond = (o: Status | undefined, type = 'Ready') => o?.status?.conditions?.find((c) => c.type === type);

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
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

/** The password of the accounts the demo's invited people make on the invitation page (docs/identity.md). */
const DEMO_PASSWORD = 'demo-password-not-secret';

async function main(): Promise<void> {
  let kubeconfig = flags.kubeconfig;
  let tokenWebhook: TokenWebhookEndpoint | undefined;
  let identity: IdentityEndpoint | undefined;
  let binDir: string | undefined;
  if (kubeconfig) {
    say(`Using the cluster of ${kubeconfig}`);
    await installCRDs(kubeconfig, 'crds', { log: say });
  } else {
    say('Starting a local control plane (the first run builds it from source: about 10 minutes)…');
    // The API server authenticates unknown bearer tokens (API keys) through the operator's /authenticate.
    // ...and trusts the operator's embedded identity provider (accounts made on the invitation page).
    const cp = await ControlPlane.start({ crdDir: 'crds', log: say, tokenWebhook: true, identity: true });
    identity = cp.identity;
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
  // The console's address is known before the operator starts: the provider registers its exact redirect URI.
  const consoleUrl = identity ? `http://127.0.0.1:${await freePort()}` : undefined;
  const publicUrl = `http://127.0.0.1:${publicPort}/`;
  say(`Loopback SMTP server on 127.0.0.1:${smtp.port}; acceptance page at ${publicUrl}`);
  const operator = await OperatorProcess.start({
    kubeconfig,
    namespace: 'miniapps-system',
    args: [
      ...invitationFlags(smtp.port, publicPort),
      '--lease-duration=15s',
      '--renew-deadline=10s',
      '--retry-period=2s',
      ...(tokenWebhook ? tokenWebhookOperatorArgs(tokenWebhook) : []),
      ...(identity ? identityOperatorArgs(identity) : []),
      ...(consoleUrl ? [`--identity-console-redirect-uris=${consoleUrl}/auth/callback`] : []),
    ],
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
  const tenantNames = clusterScoped.filter((d) => d.kind === 'Tenant').map((d) => d.metadata.name!);
  await eventually(
    async () =>
      (await Promise.all([...orgNames.map((n) => client.get<Organization>(Kinds.Organization, n)), ...tenantNames.map((n) => client.get<Tenant>(Kinds.Tenant, n))])).every(
        (o) => cond(o, 'NamespaceReady')?.status === 'True',
      ),
    { timeoutMs: 60_000, describe: 'the organizations’ and tenants’ namespaces' },
  );
  // API keys last: their owners must be active members (or provisioning administrators) first.
  const keyDocs = docs.filter((d) => d.kind === 'ApiKey');
  const namespaced = docs.filter((d) => d.metadata.namespace && d.kind !== 'ApiKey');
  // A review names a mini app applied a moment earlier: the webhook may not have seen it yet.
  for (const d of namespaced) {
    await eventually(
      () =>
        apply(d).then(
          () => true,
          (err: unknown) => {
            if (err instanceof ApiError && err.status === 403 && /does not exist/.test(err.message)) return false;
            throw err;
          },
        ),
      { timeoutMs: 30_000, describe: `${d.kind} ${d.metadata.name} accepted` },
    );
  }
  say(`Applied ${namespaced.length} namespaced objects from examples/`);

  // The invited people accept through the page, with the link from their email.
  const invited = namespaced.filter((d) => d.kind === 'Membership' && (d.spec as Membership['spec']).acceptance !== 'Automatic');
  const accounts: { username: string; email: string; role: string; namespace: string }[] = [];
  for (const m of invited) {
    const email = (m.spec as Membership['spec']).email;
    // With the embedded provider the page asks for an account: the person makes one (the demo's password is DEMO_PASSWORD).
    const username = email.split('@')[0]!.replace(/[^A-Za-z0-9._-]/g, '-');
    const mail = await eventually(() => smtp.messages.find((x) => JSON.stringify(x.to).includes(email)) ?? false, { timeoutMs: 60_000, describe: `the invitation email to ${email}` });
    const res = await acceptByForm(acceptLink(mail), identity ? { action: 'create', username, password: DEMO_PASSWORD, firstName: username, lastName: 'Demo' } : {});
    say(`${email} opened the link from their email${identity ? `, created the account ${username}` : ''} and accepted: HTTP ${res.status}`);
    if (res.status !== 200) throw new Error(`The invitation of ${email} was not accepted (HTTP ${res.status}): ${pageMessage(await res.text())}`);
    if (identity) accounts.push({ username, email, role: (m.spec as Membership['spec']).role, namespace: m.metadata.namespace! });
  }

  const all = async () => ({
    pc: await client.get<PlatformConfig>(Kinds.PlatformConfig, PLATFORM_CONFIG_NAME),
    orgs: (await Promise.all(orgNames.map((n) => client.get<Organization>(Kinds.Organization, n)))).filter((o): o is Organization => !!o),
    members: (await client.listAll<Membership>(Kinds.Membership)).items,
    superApps: (await client.listAll<SuperApp>(Kinds.SuperApp)).items,
    miniApps: (await client.listAll<MiniApp>(Kinds.MiniApp)).items,
    reviews: (await client.listAll<MiniAppReview>(Kinds.MiniAppReview)).items,
  });
  type State = Awaited<ReturnType<typeof all>>;
  const current = (o: { metadata: { generation?: number }; status?: { observedGeneration?: number } }) => o.status?.observedGeneration === o.metadata.generation;
  /** Each catalog lists exactly the mini apps whose status says Listed there, at that version. */
  const catalogsAgree = async (s: State) => {
    for (const sa of s.superApps) {
      const cm = sa.status?.catalog && (await client.get<{ metadata: object; data?: Record<string, string> }>(Resources.ConfigMap, sa.status.catalog.configMapName, sa.metadata.namespace));
      const listed = (JSON.parse(cm?.data?.['catalog.json'] ?? '{"miniApps":[]}') as { miniApps: { organization: string; name: string; version: string }[] }).miniApps
        .map((m) => `${m.organization}/${m.name}@${m.version}`)
        .sort();
      const says = s.miniApps
        .flatMap((m) =>
          (m.status?.superApps ?? [])
            .filter((t) => t.organization === sa.status?.organization && t.name === sa.metadata.name && t.state === 'Listed')
            .map((t) => `${m.status?.organization}/${m.metadata.name}@${t.version}`),
        )
        .sort();
      if (!cm || !isDeepStrictEqual(listed, says)) return false;
    }
    return true;
  };
  let previous: string | undefined;
  const state = await eventually(
    async () => {
      const s = await all();
      const ready =
        [s.pc, ...s.orgs, ...s.members, ...s.superApps, ...s.miniApps, ...s.reviews].every((o) => cond(o as Status)?.status === 'True') && s.members.every((m) => m.status?.phase === 'Active');
      const reconciled = [...s.superApps, ...s.miniApps, ...s.reviews].every(current);
      // Each Organization's counts must reflect the Memberships seen here, not an earlier moment.
      const counted = s.orgs.every((o) => isDeepStrictEqual(o.status?.members, countMembers(s.members.filter((m) => m.metadata.namespace === o.status?.namespace))));
      if (!(ready && reconciled && counted && (await catalogsAgree(s)))) return false;
      // The same twice in a row: nothing was still on its way.
      const fingerprint = JSON.stringify([s.superApps, s.miniApps].map((l) => l.map((o) => o.status)));
      const stable = fingerprint === previous;
      previous = fingerprint;
      return stable ? s : false;
    },
    { timeoutMs: 120_000, intervalMs: 1_000, describe: 'every example Ready, member counts that reflect the Memberships, catalogs that agree with the mini apps' },
  );

  say('\nConverged:\n');
  say(
    table([
      ['KIND', 'NAME', 'READY', 'DETAILS'],
      ['PlatformConfig', PLATFORM_CONFIG_NAME, cond(state.pc)!.status, cond(state.pc, 'AdministratorsBound')?.message ?? ''],
      ...state.orgs.map((o) => [
        'Organization',
        o.metadata.name,
        cond(o)!.status,
        `namespace ${o.status?.namespace}; members ${o.status?.members?.active} active, ${o.status?.members?.administrators} admin; icon: ${cond(o, 'IconValid')?.message ?? 'none'}; targets: ${cond(o, 'MiniAppTargetsResolved')?.message ?? 'none'}`,
      ]),
    ]),
  );
  say('');
  say(
    table([
      ['NAMESPACE', 'MEMBERSHIP', 'EMAIL', 'ROLE', 'PHASE', 'READY'],
      ...state.members.map((m) => [m.metadata.namespace!, m.metadata.name, m.spec.email, m.spec.role, m.status?.phase ?? '', cond(m)?.status ?? '']),
    ]),
  );
  say('\nEmails the loopback SMTP server received:\n');
  say(table([['TO', 'SUBJECT'], ...smtp.messages.map((m) => [String(m.to), m.subject])]));

  say('\nWhat the API server allows each member (SubjectAccessReview, as kubectl --as would see it):\n');
  const can = async (user: string, verb: string, resource: string, namespace: string, name?: string) => ((await accessAllowed(client, user, { verb, resource, namespace, name })) ? 'yes' : 'no');
  // RBAC says what the role allows; the webhook adds the organization's capabilities.
  const capability = (ns: string, field: 'superApps' | 'miniApps', allowed: string) => {
    const org = state.orgs.find((o) => o.status?.namespace === ns);
    return allowed === 'yes' && !org?.spec.capabilities?.[field] ? 'no (capability)' : allowed;
  };
  const rows = [['EMAIL', 'NAMESPACE', 'CREATE SUPERAPPS', 'CREATE MINIAPPS', 'CREATE MEMBERSHIPS', 'DELETE OWN MEMBERSHIP']];
  for (const m of state.members) {
    const ns = m.metadata.namespace!;
    const user = lowerAscii(m.spec.email);
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

  say('\nSuper apps, mini apps and reviews:\n');
  say(
    table([
      ['KIND', 'NAMESPACE', 'NAME', 'READY', 'DETAILS'],
      ...state.superApps.map((o) => [
        'SuperApp',
        o.metadata.namespace!,
        o.metadata.name,
        cond(o)!.status,
        `catalog ${o.status?.catalog?.configMapName}: ${o.status?.catalog?.miniApps} mini app(s), ${o.status?.catalog?.hash?.slice(0, 19)}…; featured: ${cond(o, 'FeaturedListed')?.message ?? 'none'}`,
      ]),
      ...state.miniApps.map((o) => [
        'MiniApp',
        o.metadata.namespace!,
        o.metadata.name,
        cond(o)!.status,
        `${o.spec.dataPrivacy?.protection ?? 'None'}${o.status?.dataKey ? ` (data key in Secret ${o.status.dataKey.secretName}, wrapped by ${o.status.dataKey.keyEncryptionKeyId})` : ''}`,
      ]),
      ...state.reviews.map((o) => [
        'MiniAppReview',
        o.metadata.namespace!,
        o.metadata.name,
        cond(o)!.status,
        `${o.spec.decision} ${o.spec.miniApp.organization}/${o.spec.miniApp.name} ${o.spec.version} for ${o.spec.superApp}`,
      ]),
    ]),
  );

  // The plugin, as a person would run it (here with the demo's admin credentials).
  const io = { out: (t: string) => process.stdout.write(t), err: (t: string) => process.stdout.write(t), readLine: async () => undefined };
  const kubectlMiniapps = (...argv: string[]) => plugin(argv, { io, connect: () => ({ api: new KubePluginApi(client), defaultNamespace: 'default' }) });
  say('\nWhere each mini app stands (kubectl miniapps list -A):\n');
  await kubectlMiniapps('list', '-A');
  for (const sa of state.superApps) {
    say(`\nThe catalog of ${sa.status?.organization}/${sa.metadata.name} (kubectl miniapps catalog ${sa.metadata.name} -n ${sa.metadata.namespace}), featured first:\n`);
    await kubectlMiniapps('catalog', sa.metadata.name, '-n', sa.metadata.namespace!);
  }

  // A release of the super app freezes its catalog.
  const wallet = state.superApps[0]!;
  const release = '2026.1';
  await client.patch(Kinds.SuperApp, wallet.metadata.name, wallet.metadata.namespace, { spec: { versions: [...(wallet.spec.versions ?? []), { name: release, description: 'The demo release' }] } });
  const frozen = await eventually(
    async () => (await client.get<SuperApp>(Kinds.SuperApp, wallet.metadata.name, wallet.metadata.namespace))?.status?.versions?.find((v) => v.name === release) ?? false,
    { describe: `version ${release} frozen` },
  );
  say(
    `\nVersion ${release} of ${wallet.metadata.name} froze the catalog into the immutable ConfigMap ${frozen.configMapName} at ${frozen.frozenAt} (${frozen.miniApps} mini app(s), ${frozen.hash?.slice(0, 19)}…):\n`,
  );
  await kubectlMiniapps('catalog', wallet.metadata.name, '-n', wallet.metadata.namespace!, '--version', release);

  // The three data-privacy modes, as a data store holding the mini apps' data sees them.
  say('\nThe data-protection API, called with a ServiceAccount token allowed to protect and reveal:\n');
  const rows2 = [['MINI APP', 'PROTECTION', 'PROTECT("Jane Doe +254700123456")', 'REVEAL']];
  const storeNs = 'org-fintech-partner';
  const token = await dataStoreToken(client, storeNs, [...new Set(state.miniApps.map((m) => m.metadata.namespace!))]);
  const reg = await client.get<{ metadata: object; webhooks?: { clientConfig: { caBundle: string } }[] }>(Resources.ValidatingWebhookConfiguration, webhookRegistrationName('miniapps-system'));
  const ca = Buffer.from(reg?.webhooks?.[0]?.clientConfig.caBundle ?? '', 'base64').toString();
  for (const m of state.miniApps) {
    const ref = { organization: m.status!.organization!, name: m.metadata.name };
    const p = await callDataProtection(operator.apiPort, ca, token, 'protect', ref, ['Jane Doe +254700123456']);
    const protectedValue = p.body.values?.[0] ?? p.body.error ?? '';
    const r = m.spec.dataPrivacy?.protection === 'EnvelopeEncryption' ? await callDataProtection(operator.apiPort, ca, token, 'reveal', ref, p.body.values ?? []) : undefined;
    rows2.push([
      m.metadata.name,
      p.body.protection ?? '',
      protectedValue.length > 48 ? `${protectedValue.slice(0, 45)}...` : protectedValue,
      r ? (r.body.values?.[0] ?? r.body.error ?? '') : '(not encrypted)',
    ]);
  }
  say(table(rows2));

  await apiKeys(client, keyDocs, kubeconfig, tokenWebhook ? binDir : undefined);

  await showTenants(client, operator.apiPort, ca, kubectlMiniapps);

  if (identity && consoleUrl) await showConsole(kubeconfig, identity, consoleUrl, accounts);

  if (flags.keep) {
    say(
      `\nEverything keeps running. In another shell:\n  export KUBECONFIG=${kubeconfig}\n  kubectl get organizations,memberships,superapps,miniapps,miniappreviews -A\n  node_modules/.bin/node operator/cli/kubectl-miniapps.ts list -A   (the plugin from this checkout; to run it as kubectl miniapps, see docs/plugin.md)\nPress Ctrl-C to stop.`,
    );
    await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  }
}

/**
 * The console with sign-in through the embedded provider: the page (built for this run),
 * the server on its reserved port, then one invited person signed in as a
 * browser does (the console's SIGN IN, the provider's form, back to the console) and what
 * the console answers them.
 */
async function showConsole(kubeconfig: string, identity: IdentityEndpoint, consoleUrl: string, accounts: { username: string; email: string; role: string; namespace: string }[]): Promise<void> {
  // The page of this checkout, built each run (a second or two) into a directory of the demo's own: a console/dist
  // left by an earlier checkout would serve an older page.
  const distDir = mkdtempSync(join(tmpdir(), 'miniapps-demo-console-'));
  cleanups.push(async () => rmSync(distDir, { recursive: true, force: true }));
  const built = spawnSync(
    process.execPath,
    [join(REPO_ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', join(REPO_ROOT, 'console/vite.config.ts'), '--logLevel', 'warn', '--outDir', distDir, '--emptyOutDir'],
    { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (built.status !== 0) throw new Error('Building the console page (vite build, as npm run console:build) failed');
  const oidc = await createOidcClient({ issuer: identity.issuer, clientId: CONSOLE_CLIENT_ID, redirectUri: `${consoleUrl}/auth/callback`, caPEM: identity.caPEM });
  const server = await startConsoleServer({ upstream: upstreamFromKubeconfig(kubeconfig), oidc, port: Number(new URL(consoleUrl).port), publicUrl: consoleUrl, distDir });
  cleanups.push(() => server.close());
  const person = accounts[0];
  if (!person) throw new Error('No invited person made an account to sign in to the console with');
  // A browser: the console's SIGN IN, the provider's own page, back to the console with a session cookie.
  const ua = new UserAgent(identity.caPEM);
  const consoleOrigin = new URL(consoleUrl).origin;
  const issuerOrigin = new URL(identity.issuer).origin;
  const toProvider = await ua.follow(`${consoleUrl}/auth/login`, consoleOrigin);
  if (!toProvider.leftTo?.startsWith(identity.issuer)) throw new Error(`The console's sign-in did not go to the provider (HTTP ${toProvider.res.status})`);
  const page = await ua.follow(toProvider.leftTo, issuerOrigin);
  const form = loginForm(await page.res.text());
  const done = await ua.follow(new URL(form.action, issuerOrigin).href, issuerOrigin, { form: { csrf: form.csrf, login: person.username, password: DEMO_PASSWORD } });
  if (!done.leftTo?.startsWith(`${consoleUrl}/auth/callback`))
    throw new Error(`The provider did not send ${person.username} back to the console (HTTP ${done.res.status}): ${pageMessage(await done.res.text())}`);
  const back = await ua.follow(done.leftTo, consoleOrigin);
  if (back.res.status !== 200) throw new Error(`The console's callback answered HTTP ${back.res.status}: ${await back.res.text()}`);
  const me = await ua.request(`${consoleUrl}/console/api/me`);
  const who = (await me.json()) as { username?: string; organizations?: { name: string; membership?: { role?: string } }[]; message?: string };
  if (me.status !== 200) throw new Error(`The console did not know ${person.username} after sign-in (HTTP ${me.status}): ${who.message}`);
  say('\nThe console (docs/console.md), signed in through the embedded identity provider:\n');
  say(`  ${person.username} signed in as a browser does (SIGN IN, the provider's page, back): the API server knows them as ${who.username}`);
  say(`  their organizations: ${(who.organizations ?? []).map((o) => `${o.name}${o.membership?.role ? ` (${o.membership.role})` : ''}`).join(', ') || '(none)'}`);
  // Without --keep everything stops a moment later: an address printed as if open would be dead by the time anyone clicks it.
  if (flags.keep) say(`\n  Console: ${consoleUrl}`);
  else say("\n  To use the console yourself, run `npm run demo -- --keep`: it keeps everything running and prints the console's address.");
  say(`  Sign in as ${person.username} (${person.email}, ${person.role} in ${person.namespace}) with the password ${DEMO_PASSWORD}`);
  for (const a of accounts.slice(1)) say(`          or ${a.username} (${a.email}, ${a.role} in ${a.namespace}), same password`);
}

/** The solution side: the tenants' groups (the union of the solution's and its app's manifests), users, and one token's roles. */
async function showTenants(client: KubeClient, port: number, ca: string, kubectlMiniapps: (...argv: string[]) => Promise<number>): Promise<void> {
  const s = await eventually(
    async () => {
      const [solutions, tenants, subs, groups, users] = await Promise.all([
        client.listAll<Solution>(Kinds.Solution),
        client.listAll<Tenant>(Kinds.Tenant),
        client.listAll<Subscription>(Kinds.Subscription),
        client.listAll<UserGroup>(Kinds.UserGroup),
        client.listAll<User>(Kinds.User),
      ]);
      const all = [...solutions.items, ...tenants.items, ...subs.items, ...users.items];
      const settled = all.every((o) => cond(o as Status)?.status === 'True' && o.status?.observedGeneration === o.metadata.generation) && groups.items.every((g) => g.status?.members !== undefined);
      return settled && groups.items.length > 0 ? { solutions: solutions.items, tenants: tenants.items, subs: subs.items, groups: groups.items, users: users.items } : false;
    },
    { timeoutMs: 60_000, intervalMs: 1_000, describe: 'solutions, tenants, subscriptions and users Ready' },
  );
  say('\nSolutions and tenants:\n');
  say(
    table([
      ['KIND', 'NAME', 'READY', 'DETAILS'],
      ...s.solutions.map((o) => ['Solution', `${o.metadata.namespace}/${o.metadata.name}`, cond(o)!.status, cond(o, 'ManifestValid')?.message ?? '']),
      ...s.tenants.map((o) => ['Tenant', o.metadata.name, cond(o)!.status, `namespace ${o.status?.namespace}; ${cond(o, 'AdministratorsReady')?.message ?? ''}`]),
      ...s.subs.map((o) => [
        'Subscription',
        `${o.metadata.namespace}/${o.metadata.name}`,
        cond(o)!.status,
        `${o.spec.solution.organization}/${o.spec.solution.name} ${o.status?.version}: groups ${(o.status?.userGroups ?? []).join(', ')}`,
      ]),
    ]),
  );
  say("\nThe tenants' user groups (solution and app manifests merged; each role with where it comes from):\n");
  say(
    table([
      ['NAMESPACE', 'GROUP', 'MEMBERS', 'LANDING PAGE', 'ROLES (SOURCE)'],
      ...s.groups.map((g) => [
        g.metadata.namespace!,
        g.metadata.name!,
        String(g.status?.members ?? 0),
        g.spec.landingPage ? `${g.spec.landingPage.url} (rank ${g.spec.landingPage.rank})` : '',
        (g.status?.roleSources ?? []).map((r) => `${r.role} (${r.sources.map((x) => x.split(' ')[0]).join('+')})`).join(', '),
      ]),
    ]),
  );
  say('\nUsers:\n');
  say(
    table([
      ['NAMESPACE', 'USER', 'DESIGNATION', 'GROUPS', 'LANDS ON', 'ROLES'],
      ...s.users.map((u) => [
        u.metadata.namespace!,
        u.metadata.name!,
        u.spec.designation ?? '',
        (u.status?.groups ?? []).join(','),
        u.status?.landingPage?.url ?? '',
        String(u.status?.effectiveRoles?.length ?? 0),
      ]),
    ]),
  );
  // One token: a gateway's ServiceAccount in the first tenant asks the operator, as an identity provider would.
  const user = s.users.find((u) => (u.spec.groups ?? []).length > 1) ?? s.users[0]!;
  const ns = user.metadata.namespace!;
  const app = { organization: 'acme-bank', name: 'gated-frontend' };
  await client.apply(Resources.ServiceAccount, { metadata: { name: 'gateway', namespace: ns } });
  await client.apply(Resources.RoleBinding, {
    metadata: { name: 'gateway', namespace: ns },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'miniapps:tenant-administrator' },
    subjects: [{ kind: 'ServiceAccount', name: 'gateway', namespace: ns }],
  });
  const token = (
    await client.request<{ status: { token: string } }>('POST', `/api/v1/namespaces/${ns}/serviceaccounts/gateway/token`, {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 600 } },
    })
  ).status.token;
  const answer = await eventually(
    async () => {
      const r = await postJson(port, ca, TOKEN_ROLES_PATH, token, { namespace: ns, user: user.metadata.name, app, jwt: true });
      return r.status === 200 ? r.body : false;
    },
    { timeoutMs: 20_000, describe: 'the token roles' },
  );
  say(
    `\nThe roles a token of ${app.organization}/${app.name} carries for ${ns}/${user.metadata.name} (POST ${TOKEN_ROLES_PATH}): the user's ${user.status?.effectiveRoles?.length} role(s) that the app's rolesRequired lists:\n`,
  );
  say(`  ${(answer.roles as string[]).join('\n  ')}`);
  const claims = JSON.parse(Buffer.from(String(answer.token).split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
  say(`\nAs a JWT (ES256, verify with /tokenroles/v1/jwks.json): ${JSON.stringify(claims)}`);
  say(`\nThe same from the plugin (kubectl miniapps token-roles ${user.metadata.name} --app ${app.organization}/${app.name} -n ${ns}):\n`);
  await kubectlMiniapps('token-roles', user.metadata.name!, '--app', `${app.organization}/${app.name}`, '-n', ns);
}

function postJson(port: number, ca: string, path: string, token: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port, path, method: 'POST', ca, servername: 'localhost', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res
          .setEncoding('utf8')
          .on('data', (c: string) => (text += c))
          .on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

/** A ServiceAccount of `ns` allowed to protect and reveal the data of the mini apps in `appNamespaces`, and a token for it. */
async function dataStoreToken(client: KubeClient, ns: string, appNamespaces: string[]): Promise<string> {
  await client.apply(Resources.ServiceAccount, { metadata: { name: 'data-store', namespace: ns } });
  for (const appNs of appNamespaces) {
    await client.apply(Resources.Role, {
      metadata: { name: 'data-store', namespace: appNs },
      rules: [
        { apiGroups: ['miniapps.dev'], resources: ['miniapps'], verbs: ['get'] },
        { apiGroups: ['miniapps.dev'], resources: ['miniapps/reveal'], verbs: ['create'] },
      ],
    });
    await client.apply(Resources.RoleBinding, {
      metadata: { name: 'data-store', namespace: appNs },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'data-store' },
      subjects: [{ kind: 'ServiceAccount', name: 'data-store', namespace: ns }],
    });
  }
  const res = await client.request<{ status: { token: string } }>('POST', `/api/v1/namespaces/${ns}/serviceaccounts/data-store/token`, {
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 600 } },
  });
  return res.status.token;
}

/** POST to the operator's data-protection API (its TLS listener, trusted through the CA it registered its webhook with). */
function callDataProtection(
  port: number,
  ca: string,
  token: string,
  op: 'protect' | 'reveal',
  miniApp: { organization: string; name: string },
  values: string[],
): Promise<{ status: number; body: { protection?: string; values?: string[]; error?: string } }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port, path: `/dataprotection/v1/${op}`, method: 'POST', ca, servername: 'localhost', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res
          .setEncoding('utf8')
          .on('data', (c: string) => (text += c))
          .on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text || '{}') }));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify({ miniApp, values }));
  });
}

/** Applies the example keys, shows them, and uses them with kubectl --token as their owners would. */
async function apiKeys(client: KubeClient, keyDocs: ObjectBody[], kubeconfig: string, binDir: string | undefined): Promise<void> {
  // The webhook refuses a key whose owner it does not see active yet: its cache follows the Memberships a moment later.
  for (const d of keyDocs) await eventually(() => client.apply(KINDS[d.kind!]!, d), { timeoutMs: 30_000, describe: `ApiKey ${d.metadata.name} accepted` });
  const keys = await Promise.all(keyDocs.map((d) => waitForKey(client, d.metadata.namespace!, d.metadata.name!, (k) => k.status?.phase === 'Active', 'Active', 60_000)));
  say(`\nAPI keys (examples/40-apikeys.yaml): each in a Secret only its owner may read; status keeps its SHA-256 only\n`);
  say(
    table([
      ['NAMESPACE', 'APIKEY', 'OWNER', 'PHASE', 'PREFIX', 'SECRET', 'EXPIRES', 'ROTATION'],
      ...keys.map((k) => [
        k.metadata.namespace!,
        k.metadata.name,
        k.spec.owner,
        k.status!.phase!,
        k.status!.prefix!,
        k.status!.secretName!,
        k.status!.expiresAt ?? '',
        k.spec.rotation ? `${k.spec.rotation.period} (grace ${k.spec.rotation.gracePeriod})` : 'none',
      ]),
    ]),
  );
  if (!binDir) {
    say("\n(kubectl --token needs an API server that calls the operator's /authenticate: the local control plane does; see docs/api-keys.md for a cluster of your own)");
    return;
  }
  const access = loadClusterAccess({ path: kubeconfig });
  const dir = mkdtempSync(join(tmpdir(), 'miniapps-demo-'));
  const bare = join(dir, 'kubeconfig');
  const b64 = (x: string | Buffer | undefined) => (x ? Buffer.from(x).toString('base64') : '');
  writeFileSync(
    bare,
    `apiVersion: v1\nkind: Config\nclusters:\n- name: demo\n  cluster:\n    server: ${access.server}\n    certificate-authority-data: ${b64(access.ca)}\nusers:\n- name: key\n  user: {}\ncontexts:\n- name: demo\n  context: {cluster: demo, user: key}\ncurrent-context: demo\n`,
    { mode: 0o600 },
  );
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  const kubectl = (token: string, args: string[], stdin?: string) =>
    spawnSync(join(binDir, 'kubectl'), [`--kubeconfig=${bare}`, `--token=${token}`, ...args], { input: stdin, encoding: 'utf8', timeout: 60_000 });
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
