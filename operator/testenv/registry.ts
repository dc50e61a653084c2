// A local OCI registry for tests: distribution's `registry` (built by hack/tools/build.sh)
// on a loopback port, over TLS with a certificate of its own CA, storing into a temporary
// directory. Image and chart clients reach it as they reach any registry:
//
//   const reg = await TestRegistry.start(registryBin);
//   podman push --cert-dir reg.certDir IMAGE reg.host/name:tag
//   helm push chart.tgz oci://reg.host/charts --ca-file reg.caFile
//   SSL_CERT_FILE=reg.caBundle cosign sign ...
//   await reg.stop();
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCA, issueCertificate } from '../runtime/pki.ts';
import { eventually, freePort } from './eventually.ts';
import { ManagedProcess } from './process.ts';

export class TestRegistry {
  /** 127.0.0.1:<port> */
  readonly host: string;
  /** The registry's CA certificate (PEM). */
  readonly caFile: string;
  /** A directory with ca.crt, as podman's --cert-dir and containers' certs.d read it. */
  readonly certDir: string;
  /** The machine's CA bundle plus the registry's CA, for Go clients (SSL_CERT_FILE). */
  readonly caBundle: string;
  private readonly proc: ManagedProcess;
  private readonly dir: string;

  private constructor(o: { proc: ManagedProcess; dir: string; host: string; caFile: string; certDir: string; caBundle: string }) {
    this.proc = o.proc;
    this.dir = o.dir;
    this.host = o.host;
    this.caFile = o.caFile;
    this.certDir = o.certDir;
    this.caBundle = o.caBundle;
  }

  static async start(binary: string): Promise<TestRegistry> {
    const dir = mkdtempSync(join(tmpdir(), 'miniapps-registry-'));
    const port = await freePort();
    const host = `127.0.0.1:${port}`;
    const ca = createCA('miniapps-test-registry-ca', 2);
    const serving = issueCertificate({ ca, commonName: 'registry', ipAddresses: ['127.0.0.1'], dnsNames: ['localhost'], usages: 'server', validityDays: 1 });
    const caFile = join(dir, 'ca.crt');
    writeFileSync(caFile, ca.certPEM);
    writeFileSync(join(dir, 'tls.crt'), serving.certPEM);
    writeFileSync(join(dir, 'tls.key'), serving.keyPEM);
    const certDir = join(dir, 'certs.d');
    mkdirSync(certDir);
    writeFileSync(join(certDir, 'ca.crt'), ca.certPEM);
    let system = '';
    try {
      system = readFileSync(process.env.SSL_CERT_FILE || '/etc/ssl/certs/ca-certificates.crt', 'utf8');
    } catch {
      /* no system bundle: the registry's CA alone */
    }
    const caBundle = join(dir, 'ca-bundle.crt');
    writeFileSync(caBundle, `${system}\n${ca.certPEM}`);
    const config = join(dir, 'config.yml');
    writeFileSync(
      config,
      JSON.stringify({
        version: 0.1,
        log: { level: 'warn', accesslog: { disabled: true } },
        storage: { filesystem: { rootdirectory: join(dir, 'data') }, delete: { enabled: true } },
        http: { addr: host, tls: { certificate: join(dir, 'tls.crt'), key: join(dir, 'tls.key') } },
      }),
    );
    const proc = new ManagedProcess({ name: 'registry', command: binary, args: ['serve', config], logPath: join(dir, 'registry.log'), env: { ...process.env, OTEL_TRACES_EXPORTER: 'none' } });
    proc.start();
    const registry = new TestRegistry({ proc, dir, host, caFile, certDir, caBundle });
    await eventually(() => registry.ping(), { timeoutMs: 30_000, describe: `the registry answering on https://${host}/v2/` });
    return registry;
  }

  /** Whether GET /v2/ answers 200 (the OCI distribution API's base). */
  ping(): Promise<boolean> {
    return new Promise((resolve) => {
      const req = request({ host: '127.0.0.1', port: Number(this.host.split(':')[1]), path: '/v2/', ca: readFileSync(this.caFile), timeout: 2000 }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on('error', () => resolve(false));
      req.on('timeout', () => req.destroy());
      req.end();
    });
  }

  async stop(): Promise<void> {
    await this.proc.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
