// A User's status from its groups: pure.
import type { LandingPage, UserGroup, UserStatus } from '../../api/index.ts';
import { isSafeLandingPage } from '../../api/constants.ts';

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
  const groups = [...new Set([...specGroups, ...adminGroups])].sort();
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
