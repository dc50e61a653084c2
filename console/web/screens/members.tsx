// Members (seeds 000, 002): invite by email with a role, change a role, remove, leave.
// The last-admin rule is the API server's: its refusal is shown next to the row. For whoever
// may read the namespace's Events, the Memberships' recent events (an invitation sent, or why not).
import { useState } from 'preact/hooks';
import { type ApiError, clusterPath, create, mergePatch, nsPath, remove, useWatchList } from '../api.ts';
import type { Obj } from '../api.ts';
import { ROLES, roleName, t } from '../i18n.ts';
import { can } from '../model.ts';
import type { MyOrganization } from '../model.ts';
import { ConfirmDelete, Field, ListView, Refusal, Table, useRowErrors } from '../ui.tsx';
import { RecentEvents } from './events.tsx';

export function Members({ org }: { org: MyOrganization }) {
  const ns = org.namespace!;
  const list = useWatchList<Obj>(can(org.access, 'memberships', 'list') ? nsPath(ns, 'memberships') : undefined);
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<string>('MiniAppDeveloper');
  const [inviteError, setInviteError] = useState<string>();
  const [rowErrors, attempt] = useRowErrors();
  const [busy, setBusy] = useState(false);
  const mayInvite = can(org.access, 'memberships', 'create');
  const mine = org.membership?.name;

  async function invite(ev: Event) {
    ev.preventDefault();
    setBusy(true);
    setInviteError(undefined);
    try {
      await create(nsPath(ns, 'memberships'), { apiVersion: 'miniapps.dev/v1alpha1', kind: 'Membership', metadata: { generateName: 'member-', namespace: ns }, spec: { email: email.trim(), role } });
      setEmail('');
    } catch (err) {
      setInviteError((err as ApiError).message);
    } finally {
      setBusy(false);
    }
  }

  const changeRole = (m: Obj, newRole: string) => attempt(m.metadata.name, () => mergePatch(nsPath(ns, 'memberships', m.metadata.name), { spec: { role: newRole } }));
  const suspend = (m: Obj, suspended: boolean) => attempt(m.metadata.name, () => mergePatch(nsPath(ns, 'memberships', m.metadata.name), { spec: { suspended } }));
  // Every new value of the annotation asks the operator to send the invitation again.
  const resend = (m: Obj) =>
    attempt(m.metadata.name, () => mergePatch(nsPath(ns, 'memberships', m.metadata.name), { metadata: { annotations: { 'miniapps.dev/resend-invitation': new Date().toISOString() } } }));
  const drop = (m: Obj) => attempt(m.metadata.name, () => remove(nsPath(ns, 'memberships', m.metadata.name)));

  const items = [...list.items].sort((a, b) => String(a.spec?.email).localeCompare(String(b.spec?.email)));
  return (
    <section aria-labelledby="members-title">
      <h2 id="members-title">{t('Members')}</h2>
      {mayInvite ? (
        <form class="card" onSubmit={invite} aria-labelledby="invite-title" noValidate>
          <h3 id="invite-title">{t('Invite new member')}</h3>
          <Field label={t('Email')} id="invite-email">
            <input
              id="invite-email"
              type="email"
              required
              value={email}
              onInput={(e) => setEmail((e.target as HTMLInputElement).value)}
              aria-describedby={inviteError ? 'invite-error' : undefined}
              aria-invalid={inviteError ? 'true' : undefined}
            />
          </Field>
          <Field label={t('Role')} id="invite-role">
            <select id="invite-role" value={role} onChange={(e) => setRole((e.target as HTMLSelectElement).value)}>
              {ROLES.map((r) => (
                <option value={r}>{roleName(r)}</option>
              ))}
            </select>
          </Field>
          <button type="submit" disabled={busy}>
            {t('SEND')}
          </button>
          <Refusal error={inviteError} id="invite-error" />
        </form>
      ) : null}
      <ListView state={list} count={items.length}>
        {() => (
          <Table columns={[t('Email'), t('Role'), t('Status'), t('Actions')]}>
            {items.map((m) => {
              const n = m.metadata.name;
              const mayChange = can(org.access, 'memberships', 'update', n) || can(org.access, 'memberships', 'patch', n);
              const mayDelete = can(org.access, 'memberships', 'delete', n);
              const invitation = (m.status?.conditions as any[] | undefined)?.find((c) => c.type === 'InvitationSent' && c.status === 'False');
              return (
                <tr key={n} data-member={m.spec?.email}>
                  <td>{m.spec?.email}</td>
                  <td>
                    {mayChange ? (
                      <>
                        <label class="sr-only" for={`role-${n}`}>
                          {t('Change role of {0}', m.spec?.email)}
                        </label>
                        <select id={`role-${n}`} value={m.spec?.role} onChange={(e) => void changeRole(m, (e.target as HTMLSelectElement).value)}>
                          {ROLES.map((r) => (
                            <option value={r}>{roleName(r)}</option>
                          ))}
                        </select>
                      </>
                    ) : (
                      roleName(m.spec?.role)
                    )}
                  </td>
                  <td>
                    {m.status?.phase ?? '—'}
                    {invitation ? (
                      <small class="why">
                        {' '}
                        {invitation.reason}: {invitation.message}
                      </small>
                    ) : null}
                  </td>
                  <td>
                    {mayChange && n !== mine ? (
                      <button
                        type="button"
                        class="secondary"
                        aria-label={m.spec?.suspended ? t('Reactivate {0}', m.spec?.email) : t('Suspend {0}', m.spec?.email)}
                        onClick={() => void suspend(m, !m.spec?.suspended)}
                      >
                        {m.spec?.suspended ? t('Reactivate') : t('Suspend')}
                      </button>
                    ) : null}
                    {mayChange && (m.status?.phase === 'Invited' || m.status?.phase === 'Expired') ? (
                      <button type="button" class="secondary" aria-label={t('Resend invitation to {0}', m.spec?.email)} onClick={() => void resend(m)}>
                        {t('Resend invitation')}
                      </button>
                    ) : null}
                    {mayDelete ? (
                      <button type="button" class="secondary" aria-label={n === mine ? t('Leave') : t('Remove {0}', m.spec?.email)} onClick={() => void drop(m)}>
                        {n === mine ? t('Leave') : t('Remove')}
                      </button>
                    ) : null}
                    <Refusal error={rowErrors[n]} />
                  </td>
                </tr>
              );
            })}
          </Table>
        )}
      </ListView>
      <RecentEvents ns={ns} access={org.access} kind="Membership" objectLabel={t('Email')} labelOf={(name) => list.items.find((m) => m.metadata.name === name)?.spec?.email ?? name} />
      {can(org.access, 'organizations', 'delete', org.name) ? <DeleteOrganization org={org} /> : null}
    </section>
  );
}

/** Deleting the organization (seed 002), confirmed with CONFIRM DELETE: the annotation the API server's policy asks for, then the delete. */
function DeleteOrganization({ org }: { org: MyOrganization }) {
  const path = clusterPath('organizations', org.name);
  return (
    <ConfirmDelete
      id="delete-org-confirm"
      title={t('Delete organization')}
      what={org.displayName ?? org.name}
      button={t('Delete organization')}
      onConfirm={async (typed) => {
        await mergePatch(path, { metadata: { annotations: { 'miniapps.dev/confirm-delete': typed } } });
        await remove(path);
        location.hash = '#/';
      }}
    />
  );
}
