// Small building blocks shared by the screens: a labelled field, the API server's
// message next to what it refused, a table.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { t } from './i18n.ts';

export const CONFIRM_DELETE = 'CONFIRM DELETE';

let nextId = 0;
export const uid = (prefix: string): string => `${prefix}-${++nextId}`;

/** The API server's (or operator's) own message, shown where the person acted. */
export function Refusal({ error, id, by = 'api' }: { error?: string; id?: string; by?: 'api' | 'operator' }) {
  if (!error) return null;
  return (
    <p class="error" role="alert" id={id}>
      {by === 'operator' ? t('The operator refused this:') : t('The API server refused this:')} {error}
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

/**
 * A live list as every screen shows it: the API server's refusal, loading, nothing yet
 * (`empty`, already translated, else "Nothing here yet."), or the rows (`children`,
 * called only when there is something to show).
 */
export function ListView({ state, count, empty, children }: { state: { loaded: boolean; error?: string }; count: number; empty?: string; children: () => ComponentChildren }) {
  if (state.error) return <Refusal error={state.error} />;
  if (!state.loaded) return <Loading />;
  if (count === 0) return empty ? <p>{empty}</p> : <Empty />;
  return <>{children()}</>;
}

/** A table with its column headers (already translated), and a caption for screen readers when several tables share a heading. */
export function Table({ columns, caption, children }: { columns: string[]; caption?: string; children: ComponentChildren }) {
  return (
    <table>
      {caption ? <caption class="sr-only">{caption}</caption> : null}
      <thead>
        <tr>
          {columns.map((c) => (
            <th scope="col">{c}</th>
          ))}
        </tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
  );
}

/**
 * Deleting with `CONFIRM DELETE` (seeds 001, 002): the button stays disabled until the
 * words are typed; `onConfirm` gets them (the annotation the API server's policy asks for).
 */
export function ConfirmDelete({
  id,
  title,
  what,
  button,
  onConfirm,
  onCancel,
}: {
  id: string;
  title: string;
  what: string;
  button: string;
  onConfirm: (typed: string) => Promise<void>;
  onCancel?: () => void;
}) {
  const [typed, setTyped] = useState('');
  const [error, setError] = useState<string>();
  async function submit(ev: Event) {
    ev.preventDefault();
    setError(undefined);
    try {
      await onConfirm(typed);
    } catch (err) {
      setError((err as Error).message);
    }
  }
  return (
    <form class="card" onSubmit={submit} aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>{title}</h3>
      <Field label={t('Confirmation')} id={id} hint={t('Type CONFIRM DELETE to delete {0}. This cannot be undone.', what)}>
        <input id={id} autocomplete="off" value={typed} aria-describedby={`${id}-hint`} onInput={(e) => setTyped((e.target as HTMLInputElement).value)} />
      </Field>
      <button type="submit" class="danger" disabled={typed !== CONFIRM_DELETE}>
        {button}
      </button>
      {onCancel ? (
        <button type="button" class="secondary" onClick={onCancel}>
          {t('Cancel')}
        </button>
      ) : null}
      <Refusal error={error} />
    </form>
  );
}

/** Per-row refusals: the API server's message shown on the row it regards. */
export function useRowErrors(): [Record<string, string>, (key: string, run: () => Promise<unknown>) => Promise<void>] {
  const [errors, setErrors] = useState<Record<string, string>>({});
  const attempt = async (key: string, run: () => Promise<unknown>): Promise<void> => {
    setErrors((e) => ({ ...e, [key]: '' }));
    try {
      await run();
    } catch (err) {
      setErrors((e) => ({ ...e, [key]: (err as Error).message }));
    }
  };
  return [errors, attempt];
}

/**
 * A list typed as comma-separated words (categories, locations, platforms), with the API
 * server's message under it when the message names this field (`error`).
 */
export function CommaField({ id, label, hint, value, onInput, error }: { id: string; label: string; hint: string; value: string; onInput: (v: string) => void; error?: string }) {
  return (
    <>
      <Field label={label} id={id} hint={hint}>
        <input
          id={id}
          value={value}
          aria-describedby={error ? `${id}-hint ${id}-error` : `${id}-hint`}
          aria-invalid={error ? 'true' : undefined}
          onInput={(e) => onInput((e.target as HTMLInputElement).value)}
        />
      </Field>
      <Refusal error={error} id={`${id}-error`} />
    </>
  );
}

/** "Saved." once a form's write went through. */
export function Saved({ shown }: { shown: boolean }) {
  return shown ? (
    <p role="status" class="ok">
      {t('Saved.')}
    </p>
  ) : null;
}

/** A new API key, shown once (seed 000: "Make sure to copy and securely store this API Key"). */
export function KeyShownOnce({ id, value, close }: { id: string; value: string | undefined; close: () => void }) {
  if (!value) return null;
  return (
    <div class="card" role="status">
      <h3>{t('Your new API key')}</h3>
      <p>{t('Copy this API key now: it is not shown again.')}</p>
      <label for={id}>{t('Your new API key')}</label>
      <input id={id} readOnly value={value} onFocus={(e) => (e.target as HTMLInputElement).select()} />
      <button type="button" class="secondary" onClick={close}>
        OK
      </button>
    </div>
  );
}

/** A checkbox with its visible label after it (`Can Create Super Apps`). */
export function Check({ id, label, checked, onChange }: { id: string; label: string; checked: boolean; onChange: (checked: boolean) => void }) {
  return (
    <div class="field check">
      <input id={id} type="checkbox" checked={checked} onChange={(e) => onChange((e.target as HTMLInputElement).checked)} />
      <label for={id}>{label}</label>
    </div>
  );
}
