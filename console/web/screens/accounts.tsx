// Security > Users (seed 000), for provisioning administrators: every Account (user name,
// email, names, administrator, phase and what its conditions say), NEW USER (the seed's word) with the
// seed's labelled fields, Edit (the user name and names, with the resourceVersion read), suspend / lift suspension, make or unmake a provisioning
// administrator, resend the "set your password" email, delete with CONFIRM DELETE. The
// API server decides every write (RBAC: only provisioning administrators write Accounts;
// policy miniapps.dev-account-self: nobody lifts their own suspension or changes their
// own administrator flag), and its message is shown next to the field or row.
import { useState } from 'preact/hooks';
import { clusterPath, create, mergePatch, remove, useWatchList } from '../api.ts';
import type { Obj } from '../api.ts';
import { EMPTY_ACCOUNT_FORM, accountEditPatch, accountFieldOfRefusal, accountFormOf, accountFromForm, accountProblems, resendValue } from '../account-logic.ts';
import type { AccountForm } from '../account-logic.ts';
import { t } from '../i18n.ts';
import { can } from '../model.ts';
import type { Me } from '../model.ts';
import { Check, ConfirmDelete, Field, ListView, Refusal, Table, useRowErrors } from '../ui.tsx';

export const RESEND_ANNOTATION = 'miniapps.dev/resend-password-setup';

const TEXT_FIELDS = [
  ['username', 'User name', 'account-username', 'text'],
  ['email', 'Email', 'account-email', 'email'],
  ['firstName', 'First name', 'account-first', 'text'],
  ['lastName', 'Last name', 'account-last', 'text'],
] as const;

/** Each write is offered only when the rules review allows it (someone who may only read Accounts sees the list, no buttons). */
export function Accounts({ me }: { me: Me }) {
  const mayCreate = can(me.cluster, 'accounts', 'create');
  const mayPatch = can(me.cluster, 'accounts', 'patch');
  const mayDelete = can(me.cluster, 'accounts', 'delete');
  const list = useWatchList<Obj>(clusterPath('accounts'));
  const [open, setOpen] = useState(false);
  // The Account as read when its Edit was pressed (the form then edits it; else it makes a new one).
  const [editing, setEditing] = useState<Obj>();
  const [form, setForm] = useState<AccountForm>(EMPTY_ACCOUNT_FORM);
  const [error, setError] = useState<string>();
  const [deleting, setDeleting] = useState<string>();
  // The note's words and values, translated when shown: a language switched afterwards applies to it too.
  const [note, setNote] = useState<[string, ...string[]]>();
  const [rowErrors, attempt] = useRowErrors();
  const at = accountFieldOfRefusal(error);
  const sorted = [...list.items].sort((a, b) => String(a.spec?.username).localeCompare(String(b.spec?.username)));

  async function submit(ev: Event) {
    ev.preventDefault();
    setError(undefined);
    setNote(undefined);
    try {
      if (editing) {
        const body = accountEditPatch(editing, form);
        if (body) await mergePatch(clusterPath('accounts', editing.metadata.name), body);
        setNote(['Saved.']);
        setEditing(undefined);
      } else {
        const made = await create<Obj>(clusterPath('accounts'), accountFromForm(form));
        setNote(['Account {0} is made: a "set your password" email goes to {1}.', made.metadata.name, made.spec?.email ?? '']);
      }
      setForm(EMPTY_ACCOUNT_FORM);
      setOpen(false);
    } catch (err) {
      setError((err as Error).message);
    }
  }

  const patch = (name: string, body: unknown) => attempt(name, () => mergePatch(clusterPath('accounts', name), body));
  const showForm = (account?: Obj) => {
    setEditing(account);
    setForm(account ? accountFormOf(account) : EMPTY_ACCOUNT_FORM);
    setError(undefined);
    setOpen(true);
  };
  const title = editing ? t('Edit user') : t('NEW USER');

  return (
    <section aria-labelledby="accounts-title">
      <h2 id="accounts-title">{t('Users')}</h2>
      {mayCreate ? (
        <button type="button" onClick={() => showForm()}>
          {t('NEW USER')}
        </button>
      ) : null}
      {note ? <p role="status">{t(...note)}</p> : null}
      {open ? (
        <form class="card" onSubmit={submit} aria-labelledby="account-form-title" noValidate>
          <h3 id="account-form-title">{title}</h3>
          {TEXT_FIELDS.map(([key, label, id, type]) => (
            <>
              <Field label={t(label)} id={id}>
                <input
                  id={id}
                  type={type as 'text'}
                  required
                  readOnly={editing !== undefined && key === 'email'}
                  value={form[key]}
                  aria-invalid={at === key ? 'true' : undefined}
                  aria-describedby={at === key ? `${id}-error` : undefined}
                  onInput={(e) => setForm({ ...form, [key]: (e.target as HTMLInputElement).value })}
                />
              </Field>
              {at === key ? <Refusal error={error} id={`${id}-error`} /> : null}
            </>
          ))}
          {editing ? null : (
            <Check id="account-admin" label={t('Is provisioning administrator?')} checked={form.provisioningAdministrator} onChange={(v) => setForm({ ...form, provisioningAdministrator: v })} />
          )}
          <button type="submit">{editing ? t('SAVE') : t('CONFIRM')}</button>
          <button
            type="button"
            class="secondary"
            onClick={() => {
              setOpen(false);
              setEditing(undefined);
            }}
          >
            {t('Cancel')}
          </button>
          {error && (!at || at === 'provisioningAdministrator') ? <Refusal error={error} id="account-error" /> : null}
        </form>
      ) : null}
      {deleting ? (
        <ConfirmDelete
          id="account-delete"
          title={t('Delete user')}
          what={deleting}
          button={t('Delete user')}
          onConfirm={async () => {
            await remove(clusterPath('accounts', deleting));
            setDeleting(undefined);
          }}
          onCancel={() => setDeleting(undefined)}
        />
      ) : null}
      <ListView state={list} count={sorted.length}>
        {() => (
          <Table columns={[t('User name'), t('Email'), t('First name'), t('Last name'), t('Is provisioning administrator?'), t('Status'), t('Actions')]}>
            {sorted.map((a) => {
              const n = a.metadata.name;
              const suspended = a.spec?.suspended === true;
              const administrator = a.spec?.provisioningAdministrator === true;
              const problems = accountProblems(a);
              return (
                <tr key={n} data-account={n}>
                  <td>{a.spec?.username}</td>
                  <td>{a.spec?.email}</td>
                  <td>{a.spec?.firstName}</td>
                  <td>{a.spec?.lastName}</td>
                  <td>{administrator ? t('Yes') : t('No')}</td>
                  <td>
                    <span data-phase>{a.status?.phase ? t(a.status.phase) : '—'}</span>
                    {a.status?.passwordSetup?.sentAt ? <small class="why"> {t('"Set your password" email sent {0}', a.status.passwordSetup.sentAt)}</small> : null}
                    {problems.map((p) => (
                      <small class="why" data-condition={p.type}>
                        {' '}
                        {p.type}: {p.reason} {p.message}
                      </small>
                    ))}
                  </td>
                  <td>
                    {mayPatch ? (
                      <>
                        <button type="button" class="secondary" aria-label={t('Edit {0}', n)} onClick={() => showForm(a)}>
                          {t('Edit')}
                        </button>
                        <button
                          type="button"
                          class={suspended ? 'secondary' : 'danger'}
                          aria-label={t(suspended ? 'Lift suspension of {0}' : 'Suspend {0}', n)}
                          onClick={() => void patch(n, { spec: { suspended: !suspended } })}
                        >
                          {t(suspended ? 'Lift suspension' : 'Suspend')}
                        </button>
                        <button
                          type="button"
                          class="secondary"
                          aria-label={t(administrator ? 'Remove provisioning administrator {0}' : 'Make provisioning administrator {0}', n)}
                          onClick={() => void patch(n, { spec: { provisioningAdministrator: !administrator } })}
                        >
                          {t(administrator ? 'Remove provisioning administrator' : 'Make provisioning administrator')}
                        </button>
                        {a.status?.phase === 'Pending' ? (
                          <button
                            type="button"
                            class="secondary"
                            aria-label={t('Resend email to {0}', n)}
                            onClick={() => void patch(n, { metadata: { annotations: { [RESEND_ANNOTATION]: resendValue() } } })}
                          >
                            {t('Resend email')}
                          </button>
                        ) : null}
                      </>
                    ) : null}
                    {me.provisioningAdministrator ? (
                      <a class="button secondary" href={`#/userkeys/${encodeURIComponent(a.spec?.email ?? '')}`} aria-label={t('Keys of {0}', n)}>
                        {t('Keys')}
                      </a>
                    ) : null}
                    {mayDelete ? (
                      <button type="button" class="danger" aria-label={t('Delete {0}', n)} onClick={() => setDeleting(n)}>
                        {t('Delete')}
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
    </section>
  );
}
