import { describe, expect, it } from 'vitest';
import type { Organization } from '../../api/organization/schema.ts';
import { claimOf, desiredNamespace, namespaceNameFor, namespaceNameProblem, namespacePlan } from './logic.ts';
import { needsApply } from '../../runtime/apply.ts';
import type { Namespace } from './logic.ts';

const org = (mod: (o: Organization) => void = () => {}): Organization => {
  const o: Organization = {
    apiVersion: 'miniapps.dev/v1alpha1',
    kind: 'Organization',
    metadata: { name: 'acme', uid: 'uid-acme', generation: 1 },
    spec: { displayName: 'Acme' },
  };
  mod(o);
  return o;
};

const ns = (name: string, mod: (n: Namespace) => void = () => {}): Namespace => {
  const n: Namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name } };
  mod(n);
  return n;
};

describe('namespaceNameFor', () => {
  it('uses the prefix and the name by default', () => expect(namespaceNameFor(org(), 'org-')).toBe('org-acme'));
  it('uses spec.namespace when set', () =>
    expect(
      namespaceNameFor(
        org((o) => (o.spec.namespace = 'acme-prod')),
        'org-',
      ),
    ).toBe('acme-prod'));
  it('keeps the namespace recorded in status when the prefix changes later', () =>
    expect(
      namespaceNameFor(
        org((o) => (o.status = { namespace: 'org-acme' })),
        'team-',
      ),
    ).toBe('org-acme'));
});

describe('namespaceNameProblem', () => {
  it('accepts a DNS label', () => expect(namespaceNameProblem('org-acme', 'miniapps-system')).toBeUndefined());
  it.each(['org-a.b', `org-${'x'.repeat(60)}`, 'Org-Acme'])('refuses %s and says to set spec.namespace', (name) =>
    expect(namespaceNameProblem(name, 'miniapps-system')).toMatchObject({ status: 'False', reason: 'InvalidNamespaceName', message: expect.stringContaining('set spec.namespace') }),
  );
  it.each(['kube-system', 'kube-public', 'default', 'miniapps-system'])('refuses the reserved namespace %s (namespace takeover)', (name) =>
    expect(namespaceNameProblem(name, 'miniapps-system')).toMatchObject({ status: 'False', reason: 'NamespaceReserved', message: expect.stringContaining('set spec.namespace') }),
  );
});

const owned = (n: Namespace) => (n.metadata.ownerReferences = [{ apiVersion: 'miniapps.dev/v1alpha1', kind: 'Organization', name: 'acme', uid: 'uid-acme', controller: true }]);
const optIn = (value: string) => (n: Namespace) => (n.metadata.annotations = { 'miniapps.dev/adoptable-by': value });

describe('namespacePlan', () => {
  it('creates a namespace that does not exist', () => expect(namespacePlan(org(), undefined)).toEqual({ action: 'create' }));
  it('keeps a namespace it created for this organization', () => expect(namespacePlan(org(), ns('org-acme', owned))).toEqual({ action: 'owned' }));
  it('adopts an existing namespace that opted in for this organization', () => expect(namespacePlan(org(), ns('org-acme', optIn('Organization/acme')))).toEqual({ action: 'adopted' }));
  it.each([
    ['without the annotation (namespace takeover)', () => {}],
    ['with the organization label alone (labels are no consent)', (n: Namespace) => (n.metadata.labels = { 'miniapps.dev/organization': 'acme' })],
    ['opted in for another organization', optIn('Organization/other')],
    ['opted in for a tenant of that name', optIn('Tenant/acme')],
    [
      'with an uncontrolled owner reference to the organization',
      (n: Namespace) => (n.metadata.ownerReferences = [{ apiVersion: 'miniapps.dev/v1alpha1', kind: 'Organization', name: 'acme', uid: 'uid-acme' }]),
    ],
  ])('leaves an existing namespace untouched %s, saying how to opt in', (_what, mod) =>
    expect(namespacePlan(org(), ns('org-acme', mod))).toMatchObject({
      action: 'none',
      problem: { reason: 'NamespaceNotAdoptable', message: expect.stringContaining('kubectl annotate namespace org-acme miniapps.dev/adoptable-by=Organization/acme') },
    }),
  );
  it.each([
    ['another organization', { 'miniapps.dev/organization': 'other' }, 'Organization "other"'],
    ['a tenant', { 'miniapps.dev/tenant': 'bank' }, 'Tenant "bank"'],
  ])('refuses a namespace claimed by %s, even if it opted in', (_what, labels, who) =>
    expect(
      namespacePlan(
        org(),
        ns('org-acme', (n) => ((n.metadata.labels = labels), optIn('Organization/acme')(n))),
      ),
    ).toMatchObject({
      problem: { reason: 'NamespaceConflict', message: expect.stringContaining(who) },
    }),
  );
  it('refuses a namespace another object controls', () =>
    expect(
      namespacePlan(
        org(),
        ns('org-acme', (n) => (n.metadata.ownerReferences = [{ apiVersion: 'v1', kind: 'Thing', name: 't', uid: 'u2', controller: true }])),
      ),
    ).toMatchObject({ problem: { reason: 'NamespaceConflict' } }));
  it('waits for a terminating namespace', () =>
    expect(
      namespacePlan(
        org(),
        ns('org-acme', (n) => (owned(n), (n.status = { phase: 'Terminating' }))),
      ),
    ).toMatchObject({ problem: { reason: 'NamespaceTerminating' } }));
});

describe('desiredNamespace', () => {
  it('carries the labels and, on a namespace it creates, a controller ownerReference to the organization', () => {
    const d = desiredNamespace(org(), 'org-acme', true);
    expect(d.metadata.labels).toEqual({ 'app.kubernetes.io/managed-by': 'miniapps-operator', 'miniapps.dev/organization': 'acme' });
    expect(d.metadata.ownerReferences).toEqual([{ apiVersion: 'miniapps.dev/v1alpha1', kind: 'Organization', name: 'acme', uid: 'uid-acme', controller: true, blockOwnerDeletion: true }]);
    expect(claimOf(d)).toEqual({ kind: 'organization', name: 'acme' });
  });
  it('gives an adopted namespace the labels and no ownerReference', () => {
    const d = desiredNamespace(org(), 'org-acme', false);
    expect(d.metadata.labels).toEqual({ 'app.kubernetes.io/managed-by': 'miniapps-operator', 'miniapps.dev/organization': 'acme' });
    expect(d.metadata.ownerReferences).toBeUndefined();
  });
  it('needs no write only when labels and owner are in place', () => {
    const d = desiredNamespace(org(), 'org-acme', true);
    expect(needsApply(undefined, d, [])).toBe(true);
    expect(needsApply(ns('org-acme'), d, [])).toBe(true);
    expect(needsApply({ ...d, metadata: { ...d.metadata, labels: { ...d.metadata.labels, extra: 'x' } } }, d, [])).toBe(false);
  });
});
