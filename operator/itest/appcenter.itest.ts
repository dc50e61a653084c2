// App Center's organization model (seed 002) beside the Mini App Center's (seed 000),
// chosen by PlatformConfig spec.organizationModel, on the real API server.
//
// 1. The seed's matrix as a table test, like the Mini App Center's role table test
//    (controllers/organization/rbac.itest.ts): the RBAC objects domain/rbac.ts generates
//    for each App Center role are applied with the admin client (no operator runs), and
//    SubjectAccessReviews ask what each person may do. The expected answers are the
//    seed's table, written here column by column, not taken from rbac.ts.
// 2. The model at work with the operator running: self-service organizations whose
//    creator becomes their Admin, people who see only the apps they belong to or made,
//    every refusal seen as the person meets it (impersonated).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppCenterRoles } from '../api/membership/schema.ts';
import { CREATED_BY_ANNOTATION, CREATOR_MEMBERSHIP_NAME } from '../api/organization/schema.ts';
import { PLATFORM_CONFIG_NAME } from '../api/platformconfig/schema.ts';
import type { AppCenterRole, Membership } from '../api/membership/schema.ts';
import type { Organization } from '../api/organization/schema.ts';
import { Kinds } from '../api/registry.ts';
import { memberAccess, organizationClusterAccess } from '../domain/rbac.ts';
import type { NamespaceReach } from '../domain/rbac.ts';
import type { ClusterRole, ClusterRoleBinding, RbacRole, RoleBinding } from '../domain/rbac-types.ts';
import { ApiError } from '../runtime/errors.ts';
import { KubeClient } from '../runtime/kube/client.ts';
import { Resources, resourcePath } from '../runtime/kube/resource.ts';
import type { ResourceType } from '../runtime/kube/resource.ts';
import { accessAllowed } from '../testenv/access.ts';
import type { AccessAttributes } from '../testenv/access.ts';
import { deleteOrganization, deleteOrganizationsAndWait, testClient } from '../testenv/clients.ts';
import { eventually, kubectl, testKubeconfig, uniqueName } from '../testenv/index.ts';
import { OperatorProcess } from '../testenv/operator-process.ts';

const admin = testClient();
// Its own field manager: what this file sets in the PlatformConfig is given up in afterAll.
const platform = KubeClient.fromKubeconfig(testKubeconfig(), { fieldManager: 'test-appcenter' });
const allowed = (user: string, attrs: AccessAttributes) => accessAllowed(admin, user, attrs);

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
const as = (user: string) => ({ as: { user } });
const getAs = (user: string, rt: ResourceType, name: string, namespace?: string) => admin.request('GET', resourcePath(rt, { namespace, name }), as(user));
const patchAs = (user: string, rt: ResourceType, name: string, namespace: string | undefined, body: unknown) =>
  admin.request('PATCH', resourcePath(rt, { namespace, name }), { body, contentType: 'application/merge-patch+json', ...as(user) });

// ---------------------------------------------------------------------------
// 1. The matrix

/**
 * Seed 002's table, as the seed writes it: create apps, see every app (else only those
 * they belong to), manage the settings, add people, manage distribution groups and shared
 * teams. (Its "Admin" is OrganizationAdministrator.)
 */
const SEED_002: Record<AppCenterRole, { createApps: boolean; seeEveryApp: boolean; settings: boolean; addPeople: boolean; distribution: boolean }> = {
  OrganizationAdministrator: { createApps: true, seeEveryApp: true, settings: true, addPeople: true, distribution: true },
  Collaborator: { createApps: true, seeEveryApp: false, settings: false, addPeople: false, distribution: true },
  Member: { createApps: true, seeEveryApp: false, settings: false, addPeople: false, distribution: false },
};

const org = uniqueName('appc');
const ns = uniqueName('appc-ns');
const EMAILS: Record<AppCenterRole, string> = {
  OrganizationAdministrator: `admin@${org}.example.com`,
  Collaborator: `collab@${org}.example.com`,
  Member: `member@${org}.example.com`,
};
/** Each person belongs to one mini app and one super app by Membership spec.apps (added to the app), and created one mini app. */
const BELONGS: Record<AppCenterRole, { listed: { kind: 'SuperApp' | 'MiniApp'; name: string }[]; created: string }> = {
  OrganizationAdministrator: { listed: [], created: 'admins-own' },
  Collaborator: {
    listed: [
      { kind: 'MiniApp', name: 'collab-added' },
      { kind: 'SuperApp', name: 'collab-shop' },
    ],
    created: 'collab-own',
  },
  Member: {
    listed: [
      { kind: 'MiniApp', name: 'member-added' },
      { kind: 'SuperApp', name: 'member-shop' },
    ],
    created: 'member-own',
  },
};
/** An app nobody but the administrator sees. */
const SOMEONE_ELSES = 'someone-elses';

type Row = [string, AppCenterRole, AccessAttributes, boolean];
const at = (verb: string, resource: string, name?: string): AccessAttributes => ({ verb, resource, namespace: ns, ...(name ? { name } : {}) });

/** The seed's columns as what the API server decides. */
function matrixRows(): Row[] {
  return AppCenterRoles.flatMap((role): Row[] => {
    const s = SEED_002[role];
    const b = BELONGS[role];
    const added = b.listed.find((a) => a.kind === 'MiniApp')?.name;
    const shop = b.listed.find((a) => a.kind === 'SuperApp')?.name;
    const rows: [string, AccessAttributes, boolean][] = [
      ['create apps: create mini apps', at('create', 'miniapps'), s.createApps],
      ['create apps: create super apps', at('create', 'superapps'), s.createApps],
      ['see every app: list mini apps', at('list', 'miniapps'), s.seeEveryApp],
      ['see every app: list super apps', at('list', 'superapps'), s.seeEveryApp],
      ['see every app: get a mini app they do not belong to', at('get', 'miniapps', SOMEONE_ELSES), s.seeEveryApp],
      ['see every app: update a mini app they do not belong to', at('update', 'miniapps', SOMEONE_ELSES), s.seeEveryApp],
      ['see their apps: get the mini app they created', at('get', 'miniapps', b.created), true],
      ['see their apps: update the mini app they created', at('update', 'miniapps', b.created), true],
      ['manage settings: update the Organization', { verb: 'update', resource: 'organizations', name: org }, s.settings],
      ['manage settings: delete the Organization', { verb: 'delete', resource: 'organizations', name: org }, s.settings],
      ['every person: get the Organization', { verb: 'get', resource: 'organizations', name: org }, true],
      ['add people: create Memberships', at('create', 'memberships'), s.addPeople],
      ['add people: update a Membership (change a role)', at('update', 'memberships', 'someone'), s.addPeople],
      ['distribution: create MiniAppReviews', at('create', 'miniappreviews'), s.distribution],
      ['distribution: update MiniAppReviews', at('update', 'miniappreviews', 'a-review'), s.distribution],
      ['distribution: list MiniAppReviews', at('list', 'miniappreviews'), s.distribution],
    ];
    if (added)
      rows.push(
        ['see their apps: get the mini app they were added to', at('get', 'miniapps', added), true],
        ['see their apps: delete the mini app they were added to', at('delete', 'miniapps', added), true],
      );
    if (shop)
      rows.push(
        ['see their apps: update the super app they were added to', at('update', 'superapps', shop), true],
        ["see every app: get another person's super app", at('get', 'superapps', 'admins-shop'), s.seeEveryApp],
      );
    return rows.map(
      ([what, attrs, expected]): Row => [`${role === 'OrganizationAdministrator' ? 'Admin (OrganizationAdministrator)' : role} ${expected ? 'may' : 'may not'}: ${what}`, role, attrs, expected],
    );
  });
}

async function applyAll(objects: (RbacRole | RoleBinding | ClusterRole | ClusterRoleBinding)[]): Promise<void> {
  for (const o of objects) await admin.apply(Resources[o.kind], o);
}

describe("App Center's matrix (seed 002), as SubjectAccessReviews in the organization namespace", () => {
  beforeAll(async () => {
    const theOrg = await admin.create<Organization>(Kinds.Organization, { metadata: { name: org }, spec: { displayName: org } });
    await admin.create(Resources.Namespace, { metadata: { name: ns } });
    const settings = { userPrefix: '', organizationModel: 'AppCenter' as const };
    const objects: (RbacRole | RoleBinding)[] = [];
    for (const role of AppCenterRoles) {
      const m = await admin.create<Membership>(Kinds.Membership, {
        metadata: { name: uniqueName(role.toLowerCase()), namespace: ns },
        spec: { email: EMAILS[role], role, apps: BELONGS[role].listed },
      });
      const reach: NamespaceReach = { created: [{ kind: 'MiniApp', name: BELONGS[role].created }] };
      const { role: r, roleBinding } = memberAccess(m, theOrg, ns, settings, reach);
      objects.push(r, roleBinding);
    }
    const cluster = organizationClusterAccess(
      theOrg,
      AppCenterRoles.map((role) => ({ email: EMAILS[role], role })),
      settings,
    );
    await applyAll([...objects, ...cluster.clusterRoles, ...cluster.clusterRoleBindings]);
    await eventually(
      async () =>
        (
          await Promise.all([
            ...AppCenterRoles.map((role) => allowed(EMAILS[role], at('get', 'miniapps', BELONGS[role].created))),
            allowed(EMAILS.OrganizationAdministrator, { verb: 'update', resource: 'organizations', name: org }),
          ])
        ).every(Boolean),
      { describe: 'every generated binding to take effect', timeoutMs: 30_000 },
    );
  });

  afterAll(async () => {
    await deleteOrganization(admin, org);
    await admin.delete(Resources.Namespace, ns);
  });

  it.each(matrixRows())('%s', async (_, role, attrs, expected) => {
    expect(await allowed(EMAILS[role], attrs)).toBe(expected);
  });

  it('a Collaborator or Member added to no app and having made none may still create apps, and sees none', async () => {
    const m: Membership = { apiVersion: 'miniapps.dev/v1alpha1', kind: 'Membership', metadata: { name: 'nobody', namespace: ns, uid: 'x' }, spec: { email: 'x@example.com', role: 'Member' } };
    const rules = memberAccess(m, { apiVersion: 'miniapps.dev/v1alpha1', kind: 'Organization', metadata: { name: org, uid: 'y' }, spec: { displayName: org } }, ns, {
      userPrefix: '',
      organizationModel: 'AppCenter',
    }).role.rules;
    const apps = rules.filter((r) => r.resources.some((x) => x === 'miniapps' || x === 'superapps'));
    expect(apps.map((r) => [r.resources.join(), r.verbs.join(), r.resourceNames])).toEqual([
      ['superapps', 'create', undefined],
      ['miniapps', 'create', undefined],
    ]);
  });
});

// ---------------------------------------------------------------------------
// 2. The model at work

describe('App Center with the operator running', () => {
  const opNamespace = uniqueName('op-appcenter');
  let operator: OperatorProcess;
  const made: string[] = [];
  const ann = `ann@${uniqueName('appc-people')}.example.com`;
  const carl = `carl@${uniqueName('appc-people')}.example.com`;
  const dora = `dora@${uniqueName('appc-people')}.example.com`;
  const orgBody = (name: string, annotations: Record<string, string> = {}, spec: Partial<Organization['spec']> = {}) => ({
    metadata: { name, annotations },
    spec: { displayName: name, capabilities: { superApps: true, miniApps: true }, ...spec },
  });
  const miniApp = (name: string, namespace: string, creator?: string) => ({
    metadata: { name, namespace, ...(creator ? { annotations: { [CREATED_BY_ANNOTATION]: creator } } : {}) },
    spec: { appName: name.replaceAll('-', '_'), type: 'Numeric' as const },
  });

  beforeAll(async () => {
    operator = await OperatorProcess.start({ kubeconfig: testKubeconfig(), namespace: opNamespace, args: ['--leader-elect=false'] });
  });

  afterAll(async () => {
    if (process.env.DEBUG_APPCENTER) for (const l of operator?.logs ?? []) if (l.level !== 'info' && l.level !== 'debug') console.log(JSON.stringify(l));
    if (operator) await deleteOrganizationsAndWait(admin, made).catch(() => undefined);
    // Give up this file's part of the PlatformConfig (the Mini App Center's model again) while the operator runs, so that it takes the grant back.
    await platform.apply(Kinds.PlatformConfig, { metadata: { name: PLATFORM_CONFIG_NAME }, spec: {} });
    if (operator)
      await eventually(async () => !(await allowed(ann, { verb: 'create', resource: 'organizations' })), { describe: 'the organization-creator grant taken back', timeoutMs: 30_000 }).catch(
        () => undefined,
      );
    await operator?.stop();
  });

  it("with the Mini App Center's model, a person may not create an Organization; with App Center's, anyone signed in may", async () => {
    await platform.apply(Kinds.PlatformConfig, { metadata: { name: PLATFORM_CONFIG_NAME }, spec: {} });
    // The default model: only provisioning administrators create Organizations.
    await eventually(async () => !(await allowed(ann, { verb: 'create', resource: 'organizations' })), { describe: 'no organization-creator grant', timeoutMs: 30_000 });
    const name = uniqueName('appc-refused');
    const refused = await refusal(admin.create(Kinds.Organization, orgBody(name, { [CREATED_BY_ANNOTATION]: ann }), as(ann)));
    expect(refused.status).toBe(403);

    await platform.apply(Kinds.PlatformConfig, { metadata: { name: PLATFORM_CONFIG_NAME }, spec: { organizationModel: 'AppCenter' } });
    await eventually(() => allowed(ann, { verb: 'create', resource: 'organizations' }), { describe: 'ann may create Organizations', timeoutMs: 30_000 });
    const r = await kubectl(['auth', 'can-i', 'create', 'organizations.miniapps.dev'], { as: ann, allowFailure: true });
    expect(r.stdout.trim()).toBe('yes');
  });

  it('an Organization made by a person must name them as its creator, and may not name miniAppTargets', async () => {
    const name = uniqueName('appc-self');
    const unnamed = await refusal(admin.create(Kinds.Organization, orgBody(name), as(ann)));
    expect(unnamed.status).toBe(403);
    expect(unnamed.message).toContain(`${CREATED_BY_ANNOTATION}: ${ann}`);

    const someoneElse = await refusal(admin.create(Kinds.Organization, orgBody(name, { [CREATED_BY_ANNOTATION]: carl }), as(ann)));
    expect(someoneElse.message).toContain(`must be your own user name (${ann})`);

    const targets = await refusal(admin.create(Kinds.Organization, orgBody(name, { [CREATED_BY_ANNOTATION]: ann }, { miniAppTargets: [{ organization: 'bank', name: 'wallet' }] }), as(ann)));
    expect(targets.message).toContain('spec.miniAppTargets');
    expect(await admin.get(Kinds.Organization, name)).toBeUndefined();
  });

  let annOrg = '';
  let annNs = '';

  it("the creator becomes the Organization's administrator (a Membership the operator makes), and may not rename the creator", async () => {
    annOrg = uniqueName('appc-anns');
    made.push(annOrg);
    await admin.create(Kinds.Organization, orgBody(annOrg, { [CREATED_BY_ANNOTATION]: ann }), as(ann));
    annNs = await eventually(async () => (await admin.get<Organization>(Kinds.Organization, annOrg))?.status?.namespace ?? false, { describe: `the namespace of ${annOrg}`, timeoutMs: 30_000 });
    const creator = await eventually(async () => (await admin.get<Membership>(Kinds.Membership, CREATOR_MEMBERSHIP_NAME, annNs)) ?? false, { describe: "the creator's Membership", timeoutMs: 30_000 });
    expect(creator.spec).toMatchObject({ email: ann, role: 'OrganizationAdministrator', acceptance: 'Automatic' });
    await eventually(() => allowed(ann, { verb: 'create', resource: 'memberships', namespace: annNs }), { describe: 'ann administers her organization', timeoutMs: 30_000 });
    const o = await eventually(
      async () => {
        const got = await admin.get<Organization>(Kinds.Organization, annOrg);
        return cond(got, 'CreatorAdministrator')?.status === 'True' ? got! : false;
      },
      { describe: 'CreatorAdministrator True', timeoutMs: 30_000 },
    );
    expect(cond(o, 'CreatorAdministrator')?.reason).toBe('CreatorMembershipMade');

    // Her own rights now: update the Organization (its settings), but not who created it.
    await eventually(() => allowed(ann, { verb: 'patch', resource: 'organizations', name: annOrg }), { describe: 'ann may change her Organization', timeoutMs: 30_000 });
    await patchAs(ann, Kinds.Organization, annOrg, undefined, { spec: { description: "Ann's apps" } });
    const renamed = await refusal(patchAs(ann, Kinds.Organization, annOrg, undefined, { metadata: { annotations: { [CREATED_BY_ANNOTATION]: carl } } }));
    expect(renamed.message).toContain('cannot be changed');
    // Someone who is not in it may not read it.
    expect((await refusal(getAs(carl, Kinds.Organization, annOrg))).status).toBe(403);
  });

  it('a Member creates apps and sees only those they made or were added to; a Collaborator added to one app sees that one', async () => {
    await admin.create(Kinds.Membership, { metadata: { name: 'carl', namespace: annNs }, spec: { email: carl, role: 'Member', acceptance: 'Automatic' } }, as(ann));
    await admin.create(
      Kinds.Membership,
      { metadata: { name: 'dora', namespace: annNs }, spec: { email: dora, role: 'Collaborator', acceptance: 'Automatic', apps: [{ kind: 'MiniApp', name: 'anns-app' }] } },
      as(ann),
    );
    await admin.create(Kinds.MiniApp, miniApp('anns-app', annNs), as(ann));
    await eventually(() => allowed(carl, { verb: 'create', resource: 'miniapps', namespace: annNs }), { describe: 'carl may create mini apps', timeoutMs: 30_000 });

    // Without naming himself he would make an app he could not see: refused, saying how.
    const unnamed = await refusal(admin.create(Kinds.MiniApp, miniApp('carls-app', annNs), as(carl)));
    expect(unnamed.message).toContain(`${CREATED_BY_ANNOTATION}: ${carl}`);
    await admin.create(Kinds.MiniApp, miniApp('carls-app', annNs, carl), as(carl));
    await eventually(
      async () =>
        await getAs(carl, Kinds.MiniApp, 'carls-app', annNs).then(
          () => true,
          () => false,
        ),
      { describe: 'carl reads the app he made', timeoutMs: 30_000 },
    );
    await patchAs(carl, Kinds.MiniApp, 'carls-app', annNs, { spec: { locations: ['UY'] } });

    // Not the administrator's app, not the list, not someone else's creation by claiming it.
    expect((await refusal(getAs(carl, Kinds.MiniApp, 'anns-app', annNs))).status).toBe(403);
    expect((await refusal(admin.request('GET', resourcePath(Kinds.MiniApp, { namespace: annNs }), as(carl)))).status).toBe(403);
    const claimed = await refusal(admin.create(Kinds.MiniApp, miniApp('claimed', annNs, dora), as(carl)));
    expect(claimed.message).toContain('must be your own user name');
    // Not people: a Member adds nobody.
    expect((await refusal(admin.create(Kinds.Membership, { metadata: { name: 'eve', namespace: annNs }, spec: { email: 'eve@example.com', role: 'Member' } }, as(carl)))).status).toBe(403);

    // The Collaborator added to Ann's app sees it, and not Carl's.
    await eventually(
      async () =>
        await getAs(dora, Kinds.MiniApp, 'anns-app', annNs).then(
          () => true,
          () => false,
        ),
      { describe: 'dora reads the app she was added to', timeoutMs: 30_000 },
    );
    expect((await refusal(getAs(dora, Kinds.MiniApp, 'carls-app', annNs))).status).toBe(403);
    // The administrator sees everything.
    await getAs(ann, Kinds.MiniApp, 'carls-app', annNs);
  });

  it('a role of the other model grants nothing and says so', async () => {
    const erin = `erin@${annOrg}.example.com`;
    await admin.create(Kinds.Membership, { metadata: { name: 'erin', namespace: annNs }, spec: { email: erin, role: 'MiniAppDeveloper', acceptance: 'Automatic' } }, as(ann));
    const m = await eventually(
      async () => {
        const got = await admin.get<Membership>(Kinds.Membership, 'erin', annNs);
        return cond(got, 'Ready')?.reason === 'RoleNotInModel' ? got! : false;
      },
      { describe: 'erin RoleNotInModel', timeoutMs: 30_000 },
    );
    expect(cond(m, 'Ready')?.message).toContain('use OrganizationAdministrator, Collaborator or Member');
    expect(await allowed(erin, { verb: 'get', resource: 'miniapps', namespace: annNs, name: 'anns-app' })).toBe(false);
  });

  it('the people who manage a super app read its catalog and snapshots; others do not', async () => {
    await admin.create(
      Kinds.SuperApp,
      { metadata: { name: 'carls-shop', namespace: annNs, annotations: { [CREATED_BY_ANNOTATION]: carl } }, spec: { displayName: 'Shop', versions: [{ name: '1.0.0' }] } },
      as(carl),
    );
    await eventually(async () => !!(await admin.get(Resources.ConfigMap, 'carls-shop-catalog-1.0.0', annNs)), { describe: 'the snapshot', timeoutMs: 30_000 });
    for (const cm of ['carls-shop-catalog', 'carls-shop-catalog-1.0.0']) {
      await eventually(
        async () =>
          getAs(carl, Resources.ConfigMap, cm, annNs).then(
            () => true,
            () => false,
          ),
        { describe: `carl reads ${cm}`, timeoutMs: 30_000 },
      );
      await eventually(
        async () =>
          getAs(ann, Resources.ConfigMap, cm, annNs).then(
            () => true,
            () => false,
          ),
        { describe: `ann reads ${cm}`, timeoutMs: 30_000 },
      );
      // Dora neither belongs to the super app nor administers the organization.
      expect((await refusal(getAs(dora, Resources.ConfigMap, cm, annNs))).status).toBe(403);
    }
    // A catalog is a ConfigMap by name, not every ConfigMap of the namespace.
    expect((await refusal(admin.request('GET', resourcePath(Resources.ConfigMap, { namespace: annNs }), as(carl)))).status).toBe(403);
    expect((await refusal(getAs(carl, Resources.ConfigMap, 'kube-root-ca.crt', annNs))).status).toBe(403);
  });

  it("back to the Mini App Center's model, people no longer create Organizations", async () => {
    await platform.apply(Kinds.PlatformConfig, { metadata: { name: PLATFORM_CONFIG_NAME }, spec: {} });
    await eventually(async () => !(await allowed(carl, { verb: 'create', resource: 'organizations' })), { describe: 'the organization-creator grant taken back', timeoutMs: 30_000 });
    expect((await refusal(admin.create(Kinds.Organization, orgBody(uniqueName('appc-late'), { [CREATED_BY_ANNOTATION]: carl }), as(carl)))).status).toBe(403);
  });
});
