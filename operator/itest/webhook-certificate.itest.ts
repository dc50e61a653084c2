// The webhook's generated serving certificate rotated on the real control plane, with
// lifetimes of seconds instead of months: the operator (its leader) keeps the CA and the
// certificate in a Secret of its namespace and the CA bundle in its webhook registration
// (the same code as in cluster, where it is the chart's ValidatingWebhookConfiguration),
// renews the certificate before it expires and the CA with an overlap, and serves each new
// certificate without a restart. Two things are watched meanwhile, without a pause:
// - admission calls: each a dry-run that only the webhook refuses (a Membership outside any
//   Organization's namespace), so a call the API server could not make (with failurePolicy
//   Ignore it would let the write through) shows as an allowed write, and none may be;
// - fresh TLS handshakes with the listener, verified against the registration's caBundle
//   of that moment, as the API server's next connection would be. The API server keeps its
//   connections to the webhook alive, so its calls alone would not notice a certificate it
//   cannot verify until it reconnects: with the new CA's bundle never written (tried),
//   every call is still answered and only these handshakes fail.
import { X509Certificate } from 'node:crypto';
import { connect } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { API_VERSION } from '../api/constants.ts';
import { Resources } from '../runtime/kube/resource.ts';
import { createCA, issueCertificate } from '../runtime/pki.ts';
import { PUBLISHED_ANNOTATION } from '../runtime/certs/source.ts';
import { webhookRegistrationName } from '../servers/webhook.ts';
import { testClient } from '../testenv/clients.ts';
import { eventually, testKubeconfig, uniqueName } from '../testenv/index.ts';
import { FAST_LEADER_ELECTION, OperatorProcess } from '../testenv/operator-process.ts';

const client = testClient();
const running: OperatorProcess[] = [];
afterAll(async () => {
  await Promise.all(running.map((p) => p.stop()));
});

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const certsOf = (pem: string) => (pem.match(PEM_CERT) ?? []).map((c) => new X509Certificate(c));

interface Registration {
  webhooks: { clientConfig: { caBundle?: string; url?: string } }[];
}

/** The certificate the listener presents, verified against `caPEM` the way the API server does (the IP in its URL). */
function presented(port: number, caPEM: string): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca: caPEM, rejectUnauthorized: true }, () => {
      const cert = socket.getPeerX509Certificate()!;
      socket.end();
      resolve(cert);
    });
    socket.on('error', reject);
  });
}

/**
 * An admission call that only the webhook refuses (it needs the operator's caches): a
 * dry-run Membership in a namespace of no Organization. Its outcome in a word.
 */
function refusedByWebhook(namespace: string): () => Promise<string> {
  let n = 0;
  return async () => {
    const name = `probe-${n++}`;
    try {
      await client.request('POST', `/apis/${API_VERSION}/namespaces/${namespace}/memberships`, {
        query: { dryRun: 'All' },
        body: { apiVersion: API_VERSION, kind: 'Membership', metadata: { name }, spec: { email: `${name}@example.com`, role: 'MiniAppDeveloper', acceptance: 'Automatic' } },
      });
      return 'allowed';
    } catch (err) {
      const message = (err as Error).message;
      return message.includes(`Namespace ${namespace} belongs to no Organization`) ? 'refused by the webhook' : `failed: ${message}`;
    }
  };
}

describe('the generated webhook certificate', () => {
  it('is renewed before it expires, the CA too with an overlap, served without a restart, and no admission call fails across the swaps', async () => {
    const namespace = uniqueName('op-cert');
    const secretName = 'webhook-cert';
    // A certificate of 30 s renewed 15 s ahead (every 15 s); a CA of 90 s, replaced 30 s ahead (at 60 s), whose certificate is served 7.5 s after its bundle.
    const op = await OperatorProcess.start({
      kubeconfig: testKubeconfig(),
      namespace,
      args: [
        `--webhook-cert-secret=${namespace}/${secretName}`,
        '--webhook-cert-rotate',
        '--webhook-cert-duration=30s',
        '--webhook-cert-renew-before=15s',
        '--webhook-ca-duration=90s',
        '--webhook-cert-check-interval=500ms',
        ...FAST_LEADER_ELECTION,
      ],
    });
    running.push(op);
    const registration = webhookRegistrationName(namespace);
    const bundle = async () =>
      Buffer.from((await client.get<Registration & { metadata: object }>(Resources.ValidatingWebhookConfiguration, registration))!.webhooks[0]!.clientConfig.caBundle!, 'base64').toString('utf8');

    const admission = refusedByWebhook(namespace);
    const outcomes = new Map<string, number>();
    const served: { cert: X509Certificate; at: number; issuer: string }[] = [];
    const probeErrors: string[] = [];
    const end = Date.now() + 80_000;
    while (Date.now() < end) {
      const [outcome] = await Promise.all([
        admission(),
        (async () => {
          const caPEM = await bundle();
          try {
            const cert = await presented(op.webhookPort, caPEM);
            const issuer = certsOf(caPEM).find((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey));
            served.push({ cert, at: Date.now(), issuer: issuer?.fingerprint256 ?? 'none' });
          } catch (err) {
            probeErrors.push((err as Error).message);
          }
        })(),
      ]);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      await new Promise((r) => setTimeout(r, 200));
    }

    // Every admission call reached the webhook and was answered by it.
    expect([...outcomes.keys()]).toEqual(['refused by the webhook']);
    expect(outcomes.get('refused by the webhook')).toBeGreaterThan(50);
    // Every certificate presented verified against the registration's bundle of that moment, and was valid then.
    expect(probeErrors).toEqual([]);
    expect(served.filter((s) => Date.parse(s.cert.validTo) <= s.at || s.issuer === 'none')).toEqual([]);
    // Several certificates in turn (renewed about every 15 s), from two CAs in turn (the new one from about 68 s).
    const serials = [...new Set(served.map((s) => s.cert.serialNumber))];
    expect(serials.length).toBeGreaterThanOrEqual(4);
    const issuers = [...new Set(served.map((s) => s.issuer))];
    expect(issuers).toHaveLength(2);
    // Never back to the old CA once the new one signs.
    const switchedAt = served.findIndex((s) => s.issuer === issuers[1]);
    expect(served.slice(switchedAt).every((s) => s.issuer === issuers[1])).toBe(true);
    // While the new CA signs, the old one is still in the bundle (a replica that has not reread the Secret is still verified).
    expect(certsOf(await bundle()).map((c) => c.fingerprint256)).toEqual(expect.arrayContaining(issuers));

    // One process all along (no restart), which said what it did; the Secret holds what is served.
    expect(op.logs.filter((l) => l.msg === 'Operator started')).toHaveLength(1);
    expect(op.logs.filter((l) => l.msg === 'Webhook certificate rotated').map((l) => String(l.reason).replace(/ \(.*/, ''))).toEqual(expect.arrayContaining(['new CA', 'new certificate']));
    expect(op.logs.filter((l) => l.msg === 'Webhook certificate reloaded').length).toBeGreaterThanOrEqual(serials.length - 1);
    const secret = (await client.get<{ metadata: { annotations?: Record<string, string> }; data: Record<string, string> } & { metadata: object }>(Resources.Secret, secretName, namespace))!;
    const inSecret = new X509Certificate(Buffer.from(secret.data['tls.crt']!, 'base64'));
    expect(secret.metadata.annotations?.[PUBLISHED_ANNOTATION]).toBeDefined();
    expect(Buffer.from(secret.data['ca.crt']!, 'base64').toString('utf8')).toBe(await bundle());
    const expiration = await op.metric('miniapps_webhook_certificate_expiration_timestamp_seconds', { source: 'secret' });
    expect(expiration).toBe(Date.parse(inSecret.validTo) / 1000);
    expect(await op.metric('miniapps_webhook_certificate_renewal_timestamp_seconds', { source: 'secret' })).toBe(expiration - 15);
    expect((await op.stop()).code).toBe(0);
  }, 180_000);
});

describe('a webhook certificate renewed into its Secret by someone else (cert-manager)', () => {
  it('is served from the next check on, by the same process, and admission calls are answered before and after', async () => {
    const namespace = uniqueName('op-certm');
    const name = 'webhook-tls';
    const ca = createCA('test-ca', 1);
    const leaf = () => issueCertificate({ ca, commonName: 'webhook', ipAddresses: ['127.0.0.1'], usages: 'server', validityDays: 1 });
    const secretOf = (l: { certPEM: string; keyPEM: string }) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/tls',
      metadata: { name, namespace },
      data: { 'tls.crt': Buffer.from(l.certPEM).toString('base64'), 'tls.key': Buffer.from(l.keyPEM).toString('base64'), 'ca.crt': Buffer.from(ca.certPEM).toString('base64') },
    });
    const first = leaf();
    await client.apply(Resources.Namespace, { metadata: { name: namespace } });
    await client.create(Resources.Secret, secretOf(first));
    const op = await OperatorProcess.start({ kubeconfig: testKubeconfig(), namespace, args: [`--webhook-cert-secret=${namespace}/${name}`, '--webhook-cert-check-interval=500ms'] });
    running.push(op);
    const admission = refusedByWebhook(namespace);
    const serial = async () => (await presented(op.webhookPort, ca.certPEM)).serialNumber;
    expect(await serial()).toBe(new X509Certificate(first.certPEM).serialNumber);
    expect(await admission()).toBe('refused by the webhook');

    // cert-manager's renewal: a new key and certificate of the same CA, written into the Secret.
    const renewed = leaf();
    await client.replace(Resources.Secret, secretOf(renewed));
    await eventually(async () => (await serial()) === new X509Certificate(renewed.certPEM).serialNumber, { timeoutMs: 10_000, describe: 'the renewed certificate served' });
    expect(await admission()).toBe('refused by the webhook');
    expect(op.hasLog('Webhook certificate reloaded')).toBe(true);
    expect(op.logs.filter((l) => l.msg === 'Operator started')).toHaveLength(1);
    // Nothing of the operator's was written into a Secret it does not generate.
    const secret = (await client.get<{ data: Record<string, string> } & { metadata: object }>(Resources.Secret, name, namespace))!;
    expect(Object.keys(secret.data).sort()).toEqual(['ca.crt', 'tls.crt', 'tls.key']);
    expect(await op.metric('miniapps_webhook_certificate_expiration_timestamp_seconds', { source: 'secret' })).toBe(Date.parse(new X509Certificate(renewed.certPEM).validTo) / 1000);
    expect((await op.stop()).code).toBe(0);
  }, 60_000);
});
