// The tenant administrator's screens' pure logic (no DOM, no Preact), unit-tested in
// console/web/tenant-logic.test.ts: the createUsers body from the form, how a role id is
// read (docs/seed003.md), each role's sources.
import type { Obj } from './api.ts';
import { objectNameOf, splitList } from './logic.ts';

/** A comma-separated field as a list (logic.ts splitList), duplicates kept out. */
export const listOf = (text: string): string[] => [...new Set(splitList(text))];

/** The tenant's user groups to pick from: each UserGroup's name as the manifests write it (its displayName, else its object name), by name. */
export function groupChoices(groups: Obj[]): { name: string; label: string }[] {
  return groups
    .map((g) => ({ name: g.metadata.name, label: typeof g.spec?.displayName === 'string' && g.spec.displayName ? g.spec.displayName : g.metadata.name }))
    .sort((a, b) => a.label.localeCompare(b.label));
}

/** Whether the Groups field names the UserGroup `name`, compared as the operator compares them (`Solutions Owner` and `solutions-owner` are one group). */
export const namesGroup = (groupsText: string, name: string): boolean => listOf(groupsText).some((g) => objectNameOf(g) === name);

/** The Groups field with the group (`name`, written as `label`) added or taken out. */
export function toggleGroup(groupsText: string, choice: { name: string; label: string }, on: boolean): string {
  const rest = listOf(groupsText).filter((g) => objectNameOf(g) !== choice.name);
  return (on ? [...rest, choice.label] : rest).join(', ');
}

/** A User's object name from its userCode (the seed's `user123`), as a mini app's from its app name (logic.ts objectNameOf). */
export const userObjectName = (userCode: string): string => objectNameOf(userCode);

/** The createUsers fields (seed 003), in the seed's order, as typed; the two mobiles and the identification as a field per part. */
export interface UserForm {
  userCode: string;
  userOwnerId: string;
  userOwnerType: string;
  function: string;
  firstName: string;
  middleName: string;
  lastName: string;
  email: string;
  countryCode: string;
  number: string;
  secondaryCountryCode: string;
  secondaryNumber: string;
  groups: string;
  workLocations: string;
  teams: string;
  idType: string;
  idNum: string;
  fileId: string;
  userType: string;
  department: string;
  aaaId: string;
  aaaGroups: string;
  designation: string;
  employmentType: string;
}

export const EMPTY_USER_FORM: UserForm = {
  userCode: '',
  userOwnerId: '',
  userOwnerType: '',
  function: '',
  firstName: '',
  middleName: '',
  lastName: '',
  email: '',
  countryCode: '',
  number: '',
  secondaryCountryCode: '',
  secondaryNumber: '',
  groups: '',
  workLocations: '',
  teams: '',
  idType: '',
  idNum: '',
  fileId: '',
  userType: '',
  department: '',
  aaaId: '',
  aaaGroups: '',
  designation: '',
  employmentType: '',
};

/** The spec's plain text fields, each one form field of the same name. */
const TEXT_FIELDS = [
  'userCode',
  'userOwnerId',
  'userOwnerType',
  'function',
  'firstName',
  'middleName',
  'lastName',
  'email',
  'fileId',
  'userType',
  'department',
  'aaaId',
  'designation',
  'employmentType',
] as const;
/** The spec's lists, each one comma-separated form field of the same name. */
const LIST_FIELDS = ['groups', 'workLocations', 'teams', 'aaaGroups'] as const;
/** The spec's objects of two parts, each part one form field. */
const PAIRS = [
  { key: 'primaryMobile', parts: { countryCode: 'countryCode', number: 'number' } },
  { key: 'secondaryMobile', parts: { countryCode: 'secondaryCountryCode', number: 'secondaryNumber' } },
  { key: 'identification', parts: { idType: 'idType', idNum: 'idNum' } },
] as const satisfies readonly { key: string; parts: Record<string, keyof UserForm> }[];

/**
 * The User spec for the form: the fields as typed (trimmed), empty ones left out, lists
 * split on commas, a mobile or the identification sent when any part of it is filled in.
 * Nothing is checked here: the API server's schema decides (a part left empty is refused
 * there, by its field), and its message is shown next to the form.
 */
export function userSpecFrom(f: UserForm): Record<string, unknown> {
  const spec: Record<string, unknown> = {};
  for (const k of TEXT_FIELDS) {
    const v = f[k].trim();
    if (v) spec[k] = v;
  }
  for (const { key, parts } of PAIRS) {
    const entries = Object.entries(parts).map(([part, field]) => [part, f[field].trim()] as const);
    if (entries.some(([, v]) => v)) spec[key] = Object.fromEntries(entries);
  }
  for (const k of LIST_FIELDS) {
    const l = listOf(f[k]);
    if (l.length) spec[k] = l;
  }
  return spec;
}

/** The form filled from a User (for editing). */
export function userFormOf(u: Obj): UserForm {
  const s = u.spec ?? {};
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  const form: UserForm = { ...EMPTY_USER_FORM };
  for (const k of TEXT_FIELDS) form[k] = str(s[k]);
  for (const { key, parts } of PAIRS) for (const [part, field] of Object.entries(parts)) form[field] = str(s[key]?.[part]);
  for (const k of LIST_FIELDS) form[k] = (Array.isArray(s[k]) ? (s[k] as unknown[]) : []).filter((v) => typeof v === 'string').join(', ');
  return form;
}

/**
 * A merge patch from the User as read to the form as edited: changed fields set, cleared
 * ones removed (null), untouched ones left out; the form's fields only (the seed's other
 * ones, the older `mobiles` list, are kept as they are).
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
 * `spec.primaryMobile.number`, `spec.identification.idNum`), so its message is shown next to
 * that field; undefined when it names none of the form's fields (then it is shown under the form).
 */
export function fieldOfRefusal(message: string): keyof UserForm | undefined {
  const m = /\bspec\.([A-Za-z]+)(?:\.([A-Za-z]+))?/.exec(message);
  if (!m) return undefined;
  const pair = PAIRS.find((p) => p.key === m[1]);
  if (pair) return m[2] ? (pair.parts as Record<string, keyof UserForm>)[m[2]] : undefined;
  return (Object.keys(EMPTY_USER_FORM) as (keyof UserForm)[]).find((k) => k === m[1]);
}
