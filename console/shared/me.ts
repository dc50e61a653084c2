// What /console/api/me answers, shared by the server that answers it (console/server/me.ts)
// and the page that reads it (console/web/model.ts). Plain types and pure functions, no
// Node and no DOM: both sides import this one file.

/** Verbs on a resource (any object), and the objects held by name with their verbs. */
export interface Access {
  /** resource → verbs allowed on every object of it (no resourceNames). */
  all: Record<string, string[]>;
  /** resource → name → verbs allowed on that object only. */
  named: Record<string, Record<string, string[]>>;
  incomplete: boolean;
}

export interface MyOrganization {
  name: string;
  displayName?: string;
  namespace?: string;
  /** The caller's Membership, when they have one there. */
  membership?: { name: string; role?: string; phase?: string; email?: string };
  access?: Access;
  /** Why part of this could not be read (shown, never hidden). */
  problem?: string;
}

/** A Tenant the caller administers (or, for a provisioning administrator, any Tenant). */
export interface MyTenant {
  name: string;
  displayName?: string;
  namespace?: string;
  access?: Access;
  problem?: string;
}

export interface Me {
  username: string;
  groups: string[];
  /** May list and create Organizations (a provisioning administrator). */
  provisioningAdministrator: boolean;
  /** Cluster-wide rules (from the rules review in `default`): the PlatformConfig, keys for others. */
  cluster?: Access;
  /** Provisioning administrators only: the operator's namespace, where their own API keys live. */
  operatorNamespace?: string;
  organizations: MyOrganization[];
  tenants: MyTenant[];
}

/** Whether the rules allow `verb` on `resource` (every object, or the one named). */
export const can = (a: Access | undefined, resource: string, verb: string, name?: string): boolean =>
  !!a && ((a.all[resource] ?? a.all['*'])?.includes(verb) || (name !== undefined && !!a.named[resource]?.[name]?.includes(verb)));

/** Names of the objects of `resource` the person holds by name with `verb`. */
export const namedWith = (a: Access | undefined, resource: string, verb: string): string[] =>
  Object.entries(a?.named[resource] ?? {})
    .filter(([, v]) => v.includes(verb))
    .map(([n]) => n)
    .sort();
