// Manage (seed 001): the organization's mini apps with type and group, search, filter by
// category, create, Duplicate, delete with CONFIRM DELETE; for whoever may read the
// namespace's Events, the mini apps' recent events (why one is not listed: a target super
// app that does not exist, a category the platform took back).
import { useMemo, useState } from 'preact/hooks';
import { create, mergePatch, nsPath, remove, useWatchList } from '../api.ts';
import type { Obj } from '../api.ts';
import { t } from '../i18n.ts';
import { filterMiniApps, objectNameOf } from '../logic.ts';
import { can } from '../model.ts';
import type { MyOrganization } from '../model.ts';
import { ConfirmDelete, Field, ListView, ReadyCell, Refusal, Table } from '../ui.tsx';
import { RecentEvents } from './events.tsx';
import { EditMiniApp } from './miniapp-edit.tsx';

export const MINI_APP_TYPES = ['Intent', 'Numeric', 'Alphanumeric', 'Alpha', 'Date', 'DateRange', 'Announcement', 'YesNo', 'WebService', 'IntelliCorpusCollection', 'Text'];
const PROTECTIONS: [string, string][] = [
  ['None', 'None'],
  ['IrreversibleMasking', 'Irreversible Masking (***)'],
  ['EnvelopeEncryption', 'Envelope Encryption (AES 256)'],
];

/** Rows shown at first, and added by each "Show more". */
const PAGE = 100;

type Dialog = { kind: 'create' } | { kind: 'duplicate'; source: Obj } | { kind: 'delete'; target: Obj } | { kind: 'edit'; name: string } | undefined;

export function Manage({ org }: { org: MyOrganization }) {
  const ns = org.namespace!;
  const list = useWatchList<Obj>(can(org.access, 'miniapps', 'list') ? nsPath(ns, 'miniapps') : undefined);
  const [search, setSearch] = useState('');
  const [category, setCategory] = useState('');
  const [dialog, setDialog] = useState<Dialog>();
  // The first rows, and more on request: search and filter always cover every mini app.
  const [limit, setLimit] = useState(PAGE);
  const categories = useMemo(() => [...new Set(list.items.flatMap((m) => (m.spec?.categories as string[] | undefined) ?? []))].sort(), [list.items]);
  const shown = useMemo(() => filterMiniApps(list.items, search, category).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name)), [list.items, search, category]);
  const mayCreate = can(org.access, 'miniapps', 'create');

  return (
    <section aria-labelledby="manage-title">
      <h2 id="manage-title">{t('Manage')}</h2>
      <div class="toolbar">
        <Field label={t('Search')} id="manage-search">
          <input id="manage-search" type="search" value={search} onInput={(e) => setSearch((e.target as HTMLInputElement).value)} />
        </Field>
        <Field label={t('Category')} id="manage-category">
          <select id="manage-category" value={category} onChange={(e) => setCategory((e.target as HTMLSelectElement).value)}>
            <option value="">{t('All categories')}</option>
            {categories.map((c) => (
              <option value={c}>{c}</option>
            ))}
          </select>
        </Field>
        {mayCreate ? (
          <button type="button" onClick={() => setDialog({ kind: 'create' })}>
            {t('Create')}
          </button>
        ) : null}
      </div>
      {dialog?.kind === 'create' || dialog?.kind === 'duplicate' ? <MiniAppForm ns={ns} source={dialog.kind === 'duplicate' ? dialog.source : undefined} done={() => setDialog(undefined)} /> : null}
      {dialog?.kind === 'edit' && list.items.some((m) => m.metadata.name === dialog.name) ? (
        <EditMiniApp ns={ns} miniApp={list.items.find((m) => m.metadata.name === dialog.name)!} done={() => setDialog(undefined)} />
      ) : null}
      {dialog?.kind === 'delete' ? <DeleteForm ns={ns} target={dialog.target} done={() => setDialog(undefined)} /> : null}
      <ListView state={list} count={list.items.length}>
        {() => (
          <>
            <p aria-live="polite" id="manage-count">
              {t('{0} of {1} mini apps', shown.length, list.items.length)}
            </p>
            <Table columns={[t('Name'), t('Type'), t('Group'), t('Categories'), t('Super Apps'), t('Status'), t('Actions')]}>
              {shown.slice(0, limit).map((m) => (
                <tr key={m.metadata.name} data-miniapp={m.metadata.name}>
                  <td>
                    {m.spec?.appName} <small>({m.metadata.name})</small>
                  </td>
                  <td>
                    {m.spec?.type}
                    {m.spec?.domain ? ` · ${m.spec.domain}` : ''}
                  </td>
                  <td>{org.displayName ?? org.name}</td>
                  <td>{((m.spec?.categories as string[] | undefined) ?? []).join(', ')}</td>
                  <td>
                    <ul class="plain">
                      {((m.status?.superApps as { organization: string; name: string; state: string; version?: string; message?: string }[] | undefined) ?? []).map((x) => (
                        <li key={`${x.organization}/${x.name}`} data-target={x.name}>
                          {x.organization === org.name ? x.name : `${x.organization}/${x.name}`}: {t(x.state)}
                          {x.version ? ` (${x.version})` : ''}
                          {x.message ? <small class="why"> {x.message}</small> : null}
                        </li>
                      ))}
                    </ul>
                  </td>
                  <td>
                    <ReadyCell o={m} />
                  </td>
                  <td>
                    {can(org.access, 'miniapps', 'patch', m.metadata.name) ? (
                      <button type="button" class="secondary" aria-label={t('Edit {0}', m.spec?.appName)} onClick={() => setDialog({ kind: 'edit', name: m.metadata.name })}>
                        {t('Edit')}
                      </button>
                    ) : null}
                    {mayCreate ? (
                      <button type="button" class="secondary" aria-label={t('Duplicate {0}', m.spec?.appName)} onClick={() => setDialog({ kind: 'duplicate', source: m })}>
                        {t('Duplicate')}
                      </button>
                    ) : null}
                    {can(org.access, 'miniapps', 'delete', m.metadata.name) ? (
                      <button type="button" class="danger" aria-label={t('Delete {0}', m.spec?.appName)} onClick={() => setDialog({ kind: 'delete', target: m })}>
                        {t('Delete')}
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </Table>
            {shown.length > limit ? (
              <button type="button" class="secondary" onClick={() => setLimit((l) => l + PAGE)}>
                {t('Show {0} more of {1}', Math.min(PAGE, shown.length - limit), shown.length - limit)}
              </button>
            ) : null}
          </>
        )}
      </ListView>
      <RecentEvents ns={ns} access={org.access} kind="MiniApp" objectLabel={t('Name')} labelOf={(name) => list.items.find((m) => m.metadata.name === name)?.spec?.appName ?? name} />
    </section>
  );
}

function MiniAppForm({ ns, source, done }: { ns: string; source?: Obj; done: () => void }) {
  const [type, setType] = useState<string>(source?.spec?.type ?? 'Intent');
  const [domain, setDomain] = useState<string>(source?.spec?.domain ?? '');
  const [appName, setAppName] = useState('');
  const [protection, setProtection] = useState<string>(source?.spec?.dataPrivacy?.protection ?? 'None');
  const [error, setError] = useState<string>();
  const title = source ? t('Duplicate Application') : t('Create Application');

  async function submit(ev: Event) {
    ev.preventDefault();
    setError(undefined);
    const spec = source ? structuredClone(source.spec) : { type, ...(type === 'Intent' ? { domain } : {}) };
    spec.appName = appName;
    spec.dataPrivacy = { ...(spec.dataPrivacy ?? {}), protection };
    if (source) {
      // What the copy is, never status, annotations (a confirm-delete) or versions' review state.
      delete spec.publishedVersion;
    }
    try {
      await create(nsPath(ns, 'miniapps'), { apiVersion: 'miniapps.dev/v1alpha1', kind: 'MiniApp', metadata: { name: objectNameOf(appName) || 'x', namespace: ns }, spec });
      done();
    } catch (err) {
      setError((err as Error).message);
    }
  }

  return (
    <form class="card" onSubmit={submit} aria-labelledby="miniapp-form-title" noValidate>
      <h3 id="miniapp-form-title">{title}</h3>
      {source ? null : (
        <>
          <Field label={t('Type')} id="miniapp-type">
            <select id="miniapp-type" value={type} onChange={(e) => setType((e.target as HTMLSelectElement).value)}>
              {MINI_APP_TYPES.map((x) => (
                <option value={x}>{x}</option>
              ))}
            </select>
          </Field>
          {type === 'Intent' ? (
            <Field label={t('Domain')} id="miniapp-domain">
              <input id="miniapp-domain" required value={domain} onInput={(e) => setDomain((e.target as HTMLInputElement).value)} />
            </Field>
          ) : null}
        </>
      )}
      <Field label={t('Name')} id="miniapp-name" hint={t('Letters, digits and underscores only.')}>
        <input
          id="miniapp-name"
          required
          value={appName}
          aria-describedby={error ? 'miniapp-name-hint miniapp-error' : 'miniapp-name-hint'}
          aria-invalid={error ? 'true' : undefined}
          onInput={(e) => setAppName((e.target as HTMLInputElement).value)}
        />
      </Field>
      <Field label={`${t('Data Privacy')}: ${t('Protection Type')}`} id="miniapp-protection">
        <select id="miniapp-protection" value={protection} onChange={(e) => setProtection((e.target as HTMLSelectElement).value)}>
          {PROTECTIONS.map(([v, label]) => (
            <option value={v}>{t(label)}</option>
          ))}
        </select>
      </Field>
      <button type="submit">{t('Create')}</button>
      <button type="button" class="secondary" onClick={done}>
        {t('Cancel')}
      </button>
      <Refusal error={error} id="miniapp-error" />
    </form>
  );
}

function DeleteForm({ ns, target, done }: { ns: string; target: Obj; done: () => void }) {
  const name = target.metadata.name;
  return (
    <ConfirmDelete
      id="delete-confirm"
      title={t('Delete {0}', target.spec?.appName ?? name)}
      what={target.spec?.appName ?? name}
      button={t('Delete')}
      onCancel={done}
      onConfirm={async (typed) => {
        await mergePatch(nsPath(ns, 'miniapps', name), { metadata: { annotations: { 'miniapps.dev/confirm-delete': typed } } });
        await remove(nsPath(ns, 'miniapps', name));
        done();
      }}
    />
  );
}
