// What /console/api/me answers (console/server/me.ts), and the access checks the page
// makes with it: a button is shown only when the API server's own rules review allows it.
export interface Access {
  all: Record<string, string[]>;
  named: Record<string, Record<string, string[]>>;
  incomplete: boolean;
}

export interface MyOrganization {
  name: string;
  displayName?: string;
  namespace?: string;
  membership?: { name: string; role?: string; phase?: string; email?: string };
  access?: Access;
  problem?: string;
}

/** A Tenant the person administers (console/server/me.ts: the Tenants they may get by name). */
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
  provisioningAdministrator: boolean;
  organizations: MyOrganization[];
  tenants?: MyTenant[];
}

export const can = (a: Access | undefined, resource: string, verb: string, name?: string): boolean =>
  !!a && ((a.all[resource] ?? a.all['*'])?.includes(verb) || (name !== undefined && !!a.named[resource]?.[name]?.includes(verb)));

/** Names of the objects of `resource` the person holds by name with `verb`. */
export const namedWith = (a: Access | undefined, resource: string, verb: string): string[] =>
  Object.entries(a?.named[resource] ?? {})
    .filter(([, v]) => v.includes(verb))
    .map(([n]) => n)
    .sort();
