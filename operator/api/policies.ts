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
// Each kind's own policies are in api/<kind>/policies.ts (built with api/policy.ts); this
// module holds the ones that span kinds and assembles them all, in a fixed order.
//
// Plain data, no TypeBox: the operator process imports it.

import { GROUP, RESERVED_NAMESPACES } from './constants.ts';
import { PolicyNames, lit, policy, confirmDeletePolicy } from './policy.ts';
import type { PolicyObject } from './policy.ts';
import { provisioningPolicy, ORGANIZATION_DELETION } from './organization/policies.ts';
import { invitedByPolicy } from './membership/policies.ts';
import { MINIAPP_DELETION } from './miniapp/policies.ts';
import { apiKeyOwnerPolicy } from './apikey/policies.ts';

export type { PolicyObject } from './policy.ts';
export { PolicyNames } from './policy.ts';

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
    ...confirmDeletePolicy(ORGANIZATION_DELETION),
    ...confirmDeletePolicy(MINIAPP_DELETION),
    ...apiKeyOwnerPolicy(),
    ...tenantNamespacePolicy(),
    ...manifestSourcePolicy(),
    ...operatorNamespacePolicy(operatorNamespace),
    ...(access ? namespaceAccessPolicy(operatorNamespace, access) : []),
    ...(operatorUser ? statusWriterPolicy(operatorUser) : []),
  ];
}

