// The webhook listener's serving certificate: where it comes from, how a new one is picked
// up without a restart, and, when the operator generates it, how it is rotated before it
// expires.
//
// Sources (--webhook-cert-dir, --webhook-cert-secret, or generated in memory) are read
// again every --webhook-cert-check-interval, as controller-runtime's certwatcher polls its
// files: a certificate that cert-manager renewed into the Secret, or a kubelet refreshed in
// the mounted directory, is served from the next read on (tls.Server#setSecureContext:
// handshakes from then on get it, connections already open finish on the old one, no call
// is dropped).
//
// Generated mode (--webhook-cert-rotate with --webhook-cert-secret; always for the
// in-memory certificate out of cluster): the operator keeps a CA (ca.crt, ca.key) and a
// serving certificate signed by it (tls.crt, tls.key) in its Secret, as
// open-policy-agent/cert-controller does for Gatekeeper, and writes the CA bundle into the
// webhook configuration's caBundle. Unlike cert-controller, which makes a new CA and a new
// certificate in one step (the API server may then meet a certificate it cannot verify until
// it sees the new caBundle), the steps never leave the API server without a way to verify
// what is served:
// - the serving certificate is renewed `renewBefore` ahead of its expiry (cert-manager's
//   renewBefore), by the same CA: the caBundle does not change, old and new both verify;
// - the CA is renewed a third of its lifetime ahead of its expiry: the new CA is added to
//   the bundle beside the old one (which stays until it expires), the bundle is written
//   into the webhook configuration, and only `overlap` after that write is a serving
//   certificate of the new CA issued.
// Only the leader rotates (one writer of the Secret and the caBundle), each write a
// compare-and-swap on the Secret's resourceVersion; every replica serves what the Secret
// holds. A Secret with no usable certificate at all (first start) is filled by whichever
// process comes first (the others lose the compare-and-swap and read it).
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { rfc3339 } from '../runtime/clock.ts';
import type { Clock } from '../runtime/clock.ts';
import { errorMessage, isAlreadyExists, isConflict, isNotFound, isStatus } from '../runtime/errors.ts';
import type { KubeClient } from '../runtime/kube/client.ts';
import { Resources } from '../runtime/kube/resource.ts';
import type { SecretObject } from '../runtime/secret-document.ts';
import type { OperatorMetrics } from '../runtime/metrics.ts';
import { createCA, issueCertificate, keyMatches } from '../runtime/pki.ts';

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

export interface RotationPolicy {
  /** Lifetime of a serving certificate. */
  certDurationMs: number;
  /** How long before its expiry a serving certificate is replaced. */
  renewBeforeMs: number;
  /** Lifetime of a CA; it is replaced a third of it ahead of its expiry. */
  caDurationMs: number;
  /** Names the serving certificate is for. */
  dnsNames: string[];
  ipAddresses: string[];
}

/** How long a new CA's bundle has been in the webhook configuration before a certificate of that CA is served. */
export function overlapMs(p: RotationPolicy): number {
  return Math.min(p.renewBeforeMs / 2, 10 * 60_000);
}

const DAY_MS = 86_400_000;
const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g;

function certs(bundle: string | undefined): X509Certificate[] {
  const out: X509Certificate[] = [];
  for (const m of (bundle ?? '').match(PEM_CERT) ?? []) {
    try {
      out.push(new X509Certificate(m));
    } catch {
      // not a certificate: ignored, as an API server ignores it in a bundle
    }
  }
  return out;
}

const pemOf = (c: X509Certificate) => c.toString().replace(/\n?$/, '\n');
const expiry = (c: X509Certificate) => Date.parse(c.validTo);

function coversNames(cert: X509Certificate, p: RotationPolicy): boolean {
  return p.dnsNames.every((n) => cert.checkHost(n, { subject: 'never' }) !== undefined) && p.ipAddresses.every((ip) => cert.checkIP(ip) !== undefined);
}

/** The serving certificate as the listener and the API server see it. */
export interface Inspection {
  /** The newest CA (the bundle's first), when its key is at hand and it is not expired. */
  signing?: X509Certificate;
  /** The bundle's CAs that have not expired, newest first. */
  validCAs: X509Certificate[];
  leaf?: X509Certificate;
  /** The leaf pairs with its key, is for the policy's names, has not expired, and a CA of the bundle issued it. */
  leafUsable: boolean;
}

export function inspect(s: CertState, now: number, p: RotationPolicy): Inspection {
  const validCAs = certs(s.caPEM).filter((c) => expiry(c) > now);
  const first = certs(s.caPEM)[0];
  const signing = first && expiry(first) > now && keyMatches(first, s.caKeyPEM) ? first : undefined;
  let leaf: X509Certificate | undefined;
  try {
    leaf = s.certPEM ? new X509Certificate(s.certPEM) : undefined;
  } catch {
    leaf = undefined;
  }
  const leafUsable = !!leaf && expiry(leaf) > now && keyMatches(leaf, s.keyPEM) && coversNames(leaf, p) && validCAs.some((ca) => leaf!.checkIssued(ca) && leaf!.verify(ca.publicKey));
  return { signing, validCAs, leaf, leafUsable };
}

export type RotationStep = { write: false } | { write: true; next: CertState; reason: string };

/**
 * What the generated mode does now, from what the Secret holds: nothing, or the state to
 * write and why. `now` in epoch ms. Pure; the caller writes with compare-and-swap and
 * publishes the bundle (then records publishedAt).
 */
export function planRotation(s: CertState, now: number, p: RotationPolicy): RotationStep {
  const at = inspect(s, now, p);
  const issue = (ca: { certPEM: string; keyPEM: string }) =>
    issueCertificate({ ca, commonName: p.dnsNames[0] ?? p.ipAddresses[0] ?? 'miniapps-operator-webhook', dnsNames: p.dnsNames, ipAddresses: p.ipAddresses, usages: 'server', validityDays: p.certDurationMs / DAY_MS, now: new Date(now) });
  const caDue = !at.signing || expiry(at.signing) - now < p.caDurationMs / 3;
  if (caDue) {
    const ca = createCA('miniapps-operator-webhook-ca', p.caDurationMs / DAY_MS, new Date(now));
    // The old CAs stay in the bundle until they expire: a replica that still serves a
    // certificate of theirs is verified until it has read the new one.
    const caPEM = [ca.certPEM, ...at.validCAs.map(pemOf)].join('');
    // A replacement certificate comes from the CA already in the bundle while it has one
    // (caDue leaves it at least three certificate lifetimes): the new CA's waits for its publication.
    const leaf = at.leafUsable ? { certPEM: s.certPEM!, keyPEM: s.keyPEM! } : issue(at.signing ? { certPEM: pemOf(at.signing), keyPEM: s.caKeyPEM! } : ca);
    const why = !at.signing ? (at.leafUsable ? 'no CA key to renew the certificate with' : 'no usable certificate') : `the CA expires at ${rfc3339(new Date(expiry(at.signing)))}`;
    return { write: true, next: { ...leaf, caPEM, caKeyPEM: ca.keyPEM, publishedAt: undefined }, reason: `new CA (${why})` };
  }
  const signing = { certPEM: pemOf(at.signing!), keyPEM: s.caKeyPEM! };
  const caPEM = at.validCAs.map(pemOf).join('');
  if (!at.leafUsable) return { write: true, next: { ...s, ...issue(signing), caPEM }, reason: 'new certificate (none usable)' };
  const leaf = at.leaf!;
  const fromSigning = leaf.checkIssued(at.signing!) && leaf.verify(at.signing!.publicKey);
  const due = expiry(leaf) - now < p.renewBeforeMs;
  if (!due && fromSigning) return { write: false };
  // A renewal by the same CA changes nothing the API server trusts; a certificate of a new
  // CA waits until that CA's bundle has been in the webhook configuration for the overlap
  // (the current certificate is valid meanwhile: the overlap is at most half of renewBefore).
  const published = s.publishedAt !== undefined && now - s.publishedAt >= overlapMs(p);
  if (!fromSigning && !published) return { write: false };
  const why = fromSigning ? `the certificate expires at ${rfc3339(new Date(expiry(leaf)))}` : 'a certificate of the new CA';
  return { write: true, next: { ...s, ...issue(signing), caPEM }, reason: `new certificate (${why})` };
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
          metadata: { name: this.ref.name, namespace: this.ref.namespace, labels: { 'app.kubernetes.io/managed-by': 'miniapps-operator', 'app.kubernetes.io/component': 'webhook' }, ...(next.publishedAt === undefined ? {} : { annotations: { [PUBLISHED_ANNOTATION]: rfc3339(new Date(next.publishedAt)) } }) },
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

interface WebhookConfigurationLike {
  metadata: { resourceVersion?: string };
  webhooks?: { name: string; clientConfig?: { caBundle?: string; url?: string } }[];
}

/**
 * Writes `caPEM` into every webhook's caBundle of the ValidatingWebhookConfiguration `name`
 * (a JSON patch of those fields only, conditional on the version read). Returns whether the
 * configuration carries the bundle now; false when it does not exist. With `onlyForUrl`
 * (the operator's own registration out of cluster), a configuration that calls another URL
 * is left alone.
 */
export async function injectCaBundle(client: KubeClient, name: string, caPEM: string, onlyForUrl?: string): Promise<boolean> {
  const vwc = await client.get<WebhookConfigurationLike>(Resources.ValidatingWebhookConfiguration, name);
  if (!vwc) return false;
  // A registration another operator of the namespace replaced ours with calls it, not this process: its CA is its own.
  if (onlyForUrl !== undefined && !(vwc.webhooks ?? []).every((h) => h.clientConfig?.url === onlyForUrl)) return true;
  const bundle = Buffer.from(caPEM).toString('base64');
  const hooks = vwc.webhooks ?? [];
  const stale = hooks.map((h, i) => ({ h, i })).filter(({ h }) => h.clientConfig?.caBundle !== bundle);
  if (stale.length === 0) return hooks.length > 0;
  const ops = [
    { op: 'test', path: '/metadata/resourceVersion', value: vwc.metadata.resourceVersion },
    ...stale.map(({ i }) => ({ op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value: bundle })),
  ];
  try {
    await client.patch(Resources.ValidatingWebhookConfiguration, name, undefined, ops, 'json');
  } catch (err) {
    if (isConflict(err) || isStatus(err, 422)) return false; // changed since the read: the next check
    throw err;
  }
  return true;
}

export interface ServingCertificatesOptions {
  store: CertStore;
  log: Logger;
  clock: Clock;
  metrics?: OperatorMetrics;
  checkIntervalMs: number;
  /** The generated mode: how certificates are made, whether this process may rotate now (the leader), and where the bundle goes. */
  rotation?: {
    policy: RotationPolicy;
    mayRotate: () => boolean;
    /** Writes the bundle into the webhook configuration; whether it carries it now. None: nobody needs to be told (published at once). */
    publish?: (caPEM: string) => Promise<boolean>;
  };
}

/**
 * Keeps the listener on the current certificate: loads it (generating it first in the
 * generated mode), then checks every interval, rotating when due and handing a changed
 * certificate to `onChange` (the listener's setSecureContext).
 */
export class ServingCertificates {
  private readonly opts: ServingCertificatesOptions;
  private readonly log: Logger;
  private current?: ServingMaterial;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private onChange?: (m: ServingMaterial) => void;
  private stopped = false;

  constructor(opts: ServingCertificatesOptions) {
    this.opts = opts;
    this.log = opts.log.child({ component: 'webhook-certificate' });
  }

  /** The certificate to start the listener with; throws, saying where it looked, when there is none. */
  async load(): Promise<ServingMaterial> {
    await this.check(true);
    if (!this.current) {
      const where = this.opts.store.describe;
      throw new Error(`${where} holds no serving certificate (tls.crt and tls.key)${this.opts.rotation ? '' : '; with --webhook-cert-secret, set --webhook-cert-rotate to let the operator generate and rotate it'}`);
    }
    return this.current;
  }

  /** Checks every interval from now on; `onChange` gets each new certificate. */
  start(onChange: (m: ServingMaterial) => void): void {
    this.onChange = onChange;
    const tick = () => {
      if (this.stopped) return;
      this.running = this.check(false)
        .catch((err: unknown) => this.log.warn({ err: errorMessage(err), source: this.opts.store.describe }, 'Webhook certificate not checked; serving the one loaded before'))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.opts.checkIntervalMs);
        });
    };
    this.timer = setTimeout(tick, this.opts.checkIntervalMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One check: read, rotate if due (the leader, or anyone when nothing usable is there), publish, serve what is current. */
  private async check(first: boolean): Promise<void> {
    const { store, rotation } = this.opts;
    let { state, version } = await store.read();
    if (rotation && store.write) {
      const now = () => this.opts.clock.now().getTime();
      const leader = rotation.mayRotate();
      const usable = inspect(state, now(), rotation.policy).leafUsable;
      if (leader || !usable) {
        const step = planRotation(state, now(), rotation.policy);
        if (step.write) {
          if (await store.write(step.next, version)) this.log.info({ source: store.describe, reason: step.reason }, 'Webhook certificate rotated');
          ({ state, version } = await store.read());
        }
      }
      if ((leader || first) && state.caPEM && state.publishedAt === undefined) {
        const published = rotation.publish ? await this.publish(rotation.publish, state.caPEM) : true;
        if (published && (await store.write({ ...state, publishedAt: now() }, version))) ({ state, version } = await store.read());
      } else if (leader && state.caPEM && rotation.publish) {
        await this.publish(rotation.publish, state.caPEM); // puts back a caBundle someone changed
      }
    }
    this.serve(state);
  }

  /**
   * Writes the CA bundle into the webhook configuration; says so when it could not (no
   * configuration, no webhooks in it, or changed meanwhile): until it is written, a new CA's
   * certificate is never served, and the current one is not renewed past its CA.
   */
  private async publish(publish: (caPEM: string) => Promise<boolean>, caPEM: string): Promise<boolean> {
    const done = await publish(caPEM);
    if (!done) this.log.warn({ source: this.opts.store.describe }, 'Webhook CA bundle not written into the webhook configuration (missing, without webhooks, or changed meanwhile); tried again at the next check');
    return done;
  }

  private serve(state: CertState): void {
    if (!state.certPEM || !state.keyPEM) return;
    const next = { certPEM: state.certPEM, keyPEM: state.keyPEM, caPEM: state.caPEM ?? state.certPEM };
    const cur = this.current;
    if (cur && cur.certPEM === next.certPEM && cur.keyPEM === next.keyPEM && cur.caPEM === next.caPEM) return;
    let leaf: X509Certificate;
    try {
      leaf = new X509Certificate(next.certPEM);
      if (!keyMatches(leaf, next.keyPEM)) throw new Error('tls.key is not the key of tls.crt');
    } catch (err) {
      // A half-written or broken pair is not served: the listener keeps the one it has.
      this.log.warn({ source: this.opts.store.describe, err: errorMessage(err) }, 'Webhook certificate not loaded');
      return;
    }
    this.current = next;
    const expires = expiry(leaf);
    const source = { source: this.opts.store.source };
    this.opts.metrics?.webhookCertExpiration.set(source, expires / 1000);
    if (this.opts.rotation) this.opts.metrics?.webhookCertRenewal.set(source, (expires - this.opts.rotation.policy.renewBeforeMs) / 1000);
    if (cur) {
      this.log.info({ source: this.opts.store.describe, serial: leaf.serialNumber, notAfter: rfc3339(new Date(expires)) }, 'Webhook certificate reloaded');
      this.onChange?.(next);
    }
  }
}
