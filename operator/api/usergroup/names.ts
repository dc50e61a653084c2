// The names of the usergroup slice: conditions, reasons, labels, annotations and limits, as plain
// values (no TypeBox): the operator process imports them.
import { GROUP } from '../constants.ts';

/**
 * The name of the UserGroup made from a manifest's group name (`solutions owner` →
 * `solutions-owner`): lowercased, every run of characters other than letters and digits
 * one dash, none at either end.
 */
export function groupObjectName(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** On a UserGroup a subscription manages: SHA-256 of what the operator last applied to it (what it compares to decide whether to apply again). */
export const GROUP_DIGEST_ANNOTATION = `${GROUP}/applied-digest`;

export const UserGroupConditions = {
  Ready: 'Ready',
  /**
   * Only while subscriptions name the group that may not manage it (it was made by hand, or
   * another organization's subscriptions made it): False, naming them. Does not gate Ready.
   */
  Uncontested: 'Uncontested',
} as const;

export const UserGroupReasons = {
  Ready: 'Ready',
  /** Subscriptions name the group but may not manage it (see UserGroupConditions.Uncontested). */
  UserGroupConflict: 'UserGroupConflict',
} as const;
