// The security review of issue 18's people and closed rules (docs/people.md,
// docs/closed-rules.md), each attack replayed on the real API server and refused:
// - an organization's namespace is deleted while the operator is killed and the
//   last-administrator webhook fails closed (the namespace controller acting as
//   system:kube-controller-manager, as the test control plane runs it);
// - a self-service (App Center) creator cannot take over a namespace opted in for an
//   Organization of the name they chose, and releasing an adopted namespace removes the
//   opt-in that named the Organization;
// - a self-service creator names no namespace, and no ServiceAccount or name without
//   PlatformConfig userPrefix creates an Organization for itself;
// - the creator's Membership is made once (lowercased), and its event names no one;
// - no Membership gets an owner (the garbage collector would remove it unjudged).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADOPTABLE_BY_ANNOTATION, CONFIRM_DELETE_ANNOTATION, CONFIRM_DELETE_VALUE, CREATED_BY_ANNOTATION } from '../api/constants.ts';
import type { Membership } from '../api/membership/schema.ts';
import { CREATOR_MEMBERSHIP_NAME } from '../api/organization/names.ts';
import type { Organization } from '../api/organization/schema.ts';
import { PLATFORM_CONFIG_NAME } from '../api/platformconfig/names.ts';
import { Kinds } from '../api/registry.ts';
import { ApiError } from '../runtime/errors.ts';
import { KubeClient } from '../runtime/kube/client.ts';
import type { AnyObject } from '../runtime/kube/client.ts';
import { Resources, resourcePath } from '../runtime/kube/resource.ts';
import { webhookRegistrationName } from '../servers/webhook.ts';
import { accessAllowed } from '../testenv/access.ts';
import { deleteOrganizationsAndWait, testClient } from '../testenv/clients.ts';
import { eventually, testKubeconfig, uniqueName } from '../testenv/index.ts';
import { OperatorProcess } from '../testenv/operator-process.ts';

const admin = testClient();
const platform = KubeClient.fromKubeconfig(testKubeconfig(), { fieldManager: 'test-security-people' });
const as = (user: string, groups: string[] = ['system:authenticated']) => ({ as: { user, groups } });
type Cond = { type: string; status: string; reason: string; message: string };
const cond = (o: { status?: { conditions?: Cond[] } } | undefined, type: string) => o?.status?.conditions?.find((c) => c.type === type);

async function refusal(p: Promise<unknown>): Promise<ApiError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ApiError)) throw new Error(`expected a refusal, got ${err === undefined ? 'success' : String(err)}`);
  return err;
}
const namespaceOf = (name: string) =>
  eventually(async () => (await admin.get<Organization>(Kinds.Organization, name))?.status?.namespace ?? false, { timeoutMs: 30_000, describe: `the namespace of ${name}` });

describe('the fail-closed last-administrator webhook never blocks deleting a namespace', () => {
  const opNamespace = uniqueName('op-secp-closed');
  afterAll(async () => {
    await admin.delete(Resources.ValidatingWebhookConfiguration, webhookRegistrationName(opNamespace)).catch(() => undefined);
  });

  it("an organization's namespace, with its last administrator, is deleted while the operator is killed", async () => {
    const op = await OperatorProcess.start({ kubeconfig: testKubeconfig(), namespace: opNamespace, args: ['--webhook-fail-closed=true', '--leader-elect=false'] });
    const name = uniqueName('secp-gone');
    try {
      await admin.create(Kinds.Organization, { metadata: { name }, spec: { displayName: name } });
      const ns = await namespaceOf(name);
      await admin.create(Kinds.Membership, { metadata: { name: 'a', namespace: ns }, spec: { email: `a@${name}.example`, role: 'OrganizationAdministrator', acceptance: 'Automatic' } });
      await eventually(async () => (await admin.get<Organization>(Kinds.Organization, name))?.status?.members?.administrators === 1, { timeoutMs: 30_000, describe: 'one administrator counted' });
    } finally {
      op.kill('SIGKILL');
      await op.exit;
    }
    const ns = (await admin.get<Organization>(Kinds.Organization, name))!.status!.namespace!;
    // The registration stays after SIGKILL: the fail-closed webhook still has no one to answer it.
    const reg = await admin.get<AnyObject & { webhooks?: { name: string }[] }>(Resources.ValidatingWebhookConfiguration, webhookRegistrationName(opNamespace));
    expect(reg?.webhooks?.map((w) => w.name)).toContain('last-administrator.miniapps.dev');
    await admin.delete(Resources.Namespace, ns);
    await eventually(async () => (await admin.get(Resources.Namespace, ns)) === undefined, {
      timeoutMs: 90_000,
      describe: `namespace ${ns} deleted with its last administrator's Membership, the operator down`,
    });
    // The Organization itself waits for an operator (its finalizer); it is removed with the webhook gone, by the next run's cleanup.
    await admin.delete(Resources.ValidatingWebhookConfiguration, webhookRegistrationName(opNamespace));
    await admin.request('PATCH', resourcePath(Kinds.Organization, { name }), { body: { metadata: { finalizers: null } }, contentType: 'application/merge-patch+json' }).catch(() => undefined);
    await admin.delete(Kinds.Organization, name).catch(() => undefined);
  }, 180_000);
});

describe('App Center self-service organizations', () => {
  const opNamespace = uniqueName('op-secp');
  let operator: OperatorProcess;
  const made: string[] = [];
  const id = uniqueName('secp');
  const eve = `eve@${id}.example.com`;

  const startOperator = async () => {
    operator = await OperatorProcess.start({ kubeconfig: testKubeconfig(), namespace: opNamespace, args: ['--leader-elect=false'] });
  };
  beforeAll(async () => {
    await startOperator();
    await platform.apply(Kinds.PlatformConfig, { metadata: { name: PLATFORM_CONFIG_NAME }, spec: { organizationModel: 'AppCenter' } });
    await eventually(() => accessAllowed(admin, eve, { verb: 'create', resource: 'organizations' }), { timeoutMs: 30_000, describe: 'everyone signed in may create Organizations' });
  }, 120_000);
  afterAll(async () => {
    if (operator) await deleteOrganizationsAndWait(admin, made).catch(() => undefined);
    await platform.apply(Kinds.PlatformConfig, { metadata: { name: PLATFORM_CONFIG_NAME }, spec: {} });
    await operator?.stop();
  }, 180_000);

  const selfService = (name: string, creator: string, spec: Record<string, unknown> = {}, groups?: string[]) =>
    admin.create(Kinds.Organization, { metadata: { name, annotations: { [CREATED_BY_ANNOTATION]: creator } }, spec: { displayName: name, ...spec } }, as(creator, groups));

  it('a self-service creator never adopts a namespace opted in for an Organization of the name they chose, and gains nothing there', async () => {
    // A namespace staged by its owners for an Organization "acme-…" a provisioning administrator is about to create; eve races them.
    const name = uniqueName('secp-acme');
    const ns = `org-${name}`;
    made.push(name);
    await admin.create(Resources.Namespace, { metadata: { name: ns, annotations: { [ADOPTABLE_BY_ANNOTATION]: `Organization/${name}` } } });
    await selfService(name, eve);
    const org = await eventually(
      async () => {
        const o = await admin.get<Organization>(Kinds.Organization, name);
        return cond(o, 'NamespaceReady')?.status === 'False' ? o : false;
      },
      { timeoutMs: 30_000, describe: 'the namespace refused' },
    );
    expect(cond(org, 'NamespaceReady')).toMatchObject({ reason: 'NamespaceNotAdoptable' });
    expect(cond(org, 'NamespaceReady')!.message).toContain('never adopts');
    expect(org?.status?.namespace).toBeUndefined();
    expect(await admin.get<Membership>(Kinds.Membership, CREATOR_MEMBERSHIP_NAME, ns)).toBeUndefined();
    expect(await accessAllowed(admin, eve, { verb: 'create', resource: 'memberships', namespace: ns })).toBe(false);
    const got = await admin.get<AnyObject>(Resources.Namespace, ns);
    expect(got?.metadata.labels?.['miniapps.dev/organization']).toBeUndefined();
    await admin.delete(Resources.Namespace, ns);
  });

  it('releasing an adopted namespace removes the opt-in that named the Organization, so no later Organization of that name adopts it', async () => {
    const name = uniqueName('secp-adopt');
    const ns = uniqueName('secp-staged');
    await admin.create(Resources.Namespace, { metadata: { name: ns, annotations: { [ADOPTABLE_BY_ANNOTATION]: `Organization/${name}`, keep: 'me' } } });
    await admin.create(Kinds.Organization, { metadata: { name }, spec: { displayName: name, namespace: ns } });
    expect(await namespaceOf(name)).toBe(ns);
    await admin.request('PATCH', resourcePath(Kinds.Organization, { name }), {
      body: { metadata: { annotations: { [CONFIRM_DELETE_ANNOTATION]: CONFIRM_DELETE_VALUE } } },
      contentType: 'application/merge-patch+json',
    });
    await admin.delete(Kinds.Organization, name);
    await eventually(async () => (await admin.get(Kinds.Organization, name)) === undefined, { timeoutMs: 60_000, describe: 'the Organization released its namespace' });
    const got = await admin.get<AnyObject>(Resources.Namespace, ns);
    expect(got?.metadata.deletionTimestamp).toBeUndefined();
    expect(got?.metadata.annotations?.[ADOPTABLE_BY_ANNOTATION]).toBeUndefined();
    expect(got?.metadata.annotations?.keep).toBe('me');
    await admin.delete(Resources.Namespace, ns);
  });

  it('a self-service creator names no namespace; ServiceAccounts and names without PlatformConfig userPrefix create no Organization', async () => {
    const squat = uniqueName('secp-squat');
    const named = await refusal(selfService(squat, eve, { namespace: uniqueName('argocd') }));
    expect(named.status).toBe(403);
    expect(named.message).toContain('spec.namespace is chosen only by a provisioning administrator');
    const sa = 'system:serviceaccount:default:default';
    const bySa = await refusal(selfService(uniqueName('secp-sa'), sa, {}, ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated']));
    expect(bySa.status).toBe(403);
    expect(bySa.message).toContain('is not a person');
    // With a userPrefix, a name without it (another identity provider's, say) is refused too.
    await platform.apply(Kinds.PlatformConfig, { metadata: { name: PLATFORM_CONFIG_NAME }, spec: { organizationModel: 'AppCenter', userPrefix: 'oidc:' } });
    try {
      const bare = await eventually(
        async () => {
          const e = await refusal(selfService(uniqueName('secp-bare'), eve)).catch(() => undefined);
          return e?.status === 403 ? e : false;
        },
        { timeoutMs: 20_000, describe: 'a name without the prefix refused' },
      );
      expect(bare.message).toContain('PlatformConfig userPrefix (oidc:)');
    } finally {
      await platform.apply(Kinds.PlatformConfig, { metadata: { name: PLATFORM_CONFIG_NAME }, spec: { organizationModel: 'AppCenter' } });
    }
  });

  it("the creator's Membership is made once, with the email lowercased, and its event names no one; emptied later, it is not made again", async () => {
    const name = uniqueName('secp-once');
    const Creator = `Eve.Mixed@${id}.Example.com`;
    made.push(name);
    await eventually(
      async () => {
        const e = await selfService(name, Creator).then(
          () => undefined,
          (err: unknown) => err,
        );
        return e === undefined || (e instanceof ApiError && e.status === 409);
      },
      { timeoutMs: 20_000, describe: 'created (the PlatformConfig without a prefix reached the policy)' },
    );
    const ns = await namespaceOf(name);
    const m = await eventually(async () => (await admin.get<Membership>(Kinds.Membership, CREATOR_MEMBERSHIP_NAME, ns)) ?? false, { timeoutMs: 30_000, describe: "the creator's Membership" });
    expect(m.spec.email).toBe(Creator.toLowerCase());
    const events = await eventually(
      async () => {
        const all = await admin.list<AnyObject & { reason?: string; note?: string; regarding?: { name?: string } }>(Resources.Event, {});
        const mine = all.items.filter((e) => e.reason === 'CreatorMembershipMade' && e.regarding?.name === name);
        return mine.length > 0 ? mine : false;
      },
      { timeoutMs: 30_000, describe: 'the CreatorMembershipMade event' },
    );
    for (const e of events) expect(e.note?.toLowerCase()).not.toContain('eve.mixed');
    await eventually(async () => cond(await admin.get<Organization>(Kinds.Organization, name), 'CreatorAdministrator')?.status === 'True', { timeoutMs: 30_000, describe: 'made, in status' });
    // Everyone leaves while the operator is stopped (the last administrator's removal is then judged by nobody).
    await operator.stop();
    await admin.delete(Kinds.Membership, CREATOR_MEMBERSHIP_NAME, ns);
    await eventually(async () => (await admin.get(Kinds.Membership, CREATOR_MEMBERSHIP_NAME, ns)) === undefined, { describe: 'gone' });
    await startOperator();
    await eventually(
      async () => {
        const o = await admin.get<Organization>(Kinds.Organization, name);
        return o?.status?.members?.active === 0 && o.status.members.administrators === 0;
      },
      { timeoutMs: 30_000, describe: 'the operator counted no members' },
    );
    // A made Membership would be seen (and counted) within a reconcile or two.
    await new Promise((r) => setTimeout(r, 5000));
    expect(await admin.get(Kinds.Membership, CREATOR_MEMBERSHIP_NAME, ns)).toBeUndefined();
    expect((await admin.get<Organization>(Kinds.Organization, name))?.status?.members?.active).toBe(0);
  }, 120_000);

  it('one person has at most PlatformConfig quotas.organizationsPerCreator Organizations of their own: the next gets no namespace until one goes', async () => {
    const zed = `zed@${id}.example.com`;
    const [first, second] = [uniqueName('secp-z1'), uniqueName('secp-z2')];
    made.push(first, second);
    await platform.apply(Kinds.PlatformConfig, { metadata: { name: PLATFORM_CONFIG_NAME }, spec: { organizationModel: 'AppCenter', quotas: { organizationsPerCreator: 1 } } });
    try {
      await selfService(first, zed);
      await namespaceOf(first);
      await selfService(second, zed);
      const held = await eventually(
        async () => {
          const c = cond(await admin.get<Organization>(Kinds.Organization, second), 'NamespaceReady');
          return c?.reason === 'CreatorLimitReached' ? c : false;
        },
        { timeoutMs: 30_000, describe: 'the second one held' },
      );
      expect(held.message).toContain('PlatformConfig spec.quotas.organizationsPerCreator');
      expect(held.message).not.toContain(zed);
      expect(await admin.get(Resources.Namespace, `org-${second}`)).toBeUndefined();
      await admin.request('PATCH', resourcePath(Kinds.Organization, { name: first }), {
        body: { metadata: { annotations: { [CONFIRM_DELETE_ANNOTATION]: CONFIRM_DELETE_VALUE } } },
        contentType: 'application/merge-patch+json',
      });
      await admin.delete(Kinds.Organization, first);
      expect(
        await eventually(async () => (await admin.get<Organization>(Kinds.Organization, second))?.status?.namespace ?? false, {
          timeoutMs: 90_000,
          describe: 'room made: the second one gets its namespace',
        }),
      ).toBe(`org-${second}`);
    } finally {
      await platform.apply(Kinds.PlatformConfig, { metadata: { name: PLATFORM_CONFIG_NAME }, spec: { organizationModel: 'AppCenter' } });
    }
  }, 150_000);

  it('no Membership is given an owner: the garbage collector would remove the last administrator unjudged', async () => {
    const name = uniqueName('secp-owner');
    made.push(name);
    await admin.create(Kinds.Organization, { metadata: { name }, spec: { displayName: name } });
    const ns = await namespaceOf(name);
    await admin.create(Kinds.Membership, { metadata: { name: 'boss', namespace: ns }, spec: { email: `boss@${id}.example`, role: 'OrganizationAdministrator', acceptance: 'Automatic' } });
    await eventually(() => accessAllowed(admin, `boss@${id}.example`, { verb: 'update', resource: 'memberships', namespace: ns }), { timeoutMs: 30_000, describe: 'boss administers' });
    // A ConfigMap anyone with access may delete, made the owner of the last administrator's Membership.
    const cm = await admin.create<AnyObject>(Resources.ConfigMap, { metadata: { name: 'bait', namespace: ns } });
    const owner = [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'bait', uid: cm.metadata.uid! }];
    const patched = await refusal(
      admin.request('PATCH', resourcePath(Kinds.Membership, { namespace: ns, name: 'boss' }), {
        body: { metadata: { ownerReferences: owner } },
        contentType: 'application/merge-patch+json',
        ...as(`boss@${id}.example`),
      }),
    );
    expect(patched.status).toBe(403);
    expect(patched.message).toContain('cannot be given an owner');
    const created = await refusal(
      admin.create(Kinds.Membership, { metadata: { name: 'owned', namespace: ns, ownerReferences: owner }, spec: { email: `owned@${id}.example`, role: 'MiniAppDeveloper' } }),
    );
    expect(created.message).toContain('cannot be given an owner');
    await admin.delete(Resources.ConfigMap, 'bait', ns);
    expect(await admin.get(Kinds.Membership, 'boss', ns)).toBeDefined();
  });
});

describe('catalog grants', () => {
  const opNamespace = uniqueName('op-secp-cat');
  let operator: OperatorProcess;
  const made: string[] = [];
  beforeAll(async () => {
    // The ApiKey policy reads the PlatformConfig (userPrefix).
    await platform.apply(Kinds.PlatformConfig, { metadata: { name: PLATFORM_CONFIG_NAME }, spec: {} });
    operator = await OperatorProcess.start({ kubeconfig: testKubeconfig(), namespace: opNamespace, args: ['--leader-elect=false'] });
  }, 120_000);
  afterAll(async () => {
    if (operator) await deleteOrganizationsAndWait(admin, made).catch(() => undefined);
    await operator?.stop();
  }, 180_000);

  it("a super app's managers read only the catalog ConfigMaps the operator recorded, not one a version name points at; a key not theirs is refused without naming its owner", async () => {
    const name = uniqueName('secp-shop');
    made.push(name);
    await admin.create(Kinds.Organization, { metadata: { name }, spec: { displayName: name, capabilities: { superApps: true, miniApps: true } } });
    const ns = await namespaceOf(name);
    const sam = `sam@${name}.example`;
    await admin.create(Kinds.Membership, { metadata: { name: 'sam', namespace: ns }, spec: { email: sam, role: 'SuperAppAdministrator', acceptance: 'Automatic' } });
    await eventually(() => accessAllowed(admin, sam, { verb: 'create', resource: 'superapps', namespace: ns }), { timeoutMs: 30_000, describe: 'sam manages super apps' });
    await admin.create(Kinds.SuperApp, { metadata: { name: 'mall', namespace: ns }, spec: { displayName: 'Mall', versions: [{ name: '2.0.0' }] } }, as(sam));
    await eventually(
      () =>
        admin.request('GET', resourcePath(Resources.ConfigMap, { namespace: ns, name: 'mall-catalog-2.0.0' }), as(sam)).then(
          () => true,
          () => false,
        ),
      { timeoutMs: 30_000, describe: 'sam reads the snapshot' },
    );
    // Someone else's ConfigMap whose name a version of mall would give its snapshot.
    await admin.create(Resources.ConfigMap, { metadata: { name: 'mall-catalog-9.9.9', namespace: ns }, data: { password: 'not-sams' } });
    await admin.request('PATCH', resourcePath(Kinds.SuperApp, { namespace: ns, name: 'mall' }), {
      body: { spec: { versions: [{ name: '2.0.0' }, { name: '9.9.9' }] } },
      contentType: 'application/merge-patch+json',
      ...as(sam),
    });
    await eventually(
      async () => {
        const s = await admin.get<AnyObject & { status?: { conditions?: Cond[] } }>(Kinds.SuperApp, 'mall', ns);
        return JSON.stringify(s?.status?.conditions ?? []).includes("is not this super app's snapshot");
      },
      { timeoutMs: 30_000, describe: 'the operator refused to take the ConfigMap as a snapshot' },
    );
    // A grant by the version's name would reach sam's Role within a reconcile.
    await new Promise((r) => setTimeout(r, 5000));
    expect((await refusal(admin.request('GET', resourcePath(Resources.ConfigMap, { namespace: ns, name: 'mall-catalog-9.9.9' }), as(sam)))).status).toBe(403);
    await admin.request('GET', resourcePath(Resources.ConfigMap, { namespace: ns, name: 'mall-catalog-2.0.0' }), as(sam));

    // ApiKeys: sam may patch keys (his own), and one not his is refused without naming whose it is.
    const owner = `owner@${name}.example`;
    await admin.create(Kinds.Membership, { metadata: { name: 'owner', namespace: ns }, spec: { email: owner, role: 'MiniAppDeveloper', acceptance: 'Automatic' } });
    await eventually(
      () =>
        admin.create(Kinds.ApiKey, { metadata: { name: 'owners-key', namespace: ns }, spec: { owner, ttl: '720h' } }).then(
          () => true,
          () => false,
        ),
      { timeoutMs: 30_000, describe: "the owner's key" },
    );
    const patched = await refusal(
      admin.request('PATCH', resourcePath(Kinds.ApiKey, { namespace: ns, name: 'owners-key' }), { body: { spec: { ttl: '8760h' } }, contentType: 'application/merge-patch+json', ...as(sam) }),
    );
    expect(patched.status).toBe(403);
    expect(patched.message).toContain('is not yours');
    expect(patched.message).not.toContain(owner);
  });
});
