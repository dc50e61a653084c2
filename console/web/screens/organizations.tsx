// Organizations (seed 000), for provisioning administrators: NEW ORGANIZATION with
// Can Create Super Apps / Can Create Mini Apps.
import { useState } from 'preact/hooks';
import { clusterPath, create, useWatchList } from '../api.ts';
import type { Obj } from '../api.ts';
import { t } from '../i18n.ts';
import { Check, Field, ListView, ReadyCell, Refusal, Table } from '../ui.tsx';

export function Organizations() {
  const list = useWatchList<Obj>(clusterPath('organizations'));
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [superApps, setSuperApps] = useState(false);
  const [miniApps, setMiniApps] = useState(false);
  const [error, setError] = useState<string>();

  async function submit(ev: Event) {
    ev.preventDefault();
    setError(undefined);
    try {
      await create(clusterPath('organizations'), {
        apiVersion: 'miniapps.dev/v1alpha1',
        kind: 'Organization',
        metadata: { name },
        spec: { displayName: displayName || name, capabilities: { superApps, miniApps } },
      });
      setOpen(false);
      setName('');
      setDisplayName('');
    } catch (err) {
      setError((err as Error).message);
    }
  }

  return (
    <section aria-labelledby="orgs-title">
      <h2 id="orgs-title">{t('Organizations')}</h2>
      <button type="button" onClick={() => setOpen(true)}>
        {t('NEW ORGANIZATION')}
      </button>
      {open ? (
        <form class="card" onSubmit={submit} aria-labelledby="org-form-title">
          <h3 id="org-form-title">{t('NEW ORGANIZATION')}</h3>
          <Field label={t('Name')} id="org-name">
            <input id="org-name" required value={name} aria-describedby={error ? 'org-error' : undefined} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
          </Field>
          <Field label={t('Display name')} id="org-display">
            <input id="org-display" value={displayName} onInput={(e) => setDisplayName((e.target as HTMLInputElement).value)} />
          </Field>
          <Check id="org-superapps" label={t('Can Create Super Apps')} checked={superApps} onChange={setSuperApps} />
          <Check id="org-miniapps" label={t('Can Create Mini Apps')} checked={miniApps} onChange={setMiniApps} />
          <button type="submit">{t('CONFIRM')}</button>
          <button type="button" class="secondary" onClick={() => setOpen(false)}>
            {t('Cancel')}
          </button>
          <Refusal error={error} id="org-error" />
        </form>
      ) : null}
      <ListView state={list} count={list.items.length}>
        {() => (
          <Table columns={[t('Organization'), t('Can Create Super Apps'), t('Can Create Mini Apps'), t('Namespace'), t('Status')]}>
            {list.items.map((o) => (
              <tr key={o.metadata.name} data-org={o.metadata.name}>
                <td>
                  <a href={`#/orgs/${o.metadata.name}/members`}>{o.spec?.displayName ?? o.metadata.name}</a>
                </td>
                <td>{o.spec?.capabilities?.superApps ? '✓' : '—'}</td>
                <td>{o.spec?.capabilities?.miniApps ? '✓' : '—'}</td>
                <td>{o.status?.namespace ?? ''}</td>
                <td>
                  <ReadyCell o={o} />
                </td>
              </tr>
            ))}
          </Table>
        )}
      </ListView>
    </section>
  );
}
