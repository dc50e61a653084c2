// What the reconcilers do about what slipped past admission while the webhook was away
// (its failurePolicy is Ignore) or an admission policy was missing: report it, and
// delete nothing because of it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Organization } from '../../api/organization/schema.ts';
import { Resources } from '../../runtime/kube/resource.ts';
import { testClient } from '../../testenv/clients.ts';
import { eventually, testKubeconfig, uniqueName } from '../../testenv/index.ts';
import { OperatorProcess } from '../../testenv/operator-process.ts';
import { Kinds } from '../../api/registry.ts';
import { PolicyNames, admissionPolicies } from '../../api/policies.ts';

const admin = testClient();
const opNamespace = uniqueName('op-guards');
let operator: OperatorProcess;
const cond = (o: Organization | undefined, type: string) => o?.status?.conditions?.find((c) => c.type === type);
const org = (name: string) => admin.get<Organization>(Kinds.Organization, name);

/** An operator without the webhook: what it would refuse gets in, as when the webhook is down. */
async function startWithoutWebhook(): Promise<OperatorProcess> {
  return OperatorProcess.start({ kubeconfig: testKubeconfig(), namespace: opNamespace, args: ['--webhook-bind-address=0', '--install-admission-policies=false'] });
}

/** Runs `fn` with the admission policy binding `name` removed (as on a cluster without it), then puts it back. */
async function withoutPolicy<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const binding = admissionPolicies(opNamespace).find((p) => p.kind === 'ValidatingAdmissionPolicyBinding' && p.metadata.name === name)!;
  await admin.delete(Resources.ValidatingAdmissionPolicyBinding, name);
  try {
    return await fn();
  } finally {
    await admin.apply(Resources.ValidatingAdmissionPolicyBinding, binding);
  }
}

beforeAll(async () => {
  operator = await startWithoutWebhook();
});
afterAll(async () => {
  await operator?.stop();
});

describe('with the webhook away', () => {
  it('a super app in an organization without the capability is reported, with a Warning event, and kept', async () => {
    const name = uniqueName('nocap');
    await admin.create(Kinds.Organization, { metadata: { name }, spec: { displayName: 'No Cap', capabilities: { miniApps: true } } });
    const ns = await eventually(async () => (await org(name))?.status?.namespace ?? false, { describe: 'the namespace' });
    // The capability is also an admission policy the API server holds while the operator is down: here it is missing too.
    await withoutPolicy(PolicyNames.organizationApps, () =>
      eventually(() => admin.create(Kinds.SuperApp, { metadata: { name: 'sneaky', namespace: ns }, spec: { displayName: 'Sneaky' } }), { describe: 'the super app accepted' }),
    );
    const o = await eventually(
      async () => {
        const now = await org(name);
        return cond(now, 'CapabilitiesRespected')?.status === 'False' ? now : false;
      },
      { describe: 'CapabilitiesRespected=False' },
    );
    expect(cond(o, 'CapabilitiesRespected')).toMatchObject({ reason: 'CapabilityMissing', message: expect.stringContaining('SuperApp sneaky') });
    expect(await admin.get(Kinds.SuperApp, 'sneaky', ns)).toBeDefined(); // reported, not deleted
    const events = await eventually(
      async () => {
        const list = await admin.list<{ metadata: { name?: string }; reason?: string; regarding?: { name?: string } }>(Resources.Event, { namespace: 'default' });
        return list.items.find((e) => e.regarding?.name === name && e.reason === 'CapabilityMissing') ?? false;
      },
      { describe: 'a CapabilityMissing event' },
    );
    expect(events).toBeDefined();
  });

  it('an unconfirmed deletion is held by the finalizer with the reason, keeps every status field, and goes ahead once confirmed', async () => {
    const name = uniqueName('held');
    await admin.create(Kinds.Organization, { metadata: { name }, spec: { displayName: 'Held' } });
    const ns = await eventually(
      async () => {
        const o = await org(name);
        return cond(o, 'Ready')?.status === 'True' ? o!.status!.namespace! : false;
      },
      { describe: 'Ready' },
    );
    await admin.create(Kinds.Membership, { metadata: { name: 'boss', namespace: ns }, spec: { email: `${name}@example.com`, role: 'OrganizationAdministrator', acceptance: 'Automatic' } });
    await eventually(async () => (await org(name))?.status?.members?.administrators === 1, { describe: 'one administrator counted' });
    // Admission would refuse the unconfirmed deletion: here the policy is missing, and the finalizer holds it.
    await withoutPolicy(PolicyNames.confirmDelete('Organization'), () => eventually(async () => admin.delete(Kinds.Organization, name), { describe: 'the unconfirmed delete accepted' }));
    const held = await eventually(
      async () => {
        const o = await org(name);
        return cond(o, 'Ready')?.reason === 'DeletionNotConfirmed' ? o : false;
      },
      { describe: 'DeletionNotConfirmed' },
    );
    expect(held?.metadata.deletionTimestamp).toBeDefined();
    // Status fields wiped by partial writes: the held deletion's status write keeps what it did not recompute.
    expect(held?.status?.namespace).toBe(ns);
    expect(held?.status?.members).toMatchObject({ active: 1, administrators: 1 });
    expect(await admin.get(Resources.Namespace, ns)).toBeDefined(); // nothing removed
    await new Promise((r) => setTimeout(r, 1500));
    expect((await admin.get<{ metadata: { deletionTimestamp?: string } }>(Resources.Namespace, ns))?.metadata.deletionTimestamp).toBeUndefined();
    expect((await org(name))?.status?.namespace).toBe(ns);

    await admin.patch(Kinds.Organization, name, undefined, { metadata: { annotations: { 'miniapps.dev/confirm-delete': 'CONFIRM DELETE' } } });
    await eventually(async () => (await org(name)) === undefined && (await admin.get(Resources.Namespace, ns)) === undefined, {
      timeoutMs: 60_000,
      describe: 'the organization and its namespace gone',
    });
  });
});
