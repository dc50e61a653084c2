// The three data-privacy modes made real, on the real control plane: a data key per
// EnvelopeEncryption mini app, wrapped by the key-encryption key in the operator's
// namespace; the data-protection API authenticated and authorized by the API server;
// rotation that rewraps the same data key; a tampered key ring refused; and
// crypto-shredding: once the mini app is deleted, its ciphertext can never be revealed and
// no Secret anywhere holds its wrapped key.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLATFORM_CONFIG_NAME } from '../../api/platformconfig/schema.ts';
import type { MiniApp } from '../../api/miniapp/schema.ts';
import type { Organization } from '../../api/organization/schema.ts';
import { unwrapDataKey } from './envelope.ts';
import { KEK_SECRET_NAME, parseKeyRing } from './keyring.ts';
import type { AnyObject } from '../../runtime/kube/client.ts';
import { Resources } from '../../runtime/kube/resource.ts';
import { webhookRegistrationName } from '../../servers/webhook.ts';
import { clearKeyRotationRequest, deleteOrganizationsAndWait, testClient } from '../../testenv/clients.ts';
import { eventually, testKubeconfig, uniqueName } from '../../testenv/index.ts';
import { OperatorProcess, operatorRequest } from '../../testenv/operator-process.ts';
import { Kinds } from '../../api/registry.ts';

const admin = testClient();
const opNamespace = uniqueName('op-privacy');
const org = uniqueName('vaulted');
const ns = `org-${org}`;
let operator: OperatorProcess;
let caPEM: string;

type SecretObject = AnyObject & { data?: Record<string, string> };
const cond = (o: MiniApp | undefined, type: string) => o?.status?.conditions?.find((c) => c.type === type);
const getMini = (name: string) => admin.get<MiniApp>(Kinds.MiniApp, name, ns);
const secret = (name: string, namespace = ns) => admin.get<SecretObject>(Resources.Secret, name, namespace);
const kekSecret = () => secret(KEK_SECRET_NAME, opNamespace);

/** The data key as it really is: unwrapped here with the key ring, the way only the operator should. */
async function dataKeyOf(mini: MiniApp): Promise<Buffer> {
  const ring = parseKeyRing(await kekSecret(), opNamespace);
  if (!ring.ok) throw new Error(ring.problem);
  const s = (await secret(`${mini.metadata.name}-data-key`))!;
  const field = (f: string) => Buffer.from(s.data![f]!, 'base64');
  const kekId = field('keyEncryptionKeyId').toString();
  return unwrapDataKey(ring.keys.get(kekId)!, kekId, field('wrappedKey'), mini.metadata.uid!);
}

async function createMini(name: string, protection: 'None' | 'IrreversibleMasking' | 'EnvelopeEncryption'): Promise<MiniApp> {
  await admin.create(Kinds.MiniApp, { metadata: { name, namespace: ns }, spec: { appName: name.replaceAll('-', '_'), type: 'Text', dataPrivacy: { protection } } });
  return eventually(
    async () => {
      const m = await getMini(name);
      return cond(m, 'Ready')?.status === 'True' && m!.status?.observedGeneration === m!.metadata.generation ? m! : false;
    },
    { describe: `MiniApp ${name} Ready` },
  );
}

/** A ServiceAccount token (TokenRequest), as a data store holding a mini app's data would use. */
async function tokenFor(sa: string): Promise<string> {
  const res = await admin.request<{ status: { token: string } }>('POST', `/api/v1/namespaces/${ns}/serviceaccounts/${sa}/token`, {
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
  });
  return res.status.token;
}

/** POST to the operator's TLS listener, trusting the CA it registered its webhook with. */
const call = async (path: string, token: string, name: string, values: string[]) =>
  (await operatorRequest(operator.apiPort, caPEM, 'POST', path, token, { miniApp: { organization: org, name }, values })) as {
    status: number;
    body: { values?: string[]; protection?: string; error?: string };
  };

let storeToken: string;
let readerToken: string;

beforeAll(async () => {
  await clearKeyRotationRequest(admin); // one an earlier file left would rotate this operator's new ring at once
  operator = await OperatorProcess.start({ kubeconfig: testKubeconfig(), namespace: opNamespace });
  const reg = await eventually(
    async () => (await admin.get<AnyObject & { webhooks?: { clientConfig: { caBundle: string } }[] }>(Resources.ValidatingWebhookConfiguration, webhookRegistrationName(opNamespace))) ?? false,
    { describe: 'the webhook registration' },
  );
  caPEM = Buffer.from(reg.webhooks![0]!.clientConfig.caBundle, 'base64').toString();
  await admin.create(Kinds.Organization, { metadata: { name: org }, spec: { displayName: 'Vaulted', capabilities: { miniApps: true } } });
  await eventually(async () => (await admin.get<Organization>(Kinds.Organization, org))?.status?.namespace === ns, { describe: 'the namespace' });
  // The data store may protect and reveal for the vault; a reader may only read the mini apps.
  for (const sa of ['store', 'reader']) await admin.create(Resources.ServiceAccount, { metadata: { name: sa, namespace: ns } });
  await admin.create(Resources.Role, {
    metadata: { name: 'vault-store', namespace: ns },
    rules: [
      { apiGroups: ['miniapps.dev'], resources: ['miniapps'], verbs: ['get'] },
      { apiGroups: ['miniapps.dev'], resources: ['miniapps/reveal'], verbs: ['create'], resourceNames: ['vault', 'vault-2'] },
    ],
  });
  await admin.create(Resources.Role, { metadata: { name: 'reader', namespace: ns }, rules: [{ apiGroups: ['miniapps.dev'], resources: ['miniapps'], verbs: ['get'] }] });
  for (const [sa, role] of [
    ['store', 'vault-store'],
    ['reader', 'reader'],
  ]) {
    await admin.create(Resources.RoleBinding, {
      metadata: { name: sa, namespace: ns },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role },
      subjects: [{ kind: 'ServiceAccount', name: sa, namespace: ns }],
    });
  }
  storeToken = await tokenFor('store');
  readerToken = await tokenFor('reader');
});

afterAll(async () => {
  await deleteOrganizationsAndWait(admin, [org]);
  await clearKeyRotationRequest(admin);
  await operator?.stop();
});

describe('data privacy', () => {
  let vault: MiniApp;
  let before: string[];

  it('the key-encryption key is made on first start, in the operator namespace', async () => {
    const ring = parseKeyRing(await kekSecret(), opNamespace);
    expect(ring.ok && ring.current.id).toBe('v1');
  });

  it("each mode protects as it says: None as it is, IrreversibleMasking masked, EnvelopeEncryption with the mini app's own data key", async () => {
    await createMini('plain', 'None');
    await createMini('masked', 'IrreversibleMasking');
    vault = await createMini('vault', 'EnvelopeEncryption');
    expect(cond(vault, 'DataKeyReady')).toMatchObject({ status: 'True', reason: 'DataKeyReady' });
    expect(vault.status?.dataKey).toMatchObject({ secretName: 'vault-data-key', keyEncryptionKeyId: 'v1' });
    const s = (await secret('vault-data-key'))!;
    expect(s.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'MiniApp', uid: vault.metadata.uid });
    expect(JSON.stringify(vault.status)).not.toContain(s.data!.wrappedKey!);

    expect((await call('/dataprotection/v1/protect', storeToken, 'plain', ['Jane Doe'])).body).toEqual({ protection: 'None', values: ['Jane Doe'] });
    expect((await call('/dataprotection/v1/protect', storeToken, 'masked', ['+254700123456'])).body).toEqual({ protection: 'IrreversibleMasking', values: ['*********3456'] });
    const enc = await call('/dataprotection/v1/protect', storeToken, 'vault', ['Jane Doe', '+254700123456']);
    expect(enc.status).toBe(200);
    before = enc.body.values!;
    expect(before.every((v) => v.startsWith('mae1:'))).toBe(true);
    expect((await call('/dataprotection/v1/reveal', storeToken, 'vault', before)).body).toEqual({ values: ['Jane Doe', '+254700123456'] });
  });

  it('reveal is decided by the authorizer on miniapps/reveal: a reader is refused, a forged token too', async () => {
    const reader = await call('/dataprotection/v1/reveal', readerToken, 'vault', before);
    expect(reader.status).toBe(403);
    expect(reader.body.error).toContain('miniapps/reveal');
    expect((await call('/dataprotection/v1/reveal', 'not-a-token', 'vault', before)).status).toBe(401);
  });

  it('a new key-encryption key version rewraps the same data key, and the old version is retired once unused', async () => {
    const key = await dataKeyOf(vault);
    const wrappedBefore = (await secret('vault-data-key'))!.data!.wrappedKey;
    await admin.patch(Kinds.PlatformConfig, PLATFORM_CONFIG_NAME, undefined, { metadata: { annotations: { 'miniapps.dev/rotate-key-encryption-key': 'r1' } } }).catch(async () => {
      await admin.create(Kinds.PlatformConfig, { metadata: { name: PLATFORM_CONFIG_NAME, annotations: { 'miniapps.dev/rotate-key-encryption-key': 'r1' } }, spec: {} });
    });
    const rotated = await eventually(
      async () => {
        const m = await getMini('vault');
        return m?.status?.dataKey?.keyEncryptionKeyId === 'v2' ? m : false;
      },
      { describe: 'the data key rewrapped with v2' },
    );
    expect(cond(rotated, 'DataKeyReady')?.status).toBe('True');
    expect((await secret('vault-data-key'))!.data!.wrappedKey).not.toBe(wrappedBefore);
    expect((await dataKeyOf(rotated)).equals(key)).toBe(true);
    await eventually(
      async () => {
        const ring = parseKeyRing(await kekSecret(), opNamespace);
        return ring.ok && [...ring.keys.keys()].join() === 'v2';
      },
      { timeoutMs: 120_000, describe: 'v1 retired' },
    );
    // What was encrypted before the rotation still reveals.
    expect((await call('/dataprotection/v1/reveal', storeToken, 'vault', before)).body).toEqual({ values: ['Jane Doe', '+254700123456'] });
  });

  it('a tampered key ring is refused: no rewrap, no new data key, the data key Secret untouched; restored, all is well again', async () => {
    const original = (await kekSecret())!;
    const doc = JSON.parse(Buffer.from(original.data!['keyring.json']!, 'base64').toString());
    doc.versions[0].key = Buffer.alloc(32, 1).toString('base64');
    await admin.patch(Resources.Secret, KEK_SECRET_NAME, opNamespace, { data: { 'keyring.json': Buffer.from(JSON.stringify(doc)).toString('base64') } });
    const dataKeyVersion = (await secret('vault-data-key'))!.metadata.resourceVersion;
    await admin.patch(Kinds.PlatformConfig, PLATFORM_CONFIG_NAME, undefined, { metadata: { annotations: { 'miniapps.dev/rotate-key-encryption-key': 'r2' } } });
    const refused = await eventually(
      async () => {
        const m = await getMini('vault');
        return cond(m, 'DataKeyReady')?.reason === 'KeyEncryptionKeyInvalid' ? m : false;
      },
      { describe: 'DataKeyReady=False KeyEncryptionKeyInvalid' },
    );
    expect(cond(refused, 'DataKeyReady')?.message).toContain('no longer matches its check value');
    await admin.create(Kinds.MiniApp, { metadata: { name: 'vault-2', namespace: ns }, spec: { appName: 'vault_2', type: 'Text', dataPrivacy: { protection: 'EnvelopeEncryption' } } });
    await eventually(async () => cond(await getMini('vault-2'), 'DataKeyReady')?.reason === 'KeyEncryptionKeyInvalid', { describe: 'vault-2 gets no key from a tampered ring' });
    expect(await secret('vault-2-data-key')).toBeUndefined();
    expect((await secret('vault-data-key'))!.metadata.resourceVersion).toBe(dataKeyVersion);
    expect(Buffer.from((await kekSecret())!.data!['keyring.json']!, 'base64').toString()).toBe(JSON.stringify(doc)); // not overwritten

    await admin.patch(Resources.Secret, KEK_SECRET_NAME, opNamespace, { data: original.data });
    await eventually(async () => cond(await getMini('vault-2'), 'DataKeyReady')?.status === 'True', { timeoutMs: 60_000, describe: 'vault-2 gets its key once the ring is restored' });
    await eventually(async () => (await getMini('vault'))?.status?.dataKey?.keyEncryptionKeyId === 'v3', { timeoutMs: 60_000, describe: 'the held rotation done: rewrapped with v3' });
  });

  it('crypto-shredding: once the mini app is deleted, its ciphertext is never revealed again and no Secret holds its wrapped key', async () => {
    const wrapped = (await secret('vault-data-key'))!.data!.wrappedKey!;
    const ciphertext = (await call('/dataprotection/v1/protect', storeToken, 'vault', ['the last secret'])).body.values!;
    await admin.patch(Kinds.MiniApp, 'vault', ns, { metadata: { annotations: { 'miniapps.dev/confirm-delete': 'CONFIRM DELETE' } } });
    await admin.delete(Kinds.MiniApp, 'vault', ns);
    await eventually(async () => (await getMini('vault')) === undefined, { describe: 'vault gone' });
    for (const values of [before, ciphertext]) expect((await call('/dataprotection/v1/reveal', storeToken, 'vault', values)).status).toBe(404);
    const everywhere = await admin.listAll<SecretObject>(Resources.Secret);
    expect(everywhere.items.filter((s) => Object.values(s.data ?? {}).some((v) => v.includes(wrapped) || Buffer.from(v, 'base64').toString('base64') === wrapped))).toEqual([]);
    expect(await secret('vault-data-key')).toBeUndefined();

    // A new mini app of the same name gets a key of its own: the old ciphertext still means nothing.
    await createMini('vault', 'EnvelopeEncryption');
    const again = await call('/dataprotection/v1/reveal', storeToken, 'vault', ciphertext);
    expect(again.status).toBe(422);
    expect(JSON.stringify(again.body)).not.toContain('the last secret');
  });
});
