// Which organization model the platform follows (PlatformConfig spec.organizationModel):
// the Mini App Center's (seed 000: provisioning administrators make organizations; four
// roles) or App Center's (seed 002: anyone signed in makes their own organization and
// becomes its Admin; Admin, Collaborator, Member; Collaborators and Members see only the
// apps they belong to). See docs/people.md.

import { GROUP } from './constants.ts';

/** The roles of the Mini App Center's organization model (seed 000; organizationModel MiniAppCenter). */
export const MiniAppCenterRoles = ['OrganizationAdministrator', 'SuperAppAdministrator', 'MiniAppDeveloper', 'MiniAppReviewer'] as const;
export type MiniAppCenterRole = (typeof MiniAppCenterRoles)[number];
/**
 * The roles of App Center's organization model (seed 002; organizationModel AppCenter):
 * its Admin is OrganizationAdministrator (administrator of every app, the settings and
 * the people: the same role, so the last-administrator rule is one rule), Collaborator
 * and Member.
 */
export const AppCenterRoles = ['OrganizationAdministrator', 'Collaborator', 'Member'] as const;
export type AppCenterRole = (typeof AppCenterRoles)[number];
/** Every role a Membership may name; which of them apply is PlatformConfig organizationModel's choice. */
export const Roles = ['OrganizationAdministrator', 'SuperAppAdministrator', 'MiniAppDeveloper', 'MiniAppReviewer', 'Collaborator', 'Member'] as const;
export type Role = (typeof Roles)[number];

export const OrganizationModels = ['MiniAppCenter', 'AppCenter'] as const;
export type OrganizationModel = (typeof OrganizationModels)[number];
export const DEFAULT_ORGANIZATION_MODEL: OrganizationModel = 'MiniAppCenter';

/**
 * Who created an Organization, SuperApp or MiniApp: the creator's Kubernetes user name
 * (PlatformConfig userPrefix + the email in lowercase). An admission policy makes the API
 * server accept only the requester's own user name at creation, and no change afterwards:
 * the operator then makes an App Center organization's creator its administrator, and
 * gives an App Center Collaborator or Member the apps they created.
 */
export const CREATED_BY_ANNOTATION = `${GROUP}/created-by`;

/** The ClusterRole that lets people make their own Organizations (bound to system:authenticated with organizationModel AppCenter). */
export const ORGANIZATION_CREATOR_ROLE = 'miniapps:organization-creator';
/** The group every authenticated request carries. */
export const AUTHENTICATED_GROUP = 'system:authenticated';
/** The Membership the operator makes for an App Center organization's creator. */
export const CREATOR_MEMBERSHIP_NAME = 'creator';

/**
 * The condition an App Center Organization reports about its creator (with
 * organizationModel AppCenter and the miniapps.dev/created-by annotation; it does not gate
 * Ready): the creator's Membership (OrganizationAdministrator, acceptance Automatic) was
 * made, or why not.
 */
export const CREATOR_CONDITION = 'CreatorAdministrator';
export const CreatorReasons = {
  /** The creator's Membership exists (or the organization already has members: it is made only for an organization without any). */
  CreatorMembershipMade: 'CreatorMembershipMade',
  /** The organization's namespace is not recorded yet (a Membership is admitted only there). */
  CreatorMembershipPending: 'CreatorMembershipPending',
  /** The creator's user name is not PlatformConfig userPrefix followed by an email: no Membership can name them. */
  CreatorNotAPerson: 'CreatorNotAPerson',
} as const;

/**
 * The ConfigMap the operator makes, empty and labelled miniapps.dev/icon=true, in each
 * organization namespace (seed 002's organization icon): the organization's
 * administrators may get and patch it by name (and nothing else of the namespace's
 * ConfigMaps), so they set the icon with their own rights, e.g. `kubectl create configmap
 * organization-icon --from-file=icon.png --dry-run=client -o yaml | kubectl apply
 * --server-side -f -`, then point spec.icon at it.
 */
export const ORGANIZATION_ICON_CONFIGMAP = 'organization-icon';
