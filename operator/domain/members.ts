// What a Membership means to every kind that asks: who is an active member, who an
// active administrator. Pure functions of the Membership.
import type { Membership } from '../api/membership/schema.ts';

/** A member whose role is bound: accepted (or acceptance Automatic) and not suspended. */
export function isActiveMember(m: Membership): boolean {
  return !m.spec.suspended && (m.spec.acceptance === 'Automatic' || !!m.status?.acceptedAt);
}

/** An administrator who holds the role now: active and not suspended. */
export function isActiveAdministrator(m: Membership): boolean {
  return m.spec.role === 'OrganizationAdministrator' && isActiveMember(m);
}
