// Per-command help (`kubectl miniapps <command> --help`) and what shell completion offers:
// each command's usage, summary, flags and the values a flag takes, in one table.
import { CONFIRM_DELETE_ANNOTATION } from '../api/constants.ts';
import { DATA_PROTECTION_MODES } from '../api/miniapp/names.ts';

/** A flag as help shows it: `-n, --namespace NS`, what it does, and the values completion offers. */
interface FlagHelp {
  short?: string;
  arg?: string;
  text: string;
  values?: readonly string[];
}

export const FLAG_HELP: Record<string, FlagHelp> = {
  namespace: { short: 'n', arg: 'NS', text: "the namespace (default: the kubeconfig context's)" },
  'all-namespaces': { short: 'A', text: 'every namespace you may list' },
  output: { short: 'o', arg: 'FORMAT', text: 'wide, yaml or json', values: ['wide', 'yaml', 'json'] },
  category: { arg: 'C', text: 'only mini apps with this category (case-insensitive)' },
  version: { arg: 'V', text: 'the version' },
  'app-name': { arg: 'NAME', text: "the copy's app name (default: NEWNAME with _ for what an app name may not hold)" },
  organization: { arg: 'ORG', text: 'the organization (duplicate: copy into its namespace; ORG/NAME arguments: the ORG of a bare NAME)' },
  'data-privacy': { arg: 'MODE', text: `the copy's data-privacy mode: ${DATA_PROTECTION_MODES.join(', ')}`, values: DATA_PROTECTION_MODES },
  app: { arg: 'ORG/APP', text: 'the AppManifest of the frontend app' },
  tenants: { arg: 'T1,T2', text: 'the tenants, by name' },
  stack: { arg: 'NAME', text: 'every tenant whose spec.stack is NAME' },
  kubeconfig: { arg: 'PATH', text: 'the kubeconfig (default: KUBECONFIG, then ~/.kube/config)' },
  as: { arg: 'USER', text: 'impersonate USER, as kubectl does' },
  'as-group': { arg: 'GROUP', text: 'impersonate GROUP (repeatable), as kubectl does' },
  help: { short: 'h', text: 'this help' },
};

export const GLOBAL_FLAGS = ['kubeconfig', 'as', 'as-group', 'help'] as const;

export interface CommandHelp {
  usage: string;
  summary: string;
  flags: readonly string[];
  /** -o values the command takes (a subset of FLAG_HELP.output's). */
  outputs?: readonly string[];
  /** What its positional arguments complete to, when they are a fixed set. */
  args?: readonly string[];
}

export const COMMAND_HELP: Record<string, CommandHelp> = {
  list: {
    usage: 'list [--category C] [-n NS | -A] [-o wide|yaml|json]',
    summary: 'mini apps with their organization, type, categories and where each stands in its super apps',
    flags: ['category', 'namespace', 'all-namespaces', 'output'],
    outputs: ['wide', 'yaml', 'json'],
  },
  search: {
    usage: 'search TEXT [--category C] [-n NS | -A] [-o wide|yaml|json]',
    summary: 'mini apps whose name, app name, domain, type, categories or locations contain TEXT (case-insensitive)',
    flags: ['category', 'namespace', 'all-namespaces', 'output'],
    outputs: ['wide', 'yaml', 'json'],
  },
  duplicate: {
    usage: 'duplicate SOURCE NEWNAME [--app-name NAME] [--organization ORG] [--data-privacy MODE] [-n NS] [-o yaml|json]',
    summary: "a new mini app with SOURCE's spec, a new name and app name, optionally in another organization and with another data-privacy mode; never its status, uid or data key; with -o it prints the copy instead of creating it",
    flags: ['app-name', 'organization', 'data-privacy', 'namespace', 'output'],
    outputs: ['yaml', 'json'],
  },
  catalog: {
    usage: 'catalog SUPERAPP [--version V] [-n NS] [-o yaml|json]',
    summary: 'the live catalog of a super app, or with --version the snapshot frozen for that version',
    flags: ['version', 'namespace', 'output'],
    outputs: ['yaml', 'json'],
  },
  delete: {
    usage: 'delete MINIAPP [-n NS]',
    summary: `asks you to type CONFIRM DELETE, then sets ${CONFIRM_DELETE_ANNOTATION} and deletes the mini app (its data key is destroyed)`,
    flags: ['namespace'],
  },
  onboard: {
    usage: 'onboard ORG/SOLUTION (--tenants T1,T2 | --stack NAME) [--version V]',
    summary: "subscribes tenants to a solution: a Subscription named SOLUTION in each tenant's namespace; one already there is left as it is",
    flags: ['tenants', 'stack', 'version', 'organization'],
  },
  'token-roles': {
    usage: 'token-roles USER --app ORG/APP [-n TENANT_NAMESPACE] [-o yaml|json]',
    summary: "the roles a token of the frontend app APP carries for USER, and the token's audience ORG/APPID",
    flags: ['app', 'organization', 'namespace', 'output'],
    outputs: ['yaml', 'json'],
  },
  completion: {
    usage: 'completion bash|zsh',
    summary: 'a shell completion script for kubectl-miniapps run on its own; `kubectl miniapps` completes through the kubectl_complete-miniapps script beside the plugin (kubectl 1.26 and later)',
    flags: [],
    args: ['bash', 'zsh'],
  },
};

function flagLine(name: string): string {
  const f = FLAG_HELP[name]!;
  const left = `${f.short ? `-${f.short}, ` : '    '}--${name}${f.arg ? ` ${f.arg}` : ''}`;
  return `  ${left.padEnd(26)}${f.text}`;
}

/** `kubectl miniapps <command> --help`. */
export function commandHelp(command: string): string | undefined {
  const c = COMMAND_HELP[command];
  if (!c) return undefined;
  return [
    `kubectl miniapps ${command}: ${c.summary}`,
    '',
    'Usage:',
    `  kubectl miniapps ${c.usage}`,
    '',
    ...(c.flags.length ? ['Flags:', ...c.flags.map(flagLine), ''] : []),
    'Global flags:',
    ...GLOBAL_FLAGS.map(flagLine),
    '',
  ].join('\n');
}
