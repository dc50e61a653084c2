// The organization's namespace follows the rules of operator/domain/namespaces.ts, shared with Tenants.
import { OrganizationReasons } from '../../api/organization/names.ts';

export { OrganizationReasons };

export type { Namespace } from '../../domain/caches.ts';

export { adoptionValue, claimOf, createdFor, desiredNamespace, namespaceNameFor, namespaceNameProblem, namespacePlan } from '../../domain/namespaces.ts';
export type { NamespacePlan } from '../../domain/namespaces.ts';
