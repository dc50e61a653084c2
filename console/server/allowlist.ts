// What the console's proxy forwards to the API server, and nothing else. The person's
// own RBAC still decides every request: the list only keeps the proxy from being a
// general-purpose door to the API (no nodes, no pods/exec, no impersonation, no writes
// to status, no Secrets listed).
const NAME = '[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?';
const GROUP_PATH = '/apis/miniapps\\.dev/v1alpha1';
/** The project's own kinds, by plural. */
export const MINIAPPS_RESOURCES = [
  'platformconfigs',
  'organizations',
  'tenants',
  'memberships',
  'superapps',
  'miniapps',
  'miniappreviews',
  'apikeys',
  'solutions',
  'appmanifests',
  'subscriptions',
  'usergroups',
  'users',
  'accounts',
] as const;
const RES = `(${MINIAPPS_RESOURCES.join('|')})`;

interface Rule {
  methods: readonly string[];
  path: RegExp;
  why: string;
}

const READ = ['GET'] as const;
const WRITE = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

export const ALLOW_LIST: readonly Rule[] = [
  // The project's kinds: list/watch/create in a namespace or cluster-wide, and one object by name.
  { methods: WRITE, path: new RegExp(`^${GROUP_PATH}(/namespaces/${NAME})?/${RES}(/${NAME})?$`), why: 'the miniapps.dev kinds' },
  // Status is the operator's: read only.
  { methods: READ, path: new RegExp(`^${GROUP_PATH}(/namespaces/${NAME})?/${RES}/${NAME}/status$`), why: 'status, read only' },
  // Events of a namespace (why an invitation was not sent, why a mini app is not listed).
  { methods: READ, path: new RegExp(`^/api/v1/namespaces/${NAME}/events$`), why: 'events' },
  // One Secret by name: an API key's owner reads the key once, right after creating it.
  { methods: READ, path: new RegExp(`^/api/v1/namespaces/${NAME}/secrets/${NAME}$`), why: "an API key's Secret, by name" },
  // One ConfigMap by name, read: a super app's catalog and its snapshots, the organization's icon.
  { methods: READ, path: new RegExp(`^/api/v1/namespaces/${NAME}/configmaps/${NAME}$`), why: 'a catalog or icon ConfigMap, by name' },
  // The organization's icon: its administrators patch ConfigMap organization-icon (seed 002), no other.
  { methods: ['PATCH'], path: new RegExp(`^/api/v1/namespaces/${NAME}/configmaps/organization-icon$`), why: "the organization's icon ConfigMap" },
  // Who am I, and what may I do: the questions every person may ask about themselves.
  { methods: ['POST'], path: /^\/apis\/authentication\.k8s\.io\/v1\/selfsubjectreviews$/, why: 'SelfSubjectReview' },
  { methods: ['POST'], path: /^\/apis\/authorization\.k8s\.io\/v1\/(selfsubjectrulesreviews|selfsubjectaccessreviews)$/, why: 'SelfSubject{Rules,Access}Review' },
];

/** The query parameters the API server's list, watch and write calls take, and nothing else. */
export const ALLOWED_QUERY = new Set([
  'watch',
  'resourceVersion',
  'resourceVersionMatch',
  'allowWatchBookmarks',
  'labelSelector',
  'fieldSelector',
  'limit',
  'continue',
  'timeoutSeconds',
  'fieldManager',
  'fieldValidation',
  'dryRun',
  'force',
  'propagationPolicy',
]);

export type Verdict = { ok: true; path: string } | { ok: false; status: 403 | 400 | 405; message: string };

/**
 * Whether `method` on `rawPath` (the part after the proxy's prefix, with its query) may
 * be forwarded, and the exact path to send. The path is checked as sent: no percent
 * escapes, no dot segments, no doubled slashes, so what the list matched is what the API
 * server reads.
 */
export function checkProxyRequest(method: string, rawPath: string): Verdict {
  const q = rawPath.indexOf('?');
  const path = q < 0 ? rawPath : rawPath.slice(0, q);
  const query = q < 0 ? '' : rawPath.slice(q + 1);
  if (!/^\/[A-Za-z0-9._/-]*$/.test(path) || path.includes('//') || /(^|\/)\.\.?(\/|$)/.test(path)) {
    return { ok: false, status: 400, message: `the console does not forward ${JSON.stringify(path)}: not a plain API path` };
  }
  const rules = ALLOW_LIST.filter((r) => r.path.test(path));
  if (rules.length === 0) return { ok: false, status: 403, message: `the console does not forward ${path}: not on its allow-list (docs/console.md)` };
  if (!rules.some((r) => r.methods.includes(method))) return { ok: false, status: 405, message: `the console does not forward ${method} ${path}` };
  const params = new URLSearchParams(query);
  const kept = new URLSearchParams();
  for (const [k, v] of params) {
    if (!ALLOWED_QUERY.has(k)) return { ok: false, status: 400, message: `the console does not forward the query parameter ${JSON.stringify(k)}` };
    kept.append(k, v);
  }
  const qs = kept.toString();
  return { ok: true, path: qs ? `${path}?${qs}` : path };
}
