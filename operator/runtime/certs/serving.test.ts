import { X509Certificate } from 'node:crypto';
import { request, Agent } from 'node:https';
import type { TLSSocket } from 'node:tls';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { OperatorMetrics } from '../metrics.ts';
import type { KubeClient } from '../kube/client.ts';
import { MemoryStore, PUBLISHED_ANNOTATION, SecretStore } from './source.ts';
import { ServingCertificates } from './serving.ts';
import { inspect, overlapMs, planRotation } from './rotation.ts';
import type { CertState, ServingMaterial } from './source.ts';
import type { RotationPolicy } from './rotation.ts';
import { WebhookServer } from '../../servers/webhook.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const policy: RotationPolicy = { certDurationMs: 90 * DAY, renewBeforeMs: 30 * DAY, caDurationMs: 3650 * DAY, dnsNames: ['localhost', 'op.ns.svc'], ipAddresses: ['127.0.0.1'] };
const T0 = Date.parse('2026-01-01T00:00:00Z');
const log = pino({ level: 'silent' });

function written(s: CertState, now: number, p = policy): CertState {
  const step = planRotation(s, now, p);
  if (!step.write) throw new Error('expected a write');
  return step.next;
}
const leafOf = (s: CertState) => new X509Certificate(s.certPEM!);
const casOf = (s: CertState) => (s.caPEM!.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((c) => new X509Certificate(c));
const issuedBy = (leaf: X509Certificate, ca: X509Certificate) => leaf.checkIssued(ca) && leaf.verify(ca.publicKey);

describe('planRotation (the generated mode)', () => {
  const first = written({}, T0);

  it('makes a CA and a serving certificate for the names when there is none', () => {
    const [ca] = casOf(first);
    expect(casOf(first)).toHaveLength(1);
    expect(issuedBy(leafOf(first), ca!)).toBe(true);
    expect(leafOf(first).subjectAltName).toBe('DNS:localhost, DNS:op.ns.svc, IP Address:127.0.0.1');
    expect(Date.parse(leafOf(first).validTo)).toBe(T0 + 90 * DAY);
    expect(inspect(first, T0, policy)).toMatchObject({ leafUsable: true });
    expect(first.publishedAt).toBeUndefined();
    expect(planRotation(first, T0 + 59 * DAY, policy)).toEqual({ write: false });
  });

  it('renews the certificate renewBefore ahead of its expiry, with the same CA (the bundle does not change, published or not)', () => {
    const at = T0 + 60 * DAY + 1000;
    const next = written(first, at);
    expect(next.caPEM).toBe(first.caPEM);
    expect(next.caKeyPEM).toBe(first.caKeyPEM);
    expect(next.certPEM).not.toBe(first.certPEM);
    expect(issuedBy(leafOf(next), casOf(first)[0]!)).toBe(true);
    expect(Date.parse(leafOf(next).validTo)).toBe(Math.floor(at / 1000) * 1000 + 90 * DAY);
  });

  it('replaces the CA a third of its lifetime ahead of its expiry: both CAs in the bundle, the certificate of the new one only after the overlap since the bundle was published', () => {
    const oldCA = casOf(first)[0]!;
    const due = Date.parse(oldCA.validTo) - Math.floor(3650 / 3) * DAY + DAY; // inside the last third
    // A serving certificate of the old CA that is still fresh there.
    const fresh = { ...written(first, due - 10 * DAY), publishedAt: T0 };
    const rotated = written(fresh, due);
    const [newCA, kept] = casOf(rotated);
    expect(kept!.fingerprint256).toBe(oldCA.fingerprint256);
    expect(newCA!.fingerprint256).not.toBe(oldCA.fingerprint256);
    expect(rotated.certPEM).toBe(fresh.certPEM); // still the old CA's, which the API server trusts
    expect(rotated.publishedAt).toBeUndefined();
    // Not published yet: the certificate stays, even when it comes due meanwhile.
    expect(planRotation(rotated, due + 61 * DAY, policy)).toEqual({ write: false });
    const published = { ...rotated, publishedAt: due + HOUR };
    expect(planRotation(published, due + HOUR + overlapMs(policy) - 1, policy)).toEqual({ write: false });
    const switched = written(published, due + HOUR + overlapMs(policy));
    expect(issuedBy(leafOf(switched), newCA!)).toBe(true);
    expect(casOf(switched).map((c) => c.fingerprint256)).toEqual([newCA!.fingerprint256, oldCA.fingerprint256]);
    // The old CA leaves the bundle at the first write after it expired.
    const later = written(switched, Date.parse(oldCA.validTo) + DAY);
    expect(casOf(later).map((c) => c.fingerprint256)).toEqual([newCA!.fingerprint256]);
  });

  it('when the CA comes due with no usable certificate, the replacement comes from the CA already in the bundle, not the new unpublished one', () => {
    const oldCA = casOf(first)[0]!;
    const due = Date.parse(oldCA.validTo) - Math.floor(3650 / 3) * DAY + DAY;
    const other = written({}, T0);
    const rotated = written({ ...first, keyPEM: other.keyPEM, publishedAt: T0 }, due);
    const [newCA] = casOf(rotated);
    expect(newCA!.fingerprint256).not.toBe(oldCA.fingerprint256);
    expect(rotated.publishedAt).toBeUndefined();
    expect(issuedBy(leafOf(rotated), oldCA)).toBe(true);
    expect(issuedBy(leafOf(rotated), newCA!)).toBe(false);
  });

  it('replaces a certificate that does not pair with its key, is not for the names, or was issued by no CA of the bundle at once', () => {
    const other = written({}, T0);
    expect(issuedBy(leafOf(written({ ...first, keyPEM: other.keyPEM }, T0 + DAY)), casOf(first)[0]!)).toBe(true);
    expect(leafOf(written(first, T0 + DAY, { ...policy, dnsNames: ['op.other.svc'] })).subjectAltName).toContain('DNS:op.other.svc');
    const foreign = written({ ...first, certPEM: other.certPEM, keyPEM: other.keyPEM }, T0 + DAY);
    expect(foreign.caPEM).toBe(first.caPEM);
    expect(issuedBy(leafOf(foreign), casOf(first)[0]!)).toBe(true);
  });

  it('makes a new CA beside the old one when the CA key is missing (a certificate provided without ca.key), keeping the certificate while it is usable', () => {
    const next = written({ certPEM: first.certPEM, keyPEM: first.keyPEM, caPEM: first.caPEM }, T0 + DAY);
    expect(casOf(next)).toHaveLength(2);
    expect(next.certPEM).toBe(first.certPEM);
    expect(planRotation(next, T0 + 2 * DAY, policy)).toEqual({ write: false });
  });
});

describe('the webhook listener serves a renewed certificate without a restart', () => {
  const servers: WebhookServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });

  const peers = new WeakMap<TLSSocket, X509Certificate>();
  function get(port: number, ca: string, agent: Agent): Promise<{ status: number; cert: X509Certificate; socketReused: boolean }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/readyz', ca, agent }, (res) => {
        res.resume();
        // A socket's peer certificate is read at its first request (Node gives none on a reused one).
        const socket = req.socket as TLSSocket;
        if (!peers.has(socket)) peers.set(socket, socket.getPeerX509Certificate()!);
        const peer = peers.get(socket)!;
        res.on('end', () => resolve({ status: res.statusCode!, cert: peer, socketReused: req.reusedSocket }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('new handshakes get the new certificate, a connection opened before keeps working (no call dropped)', async () => {
    const now = Date.now();
    const a = written({}, now);
    const b = written({ ...a, keyPEM: written({}, now).keyPEM }, now); // a new certificate of the same CA
    const server = new WebhookServer({ cert: a.certPEM!, key: a.keyPEM! }, { host: '127.0.0.1', port: 0 }, log);
    servers.push(server);
    const port = await server.start();
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
    const before = await get(port, a.caPEM!, keepAlive);
    expect(before.cert.serialNumber).toBe(leafOf(a).serialNumber);

    server.setCertificate({ cert: b.certPEM!, key: b.keyPEM! });
    const sameConnection = await get(port, a.caPEM!, keepAlive);
    expect(sameConnection).toMatchObject({ status: 200, socketReused: true });
    expect(sameConnection.cert.serialNumber).toBe(leafOf(a).serialNumber);
    const fresh = await get(port, a.caPEM!, new Agent({ keepAlive: false }));
    expect(fresh.status).toBe(200);
    expect(fresh.cert.serialNumber).toBe(leafOf(b).serialNumber);
    keepAlive.destroy();
  });

  it('ServingCertificates rotates a certificate in memory when due and hands it over; the expiry gauges follow', async () => {
    let now = Date.now();
    const clock = { now: () => new Date(now) };
    const metrics = new OperatorMetrics({ processMetrics: false });
    const short: RotationPolicy = { ...policy, certDurationMs: 3 * HOUR, renewBeforeMs: HOUR, caDurationMs: 10 * HOUR };
    const certs = new ServingCertificates({ store: new MemoryStore(), log, clock, metrics, checkIntervalMs: 20, rotation: { policy: short, mayRotate: () => true } });
    const first = await certs.load();
    const firstLeaf = new X509Certificate(first.certPEM);
    const gauge = async (name: string) => (await metrics.registry.getSingleMetric(name)!.get()).values.map((v) => [v.labels, v.value]);
    expect(await gauge('miniapps_webhook_certificate_expiration_timestamp_seconds')).toEqual([[{ source: 'memory' }, Date.parse(firstLeaf.validTo) / 1000]]);
    expect(await gauge('miniapps_webhook_certificate_renewal_timestamp_seconds')).toEqual([[{ source: 'memory' }, (Date.parse(firstLeaf.validTo) - HOUR) / 1000]]);
    const changed = new Promise<ServingMaterial>((resolve) => certs.start(resolve));
    now += 2 * HOUR + 1000;
    const next = await changed;
    await certs.stop();
    const leaf = new X509Certificate(next.certPEM);
    expect(leaf.serialNumber).not.toBe(firstLeaf.serialNumber);
    expect(next.caPEM).toBe(first.caPEM);
    expect(await gauge('miniapps_webhook_certificate_expiration_timestamp_seconds')).toEqual([[{ source: 'memory' }, Date.parse(leaf.validTo) / 1000]]);
  });

  it('reads a publication time that is not one as never published, so the bundle is written again', async () => {
    const secret = (value: string) =>
      ({ get: async () => ({ metadata: { name: 'c', namespace: 'n', resourceVersion: '7', annotations: { [PUBLISHED_ANNOTATION]: value } }, data: {} }) }) as unknown as KubeClient;
    expect((await new SecretStore(secret('garbled'), { namespace: 'n', name: 'c' }).read()).state.publishedAt).toBeUndefined();
    expect((await new SecretStore(secret('2026-01-01T00:00:00Z'), { namespace: 'n', name: 'c' }).read()).state.publishedAt).toBe(T0);
  });

  it('says so when the bundle cannot be written into the webhook configuration, and records no publication', async () => {
    const lines: string[] = [];
    const capture = pino({ level: 'warn' }, { write: (l: string) => void lines.push(l) });
    const store = new MemoryStore();
    const certs = new ServingCertificates({ store, log: capture, clock: { now: () => new Date() }, checkIntervalMs: 60_000, rotation: { policy, mayRotate: () => true, publish: async () => false } });
    await certs.load();
    expect((await store.read()).state.publishedAt).toBeUndefined();
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toContain(
      'Webhook CA bundle not written into the webhook configuration (missing, without webhooks, or changed meanwhile); tried again at the next check',
    );
  });
});
