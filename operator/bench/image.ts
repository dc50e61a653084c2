// `npm run bench -- --scenario=image`: the operator's image, its size and how long it
// takes from `podman run` to Ready when run as the chart's Deployment runs it.
//
// The image is this checkout's (`npm run image`, hack/image/build.sh: a layer-cache hit
// when it is already built). Its size uncompressed is podman's (the layers as unpacked
// on a node); compressed is what a registry stores and a node pulls: the image copied to
// an OCI layout with gzip layers (as `podman push` sends them), the layers' and the
// config's bytes. Then the chart is installed (helm, crds off: the bench's control plane
// has them) with that image, and the Deployment is run `--starts` times by
// operator/testenv/pod.ts, the runner image.itest uses (podman as the kubelet: the user,
// read-only root, dropped capabilities, memory limit, environment, arguments and the
// ServiceAccount's token as the Deployment gives them); each start is timed from `podman
// run` to the readiness probe's first 200 (polled every 50 ms), then stopped with SIGTERM
// as the kubelet stops a pod, and timed to its exit.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { VERSION } from '../runtime/version.ts';
import { REPO_ROOT } from '../testenv/controlplane.ts';
import { planPod, podman, readyAfter, startPod } from '../testenv/pod.ts';
import { findTool, run } from '../testenv/tools.ts';
import { round } from './organizations.ts';
import type { BenchContext, Scenario, ScenarioResult } from './scenario.ts';

/** Targets: a node pulls under 70 MB, unpacks under 200 MB, and the operator is Ready within 5 s of its start. */
export const IMAGE_TARGETS = { compressedMB: 70, uncompressedMB: 200, readySeconds: 5 } as const;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** The image's bytes as a registry stores them: gzip layers and the config, from an OCI layout podman writes. */
function compressedBytes(image: string, dir: string): number {
  podman('push', '--quiet', '--compression-format', 'gzip', image, `oci:${dir}:image`);
  const blob = (digest: string) => join(dir, 'blobs', ...digest.split(':'));
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const manifest = JSON.parse(readFileSync(blob(index.manifests[0]!.digest), 'utf8')) as { config: { size: number; mediaType: string }; layers: { size: number; mediaType: string }[] };
  const notGzip = manifest.layers.filter((l) => !l.mediaType.endsWith('+gzip'));
  if (notGzip.length > 0) throw new Error(`layers not gzip-compressed in the OCI layout: ${notGzip.map((l) => l.mediaType).join(', ')}`);
  return manifest.config.size + manifest.layers.reduce((sum, l) => sum + l.size, 0);
}

export const image: Scenario = {
  name: 'image',
  description: "the operator's image: its size compressed and unpacked, and podman run to Ready as the chart's Deployment runs it",
  sizes: { starts: { default: 5, help: 'times the Deployment is started and stopped' } },
  n: (s) => s.starts!,
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const helm = findTool('helm');
    if (!helm) throw new Error('helm is needed to render the Deployment: npm run tools:build');
    ctx.log('[image] npm run image (a layer-cache hit when this checkout is built)');
    const ref = execFileSync('bash', [join(REPO_ROOT, 'hack/image/build.sh')], { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
      .trim()
      .split('\n')
      .at(-1)!;
    const work = mkdtempSync(join(tmpdir(), 'bench-image-'));
    ctx.defer('remove the work directory', async () => rmSync(work, { recursive: true, force: true }));

    const uncompressed = Number(podman('image', 'inspect', '--format', '{{.Size}}', ref));
    ctx.log(`[image] ${ref}: ${(uncompressed / 1e6).toFixed(1)} MB unpacked; writing it with gzip layers`);
    const compressed = compressedBytes(ref, join(work, 'oci'));
    rmSync(join(work, 'oci'), { recursive: true, force: true });
    const layers = (JSON.parse(podman('image', 'inspect', ref)) as { RootFS: { Layers: string[] } }[])[0]!.RootFS.Layers.length;

    // The chart with this image, as a user installs it.
    const release = `bench-${ctx.runId}`;
    const namespace = `bench-${ctx.runId}-system`;
    const [repository, tag] = [ref.slice(0, ref.lastIndexOf(':')), ref.slice(ref.lastIndexOf(':') + 1)];
    run(helm, [
      'install',
      release,
      join(REPO_ROOT, 'charts/miniapps-operator'),
      '--namespace',
      namespace,
      '--create-namespace',
      '--set',
      `image.repository=${repository}`,
      '--set',
      `image.tag=${tag}`,
      '--set',
      'crds.enabled=false',
      '--kubeconfig',
      ctx.kubeconfig,
    ]);
    if (!ctx.disposableCluster)
      ctx.defer('uninstall the chart', async () => {
        run(helm, ['uninstall', release, '--namespace', namespace, '--kubeconfig', ctx.kubeconfig]);
        await ctx.client.request('DELETE', `/api/v1/namespaces/${namespace}`);
      });
    const kubeconfig = parse(readFileSync(ctx.kubeconfig, 'utf8')) as { clusters: { cluster: { server: string; 'certificate-authority-data': string } }[] };
    const cluster = kubeconfig.clusters[0]!.cluster;
    const plan = await planPod({
      admin: ctx.client,
      server: cluster.server,
      caPEM: Buffer.from(cluster['certificate-authority-data'], 'base64').toString(),
      namespace,
      deployment: `${release}-miniapps-operator`,
      work,
    });
    // The options without the environment's values (--env NAME=value pairs).
    const shown = plan.options.filter((o, i) => o !== '--env' && plan.options[i - 1] !== '--env');
    ctx.log(`[image] the Deployment as podman run: ${shown.join(' ')} (and ${Object.keys(plan.env).length} environment variables)`);

    const ready: number[] = [];
    const stopped: number[] = [];
    for (let i = 0; i < ctx.n; i++) {
      const name = `miniapps-bench-image-${ctx.runId}-${i}`;
      const pod = startPod(plan, ref, name);
      ctx.defer(`remove container ${name}`, async () => {
        pod.kill();
        try {
          podman('rm', '--force', '--time', '0', name);
        } catch {
          /* gone */
        }
      });
      ready.push(await readyAfter(plan, pod, { timeoutMs: 120_000 }));
      const stopAt = Date.now();
      podman('kill', '--signal', 'TERM', name);
      const code = await pod.exited;
      stopped.push(Date.now() - stopAt);
      if (code !== 0) throw new Error(`start ${i + 1}: exit ${code} after SIGTERM; last lines:\n${pod.logs.slice(-10).join('\n')}`);
      ctx.log(`[image] start ${i + 1}/${ctx.n}: Ready after ${(ready[i]! / 1000).toFixed(2)} s, exited 0 ${(stopped[i]! / 1000).toFixed(2)} s after SIGTERM`);
    }

    const MB = (b: number) => round(b / 1e6, 1);
    const s = (ms: number) => round(ms / 1000, 2);
    const met = (ok: boolean) => (ok ? 'met' : 'MISSED');
    const readyMedian = median(ready);
    return {
      table: [
        {
          phase: `image ${ref}`,
          figures: [
            { label: 'compressed (gzip layers and config)', value: MB(compressed), unit: `MB (target < ${IMAGE_TARGETS.compressedMB}: ${met(compressed / 1e6 < IMAGE_TARGETS.compressedMB)})` },
            { label: 'uncompressed (podman)', value: MB(uncompressed), unit: `MB (target < ${IMAGE_TARGETS.uncompressedMB}: ${met(uncompressed / 1e6 < IMAGE_TARGETS.uncompressedMB)})` },
            { label: 'layers', value: layers },
          ],
        },
        {
          phase: `the chart's Deployment run by podman, ${ctx.n} starts`,
          figures: [
            { label: 'podman run to Ready, median', value: s(readyMedian), unit: `s (target < ${IMAGE_TARGETS.readySeconds}: ${met(readyMedian / 1000 < IMAGE_TARGETS.readySeconds)})` },
            { label: 'podman run to Ready, first', value: s(ready[0]!), unit: 's' },
            { label: 'podman run to Ready, slowest', value: s(Math.max(...ready)), unit: 's' },
            { label: 'SIGTERM to exit 0, median', value: s(median(stopped)), unit: 's' },
          ],
        },
      ],
      summary: {
        bench: 'image',
        n: ctx.n,
        image: ref,
        version: VERSION,
        compressedMB: MB(compressed),
        uncompressedMB: MB(uncompressed),
        layers,
        readyMedianSeconds: s(readyMedian),
        readyFirstSeconds: s(ready[0]!),
        readyMaxSeconds: s(Math.max(...ready)),
        stopMedianSeconds: s(median(stopped)),
        targetsMet: compressed / 1e6 < IMAGE_TARGETS.compressedMB && uncompressed / 1e6 < IMAGE_TARGETS.uncompressedMB && readyMedian / 1000 < IMAGE_TARGETS.readySeconds,
      },
    };
  },
};
