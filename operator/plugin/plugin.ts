// `kubectl miniapps`: what people want from a console, over the user's own kubeconfig and
// permissions. The commands work on a small API interface (the entry point,
// operator/cli/kubectl-miniapps.ts, gives it the user's KubeClient), print like kubectl
// (tables, -o yaml|json) and return exit codes scripts can rely on (EXIT).
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { AppManifestConditions } from '../api/appmanifest/names.ts';
import { CONFIRM_DELETE_ANNOTATION, CONFIRM_DELETE_VALUE } from '../api/constants.ts';
import { DATA_PROTECTION_MODES } from '../api/miniapp/names.ts';
import { tokenAudience } from '../api/user/names.ts';
import type { AppManifest, MiniApp, Organization, Subscription, SuperApp, Tenant, User } from '../api/index.ts';
import { tokenRoles } from '../domain/solutions.ts';
import { appManifestOf, tokenRolesRequiredOf } from '../domain/solutions.ts';
import { ApiError } from '../runtime/errors.ts';
import type { AnyObject, ObjectBody } from '../runtime/kube/client.ts';
import { Resources } from '../runtime/kube/resource.ts';
import type { ResourceType } from '../runtime/kube/resource.ts';
import { Kinds } from '../api/registry.ts';
import { completionScript } from './completion.ts';
import { commandHelp } from './help.ts';

/** Exit codes. */
export const EXIT = {
  ok: 0,
  /** The API server or the network failed, or anything else went wrong. */
  error: 1,
  /** A command or flag the plugin does not know, or a missing argument. */
  usage: 2,
  notFound: 3,
  /** Refused: RBAC, an admission policy or the operator's webhook said no (the message says why). */
  forbidden: 4,
  /** `delete` was not confirmed with CONFIRM DELETE. */
  notConfirmed: 5,
  /** The object is invalid or conflicts with one that exists (422, 409). */
  invalid: 6,
} as const;

export interface PluginApi {
  get<T extends AnyObject>(rt: ResourceType, name: string, namespace?: string): Promise<T | undefined>;
  /** Every object; `namespace` undefined: all namespaces. */
  list<T extends AnyObject>(rt: ResourceType, namespace?: string): Promise<T[]>;
  create<T extends AnyObject>(rt: ResourceType, obj: ObjectBody): Promise<T>;
  patch<T extends AnyObject>(rt: ResourceType, name: string, namespace: string | undefined, patch: unknown): Promise<T>;
  delete(rt: ResourceType, name: string, namespace?: string): Promise<boolean>;
}

export interface PluginIO {
  out(text: string): void;
  err(text: string): void;
  /** Shows `prompt` and reads one line (undefined at end of input). */
  readLine(prompt: string): Promise<string | undefined>;
}

export interface Connection {
  api: PluginApi;
  /** The kubeconfig context's namespace (kubectl's default), else `default`. */
  defaultNamespace: string;
}

export interface PluginContext extends Connection {
  io: PluginIO;
}

/** What run needs: the IO, and the connection made once the command is known to be one (no kubeconfig needed for --help). */
export interface PluginSetup {
  io: PluginIO;
  connect(): Connection;
}

export const USAGE = `kubectl miniapps: super apps, mini apps and their catalogs, with your own kubeconfig and permissions.

Usage:
  kubectl miniapps list [--category C] [-n NS | -A] [-o wide|yaml|json]
  kubectl miniapps search TEXT [--category C] [-n NS | -A] [-o wide|yaml|json]
  kubectl miniapps duplicate SOURCE NEWNAME [--app-name NAME] [--organization ORG] [--data-privacy MODE] [-n NS] [-o yaml|json]
  kubectl miniapps catalog SUPERAPP [--version V] [-n NS] [-o yaml|json]
  kubectl miniapps delete MINIAPP [-n NS]
  kubectl miniapps onboard ORG/SOLUTION (--tenants T1,T2 | --stack NAME) [--version V]
  kubectl miniapps token-roles USER --app ORG/APP [-n TENANT_NAMESPACE] [-o yaml|json]
  kubectl miniapps completion bash|zsh
  kubectl miniapps COMMAND --help
  kubectl miniapps --version

  list       mini apps with their organization, type, categories and where each stands in its super apps
  search     mini apps whose name, app name, domain, type, categories or locations contain TEXT (case-insensitive)
  duplicate  a new mini app with SOURCE's spec, a new name and app name, optionally in another organization and
             with another data-privacy mode (None, IrreversibleMasking, EnvelopeEncryption); never its status, uid
             or data key (the copy gets a key of its own); with -o it prints the copy instead of creating it
  catalog    the live catalog of a super app, or with --version the snapshot frozen for that version
  delete     asks you to type CONFIRM DELETE, then sets ${CONFIRM_DELETE_ANNOTATION} and deletes the mini app
  onboard    subscribes tenants to a solution: a Subscription named SOLUTION in each tenant's namespace, for the
             tenants named by --tenants or every tenant whose spec.stack is --stack; one already there is left as it is
  token-roles  the roles a token of the frontend app APP (an AppManifest) carries for USER: the user's roles
             that the app's rolesRequired lists (only roles of its organization's listings), and the token's
             audience ORG/APPID
  completion a completion script for bash or zsh (kubectl itself completes \`kubectl miniapps\` through the
             kubectl_complete-miniapps script beside the plugin, from kubectl 1.26)

Flags:
  -n, --namespace NS      the namespace (default: the kubeconfig context's)
  -A, --all-namespaces    every namespace you may list
  -o, --output FORMAT     wide, yaml or json
      --kubeconfig PATH   the kubeconfig (default: KUBECONFIG, then ~/.kube/config)
      --as USER, --as-group GROUP   impersonate, as kubectl does

Exit codes: 0 done, 1 error, 2 usage, 3 not found, 4 refused (RBAC or admission), 5 not confirmed, 6 invalid or conflicting.`;

class UsageError extends Error {}

type Output = 'table' | 'wide' | 'yaml' | 'json';

interface Options {
  namespace?: string;
  allNamespaces: boolean;
  output: Output;
  category?: string;
  version?: string;
  appName?: string;
  organization?: string;
  dataPrivacy?: string;
  app?: string;
  tenants?: string;
  stack?: string;
}

/** The flags every command may take (the entry point reads --kubeconfig, --as and --as-group before). */
export const FLAG_OPTIONS = {
  namespace: { type: 'string', short: 'n' },
  'all-namespaces': { type: 'boolean', short: 'A' },
  output: { type: 'string', short: 'o' },
  category: { type: 'string' },
  version: { type: 'string' },
  'app-name': { type: 'string' },
  organization: { type: 'string' },
  'data-privacy': { type: 'string' },
  app: { type: 'string' },
  tenants: { type: 'string' },
  stack: { type: 'string' },
  kubeconfig: { type: 'string' },
  as: { type: 'string' },
  'as-group': { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const;

export function parse(argv: string[]): { command?: string; args: string[]; opts: Options; help: boolean } {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: FLAG_OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values;
  const output = (v.output ?? 'table') as Output;
  if (!['table', 'wide', 'yaml', 'json'].includes(output)) throw new UsageError(`--output must be wide, yaml or json, not ${v.output}`);
  const [command, ...args] = parsed.positionals;
  return {
    command,
    args,
    help: !!v.help,
    opts: {
      namespace: v.namespace,
      allNamespaces: !!v['all-namespaces'],
      output,
      category: v.category,
      version: v.version,
      appName: v['app-name'],
      organization: v.organization,
      dataPrivacy: v['data-privacy'],
      app: v.app,
      tenants: v.tenants,
      stack: v.stack,
    },
  };
}

/** Runs one command; returns the exit code. */
export async function run(argv: string[], setup: PluginSetup): Promise<number> {
  const { io } = setup;
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    io.err(`error: ${(err as Error).message}\n\n${USAGE}\n`);
    return EXIT.usage;
  }
  const { command, args, opts, help } = parsed;
  const helpOfCommand = help && command ? commandHelp(command) : undefined;
  if (helpOfCommand) {
    io.out(helpOfCommand);
    return EXIT.ok;
  }
  if (help || !command) {
    (help ? io.out : io.err)(`${USAGE}\n`);
    return help ? EXIT.ok : EXIT.usage;
  }
  if (command === 'completion') {
    const script = args.length === 1 ? completionScript(args[0]!) : undefined;
    if (!script) {
      io.err('error: completion takes one shell: bash or zsh\nRun "kubectl miniapps completion --help" for usage.\n');
      return EXIT.usage;
    }
    io.out(script);
    return EXIT.ok;
  }
  const commands: Record<string, (args: string[], opts: Options, ctx: PluginContext) => Promise<number>> = { list, search, duplicate, catalog, delete: remove, onboard, 'token-roles': tokenRolesCommand };
  const fn = commands[command];
  if (!fn) {
    io.err(`error: unknown command "${command}" for "kubectl miniapps"\n\n${USAGE}\n`);
    return EXIT.usage;
  }
  const ctx = { io } as PluginContext;
  try {
    Object.assign(ctx, setup.connect());
    return await fn(args, opts, ctx);
  } catch (err) {
    if (err instanceof UsageError) {
      ctx.io.err(`error: ${err.message}\nRun "kubectl miniapps --help" for usage.\n`);
      return EXIT.usage;
    }
    if (err instanceof ApiError) {
      ctx.io.err(`Error from server (${err.reason}): ${err.message}\n`);
      if (err.status === 404) return EXIT.notFound;
      if (err.status === 401 || err.status === 403) return EXIT.forbidden;
      if (err.status === 409 || err.status === 422) return EXIT.invalid;
      return EXIT.error;
    }
    ctx.io.err(`error: ${(err as Error).message ?? String(err)}\n`);
    return EXIT.error;
  }
}

const namespaceOf = (opts: Options, ctx: PluginContext) => opts.namespace ?? ctx.defaultNamespace;

/** kubectl's table: upper-case headers, columns three spaces apart, `<none>` for nothing. */
export function table(header: string[], rows: string[][]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (c === '' ? '<none>' : c)))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('').trimEnd()).join('\n') + '\n';
}

/** -o json / -o yaml of one object or a list (kubectl prints a v1 List). */
function printObjects(ctx: PluginContext, output: 'yaml' | 'json', objects: unknown[], single: boolean): void {
  const value = single ? objects[0] : { apiVersion: 'v1', kind: 'List', items: objects, metadata: { resourceVersion: '' } };
  ctx.io.out(output === 'json' ? `${JSON.stringify(value, null, 4)}\n` : stringify(value));
}

function noneFound(ctx: PluginContext, opts: Options): void {
  ctx.io.err(opts.allNamespaces ? 'No resources found\n' : `No resources found in ${namespaceOf(opts, ctx)} namespace.\n`);
}

async function miniApps(opts: Options, ctx: PluginContext): Promise<MiniApp[]> {
  const items = await ctx.api.list<MiniApp>(Kinds.MiniApp, opts.allNamespaces ? undefined : namespaceOf(opts, ctx));
  const filtered = opts.category ? items.filter((m) => (m.spec.categories ?? []).some((c) => c.toLowerCase() === opts.category!.toLowerCase())) : items;
  return filtered.sort((a, b) => (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') || a.metadata.name.localeCompare(b.metadata.name));
}

/** Where a mini app stands in each super app: `org/name=State(version)`. */
function states(m: MiniApp): string {
  return (m.status?.superApps ?? [])
    .map((t) => `${t.organization}/${t.name}=${t.state}${t.version ? `(${t.version}${t.pendingVersion ? `, ${t.pendingVersion} pending` : ''})` : ''}`)
    .join(',');
}

function printMiniApps(items: MiniApp[], opts: Options, ctx: PluginContext): number {
  if (opts.output === 'yaml' || opts.output === 'json') {
    printObjects(ctx, opts.output, items, false);
    return EXIT.ok;
  }
  if (items.length === 0) {
    noneFound(ctx, opts);
    return EXIT.ok;
  }
  const wide = opts.output === 'wide';
  const header = [...(opts.allNamespaces ? ['NAMESPACE'] : []), 'NAME', 'ORGANIZATION', 'TYPE', 'CATEGORIES', 'PUBLISHED', 'SUPER APPS', ...(wide ? ['APP NAME', 'PROTECTION', 'LOCATIONS'] : [])];
  const rows = items.map((m) => [
    ...(opts.allNamespaces ? [m.metadata.namespace ?? ''] : []),
    m.metadata.name,
    m.status?.organization ?? '',
    m.spec.type,
    (m.spec.categories ?? []).join(','),
    m.spec.publishedVersion ?? '',
    states(m),
    ...(wide ? [m.spec.appName, m.spec.dataPrivacy?.protection ?? 'None', (m.spec.locations ?? []).join(',')] : []),
  ]);
  ctx.io.out(table(header, rows));
  return EXIT.ok;
}

async function list(args: string[], opts: Options, ctx: PluginContext): Promise<number> {
  if (args.length) throw new UsageError(`list takes no arguments, got ${args.join(' ')}`);
  return printMiniApps(await miniApps(opts, ctx), opts, ctx);
}

async function search(args: string[], opts: Options, ctx: PluginContext): Promise<number> {
  if (args.length !== 1) throw new UsageError('search takes one TEXT');
  const text = args[0]!.toLowerCase();
  const hit = (m: MiniApp) =>
    [m.metadata.name, m.spec.appName, m.spec.domain ?? '', m.spec.type, ...(m.spec.categories ?? []), ...(m.spec.locations ?? [])].some((f) => f.toLowerCase().includes(text));
  return printMiniApps((await miniApps(opts, ctx)).filter(hit), opts, ctx);
}

/** Letters, digits and underscores, as appName must be. */
const appNameFrom = (name: string) => name.replace(/[^A-Za-z0-9_]+/g, '_');

async function duplicate(args: string[], opts: Options, ctx: PluginContext): Promise<number> {
  if (args.length !== 2) throw new UsageError('duplicate takes SOURCE and NEWNAME');
  const [sourceName, newName] = args as [string, string];
  if (opts.dataPrivacy && !(DATA_PROTECTION_MODES as readonly string[]).includes(opts.dataPrivacy)) throw new UsageError(`--data-privacy must be one of ${DATA_PROTECTION_MODES.join(', ')}`);
  const ns = namespaceOf(opts, ctx);
  const source = await ctx.api.get<MiniApp>(Kinds.MiniApp, sourceName, ns);
  if (!source) throw new ApiError(404, 'NotFound', `miniapps.miniapps.dev "${sourceName}" not found in namespace ${ns}`);
  // Targets that leave out their organization mean the source's own: say so, so that the copy means the same super apps wherever it goes.
  const sourceOrg = source.status?.organization;
  let namespace = ns;
  if (opts.organization && opts.organization !== sourceOrg) {
    const org = await ctx.api.get<Organization>(Kinds.Organization, opts.organization);
    if (!org?.status?.namespace) throw new ApiError(404, 'NotFound', `Organization ${opts.organization} does not exist or has no namespace yet`);
    namespace = org.status.namespace;
  }
  const spec = structuredClone(source.spec);
  spec.appName = opts.appName ?? appNameFrom(newName);
  if (spec.superApps && sourceOrg) spec.superApps = spec.superApps.map((t) => ({ organization: t.organization ?? sourceOrg, name: t.name }));
  if (opts.dataPrivacy) spec.dataPrivacy = { ...spec.dataPrivacy, protection: opts.dataPrivacy as NonNullable<MiniApp['spec']['dataPrivacy']>['protection'] };
  // Only what the copy is: never status, uid, resourceVersion, finalizers, owners, annotations (a confirm-delete!) or a data key.
  const copy = {
    apiVersion: 'miniapps.dev/v1alpha1',
    kind: 'MiniApp',
    metadata: { name: newName, namespace, ...(source.metadata.labels ? { labels: { ...source.metadata.labels } } : {}) },
    spec,
  };
  if (opts.output === 'yaml' || opts.output === 'json') {
    printObjects(ctx, opts.output, [copy], true);
    return EXIT.ok;
  }
  await ctx.api.create(Kinds.MiniApp, copy);
  ctx.io.out(`miniapp.miniapps.dev/${newName} created\n`);
  return EXIT.ok;
}

interface CatalogDoc {
  superApp: { organization: string; name: string; displayName: string };
  miniApps: { organization: string; name: string; appName: string; type: string; version: string; categories: string[]; dataPrivacy: { protection: string }; featured: boolean }[];
}

async function catalog(args: string[], opts: Options, ctx: PluginContext): Promise<number> {
  if (args.length !== 1) throw new UsageError('catalog takes one SUPERAPP');
  const ns = namespaceOf(opts, ctx);
  const sa = await ctx.api.get<SuperApp>(Kinds.SuperApp, args[0]!, ns);
  if (!sa) throw new ApiError(404, 'NotFound', `superapps.miniapps.dev "${args[0]}" not found in namespace ${ns}`);
  let configMap: string | undefined;
  if (opts.version) {
    const v = sa.status?.versions?.find((x) => x.name === opts.version);
    if (!v) throw new ApiError(404, 'NotFound', `SuperApp ${args[0]} has no snapshot of version ${opts.version} (frozen: ${(sa.status?.versions ?? []).map((x) => x.name).join(', ') || 'none'})`);
    configMap = v.configMapName;
  } else {
    configMap = sa.status?.catalog?.configMapName;
    if (!configMap) throw new ApiError(404, 'NotFound', `SuperApp ${args[0]} has no published catalog yet (kubectl get superapp ${args[0]} -n ${ns} -o yaml shows why)`);
  }
  const cm = await ctx.api.get<AnyObject & { data?: Record<string, string> }>(Resources.ConfigMap, configMap, ns);
  const json = cm?.data?.['catalog.json'];
  if (!json) throw new ApiError(404, 'NotFound', `ConfigMap ${ns}/${configMap} holds no catalog`);
  if (opts.output === 'json') {
    ctx.io.out(json);
    return EXIT.ok;
  }
  const doc = JSON.parse(json) as CatalogDoc;
  if (opts.output === 'yaml') {
    ctx.io.out(stringify(doc));
    return EXIT.ok;
  }
  if (doc.miniApps.length === 0) {
    ctx.io.err(`The catalog of ${doc.superApp.organization}/${doc.superApp.name}${opts.version ? ` at version ${opts.version}` : ''} lists no mini app.\n`);
    return EXIT.ok;
  }
  ctx.io.out(
    table(
      ['#', 'ORGANIZATION', 'NAME', 'APP NAME', 'TYPE', 'VERSION', 'CATEGORIES', 'PROTECTION', 'FEATURED'],
      doc.miniApps.map((m, i) => [String(i + 1), m.organization, m.name, m.appName, m.type, m.version, m.categories.join(','), m.dataPrivacy.protection, m.featured ? 'yes' : 'no']),
    ),
  );
  return EXIT.ok;
}

async function remove(args: string[], opts: Options, ctx: PluginContext): Promise<number> {
  if (args.length !== 1) throw new UsageError('delete takes one MINIAPP');
  const name = args[0]!;
  const ns = namespaceOf(opts, ctx);
  const mini = await ctx.api.get<MiniApp>(Kinds.MiniApp, name, ns);
  if (!mini) throw new ApiError(404, 'NotFound', `miniapps.miniapps.dev "${name}" not found in namespace ${ns}`);
  const answer = await ctx.io.readLine(
    `Deleting MiniApp ${ns}/${name} takes it out of every catalog and destroys its data key: what it encrypted can never be revealed again.\nType ${CONFIRM_DELETE_VALUE} to delete it: `,
  );
  if (answer?.trim() !== CONFIRM_DELETE_VALUE) {
    ctx.io.err(`Not deleted: you did not type ${CONFIRM_DELETE_VALUE}.\n`);
    return EXIT.notConfirmed;
  }
  await ctx.api.patch(Kinds.MiniApp, name, ns, { metadata: { annotations: { [CONFIRM_DELETE_ANNOTATION]: CONFIRM_DELETE_VALUE } } });
  await ctx.api.delete(Kinds.MiniApp, name, ns);
  ctx.io.out(`miniapp.miniapps.dev "${name}" deleted\n`);
  return EXIT.ok;
}

/** `ORG/NAME`, or NAME with --organization. */
function orgRef(value: string, opts: Options, what: string): { organization: string; name: string } {
  const [a, b, ...rest] = value.split('/');
  if (rest.length === 0 && b) return { organization: a!, name: b };
  if (rest.length === 0 && a && opts.organization) return { organization: opts.organization, name: a };
  throw new UsageError(`${what} must be written ORGANIZATION/NAME (or NAME with --organization), not "${value}"`);
}

async function onboard(args: string[], opts: Options, ctx: PluginContext): Promise<number> {
  if (args.length !== 1) throw new UsageError('onboard takes one ORG/SOLUTION');
  if (!opts.tenants === !opts.stack) throw new UsageError('onboard needs exactly one of --tenants T1,T2 and --stack NAME');
  const solution = orgRef(args[0]!, opts, 'SOLUTION');
  const all = await ctx.api.list<Tenant>(Kinds.Tenant);
  const wanted = opts.tenants ? opts.tenants.split(',').map((t) => t.trim()).filter(Boolean) : undefined;
  const chosen = wanted ? all.filter((t) => wanted.includes(t.metadata.name)) : all.filter((t) => t.spec.stack === opts.stack);
  let code: number = EXIT.ok;
  for (const name of wanted ?? []) {
    if (!chosen.some((t) => t.metadata.name === name)) {
      ctx.io.err(`tenant.miniapps.dev "${name}" not found\n`);
      code = EXIT.notFound;
    }
  }
  if (chosen.length === 0 && !wanted) {
    ctx.io.err(`No tenant has spec.stack ${opts.stack}.\n`);
    return EXIT.notFound;
  }
  for (const t of chosen.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))) {
    const ns = t.status?.namespace;
    if (!ns) {
      ctx.io.err(`Tenant ${t.metadata.name} has no namespace yet (kubectl get tenant ${t.metadata.name} -o yaml shows why); not subscribed\n`);
      code = EXIT.notFound;
      continue;
    }
    const existing = await ctx.api.get<Subscription>(Kinds.Subscription, solution.name, ns);
    if (existing) {
      const same = existing.spec.solution.organization === solution.organization && existing.spec.solution.name === solution.name;
      ctx.io.out(same ? `subscription.miniapps.dev/${solution.name} unchanged in ${ns} (tenant ${t.metadata.name})\n` : '');
      if (!same) {
        ctx.io.err(`Subscription ${ns}/${solution.name} exists for another solution (${existing.spec.solution.organization}/${existing.spec.solution.name}); left alone\n`);
        code = EXIT.invalid;
      }
      continue;
    }
    await ctx.api.create(Kinds.Subscription, {
      apiVersion: 'miniapps.dev/v1alpha1',
      kind: 'Subscription',
      metadata: { name: solution.name, namespace: ns },
      spec: { solution, ...(opts.version ? { version: opts.version } : {}) },
    });
    ctx.io.out(`subscription.miniapps.dev/${solution.name} created in ${ns} (tenant ${t.metadata.name})\n`);
  }
  return code;
}

async function tokenRolesCommand(args: string[], opts: Options, ctx: PluginContext): Promise<number> {
  if (args.length !== 1) throw new UsageError('token-roles takes one USER');
  if (!opts.app) throw new UsageError('token-roles needs --app ORG/APP (the AppManifest of the frontend app)');
  const ref = orgRef(opts.app, opts, '--app');
  const ns = namespaceOf(opts, ctx);
  const user = await ctx.api.get<User>(Kinds.User, args[0]!, ns);
  if (!user) throw new ApiError(404, 'NotFound', `users.miniapps.dev "${args[0]}" not found in namespace ${ns}`);
  const org = await ctx.api.get<Organization>(Kinds.Organization, ref.organization);
  if (!org?.status?.namespace) throw new ApiError(404, 'NotFound', `Organization ${ref.organization} does not exist or has no namespace yet`);
  const app = await ctx.api.get<AppManifest>(Kinds.AppManifest, ref.name, org.status.namespace);
  if (!app) throw new ApiError(404, 'NotFound', `appmanifests.miniapps.dev "${ref.name}" not found in namespace ${org.status.namespace}`);
  // The app's last good manifest (status), as the operator's token-roles API answers: nothing while its organization
  // does not hold its ids, and only roles of its organization's listings.
  const required = tokenRolesRequiredOf(app);
  const roles = tokenRoles(user.status?.effectiveRoles ?? [], required);
  const doc = { user: `${ns}/${user.metadata.name}`, app: { ...ref, appId: app.spec.appId, listingId: app.spec.listingId }, audience: tokenAudience(ref.organization, app.spec.appId), roles };
  if (opts.output === 'json' || opts.output === 'yaml') {
    ctx.io.out(opts.output === 'json' ? `${JSON.stringify(doc, null, 4)}\n` : stringify(doc));
    return EXIT.ok;
  }
  if (roles.length === 0) {
    ctx.io.err(`A token of ${app.spec.appId} carries no role for ${ns}/${user.metadata.name} (their roles: ${(user.status?.effectiveRoles ?? []).length}, the app requires ${required.length}${!appManifestOf(app) ? ': it has no valid manifest yet' : app.status?.conditions?.find((c) => c.type === AppManifestConditions.IdsOwned)?.status !== 'True' ? ': its organization does not hold its appId and listingId (see its IdsOwned condition)' : ''}).\n`);
    return EXIT.ok;
  }
  ctx.io.out(table(['ROLE'], roles.map((r) => [r])));
  return EXIT.ok;
}
