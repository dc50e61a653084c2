// Minimal PKI for the local control plane, the tests and the operator's webhook
// server: a self-signed CA and leaf certificates issued by it.
//
// RSA keys are generated with node:crypto (OpenSSL, milliseconds) and handed to
// node-forge only for building and signing the X.509 structures, which forge's
// pure-JS key generation would make slow (seconds per key).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import forge from 'node-forge';

export interface KeyPairPEM {
  /** PKCS#1 ("RSA PRIVATE KEY") PEM. */
  privateKeyPEM: string;
  /** SubjectPublicKeyInfo ("PUBLIC KEY") PEM. */
  publicKeyPEM: string;
}

export interface CertificateAuthority {
  certPEM: string;
  keyPEM: string;
}

export interface IssuedCertificate {
  certPEM: string;
  keyPEM: string;
}

export type CertificateUsage = 'server' | 'client' | 'both';

export interface IssueCertificateOptions {
  ca: CertificateAuthority;
  commonName: string;
  /** Subject O= entries; Kubernetes maps them to groups for client certs. */
  organizations?: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
  usages: CertificateUsage;
  validityDays: number;
}

const RSA_BITS = 2048;

function rsaKeyPair(): KeyPairPEM {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: RSA_BITS,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  return { privateKeyPEM: privateKey, publicKeyPEM: publicKey };
}

/** An RSA key pair for signing service account tokens (--service-account-*-key-file). */
export function createServiceAccountKeyPair(): KeyPairPEM {
  return rsaKeyPair();
}

/**
 * A random 16-byte serial whose DER INTEGER is positive and minimally encoded: the first
 * byte is 0x40-0x7f (top bit clear, never zero). A leading zero byte would be a
 * non-minimal encoding that Go's x509 (the API server) refuses to parse. 126 random bits.
 */
export function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x3f) | 0x40;
  return bytes.toString('hex');
}

function validity(cert: forge.pki.Certificate, days: number): void {
  if (!(days > 0)) throw new Error(`validityDays must be positive, got ${days}`);
  const now = Date.now();
  // Backdate a little to tolerate clock skew between processes/machines.
  cert.validity.notBefore = new Date(now - 5 * 60 * 1000);
  cert.validity.notAfter = new Date(now + days * 24 * 60 * 60 * 1000);
}

/** A self-signed CA certificate (10 years) and its key. */
export function createCA(commonName: string, validityDays = 3650): CertificateAuthority {
  const keys = rsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicKeyPEM);
  cert.serialNumber = serialNumber();
  validity(cert, validityDays);
  const subject = [{ name: 'commonName', value: commonName }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(keys.privateKeyPEM), forge.md.sha256.create());
  return { certPEM: forge.pki.certificateToPem(cert), keyPEM: keys.privateKeyPEM };
}

/** A leaf certificate signed by `ca`, with a fresh key. */
export function issueCertificate(opts: IssueCertificateOptions): IssuedCertificate {
  const caCert = forge.pki.certificateFromPem(opts.ca.certPEM);
  const caKey = forge.pki.privateKeyFromPem(opts.ca.keyPEM);
  const keys = rsaKeyPair();

  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicKeyPEM);
  cert.serialNumber = serialNumber();
  validity(cert, opts.validityDays);
  cert.setSubject([
    { name: 'commonName', value: opts.commonName },
    ...(opts.organizations ?? []).map((o) => ({ name: 'organizationName', value: o })),
  ]);
  cert.setIssuer(caCert.subject.attributes);

  const altNames: Array<{ type: number; value?: string; ip?: string }> = [];
  for (const dns of opts.dnsNames ?? []) altNames.push({ type: 2, value: dns });
  for (const ip of opts.ipAddresses ?? []) {
    if (isIP(ip) === 0) throw new Error(`not an IP address: ${ip}`);
    altNames.push({ type: 7, ip });
  }

  const server = opts.usages === 'server' || opts.usages === 'both';
  const client = opts.usages === 'client' || opts.usages === 'both';
  const extensions: object[] = [
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: server, clientAuth: client },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ];
  if (altNames.length > 0) extensions.push({ name: 'subjectAltName', altNames });
  cert.setExtensions(extensions);
  cert.sign(caKey, forge.md.sha256.create());
  return { certPEM: forge.pki.certificateToPem(cert), keyPEM: keys.privateKeyPEM };
}
