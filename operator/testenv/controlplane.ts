// A real, local Kubernetes control plane for tests and demos, modeled on
// controller-runtime's envtest: etcd + kube-apiserver + kube-controller-manager on
// loopback, built from source by hack/controlplane/build.sh.
//
//   const cp = await ControlPlane.start({ log: console.error });
//   // cp.kubeconfigPath (admin, system:masters), cp.server, cp.caPEM, cp.binDir
//   await cp.stop();
//
// Unlike envtest this also runs kube-controller-manager (namespace and garbage
// collector controllers by default) so namespace deletion and ownerReference
// cascades really happen. Authorization is RBAC; the admin credentials may
// impersonate any user (`--as`, `--as-group`).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCA, createServiceAccountKeyPair, issueCertificate, type IssuedCertificate } from '../runtime/pki.ts';
import { ManagedProcess, processAlive } from './process.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Controllers kube-controller-manager runs unless `controllers` is given. */
// The resource quota controller keeps each ResourceQuota's usage, without which the API server refuses every object a quota counts (the operator puts one into each namespace it creates).
export const DEFAULT_CONTROLLERS = ['namespace-controller', 'garbage-collector-controller', 'resourcequota-controller'];

export interface ControlPlaneOptions {
  /** Directory holding etcd, kube-apiserver, kube-controller-manager, kubectl. Default: $MINIAPPS_CONTROLPLANE_BIN_DIR, else built (or reused) by hack/controlplane/build.sh. */
  binDir?: string;
  /** Where certificates, kubeconfigs, etcd data and process logs go. Default: a fresh temp dir. */
  workDir?: string;
  /** Keep workDir on stop(). Default: false for a temp dir we created, true for a given workDir. */
  keepWorkDir?: boolean;
  /** Progress lines (build progress, process starts). */
  log?: (line: string) => void;
  /** kube-controller-manager --controllers; [] to not run kube-controller-manager at all. */
  controllers?: string[];
  /** Extra kube-apiserver flags, e.g. `--authentication-token-webhook-config-file=...`. */
  apiServerFlags?: string[];
  /** A folder of CRD manifests to install (and wait Established) before kube-controller-manager starts, so the garbage collector knows them from the start. */
  crdDir?: string;
  /** How long each component may take to become ready. Default 60s. */
  startTimeoutMs?: number;
  /**
   * Start kube-apiserver with an authentication token webhook that calls the operator's
   * TLS listener (`https://127.0.0.1:<port>/authenticate`), so `kubectl --token=<API key>`
   * works once an operator listens there: the port is reserved and the serving
   * certificate made now (the API server starts before any operator); start the operator
   * with tokenWebhookOperatorArgs(cp.tokenWebhook). `cacheTTL`: how long the API server
   * reuses an answer (default 2s, so a revocation shows within seconds). Whether or not it
   * is set, kube-apiserver presents a client certificate of a CA of its own to every
   * webhook (the token webhook's kubeconfig, and --admission-control-config-file for
   * admission webhooks); tokenWebhookOperatorArgs gives the operator that CA.
   */
  tokenWebhook?: boolean | { cacheTTL?: string };
  /**
   * Start kube-apiserver trusting the operator's embedded identity provider
   * (--authentication-config, a structured AuthenticationConfiguration): its port on
   * 127.0.0.1 is reserved and its serving certificate made now, so the provider can start
   * after the API server (which fetches the issuer's discovery and keys once it is up).
   * Start the operator with identityOperatorArgs(cp.identity).
   */
  identity?: boolean | { userPrefix?: string; groupPrefix?: string };
  /**
   * For a kubelet's pods (./node.ts): kube-apiserver listens on every address and
   * advertises `advertiseAddress` (a non-loopback address of this machine) as the
   * "kubernetes" Service's endpoint, which kube-proxy sends 10.0.0.1:443 to; the
   * ServiceAccount admission plugin mounts pods' tokens; webhooks are called at their
   * Service's endpoints (no ClusterIP routing on the API server's host); and
   * kube-controller-manager also runs the controllers a Deployment's pods need
   * (NODE_CONTROLLERS), unless `controllers` is given.
   */
  podNetwork?: { advertiseAddress: string };
}

/** What kube-controller-manager runs besides DEFAULT_CONTROLLERS for a node's pods (ControlPlaneOptions.podNetwork). */
export const NODE_CONTROLLERS = [
  'deployment-controller',
  'replicaset-controller',
  'serviceaccount-controller',
  'root-ca-certificate-publisher-controller',
  'endpoints-controller',
  'endpointslice-controller',
  'node-lifecycle-controller',
];

/** Where the embedded identity provider listens, and what the API server trusts of it. */
export interface IdentityEndpoint {
  port: number;
  /** https://127.0.0.1:<port> */
  issuer: string;
  /** tls.crt, tls.key and ca.crt of the provider's serving certificate. */
  certDir: string;
  caPEM: string;
  /** The client ids the API server accepts as audiences. */
  audiences: string[];
  /** The AuthenticationConfiguration file given to --authentication-config. */
  configFile: string;
}

/** The client ids whose ID tokens kube-apiserver accepts: the kubectl login command's and the console's. */
export const IDENTITY_AUDIENCES = ['miniapps-kubectl', 'miniapps-console'];

/** The claim validation rule keeping tenant users' accounts (`t…`) out of the API server: a platform account id is 32 hex digits (identity/accounts.ts accountId). */
export const PLATFORM_SUBJECT_RULE = "claims.sub.matches('^[0-9a-f]{32}$')";
export const PLATFORM_SUBJECT_MESSAGE = "only platform accounts are Kubernetes users: a tenant user's account is not";

/**
 * kube-apiserver's structured AuthenticationConfiguration for the embedded provider: the
 * username is PlatformConfig userPrefix + the email claim, the groups are groupPrefix +
 * the groups claim: exactly the RBAC subjects the operator binds. Only platform accounts'
 * subjects pass its claim validation rule (PLATFORM_SUBJECT_RULE).
 */
export function identityAuthenticationConfig(opts: { issuer: string; caPEM: string; audiences: string[]; userPrefix?: string; groupPrefix?: string }): string {
  const indent = (text: string, n: number) =>
    text
      .trimEnd()
      .split('\n')
      .map((l) => ' '.repeat(n) + l)
      .join('\n');
  return [
    'apiVersion: apiserver.config.k8s.io/v1',
    'kind: AuthenticationConfiguration',
    'jwt:',
    '- issuer:',
    `    url: ${JSON.stringify(opts.issuer)}`,
    '    audiences:',
    ...opts.audiences.map((a) => `    - ${JSON.stringify(a)}`),
    '    audienceMatchPolicy: MatchAny',
    '    certificateAuthority: |',
    indent(opts.caPEM, 6),
    '  claimMappings:',
    '    username:',
    '      claim: email',
    `      prefix: ${JSON.stringify(opts.userPrefix ?? '')}`,
    '    groups:',
    '      claim: groups',
    `      prefix: ${JSON.stringify(opts.groupPrefix ?? '')}`,
    '    uid:',
    '      claim: sub',
    // Only platform accounts (accountId: 32 hex digits) are Kubernetes users: never a tenant user's account (`t` + 32 hex).
    '  claimValidationRules:',
    `  - expression: ${JSON.stringify(PLATFORM_SUBJECT_RULE)}`,
    `    message: ${JSON.stringify(PLATFORM_SUBJECT_MESSAGE)}`,
    '',
  ].join('\n');
}

/** The operator flags that serve the embedded identity provider where the control plane trusts it. */
export function identityOperatorArgs(endpoint: IdentityEndpoint): string[] {
  return [`--identity-bind-address=127.0.0.1:${endpoint.port}`, `--identity-issuer=${endpoint.issuer}`, `--identity-cert-dir=${endpoint.certDir}`];
}

/** The operator endpoint the API server's authentication webhook calls. */
export interface TokenWebhookEndpoint {
  /** The reserved port on 127.0.0.1. */
  port: number;
  /** https://127.0.0.1:<port>/authenticate */
  url: string;
  /** Holds tls.crt, tls.key and ca.crt of the serving certificate (for --webhook-cert-dir). */
  certDir: string;
  /** The kubeconfig given to --authentication-token-webhook-config-file. */
  configFile: string;
  /** --authentication-token-webhook-cache-ttl. */
  cacheTTL: string;
  /** The CA of the client certificate the API server presents to the operator's webhooks (for --webhook-client-ca-file). */
  clientCAFile: string;
}

/**
 * The operator flags that make it serve the control plane's authentication webhook, and
 * answer only the API server there (its client certificate, which it also presents to
 * admission webhooks).
 */
export function tokenWebhookOperatorArgs(endpoint: TokenWebhookEndpoint): string[] {
  return [`--webhook-bind-address=127.0.0.1:${endpoint.port}`, `--webhook-cert-dir=${endpoint.certDir}`, `--webhook-client-ca-file=${endpoint.clientCAFile}`];
}

/**
 * The flags `npm run cluster:up` prints for running the operator next to the local control
 * plane: the webhook's (when the control plane calls one) and the APIs' TLS listener on
 * loopback too (its default, :8443, is every interface).
 */
export function localOperatorArgs(endpoint: TokenWebhookEndpoint | undefined, apiPort: number, identity?: IdentityEndpoint): string[] {
  return [...(endpoint ? tokenWebhookOperatorArgs(endpoint) : []), `--api-bind-address=127.0.0.1:${apiPort}`, ...(identity ? identityOperatorArgs(identity) : [])];
}

/**
 * The kubeconfig of an authentication token webhook (kube-apiserver
 * --authentication-token-webhook-config-file): "cluster" is the operator, "user" the API
 * server with its client certificate.
 */
export function tokenWebhookKubeconfig(url: string, caPEM: string, client?: { certPEM: string; keyPEM: string }): string {
  const b64 = (v: string) => Buffer.from(v).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: miniapps-operator',
    '  cluster:',
    `    server: ${url}`,
    `    certificate-authority-data: ${b64(caPEM)}`,
    'users:',
    '- name: kube-apiserver',
    ...(client ? ['  user:', `    client-certificate-data: ${b64(client.certPEM)}`, `    client-key-data: ${b64(client.keyPEM)}`] : ['  user: {}']),
    'contexts:',
    '- name: webhook',
    '  context:',
    '    cluster: miniapps-operator',
    '    user: kube-apiserver',
    'current-context: webhook',
    '',
  ].join('\n');
}

/**
 * The kubeconfig the API server reads its admission webhooks' credentials from
 * (WebhookAdmissionConfiguration kubeConfigFile): user "*" presents this client certificate
 * to every admission webhook it calls.
 */
export function admissionWebhooksKubeconfig(client: { certPEM: string; keyPEM: string }): string {
  const b64 = (v: string) => Buffer.from(v).toString('base64');
  return ['apiVersion: v1', 'kind: Config', 'users:', "- name: '*'", '  user:', `    client-certificate-data: ${b64(client.certPEM)}`, `    client-key-data: ${b64(client.keyPEM)}`, ''].join('\n');
}

/** kube-apiserver --admission-control-config-file: the validating and mutating webhooks' credentials from `kubeconfig`. */
export function admissionConfiguration(kubeconfig: string): string {
  const plugin = (name: string) => [
    `- name: ${name}`,
    '  configuration:',
    '    apiVersion: apiserver.config.k8s.io/v1',
    '    kind: WebhookAdmissionConfiguration',
    `    kubeConfigFile: ${JSON.stringify(kubeconfig)}`,
  ];
  return ['apiVersion: apiserver.config.k8s.io/v1', 'kind: AdmissionConfiguration', 'plugins:', ...plugin('ValidatingAdmissionWebhook'), ...plugin('MutatingAdmissionWebhook'), ''].join('\n');
}

export interface ControlPlanePorts {
  etcd: number;
  apiServer: number;
}

const noop = (): void => {};

const TMP_PREFIX = 'miniapps-cp-';
const OWNER_FILE = 'owner.pid';

/** Removes temp work dirs left by control planes whose owning process died without stop(). */
function sweepStaleWorkDirs(log: (line: string) => void): void {
  let entries: string[];
  try {
    entries = readdirSync(tmpdir()).filter((n) => n.startsWith(TMP_PREFIX));
  } catch {
    return;
  }
  for (const name of entries) {
    const dir = join(tmpdir(), name);
    let owner: number;
    try {
      owner = Number(readFileSync(join(dir, OWNER_FILE), 'utf8'));
    } catch {
      continue; // being created, or not ours
    }
    if (owner && !processAlive(owner)) {
      rmSync(dir, { recursive: true, force: true });
      log(`[controlplane] removed stale work dir ${dir} (owner pid ${owner} is gone)`);
    }
  }
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolvePort(addr.port) : reject(new Error('no port'))));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Runs hack/controlplane/build.sh (idempotent: returns at once when the binaries
 * exist) and returns the directory holding them. Build progress goes to `log`.
 */
export async function ensureBinaries(log: (line: string) => void = noop): Promise<string> {
  const fromEnv = process.env.MINIAPPS_CONTROLPLANE_BIN_DIR;
  if (fromEnv) {
    checkBinDir(fromEnv);
    return fromEnv;
  }
  const script = join(REPO_ROOT, 'hack/controlplane/build.sh');
  const child = spawn('bash', [script], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  let partial = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    const lines = (partial + d).split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) log(`[build] ${l}`);
  });
  const started = Date.now();
  const code = await new Promise<number | null>((res, rej) => {
    child.once('error', rej);
    child.once('close', res);
  });
  if (partial) log(`[build] ${partial}`);
  // 127: a requirement is missing (Go); the script says which and the ways on.
  if (code === 127) throw new Error(stderr.trim());
  if (code !== 0) {
    throw new Error(`hack/controlplane/build.sh failed (exit ${code}):\n${stderr.trimEnd().split('\n').slice(-30).join('\n')}`);
  }
  const dir = stdout.trimEnd().split('\n').pop() ?? '';
  checkBinDir(dir);
  const secs = (Date.now() - started) / 1000;
  if (secs > 5) log(`[build] control plane binaries ready in ${secs.toFixed(0)}s: ${dir}`);
  return dir;
}

function checkBinDir(dir: string): void {
  const missing = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kubectl'].filter((b) => !existsSync(join(dir, b)));
  if (missing.length) throw new Error(`control plane bin dir ${dir || '(empty)'} lacks ${missing.join(', ')}`);
}

interface Credentials {
  caPEM: string;
  caKeyPEM: string;
}

function kubeconfigYAML(server: string, caPEM: string, user: string, cert: IssuedCertificate): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: miniapps-local',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${b64(caPEM)}`,
    'users:',
    `- name: ${user}`,
    '  user:',
    `    client-certificate-data: ${b64(cert.certPEM)}`,
    `    client-key-data: ${b64(cert.keyPEM)}`,
    'contexts:',
    '- name: miniapps-local',
    '  context:',
    '    cluster: miniapps-local',
    `    user: ${user}`,
    'current-context: miniapps-local',
    '',
  ].join('\n');
}

/** GET over TLS with client cert; resolves with status and body, rejects on connection errors. */
function httpsGet(url: string, tls: { ca: string; cert: string; key: string }, timeoutMs = 5000): Promise<{ status: number; body: string }> {
  return new Promise((res, rej) => {
    const req = request(url, { ...tls, timeout: timeoutMs, agent: false }, (resp) => {
      let body = '';
      resp.setEncoding('utf8').on('data', (d: string) => (body += d));
      resp.on('end', () => res({ status: resp.statusCode ?? 0, body }));
      resp.on('error', rej);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', rej);
    req.end();
  });
}

export class ControlPlane {
  readonly binDir: string;
  readonly workDir: string;
  readonly kubeconfigPath: string;
  /** https://127.0.0.1:<port> */
  readonly server: string;
  /** PEM of the CA that signs the API server's serving cert and the client certs. */
  readonly caPEM: string;
  readonly ports: ControlPlanePorts;
  /** Where the API server's authentication webhook calls the operator, when started with tokenWebhook. */
  readonly tokenWebhook?: TokenWebhookEndpoint;
  /**
   * The CA of the client certificate the API server presents to every webhook it calls
   * (admission, through --admission-control-config-file, and the token webhook): an
   * operator given it as --webhook-client-ca-file answers the API server only.
   */
  readonly webhookClientCAFile: string;
  /** The embedded identity provider the API server trusts, when started with identity. */
  readonly identity?: IdentityEndpoint;

  private readonly keepWorkDir: boolean;
  private readonly log: (line: string) => void;
  private readonly adminTLS: { ca: string; cert: string; key: string };
  private readonly startTimeoutMs: number;
  private readonly etcd: ManagedProcess;
  private readonly apiServer: ManagedProcess;
  private readonly controllerManager: ManagedProcess | undefined;
  private stopped = false;

  private constructor(init: {
    binDir: string;
    workDir: string;
    keepWorkDir: boolean;
    log: (line: string) => void;
    creds: Credentials;
    admin: IssuedCertificate;
    ports: ControlPlanePorts;
    startTimeoutMs: number;
    etcd: ManagedProcess;
    apiServer: ManagedProcess;
    controllerManager: ManagedProcess | undefined;
    tokenWebhook?: TokenWebhookEndpoint;
    webhookClientCAFile: string;
    identity?: IdentityEndpoint;
  }) {
    this.identity = init.identity;
    this.tokenWebhook = init.tokenWebhook;
    this.webhookClientCAFile = init.webhookClientCAFile;
    this.binDir = init.binDir;
    this.workDir = init.workDir;
    this.keepWorkDir = init.keepWorkDir;
    this.log = init.log;
    this.kubeconfigPath = join(init.workDir, 'admin.kubeconfig');
    this.ports = init.ports;
    this.server = `https://127.0.0.1:${init.ports.apiServer}`;
    this.caPEM = init.creds.caPEM;
    this.adminTLS = { ca: init.creds.caPEM, cert: init.admin.certPEM, key: init.admin.keyPEM };
    this.startTimeoutMs = init.startTimeoutMs;
    this.etcd = init.etcd;
    this.apiServer = init.apiServer;
    this.controllerManager = init.controllerManager;
  }

  /**
   * Builds or reuses the binaries, then starts etcd, kube-apiserver and kube-controller-manager.
   * The ports are found free and then handed to the processes, so another process on the
   * machine (a second control plane, say) can take one in between: a component that could not
   * bind its port is started again on new ports, up to three times in all.
   */
  static async start(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await ControlPlane.startOnce(opts);
      } catch (err) {
        if (attempt >= 3 || !/address already in use/.test(String((err as Error)?.message))) throw err;
        (opts.log ?? noop)(`[controlplane] a port was taken before a component could bind it; starting again on new ports (attempt ${attempt + 1})`);
      }
    }
  }

  private static async startOnce(opts: ControlPlaneOptions): Promise<ControlPlane> {
    const log = opts.log ?? noop;
    const t0 = Date.now();
    const binDir = opts.binDir ?? (await ensureBinaries(log));
    checkBinDir(binDir);
    if (!opts.workDir) sweepStaleWorkDirs(log);
    const workDir = resolve(opts.workDir ?? mkdtempSync(join(tmpdir(), TMP_PREFIX)));
    const keepWorkDir = opts.keepWorkDir ?? opts.workDir !== undefined;
    mkdirSync(workDir, { recursive: true });
    // Marks a temp work dir as removable once this process is gone (see sweepStaleWorkDirs).
    if (!keepWorkDir) writeFileSync(join(workDir, OWNER_FILE), String(process.pid));
    const pkiDir = join(workDir, 'pki');
    mkdirSync(pkiDir, { recursive: true });

    // --- PKI
    const ca = createCA('miniapps-local-ca');
    const serving = issueCertificate({
      ca,
      commonName: 'kube-apiserver',
      dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'],
      ipAddresses: ['127.0.0.1', '10.0.0.1'],
      usages: 'server',
      validityDays: 365,
    });
    const admin = issueCertificate({ ca, commonName: 'admin', organizations: ['system:masters'], usages: 'client', validityDays: 365 });
    const kcm = issueCertificate({
      ca,
      commonName: 'system:kube-controller-manager',
      // Without --use-service-account-credentials every controller acts as this user;
      // the bootstrap system:kube-controller-manager role is too narrow for the
      // namespace controller's "delete everything in it", so it gets system:masters.
      organizations: ['system:masters'],
      usages: 'client',
      validityDays: 365,
    });
    const sa = createServiceAccountKeyPair();
    const f = (name: string) => join(pkiDir, name);
    writeFileSync(f('ca.crt'), ca.certPEM);
    writeFileSync(f('ca.key'), ca.keyPEM, { mode: 0o600 });
    writeFileSync(f('apiserver.crt'), serving.certPEM);
    writeFileSync(f('apiserver.key'), serving.keyPEM, { mode: 0o600 });
    writeFileSync(f('sa.key'), sa.privateKeyPEM, { mode: 0o600 });
    writeFileSync(f('sa.pub'), sa.publicKeyPEM);

    const ports: ControlPlanePorts = { etcd: await freePort(), apiServer: await freePort() };
    const server = `https://127.0.0.1:${ports.apiServer}`;

    // --- the API server's client certificate toward webhooks (admission and authentication),
    // so that an operator started with --webhook-client-ca-file answers it and no one else
    const webhookClientCA = createCA('kube-apiserver-webhook-client-ca');
    const webhookClient = issueCertificate({ ca: webhookClientCA, commonName: 'kube-apiserver-webhook-client', usages: 'client', validityDays: 365 });
    const webhookClientCAFile = f('webhook-client-ca.crt');
    writeFileSync(webhookClientCAFile, webhookClientCA.certPEM);
    const admissionKubeconfig = join(workDir, 'admission-webhooks.kubeconfig');
    writeFileSync(admissionKubeconfig, admissionWebhooksKubeconfig(webhookClient), { mode: 0o600 });
    const admissionConfig = join(workDir, 'admission-control.yaml');
    writeFileSync(admissionConfig, admissionConfiguration(admissionKubeconfig));
    const webhookFlags: string[] = [`--admission-control-config-file=${admissionConfig}`];

    // --- the operator's authentication webhook: its port and certificate, made before the API server starts
    let tokenWebhook: TokenWebhookEndpoint | undefined;
    if (opts.tokenWebhook) {
      const webhookCA = createCA('miniapps-operator-webhook-ca');
      const webhookCert = issueCertificate({ ca: webhookCA, commonName: 'miniapps-operator-webhook', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usages: 'server', validityDays: 365 });
      const certDir = join(pkiDir, 'operator-webhook');
      mkdirSync(certDir, { recursive: true });
      writeFileSync(join(certDir, 'tls.crt'), webhookCert.certPEM);
      writeFileSync(join(certDir, 'tls.key'), webhookCert.keyPEM, { mode: 0o600 });
      writeFileSync(join(certDir, 'ca.crt'), webhookCA.certPEM);
      const port = await freePort();
      const url = `https://127.0.0.1:${port}/authenticate`;
      const configFile = join(workDir, 'token-webhook.kubeconfig');
      writeFileSync(configFile, tokenWebhookKubeconfig(url, webhookCA.certPEM, webhookClient), { mode: 0o600 });
      const cacheTTL = (typeof opts.tokenWebhook === 'object' && opts.tokenWebhook.cacheTTL) || '2s';
      tokenWebhook = { port, url, certDir, configFile, cacheTTL, clientCAFile: webhookClientCAFile };
      webhookFlags.push(`--authentication-token-webhook-config-file=${configFile}`, `--authentication-token-webhook-cache-ttl=${cacheTTL}`, '--authentication-token-webhook-version=v1');
    }
    // --- the embedded identity provider: its port, certificate and the API server's trust in it
    let identity: IdentityEndpoint | undefined;
    if (opts.identity) {
      const idCA = createCA('miniapps-identity-ca');
      const idCert = issueCertificate({ ca: idCA, commonName: 'miniapps-identity', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usages: 'server', validityDays: 365 });
      const certDir = join(pkiDir, 'identity');
      mkdirSync(certDir, { recursive: true });
      writeFileSync(join(certDir, 'tls.crt'), idCert.certPEM);
      writeFileSync(join(certDir, 'tls.key'), idCert.keyPEM, { mode: 0o600 });
      writeFileSync(join(certDir, 'ca.crt'), idCA.certPEM);
      const port = await freePort();
      const issuer = `https://127.0.0.1:${port}`;
      const configFile = join(workDir, 'authentication-config.yaml');
      const prefixes = typeof opts.identity === 'object' ? opts.identity : {};
      writeFileSync(configFile, identityAuthenticationConfig({ issuer, caPEM: idCA.certPEM, audiences: IDENTITY_AUDIENCES, ...prefixes }));
      identity = { port, issuer, certDir, caPEM: idCA.certPEM, audiences: IDENTITY_AUDIENCES, configFile };
      webhookFlags.push(`--authentication-config=${configFile}`);
    }
    writeFileSync(join(workDir, 'admin.kubeconfig'), kubeconfigYAML(server, ca.certPEM, 'admin', admin), { mode: 0o600 });
    writeFileSync(join(workDir, 'kube-controller-manager.kubeconfig'), kubeconfigYAML(server, ca.certPEM, 'kube-controller-manager', kcm), {
      mode: 0o600,
    });

    // --- processes
    const etcdDataDir = join(workDir, 'etcd');
    const etcd = new ManagedProcess({
      name: 'etcd',
      command: join(binDir, 'etcd'),
      logPath: join(workDir, 'etcd.log'),
      cwd: workDir,
      args: [
        `--data-dir=${etcdDataDir}`,
        `--listen-client-urls=http://127.0.0.1:${ports.etcd}`,
        `--advertise-client-urls=http://127.0.0.1:${ports.etcd}`,
        // Port 0: the peer listener is unused in a one-member cluster; a fixed 2380
        // would collide between control planes running side by side.
        '--listen-peer-urls=http://127.0.0.1:0',
        '--unsafe-no-fsync',
        // One member: nobody to wait for, so elect fast (the default ~1s dominates startup).
        '--heartbeat-interval=10',
        '--election-timeout=100',
        '--log-level=warn',
      ],
    });
    const apiServer = new ManagedProcess({
      name: 'kube-apiserver',
      command: join(binDir, 'kube-apiserver'),
      logPath: join(workDir, 'kube-apiserver.log'),
      cwd: workDir,
      args: [
        `--etcd-servers=http://127.0.0.1:${ports.etcd}`,
        `--bind-address=${opts.podNetwork ? '0.0.0.0' : '127.0.0.1'}`,
        `--advertise-address=${opts.podNetwork?.advertiseAddress ?? '127.0.0.1'}`,
        `--secure-port=${ports.apiServer}`,
        `--cert-dir=${join(workDir, 'apiserver-certs')}`,
        `--tls-cert-file=${f('apiserver.crt')}`,
        `--tls-private-key-file=${f('apiserver.key')}`,
        `--client-ca-file=${f('ca.crt')}`,
        '--authorization-mode=RBAC',
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${f('sa.pub')}`,
        `--service-account-signing-key-file=${f('sa.key')}`,
        '--service-cluster-ip-range=10.0.0.0/24',
        '--allow-privileged=true',
        ...(opts.podNetwork
          ? ['--enable-admission-plugins=NamespaceLifecycle,ServiceAccount,ValidatingAdmissionWebhook,MutatingAdmissionWebhook', '--endpoint-reconciler-type=lease', '--enable-aggregator-routing=true']
          : [
              '--enable-admission-plugins=NamespaceLifecycle,ValidatingAdmissionWebhook,MutatingAdmissionWebhook',
              // Default-on, but would require a ServiceAccount (and its token) for every pod.
              '--disable-admission-plugins=ServiceAccount',
              // The "kubernetes" Service's Endpoints would point at 127.0.0.1, which validation
              // rejects (loopback), logging an error every 10s.
              '--endpoint-reconciler-type=none',
            ]),
        '--profiling=false',
        ...webhookFlags,
        ...(opts.apiServerFlags ?? []),
      ],
    });
    const controllers = opts.controllers ?? (opts.podNetwork ? [...DEFAULT_CONTROLLERS, ...NODE_CONTROLLERS] : DEFAULT_CONTROLLERS);
    const controllerManager =
      controllers.length === 0
        ? undefined
        : new ManagedProcess({
            name: 'kube-controller-manager',
            command: join(binDir, 'kube-controller-manager'),
            logPath: join(workDir, 'kube-controller-manager.log'),
            cwd: workDir,
            args: [
              `--kubeconfig=${join(workDir, 'kube-controller-manager.kubeconfig')}`,
              `--controllers=${controllers.join(',')}`,
              '--leader-elect=false',
              '--secure-port=0',
              '--use-service-account-credentials=false',
              '--profiling=false',
            ],
          });

    const cp = new ControlPlane({
      binDir,
      workDir,
      keepWorkDir,
      log,
      creds: { caPEM: ca.certPEM, caKeyPEM: ca.keyPEM },
      admin,
      ports,
      startTimeoutMs: opts.startTimeoutMs ?? 60_000,
      etcd,
      apiServer,
      controllerManager,
      tokenWebhook,
      webhookClientCAFile,
      identity,
    });
    try {
      etcd.start();
      await cp.waitFor(etcd, 'etcd /health', async () => {
        const r = await fetch(`http://127.0.0.1:${ports.etcd}/health`, { signal: AbortSignal.timeout(2000) });
        return r.ok;
      });
      log(`[controlplane] etcd ready on 127.0.0.1:${ports.etcd} (pid ${etcd.pid})`);
      apiServer.start();
      await cp.waitForApiServer();
      log(`[controlplane] kube-apiserver ready at ${server} (pid ${apiServer.pid})`);
      if (opts.crdDir) await installCRDs(cp.kubeconfigPath, opts.crdDir, { log, timeoutMs: cp.startTimeoutMs });
      if (controllerManager) {
        controllerManager.start();
        await cp.waitForControllerManager(controllerManager, controllers);
        log(`[controlplane] kube-controller-manager running controllers ${controllers.join(',')} (pid ${controllerManager.pid})`);
      }
    } catch (err) {
      // Keep the logs the error points at; a temp work dir is swept by a later start
      // once this process is gone.
      await cp.stop({ keepWorkDir: true }).catch(noop);
      throw err;
    }
    log(`[controlplane] started in ${((Date.now() - t0) / 1000).toFixed(1)}s; KUBECONFIG=${cp.kubeconfigPath}`);
    return cp;
  }

  /** Process ids, for diagnostics and for `cluster status`. */
  pids(): Record<string, number | undefined> {
    return { etcd: this.etcd.pid, kubeApiServer: this.apiServer.pid, kubeControllerManager: this.controllerManager?.pid };
  }

  /** Log files of the components. */
  logFiles(): Record<string, string> {
    const files: Record<string, string> = { etcd: this.etcd.logPath, kubeApiServer: this.apiServer.logPath };
    if (this.controllerManager) files.kubeControllerManager = this.controllerManager.logPath;
    return files;
  }

  /**
   * Stops kube-apiserver and starts it again on the same port; resolves when /readyz is OK.
   * The stop is a SIGTERM followed by SIGKILL after `graceMs` (default 2s): with clients
   * holding watches open, kube-apiserver's graceful shutdown would otherwise take up to a
   * minute. `graceMs: 0` kills it outright, like a crash.
   */
  async restartApiServer(opts: { graceMs?: number } = {}): Promise<void> {
    if (this.stopped) throw new Error('control plane is stopped');
    const graceMs = opts.graceMs ?? 2_000;
    if (graceMs <= 0) this.apiServer.killNow();
    await this.apiServer.stop(Math.max(graceMs, 1));
    this.log('[controlplane] kube-apiserver stopped; restarting');
    // The old listener is closed once the process is gone; retry start if the port is briefly busy.
    for (let attempt = 1; ; attempt++) {
      this.apiServer.start();
      try {
        await this.waitForApiServer();
        break;
      } catch (err) {
        if (attempt >= 3 || !/address already in use/.test(String(err))) throw err;
        await sleep(500);
      }
    }
    this.log(`[controlplane] kube-apiserver ready again at ${this.server} (pid ${this.apiServer.pid})`);
  }

  /** Stops all components (SIGTERM, SIGKILL after 10s) and removes workDir unless kept. */
  async stop(opts: { keepWorkDir?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.controllerManager?.stop(5_000);
    await this.apiServer.stop(10_000);
    await this.etcd.stop(10_000);
    if (!(opts.keepWorkDir ?? this.keepWorkDir)) rmSync(this.workDir, { recursive: true, force: true });
    this.log('[controlplane] stopped');
  }

  /**
   * kube-controller-manager serves nothing here (--secure-port=0), so readiness is read
   * from its log: with the garbage collector enabled, wait until its resource monitors
   * have synced (before that, ownerReference cascades may not happen yet).
   */
  private async waitForControllerManager(proc: ManagedProcess, controllers: string[]): Promise<void> {
    const gc = controllers.some((c) => ['*', 'garbage-collector-controller', 'garbagecollector'].includes(c));
    const marker = gc ? 'all resource monitors have synced' : 'Caches are synced';
    const deadline = Date.now() + this.startTimeoutMs;
    for (;;) {
      const died = proc.failure();
      if (died) throw died;
      let text = '';
      try {
        text = readFileSync(proc.logPath, 'utf8');
      } catch {}
      if (text.includes(marker)) return;
      if (Date.now() > deadline) {
        this.log(`[controlplane] warning: kube-controller-manager did not log "${marker}" within ${this.startTimeoutMs / 1000}s; continuing (log ${proc.logPath})`);
        return;
      }
      await sleep(100);
    }
  }

  private async waitForApiServer(): Promise<void> {
    let last = '';
    await this.waitFor(
      this.apiServer,
      'kube-apiserver /readyz',
      async () => {
        try {
          const r = await httpsGet(`${this.server}/readyz`, this.adminTLS);
          last = `HTTP ${r.status}: ${r.body.slice(0, 2000)}`;
          return r.status === 200;
        } catch (err) {
          last = String(err);
          return false;
        }
      },
      () => last,
    );
  }

  private async waitFor(proc: ManagedProcess, what: string, probe: () => Promise<boolean>, lastSeen?: () => string): Promise<void> {
    const deadline = Date.now() + this.startTimeoutMs;
    for (;;) {
      const died = proc.failure();
      if (died) throw died;
      if (await probe().catch(() => false)) return;
      const diedAfter = proc.failure();
      if (diedAfter) throw diedAfter;
      if (Date.now() > deadline) {
        throw new Error(`timed out after ${this.startTimeoutMs / 1000}s waiting for ${what}${lastSeen ? ` (last: ${lastSeen()})` : ''}; log ${proc.logPath}`);
      }
      await sleep(150);
    }
  }
}

export interface InstallCRDsOptions {
  log?: (line: string) => void;
  /** How long to wait for all CRDs to become Established. Default 60s. */
  timeoutMs?: number;
  fieldManager?: string;
}

/**
 * Server-side applies (field manager `miniapps-testenv`, forced) every *.yaml / *.yml
 * in `dir` (relative to the repo root unless absolute; multi-document files allowed)
 * and waits until each CustomResourceDefinition among them is Established.
 * Returns the names of the CRDs.
 *
 * kube-controller-manager's garbage collector rediscovers resources only every 30s,
 * so ownerReferences between custom resources of CRDs installed after it started
 * may take that long to cascade; ControlPlane.start({ crdDir }) avoids that.
 */
export async function installCRDs(kubeconfigPath: string, dir = 'crds', opts: InstallCRDsOptions = {}): Promise<string[]> {
  // The runtime's own client sends the YAML as it is: client-node's object serializer
  // drops every key whose name differs in its models (enum, default, x-kubernetes-*),
  // which would install CRDs without their CEL rules and enums.
  const { KubeClient } = await import('../runtime/kube/client.ts');
  const { Resources } = await import('../runtime/kube/resource.ts');
  const YAML = await import('yaml');
  const log = opts.log ?? noop;
  const client = KubeClient.fromKubeconfig(kubeconfigPath, { fieldManager: opts.fieldManager ?? 'miniapps-testenv' });
  try {
    const absDir = resolve(REPO_ROOT, dir);
    if (!existsSync(absDir)) throw new Error(`CRD folder ${absDir} does not exist`);
    const files = readdirSync(absDir)
      .filter((n) => /\.ya?ml$/.test(n))
      .sort();
    const crdNames: string[] = [];
    for (const file of files) {
      for (const doc of YAML.parseAllDocuments(readFileSync(join(absDir, file), 'utf8'))) {
        if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0]!.message}`);
        const obj = doc.toJS() as { apiVersion?: string; kind?: string; metadata?: { name?: string } } | null;
        if (!obj || typeof obj !== 'object') continue;
        if (obj.kind !== 'CustomResourceDefinition' || !obj.metadata?.name) throw new Error(`${file}: not a CustomResourceDefinition with a name`);
        try {
          await client.apply(Resources.CustomResourceDefinition, obj as never);
        } catch (err) {
          throw new Error(`applying CustomResourceDefinition ${obj.metadata.name} from ${file}: ${err instanceof Error ? err.message : String(err)}`);
        }
        crdNames.push(obj.metadata.name);
      }
    }
    const timeoutMs = opts.timeoutMs ?? 60_000;
    const deadline = Date.now() + timeoutMs;
    for (const name of crdNames) {
      for (;;) {
        const crd = await client.get<{ metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }>(Resources.CustomResourceDefinition, name);
        const conds = crd?.status?.conditions ?? [];
        if (conds.some((c) => c.type === 'Established' && c.status === 'True')) break;
        if (Date.now() > deadline) throw new Error(`CRD ${name} not Established after ${timeoutMs / 1000}s; conditions: ${JSON.stringify(conds)}`);
        await sleep(100);
      }
    }
    log(`[controlplane] installed ${crdNames.length} CRD(s) from ${absDir}`);
    return crdNames;
  } finally {
    await client.close();
  }
}
