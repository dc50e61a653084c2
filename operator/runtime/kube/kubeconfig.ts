// Where the API server is and how to authenticate to it, found the way kubectl finds it:
// an explicit kubeconfig, then KUBECONFIG, then the in-cluster service account, then
// ~/.kube/config. Written for the operator so that it needs neither
// @kubernetes/client-node nor its dependency tree at run time (memory: see KubeClient).
import { keyMatches } from '../pki.ts';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import type { parse as ParseYaml } from 'yaml';

// yaml (about 5 MB of RSS) is loaded with the first kubeconfig file: in a pod, which
// reads only its service account, the operator never holds it.
let loadedYaml: typeof ParseYaml | undefined;
const parseYaml = (): typeof ParseYaml => (loadedYaml ??= (createRequire(import.meta.url)('yaml') as { parse: typeof ParseYaml }).parse);

/** Whom requests act as (kubectl --as, --as-uid, --as-group; a kubeconfig user's as, as-uid, as-groups, as-user-extra). */
export interface Impersonation {
  user: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

/** The address of one API server and the credentials for it, for node:https. */
export interface ClusterAccess {
  /** The API server's URL, without a trailing slash. */
  readonly server: string;
  /**
   * TLS options for node:https. They may change from one read to the next: cert and key
   * after headers() (exec plugins), and files named by a kubeconfig or the service account
   * when they are rewritten (rotation); the client makes new connections then.
   */
  readonly ca?: string | Buffer;
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  readonly rejectUnauthorized: boolean;
  readonly servername?: string;
  /** Where this came from, for messages: "kubeconfig /path (context x)" or "in-cluster". */
  readonly source: string;
  /** The kubeconfig user's impersonation, sent with every request that names none of its own. */
  readonly impersonate?: Impersonation;
  /** The namespace the kubeconfig context names (kubectl's default namespace), if any. */
  readonly namespace?: string;
  /** The cluster's proxy-url (an http:// or https:// proxy): requests go through it, whatever HTTPS_PROXY says (as client-go). */
  readonly proxyUrl?: string;
  /** Authentication headers (Authorization), from cache while the credentials are fresh. */
  headers(): Promise<Record<string, string>>;
  /** Forgets cached credentials (after a 401): the next headers() reads or runs them again. */
  refresh(): void;
}

/** Thrown when there is no kubeconfig, no KUBECONFIG file, no in-cluster service account and no ~/.kube/config. */
export class NoClusterConfigError extends Error {
  constructor(message = 'No Kubernetes cluster configured: pass --kubeconfig or set KUBECONFIG') {
    super(message);
    this.name = 'NoClusterConfigError';
  }
}

export interface LoadClusterAccessOptions {
  /** An explicit kubeconfig file (--kubeconfig): used alone when given. */
  path?: string;
  /** The kubeconfig context to use instead of its current-context (kubectl --context). */
  context?: string;
  /** A KUBECONFIG list already split (Config.kubeconfigPaths); default: env.KUBECONFIG split at path.delimiter. */
  paths?: string[];
  /** The environment to read KUBECONFIG, KUBERNETES_SERVICE_HOST/PORT and HOME from. */
  env?: NodeJS.ProcessEnv;
  /**
   * For tests: the service account directory (default $MINIAPPS_TEST_SERVICE_ACCOUNT_DIR,
   * else /var/run/secrets/kubernetes.io/serviceaccount). The variable lets a test run the
   * operator out of cluster through the in-cluster path, with a token it requested.
   */
  serviceAccountDir?: string;
  /** For tests: the home directory (default os.homedir(), or HOME from env). */
  home?: string;
  /** How long a token read from a file is reused (bound tokens rotate). Default 60 s. */
  tokenFileRefreshMs?: number;
  /**
   * How often certificate files (client-certificate, client-key, certificate-authority,
   * the service account's ca.crt) are looked at for a change. Default 60 s (client-go
   * reloads rotating client certificates every 5 minutes).
   */
  certFileRefreshMs?: number;
  /** For tests: the clock deciding whether cached credentials are still valid. */
  now?: () => number;
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export function loadClusterAccess(opts: LoadClusterAccessOptions = {}): ClusterAccess {
  const env = opts.env ?? process.env;
  if (opts.path) return fromKubeconfigFiles([resolve(opts.path)], opts, true);
  const list = (opts.paths ?? (env.KUBECONFIG ?? '').split(delimiter)).filter(Boolean);
  if (list.length)
    return fromKubeconfigFiles(
      list.map((p) => resolve(p)),
      opts,
      false,
    );
  if (env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT) return inCluster(env, opts);
  const home = opts.home ?? env.HOME ?? homedir();
  const fallback = join(home, '.kube', 'config');
  if (existsSync(fallback)) return fromKubeconfigFiles([fallback], opts, true);
  throw new NoClusterConfigError();
}

// ---------------------------------------------------------------------------------------
// kubeconfig files

type Named<T> = { name?: string } & Record<string, T | undefined>;

interface KubeconfigFile {
  path: string;
  dir: string;
  currentContext?: string;
  contexts: Map<string, Record<string, unknown>>;
  clusters: Map<string, Record<string, unknown>>;
  users: Map<string, Record<string, unknown>>;
}

function readKubeconfig(path: string): KubeconfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`Cannot read kubeconfig ${path}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml()(text);
  } catch (err) {
    throw new Error(`kubeconfig ${path} is not valid YAML: ${(err as Error).message}`);
  }
  const root = (doc && typeof doc === 'object' ? doc : {}) as Record<string, unknown>;
  const section = (list: string, field: string): Map<string, Record<string, unknown>> => {
    const out = new Map<string, Record<string, unknown>>();
    const items = root[list];
    if (items === undefined || items === null) return out;
    if (!Array.isArray(items)) throw new Error(`kubeconfig ${path}: "${list}" is not a list`);
    for (const item of items as Named<unknown>[]) {
      if (!item || typeof item.name !== 'string') throw new Error(`kubeconfig ${path}: an entry of "${list}" has no name`);
      const body = item[field];
      if (!out.has(item.name)) out.set(item.name, (body && typeof body === 'object' ? body : {}) as Record<string, unknown>);
    }
    return out;
  };
  const current = root['current-context'];
  return {
    path,
    dir: dirname(path),
    currentContext: typeof current === 'string' && current ? current : undefined,
    contexts: section('contexts', 'context'),
    clusters: section('clusters', 'cluster'),
    users: section('users', 'user'),
  };
}

/**
 * One or more kubeconfig files merged simply: the current-context comes from the first
 * file that sets one, each context, cluster and user from the first file that defines it
 * (kubectl's rule for KUBECONFIG lists). Files in a KUBECONFIG list may be missing.
 */
function fromKubeconfigFiles(paths: string[], opts: LoadClusterAccessOptions, mustExist: boolean): ClusterAccess {
  const files: KubeconfigFile[] = [];
  for (const p of paths) {
    if (!mustExist && !existsSync(p)) continue;
    files.push(readKubeconfig(p));
  }
  const described = paths.length === 1 ? `kubeconfig ${paths[0]}` : `KUBECONFIG (${paths.join(delimiter)})`;
  if (!files.length) throw new NoClusterConfigError(`No Kubernetes cluster configured: no file of KUBECONFIG=${paths.join(delimiter)} exists`);
  const contextName = opts.context ?? files.find((f) => f.currentContext)?.currentContext;
  if (!contextName) throw new Error(`${described} sets no current-context`);
  const find = (kind: 'contexts' | 'clusters' | 'users', name: string) => {
    for (const f of files) {
      const entry = f[kind].get(name);
      if (entry) return { entry, file: f };
    }
    return undefined;
  };
  const ctx = find('contexts', contextName);
  if (!ctx) throw new Error(opts.context ? `${described} has no context named ${contextName}` : `${described}: current-context ${contextName} is not among its contexts`);
  const clusterName = str(ctx.entry.cluster);
  if (!clusterName) throw new Error(`${described}: context ${contextName} names no cluster`);
  const cluster = find('clusters', clusterName);
  if (!cluster) throw new Error(`${described}: context ${contextName} names cluster ${clusterName} which the kubeconfig does not define`);
  const userName = str(ctx.entry.user);
  const user = userName ? find('users', userName) : undefined;
  if (userName && !user) throw new Error(`${described}: context ${contextName} names user ${userName} which the kubeconfig does not define`);
  const source = `${described} (context ${contextName})`;
  return new KubeconfigAccess({
    source,
    clusterName,
    cluster: cluster.entry,
    clusterDir: cluster.file.dir,
    userName: userName ?? '',
    user: user?.entry ?? {},
    userDir: user?.file.dir ?? cluster.file.dir,
    namespace: str(ctx.entry.namespace),
    opts,
  });
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** A cluster's proxy-url: an http(s) URL, or a clear refusal (a SOCKS proxy, which client-go takes, is not supported here). Never echoes a password. */
function proxyUrlOf(v: unknown, where: string): string | undefined {
  const value = str(v);
  if (!value) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${where} has a proxy-url that is not a URL`);
  }
  if (url.protocol === 'http:' || url.protocol === 'https:') return value;
  url.password = '';
  throw new Error(`${where} has proxy-url ${url.protocol}//${url.host}: only http:// and https:// proxies are supported (not SOCKS)`);
}

function readPath(dir: string, p: string, what: string, source: string, before?: (abs: string) => void): Buffer {
  const abs = isAbsolute(p) ? p : resolve(dir, p);
  // Stamped before it is read: a change in between is seen at the next look.
  before?.(abs);
  try {
    return readFileSync(abs);
  } catch (err) {
    throw new Error(`${source}: cannot read ${what} ${abs}: ${(err as Error).message}`);
  }
}

function readIfPresent(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

/** What a file looks like from outside (mtime, size, inode): a rewrite or a rename over it changes it. */
function fileStamp(path: string): string {
  try {
    const st = statSync(path);
    return `${st.mtimeMs}:${st.size}:${st.ino}`;
  } catch {
    return 'missing';
  }
}

/** The stamps of files as last read, and when they may next be looked at. */
class FileStamps {
  private readonly stamps = new Map<string, string>();
  private readonly refreshMs: number;
  private readonly now: () => number;
  private checkedAt: number;

  constructor(opts: LoadClusterAccessOptions) {
    this.refreshMs = opts.certFileRefreshMs ?? 60_000;
    this.now = opts.now ?? Date.now;
    this.checkedAt = this.now();
  }

  /** Records the file's stamp now; returns its path. */
  note(path: string): string {
    this.stamps.set(path, fileStamp(path));
    return path;
  }

  stamp(path: string): string {
    return fileStamp(path);
  }

  set(path: string, stamp: string): void {
    this.stamps.set(path, stamp);
  }

  changed(path: string): boolean {
    return fileStamp(path) !== this.stamps.get(path);
  }

  /** True at most once every refreshMs. */
  due(): boolean {
    const t = this.now();
    if (t - this.checkedAt < this.refreshMs) return false;
    this.checkedAt = t;
    return true;
  }
}

function decodeData(v: string, what: string, source: string): Buffer {
  const buf = Buffer.from(v, 'base64');
  if (!buf.length) throw new Error(`${source}: ${what} is not base64 data`);
  return buf;
}

interface ExecConfig {
  apiVersion: string;
  command: string;
  args: string[];
  env: { name: string; value: string }[];
  provideClusterInfo: boolean;
  interactiveMode?: string;
  installHint?: string;
}

interface Credential {
  token?: string;
  cert?: string;
  key?: string;
  /** ms since epoch; undefined: valid until a 401. */
  expiresAt?: number;
}

const EXEC_API_VERSIONS = ['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1'];

class KubeconfigAccess implements ClusterAccess {
  readonly server: string;
  private caValue?: Buffer;
  readonly rejectUnauthorized: boolean;
  readonly servername?: string;
  readonly source: string;
  readonly impersonate?: Impersonation;
  readonly namespace?: string;
  readonly proxyUrl?: string;
  private staticCert?: Buffer;
  private staticKey?: Buffer;
  private readonly token?: string;
  private readonly tokenFile?: FileToken;
  private readonly basic?: string;
  private readonly exec?: ExecPlugin;
  /** The certificate files to reload when they change (none for -data fields). */
  private readonly files: { ca?: string; cert?: string; key?: string } = {};
  private readonly stamps?: FileStamps;

  constructor(a: {
    source: string;
    clusterName: string;
    cluster: Record<string, unknown>;
    clusterDir: string;
    userName: string;
    user: Record<string, unknown>;
    userDir: string;
    namespace?: string;
    opts: LoadClusterAccessOptions;
  }) {
    const { cluster, user, source } = a;
    this.source = source;
    this.namespace = a.namespace;
    const server = str(cluster.server);
    if (!server) throw new Error(`${source}: cluster ${a.clusterName} has no server`);
    if (!/^https?:\/\//.test(server)) throw new Error(`${source}: cluster ${a.clusterName} has server ${server}, which is not an http(s) URL`);
    this.server = server.replace(/\/+$/, '');
    this.rejectUnauthorized = cluster['insecure-skip-tls-verify'] !== true;
    this.servername = str(cluster['tls-server-name']);
    this.proxyUrl = proxyUrlOf(cluster['proxy-url'], `${source}: cluster ${a.clusterName}`);
    const stamps = new FileStamps(a.opts);
    const caData = str(cluster['certificate-authority-data']);
    const caFile = str(cluster['certificate-authority']);
    if (caData) this.caValue = decodeData(caData, `certificate-authority-data of cluster ${a.clusterName}`, source);
    else if (caFile) this.caValue = readPath(a.clusterDir, caFile, `certificate-authority of cluster ${a.clusterName}`, source, (p) => (this.files.ca = stamps.note(p)));

    const who = `user ${a.userName}`;
    const certData = str(user['client-certificate-data']);
    const certFile = str(user['client-certificate']);
    const keyData = str(user['client-key-data']);
    const keyFile = str(user['client-key']);
    if (certData) this.staticCert = decodeData(certData, `client-certificate-data of ${who}`, source);
    else if (certFile) this.staticCert = readPath(a.userDir, certFile, `client-certificate of ${who}`, source, (p) => (this.files.cert = stamps.note(p)));
    if (keyData) this.staticKey = decodeData(keyData, `client-key-data of ${who}`, source);
    else if (keyFile) this.staticKey = readPath(a.userDir, keyFile, `client-key of ${who}`, source, (p) => (this.files.key = stamps.note(p)));
    if (this.files.ca || this.files.cert || this.files.key) this.stamps = stamps;
    if (!!this.staticCert !== !!this.staticKey) throw new Error(`${source}: ${who} has a client ${this.staticCert ? 'certificate but no key' : 'key but no certificate'}`);

    const tokenFile = str(user.tokenFile);
    this.token = str(user.token);
    if (tokenFile) {
      const abs = isAbsolute(tokenFile) ? tokenFile : resolve(a.userDir, tokenFile);
      this.tokenFile = new FileToken(abs, `${source}: tokenFile of ${who}`, a.opts);
      this.tokenFile.read(); // fail early on a missing file
    }
    const username = str(user.username);
    if (username) this.basic = `Basic ${Buffer.from(`${username}:${str(user.password) ?? ''}`).toString('base64')}`;
    this.impersonate = parseImpersonation(user, `${source}: ${who}`);
    const authProvider = user['auth-provider'] as { name?: string } | undefined;
    if (user.exec && typeof user.exec === 'object') {
      this.exec = new ExecPlugin(
        parseExec(user.exec as Record<string, unknown>, a.userDir, `${source}: exec of ${who}`),
        {
          server: this.server,
          'certificate-authority-data': this.caValue ? this.caValue.toString('base64') : undefined,
          'insecure-skip-tls-verify': !this.rejectUnauthorized || undefined,
          'tls-server-name': this.servername,
        },
        `${source}: exec plugin of ${who}`,
        a.opts,
      );
    } else if (authProvider && !this.token && !this.tokenFile) {
      throw new Error(`${source}: ${who} uses auth-provider ${authProvider.name ?? '(unnamed)'}, which is not supported; use an exec credential plugin`);
    }
  }

  get ca(): Buffer | undefined {
    this.reloadFiles();
    return this.caValue;
  }

  get cert(): string | Buffer | undefined {
    this.reloadFiles();
    return this.exec?.current?.cert ?? this.staticCert;
  }

  get key(): string | Buffer | undefined {
    this.reloadFiles();
    return this.exec?.current?.key ?? this.staticKey;
  }

  /**
   * Re-reads the certificate files that changed since they were read, at most every
   * certFileRefreshMs. A client certificate and key are taken together, and only as a
   * pair that parses and matches: one file rewritten before the other, or a file missing
   * for a moment, is a rotation in progress, and the previous pair stays until the next look.
   */
  private reloadFiles(): void {
    const stamps = this.stamps;
    if (!stamps?.due()) return;
    const { ca, cert, key } = this.files;
    if (ca && stamps.changed(ca)) {
      const stamp = stamps.stamp(ca);
      const value = readIfPresent(ca);
      if (value?.length) {
        this.caValue = value;
        stamps.set(ca, stamp);
      }
    }
    if ((cert && stamps.changed(cert)) || (key && stamps.changed(key))) {
      const certStamp = cert && stamps.stamp(cert);
      const keyStamp = key && stamps.stamp(key);
      const newCert = cert ? readIfPresent(cert) : this.staticCert;
      const newKey = key ? readIfPresent(key) : this.staticKey;
      if (newCert && newKey && keyMatches(newCert, newKey)) {
        this.staticCert = newCert;
        this.staticKey = newKey;
        if (cert) stamps.set(cert, certStamp!);
        if (key) stamps.set(key, keyStamp!);
      }
    }
  }

  async headers(): Promise<Record<string, string>> {
    if (this.tokenFile) return { Authorization: `Bearer ${this.tokenFile.read()}` };
    if (this.token) return { Authorization: `Bearer ${this.token}` };
    if (this.exec) {
      const cred = await this.exec.get();
      return cred.token ? { Authorization: `Bearer ${cred.token}` } : {};
    }
    if (this.basic) return { Authorization: this.basic };
    return {};
  }

  refresh(): void {
    this.tokenFile?.invalidate();
    this.exec?.invalidate();
  }
}

/** A kubeconfig user's as, as-uid, as-groups and as-user-extra (client-go clientcmd/api/v1 AuthInfo). */
function parseImpersonation(user: Record<string, unknown>, where: string): Impersonation | undefined {
  const name = user.as;
  const uid = user['as-uid'];
  const groups = user['as-groups'];
  const extra = user['as-user-extra'];
  if (name === undefined && uid === undefined && groups === undefined && extra === undefined) return undefined;
  if (name !== undefined && typeof name !== 'string') throw new Error(`${where}: "as" is not a string`);
  if (uid !== undefined && typeof uid !== 'string') throw new Error(`${where}: "as-uid" is not a string`);
  if (groups !== undefined && groups !== null && !(Array.isArray(groups) && groups.every((g) => typeof g === 'string'))) throw new Error(`${where}: "as-groups" is not a list of strings`);
  const extras: Record<string, string[]> = {};
  if (extra !== undefined && extra !== null) {
    if (typeof extra !== 'object' || Array.isArray(extra)) throw new Error(`${where}: "as-user-extra" is not a map of lists of strings`);
    for (const [k, v] of Object.entries(extra as Record<string, unknown>)) {
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new Error(`${where}: "as-user-extra" ${k} is not a list of strings`);
      extras[k] = v as string[];
    }
  }
  const groupList = (groups ?? []) as string[];
  if (!name) {
    if (!uid && !groupList.length && !Object.keys(extras).length) return undefined;
    // The API server refuses groups, extra or a uid without a user to impersonate.
    throw new Error(`${where} impersonates ${uid ? 'a uid' : groupList.length ? 'groups' : 'user extras'} without a user: set "as" too`);
  }
  return { user: name, ...(uid ? { uid } : {}), ...(groupList.length ? { groups: groupList } : {}), ...(Object.keys(extras).length ? { extra: extras } : {}) };
}

function parseExec(e: Record<string, unknown>, dir: string, where: string): ExecConfig {
  const apiVersion = str(e.apiVersion);
  if (!apiVersion) throw new Error(`${where} has no apiVersion`);
  if (!EXEC_API_VERSIONS.includes(apiVersion)) throw new Error(`${where} has apiVersion ${apiVersion}; supported: ${EXEC_API_VERSIONS.join(', ')}`);
  let command = str(e.command);
  if (!command) throw new Error(`${where} has no command`);
  // As kubectl: a relative command with a path separator is relative to the kubeconfig.
  if (!isAbsolute(command) && command.includes('/')) command = resolve(dir, command);
  const args = Array.isArray(e.args) ? e.args.map(String) : [];
  const env = Array.isArray(e.env) ? (e.env as { name?: unknown; value?: unknown }[]).map((v) => ({ name: String(v.name), value: String(v.value ?? '') })) : [];
  const interactiveMode = str(e.interactiveMode);
  if (interactiveMode === 'Always') throw new Error(`${where} needs an interactive terminal (interactiveMode: Always), which the operator does not have`);
  return { apiVersion, command, args, env, provideClusterInfo: e.provideClusterInfo === true, interactiveMode, installHint: str(e.installHint) };
}

/** Runs an exec credential plugin; caches its credential until its expirationTimestamp. */
class ExecPlugin {
  current?: Credential;
  private running?: Promise<Credential>;
  private readonly cfg: ExecConfig;
  private readonly cluster: Record<string, unknown>;
  private readonly where: string;
  private readonly now: () => number;

  constructor(cfg: ExecConfig, cluster: Record<string, unknown>, where: string, opts: LoadClusterAccessOptions) {
    this.cfg = cfg;
    this.cluster = cluster;
    this.where = where;
    this.now = opts.now ?? Date.now;
  }

  invalidate(): void {
    this.current = undefined;
  }

  get(): Promise<Credential> {
    const c = this.current;
    if (c && (c.expiresAt === undefined || this.now() < c.expiresAt)) return Promise.resolve(c);
    this.running ??= this.run().finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(): Promise<Credential> {
    const { cfg } = this;
    const spec: Record<string, unknown> = { interactive: false };
    if (cfg.provideClusterInfo) spec.cluster = Object.fromEntries(Object.entries(this.cluster).filter(([, v]) => v !== undefined));
    const info = { apiVersion: cfg.apiVersion, kind: 'ExecCredential', spec };
    const env: NodeJS.ProcessEnv = { ...process.env, KUBERNETES_EXEC_INFO: JSON.stringify(info) };
    for (const { name, value } of cfg.env) env[name] = value;
    const stdout = await new Promise<string>((resolveOut, reject) => {
      // Loaded here, by the few who use exec plugins: node:child_process brings net, dgram and more.
      const { execFile } = process.getBuiltinModule('node:child_process');
      execFile(cfg.command, cfg.args, { env, timeout: 60_000, maxBuffer: 4 << 20, encoding: 'utf8' }, (err, out, errOut) => {
        if (!err) return resolveOut(out);
        const e = err as NodeJS.ErrnoException & { killed?: boolean };
        const hint = e.code === 'ENOENT' && cfg.installHint ? `\n${cfg.installHint}` : '';
        const tail = errOut.trim() ? `: ${errOut.trim().slice(-500)}` : '';
        reject(new Error(`${this.where}: ${cfg.command} failed (${e.killed ? 'timed out' : (e.code ?? e.message)})${tail}${hint}`));
      });
    });
    let parsed: { apiVersion?: string; kind?: string; status?: Record<string, unknown> };
    try {
      parsed = JSON.parse(stdout) as typeof parsed;
    } catch {
      throw new Error(`${this.where}: ${cfg.command} printed no ExecCredential JSON: ${stdout.slice(0, 200)}`);
    }
    if (parsed.kind !== 'ExecCredential') throw new Error(`${this.where}: ${cfg.command} printed kind ${parsed.kind}, not ExecCredential`);
    if (parsed.apiVersion !== cfg.apiVersion) throw new Error(`${this.where}: ${cfg.command} answered apiVersion ${parsed.apiVersion}, asked for ${cfg.apiVersion}`);
    const s = parsed.status ?? {};
    const token = str(s.token);
    const cert = str(s.clientCertificateData);
    const key = str(s.clientKeyData);
    if (!token && !(cert && key)) throw new Error(`${this.where}: ${cfg.command} returned neither a token nor a client certificate and key`);
    if (!!cert !== !!key) throw new Error(`${this.where}: ${cfg.command} returned a client ${cert ? 'certificate without a key' : 'key without a certificate'}`);
    const exp = str(s.expirationTimestamp);
    let expiresAt: number | undefined;
    if (exp) {
      expiresAt = Date.parse(exp);
      if (Number.isNaN(expiresAt)) throw new Error(`${this.where}: ${cfg.command} returned expirationTimestamp ${exp}, which is not a time`);
    }
    this.current = { token, cert, key, expiresAt };
    return this.current;
  }
}

/** A bearer token in a file, re-read periodically (projected service account tokens rotate). */
class FileToken {
  private value?: string;
  private readAt = 0;
  private readonly path: string;
  private readonly where: string;
  private readonly refreshMs: number;
  private readonly now: () => number;

  constructor(path: string, where: string, opts: LoadClusterAccessOptions) {
    this.path = path;
    this.where = where;
    this.refreshMs = opts.tokenFileRefreshMs ?? 60_000;
    this.now = opts.now ?? Date.now;
  }

  read(): string {
    const now = this.now();
    if (this.value !== undefined && now - this.readAt < this.refreshMs) return this.value;
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8').trim();
    } catch (err) {
      // A rotation in progress: keep the previous token rather than fail.
      if (this.value !== undefined) return this.value;
      throw new Error(`${this.where}: cannot read ${this.path}: ${(err as Error).message}`);
    }
    if (!text) {
      if (this.value !== undefined) return this.value;
      throw new Error(`${this.where}: ${this.path} is empty`);
    }
    this.value = text;
    this.readAt = now;
    return text;
  }

  invalidate(): void {
    this.readAt = 0;
  }
}

// ---------------------------------------------------------------------------------------
// in-cluster

class InClusterAccess implements ClusterAccess {
  readonly server: string;
  private caValue: Buffer;
  private readonly caPath: string;
  private readonly stamps: FileStamps;
  readonly rejectUnauthorized = true;
  readonly source = 'in-cluster service account';
  private readonly token: FileToken;

  constructor(env: NodeJS.ProcessEnv, opts: LoadClusterAccessOptions) {
    const dir = opts.serviceAccountDir ?? (env.MINIAPPS_TEST_SERVICE_ACCOUNT_DIR || SERVICE_ACCOUNT_DIR);
    const host = env.KUBERNETES_SERVICE_HOST!;
    this.server = `https://${host.includes(':') ? `[${host}]` : host}:${env.KUBERNETES_SERVICE_PORT}`;
    this.stamps = new FileStamps(opts);
    this.caPath = join(dir, 'ca.crt');
    this.caValue = readPath(dir, 'ca.crt', 'the service account CA', this.source, (p) => this.stamps.note(p));
    this.token = new FileToken(join(dir, 'token'), this.source, opts);
    this.token.read();
  }

  /** The cluster CA, re-read when the projected ca.crt changes (CA rotation). */
  get ca(): Buffer {
    if (this.stamps.due() && this.stamps.changed(this.caPath)) {
      const stamp = this.stamps.stamp(this.caPath);
      const value = readIfPresent(this.caPath);
      if (value?.length) {
        this.caValue = value;
        this.stamps.set(this.caPath, stamp);
      }
    }
    return this.caValue;
  }

  get cert(): undefined {
    return undefined;
  }

  get key(): undefined {
    return undefined;
  }

  async headers(): Promise<Record<string, string>> {
    return { Authorization: `Bearer ${this.token.read()}` };
  }

  refresh(): void {
    this.token.invalidate();
  }
}

function inCluster(env: NodeJS.ProcessEnv, opts: LoadClusterAccessOptions): ClusterAccess {
  return new InClusterAccess(env, opts);
}
