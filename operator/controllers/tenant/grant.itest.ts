// A tenant administrator finds their Tenant from their own identity, as a member finds
// their Organization: the Tenant controller grants each administrator `get` (and `watch`)
// on their own Tenant by name, and takes it away when they stop being one. Proved on the
// real control plane with the operator running, asking as the person (impersonation).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant } from '../../api/tenant/schema.ts';
import { Kinds } from '../../api/registry.ts';
import { tenantClusterName } from '../../domain/rbac.ts';
import { ApiError } from '../../runtime/errors.ts';
import { resourcePath, Resources } from '../../runtime/kube/resource.ts';
import { testClient } from '../../testenv/clients.ts';
import { eventually, testKubeconfig, uniqueName } from '../../testenv/index.ts';
import { OperatorProcess } from '../../testenv/operator-process.ts';

const client = testClient();
const operatorNamespace = uniqueName('op-tenant-grant');
const mine = uniqueName('grant-a');
const theirs = uniqueName('grant-b');
const ADA = `Ada@${mine}.example`;
const BEA = `bea@${theirs}.example`;
const CAL = `cal@${mine}.example`;

/** A request as `user` (Impersonate-User, authenticated), with the API server's status code. */
async function as(user: string, method: 'GET' | 'PATCH', path: string, body?: unknown): Promise<number> {
  try {
    await client.request(method, path, { as: { user: user.toLowerCase(), groups: ['system:authenticated'] }, body, contentType: body ? 'application/merge-patch+json' : undefined });
    return 200;
  } catch (err) {
    if (err instanceof ApiError) return err.status;
    // client.request parses a 2xx answer as one JSON object; a watch answers with one JSON object per line
    // (two when the Tenant changed within its timeoutSeconds): a 2xx stream all the same.
    if (err instanceof SyntaxError && path.includes('watch=1')) return 200;
    throw err;
  }
}

/** The Tenants `user` may get by name, as their own SelfSubjectRulesReview says (what the console's "My tenants" reads). */
async function tenantsNamed(user: string): Promise<string[]> {
  const review = await client.request<{ status: { resourceRules: { verbs: string[]; apiGroups?: string[]; resources?: string[]; resourceNames?: string[] }[] } }>(
    'POST',
    '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews',
    { as: { user: user.toLowerCase(), groups: ['system:authenticated'] }, body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace: 'default' } } },
  );
  return review.status.resourceRules
    .filter((r) => r.apiGroups?.includes('miniapps.dev') && r.resources?.includes('tenants') && r.verbs.includes('get'))
    .flatMap((r) => r.resourceNames ?? [])
    .sort();
}

const tenantPath = (name?: string) => resourcePath(Kinds.Tenant, { name });

describe('a tenant administrator and their own Tenant', () => {
  let operator: OperatorProcess;

  beforeAll(async () => {
    operator = await OperatorProcess.start({ kubeconfig: testKubeconfig(), namespace: operatorNamespace, args: ['--leader-elect=false'] });
    await client.create(Kinds.Tenant, { metadata: { name: mine }, spec: { displayName: 'Mine', administrators: [ADA, CAL] } });
    await client.create(Kinds.Tenant, { metadata: { name: theirs }, spec: { displayName: 'Theirs', administrators: [BEA] } });
  }, 60_000);

  afterAll(async () => {
    for (const t of [mine, theirs]) await client.delete(Kinds.Tenant, t).catch(() => undefined);
    await eventually(async () => !(await client.get(Kinds.Tenant, mine)) && !(await client.get(Kinds.Tenant, theirs)), { timeoutMs: 60_000, describe: 'the tenants gone' }).catch(() => undefined);
    await operator?.stop();
    await client.delete(Resources.Namespace, operatorNamespace).catch(() => undefined);
  });

  it('may get and watch their Tenant by name, and not another tenant, nor list, change or delete Tenants', async () => {
    await eventually(async () => (await as(ADA, 'GET', tenantPath(mine))) === 200, { describe: `${ADA} may get Tenant ${mine}` });
    const got = await client.request<Tenant>('GET', tenantPath(mine), { as: { user: ADA.toLowerCase(), groups: ['system:authenticated'] } });
    expect(got.spec.displayName).toBe('Mine');
    expect(await as(ADA, 'GET', `${tenantPath(mine)}/status`)).toBe(200);
    expect(await as(ADA, 'GET', `${tenantPath()}?watch=1&fieldSelector=metadata.name%3D${mine}&timeoutSeconds=1`)).toBe(200);
    expect(await as(ADA, 'GET', tenantPath(theirs))).toBe(403);
    expect(await as(ADA, 'GET', tenantPath())).toBe(403);
    expect(await as(ADA, 'PATCH', tenantPath(mine), { spec: { administrators: [ADA, `evil@${mine}.example`] } })).toBe(403);
    await eventually(async () => (await as(BEA, 'GET', tenantPath(theirs))) === 200, { describe: `${BEA} may get Tenant ${theirs}` });
    expect(await as(BEA, 'GET', tenantPath(mine))).toBe(403);
  });

  it('finds exactly their tenants in their own rules review (how the console answers "My tenants")', async () => {
    await eventually(async () => (await tenantsNamed(ADA)).length > 0, { describe: 'the grant in the rules review' });
    expect(await tenantsNamed(ADA)).toEqual([mine]);
    expect(await tenantsNamed(BEA)).toEqual([theirs]);
    expect(await tenantsNamed(`nobody@${mine}.example`)).toEqual([]);
  });

  it('loses it when no longer an administrator; the grant goes when nobody administers the tenant', async () => {
    await eventually(async () => (await as(CAL, 'GET', tenantPath(mine))) === 200, { describe: `${CAL} may get Tenant ${mine}` });
    await client.patch(Kinds.Tenant, mine, undefined, { spec: { administrators: [ADA] } });
    await eventually(async () => (await as(CAL, 'GET', tenantPath(mine))) === 403, { describe: `${CAL} refused once removed` });
    expect(await as(ADA, 'GET', tenantPath(mine))).toBe(200);
    await client.patch(Kinds.Tenant, mine, undefined, { spec: { administrators: [] } });
    await eventually(async () => !(await client.get(Resources.ClusterRoleBinding, tenantClusterName(mine))) && !(await client.get(Resources.ClusterRole, tenantClusterName(mine))), {
      describe: 'the ClusterRole and ClusterRoleBinding deleted',
    });
    expect(await as(ADA, 'GET', tenantPath(mine))).toBe(403);
    // The other tenant's grant is untouched.
    expect(await as(BEA, 'GET', tenantPath(theirs))).toBe(200);
  });
});
