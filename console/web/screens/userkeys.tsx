// API keys for users (seed 000, provisioning administrators: Security > Users > Keys,
// + ADD API-KEY): every ApiKey of the platform; a key made for a provisioning
// administrator lives in the operator's namespace, one for an organization's member in
// that organization's namespace. Only the owner may read a key: it is shown here when the
// provisioning administrator made it for themselves, else the owner reads it once on their
// own API keys screen.
import { useState } from 'preact/hooks';
import { clusterPath, createApiKey, mergePatch, nsPath, readNewKey, usePolledObjects, useWatchList } from '../api.ts';
import { PLATFORM_CONFIG } from './platform.tsx';
import type { Obj } from '../api.ts';
import { t } from '../i18n.ts';
import type { Me } from '../model.ts';
import { Field, KeyShownOnce, ListView, ReadyCell, Refusal, Table, useRowErrors } from '../ui.tsx';

/** `owner`: the user picked on Security > Users (its Keys link), filled in as the new key's User. */
export function UserKeys({ me, owner: picked }: { me: Me; owner?: string }) {
  const keys = useWatchList<Obj>(clusterPath('apikeys'));
  // The provisioning administrators by email (PlatformConfig), offered as the users to pick from.
  const config = usePolledObjects<Obj>([PLATFORM_CONFIG], 30_000).items[0];
  const provisioners: string[] = config?.spec?.provisioningAdministrators?.users ?? [];
  const orgs = me.organizations.filter((o) => o.namespace);
  const platformNs = me.operatorNamespace;
  const [owner, setOwner] = useState(picked ?? '');
  const [where, setWhere] = useState(platformNs ?? orgs[0]?.namespace ?? '');
  const [description, setDescription] = useState('');
  const [expires, setExpires] = useState('');
  const [error, setError] = useState<string>();
  // The note's words and values, translated when shown: a language switched afterwards applies to it too.
  const [note, setNote] = useState<[string, ...string[]]>();
  const [shown, setShown] = useState<string>();
  const [errors, attempt] = useRowErrors();
  const sorted = [...keys.items].sort((a, b) => String(a.spec?.owner).localeCompare(String(b.spec?.owner)) || a.metadata.name.localeCompare(b.metadata.name));
  const self = (email: string) => me.username.toLowerCase().endsWith(email.trim().toLowerCase());

  async function add(ev: Event) {
    ev.preventDefault();
    setError(undefined);
    setNote(undefined);
    try {
      const k = await createApiKey(where, owner.trim(), description, expires);
      setOwner('');
      setDescription('');
      // Read at once when it looks like one's own; a key not read (someone else's, whose email
      // ends like one's user name, or not issued within 30 s) gets the note instead of nothing.
      const key = self(k.spec?.owner ?? '') ? await readNewKey(where, k.metadata.name) : undefined;
      if (key) setShown(key);
      else setNote(['Key {0} is made for {1}: only they can read it, once, on their own API keys screen.', k.metadata.name, k.spec?.owner ?? '']);
    } catch (err) {
      setError((err as Error).message);
    }
  }

  const whereName = (ns: string | undefined) => (ns === platformNs ? t('Platform (provisioning administrators)') : (orgs.find((o) => o.namespace === ns)?.displayName ?? ns));
  return (
    <section aria-labelledby="userkeys-title">
      <h2 id="userkeys-title">{t('API keys for users')}</h2>
      <form class="card" onSubmit={add} aria-labelledby="userkey-form-title" noValidate>
        <h3 id="userkey-form-title">{t('+ ADD API-KEY')}</h3>
        <Field label={t('User')} id="userkey-owner" hint={t("The owner's email: a provisioning administrator, or an active member of the organization.")}>
          <input
            id="userkey-owner"
            type="email"
            list="userkey-owners"
            value={owner}
            aria-describedby={error ? 'userkey-owner-hint userkey-error' : 'userkey-owner-hint'}
            aria-invalid={error ? 'true' : undefined}
            onInput={(e) => setOwner((e.target as HTMLInputElement).value)}
          />
        </Field>
        <datalist id="userkey-owners">
          {provisioners.map((u) => (
            <option value={u} />
          ))}
        </datalist>
        <Field label={t('For')} id="userkey-where">
          <select id="userkey-where" value={where} onChange={(e) => setWhere((e.target as HTMLSelectElement).value)}>
            {platformNs ? <option value={platformNs}>{t('Platform (provisioning administrators)')}</option> : null}
            {orgs.map((o) => (
              <option value={o.namespace}>{o.displayName ?? o.name}</option>
            ))}
          </select>
        </Field>
        <Field label={t('Description')} id="userkey-description">
          <input id="userkey-description" value={description} onInput={(e) => setDescription((e.target as HTMLInputElement).value)} />
        </Field>
        <Field label={t('Expiration date')} id="userkey-expires">
          <input id="userkey-expires" type="date" value={expires} onInput={(e) => setExpires((e.target as HTMLInputElement).value)} />
        </Field>
        <button type="submit">{t('CONFIRM')}</button>
        <Refusal error={error} id="userkey-error" />
        {note ? <p role="status">{t(...note)}</p> : null}
      </form>
      <KeyShownOnce id="userkey-value" value={shown} close={() => setShown(undefined)} />
      <ListView state={keys} count={sorted.length}>
        {() => (
          <Table columns={[t('User'), t('For'), t('Name'), t('Description'), t('Expires'), t('Status'), t('Actions')]}>
            {sorted.map((k) => {
              const key = `${k.metadata.namespace}/${k.metadata.name}`;
              return (
                <tr key={key} data-userkey={key}>
                  <td>{k.spec?.owner}</td>
                  <td>{whereName(k.metadata.namespace)}</td>
                  <td>
                    {k.metadata.name} <small>{k.status?.prefix ?? ''}</small>
                  </td>
                  <td>{k.spec?.description ?? ''}</td>
                  <td>{k.status?.expiresAt ?? k.spec?.expiresAt ?? ''}</td>
                  <td>{k.spec?.revoked ? t('Revoked') : <ReadyCell o={k} />}</td>
                  <td>
                    {!k.spec?.revoked ? (
                      <button
                        type="button"
                        class="danger"
                        aria-label={t('Revoke {0}', key)}
                        onClick={() => void attempt(key, () => mergePatch(nsPath(k.metadata.namespace!, 'apikeys', k.metadata.name), { spec: { revoked: true } }))}
                      >
                        {t('Revoke')}
                      </button>
                    ) : null}
                    <Refusal error={errors[key]} />
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
