import { PLATFORM_CONFIG_NAME, PlatformConfigConditions } from '../../api/index.ts';
import type { PlatformConfig, PlatformConfigStatus } from '../../api/index.ts';
import { setCondition } from '../../runtime/conditions.ts';
import type { ControllerSpec, Reconciler } from '../../runtime/controller.ts';
import type { Informer } from '../../runtime/cache.ts';
import type { ControllerDeps } from '../deps.ts';
import { Kinds } from '../shared.ts';
import { PlatformConfigReasons, settingsOf, validatePlatformConfig } from './logic.ts';
import type { PlatformSettings } from './logic.ts';

/** The platform settings as the cached PlatformConfig `default` says, defaults filled in. */
export function platformSettings(deps: Pick<ControllerDeps, 'manager'>): () => PlatformSettings {
  const cache = deps.manager.informer<PlatformConfig>(Kinds.PlatformConfig);
  return () => settingsOf(cache.getByName(PLATFORM_CONFIG_NAME)?.spec);
}

export class PlatformConfigReconciler implements Reconciler {
  private readonly deps: ControllerDeps;
  private readonly cache: Informer<PlatformConfig>;

  constructor(deps: ControllerDeps) {
    this.deps = deps;
    this.cache = deps.manager.informer<PlatformConfig>(Kinds.PlatformConfig);
  }

  async reconcile(key: string): Promise<void> {
    const pc = this.cache.get(key);
    if (!pc) return;
    const problem = validatePlatformConfig(pc);
    const ready = problem ?? {
      type: PlatformConfigConditions.Ready,
      status: 'True' as const,
      reason: PlatformConfigReasons.Valid,
      message: 'The platform configuration is valid and in use',
    };
    const status: PlatformConfigStatus = {
      observedGeneration: pc.metadata.generation,
      conditions: setCondition(pc.status?.conditions, ready, pc.metadata.generation, this.deps.clock.now()),
    };
    const written = await this.deps.writer.applyStatus(Kinds.PlatformConfig, pc, status);
    if (written && problem) this.deps.recorder.event(pc, 'Warning', problem.reason, problem.message);
  }
}

export function platformConfigController(deps: ControllerDeps): ControllerSpec {
  return { name: 'platformconfig', for: Kinds.PlatformConfig, reconciler: new PlatformConfigReconciler(deps), concurrency: 1 };
}
