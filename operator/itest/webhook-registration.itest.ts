import { afterAll, describe, expect, it } from 'vitest';
import { ADMITTED_RESOURCES } from '../controllers/index.ts';
import { Resources } from '../runtime/kube/resource.ts';
import { webhookRegistrationName } from '../servers/webhook.ts';
import { testClient } from '../testenv/clients.ts';
import { eventually, testKubeconfig, uniqueName } from '../testenv/index.ts';
import { OperatorProcess } from '../testenv/operator-process.ts';

interface Registration {
  metadata: { name: string };
  webhooks?: { clientConfig?: { url?: string }; rules?: { resources?: string[] }[] }[];
}

const client = testClient();
const running: OperatorProcess[] = [];
afterAll(async () => {
  await Promise.all(running.map((p) => p.stop()));
});

/** The ValidatingWebhookConfigurations of the operators of `namespace`, with the URLs they call. */
async function registrations(namespace: string): Promise<{ name: string; urls: string[] }[]> {
  const { items } = await client.listAll<Registration>(Resources.ValidatingWebhookConfiguration);
  return items.filter((r) => r.metadata.name.startsWith(webhookRegistrationName(namespace))).map((r) => ({ name: r.metadata.name, urls: (r.webhooks ?? []).map((w) => w.clientConfig?.url ?? '') }));
}

describe('the out-of-cluster webhook registration', () => {
  it("names only the resources with admission rules (the modules' admits): a User or a Tenant write costs no call", async () => {
    const namespace = uniqueName('op-wh');
    const op = await OperatorProcess.start({ kubeconfig: testKubeconfig(), namespace });
    running.push(op);
    const reg = await client.get<Registration>(Resources.ValidatingWebhookConfiguration, webhookRegistrationName(namespace));
    expect(reg?.webhooks?.map((w) => w.rules?.map((r) => r.resources))).toEqual([[[...ADMITTED_RESOURCES]]]);
    expect(ADMITTED_RESOURCES).toEqual(['apikeys', 'appmanifests', 'memberships', 'miniappreviews', 'miniapps', 'solutions', 'superapps']);
    await op.stop();
  });

  it('is replaced, not multiplied, by a restart after a SIGKILL, and removed by a SIGTERM (each SIGKILLed run left one behind under a port-specific name)', async () => {
    const namespace = uniqueName('op-wh');
    const first = await OperatorProcess.start({ kubeconfig: testKubeconfig(), namespace });
    running.push(first);
    expect(first.webhookPort).toBeGreaterThan(0);
    await eventually(async () => (await registrations(namespace)).length === 1, { describe: 'the first operator registered' });
    first.kill('SIGKILL');
    expect((await first.exit).signal).toBe('SIGKILL');

    const second = await OperatorProcess.start({ kubeconfig: testKubeconfig(), namespace });
    running.push(second);
    expect(second.webhookPort).not.toBe(first.webhookPort);
    const after = await registrations(namespace);
    expect(after).toEqual([{ name: webhookRegistrationName(namespace), urls: [`https://127.0.0.1:${second.webhookPort}/validate`] }]);

    expect((await second.stop()).code).toBe(0);
    expect(await registrations(namespace)).toEqual([]);
  });

  it('is not deleted by a stopping operator when another operator of the namespace has replaced it since', async () => {
    const namespace = uniqueName('op-wh2');
    const a = await OperatorProcess.start({ kubeconfig: testKubeconfig(), namespace });
    running.push(a);
    const b = await OperatorProcess.start({ kubeconfig: testKubeconfig(), namespace });
    running.push(b);
    const toB = [{ name: webhookRegistrationName(namespace), urls: [`https://127.0.0.1:${b.webhookPort}/validate`] }];
    expect(await registrations(namespace)).toEqual(toB);

    expect((await a.stop()).code).toBe(0);
    expect(a.hasLog('Webhook registration left in place: it no longer calls this process')).toBe(true);
    expect(await registrations(namespace)).toEqual(toB);
    expect((await b.stop()).code).toBe(0);
    expect(await registrations(namespace)).toEqual([]);
  });
});
