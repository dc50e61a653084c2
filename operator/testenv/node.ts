// A real node for the control plane: Debian's containerd and runc, and the kubelet,
// kube-proxy and kube-scheduler of the control plane's own Kubernetes (hack/node/build.sh),
// so a chart's Pods are scheduled, started, probed and reached as on a cluster. What this
// took on this machine, and why each setting is there, is in docs/design/kubelet.md.
//
//   const cp = await ControlPlane.start({ crdDir, podNetwork: { advertiseAddress: hostAddress()! } });
//   const node = await TestNode.start({ cp, images: ['localhost/miniapps-operator:0.1.0'] });
//   ... helm install --set image.pullPolicy=Never ...
//   await node.stop();
//
// It changes the machine, so one runs at a time (a lock directory in /tmp): a bridge
// (miniappsnode0, 10.244.0.0/24) and the pods' network namespaces, kube-proxy's iptables
// chains (removed again by `kube-proxy --cleanup` on stop). nodeMissing() says what this
// machine lacks (root, the packages, the binaries), for a test to skip with that reason.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ControlPlane } from './controlplane.ts';
import { REPO_ROOT } from './controlplane.ts';
import { eventually, freePort } from './eventually.ts';
import { podman } from './pod.ts';
import { ManagedProcess, processAlive } from './process.ts';

const LOCK = join(tmpdir(), 'miniapps-node.lock');
const BRIDGE = 'miniappsnode0';
const POD_CIDR = '10.244.0.0/24';
const CNI_BIN = '/usr/lib/cni';
export const NODE_NAME = 'miniapps-node';
const PAUSE_IMAGE = 'localhost/miniapps-pause:1';
const NETNS = '/run/netns';
const POD_LOGS = '/var/log/pods';
const CONTAINER_LOGS = '/var/log/containers';

const onPath = (name: string) => spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;

/** This machine's first non-loopback IPv4 address (the API server's advertised address for pods). */
export function hostAddress(): string | undefined {
  for (const addrs of Object.values(networkInterfaces())) for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal && !a.address.startsWith('10.244.')) return a.address;
  return undefined;
}

/** Where hack/node/build.sh put kubelet, kube-proxy, kube-scheduler and pause ($MINIAPPS_NODE_BIN_DIR, else the cached build of hack/node's current pin: `build.sh --print`), or undefined. */
export function nodeBinDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.MINIAPPS_NODE_BIN_DIR) return ['kubelet', 'kube-proxy', 'kube-scheduler', 'pause'].every((b) => existsSync(join(env.MINIAPPS_NODE_BIN_DIR!, b))) ? env.MINIAPPS_NODE_BIN_DIR : undefined;
  const built = spawnSync('bash', [join(REPO_ROOT, 'hack/node/build.sh'), '--print'], { encoding: 'utf8' });
  const dir = built.status === 0 ? built.stdout.trim().split('\n').at(-1) : undefined;
  return dir && existsSync(join(dir, '.complete')) ? dir : undefined;
}

/** What this machine lacks to run a TestNode, each with how to get it; [] when nothing. */
export function nodeMissing(): string[] {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root (containerd, the kubelet and kube-proxy change mounts, cgroups and iptables)');
  const packages = ['containerd', 'ctr', 'runc', 'iptables', 'podman'].filter((n) => !onPath(n));
  if (!existsSync(join(CNI_BIN, 'bridge'))) packages.push('the CNI plugins (/usr/lib/cni/bridge)');
  if (packages.length > 0) missing.push(`${packages.join(', ')}: apt-get install containerd runc iptables containernetworking-plugins podman`);
  if (!nodeBinDir()) missing.push('kubelet, kube-proxy and kube-scheduler: bash hack/node/build.sh (a few minutes of Go build, cached)');
  if (!hostAddress()) missing.push('a non-loopback IPv4 address for the API server to advertise to pods');
  return missing;
}

/** Takes the machine-wide lock (a directory holding the owner's pid), waiting for a live owner up to `timeoutMs`. */
export async function takeLock(timeoutMs: number, path = LOCK): Promise<void> {
  await eventually(
    () => {
      try {
        mkdirSync(path);
        writeFileSync(join(path, 'pid'), String(process.pid));
        return true;
      } catch {
        // A dead owner's lock is taken over; so is one without an owner's pid a minute after it was made (its owner died between the two).
        const pidFile = join(path, 'pid');
        const owner = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) || 0 : 0;
        const stale = owner ? !processAlive(owner) : existsSync(path) && Date.now() - statSync(path).mtimeMs > 60_000;
        if (stale) rmSync(path, { recursive: true, force: true });
        return false;
      }
    },
    { timeoutMs, intervalMs: 1000, describe: `the node lock ${path} (another test's node is running)` },
  );
}

/** The containerd shims serving the containerd at `socket` (they outlive it by design): their pids. */
function shimsOf(socket: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv[0]?.endsWith('containerd-shim-runc-v2') && argv.includes(socket)) pids.push(Number(entry));
    } catch {
      /* gone */
    }
  }
  return pids;
}

export class TestNode {
  readonly dir: string;
  readonly binDir: string;
  private readonly socket: string;
  private readonly procs: ManagedProcess[] = [];
  private readonly log: (line: string) => void;
  /** The network namespaces there were before this node (its pods' are the cni-* ones made after). */
  private readonly netnsBefore = new Set(existsSync(NETNS) ? readdirSync(NETNS) : []);
  /** The pod logs there were before (the kubelet writes its pods' under /var/log/pods and links them from /var/log/containers, whatever its root directory). */
  private readonly podLogsBefore = new Set([POD_LOGS, CONTAINER_LOGS].flatMap((d) => (existsSync(d) ? readdirSync(d).map((e) => join(d, e)) : [])));

  private constructor(dir: string, binDir: string, log: (line: string) => void) {
    this.dir = dir;
    this.binDir = binDir;
    this.socket = join(dir, 'containerd.sock');
    this.log = log;
  }

  /** ctr on this node's containerd, in the CRI's namespace. */
  ctr(...args: string[]): string {
    return execFileSync('ctr', ['--address', this.socket, '--namespace', 'k8s.io', ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  }

  /** Copies a podman image into the node's containerd (as a registry pull would, without one). */
  importImage(ref: string): void {
    const archive = join(this.dir, 'image.tar');
    podman('save', '--quiet', '--format', 'oci-archive', '-o', archive, ref);
    this.ctr('images', 'import', archive);
    rmSync(archive, { force: true });
  }

  /** Starts containerd, the kubelet (registering NODE_NAME), kube-scheduler and kube-proxy against `cp`, and waits for the node to be Ready. */
  static async start(o: { cp: ControlPlane; images?: string[]; log?: (line: string) => void; lockTimeoutMs?: number }): Promise<TestNode> {
    const binDir = nodeBinDir();
    if (!binDir) throw new Error('no node binaries: bash hack/node/build.sh');
    await takeLock(o.lockTimeoutMs ?? 600_000);
    const node = new TestNode(mkdtempSync(join(tmpdir(), 'miniapps-node-')), binDir, o.log ?? (() => {}));
    try {
      await node.startAll(o.cp, o.images ?? []);
      return node;
    } catch (err) {
      await node.stop();
      throw err;
    }
  }

  private spawn(name: string, command: string, args: string[]): ManagedProcess {
    const p = new ManagedProcess({ name, command, args, logPath: join(this.dir, `${name}.log`), cwd: this.dir });
    p.start();
    this.procs.push(p);
    return p;
  }

  private async startAll(cp: ControlPlane, images: string[]): Promise<void> {
    const d = this.dir;
    // containerd: its own root, state and socket. restrict_oom_score_adj: the kubelet asks for
    // negative OOM scores (-998 for a sandbox), which needs CAP_SYS_RESOURCE, absent here; runc
    // fails with "can't get final child's PID from pipe: EOF" without it.
    mkdirSync(join(d, 'cni'));
    writeFileSync(
      join(d, 'containerd.toml'),
      `version = 2
root = "${d}/containerd/root"
state = "${d}/containerd/state"
[grpc]
  address = "${this.socket}"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${PAUSE_IMAGE}"
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${CNI_BIN}"
    conf_dir = "${d}/cni"
`,
    );
    writeFileSync(
      join(d, 'cni', '10-bridge.conflist'),
      JSON.stringify({
        cniVersion: '0.4.0',
        name: 'miniapps-node',
        plugins: [
          { type: 'bridge', bridge: BRIDGE, isGateway: true, ipMasq: true, ipam: { type: 'host-local', dataDir: join(d, 'ipam'), ranges: [[{ subnet: POD_CIDR }]], routes: [{ dst: '0.0.0.0/0' }] } },
          { type: 'portmap', capabilities: { portMappings: true } },
        ],
      }),
    );
    const containerd = this.spawn('containerd', 'containerd', ['--config', join(d, 'containerd.toml')]);
    await eventually(() => containerd.failure() ?? (existsSync(this.socket) && spawnSync('ctr', ['--address', this.socket, 'version'], { stdio: 'ignore' }).status === 0), {
      timeoutMs: 30_000,
      describe: 'containerd answering on its socket',
    }).then((r) => {
      if (r instanceof Error) throw r;
    });

    // The sandbox ("pause") image: hack/node/build.sh's static pause, in an image of its own.
    const ctx = join(d, 'pause-image');
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'pause'), readFileSync(join(this.binDir, 'pause')), { mode: 0o755 });
    writeFileSync(join(ctx, 'Containerfile'), 'FROM scratch\nCOPY pause /pause\nUSER 65535:65535\nENTRYPOINT ["/pause"]\n');
    podman('build', '--quiet', '--timestamp', '0', '-t', PAUSE_IMAGE, ctx);
    for (const ref of [PAUSE_IMAGE, ...images]) this.importImage(ref);

    // The kubelet: cgroup v1 here (failCgroupV1 false: 1.35 refuses it by default), no swap
    // check, its API on loopback; it acts with the admin kubeconfig (a test cluster's node).
    const [kubeletPort, healthzPort, proxyHealthz, proxyMetrics] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    writeFileSync(
      join(d, 'kubelet.yaml'),
      [
        'apiVersion: kubelet.config.k8s.io/v1beta1',
        'kind: KubeletConfiguration',
        'authentication: {anonymous: {enabled: false}, webhook: {enabled: false}}',
        'authorization: {mode: AlwaysAllow}',
        'cgroupDriver: cgroupfs',
        'failCgroupV1: false',
        'failSwapOn: false',
        `containerRuntimeEndpoint: unix://${this.socket}`,
        'address: 127.0.0.1',
        `port: ${kubeletPort}`,
        'readOnlyPort: 0',
        `healthzPort: ${healthzPort}`,
        'healthzBindAddress: 127.0.0.1',
        'resolvConf: /etc/resolv.conf',
        'makeIPTablesUtilChains: false',
        'imageGCHighThresholdPercent: 100',
        'evictionHard: {}',
        '',
      ].join('\n'),
    );
    this.spawn('kubelet', join(this.binDir, 'kubelet'), [
      `--config=${join(d, 'kubelet.yaml')}`,
      `--kubeconfig=${cp.kubeconfigPath}`,
      `--root-dir=${join(d, 'kubelet')}`,
      `--cert-dir=${join(d, 'kubelet', 'pki')}`,
      `--hostname-override=${NODE_NAME}`,
    ]);
    this.spawn('kube-scheduler', join(this.binDir, 'kube-scheduler'), [`--kubeconfig=${cp.kubeconfigPath}`, '--leader-elect=false', '--secure-port=0']);
    this.spawn('kube-proxy', join(this.binDir, 'kube-proxy'), [
      `--kubeconfig=${cp.kubeconfigPath}`,
      `--hostname-override=${NODE_NAME}`,
      '--proxy-mode=iptables',
      `--cluster-cidr=${POD_CIDR}`,
      // Leave the machine's sysctls alone: conntrack sizes and timeouts, and route_localnet
      // (which NodePorts on 127.0.0.1 would need).
      '--conntrack-max-per-core=0',
      '--conntrack-tcp-timeout-established=0',
      '--conntrack-tcp-timeout-close-wait=0',
      '--iptables-localhost-nodeports=false',
      `--healthz-bind-address=127.0.0.1:${proxyHealthz}`,
      `--metrics-bind-address=127.0.0.1:${proxyMetrics}`,
    ]);
    await eventually(
      () => {
        const dead = this.procs.map((p) => p.failure()).find(Boolean);
        if (dead) return dead;
        const out = spawnSync(
          join(cp.binDir, 'kubectl'),
          ['--kubeconfig', cp.kubeconfigPath, 'get', 'node', NODE_NAME, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status} {.spec.taints}'],
          { encoding: 'utf8' },
        );
        return out.stdout.startsWith('True') && !out.stdout.includes('not-ready');
      },
      { timeoutMs: 90_000, describe: `node ${NODE_NAME} Ready and untainted` },
    ).then((r) => {
      if (r instanceof Error) throw r;
    });
    this.log(`[node] ${NODE_NAME} Ready (containerd, kubelet, kube-proxy, kube-scheduler in ${d})`);
  }

  /** Stops every container and component, removes kube-proxy's rules, the bridge, the mounts and the directory, and releases the lock. */
  async stop(): Promise<void> {
    const quiet = (cmd: string, args: string[]) => spawnSync(cmd, args, { stdio: 'ignore', timeout: 60_000 });
    const byName = (n: string) => this.procs.find((p) => p.name === n);
    for (const n of ['kube-scheduler', 'kube-proxy', 'kubelet']) await byName(n)?.stop();
    // The pods' containers, then containerd and its shims (which outlive it by design).
    if (byName('containerd')?.running) {
      for (const id of (spawnSync('ctr', ['--address', this.socket, '--namespace', 'k8s.io', 'tasks', 'ls', '-q'], { encoding: 'utf8' }).stdout ?? '').split('\n').filter(Boolean)) {
        quiet('ctr', ['--address', this.socket, '--namespace', 'k8s.io', 'tasks', 'kill', '--signal', 'SIGKILL', id]);
      }
      await new Promise((r) => setTimeout(r, 1000));
      for (const id of (spawnSync('ctr', ['--address', this.socket, '--namespace', 'k8s.io', 'tasks', 'ls', '-q'], { encoding: 'utf8' }).stdout ?? '').split('\n').filter(Boolean)) {
        quiet('ctr', ['--address', this.socket, '--namespace', 'k8s.io', 'tasks', 'delete', '--force', id]);
      }
    }
    await byName('containerd')?.stop();
    // A shim may exit between the listing and the kill (ESRCH): the cleanup below must still run.
    for (const pid of shimsOf(this.socket)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    if (existsSync(join(this.binDir, 'kube-proxy'))) quiet(join(this.binDir, 'kube-proxy'), ['--cleanup', '--proxy-mode=iptables']);
    quiet('ip', ['link', 'delete', BRIDGE]);
    // Whatever the kubelet and containerd left mounted under the directory (deepest first).
    const mounts = readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[1] ?? '')
      .filter((m) => m.startsWith(`${this.dir}/`))
      .sort((a, b) => b.length - a.length);
    for (const m of mounts) quiet('umount', ['-l', m]);
    // The pods' network namespaces, which the CNI removes only when the kubelet stops a sandbox.
    for (const n of existsSync(NETNS) ? readdirSync(NETNS) : []) {
      if (!n.startsWith('cni-') || this.netnsBefore.has(n)) continue;
      quiet('umount', [join(NETNS, n)]);
      rmSync(join(NETNS, n), { force: true });
    }
    for (const dir of [POD_LOGS, CONTAINER_LOGS]) {
      for (const e of existsSync(dir) ? readdirSync(dir) : []) if (!this.podLogsBefore.has(join(dir, e))) rmSync(join(dir, e), { recursive: true, force: true });
    }
    rmSync(this.dir, { recursive: true, force: true });
    if (existsSync(join(LOCK, 'pid')) && readFileSync(join(LOCK, 'pid'), 'utf8') === String(process.pid)) rmSync(LOCK, { recursive: true, force: true });
  }
}
