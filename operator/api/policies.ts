// Who may change what, enforced by the API server itself: ValidatingAdmissionPolicies
// (CEL evaluated in kube-apiserver, GA since Kubernetes 1.30). Unlike the operator's
// webhook (failurePolicy Ignore, rules that need the operator's caches), these hold
// while the operator is down, and they decide with the cluster's authorizer, so a
// group or a ServiceAccount bound to a role counts exactly as RBAC says.
//
// The same objects are installed by the operator itself out of cluster (as it
// registers its webhook) and by the Helm chart in cluster: `npm run generate` writes
// charts/miniapps-operator/templates/admission-policies.yaml from this module.
//
// Plain data, no TypeBox: the operator process imports it.

import { API_KEY_OWNER_SUBRESOURCE, API_KEY_WIDENING_FIELDS, API_VERSION, CONFIGMAPS_SUBRESOURCE, CONFIRM_DELETE_ANNOTATION, MANIFEST_LABEL, OFFERED_SOLUTIONS_ANNOTATION, CONFIRM_DELETE_VALUE, GROUP, INVITED_BY_ANNOTATION, KIND_NAMES, PLATFORM_CONFIG_NAME, PROVISIONING_SUBRESOURCE, RESERVED_NAMESPACES } from './constants.ts';

const ADMISSION_API_VERSION = 'admissionregistration.k8s.io/v1';

export type PolicyObject = {
  apiVersion: string;
  kind: 'ValidatingAdmissionPolicy' | 'ValidatingAdmissionPolicyBinding';
  metadata: { name: string; labels: Record<string, string> };
  spec: Record<string, unknown>;
};

interface Validation {
  expression: string;
  messageExpression: string;
  reason: 'Forbidden' | 'Invalid';
}

const LABELS = { 'app.kubernetes.io/managed-by': 'miniapps-operator', 'app.kubernetes.io/part-of': 'miniapps-operator' };

/** CEL string literal (single-quoted; the values here never hold quotes or backslashes). */
const lit = (s: string) => {
  if (/['\\]/.test(s)) throw new Error(`Cannot quote ${JSON.stringify(s)} as a CEL literal`);
  return `'${s}'`;
};

function policy(
  name: string,
  spec: {
    apiGroups?: string[];
    resources: string[];
    operations: string[];
    matchConditions?: { name: string; expression: string }[];
    variables?: { name: string; expression: string }[];
    validations: Validation[];
    /** A cluster-scoped object whose fields the expressions read as `params`, by name. */
    params?: { apiVersion: string; kind: string; name: string };
    /** Only objects in namespaces with this label (key: any value). */
    namespaceLabel?: string;
  },
): PolicyObject[] {
  return [
    {
      apiVersion: ADMISSION_API_VERSION,
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name, labels: LABELS },
      spec: {
        // A policy that cannot be evaluated refuses: these rules are about authority.
        failurePolicy: 'Fail',
        matchConstraints: {
          resourceRules: [{ apiGroups: spec.apiGroups ?? [GROUP], apiVersions: ['*'], operations: spec.operations, resources: spec.resources }],
          ...(spec.namespaceLabel ? { namespaceSelector: { matchExpressions: [{ key: spec.namespaceLabel, operator: 'Exists' }] } } : {}),
        },
        ...(spec.params ? { paramKind: { apiVersion: spec.params.apiVersion, kind: spec.params.kind } } : {}),
        ...(spec.matchConditions ? { matchConditions: spec.matchConditions } : {}),
        ...(spec.variables ? { variables: spec.variables } : {}),
        validations: spec.validations,
      },
    },
    {
      apiVersion: ADMISSION_API_VERSION,
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name, labels: LABELS },
      spec: {
        policyName: name,
        validationActions: ['Deny'],
        // Without the object there is nothing to decide with: refuse (failurePolicy Fail).
        ...(spec.params ? { paramRef: { name: spec.params.name, parameterNotFoundAction: 'Deny' } } : {}),
      },
    },
  ];
}

/** Names of the cluster-wide policies (the operator-namespace one is named per namespace). */
export const PolicyNames = {
  provisioning: `${GROUP}-organization-provisioning`,
  invitedBy: `${GROUP}-membership-invited-by`,
  confirmDelete: (kind: 'Organization' | 'MiniApp') => `${GROUP}-${kind.toLowerCase()}-confirm-delete`,
  apiKeyOwner: `${GROUP}-apikey-owner`,
  tenantNamespace: `${GROUP}-tenant-namespace`,
  manifestSource: `${GROUP}-manifest-source`,
  operatorNamespace: (operatorNamespace: string) => `${GROUP}-operator-namespace.${operatorNamespace}`,
  namespaceAccess: (operatorNamespace: string) => `${GROUP}-namespace-access.${operatorNamespace}`,
  statusWriter: `${GROUP}-status-writer`,
  subscriptionOffered: `${GROUP}-subscription-offered`,
  manifestArtifacts: `${GROUP}-manifest-artifacts`,
} as const;

/**
 * An Organization's `capabilities` and `miniAppTargets` are the provisioning
 * administrators' decision: changing them needs RBAC `update` on the virtual
 * subresource `organizations/provisioning` of that Organization, which the
 * `miniapps:provisioning-administrator` ClusterRole grants (and `system:masters`
 * holds). An organization's own administrators, whom RBAC lets update the
 * Organization, can change everything else.
 */
function provisioningPolicy(): PolicyObject[] {
  const field = (f: 'capabilities' | 'miniAppTargets'): Validation => ({
    expression: `variables.provisioner || object.spec.?${f} == oldObject.spec.?${f}`,
    messageExpression:
      `'Only provisioning administrators may change spec.${f} of Organization ' + object.metadata.name + ` +
      `' (it needs RBAC update on ${GROUP} organizations/${PROVISIONING_SUBRESOURCE}, which ClusterRole miniapps:provisioning-administrator grants)'`,
    reason: 'Forbidden',
  });
  return policy(PolicyNames.provisioning, {
    resources: ['organizations'],
    operations: ['UPDATE'],
    variables: [
      {
        name: 'provisioner',
        // Variables are evaluated lazily: the authorizer is asked only when a field changed.
        expression: `authorizer.group(${lit(GROUP)}).resource('organizations').subresource(${lit(PROVISIONING_SUBRESOURCE)}).name(object.metadata.name).check('update').allowed()`,
      },
    ],
    validations: [field('capabilities'), field('miniAppTargets')],
  });
}

/**
 * `miniapps.dev/invited-by` names who invited the person, and the invitation email shows
 * it: the API server accepts as its value only the authenticated username of whoever
 * sets it, so it cannot be used to put words in someone else's mouth.
 */
function invitedByPolicy(): PolicyObject[] {
  const key = lit(INVITED_BY_ANNOTATION);
  return policy(PolicyNames.invitedBy, {
    resources: ['memberships'],
    operations: ['CREATE', 'UPDATE'],
    variables: [
      { name: 'inviter', expression: `object.metadata.?annotations[?${key}]` },
      { name: 'before', expression: `request.operation == 'UPDATE' ? oldObject.metadata.?annotations[?${key}] : optional.none()` },
    ],
    validations: [
      {
        expression: `!variables.inviter.hasValue() || variables.inviter == variables.before || variables.inviter.value() == request.userInfo.username`,
        messageExpression:
          `'The annotation ${INVITED_BY_ANNOTATION} must be your own username (' + request.userInfo.username + '), or left out: ' + ` +
          `'it names the inviter in the invitation email'`,
        reason: 'Forbidden',
      },
    ],
  });
}

/** What a confirmed deletion removes, for the refusal message. */
interface ConfirmedDeletion {
  kind: 'Organization' | 'MiniApp';
  resource: string;
  /** What deleting it does, e.g. "deletes its namespace and everything in it". */
  consequence: string;
  /**
   * For a namespaced kind: no confirmation while its namespace is being deleted (the
   * namespace controller deletes what is in it; the namespace's deletion was the decision).
   */
  exemptWhileNamespaceTerminates?: boolean;
}

/**
 * Deleting an Organization deletes its namespace and everything in it; deleting a MiniApp
 * takes it out of every catalog and destroys its data key: the API server refuses either
 * unless the object carries `miniapps.dev/confirm-delete: CONFIRM DELETE` (the operator's
 * finalizer also holds an unconfirmed deletion, should this policy be missing).
 */
function confirmDeletePolicy(d: ConfirmedDeletion): PolicyObject[] {
  const confirmed = `oldObject.metadata.?annotations[?${lit(CONFIRM_DELETE_ANNOTATION)}].orValue('') == ${lit(CONFIRM_DELETE_VALUE)}`;
  const namespaceGoing = `(namespaceObject != null && namespaceObject.metadata.?deletionTimestamp.hasValue())`;
  const ns = d.exemptWhileNamespaceTerminates ? ` + ' -n ' + oldObject.metadata.namespace` : '';
  return policy(PolicyNames.confirmDelete(d.kind), {
    resources: [d.resource],
    operations: ['DELETE'],
    validations: [
      {
        expression: d.exemptWhileNamespaceTerminates ? `${namespaceGoing} || ${confirmed}` : confirmed,
        messageExpression:
          `'Deleting ${d.kind} ' + oldObject.metadata.name + ' ${d.consequence}; to confirm, annotate it first: ' + ` +
          `'kubectl annotate ${d.kind.toLowerCase()} ' + oldObject.metadata.name${ns} + ' ${CONFIRM_DELETE_ANNOTATION}="${CONFIRM_DELETE_VALUE}"'`,
        reason: 'Forbidden',
      },
    ],
  });
}

const CONFIRMED_DELETIONS: readonly ConfirmedDeletion[] = [
  { kind: 'Organization', resource: 'organizations', consequence: 'deletes its namespace and everything in it' },
  { kind: 'MiniApp', resource: 'miniapps', consequence: 'takes it out of every catalog and destroys its data key (what it encrypted can never be revealed again)', exemptWhileNamespaceTerminates: true },
];

/**
 * An API key authenticates as its owner, so who may hold a key for whom is a rule about
 * authority: the API server accepts an ApiKey whose spec.owner is the requester
 * (PlatformConfig userPrefix + the email in ASCII lowercase is their username); or from a
 * provisioning administrator (RBAC `update` on `organizations/provisioning`, which only
 * ClusterRole miniapps:provisioning-administrator grants); or from a requester RBAC allows
 * `update` on the virtual subresource `apikeys/owner` in the key's namespace (the
 * organization's administrators, the role table), unless the owner is a provisioning
 * administrator (PlatformConfig provisioningAdministrators.users): a key that
 * authenticates as someone who runs the platform is made or widened only by a
 * provisioning administrator; an organization administrator may still revoke it or
 * change its description. That the owner of anyone else's key is an active member needs
 * the operator's caches: the webhook refuses it and the reconciler issues no key for it.
 * The PlatformConfig `default` is the policy's parameter; without it ApiKeys are refused.
 * Deletions are RBAC's alone: a member who is not an administrator may reach only their
 * own keys, by name.
 */
function apiKeyOwnerPolicy(): PolicyObject[] {
  const unchanged = (f: string) => `object.spec.?${f} == oldObject.spec.?${f}`;
  return policy(PolicyNames.apiKeyOwner, {
    resources: ['apikeys'],
    operations: ['CREATE', 'UPDATE'],
    params: { apiVersion: API_VERSION, kind: KIND_NAMES.PlatformConfig.kind, name: PLATFORM_CONFIG_NAME },
    variables: [
      { name: 'own', expression: `request.userInfo.username == params.spec.?userPrefix.orValue('') + object.spec.owner.lowerAscii()` },
      { name: 'provisioner', expression: `authorizer.group(${lit(GROUP)}).resource('organizations').subresource(${lit(PROVISIONING_SUBRESOURCE)}).check('update').allowed()` },
      {
        name: 'delegated',
        expression: `authorizer.group(${lit(GROUP)}).resource('apikeys').subresource(${lit(API_KEY_OWNER_SUBRESOURCE)}).namespace(object.metadata.namespace).check('update').allowed()`,
      },
      { name: 'ownerRunsPlatform', expression: `params.spec.?provisioningAdministrators.?users.orValue([]).exists(u, u.lowerAscii() == object.spec.owner.lowerAscii())` },
      // Revoking, or a new description: what an organization administrator may still do to such a key.
      { name: 'notWidened', expression: `request.operation == 'UPDATE' && ${API_KEY_WIDENING_FIELDS.map(unchanged).join(' && ')}` },
    ],
    validations: [
      {
        expression: 'variables.own || variables.provisioner || variables.delegated',
        messageExpression:
          `'ApiKey ' + object.metadata.name + ' is for ' + object.spec.owner + ', and you are ' + request.userInfo.username + ': ' + ` +
          `'a key for someone else may be created or changed only by an administrator of the organization (for its members) or a provisioning administrator (for anyone); ' + ` +
          `'it needs RBAC update on ${GROUP} apikeys/${API_KEY_OWNER_SUBRESOURCE} in namespace ' + object.metadata.namespace`,
        reason: 'Forbidden',
      },
      {
        expression: 'variables.own || variables.provisioner || !variables.ownerRunsPlatform || variables.notWidened',
        messageExpression:
          `'ApiKey ' + object.metadata.name + ' is for ' + object.spec.owner + ', a provisioning administrator, and you are ' + request.userInfo.username + ': ' + ` +
          `'a key that authenticates as a provisioning administrator is created or widened (scopes, ttl, expiresAt, rotation) only by a provisioning administrator; you may revoke it'`,
        reason: 'Forbidden',
      },
    ],
  });
}

/**
 * A Solution or AppManifest with `spec.manifestFrom` has the operator read a ConfigMap of
 * its namespace with the operator's own access, and report what it holds (the problems'
 * places and fields, and a good manifest whole in status, which every member reads). The
 * role table grants nobody ConfigMaps, so the API server accepts a ConfigMap reference only
 * from someone RBAC lets `get` that ConfigMap: when the object is made with one, or the
 * reference changes (edits of other fields, and of the ConfigMap itself, need nothing more).
 */
function manifestSourcePolicy(): PolicyObject[] {
  return policy(PolicyNames.manifestSource, {
    resources: ['solutions', 'appmanifests'],
    operations: ['CREATE', 'UPDATE'],
    matchConditions: [
      {
        name: 'names-a-configmap',
        expression: `has(object.spec.manifestFrom) && (request.operation == 'CREATE' || !has(oldObject.spec.manifestFrom) || oldObject.spec.manifestFrom != object.spec.manifestFrom)`,
      },
    ],
    validations: [
      {
        expression: `authorizer.group('').resource('configmaps').namespace(object.metadata.namespace).name(object.spec.manifestFrom.configMapKeyRef.name).check('get').allowed()`,
        messageExpression:
          `request.kind.kind + ' ' + object.metadata.name + ' reads its manifest from ConfigMap ' + object.spec.manifestFrom.configMapKeyRef.name + ', which you may not read: ' + ` +
          `'the operator reads a ConfigMap only for someone RBAC lets get it (get on configmaps in namespace ' + object.metadata.namespace + '); put the manifest inline, or ask for that access'`,
        reason: 'Forbidden',
      },
    ],
  });
}

/**
 * Subscriptions, UserGroups and Users belong in a tenant's namespace (api.md: "Kinds in a
 * tenant's namespace"): the API server refuses to create one anywhere else, so a
 * Subscription in an organization's namespace or a stray one is an error at `kubectl
 * apply`, not a Stalled condition found later. A tenant's namespace is one labelled
 * `miniapps.dev/tenant` (the operator labels the namespace it creates or adopts for a
 * Tenant). Labelling namespaces is a cluster administrator's power (namespaces are
 * cluster-scoped; no role of the role table grants it); a label put on by hand lets the
 * object in, but the controllers still act only for a Tenant whose status names the
 * namespace, and report the object NotInTenant otherwise.
 */
function tenantNamespacePolicy(): PolicyObject[] {
  const label = lit(`${GROUP}/tenant`);
  return policy(PolicyNames.tenantNamespace, {
    resources: ['subscriptions', 'usergroups', 'users'],
    operations: ['CREATE'],
    validations: [
      {
        expression: `namespaceObject != null && namespaceObject.metadata.?labels[?${label}].orValue('') != ''`,
        messageExpression:
          `request.kind.kind + ' ' + object.metadata.name + ' must be created in the namespace of a Tenant, and namespace ' + request.namespace + ' is not one ' + ` +
          `'(it has no label ${GROUP}/tenant): create it in the namespace of its Tenant (kubectl get tenants shows the NAMESPACE of each)'`,
        reason: 'Invalid',
      },
    ],
  });
}

/**
 * Seed 003: a tenant subscribes only to a solution offered to it. The solution's owners
 * offer it (Solution spec.onboarding: tenants by name, or stacks); the operator records the
 * offers on the tenant's namespace (annotation miniapps.dev/offered-solutions, which tenant
 * administrators cannot write). A Subscription may name a solution (when made, or when
 * spec.solution changes) only if it is listed there, unless the requester is a provisioning
 * administrator (RBAC update on organizations/provisioning: they run the platform, and the
 * plugin's `onboard` subscribes tenants directly for them). An offer withdrawn while the
 * operator is down stays on the namespace until it is back; an offer never appears without
 * the operator (the API server refuses meanwhile).
 */
function subscriptionOfferedPolicy(): PolicyObject[] {
  const offered = `namespaceObject.metadata.?annotations[?${lit(OFFERED_SOLUTIONS_ANNOTATION)}].orValue('')`;
  return policy(PolicyNames.subscriptionOffered, {
    resources: ['subscriptions'],
    operations: ['CREATE', 'UPDATE'],
    matchConditions: [{ name: 'names-a-solution', expression: `request.operation == 'CREATE' || oldObject.spec.solution != object.spec.solution` }],
    variables: [
      { name: 'solution', expression: `object.spec.solution.organization + '/' + object.spec.solution.name` },
      { name: 'provisioner', expression: `authorizer.group(${lit(GROUP)}).resource('organizations').subresource(${lit(PROVISIONING_SUBRESOURCE)}).check('update').allowed()` },
    ],
    validations: [
      {
        expression: `variables.provisioner || (namespaceObject != null && ${offered}.split(' ').exists(s, s == variables.solution))`,
        messageExpression:
          `'Solution ' + variables.solution + ' is not offered to the tenant of namespace ' + request.namespace + ': a tenant subscribes only to a solution onboarded to it ' + ` +
          `'(its owners name the tenant, or its stack, in the Solution\\'s spec.onboarding; the namespace\\'s annotation ${OFFERED_SOLUTIONS_ANNOTATION} lists the offers)'`,
        reason: 'Forbidden',
      },
    ],
  });
}

/**
 * Seed 003: "only the solution owners will be able to update their solution level manifest
 * file, the same is true for app level manifest (only the app developers)". Members who may
 * write Solutions or AppManifests get RBAC get/create/patch on ConfigMaps of their
 * organization's namespace (the role table); this policy narrows that to manifest
 * artifacts: a ConfigMap labelled miniapps.dev/manifest `solution` (needs update on
 * solutions there: the solution's owners) or `app` (update on appmanifests: the app's
 * developers), before and after the change. Catalogs, snapshots and icons stay the
 * operator's and the administrators': whoever RBAC allows update on the virtual
 * subresource organizations/configmaps of the namespace's Organization (the operator, a
 * cluster administrator) is not limited.
 */
function manifestArtifactsPolicy(): PolicyObject[] {
  const label = lit(MANIFEST_LABEL);
  const orgLabel = lit(`${GROUP}/organization`);
  const kinds = `['solution', 'app']`;
  const may = (v: string) => `(${v} == 'solution' ? variables.mayUpdateSolutions : variables.mayUpdateApps)`;
  return policy(PolicyNames.manifestArtifacts, {
    // Only organizations' namespaces (not a label selector on the ConfigMaps: an unlabelled one is what is refused).
    namespaceLabel: `${GROUP}/organization`,
    apiGroups: [''],
    resources: ['configmaps'],
    operations: ['CREATE', 'UPDATE', 'DELETE'],
    // (namespaceObject is not given to matchConditions: the namespace is looked at in the variables.)
    variables: [
      { name: 'organization', expression: `namespaceObject == null ? '' : namespaceObject.metadata.?labels[?${orgLabel}].orValue('')` },
      {
        name: 'limited',
        expression: `variables.organization != '' && !authorizer.group(${lit(GROUP)}).resource('organizations').subresource(${lit(CONFIGMAPS_SUBRESOURCE)}).name(variables.organization).check('update').allowed()`,
      },
      { name: 'after', expression: `request.operation == 'DELETE' ? 'none' : object.metadata.?labels[?${label}].orValue('')` },
      { name: 'before', expression: `request.operation == 'CREATE' ? 'none' : oldObject.metadata.?labels[?${label}].orValue('')` },
      { name: 'mayUpdateSolutions', expression: `authorizer.group(${lit(GROUP)}).resource('solutions').namespace(request.namespace).check('update').allowed()` },
      { name: 'mayUpdateApps', expression: `authorizer.group(${lit(GROUP)}).resource('appmanifests').namespace(request.namespace).check('update').allowed()` },
    ],
    validations: [
      {
        expression: `!variables.limited || ((variables.after == 'none' || variables.after in ${kinds}) && (variables.before == 'none' || variables.before in ${kinds}))`,
        messageExpression:
          `'In namespace ' + request.namespace + ' you may write only manifest ConfigMaps: label ConfigMap ' + (request.operation == 'DELETE' ? oldObject.metadata.name : object.metadata.name) + ' ${MANIFEST_LABEL}: solution (a solution manifest) or app (an app manifest), ' + ` +
          `'on the ConfigMap you write and on the one it replaces; other ConfigMaps (catalogs, snapshots, icons) are the operator\\'s and the administrators\\''`,
        reason: 'Forbidden',
      },
      {
        expression: `!variables.limited || ((variables.after == 'none' || ${may('variables.after')}) && (variables.before == 'none' || ${may('variables.before')}))`,
        messageExpression:
          `'ConfigMap ' + (request.operation == 'DELETE' ? oldObject.metadata.name : object.metadata.name) + ' holds ' + (variables.after == 'solution' || variables.before == 'solution' ? 'a solution' : 'an app') + ' manifest: ' + ` +
          `'only who may update ' + (variables.after == 'solution' || variables.before == 'solution' ? 'Solutions (the solution\\'s owners: organization and super app administrators)' : 'AppManifests (the app\\'s developers: organization administrators and mini app developers)') + ' in namespace ' + request.namespace + ' writes it'`,
        reason: 'Forbidden',
      },
    ],
  });
}

/**
 * The operator's own namespace holds its Lease and its keys: no Organization or Tenant
 * may name it. (`default` and `kube-*` are refused by the CRDs' own rules.)
 */
function operatorNamespacePolicy(operatorNamespace: string): PolicyObject[] {
  return policy(PolicyNames.operatorNamespace(operatorNamespace), {
    resources: ['organizations', 'tenants'],
    operations: ['CREATE', 'UPDATE'],
    validations: [
      {
        // `namespace` is a CEL reserved word: index by name (unlike CRD rules, admission
        // policies do not see it as `__namespace__`).
        expression: `object.spec[?'namespace'].orValue('') != ${lit(operatorNamespace)}`,
        messageExpression: `'spec.namespace may not be ' + ${lit(operatorNamespace)} + ': it is the miniapps operator\\'s own namespace; choose another name'`,
        reason: 'Forbidden',
      },
    ],
  });
}

/** The operator's own access inside the namespaces it manages (in cluster: the chart's ServiceAccount and ClusterRole). */
export interface NamespaceAccessIdentity {
  serviceAccount: { namespace: string; name: string };
  clusterRole: string;
  /** The RoleBinding the operator makes in each namespace it manages. */
  bindingName: string;
}

/**
 * The operator may `bind` the namespace-access ClusterRole (Secrets and ConfigMaps), so
 * that it can give itself that access in the namespaces it manages. RBAC cannot say
 * where or to whom: a stolen operator token could bind it cluster-wide. The API server
 * therefore accepts a binding of that ClusterRole only as the operator makes it: a
 * RoleBinding named `bindingName` whose one subject is the operator's ServiceAccount.
 */
function namespaceAccessPolicy(operatorNamespace: string, access: NamespaceAccessIdentity): PolicyObject[] {
  const sa = access.serviceAccount;
  return policy(PolicyNames.namespaceAccess(operatorNamespace), {
    apiGroups: ['rbac.authorization.k8s.io'],
    resources: ['rolebindings', 'clusterrolebindings'],
    operations: ['CREATE', 'UPDATE'],
    matchConditions: [{ name: 'binds-namespace-access', expression: `object.roleRef.kind == 'ClusterRole' && object.roleRef.name == ${lit(access.clusterRole)}` }],
    validations: [
      {
        expression:
          `request.kind.kind == 'RoleBinding' && object.metadata.name == ${lit(access.bindingName)} && has(object.subjects) && object.subjects.size() == 1 && ` +
          `object.subjects[0].kind == 'ServiceAccount' && object.subjects[0].name == ${lit(sa.name)} && object.subjects[0].namespace == ${lit(sa.namespace)} && ` +
          // Only in a namespace of an organization or tenant, never one of the cluster's own.
          `namespaceObject != null && !namespaceObject.metadata.name.startsWith(${lit(RESERVED_NAMESPACES.prefix)}) && ` +
          `!(namespaceObject.metadata.name in ${JSON.stringify(RESERVED_NAMESPACES.exact).replaceAll('"', "'")}) && ` +
          `(namespaceObject.metadata.?labels[?${lit(`${GROUP}/organization`)}].hasValue() || namespaceObject.metadata.?labels[?${lit(`${GROUP}/tenant`)}].hasValue())`,
        messageExpression:
          `'ClusterRole ' + ${lit(access.clusterRole)} + ' grants Secrets and ConfigMaps: it may be bound only by a RoleBinding named ' + ${lit(access.bindingName)} + ` +
          `' to the ServiceAccount ' + ${lit(`${sa.namespace}/${sa.name}`)} + ', in the namespace of an organization or tenant (the miniapps operator in a namespace it manages)'`,
        reason: 'Forbidden',
      },
    ],
  });
}

/**
 * Status is what the operator observed, and other kinds and the API key verifier read it
 * (an Organization's namespace, a Solution's last good manifest, a catalog's ConfigMap, a
 * key's id and hash): the API server accepts a write to the status of any miniapps.dev
 * kind from the operator's own identity only. In cluster that is the chart's
 * ServiceAccount (`system:serviceaccount:<namespace>:<name>`); out of cluster the user
 * name the API server gives the operator's credentials, which the operator asks for with
 * a SelfSubjectReview at start before it installs this policy. There is deliberately no
 * exception for `system:masters`: a cluster administrator who must write status removes
 * the binding first, on purpose and in the audit log, and an operator that runs with a
 * `system:masters` credential passes by its user name like any other.
 */
function statusWriterPolicy(operatorUser: string): PolicyObject[] {
  // A CEL string literal: single-quoted when it can be (the chart's ServiceAccount), else JSON's escapes, which CEL reads the same.
  const user = /['\\]/.test(operatorUser) ? JSON.stringify(operatorUser) : lit(operatorUser);
  return policy(PolicyNames.statusWriter, {
    resources: ['*/status'],
    operations: ['UPDATE'],
    validations: [
      {
        expression: `request.userInfo.username == ${user}`,
        messageExpression:
          `'Only the miniapps operator (' + ${user} + ') writes the status of ' + request.kind.kind + ' ' + object.metadata.name + ', and you are ' + request.userInfo.username + ': ' + ` +
          `'status is what the operator observed, and it takes no authority from anything another party writes; change the spec instead'`,
        reason: 'Forbidden',
      },
    ],
  });
}

/**
 * Every policy and binding, for an operator running in `operatorNamespace` (with `access`
 * when it has a ServiceAccount, and the status-writer policy when its user name is known).
 */
export function admissionPolicies(operatorNamespace: string, access?: NamespaceAccessIdentity, operatorUser?: string): PolicyObject[] {
  return [
    ...provisioningPolicy(),
    ...invitedByPolicy(),
    ...CONFIRMED_DELETIONS.flatMap(confirmDeletePolicy),
    ...apiKeyOwnerPolicy(),
    ...tenantNamespacePolicy(),
    ...manifestSourcePolicy(),
    ...subscriptionOfferedPolicy(),
    ...manifestArtifactsPolicy(),
    ...operatorNamespacePolicy(operatorNamespace),
    ...(access ? namespaceAccessPolicy(operatorNamespace, access) : []),
    ...(operatorUser ? statusWriterPolicy(operatorUser) : []),
  ];
}

