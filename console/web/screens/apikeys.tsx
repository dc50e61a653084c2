// API keys (seed 000): + ADD API-KEY, the key shown once, revoke. A member who is not an
// administrator cannot list keys: they see the keys they hold by name (the ApiKey
// controller grants each owner their own), polled.
import { useState } from 'preact/hooks';
import { createApiKey, mergePatch, nsPath, readNewKey, usePolledObjects, useWatchList } from '../api.ts';
import type { Obj } from '../api.ts';
import { t } from '../i18n.ts';
import { can, namedWith } from '../model.ts';
import type { MyOrganization } from '../model.ts';
import { Field, KeyShownOnce, ListView, ReadyCell, Refusal, Table } from '../ui.tsx';

export function ApiKeys({ org, owner, refresh }: { org: MyOrganization; owner: string; refresh: () => void }) {
  const ns = org.namespace!;
  const mayList = can(org.access, 'apikeys', 'list');
  const listed = useWatchList<Obj>(mayList ? nsPath(ns, 'apikeys') : undefined);
  const [created, setCreated] = useState<string[]>([]);
  const named = [...new Set([...namedWith(org.access, 'apikeys', 'get'), ...created])];
  const polled = usePolledObjects<Obj>(mayList ? [] : named.map((n) => nsPath(ns, 'apikeys', n)));
  const state = mayList ? listed : polled;
  const mine = state.items.filter((k) => k.spec?.owner?.toLowerCase() === owner.toLowerCase()).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  const [adding, setAdding] = useState(false);
  const [description, setDescription] = useState('');
  const [expires, setExpires] = useState('');
  const [error, setError] = useState<string>();
  const [shown, setShown] = useState<string>();
  const [waiting, setWaiting] = useState(false);
  const [rowErrors, setRowErrors] = useState<Record<string, string>>({});

  async function add(ev: Event) {
    ev.preventDefault();
    setError(undefined);
    try {
      const k = await createApiKey(ns, owner, description, expires);
      setCreated((c) => [...c, k.metadata.name]);
      setAdding(false);
      setWaiting(true);
      // The key is the operator's to make: wait for its Secret, read it once, show it once.
      const key = await readNewKey(ns, k.metadata.name);
      if (key) {
        setShown(key);
        // The operator has granted the owner this key by name: ask the API server again what they may do.
        refresh();
      }
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setWaiting(false);
    }
  }

  async function revoke(k: Obj) {
    setRowErrors((e) => ({ ...e, [k.metadata.name]: '' }));
    try {
      await mergePatch(nsPath(ns, 'apikeys', k.metadata.name), { spec: { revoked: true } });
    } catch (err) {
      setRowErrors((e) => ({ ...e, [k.metadata.name]: (err as Error).message }));
    }
  }

  return (
    <section aria-labelledby="keys-title">
      <h2 id="keys-title">{t('API keys')}</h2>
      {can(org.access, 'apikeys', 'create') ? (
        <button type="button" onClick={() => setAdding(true)}>
          {t('+ ADD API-KEY')}
        </button>
      ) : null}
      {adding ? (
        <form class="card" onSubmit={add} aria-labelledby="key-form-title">
          <h3 id="key-form-title">{t('+ ADD API-KEY')}</h3>
          <Field label={t('Description')} id="key-description">
            <input id="key-description" value={description} onInput={(e) => setDescription((e.target as HTMLInputElement).value)} />
          </Field>
          <Field label={t('Expiration date')} id="key-expires">
            <input id="key-expires" type="date" value={expires} aria-describedby={error ? 'key-error' : undefined} onInput={(e) => setExpires((e.target as HTMLInputElement).value)} />
          </Field>
          <button type="submit">{t('CONFIRM')}</button>
          <button type="button" class="secondary" onClick={() => setAdding(false)}>
            {t('Cancel')}
          </button>
        </form>
      ) : null}
      <Refusal error={error} id="key-error" />
      {waiting ? <p aria-live="polite">{t('Waiting for the operator to issue the key…')}</p> : null}
      <KeyShownOnce id="key-value" value={shown} close={() => setShown(undefined)} />
      <ListView state={state} count={mine.length}>
        {() => (
          <Table columns={[t('Name'), t('Description'), t('Expires'), t('Status'), t('Actions')]}>
            {mine.map((k) => (
              <tr key={k.metadata.name} data-apikey={k.metadata.name}>
                <td>
                  {k.metadata.name} <small>{k.status?.prefix ?? ''}</small>
                </td>
                <td>{k.spec?.description ?? ''}</td>
                <td>{k.status?.expiresAt ?? k.spec?.expiresAt ?? ''}</td>
                <td>
                  {k.spec?.revoked ? t('Revoked') : <ReadyCell o={k} />} {k.status?.phase ? <small>{k.status.phase}</small> : null}
                </td>
                <td>
                  {!k.spec?.revoked && can(org.access, 'apikeys', 'patch', k.metadata.name) ? (
                    <button type="button" class="danger" aria-label={t('Revoke {0}', k.metadata.name)} onClick={() => void revoke(k)}>
                      {t('Revoke')}
                    </button>
                  ) : null}
                  <Refusal error={rowErrors[k.metadata.name]} />
                </td>
              </tr>
            ))}
          </Table>
        )}
      </ListView>
    </section>
  );
}
