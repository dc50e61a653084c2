// The operator's permissions as the Helm chart grants them (charts/miniapps-operator/
// templates/rbac.yaml), with why each exists: the one list that operator/charts.test.ts
// compares the template's rules and the README's "Operator permissions" table with.
// Names are written with the placeholder `<fullname>` (the chart's full name, e.g.
// `miniapps-operator`).

import { GROUP } from './api/constants.ts';
import { ALL_VERBS, RBAC_GROUP } from './domain/rbac-types.ts';
import type { PolicyRule } from './domain/rbac-types.ts';

export const FULLNAME = '<fullname>';
/** The "namespace access" ClusterRole: bound by the operator, in each namespace it manages, to itself. */
export const NAMESPACE_ACCESS_ROLE = `${FULLNAME}-namespace`;

/** Where a grant applies, and the role of the chart that holds it. */
export const SCOPES = {
  cluster: { kind: 'ClusterRole', name: FULLNAME, text: `cluster-wide (ClusterRole \`${FULLNAME}\`)` },
  namespaceAccess: {
    kind: 'ClusterRole',
    name: NAMESPACE_ACCESS_ROLE,
    text: `each organization namespace (ClusterRole \`${NAMESPACE_ACCESS_ROLE}\`, bound there by the operator)`,
  },
  ownNamespace: { kind: 'Role', name: FULLNAME, text: `the release namespace (Role \`${FULLNAME}\`)` },
} as const satisfies Record<string, { kind: 'ClusterRole' | 'Role'; name: string; text: string }>;
export type Scope = keyof typeof SCOPES;

export type Grant = { scope: Scope; rule: PolicyRule; why: string };

const ALL = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];

export const OPERATOR_PERMISSIONS: readonly Grant[] = [
  {
    scope: 'cluster',
    rule: { apiGroups: [GROUP], resources: ['*'], verbs: [...ALL_VERBS] },
    why:
      'It reconciles every kind and writes their status and finalizers (`*` includes subresources). These are also the miniapps.dev permissions it ' +
      "hands out (the provisioning administrators' ClusterRole, the organization and member Roles, the Organizations' ClusterRoles), and " +
      'RBAC lets it write and bind roles whose rules it holds: it needs no `escalate`, and no `bind` for them.',
  },
  {
    scope: 'cluster',
    rule: { apiGroups: [''], resources: ['namespaces'], verbs: ALL },
    why:
      'It creates and deletes organization namespaces and adopts opted-in ones by patching their labels. Their names follow organizations: ' +
      'resourceNames cannot limit it.',
  },
  {
    scope: 'cluster',
    rule: { apiGroups: [RBAC_GROUP], resources: ['roles', 'rolebindings', 'clusterroles', 'clusterrolebindings'], verbs: ALL },
    why:
      "The role table: Roles and RoleBindings in organization namespaces, the provisioning administrators' and each Organization's " +
      'ClusterRoles and bindings, its own RoleBinding in each organization namespace. Their names follow organizations and members: ' +
      'resourceNames cannot limit it.',
  },
  {
    scope: 'cluster',
    rule: { apiGroups: [RBAC_GROUP], resources: ['clusterroles'], verbs: ['bind'], resourceNames: [NAMESPACE_ACCESS_ROLE] },
    why:
      `It binds \`${NAMESPACE_ACCESS_ROLE}\` to itself in each organization namespace (RoleBinding \`miniapps-operator\`), which it could not ` +
      'otherwise, not holding Secrets and ConfigMaps cluster-wide. The only `bind`; there is no `escalate`.',
  },
  {
    scope: 'cluster',
    rule: { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
    why: 'Normal and Warning events on the objects it reconciles (in `default` for cluster-scoped ones).',
  },
  {
    scope: 'cluster',
    rule: { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
    why: 'The data-protection API (protect, reveal) asks whether the caller may `get` the MiniApp or `create` `miniapps/reveal`, the API key verify endpoint whether the caller may `create` `apikeys/verify`, and the token-roles API whether they may `get` `users/tokenroles`, so a caller never uses the operator\'s own rights.',
  },
  {
    scope: 'cluster',
    rule: { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
    why: "The data-protection API, the API key verify endpoint and the token-roles API authenticate their callers' bearer tokens (whose ServiceAccount token is it).",
  },
  {
    scope: 'cluster',
    rule: { apiGroups: ['admissionregistration.k8s.io'], resources: ['validatingwebhookconfigurations'], verbs: ['get', 'patch'], resourceNames: [FULLNAME] },
    why: 'When it generates the webhook\'s certificate (no cert-manager, no caBundle of yours), the leader writes the CA bundle into the caBundle of the chart\'s ValidatingWebhookConfiguration, and puts it back if it was changed; no other webhook configuration.',
  },
  {
    scope: 'namespaceAccess',
    rule: { apiGroups: [''], resources: ['secrets', 'configmaps'], verbs: ALL },
    why:
      "Organization icons, super apps' catalog and snapshot ConfigMaps, solutions' manifest ConfigMaps, mini apps' wrapped data keys, API keys (one immutable Secret per key revision), in the namespaces it manages only. " +
      "Holding them there also lets it give an API key's owner that Secret by name.",
  },
  {
    scope: 'ownNamespace',
    rule: { apiGroups: [''], resources: ['secrets'], verbs: ALL },
    why:
      'The invitation signing key `miniapps-operator-invitation-key`, the key-encryption key `miniapps-operator-key-encryption-key` and the token signing key `miniapps-operator-token-signing-key` (all made on first start), the webhook certificate, the SMTP credentials, and the API keys of provisioning administrators (their ApiKeys live here; `delete` removes a rotated-out key\'s Secret).',
  },
  {
    scope: 'ownNamespace',
    rule: { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
    why: 'Leader election: it reads, creates and renews the Lease `leaderElection.id`.',
  },
];

/** The rules of one of the chart's roles, in the order the template lists them. */
export function rulesOf(scope: Scope): PolicyRule[] {
  return OPERATOR_PERMISSIONS.filter((g) => g.scope === scope).map((g) => g.rule);
}

/** `miniapps.dev` `*`: get, list (only `name`): a rule as the README's table writes it. */
export function grantText(rule: PolicyRule): string {
  const code = (s: string) => `\`${s}\``;
  const groups = rule.apiGroups.map((g) => (g === '' ? 'core' : code(g))).join(', ');
  const names = rule.resourceNames?.length ? ` (only ${rule.resourceNames.map(code).join(', ')})` : '';
  return `${groups} ${rule.resources.map(code).join(', ')}: ${rule.verbs.join(', ')}${names}`;
}

/** The README's "Operator permissions" table: grant, scope, why. */
export function permissionTable(): [grant: string, scope: string, why: string][] {
  return OPERATOR_PERMISSIONS.map((g) => [grantText(g.rule), SCOPES[g.scope].text, g.why]);
}
