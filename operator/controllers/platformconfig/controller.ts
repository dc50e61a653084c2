import { PlatformConfigConditions, ORGANIZATION_CREATOR_ROLE } from '../../api/platformconfig/names.ts';
import type { PlatformConfig } from '../../api/platformconfig/schema.ts';
import { ensureClusterAccess, releaseClusterAccess } from '../../runtime/apply.ts';
import type { ClusterAccessCaches } from '../../runtime/apply.ts';
import type { CacheReader } from '../../runtime/cache.ts';
import { STALLED } from '../../runtime/conditions.ts';
import type { ConditionInput } from '../../runtime/conditions.ts';
import type { ControllerSpec, ReconcileContext, Reconciler } from '../../runtime/controller.ts';
import { errorMessage } from '../../runtime/errors.ts';
import type { ControllerDeps } from '../deps.ts';
import { Caches } from '../../domain/caches.ts';
import { Kinds } from '../../api/registry.ts';
import { settingsOf } from '../../domain/settings.ts';
import { PlatformConfigReasons, validatePlatformConfig } from './logic.ts';
import { PROVISIONING_ADMINISTRATOR_ROLE, organizationCreatorAccess, provisioningAccess } from './rbac.ts';
import { writeStatus } from '../../runtime/status.ts';

export class PlatformConfigReconciler implements Reconciler {
  private readonly deps: ControllerDeps;
  private readonly cache: CacheReader<PlatformConfig>;
  /** The ClusterRoles and ClusterRoleBindings it owns. */
  private readonly owned: ClusterAccessCaches;

  constructor(deps: ControllerDeps) {
    this.deps = deps;
    this.cache = deps.caches.cache(Caches.platformConfigs);
    this.owned = { clusterRoles: deps.caches.cache(Caches.ownedClusterRoles), clusterRoleBindings: deps.caches.cache(Caches.ownedClusterRoleBindings) };
  }

  async reconcile(key: string, _ctx?: ReconcileContext): Promise<void> {
    const pc = this.cache.get(key);
    if (!pc) return;
    const problem = validatePlatformConfig(pc);
    const conditions: ConditionInput[] = [];
    if (problem) {
      // Only a change to the PlatformConfig fixes it: Stalled, as kstatus (Flux) reads it.
      conditions.push(problem, { ...problem, type: STALLED, status: 'True' });
    } else {
      conditions.push(await this.bindAdministrators(pc));
      await this.bindOrganizationCreators(pc);
      conditions.push({ type: PlatformConfigConditions.Ready, status: 'True', reason: PlatformConfigReasons.Valid, message: 'The platform configuration is valid and in use' });
    }
    // Stalled goes once the problem is fixed; AdministratorsBound stays from the last time it was checked.
    await writeStatus(this.deps, Kinds.PlatformConfig, pc, { conditions, mode: 'merge', drop: problem ? [] : [STALLED], warn: () => (problem ? [problem] : []) });
  }

  /** With App Center's model everyone signed in may create an Organization; with the Mini App Center's, the grant is removed. */
  private async bindOrganizationCreators(pc: PlatformConfig): Promise<void> {
    if (settingsOf(pc.spec).organizationModel === 'AppCenter') await ensureClusterAccess(this.deps.store, this.owned, organizationCreatorAccess(pc));
    else await releaseClusterAccess(this.deps.store, this.owned, ORGANIZATION_CREATOR_ROLE, pc.metadata.uid);
  }

  /** Provisioning administrators get the ClusterRole that manages the whole platform. */
  private async bindAdministrators(pc: PlatformConfig): Promise<ConditionInput> {
    const s = settingsOf(pc.spec);
    const { users, groups } = s.provisioningAdministrators;
    const access = provisioningAccess({ users, groups, userPrefix: s.userPrefix, groupPrefix: s.groupPrefix }, pc);
    try {
      await ensureClusterAccess(this.deps.store, this.owned, access);
    } catch (err) {
      const message = `The ClusterRoleBinding ${PROVISIONING_ADMINISTRATOR_ROLE} could not be applied: ${errorMessage(err)}`;
      this.deps.recorder.event(pc, 'Warning', 'BindingFailed', message);
      throw new Error(message, { cause: err });
    }
    return {
      type: PlatformConfigConditions.AdministratorsBound,
      status: 'True',
      reason: 'AdministratorsBound',
      message: `${users.length} user(s) and ${groups.length} group(s) of spec.provisioningAdministrators hold ClusterRole ${PROVISIONING_ADMINISTRATOR_ROLE} (Accounts with provisioningAdministrator hold it through their own bindings: status.accountAdministrators)`,
    };
  }
}

export function platformConfigController(deps: ControllerDeps): ControllerSpec {
  return {
    name: 'platformconfig',
    for: Caches.platformConfigs,
    owns: [Caches.ownedClusterRoles, Caches.ownedClusterRoleBindings],
    reconciler: new PlatformConfigReconciler(deps),
    concurrency: 1,
  };
}
