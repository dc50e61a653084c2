// Recent events of one kind's objects in a namespace: why an invitation was not sent (a
// Warning with the mail server's reason), when it went out. Shown to whoever the rules review
// lets list and watch Events there (organization administrators, in their organization's
// namespace: docs/people.md); others see nothing of it, and the conditions on each row say
// the same from the object's own status. Events live an hour (kube-apiserver --event-ttl).
import { useWatchList } from '../api.ts';
import { t } from '../i18n.ts';
import { type EventObj, eventsPath, recentEvents } from '../logic.ts';
import { can } from '../model.ts';
import type { Access } from '../model.ts';
import { ListView, Table } from '../ui.tsx';

export function RecentEvents({
  ns,
  access,
  kind,
  objectLabel,
  labelOf,
  limit = 20,
}: {
  ns: string;
  access: Access | undefined;
  kind: string;
  objectLabel: string;
  labelOf?: (name: string) => string;
  limit?: number;
}) {
  const allowed = can(access, 'events', 'list') && can(access, 'events', 'watch');
  const list = useWatchList<EventObj>(allowed ? eventsPath(ns, kind) : undefined);
  if (!allowed) return null;
  const items = recentEvents(list.items, limit);
  const id = `events-${kind.toLowerCase()}-title`;
  return (
    <section class="card" aria-labelledby={id} data-events={kind}>
      <h3 id={id}>{t('Recent events')}</h3>
      <ListView state={list} count={items.length} empty={t('No events in the last hour.')}>
        {() => (
          <Table columns={[t('When'), objectLabel, t('Type'), t('Reason'), t('Message')]}>
            {items.map((e) => (
              <tr key={e.key} data-event-reason={e.reason} data-event-object={e.object}>
                <td>
                  <time dateTime={e.when}>{e.when ? new Date(e.when).toLocaleString() : '—'}</time>
                  {e.count > 1 ? ` (×${e.count})` : ''}
                </td>
                <td>{labelOf?.(e.object) ?? e.object}</td>
                <td>{e.type === 'Warning' ? <strong>{t('Warning')}</strong> : t(e.type)}</td>
                <td>{e.reason}</td>
                <td>{e.message}</td>
              </tr>
            ))}
          </Table>
        )}
      </ListView>
    </section>
  );
}
