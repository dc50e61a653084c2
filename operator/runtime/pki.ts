// Minimal PKI for the local control plane, the tests and the operator's webhook
// server: a self-signed CA and leaf certificates issued by it.
//
// Everything is node:crypto (OpenSSL): RSA keys, SHA-256 with RSA signatures. Only the
// X.509 structure itself (RFC 5280) is written here, in DER, with the few ASN.1 types a
// certificate needs. A JavaScript X.509 library (node-forge, before) signed with its own
// big-number code: at the operator's start that was about 4 MB of RSS and 0.2 s of CPU
// for the webhook's generated certificate.
import { X509Certificate, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { isIP } from 'node:net';

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
  /** The issuance time (default: now); notBefore is 5 minutes before it. */
  now?: Date;
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
/** Whether `key` (PEM) is the private key of `cert` (parsed, or PEM); false for no key, or a certificate or key that does not parse. */
export function keyMatches(cert: X509Certificate | string | Buffer, key: string | Buffer | undefined): boolean {
  if (!key) return false;
  try {
    return (cert instanceof X509Certificate ? cert : new X509Certificate(cert)).checkPrivateKey(createPrivateKey(key));
  } catch {
    return false;
  }
}

export function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x3f) | 0x40;
  return bytes.toString('hex');
}

// --- DER (X.690), only what a certificate needs -----------------------------------------

function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  const len = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : n < 0x10000 ? Buffer.from([0x82, n >> 8, n & 0xff]) : Buffer.from([0x83, n >> 16, (n >> 8) & 0xff, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, content]);
}

const der = {
  sequence: (...items: Buffer[]) => tlv(0x30, Buffer.concat(items)),
  set: (...items: Buffer[]) => tlv(0x31, Buffer.concat(items)),
  /** A non-negative INTEGER from big-endian bytes, minimally encoded. */
  integer(bytes: Buffer): Buffer {
    let i = 0;
    while (i < bytes.length - 1 && bytes[i] === 0 && bytes[i + 1]! < 0x80) i++;
    const v = bytes.subarray(i);
    return tlv(0x02, v[0]! >= 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v);
  },
  boolean: (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0])),
  null: () => Buffer.from([0x05, 0x00]),
  oid(dotted: string): Buffer {
    const [a, b, ...rest] = dotted.split('.').map(Number);
    const bytes = [a! * 40 + b!];
    for (const n of rest) {
      const chunk = [n & 0x7f];
      for (let v = n >>> 7; v > 0; v >>>= 7) chunk.unshift((v & 0x7f) | 0x80);
      bytes.push(...chunk);
    }
    return tlv(0x06, Buffer.from(bytes));
  },
  utf8: (s: string) => tlv(0x0c, Buffer.from(s, 'utf8')),
  octets: (b: Buffer) => tlv(0x04, b),
  /** A BIT STRING of whole bytes. */
  bits: (b: Buffer) => tlv(0x03, Buffer.concat([Buffer.from([0]), b])),
  /** UTCTime until 2049, GeneralizedTime from 2050 (RFC 5280 4.1.2.5). */
  time(d: Date): Buffer {
    const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14); // YYYYMMDDHHMMSS
    return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${iso}Z`));
  },
  /** [n] EXPLICIT (constructed, context-specific). */
  explicit: (n: number, content: Buffer) => tlv(0xa0 | n, content),
  /** [n] IMPLICIT of a primitive type. */
  implicit: (n: number, content: Buffer) => tlv(0x80 | n, content),
};

/** The elements of a DER SEQUENCE (or any constructed value): [tag, whole TLV, content] each. */
function children(tlvBytes: Buffer): { tag: number; raw: Buffer; content: Buffer }[] {
  const readLength = (buf: Buffer, at: number): [number, number] => {
    const first = buf[at]!;
    if (first < 0x80) return [first, at + 1];
    let n = 0;
    for (let i = 0; i < (first & 0x7f); i++) n = (n << 8) | buf[at + 1 + i]!;
    return [n, at + 1 + (first & 0x7f)];
  };
  const [len, start] = readLength(tlvBytes, 1);
  const out: { tag: number; raw: Buffer; content: Buffer }[] = [];
  for (let at = start; at < start + len; ) {
    const [n, body] = readLength(tlvBytes, at + 1);
    out.push({ tag: tlvBytes[at]!, raw: tlvBytes.subarray(at, body + n), content: tlvBytes.subarray(body, body + n) });
    at = body + n;
  }
  return out;
}

const OID = {
  sha256WithRSA: '1.2.840.113549.1.1.11',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  subjectAltName: '2.5.29.17',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
};

const SIGNATURE_ALGORITHM = der.sequence(der.oid(OID.sha256WithRSA), der.null());

/** A Name: one RDN per attribute, CN first, values as UTF8String. */
function name(commonName: string, organizations: string[] = []): Buffer {
  const rdn = (oid: string, value: string) => der.set(der.sequence(der.oid(oid), der.utf8(value)));
  return der.sequence(rdn(OID.commonName, commonName), ...organizations.map((o) => rdn(OID.organization, o)));
}

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  return der.sequence(der.oid(oid), ...(critical ? [der.boolean(true)] : []), der.octets(value));
}

/** keyUsage bits (RFC 5280 4.2.1.3) as a DER BIT STRING: trailing zero bits are not encoded. */
function keyUsage(bits: number[]): Buffer {
  let value = 0;
  for (const b of bits) value |= 0x80 >> b;
  let unused = 0;
  while (unused < 7 && !(value & (1 << unused))) unused++;
  return tlv(0x03, Buffer.from([unused, value]));
}

/** The subjectPublicKeyInfo DER of a public key, and its key identifier (SHA-1 of the key bits, RFC 5280 4.2.1.2). */
function publicKeyInfo(publicKeyPEM: string): { spki: Buffer; keyId: Buffer } {
  const spki = createPublicKey(publicKeyPEM).export({ type: 'spki', format: 'der' });
  const bitString = children(spki)[1]!.content;
  return { spki, keyId: createHash('sha1').update(bitString.subarray(1)).digest() };
}

function validity(days: number, at: Date = new Date()): Buffer {
  if (!(days > 0)) throw new Error(`validityDays must be positive, got ${days}`);
  const now = at.getTime();
  // Backdated a little to tolerate clock skew between processes and machines.
  return der.sequence(der.time(new Date(now - 5 * 60 * 1000)), der.time(new Date(now + days * 24 * 60 * 60 * 1000)));
}

function signed(tbs: Buffer, issuerKeyPEM: string): string {
  const signature = sign('sha256', tbs, createPrivateKey(issuerKeyPEM));
  const certDER = der.sequence(tbs, SIGNATURE_ALGORITHM, der.bits(signature));
  return `-----BEGIN CERTIFICATE-----\n${certDER.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END CERTIFICATE-----\n`;
}

function tbsCertificate(opts: { issuer: Buffer; subject: Buffer; days: number; now?: Date; spki: Buffer; extensions: Buffer[] }): Buffer {
  return der.sequence(
    der.explicit(0, der.integer(Buffer.from([2]))), // v3
    der.integer(Buffer.from(serialNumber(), 'hex')),
    SIGNATURE_ALGORITHM,
    opts.issuer,
    validity(opts.days, opts.now),
    opts.subject,
    opts.spki,
    der.explicit(3, der.sequence(...opts.extensions)),
  );
}

/** A self-signed CA certificate (10 years) and its key; `now`: the issuance time (default: now). */
export function createCA(commonName: string, validityDays = 3650, now?: Date): CertificateAuthority {
  const keys = rsaKeyPair();
  const { spki, keyId } = publicKeyInfo(keys.publicKeyPEM);
  const subject = name(commonName);
  const tbs = tbsCertificate({
    issuer: subject,
    subject,
    days: validityDays,
    now,
    spki,
    extensions: [
      extension(OID.basicConstraints, true, der.sequence(der.boolean(true))),
      extension(OID.keyUsage, true, keyUsage([0, 5, 6])), // digitalSignature, keyCertSign, cRLSign
      extension(OID.subjectKeyIdentifier, false, der.octets(keyId)),
    ],
  });
  return { certPEM: signed(tbs, keys.privateKeyPEM), keyPEM: keys.privateKeyPEM };
}

/** A leaf certificate signed by `ca`, with a fresh key. */
export function issueCertificate(opts: IssueCertificateOptions): IssuedCertificate {
  const altNames: Buffer[] = [];
  for (const dns of opts.dnsNames ?? []) altNames.push(der.implicit(2, Buffer.from(dns, 'ascii')));
  for (const ip of opts.ipAddresses ?? []) altNames.push(der.implicit(7, ipBytes(ip)));
  const ca = new X509Certificate(opts.ca.certPEM);
  // The issuer is the CA's subject exactly as encoded in the CA certificate (Go compares the bytes).
  const issuer = children(children(ca.raw)[0]!.raw)[5]!.raw;
  const caKeyId = publicKeyInfo(ca.publicKey.export({ type: 'spki', format: 'pem' }) as string).keyId;
  const keys = rsaKeyPair();
  const { spki, keyId } = publicKeyInfo(keys.publicKeyPEM);
  const server = opts.usages === 'server' || opts.usages === 'both';
  const client = opts.usages === 'client' || opts.usages === 'both';
  const tbs = tbsCertificate({
    issuer,
    subject: name(opts.commonName, opts.organizations),
    days: opts.validityDays,
    now: opts.now,
    spki,
    extensions: [
      extension(OID.basicConstraints, true, der.sequence()),
      extension(OID.keyUsage, true, keyUsage([0, 2])), // digitalSignature, keyEncipherment
      extension(OID.extKeyUsage, false, der.sequence(...(server ? [der.oid(OID.serverAuth)] : []), ...(client ? [der.oid(OID.clientAuth)] : []))),
      extension(OID.subjectKeyIdentifier, false, der.octets(keyId)),
      extension(OID.authorityKeyIdentifier, false, der.sequence(der.implicit(0, caKeyId))),
      ...(altNames.length ? [extension(OID.subjectAltName, false, der.sequence(...altNames))] : []),
    ],
  });
  return { certPEM: signed(tbs, opts.ca.keyPEM), keyPEM: keys.privateKeyPEM };
}

function ipBytes(ip: string): Buffer {
  const family = isIP(ip);
  if (family === 0) throw new Error(`not an IP address: ${ip}`);
  if (family === 4) return Buffer.from(ip.split('.').map(Number));
  // IPv6: expand "::" and any embedded IPv4 tail into 8 groups of 16 bits.
  let text = ip;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4[1]!.split('.').map(Number);
    text = text.slice(0, -v4[1]!.length) + `${((a! << 8) | b!).toString(16)}:${((c! << 8) | d!).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  for (const [i, g] of groups.entries()) out.writeUInt16BE(parseInt(g, 16), i * 2);
  return out;
}
