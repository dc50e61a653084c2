// A mini app's data (seed 000: "Manage Mini Apps data (locations, categories, and
// versions)"): categories from the platform's list, locations, versions and the one super
// app catalogs show. Sent with the resourceVersion read, so a stale form is refused, not
// applied over someone else's change; the API server's message is shown by the field it names.
import { useState } from 'preact/hooks';
import { mergePatch, nsPath } from '../api.ts';
import type { Obj } from '../api.ts';
import { t } from '../i18n.ts';
import { fieldOfError, splitList } from '../logic.ts';
import { CommaField, Field, Refusal } from '../ui.tsx';

const FIELDS = ['spec.categories', 'spec.locations', 'spec.versions', 'spec.publishedVersion'];

export function EditMiniApp({ ns, miniApp, done }: { ns: string; miniApp: Obj; done: () => void }) {
  const spec = miniApp.spec ?? {};
  const [categories, setCategories] = useState(((spec.categories as string[] | undefined) ?? []).join(', '));
  const [locations, setLocations] = useState(((spec.locations as string[] | undefined) ?? []).join(', '));
  const [versions, setVersions] = useState<{ name: string; description?: string }[]>((spec.versions as { name: string; description?: string }[] | undefined) ?? []);
  const [published, setPublished] = useState<string>(spec.publishedVersion ?? '');
  const [newVersion, setNewVersion] = useState('');
  const [newDescription, setNewDescription] = useState('');
  const [error, setError] = useState<string>();
  // The object as the form was opened: a change since then makes the API server refuse the write.
  const [read] = useState(miniApp.metadata.resourceVersion);
  const app = spec.appName ?? miniApp.metadata.name;
  const field = fieldOfError(error, FIELDS);
  const describedBy = (path: string, hint?: string) => [hint, field === path ? 'miniapp-edit-error' : undefined].filter(Boolean).join(' ') || undefined;

  function addVersion() {
    if (!newVersion.trim()) return;
    setVersions((v) => [...v, { name: newVersion.trim(), ...(newDescription.trim() ? { description: newDescription.trim() } : {}) }]);
    setNewVersion('');
    setNewDescription('');
  }

  async function submit(ev: Event) {
    ev.preventDefault();
    setError(undefined);
    const cats = splitList(categories);
    const locs = splitList(locations);
    try {
      await mergePatch(nsPath(ns, 'miniapps', miniApp.metadata.name), {
        metadata: { resourceVersion: read },
        spec: { categories: cats.length ? cats : null, locations: locs.length ? locs : null, versions: versions.length ? versions : null, publishedVersion: published || null },
      });
      done();
    } catch (err) {
      setError((err as Error).message);
    }
  }

  const refusalAt = (path: string) => (field === path ? <Refusal error={error} id="miniapp-edit-error" /> : null);
  return (
    <form class="card" onSubmit={submit} aria-labelledby="miniapp-edit-title" noValidate data-edit={miniApp.metadata.name}>
      <h3 id="miniapp-edit-title">{t('Edit {0}', app)}</h3>
      <CommaField
        id="miniapp-categories"
        label={t('Categories')}
        hint={t("Separated by commas, from the platform's category list.")}
        value={categories}
        onInput={setCategories}
        error={field === 'spec.categories' ? error : undefined}
      />
      <CommaField
        id="miniapp-locations"
        label={t('Locations')}
        hint={t('Separated by commas, e.g. country or city codes.')}
        value={locations}
        onInput={setLocations}
        error={field === 'spec.locations' ? error : undefined}
      />
      <fieldset>
        <legend>{t('Versions')}</legend>
        <ul class="plain">
          {versions.map((v) => (
            <li key={v.name} data-version={v.name}>
              {v.name}
              {v.description ? ` · ${v.description}` : ''}{' '}
              <button type="button" class="secondary" aria-label={t('Remove from the list: {0}', v.name)} onClick={() => setVersions((all) => all.filter((x) => x.name !== v.name))}>
                {t('Remove from the list')}
              </button>
            </li>
          ))}
        </ul>
        <Field label={t('New version')} id="miniapp-new-version" hint={t('e.g. 1.0.3')}>
          <input
            id="miniapp-new-version"
            value={newVersion}
            aria-describedby={describedBy('spec.versions', 'miniapp-new-version-hint')}
            onInput={(e) => setNewVersion((e.target as HTMLInputElement).value)}
          />
        </Field>
        <Field label={t('Version description')} id="miniapp-new-description">
          <input id="miniapp-new-description" value={newDescription} onInput={(e) => setNewDescription((e.target as HTMLInputElement).value)} />
        </Field>
        <button type="button" class="secondary" onClick={addVersion}>
          {t('Add version')}
        </button>
        {refusalAt('spec.versions')}
      </fieldset>
      <Field label={t('Published version')} id="miniapp-published">
        <select id="miniapp-published" value={published} aria-describedby={describedBy('spec.publishedVersion')} onChange={(e) => setPublished((e.target as HTMLSelectElement).value)}>
          <option value="">{t('None (unpublished)')}</option>
          {versions.map((v) => (
            <option value={v.name}>{v.name}</option>
          ))}
        </select>
      </Field>
      {refusalAt('spec.publishedVersion')}
      <button type="submit">{t('SAVE')}</button>
      <button type="button" class="secondary" onClick={done}>
        {t('Cancel')}
      </button>
      {error && !field ? <Refusal error={error} id="miniapp-edit-error" /> : null}
    </form>
  );
}
