// The operator is no way around Kubernetes' own authorization: each test is named after
// the hole it closes (the security issue), and runs against the real API server, with
// people impersonated as the API server authenticates them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLATFORM_CONFIG_NAME } from '../../api/platformconfig/names.ts';
import type { Membership } from '../../api/membership/schema.ts';
import type { Organization } from '../../api/organization/schema.ts';
import type { PlatformConfig } from '../../api/platformconfig/schema.ts';
import type { AnyObject } from '../../runtime/kube/client.ts';
import { Resources } from '../../runtime/kube/resource.ts';
import { accessAllowed } from '../../testenv/access.ts';
import { deleteOrganizationsAndWait, testClient } from '../../testenv/clients.ts';
import { eventually, kubectl, testKubeconfig, uniqueName } from '../../testenv/index.ts';
import { OperatorProcess } from '../../testenv/operator-process.ts';
import { Kinds } from '../../api/registry.ts';
import { PROVISIONING_ADMINISTRATOR_ROLE } from '../platformconfig/rbac.ts';

const admin = testClient();
// Starts with the organization prefix, so an Organization named `tail` would get the
// operator's own namespace as its generated one (see the reserved-namespace test).
const opNamespace = uniqueName('org-sec');
let operator: OperatorProcess;

const cond = (o: Organization | undefined, type: string) => o?.status?.conditions?.find((c) => c.type === type);
const getOrg = (name: string) => admin.get<Organization>(Kinds.Organization, name);

async function waitCondition(name: string, type: string, pred: (c: NonNullable<ReturnType<typeof cond>>) => boolean, what: string): Promise<Organization> {
  return eventually(
    async () => {
      const o = await getOrg(name);
      const c = cond(o, type);
      return c && o!.status!.observedGeneration === o!.metadata.generation && pred(c) ? o! : false;
    },
    { timeoutMs: 30_000, describe: `Organization ${name}: ${what}` },
  );
}

/** An organization with one active administrator (acceptance Automatic), once Ready. */
async function orgWithAdministrator(name: string, email: string, spec: Partial<Organization['spec']> = {}): Promise<{ ns: string }> {
  await admin.create(Kinds.Organization, { metadata: { name }, spec: { displayName: name, ...spec } });
  const ns = (await waitCondition(name, 'NamespaceReady', (c) => c.status === 'True', 'NamespaceReady')).status!.namespace!;
  await admin.create<Membership>(Kinds.Membership, { metadata: { name: 'admin', namespace: ns }, spec: { email, role: 'OrganizationAdministrator', acceptance: 'Automatic' } });
  await eventually(async () => accessAllowed(admin, email, { verb: 'update', resource: 'organizations', name }), { timeoutMs: 30_000, describe: `${email} may update Organization ${name}` });
  return { ns };
}

// As the chart runs it: the operator binds itself to a namespace-access ClusterRole in the namespaces it manages.
const accessRole = uniqueName('test-namespace-access');
const accessFlags = [`--service-account=${opNamespace}/miniapps-operator`, `--namespace-access-role=${accessRole}`];

beforeAll(async () => {
  operator = await OperatorProcess.start({ kubeconfig: testKubeconfig(), namespace: opNamespace, args: accessFlags });
});
afterAll(async () => {
  await operator?.stop();
});

describe('namespace takeover', () => {
  it('an existing namespace that did not opt in is left untouched: no owner, no labels, no Roles, and it survives the Organization', async () => {
    const victim = uniqueName('victim');
    await admin.create(Resources.Namespace, { metadata: { name: victim, labels: { team: 'payments' } } });
    await admin.create(Resources.ConfigMap, { metadata: { name: 'precious', namespace: victim }, data: { keep: 'me' } });
    const name = uniqueName('grabber');
    await admin.create(Kinds.Organization, { metadata: { name }, spec: { displayName: 'Grabber', namespace: victim } });
    const org = await waitCondition(name, 'NamespaceReady', (c) => c.status === 'False', 'NamespaceReady=False');
    expect(cond(org, 'NamespaceReady')).toMatchObject({
      reason: 'NamespaceNotAdoptable',
      message: expect.stringContaining(`kubectl annotate namespace ${victim} miniapps.dev/adoptable-by=Organization/${name}`),
    });
    expect(cond(org, 'Ready')?.status).toBe('False');
    expect(org.status?.namespace).toBeUndefined();

    const ns = await admin.get<AnyObject>(Resources.Namespace, victim);
    expect(ns?.metadata.ownerReferences).toBeUndefined();
    expect(ns?.metadata.labels).toEqual({ team: 'payments', 'kubernetes.io/metadata.name': victim });
    expect((await admin.list(Resources.Role, { namespace: victim })).items).toEqual([]);
    // Nor may Memberships be made there: the namespace is no organization's.
    const refused = await kubectl(['apply', '-f', '-'], {
      allowFailure: true,
      stdin: JSON.stringify({ apiVersion: 'miniapps.dev/v1alpha1', kind: 'Membership', metadata: { name: 'm', namespace: victim }, spec: { email: 'x@example.com', role: 'MiniAppDeveloper' } }),
    });
    expect(refused.stderr).toContain('belongs to no Organization');

    await deleteOrganizationsAndWait(admin, [name]);
    expect(await admin.get(Resources.ConfigMap, 'precious', victim)).toBeDefined();
    expect((await admin.get<AnyObject>(Resources.Namespace, victim))?.metadata.deletionTimestamp).toBeUndefined();
  });

  it.each(['kube-system', 'kube-public', 'default'])('an Organization or Tenant naming %s is refused at admission by the CRD', async (victim) => {
    for (const [kind, spec] of [
      [Kinds.Organization, { displayName: 'X' }],
      [Kinds.Tenant, { displayName: 'X' }],
    ] as const) {
      const err = await admin.create(kind, { metadata: { name: uniqueName('grab') }, spec: { ...spec, namespace: victim } }).then(
        () => undefined,
        (e: { status?: number; message?: string }) => e,
      );
      expect(err?.status).toBe(422);
      expect(err?.message).toContain('those namespaces belong to the cluster');
    }
  });

  it("the operator's own namespace is refused at admission by the operator's policy", async () => {
    const grab = { apiVersion: 'miniapps.dev/v1alpha1', kind: 'Organization', metadata: { name: uniqueName('grab') }, spec: { displayName: 'X', namespace: opNamespace } };
    // The operator installed its policy at start; the API server enforces a new policy once its informers have it (about a second later).
    await eventually(
      async () =>
        (
          await admin.apply(Kinds.Organization, grab, { dryRun: true }).then(
            () => undefined,
            (e: { status?: number }) => e,
          )
        )?.status === 403,
      { timeoutMs: 15_000, describe: 'the operator-namespace policy in effect' },
    );
    const err = await admin.create(Kinds.Organization, grab).then(
      () => undefined,
      (e: { status?: number; message?: string }) => e,
    );
    expect(err?.status).toBe(403);
    expect(err?.message).toContain("the miniapps operator's own namespace");
  });

  it("the reconciler refuses the operator's own namespace where admission cannot see it (a generated name)", async () => {
    const name = opNamespace.slice('org-'.length); // prefix org- + name = the operator's namespace
    await admin.create(Kinds.Organization, { metadata: { name }, spec: { displayName: 'Tail' } });
    const org = await waitCondition(name, 'NamespaceReady', (c) => c.status === 'False', 'NamespaceReady=False');
    expect(cond(org, 'NamespaceReady')).toMatchObject({ reason: 'NamespaceReserved' });
    const own = await admin.get<AnyObject>(Resources.Namespace, opNamespace);
    expect(own?.metadata.ownerReferences).toBeUndefined();
    expect(own?.metadata.labels?.['miniapps.dev/organization']).toBeUndefined();
    await deleteOrganizationsAndWait(admin, [name]);
    expect((await admin.get<AnyObject>(Resources.Namespace, opNamespace))?.metadata.deletionTimestamp).toBeUndefined();
  });

  it('a namespace that opted in is adopted without an ownerReference, and released, not deleted, with its Organization', async () => {
    const name = uniqueName('adopter');
    const nsName = uniqueName('team-ns');
    await admin.create(Resources.Namespace, { metadata: { name: nsName, annotations: { 'miniapps.dev/adoptable-by': `Organization/${name}` } } });
    await admin.create(Resources.ConfigMap, { metadata: { name: 'precious', namespace: nsName }, data: { keep: 'me' } });
    await admin.create(Kinds.Organization, { metadata: { name }, spec: { displayName: 'Adopter', namespace: nsName } });
    const org = await waitCondition(name, 'Ready', (c) => c.status === 'True', 'Ready');
    expect(cond(org, 'NamespaceReady')).toMatchObject({ status: 'True', reason: 'NamespaceAdopted' });
    const adopted = await admin.get<AnyObject>(Resources.Namespace, nsName);
    expect(adopted?.metadata.labels).toMatchObject({ 'miniapps.dev/organization': name, 'app.kubernetes.io/managed-by': 'miniapps-operator' });
    expect(adopted?.metadata.ownerReferences).toBeUndefined();
    // What the operator writes there (its own access binding, the members' Roles) is labelled and owned.
    await eventually(async () => (await admin.list(Resources.RoleBinding, { namespace: nsName, labelSelector: `miniapps.dev/organization=${name}` })).items.length > 0, {
      describe: 'the RoleBinding in the adopted namespace',
    });

    await deleteOrganizationsAndWait(admin, [name]);
    const released = await admin.get<AnyObject>(Resources.Namespace, nsName);
    expect(released?.metadata.deletionTimestamp).toBeUndefined();
    expect(released?.metadata.labels?.['miniapps.dev/organization']).toBeUndefined();
    expect(released?.metadata.labels?.['app.kubernetes.io/managed-by']).toBeUndefined();
    expect(await admin.get(Resources.ConfigMap, 'precious', nsName)).toBeDefined();
    // What the operator wrote there goes with the organization (owned by it).
    await eventually(async () => (await admin.list(Resources.RoleBinding, { namespace: nsName, labelSelector: `miniapps.dev/organization=${name}` })).items.length === 0, {
      timeoutMs: 30_000,
      describe: 'the RoleBinding gone',
    });
  });
});

describe("the operator's own permissions", () => {
  it('the namespace-access ClusterRole (Secrets, ConfigMaps) is bound only as the operator binds it, in a namespace it manages', async () => {
    const name = uniqueName('access');
    await admin.create(Kinds.Organization, { metadata: { name }, spec: { displayName: 'Access' } });
    const ns = (await waitCondition(name, 'Ready', (c) => c.status === 'True', 'Ready')).status!.namespace!;
    const binding = await eventually(async () => (await admin.get<AnyObject & { roleRef: unknown; subjects: unknown }>(Resources.RoleBinding, 'miniapps-operator', ns)) ?? false, {
      describe: "the operator's RoleBinding",
    });
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: accessRole });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'miniapps-operator', namespace: opNamespace }]);

    const roleRef = { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: accessRole };
    const refusals = [
      () => admin.create(Resources.ClusterRoleBinding, { metadata: { name: uniqueName('steal') }, roleRef, subjects: [{ kind: 'ServiceAccount', name: 'miniapps-operator', namespace: opNamespace }] }),
      () =>
        admin.create(Resources.RoleBinding, {
          metadata: { name: 'miniapps-operator-2', namespace: ns },
          roleRef,
          subjects: [{ kind: 'ServiceAccount', name: 'miniapps-operator', namespace: opNamespace }],
        }),
      () =>
        admin.create(Resources.RoleBinding, { metadata: { name: 'miniapps-operator', namespace: ns }, roleRef, subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'mallory' }] }),
      // The operator's own token, binding itself where it manages nothing.
      () =>
        admin.create(Resources.RoleBinding, {
          metadata: { name: 'miniapps-operator', namespace: 'kube-system' },
          roleRef,
          subjects: [{ kind: 'ServiceAccount', name: 'miniapps-operator', namespace: opNamespace }],
        }),
      () =>
        admin.create(Resources.RoleBinding, {
          metadata: { name: 'miniapps-operator', namespace: opNamespace },
          roleRef,
          subjects: [{ kind: 'ServiceAccount', name: 'miniapps-operator', namespace: opNamespace }],
        }),
    ];
    for (const attempt of refusals) {
      const err = await attempt().then(
        () => undefined,
        (e: { status?: number; message?: string }) => e,
      );
      expect(err?.status).toBe(403);
      expect(err?.message).toContain('may be bound only by a RoleBinding named miniapps-operator');
    }
    await deleteOrganizationsAndWait(admin, [name]);
  });
});

describe('provisioning administrators decided by the authorizer', () => {
  let sa: string;
  let group: string;
  const bindings: string[] = [];

  beforeAll(async () => {
    if (!(await admin.get<PlatformConfig>(Kinds.PlatformConfig, PLATFORM_CONFIG_NAME))) await admin.create(Kinds.PlatformConfig, { metadata: { name: PLATFORM_CONFIG_NAME }, spec: {} });
    await eventually(async () => (await admin.get(Resources.ClusterRole, PROVISIONING_ADMINISTRATOR_ROLE)) !== undefined, { describe: 'the provisioning ClusterRole' });
    // A GitOps ServiceAccount and an identity-provider group, bound to the provisioning ClusterRole as a platform team would.
    const saNs = uniqueName('gitops');
    await admin.create(Resources.Namespace, { metadata: { name: saNs } });
    await admin.create(Resources.ServiceAccount, { metadata: { name: 'argocd', namespace: saNs } });
    sa = `system:serviceaccount:${saNs}:argocd`;
    group = uniqueName('platform-team');
    for (const [kind, subject] of [
      ['ServiceAccount', { kind: 'ServiceAccount', name: 'argocd', namespace: saNs }],
      ['Group', { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: group }],
    ] as const) {
      const name = uniqueName(`test-provisioning-${kind.toLowerCase()}`);
      bindings.push(name);
      await admin.create(Resources.ClusterRoleBinding, {
        metadata: { name },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: PROVISIONING_ADMINISTRATOR_ROLE },
        subjects: [subject],
      });
    }
  });
  afterAll(async () => {
    for (const b of bindings) await admin.delete(Resources.ClusterRoleBinding, b);
  });

  it.each([
    ['a GitOps ServiceAccount bound to the provisioning ClusterRole', () => ({ as: sa })],
    ['a member of a group bound to the provisioning ClusterRole', () => ({ as: 'someone@example.com', asGroups: [group] })],
  ])('%s may change capabilities and miniAppTargets', async (_who, identity) => {
    const name = uniqueName('gitops-org');
    await admin.create(Kinds.Organization, { metadata: { name }, spec: { displayName: 'GitOps' } });
    const patch = JSON.stringify({ spec: { capabilities: { superApps: true }, miniAppTargets: [{ organization: 'bank', name: 'wallet' }] } });
    await kubectl(['patch', 'organization', name, '--type=merge', '-p', patch], identity());
    expect((await getOrg(name))?.spec).toMatchObject({ capabilities: { superApps: true }, miniAppTargets: [{ organization: 'bank', name: 'wallet' }] });
    await deleteOrganizationsAndWait(admin, [name]);
  });
});

describe('the icon check as an oracle for Secrets', () => {
  it('tells an organization administrator, who cannot read Secrets, nothing about a Secret that did not opt in', async () => {
    const name = uniqueName('oracle');
    const email = `${name}@example.com`;
    const { ns } = await orgWithAdministrator(name, email);
    expect(await accessAllowed(admin, email, { group: '', verb: 'get', resource: 'secrets', namespace: ns })).toBe(false);
    await admin.create(Resources.Secret, { metadata: { name: 'db-password', namespace: ns }, stringData: { password: 'hunter2hunter2' } });

    const iconOf = async (secret: string, key: string) => {
      await kubectl(['patch', 'organization', name, '--type=merge', '-p', JSON.stringify({ spec: { icon: { kind: 'Secret', name: secret, key } } })], { as: email });
      // Reconciled at the patched generation (waitCondition checks observedGeneration).
      const o = await waitCondition(name, 'IconValid', () => true, `IconValid about ${secret}`);
      return cond(o, 'IconValid')!;
    };
    const existing = await iconOf('db-password', 'password');
    const missing = await iconOf('no-such-secret', 'password');
    expect(existing.status).toBe('False');
    expect({ reason: existing.reason, message: existing.message.replace('db-password', 'X') }).toEqual({ reason: missing.reason, message: missing.message.replace('no-such-secret', 'X') });
    expect(existing.message).not.toMatch(/not a PNG|MiB|image|bytes/i);

    // A Secret that opted in is an icon like a ConfigMap.
    const gif = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
    await admin.create(Resources.Secret, { metadata: { name: 'brand', namespace: ns, labels: { 'miniapps.dev/icon': 'true' } }, data: { 'icon.gif': gif.toString('base64') } });
    const brand = await iconOf('brand', 'icon.gif');
    expect(brand).toMatchObject({ status: 'True', reason: 'IconValid' });
    await deleteOrganizationsAndWait(admin, [name]);
  });
});

describe('the inviter named in an invitation', () => {
  it("is accepted only as the creator's own authenticated username, never as free text", async () => {
    const name = uniqueName('inviter');
    const email = `${name}@example.com`;
    const { ns } = await orgWithAdministrator(name, email);
    const membership = (inviter: string) =>
      JSON.stringify({
        apiVersion: 'miniapps.dev/v1alpha1',
        kind: 'Membership',
        metadata: { name: uniqueName('m'), namespace: ns, annotations: { 'miniapps.dev/invited-by': inviter } },
        spec: { email: `${uniqueName('p')}@example.com`, role: 'MiniAppDeveloper' },
      });
    const forged = await kubectl(['create', '-f', '-'], { as: email, stdin: membership('Your Bank Security Team'), allowFailure: true });
    expect(forged.exitCode).not.toBe(0);
    expect(forged.stderr).toContain(`must be your own username (${email})`);
    const own = await kubectl(['create', '-f', '-'], { as: email, stdin: membership(email), allowFailure: true });
    expect(own.exitCode, own.stderr).toBe(0);
    await deleteOrganizationsAndWait(admin, [name]);
  });
});

// Last: it stops the operator.
describe('authorization that vanishes when the operator is down', () => {
  it('with the operator stopped, an organization administrator cannot give their organization capabilities or miniAppTargets', async () => {
    const name = uniqueName('selfserve');
    const email = `${name}@example.com`;
    await orgWithAdministrator(name, email, { capabilities: { miniApps: true } });
    await operator.stop();

    for (const spec of [{ capabilities: { superApps: true } }, { miniAppTargets: [{ organization: 'bank', name: 'wallet' }] }]) {
      const res = await kubectl(['patch', 'organization', name, '--type=merge', '-p', JSON.stringify({ spec })], { as: email, allowFailure: true });
      expect(res.exitCode).not.toBe(0);
      expect(res.stderr).toContain('Only provisioning administrators may change');
    }
    // What RBAC lets them change, they still can.
    await kubectl(['patch', 'organization', name, '--type=merge', '-p', JSON.stringify({ spec: { displayName: 'Renamed' } })], { as: email });
    const org = await getOrg(name);
    expect(org?.spec).toMatchObject({ displayName: 'Renamed', capabilities: { miniApps: true } });
    expect(org?.spec.capabilities?.superApps).not.toBe(true);
    expect(org?.spec.miniAppTargets).toBeUndefined();
  });
});
