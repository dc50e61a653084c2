import { OrganizationConditions } from '../../api/index.ts';
import type { Organization, OrganizationStatus } from '../../api/index.ts';
import type { Informer } from '../../runtime/cache.ts';
import { setConditions } from '../../runtime/conditions.ts';
import type { ConditionInput } from '../../runtime/conditions.ts';
import type { ControllerSpec, ReconcileResult, Reconciler } from '../../runtime/controller.ts';
import { errorMessage } from '../../runtime/errors.ts';
import { Resources } from '../../runtime/kube/resource.ts';
import { platformSettings } from '../platformconfig/controller.ts';
import type { PlatformSettings } from '../platformconfig/logic.ts';
import type { ControllerDeps } from '../deps.ts';
import { Kinds, MANAGED_BY_SELECTOR } from '../shared.ts';
import { OrganizationReasons, desiredNamespace, namespaceNameFor, namespaceNameProblem, namespaceProblem, namespaceUpToDate } from './logic.ts';
import type { Namespace } from './logic.ts';

const RECHECK_CONFLICT_MS = 60_000;
const RECHECK_TERMINATING_MS = 5_000;

export class OrganizationReconciler implements Reconciler {
  private readonly deps: ControllerDeps;
  private readonly orgs: Informer<Organization>;
  private readonly namespaces: Informer<Namespace>;
  private readonly settings: () => PlatformSettings;

  constructor(deps: ControllerDeps) {
    this.deps = deps;
    this.orgs = deps.manager.informer<Organization>(Kinds.Organization);
    this.namespaces = deps.manager.informer<Namespace>(Resources.Namespace, { labelSelector: MANAGED_BY_SELECTOR });
    this.settings = platformSettings(deps);
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const org = this.orgs.get(key);
    if (!org || org.metadata.deletionTimestamp) return; // the garbage collector removes the namespace
    const nsName = namespaceNameFor(org, this.settings().namespacePrefix.organization);
    let requeueAfterMs: number | undefined;
    let nsCondition: ConditionInput | undefined = namespaceNameProblem(nsName);
    if (!nsCondition) {
      // The cache holds only namespaces the operator labelled; one made by someone else is read directly.
      const ns = this.namespaces.getByName(nsName) ?? (await this.deps.writer.client.get<Namespace>(Resources.Namespace, nsName));
      nsCondition = namespaceProblem(org, ns);
      if (nsCondition) {
        requeueAfterMs = nsCondition.reason === OrganizationReasons.NamespaceTerminating ? RECHECK_TERMINATING_MS : RECHECK_CONFLICT_MS;
      } else {
        const desired = desiredNamespace(org, nsName);
        if (!namespaceUpToDate(ns, desired)) {
          try {
            await this.deps.writer.apply(Resources.Namespace, desired);
          } catch (err) {
            const message = `Namespace "${nsName}" could not be applied: ${errorMessage(err)}`;
            await this.writeStatus(org, nsName, { type: OrganizationConditions.NamespaceReady, status: 'False', reason: 'NamespaceApplyFailed', message });
            throw new Error(message, { cause: err });
          }
        }
        nsCondition = {
          type: OrganizationConditions.NamespaceReady,
          status: 'True',
          reason: OrganizationReasons.NamespaceCreated,
          message: `Namespace "${nsName}" is in place`,
        };
      }
    }
    await this.writeStatus(org, nsCondition.status === 'True' || nsCondition.reason !== OrganizationReasons.InvalidNamespaceName ? nsName : undefined, nsCondition);
    return requeueAfterMs ? { requeueAfterMs } : undefined;
  }

  private async writeStatus(org: Organization, nsName: string | undefined, nsCondition: ConditionInput): Promise<void> {
    const ready: ConditionInput =
      nsCondition.status === 'True'
        ? { type: OrganizationConditions.Ready, status: 'True', reason: OrganizationReasons.Ready, message: 'The organization is ready' }
        : { ...nsCondition, type: OrganizationConditions.Ready };
    const status: OrganizationStatus = {
      ...org.status,
      ...(nsName ? { namespace: nsName } : {}),
      observedGeneration: org.metadata.generation,
      conditions: setConditions(org.status?.conditions, [nsCondition, ready], org.metadata.generation, this.deps.clock.now()),
    };
    const written = await this.deps.writer.applyStatus(Kinds.Organization, org, status);
    if (written && nsCondition.status === 'False') this.deps.recorder.event(org, 'Warning', nsCondition.reason, nsCondition.message);
  }
}

export function organizationController(deps: ControllerDeps, concurrency?: number): ControllerSpec {
  return {
    name: 'organization',
    for: Kinds.Organization,
    owns: [{ resource: Resources.Namespace, labelSelector: MANAGED_BY_SELECTOR }],
    reconciler: new OrganizationReconciler(deps),
    concurrency,
  };
}
