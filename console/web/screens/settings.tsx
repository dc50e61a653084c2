// An organization's settings: its icon (seed 002, set by its administrators: at most 512
// pixels and 1 MB, the operator's check) and, for provisioning administrators, what it may
// create and where (seed 000: Can Create Super Apps / Mini Apps, and the partner
// permission: the super apps of other organizations it may publish mini apps in).
import { useState } from 'preact/hooks';
import { clusterPath, get, mergePatch, usePolledObjects, useWatchList } from '../api.ts';
import type { Obj } from '../api.ts';
import { t } from '../i18n.ts';
import { can } from '../model.ts';
import type { MyOrganization } from '../model.ts';
import { Check, Field, ListView, Refusal, Saved, Table } from '../ui.tsx';

export const ICON_CONFIGMAP = 'organization-icon';
const ICON_TYPES: Record<string, string> = { png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp' };

type Condition = { type: string; status: string; reason?: string; message?: string; observedGeneration?: number };
const condition = (o: Obj | undefined, type: string): Condition | undefined => (o?.status?.conditions as Condition[] | undefined)?.find((c) => c.type === type);

export function Settings({ org }: { org: MyOrganization }) {
  const orgPath = clusterPath('organizations', org.name);
  const polled = usePolledObjects<Obj>([orgPath]);
  const current = polled.items[0];
  const mayIcon = can(org.access, 'configmaps', 'patch', ICON_CONFIGMAP) && can(org.access, 'organizations', 'patch', org.name);
  const mayProvision = can(org.access, 'organizations/provisioning', 'update');
  return (
    <section aria-labelledby="settings-title">
      <h2 id="settings-title">{t('Organization settings')}</h2>
      {polled.error ? <Refusal error={polled.error} /> : null}
      {mayIcon && org.namespace ? <Icon org={org} current={current} /> : null}
      {mayProvision && current ? <Provisioning org={org} current={current} /> : null}
    </section>
  );
}

function Icon({ org, current }: { org: MyOrganization; current?: Obj }) {
  const ns = org.namespace!;
  const cmPath = `/api/v1/namespaces/${ns}/configmaps/${ICON_CONFIGMAP}`;
  const cm = usePolledObjects<Obj & { binaryData?: Record<string, string> }>([cmPath]).items[0];
  const [file, setFile] = useState<File>();
  const [error, setError] = useState<string>();
  // Who refused: the API server (the ConfigMap or the Organization write), or the operator (its IconValid check).
  const [by, setBy] = useState<'api' | 'operator'>('api');
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string>();
  const ref = current?.spec?.icon as { kind: string; name: string; key: string } | undefined;
  const shownKey = ref?.kind === 'ConfigMap' && ref.name === ICON_CONFIGMAP ? ref.key : undefined;
  const bytes = shownKey ? cm?.binaryData?.[shownKey] : undefined;
  const ext = (shownKey?.split('.').pop() ?? '').toLowerCase();
  const valid = condition(current, 'IconValid');

  async function upload(ev: Event) {
    ev.preventDefault();
    setError(undefined);
    setBy('api');
    setDone(undefined);
    if (!file) return;
    setBusy(true);
    const suffix = (file.name.split('.').pop() ?? '').toLowerCase().replace(/[^a-z0-9]/g, '') || 'img';
    // A new key per upload: the Organization changes, so the operator checks the new image at once.
    const key = `icon-${Date.now()}.${suffix}`;
    try {
      const b64 = await new Promise<string>((resolve, reject) => {
        const r = new FileReader();
        r.onload = () => resolve(String(r.result).replace(/^data:[^,]*,/, ''));
        r.onerror = () => reject(r.error);
        r.readAsDataURL(file);
      });
      const before = await get<Obj>(clusterPath('organizations', org.name));
      const previous = before.spec?.icon ?? null;
      await mergePatch(cmPath, { binaryData: { [key]: b64 } });
      const after = await mergePatch<Obj & { metadata: { generation?: number } }>(clusterPath('organizations', org.name), {
        metadata: { resourceVersion: before.metadata.resourceVersion },
        spec: { icon: { kind: 'ConfigMap', name: ICON_CONFIGMAP, key } },
      });
      const generation = after.metadata.generation ?? 0;
      // The operator's verdict on this image (its IconValid condition for this generation).
      let verdict: Condition | undefined;
      for (let i = 0; i < 60 && !verdict; i++) {
        const o = await get<Obj & { metadata: { generation?: number } }>(clusterPath('organizations', org.name));
        const c = condition(o, 'IconValid');
        if (c && (c.observedGeneration ?? o.status?.observedGeneration ?? 0) >= generation && o.spec?.icon?.key === key) verdict = c;
        else await new Promise((r) => setTimeout(r, 500));
      }
      if (!verdict) throw new Error(t('The operator did not check the icon in time; look at the IconValid condition of Organization {0}', org.name));
      // The images no longer named once the new one is set.
      const stale = Object.keys(cm?.binaryData ?? {}).filter((k) => k !== key);
      if (verdict.status !== 'True') {
        // Nothing half-made: the previous icon is set again and the refused image removed.
        const now = await get<Obj>(clusterPath('organizations', org.name));
        await mergePatch(clusterPath('organizations', org.name), { metadata: { resourceVersion: now.metadata.resourceVersion }, spec: { icon: previous } });
        await mergePatch(cmPath, { binaryData: { [key]: null } });
        setBy('operator');
        setError(`${verdict.reason}: ${verdict.message}`);
      } else {
        if (stale.length) await mergePatch(cmPath, { binaryData: Object.fromEntries(stale.map((k) => [k, null])) });
        setDone(verdict.message);
      }
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="card" onSubmit={upload} aria-labelledby="icon-title" noValidate>
      <h3 id="icon-title">{t('Organization icon')}</h3>
      {bytes && ICON_TYPES[ext] ? (
        <img src={`data:${ICON_TYPES[ext]};base64,${bytes}`} alt={t('Icon of {0}', org.displayName ?? org.name)} width={64} height={64} data-icon />
      ) : (
        <p>{t('No icon yet.')}</p>
      )}
      {valid ? (
        <p class={valid.status === 'True' ? 'ok' : 'warn'} data-icon-valid>
          {valid.message}
        </p>
      ) : null}
      <Field label={t('Image file')} id="icon-file" hint={t('PNG, JPEG, GIF or WebP, at most 512 × 512 pixels and 1 MB.')}>
        <input
          id="icon-file"
          type="file"
          accept="image/png,image/jpeg,image/gif,image/webp"
          aria-describedby={error ? 'icon-file-hint icon-error' : 'icon-file-hint'}
          aria-invalid={error ? 'true' : undefined}
          onChange={(e) => setFile((e.target as HTMLInputElement).files?.[0])}
        />
      </Field>
      <Refusal error={error} id="icon-error" by={by} />
      {done ? (
        <p role="status" class="ok">
          {done}
        </p>
      ) : null}
      <button type="submit" disabled={!file || busy}>
        {t('UPLOAD')}
      </button>
    </form>
  );
}

type Target = { organization: string; name: string };

function Provisioning({ org, current }: { org: MyOrganization; current: Obj }) {
  // The form starts from the object as it was read: a change since then is refused (409), not overwritten.
  const [read, setRead] = useState(current);
  const [superApps, setSuperApps] = useState<boolean>(!!read.spec?.capabilities?.superApps);
  const [miniApps, setMiniApps] = useState<boolean>(!!read.spec?.capabilities?.miniApps);
  const [targets, setTargets] = useState<Target[]>((read.spec?.miniAppTargets as Target[] | undefined) ?? []);
  const [pick, setPick] = useState('');
  const [error, setError] = useState<string>();
  const [saved, setSaved] = useState(false);
  const all = useWatchList<Obj>(clusterPath('superapps'));
  const others = all.items.filter((s) => s.status?.organization && s.status.organization !== org.name && !targets.some((x) => x.organization === s.status.organization && x.name === s.metadata.name));
  const resolved = condition(current, 'MiniAppTargetsResolved');

  async function save(ev: Event) {
    ev.preventDefault();
    setError(undefined);
    setSaved(false);
    try {
      setRead(
        await mergePatch<Obj>(clusterPath('organizations', org.name), {
          metadata: { resourceVersion: read.metadata.resourceVersion },
          spec: { capabilities: { superApps, miniApps }, miniAppTargets: targets.length ? targets : null },
        }),
      );
      setSaved(true);
    } catch (err) {
      setError((err as Error).message);
    }
  }

  return (
    <form class="card" onSubmit={save} aria-labelledby="provisioning-title" noValidate>
      <h3 id="provisioning-title">{t('Permissions')}</h3>
      <Check id="prov-superapps" label={t('Can Create Super Apps')} checked={superApps} onChange={setSuperApps} />
      <Check id="prov-miniapps" label={t('Can Create Mini Apps')} checked={miniApps} onChange={setMiniApps} />
      <h4>{t('Mini app targets')}</h4>
      <p>{t('Super apps of other organizations in which this organization may publish mini apps.')}</p>
      <ListView state={{ loaded: true }} count={targets.length}>
        {() => (
          <Table columns={[t('Organization'), t('Super app'), t('Actions')]}>
            {targets.map((x) => (
              <tr key={`${x.organization}/${x.name}`} data-target={`${x.organization}/${x.name}`}>
                <td>{x.organization}</td>
                <td>{x.name}</td>
                <td>
                  <button type="button" class="secondary" aria-label={t('Remove from the list: {0}', `${x.organization}/${x.name}`)} onClick={() => setTargets((all) => all.filter((y) => y !== x))}>
                    {t('Remove from the list')}
                  </button>
                </td>
              </tr>
            ))}
          </Table>
        )}
      </ListView>
      {resolved?.status === 'False' ? <p class="warn">{resolved.message}</p> : null}
      <Field label={t('Add a super app')} id="prov-target">
        <select id="prov-target" value={pick} onChange={(e) => setPick((e.target as HTMLSelectElement).value)}>
          <option value="">—</option>
          {others.map((s) => (
            <option value={`${s.status.organization}/${s.metadata.name}`}>
              {s.status.organization} / {s.spec?.displayName ?? s.metadata.name}
            </option>
          ))}
        </select>
      </Field>
      <button
        type="button"
        class="secondary"
        disabled={!pick}
        onClick={() => {
          const [organization, name] = pick.split('/');
          setTargets((x) => [...x, { organization: organization!, name: name! }]);
          setPick('');
        }}
      >
        {t('Add')}
      </button>
      <div>
        <button type="submit">{t('CONFIRM')}</button>
      </div>
      <Refusal error={error} id="provisioning-error" />
      <Saved shown={saved} />
    </form>
  );
}
