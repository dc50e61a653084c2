// Minimal types of the rbac.authorization.k8s.io/v1 objects the controllers generate,
// and how a person's email or group becomes an RBAC subject. The object types are
// type aliases (not interfaces) so that they are assignable to ObjectBody and can be
// passed as they are to `client.apply(Resources.Role, obj)`.

import { createHash } from 'node:crypto';
import { lowerAscii } from '../api/constants.ts';
import type { ObjectMetaLike } from '../runtime/kube/client.ts';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';
export const RBAC_API_VERSION = `${RBAC_GROUP}/v1`;

/** Read: what "read" means in the contract's role table. */
export const READ_VERBS = ['get', 'list', 'watch'] as const;
/** What "all verbs" means in the contract's role table. */
export const ALL_VERBS = [...READ_VERBS, 'create', 'update', 'patch', 'delete', 'deletecollection'] as const;

export type PolicyRule = {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  /** Limits the rule to these objects; requests for a collection (list, create) never match it. */
  resourceNames?: string[];
};

export type Subject = { kind: 'User' | 'Group'; apiGroup: typeof RBAC_GROUP; name: string } | { kind: 'ServiceAccount'; name: string; namespace: string };

export type RoleRef = { apiGroup: typeof RBAC_GROUP; kind: 'Role' | 'ClusterRole'; name: string };

/** A namespaced Role (named RbacRole: `Role` is a member's role in the API). */
export type RbacRole = { apiVersion: typeof RBAC_API_VERSION; kind: 'Role'; metadata: ObjectMetaLike & { name: string; namespace: string }; rules: PolicyRule[] };
export type RoleBinding = { apiVersion: typeof RBAC_API_VERSION; kind: 'RoleBinding'; metadata: ObjectMetaLike & { name: string; namespace: string }; roleRef: RoleRef; subjects: Subject[] };
export type ClusterRole = { apiVersion: typeof RBAC_API_VERSION; kind: 'ClusterRole'; metadata: ObjectMetaLike & { name: string }; rules: PolicyRule[] };
export type ClusterRoleBinding = { apiVersion: typeof RBAC_API_VERSION; kind: 'ClusterRoleBinding'; metadata: ObjectMetaLike & { name: string }; roleRef: RoleRef; subjects: Subject[] };

/**
 * The Kubernetes user name of a person: `userPrefix` + the email lowercased.
 *
 * Kubernetes compares user names case-sensitively, while people (and whoever writes a
 * Membership) do not. Every subject the operator writes therefore uses the lowercased
 * email, so `Alice@Example.com` and `alice@example.com` are one person with one binding.
 * The cluster's authenticator must emit lowercased emails: identity providers such as
 * Google and Keycloak do; otherwise map the claim, e.g. with the structured
 * authentication configuration `claimMappings.username.expression:
 * "'oidc:' + claims.email.lowerAscii()"`.
 */
export function userName(userPrefix: string, email: string): string {
  return `${userPrefix}${lowerAscii(email)}`;
}

export function userSubject(userPrefix: string, email: string): Subject {
  return { kind: 'User', apiGroup: RBAC_GROUP, name: userName(userPrefix, email) };
}

/** A group subject: `groupPrefix` + the group as the authenticator names it (case kept). */
export function groupSubject(groupPrefix: string, group: string): Subject {
  return { kind: 'Group', apiGroup: RBAC_GROUP, name: `${groupPrefix}${group}` };
}

/** Subjects sorted by kind then name, without duplicates: a stable list for apply. */
export function sortedSubjects(subjects: Subject[]): Subject[] {
  const unique = new Map(subjects.map((s) => [`${s.kind}/${s.name}`, s]));
  return [...unique.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, s]) => s);
}

/** A short, stable hash (16 hex digits of SHA-256) for names built from free text. */
export function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}
