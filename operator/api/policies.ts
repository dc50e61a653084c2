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
// Each kind's own policies are in api/<kind>/policies.ts (built with api/policy.ts, exported
// as `<kind>Policies`); this module gathers them in the registry's order (no list of kinds
// here), then adds the ones that span kinds, in a fixed order.
//
// Plain data, no TypeBox: the operator process imports it.

import { API_VERSION, CREATED_BY_ANNOTATION, GROUP, MANIFEST_ARTIFACT_ONLY_ANNOTATION, MANIFEST_LABEL, RESERVED_NAMESPACES } from './constants.ts';
import { existsSync } from 'node:fs';
import { KIND_NAMES, sliceExport, sliceFolder } from './registry.ts';
import type { KindName } from './registry.ts';
import { CONFIGMAPS_SUBRESOURCE, ORGANIZATION_ICON_CONFIGMAP } from './organization/names.ts';
import { PolicyNames, lit, policy } from './policy.ts';
import type { PolicyObject } from './policy.ts';

export type { PolicyObject } from './policy.ts';
export { PolicyNames } from './policy.ts';

// Three of the four rules that must hold while the operator is down (issue 18;
// docs/closed-rules.md) are admission policies that read the objects they depend on LIVE,
// as parameters selected by label (every Organization; every Membership of the request's
// namespace), never a copy the operator keeps: organizationAppsPolicy below (capabilities,
// mini app targets) and membership/policies.ts membershipEmailPolicy. The fourth, the last
// administrator, needs "another active administrator exists", which a policy cannot state
// (each parameter is judged on its own and all must pass): a webhook that fails closed
// (servers/webhook.ts LAST_ADMINISTRATOR_WEBHOOK).

/** The label the operator puts on an organization's namespace, naming the organization. */
const ORGANIZATION_NAMESPACE_LABEL = `${GROUP}/organization`;

/**
 * Capabilities and mini app targets. Every Organization is a parameter (selector `{}`),
 * each judged on its own: only the one whose namespace this is (status.namespace, which
 * only the operator writes, or the namespace's `miniapps.dev/organization` label, which
 * only whoever may label namespaces writes) has a say, and it must allow the request.
 * With no Organization at all no namespace is an organization's, so there is nothing to
 * check against: allowed (`parameterNotFoundAction: Allow`), exactly as in a namespace no
 * Organization claims while others exist. (Deny would refuse every SuperApp and MiniApp
 * create in the cluster, matchConditions notwithstanding: a binding whose parameters are
 * missing refuses before its matchConditions are looked at.)
 *
 * The cost is one small evaluation per Organization for each create of a SuperApp or
 * MiniApp and each MiniApp update that changes spec.superApps (matchConditions; other
 * writes are not judged).
 */
export function organizationAppsPolicy(): PolicyObject[] {
  const label = lit(ORGANIZATION_NAMESPACE_LABEL);
  const orgOf = (ref: string) => `${ref}.?organization.orValue(params.metadata.name)`;
  const sameRef = (a: string, b: string) => `${orgOf(a)} == ${orgOf(b)} && ${a}.name == ${b}.name`;
  return policy(PolicyNames.organizationApps, {
    resources: ['superapps', 'miniapps'],
    operations: ['CREATE', 'UPDATE'],
    params: { apiVersion: API_VERSION, kind: KIND_NAMES.Organization.kind, selector: {}, notFound: 'Allow' },
    matchConditions: [
      {
        name: 'creates-or-retargets',
        expression: `request.operation == 'CREATE' || (request.kind.kind == 'MiniApp' && object.spec.?superApps != oldObject.spec.?superApps)`,
      },
    ],
    variables: [
      {
        name: 'ours',
        // `namespace` is a CEL reserved word: index by name.
        expression:
          `params.?status[?'namespace'].orValue('') == request.namespace || ` + `(namespaceObject != null && namespaceObject.metadata.?labels[?${label}].orValue('') == params.metadata.name)`,
      },
      { name: 'superApp', expression: `request.kind.kind == 'SuperApp'` },
      {
        name: 'capable',
        expression: `variables.superApp ? params.spec.?capabilities.?superApps.orValue(false) : params.spec.?capabilities.?miniApps.orValue(false)`,
      },
      {
        // Targets of another organization that miniAppTargets does not list, and that the object did not already have.
        name: 'refused',
        expression:
          `variables.superApp ? [] : object.spec.?superApps.orValue([]).filter(t, ` +
          `${orgOf('t')} != params.metadata.name && ` +
          `!params.spec.?miniAppTargets.orValue([]).exists(x, x.organization == ${orgOf('t')} && x.name == t.name) && ` +
          `!(request.operation == 'UPDATE' && oldObject.spec.?superApps.orValue([]).exists(o, ${sameRef('o', 't')})))`,
      },
    ],
    validations: [
      {
        expression: `!variables.ours || request.operation != 'CREATE' || variables.capable`,
        messageExpression:
          `'Organization ' + params.metadata.name + ' may not create ' + (variables.superApp ? 'super apps' : 'mini apps') + ` +
          `' (spec.capabilities.' + (variables.superApp ? 'superApps' : 'miniApps') + ' is false); ask a provisioning administrator to grant it'`,
        reason: 'Forbidden',
      },
      {
        expression: `!variables.ours || variables.refused.size() == 0`,
        messageExpression:
          `'spec.superApps: Organization ' + params.metadata.name + ' may not publish mini apps into super app ' + ` +
          `${orgOf('variables.refused[0]')} + '/' + variables.refused[0].name + ` +
          `': it is another organization\\'s and not in spec.miniAppTargets of Organization ' + params.metadata.name + ` +
          `'; a provisioning administrator can add {organization: ' + ${orgOf('variables.refused[0]')} + ', name: ' + variables.refused[0].name + '} there'`,
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
 * Seed 003: members who write manifest artifacts may create and patch ConfigMaps but not
 * read them (a namespace's other ConfigMaps stay unreadable to them); their reference is
 * admitted with the annotation miniapps.dev/manifest-artifact-only "true", and then the
 * operator reads only a ConfigMap labelled as that kind's manifest (which only who may
 * update that kind writes: the manifest-artifacts policy), reporting any other as missing.
 */
function manifestSourcePolicy(): PolicyObject[] {
  const artifactsOnly = (o: string) => `(${o}.metadata.?annotations[?${lit(MANIFEST_ARTIFACT_ONLY_ANNOTATION)}].orValue('') == 'true')`;
  return policy(PolicyNames.manifestSource, {
    resources: ['solutions', 'appmanifests'],
    operations: ['CREATE', 'UPDATE'],
    matchConditions: [
      {
        name: 'names-a-configmap',
        // Also when the artifacts-only annotation goes (seed 003): that widens what the operator reads.
        expression:
          `has(object.spec.manifestFrom) && (request.operation == 'CREATE' || !has(oldObject.spec.manifestFrom) || oldObject.spec.manifestFrom != object.spec.manifestFrom || ` +
          `(${artifactsOnly('oldObject')} && !${artifactsOnly('object')}))`,
      },
    ],
    validations: [
      {
        expression: `${artifactsOnly('object')} || authorizer.group('').resource('configmaps').namespace(object.metadata.namespace).name(object.spec.manifestFrom.configMapKeyRef.name).check('get').allowed()`,
        messageExpression:
          `request.kind.kind + ' ' + object.metadata.name + ' reads its manifest from ConfigMap ' + object.spec.manifestFrom.configMapKeyRef.name + ', which you may not read: ' + ` +
          `'the operator reads a ConfigMap only for someone RBAC lets get it (get on configmaps in namespace ' + object.metadata.namespace + '), or, with the annotation ${MANIFEST_ARTIFACT_ONLY_ANNOTATION}: "true", ' + ` +
          `'only a manifest artifact (a ConfigMap labelled ${MANIFEST_LABEL} with the kind of manifest, which only its owners write); put the manifest inline, set that annotation, or ask for that access'`,
        reason: 'Forbidden',
      },
    ],
  });
}

/**
 * Who created what (App Center's model, docs/people.md), enforced by the API server: the
 * operator makes an Organization's creator its administrator and gives App Center's
 * Collaborators and Members the apps they created, from the annotation
 * miniapps.dev/created-by on an Organization, SuperApp or MiniApp, so the API server
 * accepts there only the requester's own user name at creation, and never a change of it
 * afterwards. And an app made by someone who may not
 * list that kind in the namespace (App Center's Collaborator and Member see only their
 * own apps) must carry it, or they would make an app they cannot see.
 */
function createdByPolicy(): PolicyObject[] {
  const key = lit(CREATED_BY_ANNOTATION);
  return policy(PolicyNames.createdBy, {
    resources: ['organizations', 'superapps', 'miniapps'],
    operations: ['CREATE', 'UPDATE'],
    variables: [
      { name: 'creator', expression: `object.metadata.?annotations[?${key}]` },
      { name: 'before', expression: `request.operation == 'UPDATE' ? oldObject.metadata.?annotations[?${key}] : optional.none()` },
    ],
    validations: [
      {
        expression: `request.operation == 'UPDATE' || !variables.creator.hasValue() || variables.creator.value() == request.userInfo.username`,
        messageExpression:
          `'The annotation ${CREATED_BY_ANNOTATION} must be your own user name (' + request.userInfo.username + '), or left out: ' + ` +
          `'it names who created ' + request.kind.kind + ' ' + object.metadata.name + ', and that person gets access to it'`,
        reason: 'Forbidden',
      },
      {
        expression: `request.operation == 'CREATE' || variables.creator == variables.before`,
        messageExpression: `'The annotation ${CREATED_BY_ANNOTATION} of ' + request.kind.kind + ' ' + object.metadata.name + ' cannot be changed or removed: it names who created it'`,
        reason: 'Forbidden',
      },
      {
        expression:
          `request.operation == 'UPDATE' || request.kind.kind == 'Organization' || variables.creator.hasValue() || ` +
          `authorizer.group(${lit(GROUP)}).resource(request.resource.resource).namespace(request.namespace).check('list').allowed()`,
        messageExpression:
          `'You see only the apps you belong to in namespace ' + request.namespace + ', so annotate the new ' + request.kind.kind + ' ' + object.metadata.name + ` +
          `' with ${CREATED_BY_ANNOTATION}: ' + request.userInfo.username + ' (you then belong to it); without it you could not see what you made'`,
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
 * Seed 003: "only the solution owners will be able to update their solution level manifest
 * file, the same is true for app level manifest (only the app developers)". Members who may
 * write Solutions or AppManifests get RBAC create/patch on ConfigMaps of their
 * organization's namespace (the role table); this policy narrows that to manifest
 * artifacts: a ConfigMap labelled miniapps.dev/manifest `solution` (needs update on
 * solutions there: the solution's owners) or `app` (update on appmanifests: the app's
 * developers), before and after the change. Catalogs and snapshots stay the operator's:
 * whoever RBAC allows update on the virtual subresource organizations/configmaps of the
 * namespace's Organization (the operator, a cluster administrator) is not limited. The
 * organization's icon ConfigMap (organization-icon) is not limited for whoever may patch
 * the Organization (its administrators, who set the icon, seed 002; RBAC gives them that
 * ConfigMap by name); for anyone else it is no manifest artifact, so refused.
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
        expression: `variables.organization != '' && !((request.operation == 'DELETE' ? oldObject.metadata.name : object.metadata.name) == ${lit(ORGANIZATION_ICON_CONFIGMAP)} && authorizer.group(${lit(GROUP)}).resource('organizations').name(variables.organization).check('patch').allowed()) && !authorizer.group(${lit(GROUP)}).resource('organizations').subresource(${lit(CONFIGMAPS_SUBRESOURCE)}).name(variables.organization).check('update').allowed()`,
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

/** Each kind's own policies (api/<folder>/policies.ts, if the kind has one), in the registry's order. */
async function loadKindPolicies(kind: KindName): Promise<(() => PolicyObject[]) | undefined> {
  const file = `./${sliceFolder(kind)}/policies.ts`;
  if (!existsSync(new URL(file, import.meta.url))) return undefined;
  const slice = (await import(`./${sliceFolder(kind)}/policies.ts`)) as Record<string, unknown>;
  const build = slice[sliceExport(kind, 'Policies')];
  if (typeof build !== 'function') throw new Error(`api/${sliceFolder(kind)}/policies.ts must export ${sliceExport(kind, 'Policies')}(), the policies of ${kind}`);
  return build as () => PolicyObject[];
}

/** The builders of every kind's own policies, in KIND_NAMES order (kinds without policies left out). */
export const KIND_POLICIES: readonly { kind: KindName; build: () => PolicyObject[] }[] = (
  await Promise.all((Object.keys(KIND_NAMES) as KindName[]).map(async (kind) => ({ kind, build: await loadKindPolicies(kind) })))
).filter((k): k is { kind: KindName; build: () => PolicyObject[] } => k.build !== undefined);

/**
 * Every policy and binding, for an operator running in `operatorNamespace` (with `access`
 * when it has a ServiceAccount, and the status-writer policy when its user name is known).
 */
export function admissionPolicies(operatorNamespace: string, access?: NamespaceAccessIdentity, operatorUser?: string): PolicyObject[] {
  return [
    ...KIND_POLICIES.flatMap((k) => k.build()),
    ...createdByPolicy(),
    ...tenantNamespacePolicy(),
    ...manifestSourcePolicy(),
    ...organizationAppsPolicy(),
    ...manifestArtifactsPolicy(),
    ...operatorNamespacePolicy(operatorNamespace),
    ...(access ? namespaceAccessPolicy(operatorNamespace, access) : []),
    ...(operatorUser ? statusWriterPolicy(operatorUser) : []),
  ];
}
