// Super apps (seed 000): the organization's super apps, their platforms and versions.
import { nsPath, useWatchList } from '../api.ts';
import type { Obj } from '../api.ts';
import { t } from '../i18n.ts';
import { can } from '../model.ts';
import type { MyOrganization } from '../model.ts';
import { Empty, Loading, ReadyCell, Refusal } from '../ui.tsx';

export function SuperApps({ org }: { org: MyOrganization }) {
  const list = useWatchList<Obj>(can(org.access, 'superapps', 'list') ? nsPath(org.namespace!, 'superapps') : undefined);
  return (
    <section aria-labelledby="superapps-title">
      <h2 id="superapps-title">{t('Super Apps')}</h2>
      {list.error ? <Refusal error={list.error} /> : !list.loaded ? <Loading /> : list.items.length === 0 ? <Empty /> : (
        <table>
          <thead>
            <tr><th scope="col">{t('Name')}</th><th scope="col">{t('Platforms')}</th><th scope="col">{t('Versions')}</th><th scope="col">{t('Status')}</th></tr>
          </thead>
          <tbody>
            {list.items.map((s) => (
              <tr key={s.metadata.name}>
                <td>{s.spec?.displayName ?? s.metadata.name} <small>({s.metadata.name})</small></td>
                <td>{((s.spec?.platforms as string[] | undefined) ?? []).join(', ')}</td>
                <td>{((s.spec?.versions as { name: string }[] | undefined) ?? []).map((v) => v.name).join(', ')}</td>
                <td><ReadyCell o={s} /></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
