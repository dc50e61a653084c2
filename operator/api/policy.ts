// The shape of the admission policies (ValidatingAdmissionPolicy and its binding) and the
// helpers every kind's policies.ts builds them with. Plain data, no TypeBox.
import { CONFIRM_DELETE_ANNOTATION, CONFIRM_DELETE_VALUE, GROUP } from './constants.ts';

const ADMISSION_API_VERSION = 'admissionregistration.k8s.io/v1';

export type PolicyObject = {
  apiVersion: string;
  kind: 'ValidatingAdmissionPolicy' | 'ValidatingAdmissionPolicyBinding';
  metadata: { name: string; labels: Record<string, string> };
  spec: Record<string, unknown>;
};

export interface Validation {
  expression: string;
  messageExpression: string;
  reason: 'Forbidden' | 'Invalid';
}

export const LABELS = { 'app.kubernetes.io/managed-by': 'miniapps-operator', 'app.kubernetes.io/part-of': 'miniapps-operator' };

/** CEL string literal (single-quoted; the values here never hold quotes or backslashes). */
export const lit = (s: string) => {
  if (/['\\]/.test(s)) throw new Error(`Cannot quote ${JSON.stringify(s)} as a CEL literal`);
  return `'${s}'`;
};

export function policy(
  name: string,
  spec: {
    apiGroups?: string[];
    resources: string[];
    operations: string[];
    matchConditions?: { name: string; expression: string }[];
    variables?: { name: string; expression: string }[];
    validations: Validation[];
    /**
     * The object whose fields the expressions read as `params`: one by name, or every one a
     * label selector matches (`{}`: all; of a namespaced kind, those of the request's
     * namespace), each evaluated in turn and all of them required to pass. `notFound`:
     * what no such object means (default Deny: refused by failurePolicy Fail).
     */
    params?: { apiVersion: string; kind: string; name?: string; selector?: Record<string, unknown>; notFound?: 'Allow' | 'Deny' };
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
        ...(spec.params ? { paramRef: { ...(spec.params.selector ? { selector: spec.params.selector } : { name: spec.params.name }), parameterNotFoundAction: spec.params.notFound ?? 'Deny' } } : {}),
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
  organizationApps: `${GROUP}-organization-apps`,
  membershipEmail: `${GROUP}-membership-email`,
  membershipOwners: `${GROUP}-membership-owners`,
  namespaceAccess: (operatorNamespace: string) => `${GROUP}-namespace-access.${operatorNamespace}`,
  statusWriter: `${GROUP}-status-writer`,
  createdBy: `${GROUP}-created-by`,
  selfServiceOrganization: `${GROUP}-organization-self-service`,
  selfServiceCreator: `${GROUP}-organization-self-service-creator`,
  subscriptionOffered: `${GROUP}-subscription-offered`,
  manifestArtifacts: `${GROUP}-manifest-artifacts`,
  accountSelf: `${GROUP}-account-self`,
} as const;

/** What a confirmed deletion removes, for the refusal message. */
export interface ConfirmedDeletion {
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
export function confirmDeletePolicy(d: ConfirmedDeletion): PolicyObject[] {
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
