// Reviews (seed 000): the queue of mini app versions awaiting review in this
// organization's super apps (those the reviewer can read), the decisions made, and
// approve or reject with a comment. A partner organization's mini app, which a reviewer
// cannot read, is reviewed by naming it.
import { useState } from 'preact/hooks';
import { create, nsPath, useWatchList } from '../api.ts';
import type { Obj } from '../api.ts';
import { t } from '../i18n.ts';
import { awaitingReview } from '../logic.ts';
import type { Pending } from '../logic.ts';
import { can } from '../model.ts';
import type { MyOrganization } from '../model.ts';
import { Empty, Field, ListView, Loading, Refusal, Table } from '../ui.tsx';

export function Reviews({ org }: { org: MyOrganization }) {
  const ns = org.namespace!;
  const reviews = useWatchList<Obj>(can(org.access, 'miniappreviews', 'list') ? nsPath(ns, 'miniappreviews') : undefined);
  const miniApps = useWatchList<Obj>(can(org.access, 'miniapps', 'list') ? nsPath(ns, 'miniapps') : undefined);
  const superApps = useWatchList<Obj>(can(org.access, 'superapps', 'list') ? nsPath(ns, 'superapps') : undefined);
  const mayDecide = can(org.access, 'miniappreviews', 'create');
  const queue = awaitingReview(org.name, miniApps.items, superApps.items, reviews.items);
  const [comments, setComments] = useState<Record<string, string>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});

  async function decide(p: Pending, decision: 'Approved' | 'Rejected', key: string) {
    setErrors((e) => ({ ...e, [key]: '' }));
    try {
      await create(nsPath(ns, 'miniappreviews'), {
        apiVersion: 'miniapps.dev/v1alpha1',
        kind: 'MiniAppReview',
        metadata: { generateName: `${p.miniApp}-`.slice(0, 50), namespace: ns },
        spec: { miniApp: { organization: p.organization, name: p.miniApp }, superApp: p.superApp, version: p.version, decision, ...(comments[key] ? { comment: comments[key] } : {}) },
      });
    } catch (err) {
      setErrors((e) => ({ ...e, [key]: (err as Error).message }));
    }
  }

  return (
    <section aria-labelledby="reviews-title">
      <h2 id="reviews-title">{t('Reviews')}</h2>
      {mayDecide ? (
        <>
          <h3>{t('Review a mini app')}</h3>
          {!miniApps.loaded ? (
            <Loading />
          ) : queue.length === 0 ? (
            <Empty />
          ) : (
            <ul class="queue">
              {queue.map((p) => {
                const key = `${p.organization}/${p.miniApp}/${p.superApp}/${p.version}`;
                const id = `comment-${key.replace(/[^a-z0-9]/gi, '-')}`;
                return (
                  <li key={key} class="card" data-pending={key}>
                    <p>
                      <strong>{p.appName}</strong> {p.version} → {p.superApp}
                    </p>
                    <Field label={t('Comment')} id={id}>
                      <textarea id={id} value={comments[key] ?? ''} onInput={(e) => setComments((c) => ({ ...c, [key]: (e.target as HTMLTextAreaElement).value }))} />
                    </Field>
                    <button type="button" onClick={() => void decide(p, 'Approved', key)}>
                      {t('Approved')}
                    </button>
                    <button type="button" class="danger" onClick={() => void decide(p, 'Rejected', key)}>
                      {t('Rejected')}
                    </button>
                    <Refusal error={errors[key]} />
                  </li>
                );
              })}
            </ul>
          )}
        </>
      ) : null}
      <ListView state={reviews} count={reviews.items.length}>
        {() => (
          <Table columns={[t('Mini app'), t('Super app'), t('Version'), t('Decision'), t('Comment')]}>
            {reviews.items.map((r) => (
              <tr key={r.metadata.name}>
                <td>
                  {r.spec?.miniApp?.organization}/{r.spec?.miniApp?.name}
                </td>
                <td>{r.spec?.superApp}</td>
                <td>{r.spec?.version}</td>
                <td>{t(r.spec?.decision ?? '')}</td>
                <td>{r.spec?.comment ?? ''}</td>
              </tr>
            ))}
          </Table>
        )}
      </ListView>
    </section>
  );
}
