// The tenant administrator's screens' pure logic (no DOM, no Preact), unit-tested in
// console/web/tenant-logic.test.ts: the createUsers body from the form, how a role id is
// read (docs/seed003.md), each role's sources.
import type { Obj } from './api.ts';
import { objectNameOf, splitList } from './logic.ts';

/** A comma-separated field as a list (logic.ts splitList), duplicates kept out. */
export const listOf = (text: string): string[] => [...new Set(splitList(text))];

/** A User's object name from its userCode (the seed's `user123`), as a mini app's from its app name (logic.ts objectNameOf). */
export const userObjectName = (userCode: string): string => objectNameOf(userCode);

/** The createUsers fields the form offers (seed 003), as typed. */
export interface UserForm {
  userCode: string;
  firstName: string;
  middleName: string;
  lastName: string;
  email: string;
  countryCode: string;
  number: string;
  groups: string;
  designation: string;
  workLocations: string;
  teams: string;
  userType: string;
  department: string;
  employmentType: string;
}

export const EMPTY_USER_FORM: UserForm = {
  userCode: '',
  firstName: '',
  middleName: '',
  lastName: '',
  email: '',
  countryCode: '',
  number: '',
  groups: '',
  designation: '',
  workLocations: '',
  teams: '',
  userType: '',
  department: '',
  employmentType: '',
};

/**
 * The User spec for the form: the fields as typed (trimmed), empty ones left out, lists
 * split on commas. Nothing is checked here: the API server's schema decides, and its
 * message is shown next to the form.
 */
export function userSpecFrom(f: UserForm): Record<string, unknown> {
  const spec: Record<string, unknown> = {};
  const text = (k: keyof UserForm) => {
    const v = f[k].trim();
    if (v) spec[k] = v;
  };
  for (const k of ['userCode', 'firstName', 'middleName', 'lastName', 'email', 'designation', 'userType', 'department', 'employmentType'] as const) text(k);
  if (f.countryCode.trim() || f.number.trim()) spec.primaryMobile = { countryCode: f.countryCode.trim(), number: f.number.trim() };
  for (const k of ['groups', 'workLocations', 'teams'] as const) {
    const l = listOf(f[k]);
    if (l.length) spec[k] = l;
  }
  return spec;
}

/** The form filled from a User (for editing). */
export function userFormOf(u: Obj): UserForm {
  const s = u.spec ?? {};
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  return {
    userCode: str(s.userCode),
    firstName: str(s.firstName),
    middleName: str(s.middleName),
    lastName: str(s.lastName),
    email: str(s.email),
    countryCode: str(s.primaryMobile?.countryCode),
    number: str(s.primaryMobile?.number),
    groups: (s.groups ?? []).join(', '),
    designation: str(s.designation),
    workLocations: (s.workLocations ?? []).join(', '),
    teams: (s.teams ?? []).join(', '),
    userType: str(s.userType),
    department: str(s.department),
    employmentType: str(s.employmentType),
  };
}

/**
 * A merge patch from the User as read to the form as edited: changed fields set, cleared
 * ones removed (null), untouched ones left out; the form's fields only (the seed's other
 * fields, identification among them, are kept as they are).
 */
export function userPatch(before: Obj, f: UserForm): Record<string, unknown> {
  const now = userSpecFrom(f);
  const was = userSpecFrom(userFormOf(before));
  const patch: Record<string, unknown> = {};
  for (const k of new Set([...Object.keys(now), ...Object.keys(was)])) {
    if (JSON.stringify(now[k]) !== JSON.stringify(was[k])) patch[k] = now[k] ?? null;
  }
  return patch;
}

/**
 * A role id as docs/seed003.md reads it: the role name is the last colon-separated part,
 * the listing everything between `role:` (or `platform:role:`) and it.
 */
export function roleParts(role: string): { listing: string; name: string } {
  const body = role.startsWith('platform:role:') ? role.slice('platform:role:'.length) : role.startsWith('role:') ? role.slice('role:'.length) : role;
  const i = body.lastIndexOf(':');
  return i < 0 ? { listing: '', name: body } : { listing: body.slice(0, i), name: body.slice(i + 1) };
}

/** Each role of a group with where it comes from (status.roleSources; a role without one is shown as from the group's spec). */
export function rolesWithSources(group: Obj): { role: string; sources: string[] }[] {
  const sources = new Map<string, string[]>(((group.status?.roleSources ?? []) as { role: string; sources?: string[] }[]).map((r) => [r.role, r.sources ?? []]));
  const roles: string[] = group.status?.effectiveRoles ?? group.spec?.roles ?? [];
  const all = [...new Set([...roles, ...sources.keys()])].sort();
  return all.map((role) => ({ role, sources: sources.get(role) ?? [] }));
}

/** The onboarding stage of each solution offered to the tenant, with the Subscription that names it (if any). */
export function solutionsOf(tenant: Obj | undefined, subscriptions: Obj[]): { solution: string; stage: string; subscription?: Obj; userGroups: string[] }[] {
  const bySolution = new Map(subscriptions.map((s) => [`${s.spec?.solution?.organization}/${s.spec?.solution?.name}`, s]));
  const rows = ((tenant?.status?.solutions ?? []) as { solution: string; stage: string; userGroups?: string[] }[]).map((s) => ({
    solution: s.solution,
    stage: s.stage,
    subscription: bySolution.get(s.solution),
    userGroups: s.userGroups ?? [],
  }));
  // A subscription to a solution no longer offered (or made by a provisioning administrator directly) is shown too.
  for (const [solution, subscription] of bySolution) if (!rows.some((r) => r.solution === solution)) rows.push({ solution, stage: 'Subscribed', subscription, userGroups: [] });
  return rows.sort((a, b) => a.solution.localeCompare(b.solution));
}

/**
 * The form field an API server refusal names (`spec.email: Invalid value ...`,
 * `spec.primaryMobile.number`), so its message is shown next to that field; undefined when
 * it names none of the form's fields (then it is shown under the form).
 */
export function fieldOfRefusal(message: string): keyof UserForm | undefined {
  const m = /\bspec\.([A-Za-z]+)(?:\.([A-Za-z]+))?/.exec(message);
  if (!m) return undefined;
  if (m[1] === 'primaryMobile') return m[2] === 'countryCode' ? 'countryCode' : m[2] === 'number' ? 'number' : undefined;
  return (Object.keys(EMPTY_USER_FORM) as (keyof UserForm)[]).find((k) => k === m[1]);
}
