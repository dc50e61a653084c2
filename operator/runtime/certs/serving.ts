// The webhook listener's serving certificate: where it comes from (source.ts), how a new
// one is picked up without a restart (here), and, when the operator generates it, how it is
// rotated before it expires (rotation.ts) and its CA published (cabundle.ts).
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
import type { Logger } from 'pino';
import { rfc3339 } from '../clock.ts';
import type { Clock } from '../clock.ts';
import { errorMessage } from '../errors.ts';
import type { OperatorMetrics } from '../metrics.ts';
import { keyMatches } from '../pki.ts';
import { certificateExpiry, inspect, planRotation } from './rotation.ts';
import type { RotationPolicy } from './rotation.ts';
import type { CertState, CertStore, ServingMaterial } from './source.ts';

export interface ServingCertificatesOptions {
  store: CertStore;
  log: Logger;
  clock: Clock;
  metrics?: OperatorMetrics;
  checkIntervalMs: number;
  /** Whose certificate, in log lines and errors (default "Webhook"): the identity listener's is read the same way. */
  listener?: string;
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
  private get name(): string {
    return this.opts.listener ?? 'Webhook';
  }

  async load(): Promise<ServingMaterial> {
    await this.check(true);
    if (!this.current) {
      const where = this.opts.store.describe;
      throw new Error(
        `${where} holds no serving certificate (tls.crt and tls.key)${this.opts.rotation || this.opts.listener ? '' : '; with --webhook-cert-secret, set --webhook-cert-rotate to let the operator generate and rotate it'}`,
      );
    }
    return this.current;
  }

  /** Checks every interval from now on; `onChange` gets each new certificate. */
  start(onChange: (m: ServingMaterial) => void): void {
    this.onChange = onChange;
    const tick = () => {
      if (this.stopped) return;
      this.running = this.check(false)
        .catch((err: unknown) => this.log.warn({ err: errorMessage(err), source: this.opts.store.describe }, `${this.name} certificate not checked; serving the one loaded before`))
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
          if (await store.write(step.next, version)) this.log.info({ source: store.describe, reason: step.reason }, `${this.name} certificate rotated`);
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
    if (!done)
      this.log.warn(
        { source: this.opts.store.describe },
        'Webhook CA bundle not written into the webhook configuration (missing, without webhooks, or changed meanwhile); tried again at the next check',
      );
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
      this.log.warn({ source: this.opts.store.describe, err: errorMessage(err) }, `${this.name} certificate not loaded`);
      return;
    }
    this.current = next;
    const expires = certificateExpiry(leaf);
    const source = { source: this.opts.store.source };
    this.opts.metrics?.webhookCertExpiration.set(source, expires / 1000);
    if (this.opts.rotation) this.opts.metrics?.webhookCertRenewal.set(source, (expires - this.opts.rotation.policy.renewBeforeMs) / 1000);
    if (cur) {
      this.log.info({ source: this.opts.store.describe, serial: leaf.serialNumber, notAfter: rfc3339(new Date(expires)) }, `${this.name} certificate reloaded`);
      this.onChange?.(next);
    }
  }
}
