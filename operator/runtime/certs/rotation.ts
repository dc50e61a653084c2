// When the generated serving certificate and its CA are renewed (cert-manager's
// renewBefore; the CA's new bundle published before a certificate of it is served): pure
// functions of the stored state, the time and the policy.
import { X509Certificate } from 'node:crypto';
import { rfc3339 } from '../clock.ts';
import { createCA, issueCertificate, keyMatches } from '../pki.ts';
import type { CertState } from './source.ts';

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
/** When a certificate expires (epoch ms). */
export const certificateExpiry = expiry;

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
    issueCertificate({
      ca,
      commonName: p.dnsNames[0] ?? p.ipAddresses[0] ?? 'miniapps-operator-webhook',
      dnsNames: p.dnsNames,
      ipAddresses: p.ipAddresses,
      usages: 'server',
      validityDays: p.certDurationMs / DAY_MS,
      now: new Date(now),
    });
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
