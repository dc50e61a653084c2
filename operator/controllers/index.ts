// Every kind's module, registered by the Operator (app.ts). A new kind is a folder with
// its module.ts, and one line here.
import { apiKeyModule } from './apikey/module.ts';
import { membershipModule } from './membership/module.ts';
import { miniAppModule } from './miniapp/module.ts';
import { miniAppReviewModule } from './miniappreview/module.ts';
import { KIND_NAMES } from '../api/registry.ts';
import type { OperatorModule } from './module.ts';
import { organizationModule } from './organization/module.ts';
import { platformConfigModule } from './platformconfig/module.ts';
import { superAppModule } from './superapp/module.ts';
import { appManifestModule } from './appmanifest/module.ts';
import { solutionModule } from './solution/module.ts';
import { subscriptionModule } from './subscription/module.ts';
import { tenantModule } from './tenant/module.ts';
import { userModule } from './user/module.ts';
import { userGroupModule } from './usergroup/module.ts';

export const MODULES: readonly OperatorModule[] = [platformConfigModule, organizationModule, membershipModule, superAppModule, miniAppModule, miniAppReviewModule, apiKeyModule,
  tenantModule, solutionModule, appManifestModule, subscriptionModule, userGroupModule, userModule];

/** The resources (plurals) the validating webhook serves, as the modules declare them (`admits`), sorted. */
export const ADMITTED_RESOURCES: readonly string[] = MODULES.flatMap((m) => m.admits ?? []).map((k) => KIND_NAMES[k].plural).sort();
