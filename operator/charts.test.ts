// The Helm chart in charts/miniapps-operator: values.schema.json is a valid JSON
// Schema that values.yaml satisfies and that refuses unknown keys, every value is
// documented, and the chart's copy of the CRDs matches crds/. The RBAC of
// templates/rbac.yaml is the list of chart-permissions.ts, which docs/design/permissions.md's table
// shows; it grants no escalate, bind on one ClusterRole only, no Secrets or ConfigMaps
// cluster-wide, and covers every role the operator writes. When a `helm` binary is found
// ($HELM, the one `npm run tools:build` builds, or PATH), `helm lint` and `helm
// template` run too; .ci/run builds it, and with CI set a missing helm fails the file
// (testenv/tools.ts). chart-options.test.ts lints and renders every documented value.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { isMap, isScalar, isSeq, parse, parseAllDocuments, parseDocument } from 'yaml';
import type { Pair, YAMLMap } from 'yaml';
import { describe, expect, it } from 'vitest';
import type { ApiKey } from './api/apikey/schema.ts';
import type { Membership, Role } from './api/membership/schema.ts';
import type { Organization } from './api/organization/schema.ts';
import type { PlatformConfig } from './api/platformconfig/schema.ts';
import { renderChartReadme } from './cli/chart-docs.ts';
import { chartYaml } from './cli/generate.ts';
import { keyAccess } from './controllers/apikey/logic.ts';
import { verifierClusterRole } from './controllers/apikey/module.ts';
import { Roles } from './api/membership/schema.ts';
import {
  FULLNAME,
  IDENTITY,
  IDENTITY_CERT_SECRET,
  IDENTITY_NAMESPACE,
  IDENTITY_PERMISSIONS,
  LEASE_NAME,
  NAMESPACE_ACCESS_ROLE,
  OPERATOR_PERMISSIONS,
  SCOPES,
  SMTP_SECRET,
  WEBHOOK_CERT_SECRET,
  permissionTable,
  rulesOf,
} from './chart-permissions.ts';
import type { Scope } from './chart-permissions.ts';
import { memberAccess, organizationClusterAccess, roleTableClusterRoles, tenantAdministratorClusterRole } from './domain/rbac.ts';
import { organizationCreatorAccess, provisioningAccess } from './controllers/platformconfig/rbac.ts';
import { grants, uncovered } from './domain/rbac-coverage.ts';
import type { Permission } from './domain/rbac-coverage.ts';
import { RBAC_GROUP } from './domain/rbac-types.ts';
import { findTool } from './testenv/tools.ts';
import { LAST_ADMINISTRATOR_WEBHOOK, lastAdministratorMatchConditions, lastAdministratorNamespaceSelector } from './servers/webhook.ts';
import type { PolicyRule } from './domain/rbac-types.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const CHART = join(ROOT, 'charts/miniapps-operator');

interface Schema {
  type?: string;
  description?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
}

const schema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8')) as Schema;
const valuesText = readFileSync(join(CHART, 'values.yaml'), 'utf8');
const values = parse(valuesText) as Record<string, unknown>;

function validator() {
  const ajv = new Ajv({ strict: true, allErrors: true });
  return ajv.compile(schema);
}

/** Dotted paths of the schema's declared properties, with their schema. */
function declared(node: Schema, path = ''): [string, Schema][] {
  return Object.entries(node.properties ?? {}).flatMap(([name, child]) => {
    const p = path ? `${path}.${name}` : name;
    return [[p, child] as [string, Schema], ...declared(child, p)];
  });
}

const helm = findTool('helm');
const helmDocs = findTool('helm-docs');
/** A helm built without hack/tools/build.sh's ldflags (`go install`) assumes Kubernetes 1.20, older than the chart's kubeVersion. */
const KUBE_VERSION = ['--kube-version', '1.35.0'];

describe('values.schema.json', () => {
  it('is a valid JSON Schema, and values.yaml satisfies it', () => {
    const validate = validator();
    expect(validate(values), JSON.stringify(validate.errors)).toBe(true);
  });

  it.each<[string, (v: Record<string, unknown>) => void]>([
    ['an unknown top-level key', (v) => (v.replicas = 2)],
    ['an unknown nested key', (v) => ((v.webhook as Record<string, unknown>).certManger = { enabled: true })],
    ['a log level that does not exist', (v) => (v.logLevel = 'verbose')],
    ['a duration that is not one', (v) => ((v.leaderElection as Record<string, unknown>).leaseDuration = '15 seconds')],
    ['a webhook failurePolicy other than Ignore or Fail', (v) => ((v.webhook as Record<string, unknown>).failurePolicy = 'Retry')],
  ])('refuses %s', (_name, mutate) => {
    const copy = structuredClone(values);
    mutate(copy);
    expect(validator()(copy)).toBe(false);
  });

  it('refuses unknown keys in every object it declares', () => {
    const open = declared(schema)
      .filter(([, s]) => s.type === 'object' && s.properties && s.additionalProperties !== false)
      .map(([p]) => p);
    expect(schema.additionalProperties).toBe(false);
    expect(open).toEqual([]);
  });

  it('describes every value', () => {
    expect(
      declared(schema)
        .filter(([, s]) => !s.description?.trim())
        .map(([p]) => p),
    ).toEqual([]);
  });
});

describe('values.yaml', () => {
  it('has a comment above every value the schema declares', () => {
    const doc = parseDocument(valuesText);
    const declaredPaths = new Set(declared(schema).map(([p]) => p));
    const undocumented: string[] = [];
    const walk = (map: YAMLMap, path: string) => {
      map.items.forEach((pair: Pair, index) => {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        const p = path ? `${path}.${key}` : key;
        if (!declaredPaths.has(p)) return; // free-form content (securityContext, resources, ...)
        // The yaml library hangs the comment above a map's first key on the map itself.
        const comment = (isScalar(pair.key) ? pair.key.commentBefore : undefined) ?? (index === 0 ? map.commentBefore : undefined);
        if (!comment?.trim()) undocumented.push(p);
        if (isMap(pair.value)) walk(pair.value, p);
      });
    };
    walk(doc.contents as YAMLMap, '');
    expect(undocumented).toEqual([]);
  });
});

describe('the chart', () => {
  it('carries the CRDs of crds/ in files/crds/ (npm run generate copies them)', () => {
    const crds = readdirSync(join(ROOT, 'crds'))
      .filter((f) => f.endsWith('.yaml'))
      .sort();
    const copies = readdirSync(join(CHART, 'files/crds'))
      .filter((f) => f.endsWith('.yaml'))
      .sort();
    expect(copies).toEqual(crds);
    const stale = crds.filter((f) => readFileSync(join(ROOT, 'crds', f), 'utf8') !== readFileSync(join(CHART, 'files/crds', f), 'utf8'));
    expect(stale, 'charts/miniapps-operator/files/crds/ differs from crds/: copy crds/*.yaml there').toEqual([]);
  });

  it.skipIf(!helmDocs)('has a README whose values table helm-docs makes from values.yaml as it is (npm run docs:chart)', () => {
    expect(renderChartReadme(helmDocs!), 'charts/miniapps-operator/README.md is stale: npm run docs:chart').toBe(readFileSync(join(CHART, 'README.md'), 'utf8'));
    // Every documented value is a row.
    const readme = readFileSync(join(CHART, 'README.md'), 'utf8');
    for (const key of ['image.digest', 'invitations.publicUrl', 'webhook.enabled', 'crds.keep']) expect(readme).toContain(`| ${key} |`);
  });

  it("carries Artifact Hub's annotations of every kind's CRD and an applied example of each kind that has one (npm run generate writes them)", () => {
    const current = readFileSync(join(CHART, 'Chart.yaml'), 'utf8');
    expect(chartYaml(current), 'charts/miniapps-operator/Chart.yaml is stale: npm run generate').toBe(current);
    const annotations = (parse(current) as { annotations: Record<string, string> }).annotations;
    const crds = parse(annotations['artifacthub.io/crds']!) as { kind: string; name: string; version: string }[];
    const files = readdirSync(join(ROOT, 'crds')).filter((f) => f.endsWith('.yaml'));
    expect(crds.map((c) => `${c.name}.yaml`).sort()).toEqual(files.sort());
    const examples = parse(annotations['artifacthub.io/crdsExamples']!) as { apiVersion: string; kind: string }[];
    expect(examples.length).toBeGreaterThanOrEqual(10);
    for (const e of examples)
      expect(
        crds.map((c) => c.kind),
        e.kind,
      ).toContain(e.kind);
  });

  it.skipIf(!helm)('passes helm lint, and helm template renders with the default values and with cert-manager', () => {
    execFileSync(helm!, ['lint', CHART, '--strict', ...KUBE_VERSION], { encoding: 'utf8' });
    const rendered = execFileSync(helm!, ['template', 'release', CHART, '--namespace', 'miniapps-system', ...KUBE_VERSION], { encoding: 'utf8' });
    const kinds = rendered
      .split('\n')
      .filter((l) => l.startsWith('kind: '))
      .map((l) => l.slice(6));
    expect(kinds.filter((k) => k === 'CustomResourceDefinition')).toHaveLength(readdirSync(join(ROOT, 'crds')).filter((f) => f.endsWith('.yaml')).length);
    expect(kinds).toEqual(expect.arrayContaining(['Deployment', 'ServiceAccount', 'ClusterRole', 'Role', 'Service', 'ValidatingWebhookConfiguration', 'Secret']));
    const withCertManager = execFileSync(helm!, ['template', 'release', CHART, '--set', 'webhook.certManager.enabled=true', '--set', 'crds.enabled=false', ...KUBE_VERSION], { encoding: 'utf8' });
    expect(withCertManager).toContain('cert-manager.io/inject-ca-from: default/release-miniapps-operator-webhook');
    expect(withCertManager).not.toContain('kind: CustomResourceDefinition');
    // The serving certificate comes from a CA of the release's own, not self-signed: its renewals keep the injected CA.
    type CM = { kind: string; metadata: { name: string }; spec: { isCA?: boolean; secretName?: string; issuerRef?: { name: string }; ca?: { secretName: string }; selfSigned?: object } };
    const cm = parseAllDocuments(withCertManager)
      .map((d) => d.toJS() as CM | null)
      .filter((o): o is CM => !!o && ['Issuer', 'Certificate'].includes(o.kind));
    const serving = cm.find((o) => o.kind === 'Certificate' && o.metadata.name === 'release-miniapps-operator-webhook')!;
    const issuer = cm.find((o) => o.kind === 'Issuer' && o.metadata.name === serving.spec.issuerRef!.name)!;
    const caCert = cm.find((o) => o.kind === 'Certificate' && o.spec.secretName === issuer.spec.ca!.secretName)!;
    expect(caCert.spec.isCA).toBe(true);
    expect(cm.find((o) => o.kind === 'Issuer' && o.metadata.name === caCert.spec.issuerRef!.name)!.spec.selfSigned).toEqual({});
  });

  it.skipIf(!helm)(
    'by default, runs two replicas with a PodDisruptionBudget, and registers the last-administrator webhook failing closed for exactly the requests that could break the rule, never for the cluster or the operator',
    () => {
      type Obj = { kind: string; metadata: { name: string }; spec?: { replicas?: number; minAvailable?: number }; webhooks?: Record<string, unknown>[] };
      const objects = (args: string[] = []) =>
        parseAllDocuments(execFileSync(helm!, ['template', 'release', CHART, '--namespace', 'miniapps-system', ...args, ...KUBE_VERSION], { encoding: 'utf8' }))
          .map((d) => d.toJS() as Obj | null)
          .filter((o): o is Obj => !!o);
      const rendered = objects();
      expect(rendered.find((o) => o.kind === 'Deployment')?.spec?.replicas).toBe(2);
      expect(rendered.find((o) => o.kind === 'PodDisruptionBudget')?.spec?.minAvailable).toBe(1);
      const hooks = rendered.find((o) => o.kind === 'ValidatingWebhookConfiguration')!.webhooks!;
      expect(hooks.map((h) => [h.name, h.failurePolicy])).toEqual([
        ['validate.miniapps.dev', 'Ignore'],
        [LAST_ADMINISTRATOR_WEBHOOK, 'Fail'],
      ]);
      const closed = hooks[1]!;
      expect(closed.rules).toEqual([{ apiGroups: ['miniapps.dev'], apiVersions: ['*'], resources: ['memberships'], operations: ['UPDATE', 'DELETE'], scope: 'Namespaced' }]);
      // The same conditions as the out-of-cluster registration, with the chart's ServiceAccount as the operator.
      expect(closed.matchConditions).toEqual(
        lastAdministratorMatchConditions('system:serviceaccount:miniapps-system:release-miniapps-operator').map((c) => ({
          ...c,
          expression: c.expression.replace(/"(system:serviceaccount:[^"]+)"/, "'$1'"),
        })),
      );
      expect(closed.namespaceSelector).toEqual(lastAdministratorNamespaceSelector('miniapps-system'));
      expect((closed.clientConfig as { service: unknown }).service).toEqual((hooks[0]!.clientConfig as { service: unknown }).service);
      // Off: the first webhook alone; one replica: no PodDisruptionBudget (it would block every drain).
      expect(
        objects(['--set', 'webhook.failClosed.enabled=false'])
          .find((o) => o.kind === 'ValidatingWebhookConfiguration')!
          .webhooks!.map((h) => h.name),
      ).toEqual(['validate.miniapps.dev']);
      expect(objects(['--set', 'replicaCount=1']).find((o) => o.kind === 'PodDisruptionBudget')).toBeUndefined();
    },
  );
});

// ---- RBAC ----

/** What `{{ ... }}` in rbac.yaml stands for, in the placeholders of chart-permissions.ts. */
const PLACEHOLDERS: Record<string, string> = {
  $fullname: FULLNAME,
  '$fullname | quote': JSON.stringify(FULLNAME),
  $namespace: '<namespace>',
  $namespaceAccess: NAMESPACE_ACCESS_ROLE,
  '$namespaceAccess | quote': JSON.stringify(NAMESPACE_ACCESS_ROLE),
  'include "miniapps-operator.serviceAccountName" .': '<serviceaccount>',
  '.Values.leaderElection.id | quote': JSON.stringify(LEASE_NAME),
  'include "miniapps-operator.webhookCertSecret" . | quote': JSON.stringify(WEBHOOK_CERT_SECRET),
  $identity: IDENTITY,
  $identityNamespace: IDENTITY_NAMESPACE,
  '.Values.invitations.smtp.credentialsSecret | quote': JSON.stringify(SMTP_SECRET),
  '.Values.identity.certSecretName | quote': JSON.stringify(IDENTITY_CERT_SECRET),
};

/**
 * A template as YAML without Helm: template comments and lines of directives only
 * (`{{- if }}`, `{{- $x := }}`, `{{- include ... | nindent 4 }}`) dropped, every other
 * `{{ expr }}` replaced by its placeholder; an expression without one is an error, so a
 * change to the template cannot slip past the test unread.
 */
function withoutHelm(template: string, placeholders: Record<string, string>): string {
  return template
    .replace(/\{\{-?\s*\/\*[\s\S]*?\*\/\s*-?\}\}/g, '')
    .split('\n')
    .filter((line) => !/^\s*(\{\{[^}]*\}\}\s*)+$/.test(line))
    .map((line) =>
      line.replace(/\{\{-?\s*(.*?)\s*-?\}\}/g, (_, expr: string) => {
        const value = placeholders[expr];
        if (value === undefined) throw new Error(`No placeholder for {{ ${expr} }} in: ${line.trim()}`);
        return value;
      }),
    )
    .join('\n');
}

type RbacObject = {
  kind: string;
  metadata: { name: string; namespace?: string };
  rules?: PolicyRule[];
  roleRef?: { apiGroup: string; kind: string; name: string };
  subjects?: { kind: string; name: string; namespace?: string }[];
};

const rbacDocuments = parseAllDocuments(withoutHelm(readFileSync(join(CHART, 'templates/rbac.yaml'), 'utf8'), PLACEHOLDERS));
const rbacObjects = rbacDocuments.map((d) => d.toJS() as RbacObject);
const isRole = (o: RbacObject) => o.kind === 'ClusterRole' || o.kind === 'Role';
const chartRoles = rbacObjects.filter(isRole);
const roleOf = (scope: Scope) => chartRoles.find((r) => r.kind === SCOPES[scope].kind && r.metadata.name === SCOPES[scope].name)?.rules ?? [];
/** The rules of the ClusterRoles bound cluster-wide by the chart. */
const clusterWide = (objects: RbacObject[]) =>
  objects.filter((o) => o.kind === 'ClusterRoleBinding').flatMap((b) => objects.find((r) => r.kind === 'ClusterRole' && r.metadata.name === b.roleRef?.name)?.rules ?? []);

const ANY_VERB = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection', 'bind', 'escalate', 'impersonate', '*'];
const granted = (rules: PolicyRule[], p: Permission) => rules.some((r) => grants(r, p));
/** Whether `rule` grants `p` on some object, whatever its resourceNames. */
const grantsSome = (rule: PolicyRule, p: Omit<Permission, 'resourceName'>) => grants({ ...rule, resourceNames: undefined }, p);
const allRules = (objects: RbacObject[]) => objects.filter(isRole).flatMap((o) => o.rules ?? []);

/** Safety properties of the chart's RBAC, named by sentences; each returns what violates it. */
const RBAC_PROPERTIES: Record<string, (objects: RbacObject[]) => unknown[]> = {
  'no rule grants escalate': (objects) => allRules(objects).filter((r) => ['roles', 'clusterroles'].some((resource) => grantsSome(r, { apiGroup: RBAC_GROUP, resource, verb: 'escalate' }))),
  'bind is granted by name only, on the namespace access ClusterRole alone': (objects) =>
    allRules(objects).filter(
      (r) =>
        grantsSome(r, { apiGroup: RBAC_GROUP, resource: 'roles', verb: 'bind' }) ||
        (grantsSome(r, { apiGroup: RBAC_GROUP, resource: 'clusterroles', verb: 'bind' }) && JSON.stringify(r.resourceNames) !== JSON.stringify([NAMESPACE_ACCESS_ROLE])),
    ),
  'no ClusterRole bound cluster-wide grants anything on Secrets or ConfigMaps': (objects) =>
    ['secrets', 'configmaps'].flatMap((resource) => ANY_VERB.filter((verb) => clusterWide(objects).some((r) => grantsSome(r, { apiGroup: '', resource, verb }))).map((verb) => `${verb} ${resource}`)),
  'the chart binds the namespace access ClusterRole nowhere (the operator binds it, namespace by namespace)': (objects) =>
    objects.filter((o) => o.roleRef?.name === NAMESPACE_ACCESS_ROLE).map((o) => `${o.kind} ${o.metadata.name}`),
};
type Property = keyof typeof RBAC_PROPERTIES;

/** What the chart's RBAC comes to: its roles with their rules, its bindings. */
const summary = (objects: RbacObject[]) => ({
  roles: objects.filter(isRole).map((r) => [r.kind, r.metadata.name, r.metadata.namespace, r.rules]),
  bindings: objects.filter((o) => o.roleRef).map((o) => [o.kind, o.metadata.name, o.metadata.namespace, o.roleRef, o.subjects]),
});
const SERVICE_ACCOUNTS = {
  operator: [{ kind: 'ServiceAccount', name: '<serviceaccount>', namespace: '<namespace>' }],
  identity: [{ kind: 'ServiceAccount', name: IDENTITY, namespace: '<namespace>' }],
};
/** Each scope's role bound (named as the role) to its holder's ServiceAccount: the ClusterRoles cluster-wide, the Roles in their namespace; the namespace access ClusterRole by the operator, not the chart. */
const bindingOf = (s: Scope) => {
  const scope: { kind: string; name: string; namespace?: string; holder: 'operator' | 'identity' } = SCOPES[s];
  return [`${scope.kind}Binding`, scope.name, scope.namespace, { apiGroup: RBAC_GROUP, kind: scope.kind, name: scope.name }, SERVICE_ACCOUNTS[scope.holder]];
};
const SCOPE_ORDER = Object.keys(SCOPES) as Scope[];
/** The roles of chart-permissions.ts in its order, and their bindings (ClusterRoleBindings first, as Helm installs them). */
const expectedRbac = (scopes: Scope[] = SCOPE_ORDER) => ({
  roles: scopes.map((s) => [SCOPES[s].kind, SCOPES[s].name, (SCOPES[s] as { namespace?: string }).namespace, rulesOf(s)]),
  bindings: [...scopes.filter((s) => SCOPES[s].kind === 'ClusterRole'), ...scopes.filter((s) => SCOPES[s].kind === 'Role')].filter((s) => s !== 'namespaceAccess').map(bindingOf),
});
const EXPECTED_RBAC = expectedRbac();

describe("the operator's RBAC (templates/rbac.yaml)", () => {
  it('is the list of operator/chart-permissions.ts: the same roles with the same rules, in its order', () => {
    expect(summary(rbacObjects).roles).toEqual(EXPECTED_RBAC.roles);
  });

  it('says above each rule why it exists', () => {
    const silent = rbacDocuments.flatMap((doc) => {
      const rules = (doc.contents as YAMLMap | null)?.get('rules', true);
      if (!isSeq(rules)) return [];
      return rules.items.map((item, i) => ((isMap(item) && item.commentBefore?.trim()) || (i === 0 && rules.commentBefore?.trim()) ? undefined : JSON.stringify(item))).filter(Boolean);
    });
    expect(silent).toEqual([]);
  });

  it("binds each ClusterRole cluster-wide and each Role in its namespace, the operator's to its ServiceAccount and the identity provider's to its own", () => {
    expect(summary(rbacObjects).bindings).toEqual(EXPECTED_RBAC.bindings);
  });

  it.each(Object.entries(RBAC_PROPERTIES))('holds that %s', (_name, violations) => {
    expect(violations(rbacObjects)).toEqual([]);
  });

  const clusterRole = (name: string, ...rules: PolicyRule[]): RbacObject => ({ kind: 'ClusterRole', metadata: { name }, rules });
  const boundClusterWide = (name: string): RbacObject => ({ kind: 'ClusterRoleBinding', metadata: { name }, roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name } });
  it.each<[string, Property, RbacObject[]]>([
    ['escalate on Roles', 'no rule grants escalate', [clusterRole('c', { apiGroups: [RBAC_GROUP], resources: ['roles'], verbs: ['escalate'] })]],
    ['escalate on one ClusterRole by name', 'no rule grants escalate', [clusterRole('c', { apiGroups: [RBAC_GROUP], resources: ['clusterroles'], verbs: ['escalate'], resourceNames: ['admin'] })]],
    ['every verb on everything', 'no rule grants escalate', [clusterRole('c', { apiGroups: ['*'], resources: ['*'], verbs: ['*'] })]],
    ['bind without names', 'bind is granted by name only, on the namespace access ClusterRole alone', [clusterRole('c', { apiGroups: [RBAC_GROUP], resources: ['clusterroles'], verbs: ['bind'] })]],
    [
      'bind on another ClusterRole too',
      'bind is granted by name only, on the namespace access ClusterRole alone',
      [clusterRole('c', { apiGroups: [RBAC_GROUP], resources: ['clusterroles'], verbs: ['bind'], resourceNames: [NAMESPACE_ACCESS_ROLE, 'cluster-admin'] })],
    ],
    [
      'bind on Roles by that name',
      'bind is granted by name only, on the namespace access ClusterRole alone',
      [clusterRole('c', { apiGroups: [RBAC_GROUP], resources: ['roles'], verbs: ['bind'], resourceNames: [NAMESPACE_ACCESS_ROLE] })],
    ],
    [
      'one Secret read cluster-wide',
      'no ClusterRole bound cluster-wide grants anything on Secrets or ConfigMaps',
      [clusterRole('c', { apiGroups: [''], resources: ['secrets'], verbs: ['get'], resourceNames: ['s'] }), boundClusterWide('c')],
    ],
    [
      'ConfigMaps by a wildcard, cluster-wide',
      'no ClusterRole bound cluster-wide grants anything on Secrets or ConfigMaps',
      [clusterRole('c', { apiGroups: ['*'], resources: ['*'], verbs: ['list'] }), boundClusterWide('c')],
    ],
    [
      'the namespace access ClusterRole bound by the chart',
      'the chart binds the namespace access ClusterRole nowhere (the operator binds it, namespace by namespace)',
      [clusterRole(NAMESPACE_ACCESS_ROLE, ...roleOf('namespaceAccess')), boundClusterWide(NAMESPACE_ACCESS_ROLE)],
    ],
  ])('would refuse %s', (_name, property, objects) => {
    expect(RBAC_PROPERTIES[property]!(objects)).not.toEqual([]);
  });

  it('gives the Deployment the namespace access ClusterRole and the ServiceAccount that rbac.yaml names', () => {
    const deployment = readFileSync(join(CHART, 'templates/deployment.yaml'), 'utf8');
    const rbac = readFileSync(join(CHART, 'templates/rbac.yaml'), 'utf8');
    expect(rbac).toContain('$namespaceAccess := include "miniapps-operator.namespaceAccessRole" .');
    expect(deployment).toMatch(/- name: MINIAPPS_NAMESPACE_ACCESS_ROLE\n\s+value: \{\{ include "miniapps-operator.namespaceAccessRole" \. \| quote \}\}\n/);
    expect(deployment).toMatch(
      /- name: MINIAPPS_SERVICE_ACCOUNT\n\s+value: \{\{ printf "%s\/%s" \(include "miniapps-operator.namespace" \.\) \(include "miniapps-operator.serviceAccountName" \.\) \| quote \}\}\n/,
    );
  });
});

describe('the RBAC and settings helm template renders', () => {
  it.skipIf(!helm)('are those of the template read without Helm, with the names filled in', () => {
    // With identity.enabled, SMTP credentials and the provider's certificate Secret, so that every rule of the lists renders (checked below without the last two).
    const IDENTITY_VALUES = [
      '--set',
      'identity.enabled=true',
      '--set',
      'identity.issuer=https://id.example.com',
      '--set',
      'invitations.smtp.credentialsSecret=smtp-x',
      '--set',
      'identity.certSecretName=idcert-x',
    ];
    const render = (template: string, extra: string[] = IDENTITY_VALUES) =>
      execFileSync(
        helm!,
        ['template', 'rel', CHART, '--namespace', 'ns-x', '--set', 'serviceAccount.name=op-sa', '--set', 'leaderElection.id=lease-x', ...extra, '--show-only', template, ...KUBE_VERSION],
        {
          encoding: 'utf8',
        },
      )
        .replaceAll(/\blease-x\b/g, LEASE_NAME)
        .replaceAll(/\brel-miniapps-operator\b/g, FULLNAME)
        .replaceAll(/\bop-sa\b/g, '<serviceaccount>')
        .replaceAll(/\bsmtp-x\b/g, SMTP_SECRET)
        .replaceAll(/\bidcert-x\b/g, IDENTITY_CERT_SECRET)
        .replaceAll(/\bns-x\b/g, '<namespace>');
    const objects = parseAllDocuments(render('templates/rbac.yaml')).map((d) => d.toJS() as RbacObject);
    expect(summary(objects)).toEqual(EXPECTED_RBAC);
    for (const [name, violations] of Object.entries(RBAC_PROPERTIES)) expect(violations(objects), name).toEqual([]);
    // Without the embedded identity provider: none of its roles, and nothing of the operator's in its namespace.
    const withoutIdentity = parseAllDocuments(render('templates/rbac.yaml', [])).map((d) => d.toJS() as RbacObject);
    expect(summary(withoutIdentity)).toEqual(expectedRbac(SCOPE_ORDER.filter((s) => SCOPES[s].holder === 'operator' && s !== 'identityNamespace')));
    // Without SMTP credentials or a certificate Secret, the provider reads no Secret of the release namespace at all.
    const withoutCredentials = parseAllDocuments(render('templates/rbac.yaml', IDENTITY_VALUES.slice(0, 4))).map((d) => d.toJS() as RbacObject);
    const releaseRole = withoutCredentials.find((o) => o.kind === 'Role' && o.metadata.name === IDENTITY && o.metadata.namespace === '<namespace>');
    expect(releaseRole?.rules).toEqual(rulesOf('identityRelease').filter((r) => !r.resources.includes('secrets')));
    const deployment = parse(render('templates/deployment.yaml')) as { spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } } };
    const env = Object.fromEntries(deployment.spec.template.spec.containers[0]!.env.map((e) => [e.name, e.value]));
    expect([env.MINIAPPS_SERVICE_ACCOUNT, env.MINIAPPS_NAMESPACE_ACCESS_ROLE]).toEqual(['<namespace>/<serviceaccount>', NAMESPACE_ACCESS_ROLE]);
  });
});

describe('the tables of docs/design/permissions.md', () => {
  const page = readFileSync(join(ROOT, 'docs/design/permissions.md'), 'utf8');
  const rowsOf = (title: string) =>
    (page.split(/^# /m).find((s) => s.startsWith(`${title}\n`)) ?? '')
      .split('\n')
      .filter((l) => l.startsWith('|'))
      .map((l) =>
        l
          .slice(1, -1)
          .split(' | ')
          .map((c) => c.trim()),
      );

  it.each([
    ['Operator permissions', OPERATOR_PERMISSIONS],
    ['Identity provider permissions', IDENTITY_PERMISSIONS],
  ] as const)('"%s" lists exactly its grants of operator/chart-permissions.ts, with their scope and why', (title, grants) => {
    const rows = rowsOf(title);
    expect(rows[0]).toEqual(['grant', 'scope', 'why']);
    expect(rows.slice(2)).toEqual(permissionTable(grants));
    expect(rows.slice(2)).toHaveLength(grants.length);
  });
});

// Fixtures for what the operator writes: an Organization, its members, the PlatformConfig.
const org: Organization = { apiVersion: 'miniapps.dev/v1alpha1', kind: 'Organization', metadata: { name: 'acme', uid: 'uid-acme' }, spec: { displayName: 'Acme' } };
const platformConfig: PlatformConfig = { apiVersion: 'miniapps.dev/v1alpha1', kind: 'PlatformConfig', metadata: { name: 'default', uid: 'uid-pc' }, spec: {} };
const aMember = (role: Role, apps?: Membership['spec']['apps']): Membership => ({
  apiVersion: 'miniapps.dev/v1alpha1',
  kind: 'Membership',
  metadata: { name: `m-${role}`, namespace: 'org-acme', uid: `uid-${role}` },
  spec: { email: `${role}@example.com`, role, ...(apps ? { apps } : {}) },
});
const APPS_LIMITS: [string, Membership['spec']['apps']][] = [
  ['every app', undefined],
  [
    'a super app and a mini app',
    [
      { kind: 'SuperApp', name: 'shop' },
      { kind: 'MiniApp', name: 'cart' },
    ],
  ],
  [
    'mini apps only',
    [
      { kind: 'MiniApp', name: 'cart' },
      { kind: 'MiniApp', name: 'pay' },
    ],
  ],
];
const settings = { userPrefix: 'oidc:', groupPrefix: 'grp:' };

describe('the operator holds every permission it hands out (so it needs no escalate, and no bind for them)', () => {
  const holds = roleOf('cluster');
  const generated: [string, PolicyRule[]][] = [
    ["the provisioning administrators' ClusterRole", provisioningAccess({ ...settings, users: ['amy@example.com'], groups: ['ops'] }, platformConfig).clusterRole.rules],
    ...roleTableClusterRoles().map((r): [string, PolicyRule[]] => [`the role table ClusterRole ${r.metadata.name}`, r.rules]),
    ["the tenant administrators' ClusterRole", tenantAdministratorClusterRole().rules],
    ...Roles.flatMap((role) =>
      APPS_LIMITS.map(([apps, limit]): [string, PolicyRule[]] => [`the member Role of a ${role} with ${apps}`, memberAccess(aMember(role, limit), org, 'org-acme', settings).role.rules]),
    ),
    ...organizationClusterAccess(
      org,
      Roles.map((role) => ({ email: `${role}@example.com`, role })),
      settings,
    ).clusterRoles.map((r): [string, PolicyRule[]] => [`the ClusterRole ${r.metadata.name}`, r.rules]),
  ];

  it.each(generated)('covers %s', (name, rules) => {
    expect(rules.length).toBeGreaterThan(0);
    // A member's Role lives in an organization namespace, where the operator also holds its namespace access (an administrator's events).
    expect(uncovered(name.startsWith('the member Role') ? [...holds, ...roleOf('namespaceAccess')] : holds, rules)).toEqual([]);
  });

  it("covers a super app manager's Role (its catalogs' ConfigMaps by name) with what it holds in an organization namespace", () => {
    const reach = { catalogs: [{ superApp: 'shop', configMaps: ['shop-catalog', 'shop-catalog-1.0.0'] }] };
    const rules = memberAccess(aMember('SuperAppAdministrator'), org, 'org-acme', settings, reach).role.rules;
    expect(rules).toContainEqual({ apiGroups: [''], resources: ['configmaps'], verbs: ['get'], resourceNames: ['shop-catalog', 'shop-catalog-1.0.0'] });
    expect(uncovered([...holds, ...roleOf('namespaceAccess')], rules)).toEqual([]);
  });

  it("covers the organization creators' ClusterRole (App Center)", () => {
    expect(uncovered(holds, organizationCreatorAccess(platformConfig).clusterRole.rules)).toEqual([]);
  });

  it("covers the API key verifiers' ClusterRole", () => {
    expect(uncovered(holds, verifierClusterRole().rules)).toEqual([]);
  });

  it("covers an API key owner's Role (the key by name, its Secrets by name) with what it holds in an organization namespace", () => {
    const key: ApiKey = { apiVersion: 'miniapps.dev/v1alpha1', kind: 'ApiKey', metadata: { name: 'ci', namespace: 'org-acme', uid: 'uid-ci' }, spec: { owner: 'dev@example.com', ttl: '1h' } };
    const rules = keyAccess(key, ['ci-r1', 'ci-r0'], settings).role.rules;
    expect(rules.some((r) => r.resources.includes('secrets'))).toBe(true);
    expect(uncovered(holds, rules)).not.toEqual([]); // not cluster-wide ...
    expect(uncovered([...holds, ...roleOf('namespaceAccess')], rules)).toEqual([]); // ... but where the operator binds its namespace access
    expect(uncovered([...holds, ...roleOf('ownNamespace')], rules)).toEqual([]); // and in its own namespace (provisioning administrators' keys)
  });

  it('may bind the namespace access ClusterRole (RoleBinding miniapps-operator in each organization namespace), though it does not hold its rules', () => {
    expect(granted(holds, { apiGroup: RBAC_GROUP, resource: 'clusterroles', verb: 'bind', resourceName: NAMESPACE_ACCESS_ROLE })).toBe(true);
    expect(uncovered(holds, roleOf('namespaceAccess'))).not.toEqual([]);
  });
});
