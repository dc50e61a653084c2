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

/** The embedded identity provider's ServiceAccount and roles (identity.enabled). */
export const IDENTITY = `${FULLNAME}-identity`;
/** The namespace of the provider's Secrets (identity.namespace; by default the release namespace's name with `-identity`). */
export const IDENTITY_NAMESPACE = '<namespace>-identity';
/** The SMTP credentials Secret (invitations.smtp.credentialsSecret). */
export const SMTP_SECRET = '<invitations.smtp.credentialsSecret>';
/** The identity listener's certificate Secret (identity.certSecretName). */
export const IDENTITY_CERT_SECRET = '<identity.certSecretName>';

/**
 * Where a grant applies, the role of the chart that holds it and whose ServiceAccount it is
 * bound to (the operator's, or the identity provider's), in the order the chart renders them
 * (Helm installs ClusterRoles before Roles).
 */
export const SCOPES = {
  cluster: { kind: 'ClusterRole', name: FULLNAME, holder: 'operator', text: `cluster-wide (ClusterRole \`${FULLNAME}\`)` },
  namespaceAccess: {
    kind: 'ClusterRole',
    name: NAMESPACE_ACCESS_ROLE,
    holder: 'operator',
    text: `each organization namespace (ClusterRole \`${NAMESPACE_ACCESS_ROLE}\`, bound there by the operator)`,
  },
  identityCluster: { kind: 'ClusterRole', name: IDENTITY, holder: 'identity', text: `cluster-wide (ClusterRole \`${IDENTITY}\`)` },
  ownNamespace: { kind: 'Role', name: FULLNAME, namespace: '<namespace>', holder: 'operator', text: `the release namespace (Role \`${FULLNAME}\`)` },
  identityNamespace: {
    kind: 'Role',
    name: FULLNAME,
    namespace: IDENTITY_NAMESPACE,
    holder: 'operator',
    text: `the identity provider's namespace \`identity.namespace\` (Role \`${FULLNAME}\`, with \`identity.enabled\`)`,
  },
  identityOwn: { kind: 'Role', name: IDENTITY, namespace: IDENTITY_NAMESPACE, holder: 'identity', text: `its namespace \`identity.namespace\` (Role \`${IDENTITY}\`)` },
  identityRelease: { kind: 'Role', name: IDENTITY, namespace: '<namespace>', holder: 'identity', text: `the release namespace (Role \`${IDENTITY}\`)` },
} as const satisfies Record<string, { kind: 'ClusterRole' | 'Role'; name: string; namespace?: string; holder: 'operator' | 'identity'; text: string }>;
export type Scope = keyof typeof SCOPES;

export type Grant = { scope: Scope; rule: PolicyRule; why: string };

/** The Lease of leader election, as chart-permissions.ts writes the value `leaderElection.id`. */
export const LEASE_NAME = '<leaderElection.id>';
const KEK_SECRET = 'miniapps-operator-key-encryption-key';
const TOKEN_SIGNING_SECRET = 'miniapps-operator-token-signing-key';
/** The webhook certificate's Secret (webhook.certSecretName; its default name when the operator generates the certificate). */
export const WEBHOOK_CERT_SECRET = `${FULLNAME}-webhook-cert`;
/** The operator's RoleBinding of the namespace access ClusterRole in each organization namespace. */
const ACCESS_BINDING = 'miniapps-operator';
const RBAC_RESOURCES = ['roles', 'rolebindings', 'clusterroles', 'clusterrolebindings'];

export const OPERATOR_PERMISSIONS: readonly Grant[] = [
  {
    scope: 'cluster',
    rule: { apiGroups: [GROUP], resources: ['*'], verbs: [...ALL_VERBS] },
    why:
      'It reconciles every kind and writes their status and finalizers (`*` includes subresources). These are also the miniapps.dev permissions it ' +
      "hands out (the provisioning administrators' ClusterRole, the organization and member Roles, the Organizations' ClusterRoles), and " +
      'RBAC lets it write and bind roles whose rules it holds: it needs no `escalate`, and no `bind` for them (the virtual subresources `organizations/provisioning`, ' +
      '`apikeys/owner`, `apikeys/verify` and `users/tokenroles` among them; finalizers for blockOwnerDeletion). `*` also covers `miniapps/reveal`, which it neither uses nor hands out: ' +
      "the data-protection API authorizes its callers, and a holder of the operator's token could read the key-encryption key anyway.",
  },
  {
    scope: 'cluster',
    rule: { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'] },
    why:
      "It creates and deletes organizations' and tenants' namespaces, and adopts opted-in ones and releases them by patching their labels. Their names follow " +
      'organizations and tenants: resourceNames cannot limit it. No `update`: it writes with server-side apply (`patch`).',
  },
  {
    scope: 'cluster',
    rule: { apiGroups: [''], resources: ['resourcequotas'], verbs: ['list', 'watch', 'create', 'patch'] },
    why:
      'The ResourceQuota `miniapps-quota` (PlatformConfig `spec.quotas.namespace`: how many ApiKeys and Secrets) in each organization and tenant namespace it creates: ' +
      'it watches those it made and writes them with server-side apply (`patch`, and `create` when that makes the object; no `update`). Their namespaces follow organizations and tenants: resourceNames cannot limit it.',
  },
  {
    scope: 'cluster',
    rule: { apiGroups: [RBAC_GROUP], resources: RBAC_RESOURCES, verbs: ['list', 'watch', 'create', 'patch', 'delete'] },
    why:
      "The role table: Roles and RoleBindings in organization and tenant namespaces, the provisioning administrators', the tenant administrators' and each " +
      "Organization's ClusterRoles and bindings, its own RoleBinding in each organization namespace. It watches those it made, writes them with server-side " +
      'apply (`patch`, and `create` when that makes the object; no `update`) and deletes those nobody holds any more. Their names follow organizations and members: resourceNames cannot limit it.',
  },
  {
    scope: 'cluster',
    rule: { apiGroups: [RBAC_GROUP], resources: ['rolebindings'], verbs: ['get'], resourceNames: [ACCESS_BINDING] },
    why:
      `Its own RoleBinding \`${ACCESS_BINDING}\` in a namespace being deleted, read to remove the finalizer that keeps its access there until nothing it ` +
      'reconciles is left (a mini app still has its data key to shred).',
  },
  {
    scope: 'cluster',
    rule: { apiGroups: [RBAC_GROUP], resources: ['clusterroles'], verbs: ['bind'], resourceNames: [NAMESPACE_ACCESS_ROLE] },
    why:
      `It binds \`${NAMESPACE_ACCESS_ROLE}\` to itself in each organization namespace (RoleBinding \`${ACCESS_BINDING}\`), which it could not ` +
      'otherwise, not holding Secrets and ConfigMaps cluster-wide. The only `bind`; there is no `escalate`.',
  },
  {
    scope: 'cluster',
    rule: { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create'] },
    why: 'Normal and Warning events on the objects it reconciles (in `default` for cluster-scoped ones); each is a new Event (no `patch`).',
  },
  {
    scope: 'cluster',
    rule: { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
    why: "The data-protection API (protect, reveal) asks whether the caller may `get` the MiniApp or `create` `miniapps/reveal`, the API key verify endpoint whether the caller may `create` `apikeys/verify`, the token-roles API whether they may `get` `users/tokenroles`, and `/metrics` whether they may `get` the non-resource URL `/metrics`, so a caller never uses the operator's own rights.",
  },
  {
    scope: 'cluster',
    rule: { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
    why: "The data-protection API, the API key verify endpoint, the token-roles API and `/metrics` authenticate their callers' bearer tokens (whose ServiceAccount token is it).",
  },
  {
    scope: 'cluster',
    rule: { apiGroups: ['admissionregistration.k8s.io'], resources: ['validatingwebhookconfigurations'], verbs: ['get', 'patch'], resourceNames: [FULLNAME] },
    why: "When it generates the webhook's certificate (no cert-manager, no caBundle of yours), the leader writes the CA bundle into the caBundle of the chart's ValidatingWebhookConfiguration, and puts it back if it was changed; no other webhook configuration.",
  },
  {
    scope: 'namespaceAccess',
    rule: { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'watch', 'create', 'patch', 'delete'] },
    why:
      "Mini apps' wrapped data keys (made, rewrapped when the key-encryption key rotates, shredded with the mini app), API keys (one immutable Secret per key revision), " +
      "Secret icons, in the namespaces it manages only. Holding `get` and `watch` there also lets it give an API key's owner that Secret by name. Names follow mini apps and keys: no resourceNames.",
  },
  {
    scope: 'namespaceAccess',
    rule: { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'create', 'patch'] },
    why: "Organization icons and solutions' manifests (read), super apps' catalogs (applied) and their immutable snapshots (created), in the namespaces it manages only. Holding `get` there also lets it give the people who manage a super app its catalogs, by name.",
  },
  {
    scope: 'namespaceAccess',
    rule: { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['get', 'list', 'watch'] },
    why: "Not used by the operator: held so that it may give an organization's administrators (who read every object there) the events of their namespace. RBAC cannot limit events to the objects they regard, so other members get none (docs/people.md).",
  },
  {
    scope: 'ownNamespace',
    rule: { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch', 'create', 'delete'] },
    why:
      "`list`: the cache of the embedded identity provider's accounts (label miniapps.dev/account: an API key of a suspended account stops), which looks here when `identity.enabled` is false (it finds none) and in `identity.namespace` otherwise. " +
      "The invitation signing key `miniapps-operator-invitation-key`, the API keys' seal key, the key-encryption key and the token signing key (made on first start), " +
      "the webhook certificate, the SMTP credentials, and the API keys of provisioning administrators (their ApiKeys live here: `get` and `watch` are also what it gives a key's owner by name; " +
      "`delete` removes a rotated-out key's Secret). Names follow the ApiKeys: no resourceNames.",
  },
  {
    scope: 'ownNamespace',
    rule: { apiGroups: [''], resources: ['secrets'], verbs: ['patch'], resourceNames: [KEK_SECRET, TOKEN_SIGNING_SECRET, WEBHOOK_CERT_SECRET] },
    why: "Rotation: a new version of the key-encryption key ring, of the token signing keys and of the generated webhook certificate (the chart's Secret `webhook.certSecretName`), written with compare-and-swap.",
  },
  {
    scope: 'identityNamespace',
    rule: { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
    why:
      "With `identity.enabled` only, in the provider's namespace alone: the accounts' private halves (`account-<id>`, `tenant-account-<id>`), made when an invitee creates their account and for each User, cached (`list`, `watch`: label miniapps.dev/account) for their suspension (an API key of a suspended account stops), patched (suspension, whose Account it is), replaced with compare-and-swap (when a set-password email went) and deleted with their User; " +
      "the provider's signing keys `miniapps-identity-keys`, read and rotated (`update`) to sign set-password links; lockouts ended when an invitee signs in. Names follow accounts: no resourceNames.",
  },
  {
    scope: 'ownNamespace',
    rule: { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
    why:
      'Leader election: it creates the Lease `leaderElection.id` when there is none (RBAC cannot name what is created). ' +
      'Claims of app and listing ids: one Lease per id (`miniapps-appid-<digest>`, `miniapps-listing-<digest>`), created once for the organization that claims it first and owned by it (deleted with it by the garbage collector); a 409 means another organization holds it.',
  },
  {
    scope: 'ownNamespace',
    rule: { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['list', 'watch'] },
    why: 'Claims of app and listing ids: the cache of who holds which id (the Leases labelled `miniapps.dev/id-claim`), which the webhook and every controller read. Only in its own namespace, where only it writes.',
  },
  {
    scope: 'ownNamespace',
    rule: { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'update'], resourceNames: [LEASE_NAME] },
    why: 'Leader election: it reads and renews the Lease `leaderElection.id`, and no other.',
  },
];

/** The embedded identity provider's permissions (identity.enabled), bound to its own ServiceAccount `<fullname>-identity`. */
export const IDENTITY_PERMISSIONS: readonly Grant[] = [
  {
    scope: 'identityCluster',
    rule: { apiGroups: [GROUP], resources: ['appmanifests', 'organizations', 'solutions', 'subscriptions', 'tenants', 'usergroups', 'users'], verbs: ['list', 'watch'] },
    why:
      "Its caches of what a frontend app's token is made from: AppManifests (the apps, its clients by appId), Organizations, Solutions, Tenants and Subscriptions (whether the person's tenant may use the app), Users and UserGroups (the roles in the token). " +
      'Read only: it writes no miniapps.dev object and reads no Secret or ConfigMap outside its namespace.',
  },
  {
    scope: 'identityOwn',
    rule: { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'create', 'update', 'patch', 'delete'] },
    why:
      "Its state, in its own namespace only: accounts read (`list` by label: a user name, a tenant user's email) and their passwords patched on reset; sessions, grants, codes, refresh tokens and device codes (one Secret each: made, replaced with compare-and-swap, swept when expired); " +
      'its signing keys `miniapps-identity-keys` (made on first start, rotated); lockouts (applied, ended). Names follow accounts and tokens: no resourceNames. No `watch`: it keeps no cache of Secrets.',
  },
  {
    scope: 'identityRelease',
    rule: { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['list', 'watch'] },
    why: "Claims of app ids (the operator's Leases labelled `miniapps.dev/id-claim`): which AppManifest holds a frontend app's client id. Read only.",
  },
  {
    scope: 'identityRelease',
    rule: { apiGroups: [''], resources: ['secrets'], verbs: ['get'], resourceNames: [SMTP_SECRET] },
    why: 'With `invitations.smtp.credentialsSecret` only: the SMTP credentials of password-reset emails, by name.',
  },
  {
    scope: 'identityRelease',
    rule: { apiGroups: [''], resources: ['secrets'], verbs: ['get'], resourceNames: [IDENTITY_CERT_SECRET] },
    why: "With `identity.certSecretName` only: its listener's certificate (e.g. cert-manager's), read again when renewed, by name. No other Secret of the release namespace.",
  },
];

/**
 * The single permissions of the chart's grants that the flows of operator/itest/helm.itest.ts
 * (every controller and API, run as the chart's ServiceAccount) neither request nor need to
 * hand out or bind, each with why it stays. That test fails when this list and what the
 * flows left unused differ, either way. Written as the test prints them:
 * `<role kind> <role name>: <verb> <group>/<resource> (<name>)`.
 */
export const UNEXERCISED_GRANTS: readonly { grant: string; why: string }[] = [];

/** The rules of one of the chart's roles, in the order the template lists them. */
export function rulesOf(scope: Scope): PolicyRule[] {
  return [...OPERATOR_PERMISSIONS, ...IDENTITY_PERMISSIONS].filter((g) => g.scope === scope).map((g) => g.rule);
}

/** `miniapps.dev` `*`: get, list (only `name`): a rule as the README's table writes it. */
export function grantText(rule: PolicyRule): string {
  const code = (s: string) => `\`${s}\``;
  const groups = rule.apiGroups.map((g) => (g === '' ? 'core' : code(g))).join(', ');
  const names = rule.resourceNames?.length ? ` (only ${rule.resourceNames.map(code).join(', ')})` : '';
  return `${groups} ${rule.resources.map(code).join(', ')}: ${rule.verbs.join(', ')}${names}`;
}

/** A table of docs/design/permissions.md ("Operator permissions", or the identity provider's): grant, scope, why. */
export function permissionTable(grants: readonly Grant[] = OPERATOR_PERMISSIONS): [grant: string, scope: string, why: string][] {
  return grants.map((g) => [grantText(g.rule), SCOPES[g.scope].text, g.why]);
}
