// Health as Flux and Argo CD read it, on objects the operator reconciled on the real
// control plane and that are read back from it: kstatus (sigs.k8s.io/cli-utils) and the
// chart's Argo CD Lua scripts agree that converged objects are Current / Healthy, that
// those converging are InProgress / Progressing (a new generation not yet observed, a
// Ready False that retrying fixes), and that those whose spec must change are Failed /
// Degraded (the controllers' Stalled condition). Then the operator's /metrics, after
// that run and read as Prometheus reads it (over TLS, with a token allowed `get` on
// /metrics), passes `promtool check metrics`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiKey } from '../api/apikey/schema.ts';
import type { Membership } from '../api/membership/schema.ts';
import type { Organization } from '../api/organization/schema.ts';
import type { PlatformConfig } from '../api/platformconfig/schema.ts';
import { Kinds } from '../api/registry.ts';
import { PolicyNames, admissionPolicies } from '../api/policies.ts';
import type { AnyObject } from '../runtime/kube/client.ts';
import { Resources } from '../runtime/kube/resource.ts';
import { deleteOrganizationsAndWait, testClient } from '../testenv/clients.ts';
import { eventually, testKubeconfig, uniqueName } from '../testenv/index.ts';
import { webhookRegistrationName } from '../servers/webhook.ts';
import { serviceAccountToken } from '../testenv/apikeys.ts';
import { OperatorProcess } from '../testenv/operator-process.ts';
import { findTool, run } from '../testenv/tools.ts';
import { argoHealth, kstatus } from './readers.ts';

const kstatusBin = findTool('kstatus');
const lua = findTool('glua');
const promtool = findTool('promtool');

const admin = testClient();
const operatorNamespace = uniqueName('op-health');
let operator: OperatorProcess;
const metricsReader = `${operatorNamespace}-metrics-reader`;
/** The operator as the chart runs it: /metrics over TLS for callers allowed `get` on /metrics, read here as Prometheus would. */
async function startOperator(): Promise<OperatorProcess> {
  const op = await OperatorProcess.start({ kubeconfig: testKubeconfig(), namespace: operatorNamespace, args: ['--metrics-secure=true'] });
  const reg = await eventually(
    async () => (await admin.get<AnyObject & { webhooks?: { clientConfig: { caBundle: string } }[] }>(Resources.ValidatingWebhookConfiguration, webhookRegistrationName(operatorNamespace))) ?? false,
    { describe: 'the webhook registration' },
  );
  if (!(await admin.get(Resources.ClusterRole, metricsReader))) {
    await admin.create(Resources.ClusterRole, { metadata: { name: metricsReader }, rules: [{ nonResourceURLs: ['/metrics'], verbs: ['get'] }] });
    await admin.create(Resources.ClusterRoleBinding, {
      metadata: { name: metricsReader },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: metricsReader },
      subjects: [{ kind: 'ServiceAccount', name: 'prometheus', namespace: operatorNamespace }],
    });
  }
  op.readMetricsAs({ token: await serviceAccountToken(admin, operatorNamespace, 'prometheus'), caPEM: Buffer.from(reg.webhooks![0]!.clientConfig.caBundle, 'base64').toString() });
  return op;
}

type Obj = AnyObject & { status?: { observedGeneration?: number; conditions?: { type: string; status: string; reason: string }[] } };
const condition = (o: Obj | undefined, type: string) => o?.status?.conditions?.find((c) => c.type === type);
/** Reads the object until `done` holds for it, with the generation observed; returns it as the API server has it. */
async function settled(kind: (typeof Kinds)[keyof typeof Kinds], name: string, namespace: string | undefined, done: (o: Obj) => boolean, describe: string): Promise<Obj> {
  return eventually(
    async () => {
      const o = await admin.get<Obj>(kind, name, namespace);
      return o && o.status?.observedGeneration === o.metadata.generation && done(o) ? o : false;
    },
    { timeoutMs: 30_000, describe: `${describe} (${namespace ? `${namespace}/` : ''}${name})` },
  );
}
const readyTrue = (o: Obj) => condition(o, 'Ready')?.status === 'True';
const stalled = (reason: string) => (o: Obj) => condition(o, 'Stalled')?.status === 'True' && condition(o, 'Stalled')?.reason === reason;

const id = uniqueName('h');
const org = `${id}-org`;
const ns = `org-${org}`;
const conflicted = `${id}-conflict`;
const takenNs = `${id}-taken`;
/** The default PlatformConfig's invitationTTL while this file changed it (undefined: not changed). */
let ttlBefore: string | null | undefined;
const strayNs = `${id}-stray`;
const tenant = `${id}-tenant`;
const conflictedTenant = `${id}-late-tenant`;
const tenantNs = `tenant-${tenant}`;
const account = `${id}-acct`;

/** The objects read back, by what the operator made of them. */
const seen: { converged: Obj[]; converging: Obj[]; stalled: Obj[] } = { converged: [], converging: [], stalled: [] };

beforeAll(async () => {
  if (!kstatusBin || !lua) return;
  operator = await startOperator();
});

afterAll(async () => {
  if (ttlBefore !== undefined) await admin.patch(Kinds.PlatformConfig, 'default', undefined, { spec: { invitationTTL: ttlBefore } });
  await admin.delete(Resources.Namespace, strayNs).catch(() => undefined);
  await admin.delete(Resources.Namespace, takenNs).catch(() => undefined);
  await admin.delete(Resources.ClusterRoleBinding, metricsReader).catch(() => undefined);
  await admin.delete(Resources.ClusterRole, metricsReader).catch(() => undefined);
  if (operator) {
    for (const t of [tenant, conflictedTenant]) await admin.delete(Kinds.Tenant, t).catch(() => undefined);
    await admin.delete(Kinds.Account, account).catch(() => undefined);
    await deleteOrganizationsAndWait(admin, [org, conflicted]);
    expect((await operator.stop()).code).toBe(0);
  }
});

describe.skipIf(!kstatusBin || !lua)('health of objects the operator reconciled, as Flux and Argo CD read it', () => {
  it('each kind converges to Ready, and reads Current and Healthy', async () => {
    // The platform's settings (the ApiKey admission policy reads them as its params).
    if (!(await admin.get<PlatformConfig>(Kinds.PlatformConfig, 'default'))) await admin.create(Kinds.PlatformConfig, { metadata: { name: 'default' }, spec: {} });
    await admin.create<Organization>(Kinds.Organization, { metadata: { name: org }, spec: { displayName: 'Health Inc', capabilities: { superApps: true, miniApps: true } } });
    seen.converged.push(await settled(Kinds.Organization, org, undefined, readyTrue, 'the Organization Ready'));
    await admin.create<Membership>(Kinds.Membership, {
      metadata: { name: 'admin', namespace: ns },
      spec: { email: `admin@${id}.example`, role: 'OrganizationAdministrator', acceptance: 'Automatic' },
    });
    await admin.create(Kinds.SuperApp, { metadata: { name: 'wallet', namespace: ns }, spec: { displayName: 'Wallet', reviewPolicy: 'SameOrganization' } });
    await admin.create(Kinds.MiniApp, {
      metadata: { name: 'finder', namespace: ns },
      spec: { appName: 'finder', type: 'WebService', superApps: [{ name: 'wallet' }], versions: [{ name: '1.0.0' }], publishedVersion: '1.0.0' },
    });
    seen.converged.push(await settled(Kinds.Membership, 'admin', ns, readyTrue, 'the Membership Ready'));
    seen.converged.push(await settled(Kinds.SuperApp, 'wallet', ns, readyTrue, 'the SuperApp Ready'));
    seen.converged.push(await settled(Kinds.MiniApp, 'finder', ns, readyTrue, 'the MiniApp Ready'));
    // Created once what they name is known to the operator (its webhook reads its caches).
    await admin.create(Kinds.MiniAppReview, {
      metadata: { name: 'finder-1.0.0', namespace: ns },
      spec: { miniApp: { organization: org, name: 'finder' }, superApp: 'wallet', version: '1.0.0', decision: 'Approved' },
    });
    await admin.create(Kinds.ApiKey, { metadata: { name: 'bot', namespace: ns }, spec: { owner: `admin@${id}.example`, description: 'Health bot', ttl: '720h' } });
    seen.converged.push(await settled(Kinds.MiniAppReview, 'finder-1.0.0', ns, readyTrue, 'the MiniAppReview Ready'));
    seen.converged.push(await settled(Kinds.ApiKey, 'bot', ns, readyTrue, 'the ApiKey Ready'));
    seen.converged.push(await settled(Kinds.PlatformConfig, 'default', undefined, readyTrue, 'the PlatformConfig Ready'));
    // A person's account (without the embedded identity provider here: no private half, Ready).
    await admin.create(Kinds.Account, { metadata: { name: account }, spec: { username: account, email: `${account}@${id}.example`, firstName: 'Health', lastName: 'Check' } });
    seen.converged.push(await settled(Kinds.Account, account, undefined, readyTrue, 'the Account Ready'));

    // The solution side: a solution with an app, a tenant subscribed to it, the group that makes, a user in it.
    await admin.create(Kinds.Solution, {
      metadata: { name: 'field', namespace: ns },
      spec: { solutionId: 'field', version: '1.0.0', manifest: { userGroupsRequired: [{ name: 'field executive', roles: ['role:finder:viewer'] }] } },
    });
    await admin.create(Kinds.AppManifest, { metadata: { name: 'finder', namespace: ns }, spec: { appId: 'finder', listingId: 'finder', rolesRequired: ['platform:role:finder:viewer'] } });
    await admin.create(Kinds.Tenant, { metadata: { name: tenant }, spec: { displayName: 'Health tenant' } });
    seen.converged.push(await settled(Kinds.Solution, 'field', ns, readyTrue, 'the Solution Ready'));
    seen.converged.push(await settled(Kinds.AppManifest, 'finder', ns, readyTrue, 'the AppManifest Ready'));
    seen.converged.push(await settled(Kinds.Tenant, tenant, undefined, readyTrue, 'the Tenant Ready'));
    await admin.create(Kinds.Subscription, { metadata: { name: 'field', namespace: tenantNs }, spec: { solution: { organization: org, name: 'field' } } });
    await admin.create(Kinds.User, { metadata: { name: 'zola', namespace: tenantNs }, spec: { userCode: 'H1', firstName: 'Zola', email: `zola@${id}.example`, groups: ['field-executive'] } });
    seen.converged.push(await settled(Kinds.Subscription, 'field', tenantNs, readyTrue, 'the Subscription Ready'));
    seen.converged.push(await settled(Kinds.UserGroup, 'field-executive', tenantNs, readyTrue, 'the UserGroup Ready'));
    seen.converged.push(await settled(Kinds.User, 'zola', tenantNs, readyTrue, 'the User Ready'));

    expect(seen.converged.map((o) => o.kind).sort()).toEqual(Object.keys(Kinds).sort());
    expect(kstatus(kstatusBin!, seen.converged).map((r) => [r.kind, r.status])).toEqual(seen.converged.map((o) => [o.kind, 'Current']));
    expect(argoHealth(lua!, seen.converged).map((r, i) => [seen.converged[i]!.kind, r.status])).toEqual(seen.converged.map((o) => [o.kind, 'Healthy']));
  });

  it('while the operator is down: a change not yet observed, and an object it has not seen, read InProgress and Progressing (kstatus: Current for the unseen one)', async () => {
    // With the operator down its webhook does not answer (failurePolicy Ignore), so specs it
    // would refuse get in, as they do in a cluster where it is down: the reconcilers then
    // report them (next test).
    await operator.stop();
    try {
      await admin.patch(Kinds.Organization, org, undefined, { spec: { displayName: 'Health Incorporated' } });
      await admin.patch(Kinds.MiniApp, 'finder', ns, { spec: { categories: ['NoSuchCategory'] } });
      const changed = [(await admin.get<Obj>(Kinds.Organization, org))!, (await admin.get<Obj>(Kinds.MiniApp, 'finder', ns))!];
      expect(changed.map((o) => [o.metadata.generation, o.status?.observedGeneration, condition(o, 'Ready')?.status])).toEqual([
        [2, 1, 'True'],
        [2, 1, 'True'],
      ]);
      seen.converging.push(...changed);
      expect(kstatus(kstatusBin!, changed).map((r) => r.status)).toEqual(['InProgress', 'InProgress']);
      expect(argoHealth(lua!, changed).map((r) => r.status)).toEqual(['Progressing', 'Progressing']);

      await admin.create(Resources.Namespace, { metadata: { name: takenNs, labels: { 'miniapps.dev/organization': 'someone-else' } } });
      await admin.create(Kinds.Organization, { metadata: { name: conflicted }, spec: { displayName: 'Late', namespace: takenNs } });
      await admin.create(Kinds.Tenant, { metadata: { name: conflictedTenant }, spec: { displayName: 'Late tenant', namespace: takenNs } });
      // One Membership per email is also an admission policy the API server holds while the
      // operator is down: removed for this create, as on a cluster without it.
      const emailBinding = admissionPolicies('unused').find((p) => p.kind === 'ValidatingAdmissionPolicyBinding' && p.metadata.name === PolicyNames.membershipEmail)!;
      await admin.delete(Resources.ValidatingAdmissionPolicyBinding, emailBinding.metadata.name);
      try {
        await eventually(() => admin.create(Kinds.Membership, { metadata: { name: 'admin-again', namespace: ns }, spec: { email: `admin@${id}.example`, role: 'MiniAppDeveloper' } }), {
          describe: 'the duplicate accepted',
        });
      } finally {
        await admin.apply(Resources.ValidatingAdmissionPolicyBinding, emailBinding);
      }
      // The CRD keeps PlatformConfig a singleton (CEL); an invitationTTL of zero only the operator refuses.
      const pc = (await admin.get<PlatformConfig>(Kinds.PlatformConfig, 'default'))!;
      ttlBefore = pc.spec?.invitationTTL ?? null;
      await admin.patch(Kinds.PlatformConfig, 'default', undefined, { spec: { invitationTTL: '0s' } });
      await admin.create(Resources.Namespace, { metadata: { name: strayNs } });
      await admin.create(Kinds.MiniAppReview, {
        metadata: { name: 'lost', namespace: strayNs },
        spec: { miniApp: { organization: org, name: 'finder' }, superApp: 'wallet', version: '1.0.0', decision: 'Approved' },
      });
      const unseen = [(await admin.get<Obj>(Kinds.Organization, conflicted))!];
      expect(unseen[0]!.status).toBeUndefined();
      expect(kstatus(kstatusBin!, unseen).map((r) => r.status)).toEqual(['Current']);
      expect(argoHealth(lua!, unseen).map((r) => r.status)).toEqual(['Progressing']);
    } finally {
      operator = await startOperator();
    }
  });

  it('a spec that retrying cannot fix sets Stalled, and reads Failed and Degraded with the reason; a fixed change reads Current and Healthy', async () => {
    seen.stalled.push(await settled(Kinds.Organization, conflicted, undefined, stalled('NamespaceConflict'), 'the Organization Stalled'));
    seen.stalled.push(await settled(Kinds.Membership, 'admin-again', ns, stalled('DuplicateEmail'), 'the duplicate Membership Stalled'));
    seen.stalled.push(await settled(Kinds.PlatformConfig, 'default', undefined, stalled('InvalidInvitationTTL'), 'the PlatformConfig Stalled on an invitationTTL of zero'));
    seen.stalled.push(await settled(Kinds.MiniAppReview, 'lost', strayNs, stalled('NotInOrganization'), 'the review outside an organization Stalled'));
    seen.stalled.push(await settled(Kinds.MiniApp, 'finder', ns, stalled('CategoryNotAllowed'), 'the MiniApp Stalled on a category PlatformConfig does not allow'));
    seen.stalled.push(await settled(Kinds.Tenant, conflictedTenant, undefined, stalled('NamespaceConflict'), 'the Tenant Stalled on a namespace an organization claims'));

    const flux = kstatus(kstatusBin!, seen.stalled);
    expect(flux.map((r) => [r.kind, r.status])).toEqual(seen.stalled.map((o) => [o.kind, 'Failed']));
    expect(flux.map((r) => r.message)).toEqual(seen.stalled.map((o) => (condition(o, 'Stalled') as { message?: string }).message));
    const argo = argoHealth(lua!, seen.stalled);
    expect(argo.map((r) => r.status)).toEqual(seen.stalled.map(() => 'Degraded'));
    expect(argo.map((r) => r.message.split(':')[0])).toEqual(['NamespaceConflict', 'DuplicateEmail', 'InvalidInvitationTTL', 'NotInOrganization', 'CategoryNotAllowed', 'NamespaceConflict']);

    // Fixed, the PlatformConfig is Ready again and no longer Stalled.
    await admin.patch(Kinds.PlatformConfig, 'default', undefined, { spec: { invitationTTL: ttlBefore } });
    ttlBefore = undefined;
    const pc = await settled(Kinds.PlatformConfig, 'default', undefined, readyTrue, 'the PlatformConfig Ready once fixed');
    expect(condition(pc, 'Stalled')).toBeUndefined();
    const org2 = await settled(Kinds.Organization, org, undefined, readyTrue, 'the Organization Ready on generation 2');
    expect(org2.metadata.generation).toBe(2);
    expect(kstatus(kstatusBin!, [org2]).map((r) => r.status)).toEqual(['Current']);
    expect(argoHealth(lua!, [org2]).map((r) => r.status)).toEqual(['Healthy']);
  });

  it('a Membership waiting for its invitation reads InProgress and Progressing (GitOps waits for the person)', async () => {
    await admin.create(Kinds.Membership, { metadata: { name: 'invitee', namespace: ns }, spec: { email: `invitee@${id}.example`, role: 'MiniAppDeveloper' } });
    const m = await settled(Kinds.Membership, 'invitee', ns, (o) => condition(o, 'Ready')?.status === 'False', 'the invited Membership not Ready');
    expect(condition(m, 'Stalled')).toBeUndefined();
    seen.converging.push(m);
    expect(kstatus(kstatusBin!, [m]).map((r) => r.status)).toEqual(['InProgress']);
    expect(argoHealth(lua!, [m]).map((r) => r.status)).toEqual(['Progressing']);
  });
});

describe.skipIf(!kstatusBin || !lua || !promtool)("the operator's /metrics after that run", () => {
  it('passes promtool check metrics (names, units, help and types as Prometheus expects)', async () => {
    const scrape = await operator.metrics();
    expect(scrape).toContain('miniapps_reconcile_total');
    let result: { status: number; output: string };
    try {
      result = { status: 0, output: run(promtool!, ['check', 'metrics'], scrape) };
    } catch (err) {
      const e = err as { status: number; stdout: string; stderr: string };
      result = { status: e.status, output: `${e.stdout}${e.stderr}` };
    }
    expect(result).toEqual({ status: 0, output: '' });
  });

  it('gives the expiry of the ApiKey (ttl 720h) and of the webhook certificate the operator serves', async () => {
    const bot = (await admin.get<ApiKey>(Kinds.ApiKey, 'bot', ns))!;
    expect(await operator.metric('miniapps_apikey_expiration_timestamp_seconds', { apikey_namespace: ns, apikey_name: 'bot' })).toBe(Date.parse(bot.metadata.creationTimestamp!) / 1000 + 720 * 3600);
    const expires = await operator.metric('miniapps_webhook_certificate_expiration_timestamp_seconds', { source: 'memory' });
    expect(expires).toBeGreaterThan(Date.now() / 1000 + 89 * 86_400);
  });
});
