// Small building blocks shared by the screens: a labelled field, the API server's
// message next to what it refused, a table.
import type { ComponentChildren } from 'preact';
import { t } from './i18n.ts';

let nextId = 0;
export const uid = (prefix: string): string => `${prefix}-${++nextId}`;

/** The API server's (or operator's) own message, shown where the person acted. */
export function Refusal({ error, id }: { error?: string; id?: string }) {
  if (!error) return null;
  return (
    <p class="error" role="alert" id={id}>
      {t('The API server refused this:')} {error}
    </p>
  );
}

export function Field({ label, id, children, hint }: { label: string; id: string; children: ComponentChildren; hint?: string }) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {children}
      {hint ? <small id={`${id}-hint`}>{hint}</small> : null}
    </div>
  );
}

export function Loading() {
  return <p aria-live="polite">{t('Loading…')}</p>;
}

export function Empty() {
  return <p>{t('Nothing here yet.')}</p>;
}

export function ReadyCell({ o }: { o: { status?: any } }) {
  const c = (o.status?.conditions as { type: string; status: string; reason?: string; message?: string }[] | undefined)?.find((x) => x.type === 'Ready');
  if (!c) return <span>—</span>;
  return (
    <span class={c.status === 'True' ? 'ok' : 'warn'} title={c.message}>
      {c.status === 'True' ? t('Ready') : `${t('Not ready')}: ${c.reason ?? ''}`}
      {c.status !== 'True' && c.message ? <small class="why"> {c.message}</small> : null}
    </span>
  );
}
