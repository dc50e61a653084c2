// Where the webhook listener's serving certificate comes from (controller-runtime's
// certwatcher reads files; cert-manager's issuers write Secrets): a directory (read only), a
// Secret in cert-manager's layout (read, and written with a compare-and-swap in the
// generated mode), or this process's memory. Reading and writing only: when to write is
// rotation.ts's decision.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rfc3339 } from '../clock.ts';
import { isAlreadyExists, isConflict, isNotFound } from '../errors.ts';
import type { KubeClient } from '../kube/client.ts';
import { Resources } from '../kube/resource.ts';
import type { SecretObject } from '../secret-document.ts';

/** What the listener serves, and the CA bundle that verifies it. */
export interface ServingMaterial {
  certPEM: string;
  keyPEM: string;
  /** The CA bundle (ca.crt): one CA, or two while a CA is being replaced. */
  caPEM: string;
}

/** What the generated mode keeps: the serving pair, the CA bundle, the key of the newest CA, and when that bundle reached the webhook configuration. */
export interface CertState {
  certPEM?: string;
  keyPEM?: string;
  caPEM?: string;
  caKeyPEM?: string;
  /** Epoch ms when the current bundle was seen in the webhook configuration (undefined: not yet). */
  publishedAt?: number;
}

/** Where the serving certificate is kept: read (with a version for compare-and-swap) and, in the generated mode, written. */
export interface CertStore {
  readonly describe: string;
  /** The metrics' source label. */
  readonly source: 'secret' | 'directory' | 'memory';
  read(): Promise<{ state: CertState; version?: string }>;
  /** Writes when `version` is still current; false when another writer came first. */
  write?(next: CertState, version: string | undefined): Promise<boolean>;
}

/** tls.crt, tls.key and ca.crt of a directory (a mounted Secret, a local control plane's files); read only. */
export class DirectoryStore implements CertStore {
  readonly describe: string;
  readonly source = 'directory';
  private readonly dir: string;
  constructor(dir: string) {
    this.dir = dir;
    this.describe = `directory ${dir}`;
  }
  read(): Promise<{ state: CertState }> {
    const read = (f: string) => (existsSync(join(this.dir, f)) ? readFileSync(join(this.dir, f), 'utf8') : undefined);
    return Promise.resolve({ state: { certPEM: read('tls.crt'), keyPEM: read('tls.key'), caPEM: read('ca.crt') } });
  }
}

/** Annotation of the generated Secret: when its CA bundle was seen in the webhook configuration. */
export const PUBLISHED_ANNOTATION = 'miniapps.dev/ca-bundle-published-at';

/** The annotation's time; a value that is not one (edited by hand) reads as never published, so the leader publishes again. */
function publishedTime(value: string | undefined): number | undefined {
  const t = value ? Date.parse(value) : NaN;
  return Number.isFinite(t) ? t : undefined;
}

/** A Secret with tls.crt, tls.key, ca.crt (and, generated, ca.key): cert-manager's layout. */
export class SecretStore implements CertStore {
  readonly describe: string;
  readonly source = 'secret';
  private readonly client: KubeClient;
  private readonly ref: { namespace: string; name: string };
  constructor(client: KubeClient, ref: { namespace: string; name: string }) {
    this.client = client;
    this.ref = ref;
    this.describe = `Secret ${ref.namespace}/${ref.name}`;
  }

  async read(): Promise<{ state: CertState; version?: string }> {
    const secret = await this.client.get<SecretObject>(Resources.Secret, this.ref.name, this.ref.namespace);
    const get = (k: string) => (secret?.data?.[k] ? Buffer.from(secret.data[k], 'base64').toString('utf8') : undefined);
    const published = secret?.metadata.annotations?.[PUBLISHED_ANNOTATION];
    return {
      state: { certPEM: get('tls.crt'), keyPEM: get('tls.key'), caPEM: get('ca.crt'), caKeyPEM: get('ca.key'), publishedAt: publishedTime(published) },
      version: secret ? (secret.metadata.resourceVersion ?? '') : undefined,
    };
  }

  async write(next: CertState, version: string | undefined): Promise<boolean> {
    const b64 = (s: string | undefined) => Buffer.from(s ?? '').toString('base64');
    const data = { 'tls.crt': b64(next.certPEM), 'tls.key': b64(next.keyPEM), 'ca.crt': b64(next.caPEM), 'ca.key': b64(next.caKeyPEM) };
    const annotations = { [PUBLISHED_ANNOTATION]: next.publishedAt === undefined ? null : rfc3339(new Date(next.publishedAt)) };
    try {
      if (version === undefined) {
        // None yet (out of cluster; in cluster the chart makes an empty one): a POST, so two first starts make one.
        await this.client.create(Resources.Secret, {
          apiVersion: 'v1',
          kind: 'Secret',
          type: 'Opaque',
          metadata: {
            name: this.ref.name,
            namespace: this.ref.namespace,
            labels: { 'app.kubernetes.io/managed-by': 'miniapps-operator', 'app.kubernetes.io/component': 'webhook' },
            ...(next.publishedAt === undefined ? {} : { annotations: { [PUBLISHED_ANNOTATION]: rfc3339(new Date(next.publishedAt)) } }),
          },
          data,
        });
      } else {
        // A merge patch of the data and the annotation only (the chart owns the rest), conditional on the version read.
        await this.client.patch(Resources.Secret, this.ref.name, this.ref.namespace, { metadata: { resourceVersion: version, annotations }, data }, 'merge');
      }
      return true;
    } catch (err) {
      if (isConflict(err) || isAlreadyExists(err) || isNotFound(err)) return false;
      throw err;
    }
  }
}

/** The generated mode out of cluster without a Secret: this process's memory. */
export class MemoryStore implements CertStore {
  readonly describe = 'memory (generated for this process)';
  readonly source = 'memory';
  private state: CertState = {};
  private version = 0;
  read(): Promise<{ state: CertState; version: string }> {
    return Promise.resolve({ state: this.state, version: String(this.version) });
  }
  write(next: CertState, version: string | undefined): Promise<boolean> {
    if (version !== String(this.version)) return Promise.resolve(false);
    this.state = next;
    this.version++;
    return Promise.resolve(true);
  }
}
