// Every kind's module, registered by the Operator (app.ts): one per kind of the registry
// (api/registry.ts), each the `<kind>Module` export of controllers/<folder>/module.ts. A new
// kind is its folders (api/<folder>/, controllers/<folder>/) and one line of the registry.
import { KIND_NAMES, sliceExport, sliceFolder } from '../api/registry.ts';
import type { KindName } from '../api/registry.ts';
import type { SettingTable } from '../runtime/config.ts';
import type { MetricSet } from '../runtime/metrics.ts';
import type { OperatorModule } from './module.ts';

async function loadModule(kind: KindName): Promise<OperatorModule> {
  const slice = (await import(`./${sliceFolder(kind)}/module.ts`)) as Record<string, unknown>;
  const mod = slice[sliceExport(kind, 'Module')] as OperatorModule | undefined;
  if (mod?.name !== sliceFolder(kind)) throw new Error(`controllers/${sliceFolder(kind)}/module.ts must export ${sliceExport(kind, 'Module')}, the module named ${sliceFolder(kind)}`);
  return mod;
}

/** Every kind's module, in the registry's order. */
export const MODULES: readonly OperatorModule[] = await Promise.all((Object.keys(KIND_NAMES) as KindName[]).map(loadModule));

/** The resources (plurals) the validating webhook serves, as the modules declare them (`admits`), sorted. */
export const ADMITTED_RESOURCES: readonly string[] = MODULES.flatMap((m) => m.admits ?? [])
  .map((k) => KIND_NAMES[k].plural)
  .sort();

/** The modules' own metrics (OperatorModule.metrics), in the modules' order: the Operator registers them with its own. */
export const MODULE_METRICS: readonly MetricSet<unknown>[] = MODULES.flatMap((m) => m.metrics ?? []);

/** The modules' own settings (OperatorModule.settings), in the modules' order: the process reads them with the operator's (loadConfig). */
export const MODULE_SETTINGS: readonly SettingTable[] = MODULES.flatMap((m) => (m.settings ? [m.settings] : []));
