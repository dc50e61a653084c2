// "My organizations" and the other questions a member cannot ask the API server directly
// (they cannot list Organizations), answered with the caller's own token only:
//
// 1. SelfSubjectReview: the username and groups the API server authenticated.
// 2. SelfSubjectRulesReview (in any namespace: cluster-wide rules come with it): the
//    Organizations the caller may `get`. The operator grants each active member `get` on
//    their own Organization by name (ClusterRole miniapps:org:<org>:member), so the
//    resourceNames are exactly "my organizations". A rule without resourceNames that lets
//    them list Organizations (a provisioning administrator) means: all of them, listed.
// 3. Each Organization, read as the caller: its namespace and display name.
// 4. SelfSubjectRulesReview in that namespace: what the caller may do there (the console
//    shows only what this allows), and their own Membership: the one they may `delete`
//    by name (the operator's "leave" rule), read for their role.
//
// "My tenants" the same way: the operator grants each tenant administrator `get` on their
// own Tenant by name (ClusterRole miniapps:tenant:<tenant>:administrator), so the Tenants
// of step 2's resourceNames are theirs (all of them, listed, for whoever may list them);
// each is read as the caller, and a rules review in its namespace says what they may do.
//
// Nothing here uses the console's or the operator's credentials, and nothing is
// answered about anyone but the caller.
import { kubeJson } from './upstream.ts';
import type { Upstream } from './upstream.ts';
import { can, namedWith } from '../shared/me.ts';
import type { Access, Me, MyOrganization, MyTenant } from '../shared/me.ts';

export { can };
export type { Access, Me, MyOrganization, MyTenant };

const GROUP = 'miniapps.dev';
const API = `/apis/${GROUP}/v1alpha1`;

interface ResourceRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
}

interface RulesReview {
  status?: { resourceRules?: ResourceRule[]; incomplete?: boolean; evaluationError?: string };
}

/** The rules as a lookup of the project's kinds (other API groups are left out). */
export function accessFrom(review: RulesReview): Access {
  const all: Record<string, Set<string>> = {};
  const named: Record<string, Record<string, Set<string>>> = {};
  for (const r of review.status?.resourceRules ?? []) {
    const groups = r.apiGroups ?? [];
    if (!groups.includes(GROUP) && !groups.includes('*') && !(groups.includes('') && (r.resources ?? []).some((x) => x === 'secrets' || x === 'events' || x === 'configmaps'))) continue;
    const verbs = r.verbs.includes('*') ? ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'] : r.verbs;
    for (const res of r.resources ?? []) {
      if (r.resourceNames?.length) {
        for (const n of r.resourceNames) for (const v of verbs) ((named[res] ??= {})[n] ??= new Set()).add(v);
      } else {
        for (const v of verbs) (all[res] ??= new Set()).add(v);
      }
    }
  }
  return {
    all: Object.fromEntries(Object.entries(all).map(([k, v]) => [k, [...v].sort()])),
    named: Object.fromEntries(Object.entries(named).map(([k, byName]) => [k, Object.fromEntries(Object.entries(byName).map(([n, v]) => [n, [...v].sort()]))])),
    incomplete: review.status?.incomplete === true,
  };
}

/** The caller's own Membership's name: the one Membership they may delete by name (leaving). */
export function ownMembershipName(a: Access): string | undefined {
  const names = namedWith(a, 'memberships', 'delete');
  return names.length === 1 ? names[0] : undefined;
}

/** The objects of a cluster-scoped `resource` the caller may `get` by name (sorted): the ones the operator granted them. */
export const heldByName = (a: Access, resource: string): string[] => namedWith(a, resource, 'get');

const rulesReview = (up: Upstream, token: string, namespace: string): Promise<RulesReview> =>
  kubeJson<RulesReview>(up, token, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SelfSubjectRulesReview',
    spec: { namespace },
  });

interface OrgObject {
  metadata: { name: string };
  spec?: { displayName?: string };
  status?: { namespace?: string };
}

/** Everything the console shows about the caller, asked as the caller. */
export async function whoAmI(up: Upstream, token: string, operatorNamespace?: string): Promise<Me> {
  const [review, rules] = await Promise.all([
    kubeJson<{ status?: { userInfo?: { username?: string; groups?: string[] } } }>(up, token, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'SelfSubjectReview',
    }),
    rulesReview(up, token, 'default'),
  ]);
  const username = review.status?.userInfo?.username ?? '';
  const groups = review.status?.userInfo?.groups ?? [];
  const cluster = accessFrom(rules);
  const provisioningAdministrator = can(cluster, 'organizations', 'list') && can(cluster, 'organizations', 'create');
  const [organizations, tenants] = await Promise.all([
    readable<OrgObject>(up, token, cluster, 'organizations').then((os) => Promise.all(os.map((o) => myOrganization(up, token, o)))),
    readable<OrgObject>(up, token, cluster, 'tenants').then((ts) => Promise.all(ts.map((o) => placed(up, token, o, 'tenant')))),
  ]);
  organizations.sort((a, b) => a.name.localeCompare(b.name));
  tenants.sort((a, b) => a.name.localeCompare(b.name));
  return { username, groups, provisioningAdministrator, cluster, ...(provisioningAdministrator && operatorNamespace ? { operatorNamespace } : {}), organizations, tenants };
}

/** An Organization as the caller sees it, with their own Membership there when they have one. */
async function myOrganization(up: Upstream, token: string, o: OrgObject & { problem?: string }): Promise<MyOrganization> {
  const out: MyOrganization = await placed(up, token, o, 'organization');
  const mine = out.access && ownMembershipName(out.access);
  if (!mine) return out;
  try {
    const m = await kubeJson<{ spec?: { role?: string; email?: string }; status?: { phase?: string } }>(up, token, 'GET', `${API}/namespaces/${out.namespace}/memberships/${mine}`);
    out.membership = { name: mine, role: m.spec?.role, phase: m.status?.phase, email: m.spec?.email };
  } catch (err) {
    out.problem = (err as Error).message;
  }
  return out;
}

/** An Organization or Tenant as the caller sees it: its names, its namespace and what the caller may do there (or why not). */
async function placed(up: Upstream, token: string, o: OrgObject & { problem?: string }, what: 'organization' | 'tenant'): Promise<MyTenant> {
  if (o.problem) return { name: o.metadata.name, problem: o.problem };
  const out: MyTenant = { name: o.metadata.name, displayName: o.spec?.displayName, namespace: o.status?.namespace };
  if (!out.namespace) return { ...out, problem: `The ${what} has no namespace yet` };
  try {
    out.access = accessFrom(await rulesReview(up, token, out.namespace));
  } catch (err) {
    out.problem = (err as Error).message;
  }
  return out;
}

/** The objects of a cluster-scoped kind the caller may read: all of them when they may list it, else those held by name, each read as the caller (one that cannot be read: its name and why). */
async function readable<T extends { metadata: { name: string } }>(up: Upstream, token: string, cluster: Access, plural: 'organizations' | 'tenants'): Promise<(T & { problem?: string })[]> {
  if (can(cluster, plural, 'list')) return (await kubeJson<{ items: T[] }>(up, token, 'GET', `${API}/${plural}`)).items;
  return Promise.all(
    heldByName(cluster, plural).map(async (name) => {
      try {
        return await kubeJson<T>(up, token, 'GET', `${API}/${plural}/${name}`);
      } catch (err) {
        return { metadata: { name }, problem: (err as Error).message } as T & { problem: string };
      }
    }),
  );
}
