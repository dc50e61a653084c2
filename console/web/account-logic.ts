// The Users screen's pure parts (seed 000 Security > Users): the Account made from the
// form, its object name, and what its conditions say is wrong. No DOM: unit-tested in
// console/web/account-logic.test.ts.
import type { Obj } from './api.ts';
import { fieldOfError } from './logic.ts';

export interface AccountForm {
  username: string;
  email: string;
  firstName: string;
  lastName: string;
  provisioningAdministrator: boolean;
}

export const EMPTY_ACCOUNT_FORM: AccountForm = { username: '', email: '', firstName: '', lastName: '', provisioningAdministrator: false };

const OBJECT_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/**
 * The Account as the form describes it. Named after the user name when that is a valid
 * object name in lowercase (as the invitation page names accounts), else `account-`
 * with a generated suffix; the API server checks every field (the schema's pattern and
 * email format), so nothing is checked here that it would not say better.
 */
export function accountFromForm(f: AccountForm): Obj {
  const username = f.username.trim();
  const lower = username.toLowerCase();
  return {
    apiVersion: 'miniapps.dev/v1alpha1',
    kind: 'Account',
    metadata: OBJECT_NAME.test(lower) && lower.length <= 63 ? { name: lower } : ({ generateName: 'account-' } as Obj['metadata']),
    spec: { username, email: f.email.trim(), firstName: f.firstName.trim(), lastName: f.lastName.trim(), provisioningAdministrator: f.provisioningAdministrator },
  };
}

/** The edit form of an Account as read. */
export function accountFormOf(a: Obj): AccountForm {
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  return {
    username: str(a.spec?.username),
    email: str(a.spec?.email),
    firstName: str(a.spec?.firstName),
    lastName: str(a.spec?.lastName),
    provisioningAdministrator: a.spec?.provisioningAdministrator === true,
  };
}

/**
 * The merge patch of what the edit form changes of an Account as read (its user name and
 * names: the email is immutable, the administrator flag and the suspension have their own
 * buttons), with the resourceVersion read, so that a form left open while someone else
 * changed the Account is refused (409) rather than writing over them; undefined when
 * nothing changed.
 */
export function accountEditPatch(before: Obj, f: AccountForm): Record<string, unknown> | undefined {
  const was = accountFormOf(before);
  const spec: Record<string, string> = {};
  for (const k of ['username', 'firstName', 'lastName'] as const) if (f[k].trim() !== was[k]) spec[k] = f[k].trim();
  return Object.keys(spec).length ? { metadata: { resourceVersion: before.metadata.resourceVersion }, spec } : undefined;
}

/** The form field an API server refusal names (logic.ts fieldOfError: `spec.email` → `email`; a taken object name is the user name's), else undefined: the message then goes under the form. */
export function accountFieldOfRefusal(message: string | undefined): keyof AccountForm | undefined {
  const path = fieldOfError(
    message,
    Object.keys(EMPTY_ACCOUNT_FORM).map((f) => `spec.${f}`),
  );
  if (path) return path.slice('spec.'.length) as keyof AccountForm;
  return message && /metadata\.name|accounts\.miniapps\.dev "[^"]*" already exists/.test(message) ? 'username' : undefined;
}

export interface Problem {
  type: string;
  reason?: string;
  message?: string;
}

/**
 * The Account's conditions that are False (Ready aside: it only repeats one of them), in
 * their order: a taken user name or email (Stored), a missing ClusterRole
 * (AdministratorBound), a "set your password" email not sent (PasswordSet).
 */
export function accountProblems(o: Obj): Problem[] {
  const conditions = (o.status?.conditions ?? []) as { type: string; status: string; reason?: string; message?: string }[];
  return conditions
    .filter((c) => c.status === 'False' && c.type !== 'Ready' && !(c.type === 'PasswordSet' && c.reason === 'PasswordSetupSent'))
    .map((c) => ({ type: c.type, reason: c.reason, message: c.message }));
}

/** A new value for the resend annotation: any change asks for the email again. */
export const resendValue = (now = new Date()): string => now.toISOString();
