import { X509Certificate, createPrivateKey, createPublicKey, createSign, createVerify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createCA, createServiceAccountKeyPair, issueCertificate, serialNumber } from './pki.ts';

describe('pki', () => {
  const ca = createCA('test-ca');

  it('creates a self-signed CA', () => {
    const cert = new X509Certificate(ca.certPEM);
    expect(cert.ca).toBe(true);
    expect(cert.subject).toBe('CN=test-ca');
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(ca.keyPEM))).toBe(true);
  });

  it('issues a server certificate that verifies against the CA and carries the SANs', () => {
    const issued = issueCertificate({
      ca,
      commonName: 'kube-apiserver',
      dnsNames: ['localhost', 'svc.ns.svc'],
      ipAddresses: ['127.0.0.1', '::1'],
      usages: 'server',
      validityDays: 30,
    });
    const cert = new X509Certificate(issued.certPEM);
    const caCert = new X509Certificate(ca.certPEM);
    expect(cert.ca).toBe(false);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(issued.keyPEM))).toBe(true);
    expect(cert.checkHost('localhost')).toBe('localhost');
    expect(cert.checkHost('svc.ns.svc')).toBe('svc.ns.svc');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.subjectAltName).toContain('IP Address:0:0:0:0:0:0:0:1');
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    const days = (Date.parse(cert.validTo) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29);
    expect(days).toBeLessThanOrEqual(30);
  });

  it.each([
    ['a compressed IPv6 address', '2001:db8::42', 'IP Address:2001:DB8:0:0:0:0:0:42'],
    ['an IPv6 address with an IPv4 tail', '::ffff:10.1.2.3', 'IP Address:0:0:0:0:0:FFFF:A01:203'],
    ['a full IPv6 address', 'fe80:0:0:0:1:2:3:4', 'IP Address:FE80:0:0:0:1:2:3:4'],
  ])('encodes %s as its 16 bytes', (_case, ip, shown) => {
    const issued = issueCertificate({ ca, commonName: 'x', ipAddresses: [ip], usages: 'server', validityDays: 1 });
    const cert = new X509Certificate(issued.certPEM);
    expect(cert.subjectAltName).toBe(shown);
    expect(cert.checkIP(ip)).toBe(ip);
  });

  it('names the issuer exactly as the CA names itself, with its key identifier', () => {
    const issued = issueCertificate({ ca, commonName: 'x', usages: 'server', validityDays: 1 });
    const cert = new X509Certificate(issued.certPEM);
    const caCert = new X509Certificate(ca.certPEM);
    expect(cert.issuer).toBe(caCert.subject);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.toLegacyObject().ext_key_usage).toEqual(['1.3.6.1.5.5.7.3.1']);
  });

  it('issues a client certificate with organizations', () => {
    const issued = issueCertificate({
      ca,
      commonName: 'admin',
      organizations: ['system:masters', 'team'],
      usages: 'client',
      validityDays: 1,
    });
    const cert = new X509Certificate(issued.certPEM);
    expect(cert.verify(new X509Certificate(ca.certPEM).publicKey)).toBe(true);
    expect(cert.subject.split('\n')).toEqual(['CN=admin', 'O=system:masters', 'O=team']);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(cert.subjectAltName).toBeUndefined();
  });

  it('supports both usages', () => {
    const issued = issueCertificate({ ca, commonName: 'x', usages: 'both', validityDays: 1 });
    expect(new X509Certificate(issued.certPEM).keyUsage?.sort()).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
  });

  it('rejects bad input', () => {
    expect(() => issueCertificate({ ca, commonName: 'x', ipAddresses: ['nope'], usages: 'server', validityDays: 1 })).toThrow(/not an IP/);
    expect(() => issueCertificate({ ca, commonName: 'x', usages: 'server', validityDays: 0 })).toThrow(/validityDays/);
  });

  it('creates a service account key pair that signs and verifies', () => {
    const kp = createServiceAccountKeyPair();
    const data = 'payload';
    const sig = createSign('SHA256').update(data).sign(createPrivateKey(kp.privateKeyPEM));
    expect(createVerify('SHA256').update(data).verify(createPublicKey(kp.publicKeyPEM), sig)).toBe(true);
  });
});

describe('serialNumber', () => {
  it('is always a positive, minimally encoded DER INTEGER (first byte 0x01-0x7f), 16 bytes', () => {
    for (let i = 0; i < 5000; i++) {
      const serial = serialNumber();
      expect(serial).toMatch(/^[0-9a-f]{32}$/);
      const first = parseInt(serial.slice(0, 2), 16);
      expect(first > 0 && first < 0x80, `serial ${serial}`).toBe(true);
    }
  });
});
