// Super apps (seed 000): the organization's super apps with platforms, versions and their
// frozen snapshots; a super app administrator creates one and freezes a version.
import { useState } from 'preact/hooks';
import { create, mergePatch, nsPath, useWatchList } from '../api.ts';
import type { Obj } from '../api.ts';
import { t } from '../i18n.ts';
import { splitList } from '../logic.ts';
import { can } from '../model.ts';
import type { MyOrganization } from '../model.ts';
import { Field, ListView, ReadyCell, Refusal, Table } from '../ui.tsx';
import { Catalog } from './catalog.tsx';

export function SuperApps({ org }: { org: MyOrganization }) {
  const ns = org.namespace!;
  const state = useWatchList<Obj>(can(org.access, 'superapps', 'list') ? nsPath(ns, 'superapps') : undefined);
  const mayCreate = can(org.access, 'superapps', 'create');
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [platforms, setPlatforms] = useState('');
  const [error, setError] = useState<string>();
  const [openCatalog, setOpenCatalog] = useState<string>();
  const catalogOf = state.items.find((s) => s.metadata.name === openCatalog);

  async function submit(ev: Event) {
    ev.preventDefault();
    setError(undefined);
    try {
      await create(nsPath(ns, 'superapps'), {
        apiVersion: 'miniapps.dev/v1alpha1',
        kind: 'SuperApp',
        metadata: { name, namespace: ns },
        spec: { displayName: displayName || name, ...(platforms ? { platforms: splitList(platforms) } : {}) },
      });
      setOpen(false);
      setName('');
    } catch (err) {
      setError((err as Error).message);
    }
  }

  return (
    <section aria-labelledby="superapps-title">
      <h2 id="superapps-title">{t('Super Apps')}</h2>
      {mayCreate ? (
        <button type="button" onClick={() => setOpen(true)}>
          {t('NEW SUPER APP')}
        </button>
      ) : null}
      {open ? (
        <form class="card" onSubmit={submit} aria-labelledby="superapp-form-title" noValidate>
          <h3 id="superapp-form-title">{t('NEW SUPER APP')}</h3>
          <Field label={t('Name')} id="superapp-name">
            <input id="superapp-name" required value={name} aria-describedby={error ? 'superapp-error' : undefined} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
          </Field>
          <Field label={t('Display name')} id="superapp-display">
            <input id="superapp-display" value={displayName} onInput={(e) => setDisplayName((e.target as HTMLInputElement).value)} />
          </Field>
          <Field label={t('Platforms')} id="superapp-platforms" hint={t('Separated by commas, from the platform list.')}>
            <input id="superapp-platforms" value={platforms} aria-describedby="superapp-platforms-hint" onInput={(e) => setPlatforms((e.target as HTMLInputElement).value)} />
          </Field>
          <button type="submit">{t('CONFIRM')}</button>
          <button type="button" class="secondary" onClick={() => setOpen(false)}>
            {t('Cancel')}
          </button>
          <Refusal error={error} id="superapp-error" />
        </form>
      ) : null}
      <ListView state={state} count={state.items.length}>
        {() => (
          <Table columns={[t('Name'), t('Platforms'), t('Versions'), t('Catalog'), t('Status')]}>
            {state.items.map((s) => (
              <tr key={s.metadata.name} data-superapp={s.metadata.name}>
                <td>
                  {s.spec?.displayName ?? s.metadata.name} <small>({s.metadata.name})</small>
                </td>
                <td>{((s.spec?.platforms as string[] | undefined) ?? []).join(', ')}</td>
                <td>
                  <ul class="plain">
                    {((s.status?.versions as { name: string; configMapName: string; miniApps: number }[] | undefined) ?? []).map((v) => (
                      <li key={v.name} data-snapshot={v.name}>
                        {v.name}: {t('{0} mini apps in snapshot {1}', v.miniApps, v.configMapName)}
                      </li>
                    ))}
                  </ul>
                  {can(org.access, 'superapps', 'patch', s.metadata.name) ? <Freeze ns={ns} superApp={s} /> : null}
                </td>
                <td>
                  {s.status?.catalog ? t(s.status.catalog.miniApps === 1 ? '1 mini app' : '{0} mini apps', s.status.catalog.miniApps) : '—'}{' '}
                  <button
                    type="button"
                    class="secondary"
                    aria-expanded={openCatalog === s.metadata.name}
                    aria-label={t('Catalog of {0}', s.spec?.displayName ?? s.metadata.name)}
                    onClick={() => setOpenCatalog(openCatalog === s.metadata.name ? undefined : s.metadata.name)}
                  >
                    {t('Catalog')}
                  </button>
                </td>
                <td>
                  <ReadyCell o={s} />
                </td>
              </tr>
            ))}
          </Table>
        )}
      </ListView>
      {catalogOf ? <Catalog org={org} superApp={catalogOf} /> : null}
    </section>
  );
}

/** Adds a version, which freezes the catalog: sent with the resourceVersion read, so a stale page is refused, not overwritten. */
function Freeze({ ns, superApp }: { ns: string; superApp: Obj }) {
  const [version, setVersion] = useState('');
  const [error, setError] = useState<string>();
  const id = `freeze-${superApp.metadata.name}`;
  async function submit(ev: Event) {
    ev.preventDefault();
    setError(undefined);
    try {
      const versions = [...((superApp.spec?.versions as { name: string }[] | undefined) ?? []), { name: version }];
      await mergePatch(nsPath(ns, 'superapps', superApp.metadata.name), { metadata: { resourceVersion: superApp.metadata.resourceVersion }, spec: { versions } });
      setVersion('');
    } catch (err) {
      setError((err as Error).message);
    }
  }
  return (
    <form onSubmit={submit} noValidate>
      <Field label={t('Freeze version of {0}', superApp.spec?.displayName ?? superApp.metadata.name)} id={id}>
        <input id={id} value={version} aria-describedby={error ? `${id}-error` : undefined} onInput={(e) => setVersion((e.target as HTMLInputElement).value)} />
      </Field>
      <button type="submit">{t('FREEZE')}</button>
      <Refusal error={error} id={`${id}-error`} />
    </form>
  );
}
