// The platform's lists (seed 000, provisioning administrators: "Manage platforms
// available", "Manage categories"): PlatformConfig `default` spec.platforms and
// spec.categories, changed with the resourceVersion read.
import { useEffect, useState } from 'preact/hooks';
import { clusterPath, get, mergePatch } from '../api.ts';
import type { Obj } from '../api.ts';
import { t } from '../i18n.ts';
import { fieldOfError, splitList } from '../logic.ts';
import { CommaField, Loading, Refusal, Saved } from '../ui.tsx';

export const PLATFORM_CONFIG = clusterPath('platformconfigs', 'default');

export function Platform() {
  const [read, setRead] = useState<Obj>();
  const [platforms, setPlatforms] = useState('');
  const [categories, setCategories] = useState('');
  const [error, setError] = useState<string>();
  const [saved, setSaved] = useState(false);
  const load = async () => {
    try {
      const o = await get<Obj>(PLATFORM_CONFIG);
      setRead(o);
      setPlatforms(((o.spec?.platforms as string[] | undefined) ?? []).join(', '));
      setCategories(((o.spec?.categories as string[] | undefined) ?? []).join(', '));
    } catch (err) {
      setError((err as Error).message);
    }
  };
  useEffect(() => void load(), []);
  const field = fieldOfError(error, ['spec.platforms', 'spec.categories']);

  async function save(ev: Event) {
    ev.preventDefault();
    setError(undefined);
    setSaved(false);
    const p = splitList(platforms);
    const c = splitList(categories);
    try {
      const o = await mergePatch<Obj>(PLATFORM_CONFIG, { metadata: { resourceVersion: read?.metadata.resourceVersion }, spec: { platforms: p.length ? p : null, categories: c.length ? c : null } });
      setRead(o);
      setSaved(true);
    } catch (err) {
      setError((err as Error).message);
    }
  }

  if (!read && !error) return <Loading />;
  return (
    <form class="card" onSubmit={save} aria-labelledby="platform-title" noValidate>
      <h2 id="platform-title">{t('Platforms and categories')}</h2>
      <p>
        PlatformConfig <code>default</code>
      </p>
      <CommaField
        id="platform-platforms"
        label={t('Platforms')}
        hint={t('Separated by commas: the platforms super apps may name.')}
        value={platforms}
        onInput={setPlatforms}
        error={field === 'spec.platforms' ? error : undefined}
      />
      <CommaField
        id="platform-categories"
        label={t('Categories')}
        hint={t('Separated by commas: the categories mini apps may name.')}
        value={categories}
        onInput={setCategories}
        error={field === 'spec.categories' ? error : undefined}
      />
      <button type="submit" disabled={!read}>
        {t('SAVE')}
      </button>
      {error && !field ? <Refusal error={error} id="platform-error" /> : null}
      <Saved shown={saved} />
    </form>
  );
}
