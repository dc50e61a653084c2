// A User's status from its groups: pure.
import type { LandingPage, UserGroup } from '../../api/usergroup/schema.ts';
import type { Tenant } from '../../api/tenant/schema.ts';
import type { User, UserStatus } from '../../api/user/schema.ts';
import { isSafeLandingPage } from '../../api/constants.ts';
import { groupObjectName } from '../../api/usergroup/names.ts';

/** A designation as compared: the same mapping as a group name's (`New Tenant Admin`, `new-tenant-admin` are one). */
export const designationKey = (designation: string): string => groupObjectName(designation);

/**
 * The groups a user belongs to by their own word and their designation, by UserGroup name:
 * spec.groups (`solutions admin` is the UserGroup `solutions-admin`) and the groups the
 * tenant's spec.designations maps the user's designation to (one or several). Sorted, once each.
 */
export function memberGroups(user: Pick<User, 'spec'>, tenant: Pick<Tenant, 'spec'> | undefined): string[] {
  const key = user.spec.designation ? designationKey(user.spec.designation) : undefined;
  const byDesignation = key ? (tenant?.spec.designations ?? []).filter((d) => designationKey(d.designation) === key).flatMap((d) => d.groups) : [];
  return [...new Set([...(user.spec.groups ?? []), ...byDesignation].map(groupObjectName).filter(Boolean))].sort();
}

export interface ResolvedUser {
  /** spec.groups and the admin groups, sorted. */
  groups: string[];
  /** Groups that do not exist in the namespace. */
  missing: string[];
  effectiveRoles: string[];
  landingPage?: NonNullable<UserStatus['landingPage']>;
}

/**
 * What a user's groups give them: the union of the roles of the groups that exist, and
 * the landing page of highest rank: the lowest rank number (1 before 2), a tie going to
 * the group whose name sorts first. Groups that do not exist are listed, and give nothing.
 * A landing page that is not an `https://` URL or a path (one stored before the schema
 * refused it) is never given.
 */
export function resolveUser(specGroups: readonly string[], adminGroups: readonly string[], groupOf: (name: string) => UserGroup | undefined): ResolvedUser {
  const groups = [...new Set([...specGroups, ...adminGroups].map(groupObjectName))].sort();
  const missing: string[] = [];
  const roles = new Set<string>();
  let landing: { page: LandingPage; group: string } | undefined;
  for (const name of groups) {
    const g = groupOf(name);
    if (!g || g.metadata.deletionTimestamp) {
      missing.push(name);
      continue;
    }
    for (const r of g.spec.roles ?? []) roles.add(r);
    const page = g.spec.landingPage;
    if (page && isSafeLandingPage(page.url) && (!landing || page.rank < landing.page.rank)) landing = { page, group: name };
  }
  return {
    groups,
    missing,
    effectiveRoles: [...roles].sort(),
    ...(landing ? { landingPage: { url: landing.page.url, rank: landing.page.rank, group: landing.group } } : {}),
  };
}
