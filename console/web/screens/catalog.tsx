// A super app's catalog and its featured mini apps (seed 000: "Define which Mini Apps are
// featured"): the catalog ConfigMap the operator publishes (status.catalog.configMapName,
// read by name: the people who manage a super app may get it), and spec.featured, changed
// with the resourceVersion read, so a stale page is refused rather than overwriting.
import { useEffect, useState } from 'preact/hooks';
import { get, mergePatch, nsPath, usePolledObjects } from '../api.ts';
import type { Obj } from '../api.ts';
import { t } from '../i18n.ts';
import { catalogEntries } from '../logic.ts';
import type { CatalogEntry } from '../logic.ts';
import { can } from '../model.ts';
import type { MyOrganization } from '../model.ts';
import { ListView, Refusal, Table, useRowErrors } from '../ui.tsx';

type Ref = { organization?: string; name: string };

export function Catalog({ org, superApp }: { org: MyOrganization; superApp: Obj }) {
  const ns = org.namespace!;
  const name = superApp.metadata.name;
  const cmName = superApp.status?.catalog?.configMapName as string | undefined;
  const polled = usePolledObjects<Obj & { data?: Record<string, string> }>(cmName ? [`/api/v1/namespaces/${ns}/configmaps/${cmName}`] : []);
  const entries = catalogEntries(polled.items[0]);
  const featured: Ref[] = (superApp.spec?.featured as Ref[] | undefined) ?? [];
  const isFeatured = (e: CatalogEntry) => featured.some((f) => f.name === e.name && (f.organization ?? org.name) === e.organization);
  const mayFeature = can(org.access, 'superapps', 'patch', name);
  const [errors, attempt] = useRowErrors();
  // What the person just chose, shown until the watch brings the super app as changed (or the change is refused).
  const [chosen, setChosen] = useState<Record<string, boolean>>({});
  useEffect(() => setChosen({}), [superApp.metadata.resourceVersion]);
  const notListed = (superApp.status?.conditions as { type: string; status: string; message?: string }[] | undefined)?.find((c) => c.type === 'FeaturedListed' && c.status === 'False');

  const toggle = async (e: CatalogEntry, want: boolean) => {
    const key = `${e.organization}/${e.name}`;
    setChosen((c) => ({ ...c, [key]: want }));
    await attempt(key, async () => {
      // The newest spec.featured and resourceVersion: a change by someone else since is refused (409), not overwritten.
      const now = await get<Obj>(nsPath(ns, 'superapps', name));
      const current: Ref[] = now.spec?.featured ?? [];
      const same = (f: Ref) => f.name === e.name && (f.organization ?? org.name) === e.organization;
      const next = !want
        ? current.filter((f) => !same(f))
        : current.some(same)
          ? current
          : [...current, e.organization === org.name ? { name: e.name } : { organization: e.organization, name: e.name }];
      try {
        await mergePatch(nsPath(ns, 'superapps', name), { metadata: { resourceVersion: now.metadata.resourceVersion }, spec: { featured: next.length ? next : null } });
      } catch (err) {
        setChosen((c) => {
          const { [key]: _, ...rest } = c;
          return rest;
        });
        throw err;
      }
    });
  };

  return (
    <section class="card" aria-labelledby={`catalog-${name}-title`} data-catalog={name}>
      <h3 id={`catalog-${name}-title`}>{t('Catalog of {0}', superApp.spec?.displayName ?? name)}</h3>
      <p>
        {t('ConfigMap')} <code>{cmName ?? '—'}</code>
      </p>
      {notListed ? <p class="warn">{notListed.message}</p> : null}
      <ListView state={cmName ? polled : { loaded: true }} count={entries.length}>
        {() => (
          <Table columns={[t('Mini app'), t('Organization'), t('Version'), t('Type'), t('Categories'), t('Featured')]}>
            {entries.map((e) => {
              const key = `${e.organization}/${e.name}`;
              const id = `featured-${name}-${key.replace(/[^a-z0-9]/gi, '-')}`;
              return (
                <tr key={key} data-entry={key}>
                  <td>{e.appName}</td>
                  <td>{e.organization}</td>
                  <td>{e.version}</td>
                  <td>{e.type}</td>
                  <td>{e.categories.join(', ')}</td>
                  <td>
                    {mayFeature ? (
                      <>
                        <input id={id} type="checkbox" checked={chosen[key] ?? isFeatured(e)} onChange={(ev) => void toggle(e, (ev.target as HTMLInputElement).checked)} />
                        <label for={id}>{t('Featured')}</label>
                      </>
                    ) : isFeatured(e) ? (
                      t('Featured')
                    ) : (
                      '—'
                    )}
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
