import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../runtime/errors.ts';
import type { KubeClient } from '../runtime/kube/client.ts';
import { createCA, issueCertificate } from '../runtime/pki.ts';
import { LAST_ADMINISTRATOR_WEBHOOK, WEBHOOK_KEEP_ALIVE_MS, WebhookServer, unregisterWebhook, webhookRegistrationName } from './webhook.ts';

const ours = { name: webhookRegistrationName('ns'), url: 'https://127.0.0.1:4443/validate', caBundlePEM: '-----BEGIN CERTIFICATE-----\nours\n-----END CERTIFICATE-----\n' };
const registered = (url: string, caPEM: string) => ({
  metadata: { name: ours.name, uid: 'u1', resourceVersion: '42' },
  webhooks: [{ name: 'validate.miniapps.dev', clientConfig: { url, caBundle: Buffer.from(caPEM).toString('base64') } }],
});

/** A client holding one registration (or none); records the deletes asked for, and can answer them 409. */
function fakeClient(current: object | undefined, conflict = false) {
  const deletes: unknown[] = [];
  const client = {
    get: async () => structuredClone(current),
    delete: async (_rt: unknown, name: string, _ns: unknown, opts: unknown) => {
      deletes.push({ name, opts });
      if (conflict) throw new ApiError(409, 'Conflict', 'Precondition failed: ResourceVersion in precondition: 42, ResourceVersion in object meta: 43');
      return true;
    },
  } as unknown as KubeClient;
  return { client, deletes };
}

describe('unregisterWebhook', () => {
  it('deletes the registration that still calls this process, on condition that it is the one read', async () => {
    const { client, deletes } = fakeClient(registered(ours.url, ours.caBundlePEM));
    expect(await unregisterWebhook(client, ours)).toBe(true);
    expect(deletes).toEqual([{ name: 'miniapps-operator-ns', opts: { uid: 'u1', resourceVersion: '42' } }]);
  });

  it.each([
    ['another port', registered('https://127.0.0.1:5443/validate', ours.caBundlePEM)],
    ['another CA (a restart on the same port)', registered(ours.url, 'another CA')],
    ['no registration', undefined],
  ])('leaves alone a registration that calls %s (another operator of the namespace replaced it)', async (_name, current) => {
    const { client, deletes } = fakeClient(current);
    expect(await unregisterWebhook(client, ours)).toBe(false);
    expect(deletes).toEqual([]);
  });

  it('deletes its registration with the fail-closed webhook too (both call this process), and leaves one whose fail-closed webhook calls another', async () => {
    const both = registered(ours.url, ours.caBundlePEM);
    both.webhooks.push({ name: LAST_ADMINISTRATOR_WEBHOOK, clientConfig: { ...both.webhooks[0]!.clientConfig } });
    const { client, deletes } = fakeClient(both);
    expect(await unregisterWebhook(client, ours)).toBe(true);
    expect(deletes).toHaveLength(1);
    const mixed = structuredClone(both);
    mixed.webhooks[1]!.clientConfig.url = 'https://127.0.0.1:5443/validate';
    const other = fakeClient(mixed);
    expect(await unregisterWebhook(other.client, ours)).toBe(false);
    expect(other.deletes).toEqual([]);
  });

  it('leaves a registration replaced between the read and the delete (409 on the precondition)', async () => {
    const { client, deletes } = fakeClient(registered(ours.url, ours.caBundlePEM), true);
    expect(await unregisterWebhook(client, ours)).toBe(false);
    expect(deletes).toHaveLength(1);
  });
});

describe("the API server's TLS listener with a client CA", () => {
  const serverCA = createCA('serving-ca');
  const serving = issueCertificate({ ca: serverCA, commonName: 'localhost', dnsNames: ['localhost'], usages: 'server', validityDays: 1 });
  const clientCA = createCA('apiserver-client-ca');
  const apiServer = issueCertificate({ ca: clientCA, commonName: 'kube-apiserver', usages: 'client', validityDays: 1 });
  const stranger = issueCertificate({ ca: createCA('stranger-ca'), commonName: 'kube-apiserver', usages: 'client', validityDays: 1 });

  const call = (port: number, cert?: { certPEM: string; keyPEM: string }) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = httpsRequest(
        { host: '127.0.0.1', port, path: '/validate', method: 'POST', servername: 'localhost', ca: serverCA.certPEM, agent: false, ...(cert ? { cert: cert.certPEM, key: cert.keyPEM } : {}) },
        (res) => {
          let text = '';
          res
            .setEncoding('utf8')
            .on('data', (c: string) => (text += c))
            .on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify({ request: { uid: 'u', kind: { group: 'miniapps.dev', version: 'v1alpha1', kind: 'Membership' }, operation: 'CREATE', userInfo: {} } }));
    });

  it('answers a client certificate of that CA, and gives anyone else the same bare 401', async () => {
    const server = new WebhookServer({ cert: serving.certPEM, key: serving.keyPEM }, { host: '127.0.0.1', port: 0 }, pino({ level: 'silent' }), () => true, { clientCA: clientCA.certPEM });
    server.register('Membership', () => 'refused for a reason that names an email');
    const port = await server.start();
    try {
      const ok = await call(port, apiServer);
      expect(ok.status).toBe(200);
      expect(ok.text).toContain('names an email');
      for (const cert of [undefined, stranger]) expect(await call(port, cert)).toEqual({ status: 401, text: '{"error":"Unauthorized"}' });
    } finally {
      await server.stop();
    }
  });

  /** One POST /validate on a connection of its own, resuming `session` when given; the status, the session to resume, whether this one was resumed. */
  const raw = (port: number, opts: { cert?: { certPEM: string; keyPEM: string }; session?: Buffer }) =>
    new Promise<{ status: number; session?: Buffer; reused: boolean }>((resolve, reject) => {
      let session: Buffer | undefined;
      let reused = false;
      let text = '';
      const socket = tlsConnect({
        host: '127.0.0.1',
        port,
        servername: 'localhost',
        ca: serverCA.certPEM,
        session: opts.session,
        maxVersion: 'TLSv1.2',
        ...(opts.cert ? { cert: opts.cert.certPEM, key: opts.cert.keyPEM } : {}),
      });
      socket.on('session', (s) => (session = s));
      socket.on('secureConnect', () => {
        reused = socket.isSessionReused();
      });
      socket.on('secureConnect', () => socket.write('POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}'));
      socket.setEncoding('utf8').on('data', (c: string) => (text += c));
      socket.on('error', reject);
      socket.on('close', () => resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1] ?? 0), session, reused }));
    });

  it('finding 7: with allowed names, answers only a certificate of the CA with one of them; a resumed session is judged as its first handshake', async () => {
    const otherClient = issueCertificate({ ca: clientCA, commonName: 'some-other-client', usages: 'client', validityDays: 1 });
    const server = new WebhookServer({ cert: serving.certPEM, key: serving.keyPEM }, { host: '127.0.0.1', port: 0 }, pino({ level: 'silent' }), () => true, {
      clientCA: clientCA.certPEM,
      clientNames: ['kube-apiserver'],
    });
    const port = await server.start();
    try {
      expect((await call(port, apiServer)).status).toBe(200);
      expect(await call(port, otherClient)).toEqual({ status: 401, text: '{"error":"Unauthorized"}' });
      // Resumed sessions: the API server's stays answered, a refused one stays refused.
      const first = await raw(port, { cert: apiServer });
      expect(first.status).toBe(400); // answered: `{}` is no AdmissionReview
      const again = await raw(port, { session: first.session });
      expect(again).toMatchObject({ status: 400, reused: true });
      const refused = await raw(port, { cert: otherClient });
      expect(refused.status).toBe(401);
      const resumedRefused = await raw(port, { session: refused.session });
      expect(resumedRefused.status).toBe(401);
    } finally {
      await server.stop();
    }
  });

  it("finding 13: with a client CA (only the API server is answered), an idle connection outlives the API server's 90 s, so none closes under its POST", () => {
    const log = pino({ level: 'silent' });
    const withCA = new WebhookServer({ cert: serving.certPEM, key: serving.keyPEM }, { host: '127.0.0.1', port: 0 }, log, () => true, { clientCA: clientCA.certPEM });
    const open = new WebhookServer({ cert: serving.certPEM, key: serving.keyPEM }, { host: '127.0.0.1', port: 0 }, log);
    expect(withCA.keepAliveTimeout).toBe(WEBHOOK_KEEP_ALIVE_MS);
    expect(WEBHOOK_KEEP_ALIVE_MS).toBeGreaterThan(90_000);
    expect(open.keepAliveTimeout).toBe(5_000);
  });
});
