// Issue 18, "Rules that must hold while the operator is down" (docs/closed-rules.md): with
// the operator killed, the real API server still refuses what would break the
// capabilities, the mini app targets, one Membership per email (admission policies that
// read the Organizations and Memberships live) and the last administrator (a webhook that
// fails closed), and still allows what breaks none of them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Organization } from '../api/organization/schema.ts';
import { PolicyNames } from '../api/policies.ts';
import { Kinds } from '../api/registry.ts';
import { ApiError } from '../runtime/errors.ts';
import { Resources, resourcePath } from '../runtime/kube/resource.ts';
import { LAST_ADMINISTRATOR_WEBHOOK, webhookRegistrationName } from '../servers/webhook.ts';
import { deleteOrganizationsAndWait, testClient } from '../testenv/clients.ts';
import { eventually, testKubeconfig, uniqueName } from '../testenv/index.ts';
import { OperatorProcess } from '../testenv/operator-process.ts';

const admin = testClient();
const opNamespace = uniqueName('op-closed');
const running: OperatorProcess[] = [];
const id = uniqueName('c');
const cap = `${id}-cap`;
const bank = `${id}-bank`;
const partner = `${id}-partner`;
const ns: Record<string, string> = {};
const ADMIN_A = `Anna@${id}.example`;

interface Registration {
  metadata: { name: string };
  webhooks?: { name: string; failurePolicy?: string; clientConfig?: { url?: string } }[];
}

const start = async () => {
  const op = await OperatorProcess.start({ kubeconfig: testKubeconfig(), namespace: opNamespace, args: ['--webhook-fail-closed=true'] });
  running.push(op);
  return op;
};

async function refusal(p: Promise<unknown>): Promise<ApiError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ApiError)) throw new Error(`expected a refusal, got ${err === undefined ? 'success' : String(err)}`);
  return err;
}

/** Retries until the API server refuses with 403 (a policy's parameters reach it a moment after a change). */
const refusedEventually = (attempt: () => Promise<unknown>, describe: string) =>
  eventually(
    async () => {
      const err = await refusal(attempt()).catch(() => undefined);
      return err?.status === 403 ? err : false;
    },
    { timeoutMs: 20_000, describe },
  );

async function organization(name: string, spec: Record<string, unknown>): Promise<string> {
  await admin.create(Kinds.Organization, { metadata: { name }, spec: { displayName: name, ...spec } });
  return eventually(async () => (await admin.get<Organization>(Kinds.Organization, name))?.status?.namespace ?? false, { describe: `the namespace of ${name}` });
}

const superApp = (namespace: string, name: string) => admin.create(Kinds.SuperApp, { metadata: { name, namespace }, spec: { displayName: name } });
const miniApp = (namespace: string, name: string, superApps: { organization?: string; name: string }[] = []) =>
  admin.create(Kinds.MiniApp, { metadata: { name, namespace }, spec: { appName: name.replaceAll('-', '_'), type: 'Text', superApps } });
const membership = (namespace: string, name: string, email: string, role: string) => admin.create(Kinds.Membership, { metadata: { name, namespace }, spec: { email, role, acceptance: 'Automatic' } });
const member = (name: string) => admin.get(Kinds.Membership, name, ns[cap]);
/**
 * A cluster administrator, impersonated: out of cluster the operator runs with the test's
 * own admin kubeconfig, and the fail-closed webhook never judges the operator's identity.
 */
const OPS = { user: `ops@${id}.example`, groups: ['system:masters', 'system:authenticated'] };
const patchMember = (name: string, spec: Record<string, unknown>, as: typeof OPS = OPS, metadata: Record<string, unknown> = {}) =>
  admin.request('PATCH', resourcePath(Kinds.Membership, { namespace: ns[cap], name }), { body: { metadata, spec }, contentType: 'application/merge-patch+json', as });
const deleteMember = (name: string, as: typeof OPS = OPS) => admin.delete(Kinds.Membership, name, ns[cap], { as });

let operator: OperatorProcess;
let operatorUp = false;

beforeAll(async () => {
  operator = await start();
  ns[cap] = await organization(cap, { capabilities: { miniApps: true } });
  ns[bank] = await organization(bank, { capabilities: { superApps: true } });
  ns[partner] = await organization(partner, { capabilities: { miniApps: true }, miniAppTargets: [{ organization: bank, name: 'wallet' }] });
  await superApp(ns[bank]!, 'wallet');
  await superApp(ns[bank]!, 'cards');
  await membership(ns[cap]!, 'a', ADMIN_A, 'OrganizationAdministrator');
  await membership(ns[cap]!, 'b', `bo@${id}.example`, 'OrganizationAdministrator');
  await membership(ns[cap]!, 'c', `cy@${id}.example`, 'OrganizationAdministrator');
  await membership(ns[cap]!, 'dev', `dev@${id}.example`, 'MiniAppDeveloper');
  // The operator goes down hard (a crash, a node lost): nothing it could clean up is cleaned up.
  operator.kill('SIGKILL');
  expect((await operator.exit).signal).toBe('SIGKILL');
});

afterAll(async () => {
  // Operators reconcile cluster-wide: what this file leaves is the next file's work.
  if (operatorUp) await deleteOrganizationsAndWait(admin, [cap, bank, partner]);
  await Promise.all(running.map((p) => p.stop()));
  // A registration a killed operator left would refuse the next files' administrators' removals.
  await admin.delete(Resources.ValidatingWebhookConfiguration, webhookRegistrationName(opNamespace)).catch(() => undefined);
});

describe('with the operator killed', () => {
  it('its registration is left in place, with the last-administrator webhook failing closed', async () => {
    const reg = await admin.get<Registration>(Resources.ValidatingWebhookConfiguration, webhookRegistrationName(opNamespace));
    expect(reg?.webhooks?.map((w) => [w.name, w.failurePolicy])).toEqual([
      ['validate.miniapps.dev', 'Ignore'],
      [LAST_ADMINISTRATOR_WEBHOOK, 'Fail'],
    ]);
  });

  it('capabilities: a super app is refused to an organization without superApps, a mini app allowed with miniApps; a change made while it is down counts at once', async () => {
    const refused = await refusedEventually(() => superApp(ns[cap]!, 'not-allowed'), 'the super app refused');
    expect(refused.message).toContain(`ValidatingAdmissionPolicy '${PolicyNames.organizationApps}'`);
    expect(refused.message).toContain(`Organization ${cap} may not create super apps (spec.capabilities.superApps is false)`);
    await miniApp(ns[cap]!, 'allowed');
    // A provisioning administrator swaps the capabilities while the operator is down.
    await admin.patch(Kinds.Organization, cap, undefined, { spec: { capabilities: { superApps: true, miniApps: false } } });
    const revoked = await refusedEventually(() => miniApp(ns[cap]!, 'after-revoke'), 'the mini app refused once miniApps is revoked');
    expect(revoked.message).toContain(`Organization ${cap} may not create mini apps (spec.capabilities.miniApps is false)`);
    await eventually(
      () =>
        superApp(ns[cap]!, 'granted').then(
          () => true,
          () => false,
        ),
      { timeoutMs: 20_000, describe: 'the super app allowed once superApps is granted' },
    );
    // What exists stays editable: the mini app made before the revocation.
    await admin.patch(Kinds.MiniApp, 'allowed', ns[cap], { spec: { locations: ['CH'] } });
  });

  it('mini app targets: a partner publishes only into the super apps its miniAppTargets names; a target removed while it is down is refused at once, what a mini app already has is not', async () => {
    await miniApp(ns[partner]!, 'pay', [{ organization: bank, name: 'wallet' }]);
    const other = await refusal(miniApp(ns[partner]!, 'snoop', [{ organization: bank, name: 'cards' }]));
    expect(other.message).toContain(`ValidatingAdmissionPolicy '${PolicyNames.organizationApps}'`);
    expect(other.message).toContain(`spec.superApps: Organization ${partner} may not publish mini apps into super app ${bank}/cards`);
    await admin.patch(Kinds.Organization, partner, undefined, { spec: { miniAppTargets: null } });
    const removed = await refusedEventually(() => miniApp(ns[partner]!, 'pay-again', [{ organization: bank, name: 'wallet' }]), 'a new mini app into the wallet refused');
    expect(removed.message).toContain(`may not publish mini apps into super app ${bank}/wallet`);
    // The mini app that already names the wallet keeps it, and stays editable; a target added to it is judged.
    await admin.patch(Kinds.MiniApp, 'pay', ns[partner], { spec: { locations: ['CH'] } });
    const added = await refusal(
      admin.patch(Kinds.MiniApp, 'pay', ns[partner], {
        spec: {
          superApps: [
            { organization: bank, name: 'wallet' },
            { organization: bank, name: 'cards' },
          ],
        },
      }),
    );
    expect(added.message).toContain(`into super app ${bank}/cards`);
  });

  it('one Membership per email: a second one for the same email in another case is refused, another email is allowed', async () => {
    const dup = await refusal(membership(ns[cap]!, 'anna-again', ADMIN_A.toUpperCase(), 'MiniAppReviewer'));
    expect(dup.message).toContain(`ValidatingAdmissionPolicy '${PolicyNames.membershipEmail}'`);
    expect(dup.message).toContain(`${ADMIN_A.toUpperCase()} already has Membership a`);
    await membership(ns[cap]!, 'newcomer', `new@${id}.example`, 'MiniAppReviewer');
  });

  it('the last administrator: no active administrator can be removed, demoted or suspended while no operator answers; every other Membership write goes ahead', async () => {
    const webhookDown = (e: ApiError) => expect(e.message).toContain(`failed calling webhook "${LAST_ADMINISTRATOR_WEBHOOK}"`);
    webhookDown(await refusal(deleteMember('a')));
    webhookDown(await refusal(patchMember('b', { role: 'MiniAppDeveloper' })));
    webhookDown(await refusal(patchMember('b', { suspended: true })));
    expect(await member('a')).toBeDefined();
    // Not an administrator's, or one that stays an active administrator: allowed without the operator.
    await patchMember('dev', { suspended: true });
    await patchMember('newcomer', { role: 'OrganizationAdministrator' });
    await patchMember('a', {}, OPS, { labels: { team: 'platform' } });
    expect(await deleteMember('dev')).toBe(true);
    // The cluster's own controllers are never refused (the namespace controller empties a deleted namespace).
    const namespaceController = { user: 'system:serviceaccount:kube-system:namespace-controller', groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'] };
    expect(await deleteMember('c', namespaceController)).toBe(true);
  });
});

describe('with the operator back', () => {
  it("an administrator who is not the last one is removed; the last one is refused with the rule's own reason", async () => {
    operator = await start();
    operatorUp = true;
    await patchMember('b', { suspended: true });
    // newcomer became an administrator while the operator was down: Automatic, so active.
    expect(await deleteMember('newcomer')).toBe(true);
    // The webhook judges from the operator's cache: once it counts one active administrator.
    await eventually(async () => (await admin.get<Organization>(Kinds.Organization, cap))?.status?.members?.administrators === 1, { describe: 'one active administrator counted' });
    const last = await refusal(deleteMember('a'));
    expect(last.message).toContain(`${ADMIN_A} is the last active OrganizationAdministrator of Organization ${cap}`);
    expect(await member('a')).toBeDefined();
  });

  it('a standby replica answers it too: every replica loads the caches, only the leader reconciles', async () => {
    const standby = await start();
    expect(await standby.metric('miniapps_leader')).toBe(0);
    // The standby's registration replaced the leader's: the API server now calls the standby alone.
    const reg = await admin.get<Registration>(Resources.ValidatingWebhookConfiguration, webhookRegistrationName(opNamespace));
    expect(reg?.webhooks?.map((w) => w.clientConfig?.url)).toEqual([0, 1].map(() => `https://127.0.0.1:${standby.webhookPort}/validate`));
    const last = await refusal(deleteMember('a'));
    expect(last.message).toContain(`${ADMIN_A} is the last active OrganizationAdministrator of Organization ${cap}`);
    expect(await member('a')).toBeDefined();
  });
});
