import { describe, expect, it } from 'vitest';
import type { Organization } from '../../api/index.ts';
import { claimOf, desiredNamespace, namespaceNameFor, namespaceNameProblem, namespaceProblem } from './logic.ts';
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
  it('uses spec.namespace when set', () => expect(namespaceNameFor(org((o) => (o.spec.namespace = 'acme-prod')), 'org-')).toBe('acme-prod'));
  it('keeps the namespace recorded in status when the prefix changes later', () =>
    expect(namespaceNameFor(org((o) => (o.status = { namespace: 'org-acme' })), 'team-')).toBe('org-acme'));
});

describe('namespaceNameProblem', () => {
  it('accepts a DNS label', () => expect(namespaceNameProblem('org-acme')).toBeUndefined());
  it.each(['org-a.b', `org-${'x'.repeat(60)}`, 'Org-Acme'])('refuses %s and says to set spec.namespace', (name) =>
    expect(namespaceNameProblem(name)).toMatchObject({ status: 'False', reason: 'InvalidNamespaceName', message: expect.stringContaining('set spec.namespace') }),
  );
});

describe('namespaceProblem', () => {
  it('accepts a free namespace (it is adopted)', () => expect(namespaceProblem(org(), ns('org-acme'))).toBeUndefined());
  it('accepts its own namespace', () =>
    expect(namespaceProblem(org(), ns('org-acme', (n) => (n.metadata.labels = { 'miniapps.dev/organization': 'acme' })))).toBeUndefined());
  it.each([
    ['another organization', { 'miniapps.dev/organization': 'other' }, 'Organization "other"'],
    ['a tenant', { 'miniapps.dev/tenant': 'bank' }, 'Tenant "bank"'],
  ])('refuses a namespace claimed by %s', (_what, labels, who) =>
    expect(namespaceProblem(org(), ns('org-acme', (n) => (n.metadata.labels = labels)))).toMatchObject({ reason: 'NamespaceConflict', message: expect.stringContaining(who) }),
  );
  it('refuses a namespace another object controls', () =>
    expect(
      namespaceProblem(org(), ns('org-acme', (n) => (n.metadata.ownerReferences = [{ apiVersion: 'v1', kind: 'Thing', name: 't', uid: 'u2', controller: true }]))),
    ).toMatchObject({ reason: 'NamespaceConflict' }),
  );
  it('waits for a terminating namespace', () =>
    expect(namespaceProblem(org(), ns('org-acme', (n) => (n.status = { phase: 'Terminating' })))).toMatchObject({ reason: 'NamespaceTerminating' }));
});

describe('desiredNamespace', () => {
  it('carries the labels and a controller ownerReference to the organization', () => {
    const d = desiredNamespace(org(), 'org-acme');
    expect(d.metadata.labels).toEqual({ 'app.kubernetes.io/managed-by': 'miniapps-operator', 'miniapps.dev/organization': 'acme' });
    expect(d.metadata.ownerReferences).toEqual([{ apiVersion: 'miniapps.dev/v1alpha1', kind: 'Organization', name: 'acme', uid: 'uid-acme', controller: true, blockOwnerDeletion: true }]);
    expect(claimOf(d)).toEqual({ kind: 'organization', name: 'acme' });
  });
  it('needs no write only when labels and owner are in place', () => {
    const d = desiredNamespace(org(), 'org-acme');
    expect(needsApply(undefined, d, [])).toBe(true);
    expect(needsApply(ns('org-acme'), d, [])).toBe(true);
    expect(needsApply({ ...d, metadata: { ...d.metadata, labels: { ...d.metadata.labels, extra: 'x' } } }, d, [])).toBe(false);
  });
});
