// Helpers for integration tests (*.itest.ts), which run against the control plane
// started by ./global-setup.ts.
//
//   import { kubectl, eventually, uniqueName, testKubeconfig } from './index.ts';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { inject } from 'vitest';
import type { IdentityEndpoint, TokenWebhookEndpoint } from './controlplane.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Path of an admin (system:masters) kubeconfig for the test cluster. */
    kubeconfig: string;
    /** Directory holding kubectl, kube-apiserver, kube-controller-manager and etcd. */
    binDir: string;
    /** Where the API server's authentication webhook calls an operator (null on an external TEST_KUBECONFIG cluster). */
    tokenWebhook: TokenWebhookEndpoint | null;
    /** The embedded identity provider the API server trusts (null on an external TEST_KUBECONFIG cluster). */
    identity: IdentityEndpoint | null;
  }
}

export { ControlPlane, installCRDs, ensureBinaries } from './controlplane.ts';
export { eventually, freePort } from './eventually.ts';
export type { EventuallyOptions } from './eventually.ts';

/** Path of the admin kubeconfig of the test cluster. */
export function testKubeconfig(): string {
  return inject('kubeconfig');
}

/** The control plane's authentication webhook endpoint, or undefined on a cluster that has none. */
export function testTokenWebhook(): TokenWebhookEndpoint | undefined {
  return inject('tokenWebhook') ?? undefined;
}

/** Where the embedded identity provider must listen for the API server to trust its tokens, or undefined on a cluster that has none. */
export function testIdentity(): IdentityEndpoint | undefined {
  return inject('identity') ?? undefined;
}

/** Directory of the control plane binaries (kubectl lives there). */
export function testBinDir(): string {
  return inject('binDir');
}

/** A KubeConfig for @kubernetes/client-node, loaded from the test kubeconfig. */
export function testKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(testKubeconfig());
  return kc;
}

export interface KubectlOptions {
  /** Another control plane than the test cluster (a file's own), as its admin. */
  controlPlane?: { binDir: string; kubeconfigPath: string };
  /** Authenticate with this bearer token (`--token`) instead of the admin certificate: the kubeconfig's cluster, no user. */
  token?: string;
  /** Impersonate this user (`--as`). */
  as?: string;
  /** Impersonate these groups (`--as-group`); needs `as`. */
  asGroups?: string[];
  /** Written to kubectl's stdin (e.g. for `apply -f -`). */
  stdin?: string;
  /** Resolve with the result instead of throwing on a non-zero exit. */
  allowFailure?: boolean;
  timeoutMs?: number;
}

export interface KubectlResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export class KubectlError extends Error {
  readonly result: KubectlResult;
  constructor(args: string[], result: KubectlResult) {
    super(`kubectl ${args.join(' ')} exited ${result.exitCode}: ${result.stderr.trim() || result.stdout.trim()}`);
    this.name = 'KubectlError';
    this.result = result;
  }
}

/**
 * Runs the control plane's kubectl against the test cluster. Resolves with stdout
 * (or the full result with `allowFailure`), throws KubectlError on failure.
 */
export function kubectl(args: string[], opts: KubectlOptions & { allowFailure: true }): Promise<KubectlResult>;
export function kubectl(args: string[], opts?: KubectlOptions): Promise<string>;
export function kubectl(args: string[], opts: KubectlOptions = {}): Promise<string | KubectlResult> {
  const cp = opts.controlPlane;
  if (cp && opts.token) throw new Error('kubectl: token is for the test cluster only');
  const full = opts.token ? [`--kubeconfig=${tokenKubeconfig()}`, `--token=${opts.token}`] : [`--kubeconfig=${cp?.kubeconfigPath ?? testKubeconfig()}`];
  if (opts.as) full.push(`--as=${opts.as}`);
  for (const g of opts.asGroups ?? []) full.push(`--as-group=${g}`);
  full.push(...args);
  return new Promise((resolve, reject) => {
    const child = execFile(join(cp?.binDir ?? testBinDir(), 'kubectl'), full, { timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      const result: KubectlResult = { stdout, stderr, exitCode: code };
      if (err && typeof err.code !== 'number') {
        // Spawn failure or timeout rather than a kubectl exit status.
        result.stderr = `${stderr}${err.message}`;
      }
      if (opts.allowFailure) resolve(result);
      else if (code !== 0) reject(new KubectlError(args, result));
      else resolve(stdout);
    });
    // A kubectl that exits before reading its stdin (a quick refusal) closes the pipe: its exit status says what happened, not an EPIPE.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(opts.stdin ?? '');
  });
}

let tokenConfigPath: string | undefined;
/** The test cluster's kubeconfig without its client certificate (the server and CA only), for `--token`. */
function tokenKubeconfig(): string {
  if (tokenConfigPath) return tokenConfigPath;
  const kc = testKubeConfig();
  const cluster = kc.getCurrentCluster()!;
  const dir = mkdtempSync(join(tmpdir(), 'miniapps-token-'));
  tokenConfigPath = join(dir, 'kubeconfig');
  const ca = cluster.caData ?? (cluster.caFile ? readFileSync(cluster.caFile).toString('base64') : undefined);
  writeFileSync(
    tokenConfigPath,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: test',
      '  cluster:',
      `    server: ${cluster.server}`,
      ...(ca ? [`    certificate-authority-data: ${ca}`] : []),
      'users:',
      '- name: bearer',
      '  user: {}',
      'contexts:',
      '- name: test',
      '  context: {cluster: test, user: bearer}',
      'current-context: test',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  return tokenConfigPath;
}

/** A DNS-1123 label `${prefix}-xxxxxx` unique enough for parallel test files. */
export function uniqueName(prefix: string): string {
  const suffix = randomBytes(4).toString('hex').slice(0, 6);
  const base = prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63 - suffix.length - 1);
  return base ? `${base}-${suffix}` : `x-${suffix}`;
}
