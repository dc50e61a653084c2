// The CRDs of crds/ on a real kube-apiserver: they are Established, the API server
// publishes a description for every spec and status field (so `kubectl explain`
// documents the API), printer columns show, and the schema and CEL rules refuse
// bad input with HTTP 422 and the rule's message, while a minimal valid object of
// every kind is accepted. No operator runs here: this is the API server alone.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kinds } from './registry.ts';
import { ApiError } from '../runtime/errors.ts';
import type { AnyObject, KubeClient } from '../runtime/kube/client.ts';
import { Resources, resourcePath } from '../runtime/kube/resource.ts';
import type { ResourceType } from '../runtime/kube/resource.ts';
import { deleteOrganization, testClient } from '../testenv/clients.ts';
import { REPO_ROOT } from '../testenv/controlplane.ts';
import { eventually, kubectl, uniqueName } from '../testenv/index.ts';
import { ALL_KINDS } from './index.ts';
import { API_VERSION, GROUP, VERSION } from './common.ts';
import { PolicyNames, admissionPolicies } from './policies.ts';

type KindName = keyof typeof Kinds;
type Json = Record<string, unknown>;
interface Schema {
  description?: string;
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
  allOf?: Schema[];
}

let client: KubeClient;
/**
 * A namespace for the namespaced kinds; no Organization or Tenant claims it. It carries the
 * tenant label, so that the API server's admission policy lets Subscriptions, UserGroups and
 * Users be created in it (the policy is installed once an operator has run on the cluster).
 */
const ns = uniqueName('admission');

let createdPlatformConfig = false;

beforeAll(async () => {
  client = testClient();
  await installRaw();
  await client.create(Resources.Namespace, { metadata: { name: ns, labels: { [`${GROUP}/tenant`]: ns } } });
  // The ApiKey admission policy reads the PlatformConfig (userPrefix), and refuses ApiKeys without it.
  if (!(await client.get(Kinds.PlatformConfig, 'default'))) {
    await client.create(Kinds.PlatformConfig, { metadata: { name: 'default' }, spec: {} });
    createdPlatformConfig = true;
  }
});

afterAll(async () => {
  if (createdPlatformConfig) await client?.delete(Kinds.PlatformConfig, 'default');
  await client?.delete(Resources.Namespace, ns);
  await client?.close();
});

/** The CRDs as committed in crds/: what the API server was given. */
const crds = readdirSync(join(REPO_ROOT, 'crds'))
  .filter((f) => f.endsWith(`.${GROUP}.yaml`))
  .map(
    (f) =>
      parse(readFileSync(join(REPO_ROOT, 'crds', f), 'utf8')) as { metadata: { name: string }; spec: { names: { kind: string; plural: string }; versions: { schema: { openAPIV3Schema: Schema } }[] } },
  );

function crdOf(plural: string) {
  const crd = crds.find((c) => c.spec.names.plural === plural);
  if (!crd) throw new Error(`No CRD for ${plural} in crds/`);
  return crd;
}

/** The CRD schema at `path` (e.g. `spec.capabilities`) of the kind with plural `plural`. */
function crdField(plural: string, path: string): Schema {
  let node = crdOf(plural).spec.versions[0]!.schema.openAPIV3Schema;
  for (const part of path.split('.')) {
    const next = node.properties?.[part] ?? node.items?.properties?.[part];
    if (!next) throw new Error(`${plural} has no field ${path}`);
    node = next;
  }
  return node;
}

/** Why the API server refused a file of crds/, by CRD name. */
const refusedCRDs = new Map<string, string>();

/**
 * Server-side applies crds/ exactly as written (a no-op when the cluster already has
 * them) and waits until every accepted CRD serves that schema. The global setup's
 * installer (@kubernetes/client-node's KubernetesObjectApi) drops the schema keywords
 * whose model names differ from their JSON names (enum, default, x-kubernetes-*), so
 * the enums and CEL rules would not be there to prove. A CRD the API server refuses
 * is recorded for its Established test.
 */
async function installRaw(): Promise<void> {
  const accepted: typeof crds = [];
  for (const crd of crds) {
    try {
      await client.apply(Resources.CustomResourceDefinition, crd as unknown as AnyObject, { force: true });
      accepted.push(crd);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      refusedCRDs.set(crd.metadata.name, err.message);
    }
  }
  for (const crd of accepted) {
    await eventually(
      async () => {
        const served = await client.get<AnyObject & { spec: typeof crd.spec; status?: { conditions?: { type: string; status: string }[] } }>(Resources.CustomResourceDefinition, crd.metadata.name);
        const established = served?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
        expect(served!.spec.versions[0]!.schema).toEqual(crd.spec.versions[0]!.schema);
        return established === true;
      },
      { describe: `CRD ${crd.metadata.name} serving the schema of crds/` },
    );
  }
  // The API server swaps in a CRD's new validation shortly after the update.
  if (accepted.some((c) => c.spec.names.kind === 'PlatformConfig')) {
    await eventually(async () => (await refusal(dryRunCreate(Kinds.PlatformConfig, { apiVersion: API_VERSION, kind: 'PlatformConfig', metadata: { name: 'probe' } } as AnyObject))).status === 422, {
      describe: 'the CEL rules of crds/ in force',
    });
  }
}

const squash = (s: string): string => s.replace(/\s+/g, ' ').trim();

/** Properties under `node` without a description, as dotted paths. */
function undocumented(node: Schema, path: string): string[] {
  const out: string[] = [];
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const p = `${path}.${name}`;
    const documented = child.description?.trim() || child.allOf?.some((s) => s.description?.trim());
    if (!documented) out.push(p);
    out.push(...undocumented(child, p));
  }
  if (node.items) out.push(...undocumented(node.items, `${path}[]`));
  if (node.additionalProperties && typeof node.additionalProperties === 'object') out.push(...undocumented(node.additionalProperties, `${path}{}`));
  return out;
}

/** Sends `obj` (POST, or server-side apply) with dryRun=All and fieldValidation=Strict. */
function dryRunCreate(rt: ResourceType, obj: AnyObject): Promise<AnyObject> {
  return client.request<AnyObject>('POST', resourcePath(rt, { namespace: obj.metadata.namespace }), {
    body: obj,
    query: { fieldManager: 'test', fieldValidation: 'Strict', dryRun: 'All' },
  });
}

/** The ApiError `promise` rejects with; fails the test if it resolves. */
async function refusal(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('the API server accepted the object');
}

function object(kind: KindName, spec: Json, name = 'example'): AnyObject {
  const rt = Kinds[kind];
  return {
    apiVersion: API_VERSION,
    kind,
    metadata: rt.namespaced ? { name, namespace: ns } : { name },
    spec,
  } as AnyObject;
}

/** A minimal valid object of every kind: required fields only. */
const minimal: Record<KindName, AnyObject> = {
  PlatformConfig: object('PlatformConfig', {}, 'default'),
  Organization: object('Organization', { displayName: 'Acme Bank' }, 'acme'),
  Tenant: object('Tenant', { displayName: 'Initech' }, 'initech'),
  Account: object('Account', { username: 'ada', email: 'ada@acme.example', firstName: 'Ada', lastName: 'Lovelace' }, 'ada'),
  Membership: object('Membership', { email: 'dev@acme.example', role: 'MiniAppDeveloper' }),
  SuperApp: object('SuperApp', { displayName: 'Acme Mobile' }),
  MiniApp: object('MiniApp', { appName: 'fx_rates', type: 'Numeric' }),
  MiniAppReview: object('MiniAppReview', {
    miniApp: { organization: 'globex', name: 'taxi' },
    superApp: 'acme-mobile',
    version: '1.0.0',
    decision: 'Approved',
  }),
  ApiKey: object('ApiKey', { owner: 'dev@acme.example', ttl: '720h' }),
  Solution: object('Solution', { solutionId: 'lending', version: '2.1.0', manifest: {} }),
  AppManifest: object('AppManifest', { appId: 'loans-web', listingId: 'loans' }),
  Subscription: object('Subscription', { solution: { organization: 'acme', name: 'lending' } }),
  UserGroup: object('UserGroup', {}),
  User: object('User', { userCode: 'E1001', firstName: 'Peter', email: 'peter@initech.example' }),
};

/** The kind's minimal object with `patch` merged into its spec (undefined deletes a field). */
function withSpec(kind: KindName, patch: Json): AnyObject {
  const obj = structuredClone(minimal[kind]) as AnyObject & { spec: Json };
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) delete obj.spec[k];
    else obj.spec[k] = v;
  }
  return obj;
}

describe('the CRDs on the API server', () => {
  it.each(ALL_KINDS.map((d) => [d.kind, `${d.plural}.${GROUP}`]))('the %s CRD, as written in crds/, is accepted and Established', async (_kind, name) => {
    expect(refusedCRDs.get(name) ?? 'accepted', `the API server's answer to crds/${name}.yaml`).toBe('accepted');
    const crd = await client.get<AnyObject & { status?: { conditions?: { type: string; status: string }[] } }>(Resources.CustomResourceDefinition, name);
    expect(crd, `CRD ${name}`).toBeDefined();
    const established = crd!.status?.conditions?.find((c) => c.type === 'Established');
    expect(established?.status).toBe('True');
  });

  it("every property of every kind's spec and status has a description in the published OpenAPI v3 document", async () => {
    const schemas = await eventually(
      async () => {
        const index = await client.request<{ paths: Record<string, { serverRelativeURL: string }> }>('GET', '/openapi/v3');
        const entry = index.paths[`apis/${GROUP}/${VERSION}`];
        if (!entry) return false;
        const doc = await client.request<{ components: { schemas: Record<string, Schema> } }>('GET', entry.serverRelativeURL);
        const prefix = `${GROUP.split('.').reverse().join('.')}.${VERSION}.`;
        const missing = ALL_KINDS.filter((d) => !doc.components.schemas[`${prefix}${d.kind}`]);
        return missing.length === 0 ? { all: doc.components.schemas, prefix } : false;
      },
      { timeoutMs: 60_000, describe: `every ${GROUP} kind in /openapi/v3` },
    );
    const offenders: string[] = [];
    for (const def of ALL_KINDS) {
      const root = schemas.all[`${schemas.prefix}${def.kind}`]!;
      for (const part of ['spec', 'status'] as const) {
        const node = root.properties?.[part];
        if (!node) {
          offenders.push(`${def.kind}.${part} (missing)`);
          continue;
        }
        if (!node.description?.trim()) offenders.push(`${def.kind}.${part}`);
        offenders.push(...undocumented(node, `${def.kind}.${part}`));
      }
    }
    expect(offenders, 'fields without a description').toEqual([]);
  });

  it.each([
    ['organizations', 'spec.capabilities'],
    ['memberships', 'spec.role'],
    ['platformconfigs', 'spec.invitationTTL'],
    ['tenants', 'spec.administrators'],
    ['superapps', 'spec.reviewPolicy'],
    ['miniapps', 'spec.appName'],
    ['miniappreviews', 'spec.decision'],
    ['apikeys', 'spec.ttl'],
    ['solutions', 'spec.manifestFrom'],
    ['appmanifests', 'spec.rolesRequired'],
    ['subscriptions', 'spec.solution'],
    ['usergroups', 'spec.landingPage'],
    ['users', 'spec.userCode'],
    ['memberships', 'status.phase'],
  ])("kubectl explain %s.%s prints the field's description", async (plural, path) => {
    const description = crdField(plural, path).description;
    expect(description, `${plural}.${path} has a description in crds/`).toBeTruthy();
    const out = await eventually(() => kubectl(['explain', `${plural}.${path}`]), { describe: `kubectl explain ${plural}.${path}` });
    expect(squash(out)).toContain(squash(description!));
  });

  it('kubectl get organizations shows the READY and AGE columns', async () => {
    const name = uniqueName('columns');
    await client.create(Kinds.Organization, { metadata: { name }, spec: { displayName: 'Columns' } });
    try {
      const out = await kubectl(['get', 'organizations', name]);
      const header = out.split('\n')[0]!.split(/\s+/);
      expect(header).toEqual(expect.arrayContaining(['NAME', 'READY', 'AGE']));
    } finally {
      await deleteOrganization(client, name);
    }
  });
});

describe("the API server refuses invalid objects with 422 and the rule's message", () => {
  it.each<[string, () => AnyObject, string[]]>([
    ['an Intent mini app without a domain', () => withSpec('MiniApp', { type: 'Intent', domain: undefined }), ['an Intent mini app needs spec.domain']],
    ['a mini app whose appName has a dash', () => withSpec('MiniApp', { appName: 'fx-rates' }), ['spec.appName', '^[A-Za-z0-9_]+$']],
    [
      'a user group role not written role:<listingId>:<roleName>',
      () => withSpec('UserGroup', { roles: ['loans-approver'] }),
      // Seed 003: a listing id may hold colons (the role name is the last part).
      ['spec.roles[0]', '^role:[^:\\s]+(:[^:\\s]+)+$'],
    ],
    ['a landing page of rank 0', () => withSpec('UserGroup', { landingPage: { url: '/home', rank: 0 } }), ['spec.landingPage.rank', 'should be greater than or equal to 1']],
    ['an API key with both expiresAt and ttl', () => withSpec('ApiKey', { expiresAt: '2030-01-01T00:00:00Z', ttl: '720h' }), ['set exactly one of spec.expiresAt (a date-time) and spec.ttl']],
    ['an API key with neither expiresAt nor ttl', () => withSpec('ApiKey', { ttl: undefined }), ['set exactly one of spec.expiresAt (a date-time) and spec.ttl']],
    ['a PlatformConfig not named default', () => ({ ...minimal.PlatformConfig, metadata: { name: 'production' } }), ["PlatformConfig is a singleton: name it 'default'"]],
    ['a membership with an invalid email', () => withSpec('Membership', { email: 'not an email' }), ['spec.email']],
    ['a membership with an unknown role', () => withSpec('Membership', { role: 'Owner' }), ['spec.role', 'Unsupported value: "Owner"']],
    [
      'a solution with both an inline manifest and manifestFrom',
      () => withSpec('Solution', { manifestFrom: { configMapKeyRef: { name: 'lending', key: 'manifest.yaml' } } }),
      ['set exactly one of spec.manifest (inline) and spec.manifestFrom'],
    ],
  ])('%s', async (_name, build, messages) => {
    const obj = build();
    const err = await refusal(dryRunCreate(Kinds[obj.kind as KindName], obj));
    expect(err.status, err.message).toBe(422);
    for (const m of messages) expect(err.message).toContain(m);
  });

  it("changing a membership's email", async () => {
    const name = uniqueName('email');
    const created = await client.create(Kinds.Membership, { ...withSpec('Membership', {}), metadata: { name, namespace: ns } });
    expect(created.metadata.uid).toBeTruthy();
    try {
      const err = await refusal(client.apply(Kinds.Membership, { ...withSpec('Membership', { email: 'other@acme.example' }), metadata: { name, namespace: ns } }));
      expect(err.status, err.message).toBe(422);
      expect(err.message).toContain('spec.email is immutable; delete this Membership and create one for the new email');
    } finally {
      // One Membership per email per namespace (admission policy miniapps.dev-membership-email): the minimal one below has this email too.
      await client.delete(Kinds.Membership, name, ns);
    }
  });
  it('moving an Organization to another namespace', async () => {
    const name = uniqueName('move');
    await client.create(Kinds.Organization, { metadata: { name }, spec: { displayName: 'Move', namespace: name } });
    try {
      const err = await refusal(client.apply(Kinds.Organization, { metadata: { name }, spec: { displayName: 'Move', namespace: `${name}-b` } }));
      expect(err.status, err.message).toBe(422);
      expect(err.message).toContain('spec.namespace cannot be set, changed or removed after the Organization is created');
    } finally {
      await deleteOrganization(client, name);
    }
  });
});

describe('the API server accepts a minimal valid object of every kind', () => {
  it.each(ALL_KINDS.map((d) => [d.kind]))('a minimal %s (server-side dry-run apply, strict field validation)', async (kind) => {
    const obj = minimal[kind as KindName];
    const applied = await client.apply(Kinds[kind as KindName], obj, { dryRun: true });
    expect(applied.metadata.name).toBe(obj.metadata.name);
    expect(applied.kind).toBe(kind);
  });
});

describe("the API server alone keeps the kinds of a tenant in a tenant's namespace (admission policy, no operator)", () => {
  const plain = `${ns}-plain`;
  const tenantPolicy = admissionPolicies('miniapps-system').filter((p) => p.metadata.name === PolicyNames.tenantNamespace);

  beforeAll(async () => {
    // The objects the operator (out of cluster) and the chart install; applied here by hand: no operator runs in this file.
    for (const p of tenantPolicy)
      await client.apply(p.kind === 'ValidatingAdmissionPolicy' ? Resources.ValidatingAdmissionPolicy : Resources.ValidatingAdmissionPolicyBinding, p as unknown as AnyObject);
    await client.create(Resources.Namespace, { metadata: { name: plain } });
  });
  afterAll(async () => {
    await client?.delete(Resources.Namespace, plain);
  });

  it.each(['Subscription', 'UserGroup', 'User'] as const)('a %s outside a tenant namespace is refused with how to fix it, and accepted in one', async (kind) => {
    const obj = (namespace: string) => ({ ...minimal[kind], metadata: { name: uniqueName(kind.toLowerCase()), namespace } });
    // A new policy takes a moment to be in force.
    const err = (await eventually(
      async () =>
        dryRunCreate(Kinds[kind], obj(plain)).then(
          () => false,
          (e: unknown) => (e instanceof ApiError ? e : false),
        ),
      { describe: `the ${kind} refused` },
    )) as ApiError;
    expect(err.status, err.message).toBe(422);
    expect(err.message).toContain(`${kind} `);
    expect(err.message).toContain(`must be created in the namespace of a Tenant, and namespace ${plain} is not one (it has no label miniapps.dev/tenant): create it in the namespace of its Tenant`);
    expect((await dryRunCreate(Kinds[kind], obj(ns))).metadata.namespace).toBe(ns);
  });
});

describe('the API server alone reads a manifest ConfigMap only for someone who may (admission policy, no operator)', () => {
  const dev = 'manifest-author@acme.example';
  const sourcePolicy = admissionPolicies('miniapps-system').filter((p) => p.metadata.name === PolicyNames.manifestSource);
  const solution = (name: string) => ({
    ...withSpec('Solution', { manifest: undefined, manifestFrom: { configMapKeyRef: { name: 'lending', key: 'manifest.yaml' } } }),
    metadata: { name, namespace: ns },
  });
  const createAsDev = (obj: AnyObject) => kubectl(['create', '--dry-run=server', '-o', 'name', '-f', '-'], { as: dev, stdin: JSON.stringify(obj), allowFailure: true });

  beforeAll(async () => {
    for (const p of sourcePolicy)
      await client.apply(p.kind === 'ValidatingAdmissionPolicy' ? Resources.ValidatingAdmissionPolicy : Resources.ValidatingAdmissionPolicyBinding, p as unknown as AnyObject);
    await client.create(Resources.Role, { metadata: { name: 'manifest-author', namespace: ns }, rules: [{ apiGroups: [GROUP], resources: ['solutions', 'appmanifests'], verbs: ['create'] }] });
    await client.create(Resources.RoleBinding, {
      metadata: { name: 'manifest-author', namespace: ns },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'manifest-author' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: dev }],
    });
  });

  it('refuses a Solution naming a ConfigMap its author may not read, with how to fix it, and accepts it once they may read that one', async () => {
    const refused = await eventually(
      async () => {
        const r = await createAsDev(solution(uniqueName('sol')));
        return r.exitCode !== 0 && /may not read/.test(r.stderr) ? r : false;
      },
      { describe: 'the Solution refused' },
    );
    expect(refused.stderr).toContain(
      'reads its manifest from ConfigMap lending, which you may not read: the operator reads a ConfigMap only for someone RBAC lets get it (get on configmaps in namespace',
    );
    // Inline needs nothing more.
    expect((await createAsDev(withSpec('Solution', {}))).exitCode).toBe(0);
    await client.create(Resources.Role, { metadata: { name: 'read-lending', namespace: ns }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'], resourceNames: ['lending'] }] });
    await client.create(Resources.RoleBinding, {
      metadata: { name: 'read-lending', namespace: ns },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-lending' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: dev }],
    });
    await eventually(async () => (await createAsDev(solution(uniqueName('sol')))).exitCode === 0, { describe: 'the Solution accepted once its author may read the ConfigMap' });
  });
});

describe("the API server alone refuses, with why, a key for someone else before the operator has written the PlatformConfig's status (admission policy, no operator)", () => {
  const admin = 'key-admin@acme.example';
  const stranger = 'key-stranger@acme.example';
  const ownerPolicy = admissionPolicies('miniapps-system').filter((p) => p.metadata.name === PolicyNames.apiKeyOwner);
  const key = (owner: string) => ({ ...withSpec('ApiKey', { owner }), metadata: { name: uniqueName('key'), namespace: ns } });
  const createAs = (user: string, owner: string) => kubectl(['create', '--dry-run=server', '-o', 'name', '-f', '-'], { as: user, stdin: JSON.stringify(key(owner)), allowFailure: true });

  beforeAll(async () => {
    for (const p of ownerPolicy)
      await client.apply(p.kind === 'ValidatingAdmissionPolicy' ? Resources.ValidatingAdmissionPolicy : Resources.ValidatingAdmissionPolicyBinding, p as unknown as AnyObject);
    await client.create(Resources.Role, { metadata: { name: 'key-maker', namespace: ns }, rules: [{ apiGroups: [GROUP], resources: ['apikeys'], verbs: ['create'] }] });
    await client.create(Resources.Role, { metadata: { name: 'key-owner', namespace: ns }, rules: [{ apiGroups: [GROUP], resources: ['apikeys/owner'], verbs: ['update'] }] });
    const bind = (role: string, users: string[]) =>
      client.create(Resources.RoleBinding, {
        metadata: { name: role, namespace: ns },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role },
        subjects: users.map((name) => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name })),
      });
    await bind('key-maker', [admin, stranger]);
    await bind('key-owner', [admin]);
  });

  it('an administrator of the organization (apikeys/owner) is told the PlatformConfig has no status yet; their own key is accepted', async (ctx) => {
    // Only this file's own PlatformConfig surely has no status (no operator runs here); one an earlier file's operator reconciled has.
    if (!createdPlatformConfig) ctx.skip();
    expect((await client.get<AnyObject & { status?: unknown }>(Kinds.PlatformConfig, 'default'))?.status).toBeUndefined();
    // The policy in force: someone without apikeys/owner is refused.
    const refused = await eventually(
      async () => {
        const r = await createAs(stranger, 'key-member@acme.example');
        return r.exitCode !== 0 ? r : false;
      },
      { describe: 'the stranger refused' },
    );
    expect(refused.stderr).toContain('a key for someone else may be created or changed only by an administrator of the organization');
    // Whether the owner is an Account's provisioning administrator is not known yet: refused with why, not with an evaluation error.
    const waits = await createAs(admin, 'key-member@acme.example');
    expect(waits.exitCode).not.toBe(0);
    expect(waits.stderr).toContain(
      'PlatformConfig default has no status yet (the operator records there which Accounts are provisioning administrators), so a key for someone else is created or widened only by a provisioning administrator until it has',
    );
    expect(waits.stderr).not.toContain('no such key');
    const own = await createAs(admin, admin);
    expect(own.stderr).toBe('');
    expect(own.exitCode).toBe(0);
  });
});
