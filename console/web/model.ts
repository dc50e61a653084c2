// What /console/api/me answers (console/server/me.ts), and the access checks the page
// makes with it: a button is shown only when the API server's own rules review allows it.
// The types and checks live in console/shared/me.ts, which the server imports too.
export { can, namedWith } from '../shared/me.ts';
export type { Access, Me, MyOrganization, MyTenant } from '../shared/me.ts';
