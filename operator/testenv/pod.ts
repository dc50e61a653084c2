// The chart's operator Pod run with podman as the kubelet would run it, for the image
// test (operator/itest/image.itest.ts) and the image benchmark (operator/bench/image.ts).
//
// Here podman plays the kubelet, with no node, scheduler or kube-proxy (a real node is
// operator/testenv/node.ts, which operator/itest/node.itest.ts runs the chart on; root
// and containerd only, docs/design/kubelet.md): planPod() reads the Deployment back from
// the API server and turns it into a `podman run`: the user and group, the read-only
// root filesystem, the dropped capabilities, no privilege escalation, the environment
// (the downward API's fields filled in), the arguments, the memory limit, each emptyDir
// as a tmpfs, and the ServiceAccount's token (TokenRequest), CA and namespace where a pod
// has them, reaching the API server through KUBERNETES_SERVICE_HOST/PORT. The container
// shares the host's network, so its listeners are moved to free ports (a pod has its own
// network namespace; here they would clash with whatever else runs). startPod() runs it;
// readyAfter() times it to the readiness probe's first 200.
//
// The plan keeps what it read (pod, container), so a test can assert on the Deployment's
// security settings; what cannot be run as declared (a volume that is not an emptyDir, a
// listener flag that is not the port the container declares) is an error here.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import type { KubeClient } from '../runtime/kube/client.ts';
import { eventually, freePort } from './eventually.ts';

export const SA_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';

/** podman with runc (crun cannot set rlimits in this sandbox); its stdout, trimmed. */
export const podman = (...args: string[]): string => execFileSync('podman', ['--runtime', 'runc', ...args], { encoding: 'utf8', maxBuffer: 64 << 20 }).trim();

/** The rlimits every container here needs set explicitly (the sandbox's defaults are refused). */
export const ULIMITS = ['--ulimit', 'nofile=1024:4096', '--ulimit', 'nproc=4096:4096'];

export interface PodContainer {
  image: string;
  args: string[];
  env: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  securityContext: { runAsUser?: number; runAsGroup?: number; runAsNonRoot?: boolean; readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean; capabilities?: { drop?: string[] } };
  resources?: { limits?: { memory?: string } };
  readinessProbe?: { httpGet: { path: string; port: string } };
  livenessProbe?: { httpGet: { path: string; port: string } };
  ports: { name: string; containerPort: number }[];
  volumeMounts: { name: string; mountPath: string }[];
}

export interface PodSpec {
  serviceAccountName: string;
  securityContext?: { runAsUser?: number; runAsGroup?: number; runAsNonRoot?: boolean };
  containers: PodContainer[];
  volumes: { name: string; emptyDir?: { sizeLimit?: string } }[];
}

export interface PodPlan {
  /** The Deployment's pod template, as the API server returned it. */
  pod: PodSpec;
  /** Its first container. */
  container: PodContainer;
  /** The pod and container security contexts merged, as the kubelet merges them. */
  securityContext: PodContainer['securityContext'] & NonNullable<PodSpec['securityContext']>;
  /** uid:gid the container runs as. */
  user: string;
  /** The ServiceAccount token mounted into the container (for checking that no log carries it). */
  token: string;
  /** Each named container port's free port on 127.0.0.1. */
  portOf: Record<string, number>;
  /** The container's environment, downward API fields filled in. */
  env: Record<string, string>;
  /** `podman run` arguments after the image: the container's arguments, listeners moved. */
  args: string[];
  /** `podman run` options before the image. */
  options: string[];
}

/** Kubernetes memory quantity (Mi, Gi, M, G or bytes) in bytes. */
export const bytesOf = (q: string): number => {
  const m = /^(\d+)(Ki|Mi|Gi|K|M|G)?$/.exec(q);
  if (!m) throw new Error(`unreadable memory quantity ${q}`);
  const unit = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, K: 1e3, M: 1e6, G: 1e9 }[m[2] ?? ''] ?? 1;
  return Number(m[1]) * unit;
};

/** Each listener flag of the operator, and the container port the chart names for it. */
const LISTENER_FLAGS = {
  'http-bind-address': 'metrics',
  'webhook-bind-address': 'webhook',
  'api-bind-address': 'api',
  'public-bind-address': 'acceptance',
  'identity-bind-address': 'identity',
} as const;
const LISTENER_ARG = new RegExp(`^--(${Object.keys(LISTENER_FLAGS).join('|')})=:(\\d+)$`);

/**
 * Reads the Deployment `name` in `namespace` and plans its pod's first container as a
 * `podman run`: its ServiceAccount directory is written under `work` (made readable to
 * the container's user), the token requested from the API server at `server` (its CA `caPEM`).
 */
export async function planPod(o: { admin: KubeClient; server: string; caPEM: string; namespace: string; deployment: string; work: string; podName?: string }): Promise<PodPlan> {
  const deployment = await o.admin.request<{ spec: { template: { spec: PodSpec } } }>('GET', `/apis/apps/v1/namespaces/${o.namespace}/deployments/${o.deployment}`);
  const pod = deployment.spec.template.spec;
  const c = pod.containers[0];
  if (!c) throw new Error(`Deployment ${o.namespace}/${o.deployment} has no container`);

  // The pod's service account directory: a bound token (TokenRequest), the cluster CA, the namespace.
  const tokenRequest = await o.admin.request<{ status: { token: string } }>('POST', `/api/v1/namespaces/${o.namespace}/serviceaccounts/${pod.serviceAccountName}/token`, {
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
  });
  const token = tokenRequest.status.token;
  const saDir = join(o.work, 'serviceaccount');
  mkdirSync(saDir, { recursive: true });
  writeFileSync(join(saDir, 'token'), token);
  writeFileSync(join(saDir, 'ca.crt'), o.caPEM);
  writeFileSync(join(saDir, 'namespace'), o.namespace);
  execFileSync('chmod', ['-R', 'a+rX', o.work]);
  chmodSync(o.work, 0o755);
  const server = new URL(o.server);

  // The environment as the kubelet gives it: values, and the downward API's fields.
  const podName = o.podName ?? `${o.deployment}-7d9c8b6f5-x2x9q`;
  const fields: Record<string, string> = { 'metadata.namespace': o.namespace, 'metadata.name': podName };
  const env: Record<string, string> = { KUBERNETES_SERVICE_HOST: server.hostname, KUBERNETES_SERVICE_PORT: server.port };
  for (const e of c.env) {
    const value = e.value ?? (e.valueFrom?.fieldRef ? fields[e.valueFrom.fieldRef.fieldPath] : undefined);
    if (value === undefined) throw new Error(`env ${e.name}: neither a value nor a field this runner fills in`);
    env[e.name] = value;
  }
  const expand = (s: string) => s.replace(/\$\((\w+)\)/g, (_, v: string) => env[v] ?? '');

  // Its listeners on free ports (the pod's own network namespace is the host's here).
  const portOf: Record<string, number> = {};
  for (const p of c.ports) portOf[p.name] = await freePort();
  const args = c.args.map(expand).map((a) => {
    const m = LISTENER_ARG.exec(a);
    if (!m) return a;
    const name = LISTENER_FLAGS[m[1] as keyof typeof LISTENER_FLAGS];
    const declared = c.ports.find((p) => p.name === name)?.containerPort;
    if (Number(m[2]) !== declared) throw new Error(`${a}: the container declares port ${name} as ${declared}`);
    return `--${m[1]}=127.0.0.1:${portOf[name]}`;
  });

  const securityContext = { ...pod.securityContext, ...c.securityContext };
  const user = `${securityContext.runAsUser ?? 1000}:${securityContext.runAsGroup ?? securityContext.runAsUser ?? 1000}`;
  const tmpfs = c.volumeMounts.flatMap((m) => {
    const v = pod.volumes.find((x) => x.name === m.name);
    if (!v?.emptyDir) throw new Error(`volume ${m.name}: only emptyDir volumes can be run here`);
    return ['--tmpfs', `${m.mountPath}:rw,nosuid,nodev,size=${bytesOf(v.emptyDir.sizeLimit ?? '64Mi')},mode=1777`];
  });
  const memory = c.resources?.limits?.memory;
  const options = [
    '--network',
    'host',
    '--user',
    user,
    ...(securityContext.readOnlyRootFilesystem ? ['--read-only', '--read-only-tmpfs=false'] : []),
    ...(c.securityContext.capabilities?.drop?.includes('ALL') ? ['--cap-drop', 'ALL'] : []),
    ...(securityContext.allowPrivilegeEscalation === false ? ['--security-opt', 'no-new-privileges'] : []),
    ...ULIMITS,
    ...(memory ? ['--memory', String(bytesOf(memory))] : []),
    ...tmpfs,
    '--volume',
    `${saDir}:${SA_PATH}:ro`,
    ...Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
  ];
  return { pod, container: c, securityContext, user, token, portOf, env, args, options };
}

export interface RunningPod {
  /** The container's name. */
  name: string;
  /** When `podman run` was started (Date.now()). */
  started: number;
  /** Its output lines, stdout and stderr, as they arrive. */
  logs: string[];
  /** Resolves with podman run's exit code. */
  exited: Promise<number | null>;
  /** Kills `podman run` (the container is --rm). */
  kill(): void;
}

/** Starts the planned container from `image` (podman run --rm, in the foreground). */
export function startPod(plan: PodPlan, image: string, name: string): RunningPod {
  const started = Date.now();
  const proc = spawn('podman', ['--runtime', 'runc', 'run', '--rm', '--name', name, ...plan.options, image, ...plan.args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: string[] = [];
  proc.stdout.on('data', (d: Buffer) => logs.push(...d.toString().split('\n').filter(Boolean)));
  proc.stderr.on('data', (d: Buffer) => logs.push(...d.toString().split('\n').filter(Boolean)));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return { name, started, logs, exited, kill: () => proc.kill('SIGKILL') };
}

/** Status code and body of a plain HTTP GET on loopback. */
export const httpGet = (port: number, path: string): Promise<{ status: number; body: string }> =>
  new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path, timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timed out')));
  });

/**
 * Waits for the readiness probe the Deployment declares to answer 200 (polled every
 * `intervalMs`, 50 by default) and returns the milliseconds since `podman run` started;
 * on timeout the error carries the container's last lines.
 */
export async function readyAfter(plan: PodPlan, running: RunningPod, o: { timeoutMs?: number; intervalMs?: number } = {}): Promise<number> {
  const probe = plan.container.readinessProbe?.httpGet;
  if (!probe) throw new Error('the container declares no readinessProbe.httpGet');
  const port = plan.portOf[probe.port];
  if (port === undefined) throw new Error(`the readiness probe names port ${probe.port}, which the container does not declare`);
  await eventually(async () => (await httpGet(port, probe.path).catch(() => ({ status: 0 }))).status === 200, {
    timeoutMs: o.timeoutMs ?? 120_000,
    intervalMs: o.intervalMs ?? 50,
    describe: `the readiness probe ${probe.path} answering 200`,
  }).catch((err: unknown) => {
    throw new Error(`${String(err)}; the container's last lines:\n${running.logs.slice(-15).join('\n')}`);
  });
  return Date.now() - running.started;
}
