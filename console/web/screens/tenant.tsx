// The tenant administrator's screens (seed 003): subscriptions and onboarding, the user
// groups with each role's source, users (the createUsers fields, designation; edit;
// delete), a user's landing page, and the roles a frontend app's token would carry (the
// operator's token-roles API, asked with the person's own token). Each screen names the
// object it shows; what the rules review does not allow is not offered, and the API
// server still decides every request.
import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import { type ApiError, call, clusterPath, create, mergePatch, nsPath, remove, usePolledObjects, useWatchList } from '../api.ts';
import type { Obj } from '../api.ts';
import { stageName, t } from '../i18n.ts';
import { can } from '../model.ts';
import type { MyTenant } from '../model.ts';
import {
  EMPTY_USER_FORM,
  fieldOfRefusal,
  groupChoices,
  namesGroup,
  roleParts,
  rolesWithSources,
  solutionsOf,
  toggleGroup,
  userFormOf,
  userObjectName,
  userPatch,
  userSpecFrom,
} from '../tenant-logic.ts';
import type { UserForm } from '../tenant-logic.ts';
import { Check, ConfirmDelete, Field, ListView, Loading, ReadyCell, Refusal, Saved, Table, useRowErrors } from '../ui.tsx';

export const TENANT_TABS = [
  { id: 'subscriptions', label: 'Subscriptions', shown: (x: MyTenant) => can(x.access, 'subscriptions', 'list') },
  { id: 'groups', label: 'User groups', shown: (x: MyTenant) => can(x.access, 'usergroups', 'list') },
  { id: 'users', label: 'Users', shown: (x: MyTenant) => can(x.access, 'users', 'list') },
] as const;

type Condition = { type: string; status: string; reason?: string; message?: string };

/** Every condition of an object, as people read them (the False ones say why and how to fix it). */
function Conditions({ o }: { o?: Obj }) {
  const list = (o?.status?.conditions ?? []) as Condition[];
  if (list.length === 0) return <span>—</span>;
  return (
    <ul class="plain">
      {list.map((c) => (
        <li key={c.type} class={c.status === 'True' ? 'ok' : 'warn'}>
          {c.type}: {c.status}
          {c.reason ? ` (${c.reason})` : ''}
          {c.status !== 'True' && c.message ? <small class="why"> {c.message}</small> : null}
        </li>
      ))}
    </ul>
  );
}

export function TenantPage({ tenant, tab, user }: { tenant: MyTenant; tab?: string; user?: string }) {
  const tabs = TENANT_TABS.filter((x) => x.shown(tenant));
  const current = tabs.find((x) => x.id === tab) ?? tabs[0];
  return (
    <>
      <h1>
        {tenant.displayName ?? tenant.name} <small>· {t('Tenant administrator')}</small>
      </h1>
      <nav class="tabs" aria-label={t('Tenant')}>
        {tabs.map((x) => (
          <a href={`#/tenants/${tenant.name}/${x.id}`} aria-current={x === current && !user ? 'page' : undefined}>
            {t(x.label)}
          </a>
        ))}
      </nav>
      {current?.id === 'subscriptions' ? <Subscriptions tenant={tenant} /> : null}
      {current?.id === 'groups' ? <Groups tenant={tenant} /> : null}
      {current?.id === 'users' && !user ? <Users tenant={tenant} /> : null}
      {current?.id === 'users' && user ? <UserPage tenant={tenant} name={user} /> : null}
    </>
  );
}

/** Subscriptions and onboarding: each solution offered to the tenant (Tenant status.solutions) with its stage, and the Subscriptions' conditions. */
function Subscriptions({ tenant }: { tenant: MyTenant }) {
  const ns = tenant.namespace!;
  const self = usePolledObjects<Obj>([clusterPath('tenants', tenant.name)]);
  const subs = useWatchList<Obj>(nsPath(ns, 'subscriptions'));
  const [errors, attempt] = useRowErrors();
  const mayCreate = can(tenant.access, 'subscriptions', 'create');
  const obj = self.items[0];
  const rows = solutionsOf(obj, subs.items);

  function subscribe(solution: string) {
    const [organization, name] = solution.split('/');
    return attempt(solution, () =>
      create(nsPath(ns, 'subscriptions'), {
        apiVersion: 'miniapps.dev/v1alpha1',
        kind: 'Subscription',
        metadata: { name: `${organization}-${name}`.slice(0, 63), namespace: ns },
        spec: { solution: { organization, name } },
      }),
    );
  }

  return (
    <section aria-labelledby="subs-title">
      <h2 id="subs-title">{t('Subscriptions')}</h2>
      <p>
        {t('Tenant')} <code>{tenant.name}</code> · {t('Namespace')} <code>{ns}</code>
      </p>
      <h3>{t('Onboarding')}</h3>
      {obj ? <Conditions o={obj} /> : <Loading />}
      <ListView state={subs} count={rows.length} empty={t('No solution is onboarded to this tenant yet.')}>
        {() => (
          <Table columns={[t('Solution'), t('Stage'), t('Subscription'), t('Status'), t('Actions')]}>
            {rows.map((r) => (
              <tr key={r.solution} data-solution={r.solution}>
                <td>{r.solution}</td>
                <td>
                  {stageName(r.stage)}
                  {r.userGroups.length ? <small class="why"> {r.userGroups.join(', ')}</small> : null}
                </td>
                <td>
                  {r.subscription ? <code>{r.subscription.metadata.name}</code> : '—'}
                  {r.subscription?.status?.version ? (
                    <small class="why">
                      {' '}
                      {t('Version')} {r.subscription.status.version}
                    </small>
                  ) : null}
                </td>
                <td>{r.subscription ? <Conditions o={r.subscription} /> : '—'}</td>
                <td>
                  {!r.subscription && mayCreate ? (
                    <button type="button" aria-label={t('Subscribe to {0}', r.solution)} onClick={() => void subscribe(r.solution)}>
                      {t('Subscribe')}
                    </button>
                  ) : null}
                  <Refusal error={errors[r.solution]} />
                </td>
              </tr>
            ))}
          </Table>
        )}
      </ListView>
    </section>
  );
}

/** The user groups (UserGroup), each role with its source (status.roleSources). */
function Groups({ tenant }: { tenant: MyTenant }) {
  const list = useWatchList<Obj>(nsPath(tenant.namespace!, 'usergroups'));
  const items = [...list.items].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  return (
    <section aria-labelledby="groups-title">
      <h2 id="groups-title">{t('User groups')}</h2>
      <ListView state={list} count={items.length}>
        {() =>
          items.map((g) => {
            const roles = rolesWithSources(g);
            return (
              <article class="card" key={g.metadata.name} data-group={g.metadata.name} aria-labelledby={`group-${g.metadata.name}`}>
                <h3 id={`group-${g.metadata.name}`}>
                  {g.spec?.displayName ?? g.metadata.name} <small>({g.metadata.name})</small>
                </h3>
                <p>{g.spec?.description ?? ''}</p>
                <p>
                  {t('Landing page')}: {g.spec?.landingPage ? `${g.spec.landingPage.url} (${t('rank')} ${g.spec.landingPage.rank})` : '—'} · {t('Members')}: {g.status?.members ?? 0} ·{' '}
                  <ReadyCell o={g} />
                </p>
                {roles.length === 0 ? (
                  <p>{t('Roles')}: —</p>
                ) : (
                  <Table columns={[t('Role'), t('Listing'), t('Source')]} caption={t('Roles of {0}', g.metadata.name)}>
                    {roles.map((r) => (
                      <tr key={r.role} data-role={r.role}>
                        <td>
                          <code>{r.role}</code>
                        </td>
                        <td>{roleParts(r.role).listing}</td>
                        <td>{r.sources.length ? r.sources.join('; ') : '—'}</td>
                      </tr>
                    ))}
                  </Table>
                )}
              </article>
            );
          })
        }
      </ListView>
    </section>
  );
}

/** The createUsers fields in the seed's order (its body: docs/seed003.md). */
const FIELDS: { key: keyof UserForm; label: string; type?: 'text' | 'email'; hint?: string }[] = [
  { key: 'userCode', label: 'User code' },
  { key: 'userOwnerId', label: 'User owner id', hint: 'Who the user belongs to, e.g. owner456' },
  { key: 'userOwnerType', label: 'User owner type', hint: 'e.g. solutionprovider' },
  { key: 'function', label: 'Function', hint: 'e.g. administration' },
  { key: 'firstName', label: 'First name' },
  { key: 'middleName', label: 'Middle name' },
  { key: 'lastName', label: 'Last name' },
  { key: 'email', label: 'Email', type: 'email' },
  { key: 'countryCode', label: 'Country code', hint: 'Primary mobile, e.g. +1' },
  { key: 'number', label: 'Mobile number', hint: 'Primary mobile, without the country code' },
  { key: 'secondaryCountryCode', label: 'Secondary country code', hint: 'Secondary mobile, e.g. +1' },
  { key: 'secondaryNumber', label: 'Secondary mobile number', hint: 'Secondary mobile, without the country code' },
  { key: 'groups', label: 'Groups', hint: 'Separated by commas: the user group names of the manifests.' },
  { key: 'workLocations', label: 'Work locations', hint: 'Separated by commas.' },
  { key: 'teams', label: 'Teams', hint: 'Separated by commas.' },
  { key: 'idType', label: 'Identification type', hint: 'e.g. passport' },
  { key: 'idNum', label: 'Identification number' },
  { key: 'fileId', label: 'File id' },
  { key: 'userType', label: 'User type' },
  { key: 'department', label: 'Department' },
  { key: 'aaaId', label: 'AAA id', hint: 'The user in the identity system' },
  { key: 'aaaGroups', label: 'AAA groups', hint: 'Separated by commas: groups of the identity system (they grant nothing here).' },
  { key: 'designation', label: 'Designation' },
  { key: 'employmentType', label: 'Employment type' },
];

/**
 * The createUsers fields, each with a visible label. The API server's refusal is shown next
 * to the field it names (spec.email ...), or under the form when it names none of them.
 */
function UserFields({ tenant, form, set, prefix, error, lockCode }: { tenant: MyTenant; form: UserForm; set: (f: UserForm) => void; prefix: string; error?: string; lockCode?: boolean }) {
  const at = error ? fieldOfRefusal(error) : undefined;
  // The tenant's groups to tick, beside the typed field (a group not made yet can still be typed).
  const groups = useWatchList<Obj>(can(tenant.access, 'usergroups', 'list') ? nsPath(tenant.namespace!, 'usergroups') : undefined);
  const choices = groupChoices(groups.items);
  return (
    <>
      <div class="field-grid">
        {FIELDS.map((f) => {
          const id = `${prefix}-${f.key}`;
          const here = at === f.key;
          const described = [f.hint ? `${id}-hint` : '', here ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
          return (
            <Fragment key={f.key}>
              <Field label={t(f.label)} id={id} hint={f.hint ? t(f.hint) : undefined}>
                <input
                  id={id}
                  type={(f.type ?? 'text') as 'text'}
                  value={form[f.key]}
                  readOnly={lockCode && f.key === 'userCode'}
                  aria-describedby={described}
                  aria-invalid={here ? 'true' : undefined}
                  onInput={(e) => set({ ...form, [f.key]: (e.target as HTMLInputElement).value })}
                />
                {here ? <Refusal error={error} id={`${id}-error`} /> : null}
              </Field>
              {f.key === 'groups' && choices.length ? (
                <fieldset class="choices" data-group-choices>
                  <legend>{t("This tenant's groups")}</legend>
                  {choices.map((c) => (
                    <Check
                      key={c.name}
                      id={`${prefix}-group-${c.name}`}
                      label={c.label}
                      checked={namesGroup(form.groups, c.name)}
                      onChange={(on) => set({ ...form, groups: toggleGroup(form.groups, c, on) })}
                    />
                  ))}
                </fieldset>
              ) : null}
            </Fragment>
          );
        })}
      </div>
      {error && !at ? <Refusal error={error} id={`${prefix}-error`} /> : null}
    </>
  );
}

function Users({ tenant }: { tenant: MyTenant }) {
  const ns = tenant.namespace!;
  const list = useWatchList<Obj>(nsPath(ns, 'users'));
  const [form, setForm] = useState<UserForm>(EMPTY_USER_FORM);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const mayCreate = can(tenant.access, 'users', 'create');

  async function submit(ev: Event) {
    ev.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await create(nsPath(ns, 'users'), { apiVersion: 'miniapps.dev/v1alpha1', kind: 'User', metadata: { name: userObjectName(form.userCode) || undefined, namespace: ns }, spec: userSpecFrom(form) });
      setForm(EMPTY_USER_FORM);
    } catch (err) {
      setError((err as ApiError).message);
    } finally {
      setBusy(false);
    }
  }

  const items = [...list.items].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  return (
    <section aria-labelledby="users-title">
      <h2 id="users-title">{t('Users')}</h2>
      {mayCreate ? (
        <form class="card" onSubmit={submit} aria-labelledby="new-user-title" noValidate>
          <h3 id="new-user-title">{t('Create user')}</h3>
          <UserFields tenant={tenant} form={form} set={setForm} prefix="new-user" error={error} />
          <button type="submit" disabled={busy}>
            {t('CREATE USER')}
          </button>
        </form>
      ) : null}
      <ListView state={list} count={items.length}>
        {() => (
          <Table columns={[t('User code'), t('Name'), t('Email'), t('Designation'), t('Groups'), t('Status')]}>
            {items.map((u) => (
              <tr key={u.metadata.name} data-user={u.metadata.name}>
                <td>
                  <a href={`#/tenants/${tenant.name}/users/${u.metadata.name}`}>{u.spec?.userCode ?? u.metadata.name}</a>
                </td>
                <td>{[u.spec?.firstName, u.spec?.lastName].filter(Boolean).join(' ')}</td>
                <td>{u.spec?.email ?? ''}</td>
                <td>{u.spec?.designation ?? ''}</td>
                <td>{(u.status?.groups ?? u.spec?.groups ?? []).join(', ')}</td>
                <td>
                  <ReadyCell o={u} />
                </td>
              </tr>
            ))}
          </Table>
        )}
      </ListView>
    </section>
  );
}

/** One user: their groups, landing page and roles; edit; delete with CONFIRM DELETE; the roles a frontend app's token would carry. */
function UserPage({ tenant, name }: { tenant: MyTenant; name: string }) {
  const ns = tenant.namespace!;
  const list = useWatchList<Obj>(nsPath(ns, 'users'));
  const u = list.items.find((x) => x.metadata.name === name);
  if (list.error) return <Refusal error={list.error} />;
  if (!list.loaded) return <Loading />;
  if (!u)
    return (
      <p>
        {t('User {0} is not in this tenant.', name)} <a href={`#/tenants/${tenant.name}/users`}>{t('Back to users')}</a>
      </p>
    );
  const landing = u.status?.landingPage;
  return (
    <section aria-labelledby="user-title" data-user-page={name}>
      <h2 id="user-title">
        {t('User')} {u.spec?.userCode ?? name} <small>(User {name})</small>
      </h2>
      <p>
        <a href={`#/tenants/${tenant.name}/users`}>{t('Back to users')}</a>
      </p>
      <dl>
        <dt>{t('Landing page')}</dt>
        <dd data-landing>{landing ? `${landing.url} (${t('group')} ${landing.group}, ${t('rank')} ${landing.rank})` : t('None: no group of the user has a landing page.')}</dd>
        <dt>{t('Groups')}</dt>
        <dd data-groups>{(u.status?.groups ?? []).join(', ') || '—'}</dd>
        <dt>{t('Roles')}</dt>
        <dd>
          <ul class="plain" data-roles>
            {(u.status?.effectiveRoles ?? []).map((r: string) => (
              <li key={r}>
                <code>{r}</code>
              </li>
            ))}
          </ul>
        </dd>
        <dt>{t('Status')}</dt>
        <dd>
          <Conditions o={u} />
        </dd>
      </dl>
      <TokenRoles tenant={tenant} user={name} />
      {can(tenant.access, 'users', 'patch', name) ? <EditUser tenant={tenant} u={u} /> : null}
      {can(tenant.access, 'users', 'delete', name) ? <DeleteUser tenant={tenant} u={u} /> : null}
    </section>
  );
}

function EditUser({ tenant, u }: { tenant: MyTenant; u: Obj }) {
  const [form, setForm] = useState<UserForm>(() => userFormOf(u));
  const [error, setError] = useState<string>();
  const [saved, setSaved] = useState(false);
  async function submit(ev: Event) {
    ev.preventDefault();
    setError(undefined);
    setSaved(false);
    try {
      const patch = userPatch(u, form);
      if (Object.keys(patch).length) await mergePatch(nsPath(tenant.namespace!, 'users', u.metadata.name), { metadata: { resourceVersion: u.metadata.resourceVersion }, spec: patch });
      setSaved(true);
    } catch (err) {
      setError((err as ApiError).message);
    }
  }
  return (
    <form class="card" onSubmit={submit} aria-labelledby="edit-user-title" noValidate>
      <h3 id="edit-user-title">{t('Edit user')}</h3>
      <UserFields tenant={tenant} form={form} set={setForm} prefix="edit-user" error={error} lockCode />
      <button type="submit">{t('SAVE')}</button>
      <Saved shown={saved} />
    </form>
  );
}

function DeleteUser({ tenant, u }: { tenant: MyTenant; u: Obj }) {
  return (
    <ConfirmDelete
      id="delete-user-confirm"
      title={t('Delete user')}
      what={u.spec?.userCode ?? u.metadata.name}
      button={t('Delete user')}
      onConfirm={async () => {
        await remove(nsPath(tenant.namespace!, 'users', u.metadata.name));
        location.hash = `#/tenants/${tenant.name}/users`;
      }}
    />
  );
}

/** The operator's token-roles API (via the console, with the person's own token): the intersection of the user's roles and the app's rolesRequired. */
function TokenRoles({ tenant, user }: { tenant: MyTenant; user: string }) {
  const [organization, setOrganization] = useState('');
  const [app, setApp] = useState('');
  const [answer, setAnswer] = useState<{ roles: string[]; audience?: string }>();
  const [error, setError] = useState<string>();
  async function ask(ev: Event) {
    ev.preventDefault();
    setError(undefined);
    setAnswer(undefined);
    try {
      setAnswer(await call('POST', '/console/api/tokenroles', { namespace: tenant.namespace, user, app: { organization: organization.trim(), name: app.trim() } }));
    } catch (err) {
      setError((err as ApiError).message);
    }
  }
  return (
    <form class="card" onSubmit={ask} aria-labelledby="token-roles-title" noValidate>
      <h3 id="token-roles-title">{t("Roles in a frontend app's token")}</h3>
      <p>{t("The intersection of the user's roles and the app's rolesRequired, as the operator's token-roles API answers it.")}</p>
      <Field label={t('App organization')} id="token-org">
        <input id="token-org" value={organization} onInput={(e) => setOrganization((e.target as HTMLInputElement).value)} />
      </Field>
      <Field label={t('App manifest')} id="token-app" hint={t("The frontend app's AppManifest name, as its developers named it.")}>
        <input id="token-app" value={app} aria-describedby="token-app-hint" onInput={(e) => setApp((e.target as HTMLInputElement).value)} />
      </Field>
      <button type="submit">{t('SHOW ROLES')}</button>
      {answer ? (
        <div role="status" data-token-roles>
          {answer.roles.length === 0 ? (
            <p>{t('The token would carry no role.')}</p>
          ) : (
            <ul class="plain">
              {answer.roles.map((r) => (
                <li key={r}>
                  <code>{r}</code>
                </li>
              ))}
            </ul>
          )}
        </div>
      ) : null}
      <Refusal error={error} id="token-error" by="operator" />
    </form>
  );
}
