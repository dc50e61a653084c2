// The chart's Pod run for real: a node of the control plane's own Kubernetes
// (operator/testenv/node.ts: kubelet, kube-proxy and kube-scheduler from hack/node, Debian's
// containerd and runc) runs the operator's image as the chart's Deployment says. The
// scheduler places the Pod, the kubelet starts it with the ServiceAccount token the API
// server mounts, the operator reaches the API server through the "kubernetes" Service
// (kube-proxy's rules), takes the leader lease as its Pod, the kubelet's readiness probe
// makes the Deployment Available, and the API server calls the webhook through its Service
// (a refusal only the webhook gives). Deleting the Pod, the kubelet stops it with SIGTERM and
// the ReplicaSet starts another that becomes Ready too.
//
// It needs root, containerd, runc, iptables, the CNI plugins, podman and the image
// (`npm run image`), and the node binaries (bash hack/node/build.sh); where any is missing
// it is skipped, saying which (docs/design/kubelet.md); under CI as root (.ci/run, which
// provides them) it fails instead.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERSION } from '../runtime/version.ts';
import { ControlPlane, eventually } from '../testenv/index.ts';
import { hostAddress, NODE_NAME, nodeMissing, TestNode } from '../testenv/node.ts';
import { findTool, run, toolsRequired } from '../testenv/tools.ts';
import { kubectlOn } from './helpers.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const IMAGE = `localhost/miniapps-operator:${VERSION}`;
const imagePresent = () => {
  try {
    execFileSync('podman', ['image', 'exists', IMAGE]);
    return true;
  } catch {
    return false;
  }
};
const missing = nodeMissing();
if (missing.length === 0 && !imagePresent()) missing.push(`the image ${IMAGE}: npm run image`);
const helmBin = missing.length === 0 ? findTool('helm') : undefined;
if (missing.length === 0 && !helmBin) missing.push('helm: npm run tools:build');
if (missing.length > 0) {
  const message = `this machine lacks ${missing.join('; ')}`;
  // .ci/run provides all of it (as root): there a missing piece fails rather than skips.
  if (toolsRequired() && process.getuid?.() === 0) throw new Error(`node.itest: ${message}; CI is set, so it fails instead of skipping`);
  console.warn(`node.itest skipped: ${message}`);
}

const ns = 'miniapps-system';
const release = 'node';
const fullname = `${release}-miniapps-operator`;
let cp: ControlPlane;
let node: TestNode;

beforeAll(async () => {
  if (missing.length > 0) return;
  cp = await ControlPlane.start({ crdDir: join(ROOT, 'crds'), podNetwork: { advertiseAddress: hostAddress()! } });
  node = await TestNode.start({ cp, images: [IMAGE], log: (l) => console.log(l) });
}, 600_000);

afterAll(async () => {
  await node?.stop();
  await cp?.stop();
}, 180_000);

describe.skipIf(missing.length > 0)('the chart on a real node', () => {
  const kubectl = async (...args: string[]) => {
    const r = await kubectlOn(cp, args);
    if (r.exitCode !== 0) throw new Error(`kubectl ${args.join(' ')} (exit ${r.exitCode}): ${r.stderr}`);
    return r.stdout;
  };
  const pods = async () =>
    JSON.parse(await kubectl('get', 'pods', '-n', ns, '-l', 'app.kubernetes.io/component=controller', '-o', 'json')).items as {
      metadata: { name: string; deletionTimestamp?: string };
      spec: { nodeName?: string; serviceAccountName: string; containers: { image: string }[] };
      status: { podIP?: string; conditions?: { type: string; status: string }[] };
    }[];
  const ready = (p: Awaited<ReturnType<typeof pods>>[number]) => !p.metadata.deletionTimestamp && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

  it('is scheduled, started and probed by the kubelet: the Deployment is Available, its Pod holds the leader lease as its ServiceAccount, and the API server calls its webhook through the Service', async () => {
    run(helmBin!, [
      'install',
      release,
      join(ROOT, 'charts/miniapps-operator'),
      '--namespace',
      ns,
      '--create-namespace',
      '--set',
      'image.repository=localhost/miniapps-operator',
      '--set',
      `image.tag=${VERSION}`,
      '--set',
      'image.pullPolicy=Never',
      '--set',
      'replicaCount=1',
      '--set',
      'crds.enabled=false',
      '--kubeconfig',
      cp.kubeconfigPath,
    ]);
    const started = Date.now();
    await kubectl('wait', '--for=condition=Available', `deployment/${fullname}`, '-n', ns, '--timeout=300s').catch(async (err: unknown) => {
      // What the kubelet saw, and what the container wrote (the kubelet keeps it under /var/log/pods).
      const described = (await kubectlOn(cp, ['describe', 'pods', '-n', ns])).stdout;
      const logs = execFileSync('sh', ['-c', `tail -n 20 /var/log/pods/${ns}_*/*/*.log 2>/dev/null || true`], { encoding: 'utf8' });
      throw new Error(`${String(err)}\n${described}\n${logs}`);
    });
    console.log(`[node] Deployment Available ${((Date.now() - started) / 1000).toFixed(1)} s after helm install`);
    const [pod] = (await pods()).filter(ready);
    expect(pod, 'a Ready pod').toBeDefined();
    expect(pod!.spec.nodeName).toBe(NODE_NAME);
    expect(pod!.status.podIP).toMatch(/^10\.244\.0\./);
    expect(pod!.spec.containers[0]!.image).toBe(`localhost/miniapps-operator:${VERSION}`);

    // Its API calls came through 10.0.0.1 with its own token: the leader lease names its Pod.
    const holder = await eventually(async () => JSON.parse(await kubectl('get', 'lease', 'miniapps-operator', '-n', ns, '-o', 'json')).spec.holderIdentity as string, {
      timeoutMs: 60_000,
      describe: 'the leader lease',
    });
    expect(holder.startsWith(`${pod!.metadata.name}_`)).toBe(true);

    // The webhook, as the API server calls it: the operator's refusal (only it knows namespaces' organizations).
    await kubectl('apply', '-f', join(ROOT, 'examples/00-platformconfig.yaml'));
    const key = JSON.stringify({
      apiVersion: 'miniapps.dev/v1alpha1',
      kind: 'ApiKey',
      metadata: { name: 'node-test', namespace: 'default' },
      spec: { owner: 'platform-admin@example.com', ttl: '720h' },
    });
    const refusal = await eventually(
      async () => {
        const r = await kubectlOn(cp, ['create', '--dry-run=server', '-f', '-'], key);
        return r.stderr.includes('admission webhook "validate.miniapps.dev" denied') ? r.stderr : false;
      },
      { timeoutMs: 60_000, describe: "the webhook's refusal through the API server" },
    );
    expect(refusal).toContain('belongs to no Organization');
  }, 420_000);

  it('deleted, the Pod is stopped by the kubelet and its replacement becomes Ready', async () => {
    const [before] = (await pods()).filter(ready);
    expect(before).toBeDefined();
    await kubectl('delete', 'pod', before!.metadata.name, '-n', ns, '--wait=true', '--timeout=120s');
    const after = await eventually(async () => (await pods()).find((p) => ready(p) && p.metadata.name !== before!.metadata.name) ?? false, {
      timeoutMs: 180_000,
      describe: 'a new Ready pod',
    });
    expect(after.spec.nodeName).toBe(NODE_NAME);
  }, 300_000);
});
