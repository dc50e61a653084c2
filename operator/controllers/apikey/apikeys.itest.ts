// API keys on the real control plane, whose kube-apiserver authenticates unknown bearer
// tokens through the operator's /authenticate (the harness starts it with
// --authentication-token-webhook-config-file and a 2 s cache TTL): a key is used exactly as
// its holder would, with `kubectl --token`, and through the verify endpoint with a
// ServiceAccount token. Who may hold and see which key is checked by impersonation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLATFORM_CONFIG_NAME } from '../../api/platformconfig/schema.ts';
import type { ApiKey } from '../../api/apikey/schema.ts';
import type { Organization } from '../../api/organization/schema.ts';
import type { PlatformConfig } from '../../api/platformconfig/schema.ts';
import { ApiError } from '../../runtime/errors.ts';
import { Resources } from '../../runtime/kube/resource.ts';
import { accessAllowed } from '../../testenv/access.ts';
import { readKey, serviceAccountToken, verifyKey, waitForKey } from '../../testenv/apikeys.ts';
import { deleteOrganization, testClient } from '../../testenv/clients.ts';
import { tokenWebhookOperatorArgs } from '../../testenv/controlplane.ts';
import { eventually, kubectl, testKubeconfig, testTokenWebhook, uniqueName } from '../../testenv/index.ts';
import { OperatorProcess } from '../../testenv/operator-process.ts';
import { Kinds } from '../../api/registry.ts';
import { KEY_IN_TEXT, generateKey } from './key.ts';

const admin = testClient();
const webhook = testTokenWebhook();
const operatorNamespace = uniqueName('op-keys');
const org = uniqueName('keys');
const otherOrg = uniqueName('keys-other');
const ns = `org-${org}`;
const otherNs = `org-${otherOrg}`;
const PROVISIONER = `root-${org}@platform.example`;
const ADMIN = `admin@${org}.example`;
const DEV = `dev@${org}.example`;
const OTHER_ADMIN = `admin@${otherOrg}.example`;
const gateways = uniqueName('gateways');
let previousConfig: PlatformConfig | undefined;
let operator: OperatorProcess;
const made: { namespace: string; name: string }[] = [];

const as = (user: string) => ({ as: { user } });
const active = (k: ApiKey) => k.status?.phase === 'Active' && !!k.status.secretName;

async function refusal(p: Promise<unknown>): Promise<ApiError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ApiError)) throw new Error(`expected a refusal, got ${err === undefined ? 'success' : String(err)}`);
  return err;
}

async function createKey(namespace: string, name: string, spec: Partial<ApiKey['spec']>, by?: string): Promise<ApiKey> {
  const k = await admin.create<ApiKey>(Kinds.ApiKey, { metadata: { name, namespace }, spec: { ttl: '720h', ...spec } }, by ? as(by) : {});
  made.push({ namespace, name });
  return k;
}

/** An Active key's value, read from its Secret (admin here; the owner's own access is tested apart). */
async function activeKey(namespace: string, name: string): Promise<{ key: ApiKey; token: string }> {
  const key = await waitForKey(admin, namespace, name, active, 'Active');
  return { key, token: await readKey(admin, key) };
}

/** kubectl with the key as bearer token, as its holder would run it. */
const withKey = (token: string, args: string[], stdin?: string) => kubectl(args, { token, allowFailure: true, stdin });

/**
 * How long the API server may keep accepting a key after it stopped working: it reuses a
 * successful token authentication for 10 s (kube-apiserver's own cache of the union of
 * its token authenticators, not configurable), on top of the webhook's cache TTL (2 s here).
 */
const API_SERVER_REUSE_MS = 10_000 + 2_000;
const refusedWithin = (token: string, what: string) =>
  eventually(async () => (await withKey(token, ['auth', 'whoami'])).stderr.includes('Unauthorized'), { timeoutMs: API_SERVER_REUSE_MS + 8_000, intervalMs: 250, describe: what });

async function newOrganization(name: string, adminEmail: string): Promise<void> {
  await admin.create(Kinds.Organization, { metadata: { name }, spec: { displayName: name } });
  await eventually(async () => (await admin.get<Organization>(Kinds.Organization, name))?.status?.namespace, { describe: `the namespace of ${name}` });
  // The webhook answers from the operator's cache, which sees the namespace a moment later.
  await eventually(
    () => admin.create(Kinds.Membership, { metadata: { name: 'admin', namespace: `org-${name}` }, spec: { email: adminEmail, role: 'OrganizationAdministrator', acceptance: 'Automatic' } }),
    { describe: `the administrator of ${name}` },
  );
}

beforeAll(async () => {
  if (!webhook) return;
  previousConfig = await admin.get<PlatformConfig>(Kinds.PlatformConfig, PLATFORM_CONFIG_NAME);
  await admin.apply(Kinds.PlatformConfig, { metadata: { name: PLATFORM_CONFIG_NAME }, spec: { ...(previousConfig?.spec ?? {}), provisioningAdministrators: { users: [PROVISIONER] } } });
  operator = await OperatorProcess.start({
    kubeconfig: testKubeconfig(),
    namespace: operatorNamespace,
    args: ['--leader-elect=false', ...tokenWebhookOperatorArgs(webhook), '--verify-rate-limit=60', '--verify-rate-burst=15'],
  });
  await newOrganization(org, ADMIN);
  await newOrganization(otherOrg, OTHER_ADMIN);
  await admin.create(Kinds.Membership, { metadata: { name: 'dev', namespace: ns }, spec: { email: DEV, role: 'MiniAppDeveloper', acceptance: 'Automatic' } });
  await eventually(() => accessAllowed(admin, DEV, { verb: 'get', resource: 'miniapps', namespace: ns, name: 'x' }), { describe: 'the developer bound' });
  await eventually(() => accessAllowed(admin, PROVISIONER, { verb: 'create', resource: 'organizations' }), { describe: 'the provisioning administrator bound' });
  await admin.create(Resources.Namespace, { metadata: { name: gateways } });
});

afterAll(async () => {
  if (!webhook) return;
  await operator?.stop();
  for (const name of [org, otherOrg]) await deleteOrganization(admin, name).catch(() => undefined);
  await admin.delete(Resources.Namespace, gateways);
  await admin.delete(Resources.Namespace, operatorNamespace);
  if (previousConfig) await admin.apply(Kinds.PlatformConfig, { metadata: { name: PLATFORM_CONFIG_NAME }, spec: previousConfig.spec ?? {} });
});

describe.skipIf(!webhook)('kubectl --token with an API key, on the real API server', () => {
  it("a provisioning administrator's key creates an Organization, as the administrator", async () => {
    await createKey(operatorNamespace, 'root', { owner: PROVISIONER, description: 'platform automation' }, PROVISIONER);
    const { key, token } = await activeKey(operatorNamespace, 'root');
    expect(key.status).toMatchObject({ rotationRevision: 0, prefix: `mak_${key.status!.keyId}` });
    const whoami = await withKey(token, ['auth', 'whoami', '-o', 'json']);
    expect(whoami.exitCode, whoami.stderr).toBe(0);
    const user = (JSON.parse(whoami.stdout) as { status: { userInfo: { username: string; groups: string[]; extra: Record<string, string[]> } } }).status.userInfo;
    expect(user.username).toBe(PROVISIONER);
    expect(user.groups).toEqual(['system:authenticated']);
    expect(user.extra['miniapps.dev/api-key-id']).toEqual([key.status!.keyId]);
    const name = uniqueName('by-key');
    const created = await withKey(
      token,
      ['create', '-f', '-'],
      JSON.stringify({ apiVersion: 'miniapps.dev/v1alpha1', kind: 'Organization', metadata: { name }, spec: { displayName: 'Made with a key' } }),
    );
    expect(created.exitCode, created.stderr).toBe(0);
    expect(created.stdout).toContain(`organization.miniapps.dev/${name} created`);
    await deleteOrganization(admin, name);
  });

  it("a member's key cannot create an Organization, may what the member's role allows in their organization, and nothing in another", async () => {
    await createKey(ns, 'dev-ci', { owner: DEV }, DEV);
    const { token } = await activeKey(ns, 'dev-ci');
    const org2 = await withKey(
      token,
      ['create', '-f', '-'],
      JSON.stringify({ apiVersion: 'miniapps.dev/v1alpha1', kind: 'Organization', metadata: { name: uniqueName('nope') }, spec: { displayName: 'No' } }),
    );
    expect(org2.exitCode).not.toBe(0);
    expect(org2.stderr).toContain('forbidden');
    expect(org2.stderr).toContain(`User "${DEV}" cannot create resource "organizations"`);
    const mini = await withKey(
      token,
      ['create', '-n', ns, '-f', '-'],
      JSON.stringify({ apiVersion: 'miniapps.dev/v1alpha1', kind: 'MiniApp', metadata: { name: 'pay' }, spec: { appName: 'pay', type: 'Numeric' } }),
    );
    // RBAC lets a developer create mini apps; the webhook then refuses for the missing capability, which proves the request got that far.
    expect(mini.stderr).toContain('spec.capabilities.miniApps is false');
    expect((await withKey(token, ['get', 'miniapps.miniapps.dev', '-n', ns])).exitCode).toBe(0);
    const superapp = await withKey(
      token,
      ['create', '-n', ns, '-f', '-'],
      JSON.stringify({ apiVersion: 'miniapps.dev/v1alpha1', kind: 'SuperApp', metadata: { name: 'w' }, spec: { displayName: 'W' } }),
    );
    expect(superapp.stderr).toContain(`User "${DEV}" cannot create resource "superapps"`);
    const elsewhere = await withKey(token, ['get', 'miniapps.miniapps.dev', '-n', otherNs]);
    expect(elsewhere.exitCode).not.toBe(0);
    expect(elsewhere.stderr).toContain('forbidden');
  });

  it('a key whose scopes leave out "kubernetes" is refused by the API server, and serves the verify endpoint for its scopes', async () => {
    await createKey(ns, 'catalog-only', { owner: DEV, scopes: ['catalog:read'] }, DEV);
    const { token } = await activeKey(ns, 'catalog-only');
    const r = await withKey(token, ['auth', 'whoami']);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain('Unauthorized');
    const caller = await gatewayToken('scopes');
    expect((await verifyKey(operator.verifyPort, caller, token, 'catalog:read')).body).toMatchObject({ valid: true, owner: DEV, organization: org, scopes: ['catalog:read'] });
    expect((await verifyKey(operator.verifyPort, caller, token, 'catalog:write')).body).toMatchObject({ valid: false, reason: expect.stringContaining('does not have the scope catalog:write') });
  });

  it('an expired key is refused from its expiry on, within seconds', async () => {
    const expiresAt = new Date(Date.now() + 8_000).toISOString().replace(/\.\d+Z$/, 'Z');
    await createKey(ns, 'short', { owner: DEV, ttl: undefined, expiresAt }, DEV);
    const { token } = await activeKey(ns, 'short');
    expect((await withKey(token, ['auth', 'whoami'])).exitCode).toBe(0);
    await waitForKey(admin, ns, 'short', (k) => k.status?.phase === 'Expired', 'Expired', 20_000);
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(expiresAt));
    await refusedWithin(token, 'the expired key refused');
  });

  it('a revoked key is refused within seconds, and cannot be unrevoked', async () => {
    await createKey(ns, 'revoke-me', { owner: DEV }, DEV);
    const { token } = await activeKey(ns, 'revoke-me');
    expect((await withKey(token, ['auth', 'whoami'])).exitCode).toBe(0);
    const caller = await gatewayToken('revocations');
    expect((await verifyKey(operator.verifyPort, caller, token)).body.valid).toBe(true);
    await admin.patch(Kinds.ApiKey, 'revoke-me', ns, { spec: { revoked: true } });
    const t0 = Date.now();
    // The verify endpoint reads the operator's cache: refused as soon as the watch brings the change.
    await eventually(async () => (await verifyKey(operator.verifyPort, caller, token)).body.reason?.includes('revoked'), {
      timeoutMs: 2_000,
      intervalMs: 50,
      describe: 'the verify endpoint refusing the revoked key',
    });
    await refusedWithin(token, 'the revoked key refused');
    expect(Date.now() - t0).toBeLessThan(API_SERVER_REUSE_MS + 1_000);
    await waitForKey(admin, ns, 'revoke-me', (k) => k.status?.phase === 'Revoked', 'Revoked');
    const undo = await refusal(admin.patch(Kinds.ApiKey, 'revoke-me', ns, { spec: { revoked: false } }));
    expect(undo.message).toContain('spec.revoked cannot be undone');
    // Nothing holds a key nothing accepts: its Secret is deleted, status keeps its id.
    const revoked = await waitForKey(admin, ns, 'revoke-me', (k) => !k.status?.secretName, 'its Secret no longer named');
    expect(revoked.status?.keyId).toBeTruthy();
    expect((await admin.list(Resources.Secret, { namespace: ns, labelSelector: 'miniapps.dev/apikey=revoke-me' })).items).toEqual([]);
  });

  it('a key whose Secret was deleted is replaced at its next reconcile: a new key in a new Secret, the old one refused', async () => {
    await createKey(ns, 'lose-me', { owner: DEV }, DEV);
    const { key, token } = await activeKey(ns, 'lose-me');
    expect((await withKey(token, ['auth', 'whoami'])).exitCode).toBe(0);
    await admin.delete(Resources.Secret, key.status!.secretName!, ns);
    // The operator does not watch Secrets (it may not, cluster-wide): it looks at every reconcile, here one a label change brings.
    await admin.patch(Kinds.ApiKey, 'lose-me', ns, { metadata: { labels: { touched: 'yes' } } });
    const replaced = await waitForKey(admin, ns, 'lose-me', (k) => (k.status?.rotationRevision ?? 0) === 1 && active(k), 'revision 1 Active');
    expect(replaced.status?.previousKey).toBeUndefined();
    const fresh = await readKey(admin, replaced);
    expect(fresh).not.toBe(token);
    expect((await withKey(fresh, ['auth', 'whoami'])).exitCode).toBe(0);
    await refusedWithin(token, 'the key whose Secret was deleted refused');
  });

  it("a suspended owner's key is refused within seconds, and works again when the suspension is lifted", async () => {
    await createKey(ns, 'suspend', { owner: DEV }, DEV);
    const { token } = await activeKey(ns, 'suspend');
    expect((await withKey(token, ['auth', 'whoami'])).exitCode).toBe(0);
    await admin.patch(Kinds.Membership, 'dev', ns, { spec: { suspended: true } });
    try {
      const t0 = Date.now();
      await refusedWithin(token, "the suspended owner's key refused");
      expect(Date.now() - t0).toBeLessThan(API_SERVER_REUSE_MS + 1_000);
      await waitForKey(admin, ns, 'suspend', (k) => k.status?.phase === 'Disabled', 'Disabled');
    } finally {
      await admin.patch(Kinds.Membership, 'dev', ns, { spec: { suspended: false } });
    }
    await eventually(async () => (await withKey(token, ['auth', 'whoami'])).exitCode === 0, { timeoutMs: 15_000, describe: 'the key working again' });
  });

  it("a removed owner's key is refused within seconds", async () => {
    const leaver = `leaver@${org}.example`;
    await admin.create(Kinds.Membership, { metadata: { name: 'leaver', namespace: ns }, spec: { email: leaver, role: 'MiniAppReviewer', acceptance: 'Automatic' } });
    await eventually(() => createKey(ns, 'leaver', { owner: leaver }, leaver), { describe: "the leaver's key accepted" });
    const { token } = await activeKey(ns, 'leaver');
    expect((await withKey(token, ['auth', 'whoami'])).exitCode).toBe(0);
    await admin.delete(Kinds.Membership, 'leaver', ns);
    const t0 = Date.now();
    await refusedWithin(token, "the removed owner's key refused");
    expect(Date.now() - t0).toBeLessThan(API_SERVER_REUSE_MS + 1_000);
    const k = await waitForKey(admin, ns, 'leaver', (x) => x.status?.phase === 'Disabled', 'Disabled');
    expect(k.status?.conditions?.find((c) => c.type === 'OwnerActive')).toMatchObject({ status: 'False', reason: 'OwnerNotMember' });
  });

  it('rotates on schedule: a new key in a new Secret, the previous one accepted through the grace period, then refused', async () => {
    await createKey(ns, 'rotating', { owner: DEV, rotation: { period: '8s', gracePeriod: '4s' } }, DEV);
    const first = await activeKey(ns, 'rotating');
    const caller = await gatewayToken('rotations');
    const rotated = await waitForKey(admin, ns, 'rotating', (k) => (k.status?.rotationRevision ?? 0) === 1, 'rotated once', 20_000);
    const second = await readKey(admin, rotated);
    expect(second).not.toBe(first.token);
    expect(rotated.status).toMatchObject({ secretName: 'rotating-r1', previousKey: { keyId: first.key.status!.keyId, secretName: 'rotating-r0' } });
    const validUntil = Date.parse(rotated.status!.previousKey!.validUntil);
    expect(validUntil - Date.parse(rotated.status!.createdAt!)).toBeLessThanOrEqual(4_000);
    expect((await verifyKey(operator.verifyPort, caller, second)).body).toMatchObject({ valid: true, previousKey: false });
    if (Date.now() < validUntil - 500) expect((await verifyKey(operator.verifyPort, caller, first.token)).body).toMatchObject({ valid: true, previousKey: true });
    if (Date.now() < validUntil - 500) expect((await withKey(first.token, ['auth', 'whoami'])).exitCode).toBe(0);
    await eventually(async () => (await verifyKey(operator.verifyPort, caller, first.token)).body.valid === false, {
      timeoutMs: 8_000,
      intervalMs: 100,
      describe: 'the previous key refused after the grace period',
    });
    expect(Date.now()).toBeGreaterThanOrEqual(validUntil);
    await refusedWithin(first.token, 'the rotated-out key refused by the API server');
    // Revision 2 came meanwhile or comes now; the current key keeps working.
    const now = await waitForKey(admin, ns, 'rotating', (k) => (k.status?.rotationRevision ?? 0) >= 1, 'rotated');
    expect((await withKey(await readKey(admin, now), ['auth', 'whoami'])).exitCode).toBe(0);
    await admin.patch(Kinds.ApiKey, 'rotating', ns, { spec: { revoked: true } });
  });

  it('a tampered or truncated key, and the key of a deleted ApiKey, are refused', async () => {
    await createKey(ns, 'deleted', { owner: DEV }, DEV);
    const { token } = await activeKey(ns, 'deleted');
    const tampered = token.slice(0, 30) + (token[30] === 'A' ? 'B' : 'A') + token.slice(31);
    for (const bad of [tampered, token.slice(0, -2), generateKey().token]) expect((await withKey(bad, ['auth', 'whoami'])).stderr).toContain('Unauthorized');
    const caller = await gatewayToken('bad-keys');
    expect((await verifyKey(operator.verifyPort, caller, tampered)).body.reason).toContain('checksum');
    expect((await verifyKey(operator.verifyPort, caller, token.slice(0, -2))).body.reason).toContain('truncated');
    await admin.delete(Kinds.ApiKey, 'deleted', ns);
    await eventually(async () => (await verifyKey(operator.verifyPort, caller, token)).body.reason?.includes('unknown API key'), { describe: 'the deleted key unknown' });
    await refusedWithin(token, 'the deleted key refused');
  });
});

async function gatewayToken(name: string, bind = true): Promise<string> {
  if (bind) {
    await admin.apply(Resources.ClusterRoleBinding, {
      metadata: { name: `${gateways}-${name}` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'miniapps:api-key-verifier' },
      subjects: [{ kind: 'ServiceAccount', name, namespace: gateways }],
    });
    await eventually(() => accessAllowed(admin, `system:serviceaccount:${gateways}:${name}`, { verb: 'create', resource: 'apikeys', subresource: 'verify' } as never), {
      describe: 'the gateway bound',
    });
  }
  return serviceAccountToken(admin, gateways, name);
}

describe.skipIf(!webhook)('who may hold, see and manage which key', () => {
  it('a member may create a key for themselves, not for someone else (the API server says who may)', async () => {
    const err = await refusal(createKey(ns, uniqueName('for-admin'), { owner: ADMIN }, DEV));
    expect(err.status).toBe(403);
    expect(err.message).toContain(`is for ${ADMIN}, and you are ${DEV}`);
    expect(err.message).toContain('only by an administrator of the organization (for its members) or a provisioning administrator (for anyone)');
  });

  it('an organization administrator may create a key for a member; a provisioning administrator for anyone', async () => {
    await createKey(ns, 'made-by-admin', { owner: DEV }, ADMIN);
    await createKey(ns, 'made-by-root', { owner: DEV }, PROVISIONER);
    await waitForKey(admin, ns, 'made-by-admin', active, 'Active');
  });

  it('a member who is not an administrator sees and manages only keys they own', async () => {
    await createKey(ns, 'admins-own', { owner: ADMIN }, ADMIN);
    await createKey(ns, 'devs-own', { owner: DEV }, DEV);
    const devKey = await waitForKey(admin, ns, 'devs-own', active, 'Active');
    const adminKey = await waitForKey(admin, ns, 'admins-own', active, 'Active');
    const dev = (args: string[]) => kubectl(args, { as: DEV, allowFailure: true });
    await eventually(async () => (await dev(['get', 'apikeys.miniapps.dev', 'devs-own', '-n', ns])).exitCode === 0, { describe: 'the developer sees their key' });
    expect((await dev(['get', 'secret', devKey.status!.secretName!, '-n', ns, '-o', 'jsonpath={.data.apiKey}'])).exitCode).toBe(0);
    expect((await dev(['get', 'apikeys.miniapps.dev', 'admins-own', '-n', ns])).stderr).toContain('forbidden');
    expect((await dev(['get', 'apikeys.miniapps.dev', '-n', ns])).stderr).toContain('forbidden');
    expect((await dev(['get', 'secret', adminKey.status!.secretName!, '-n', ns])).stderr).toContain('forbidden');
    expect((await dev(['patch', 'apikeys.miniapps.dev', 'admins-own', '-n', ns, '--type=merge', '-p', '{"spec":{"revoked":true}}'])).stderr).toContain('forbidden');
    expect((await dev(['delete', 'apikeys.miniapps.dev', 'admins-own', '-n', ns])).stderr).toContain('forbidden');
    // Their own: change, revoke, delete.
    expect((await dev(['patch', 'apikeys.miniapps.dev', 'devs-own', '-n', ns, '--type=merge', '-p', '{"spec":{"description":"mine"}}'])).exitCode).toBe(0);
    expect((await dev(['delete', 'apikeys.miniapps.dev', 'devs-own', '-n', ns])).exitCode).toBe(0);
    // The administrator sees every key of the organization; nobody else's Secret though.
    const listed = await kubectl(['get', 'apikeys.miniapps.dev', '-n', ns, '-o', 'name'], { as: ADMIN });
    expect(listed).toContain('apikey.miniapps.dev/admins-own');
    expect(await accessAllowed(admin, ADMIN, { group: '', verb: 'get', resource: 'secrets', namespace: ns, name: devKey.status!.secretName! })).toBe(false);
  });

  it("a key of one organization gets nothing in another, even made by that organization's administrator", async () => {
    const err = await refusal(createKey(otherNs, uniqueName('x'), { owner: DEV }, OTHER_ADMIN));
    expect(err.message).toContain(`${DEV} is not a member of Organization ${otherOrg}`);
  });
});

describe.skipIf(!webhook)('bad input is refused with a reason', () => {
  it.each<[string, Partial<ApiKey['spec']>, number, string]>([
    ['an owner who is not a member', { owner: `stranger@${org}.example` }, 400, `stranger@${org}.example is not a member of Organization ${org}`],
    ['both expiresAt and ttl', { owner: DEV, expiresAt: '2099-01-01T00:00:00Z' }, 422, 'set exactly one of spec.expiresAt'],
    ['an expiry in the past', { owner: DEV, ttl: undefined, expiresAt: '2020-01-01T00:00:00Z' }, 400, 'spec.expiresAt 2020-01-01T00:00:00Z is in the past'],
    ['a grace period longer than the rotation period', { owner: DEV, rotation: { period: '1h', gracePeriod: '2h' } }, 422, 'spec.rotation.gracePeriod must not be longer than spec.rotation.period'],
  ])('%s', async (_what, spec, status, message) => {
    const err = await refusal(admin.create(Kinds.ApiKey, { metadata: { name: uniqueName('bad'), namespace: ns }, spec: { ttl: '720h', ...spec } }));
    expect([status, 403]).toContain(err.status);
    expect(err.message).toContain(message);
  });

  it('a key in a namespace of no organization is refused', async () => {
    const err = await refusal(admin.create(Kinds.ApiKey, { metadata: { name: 'stray', namespace: gateways }, spec: { owner: DEV, ttl: '1h' } }));
    expect(err.message).toContain(`namespace ${gateways} belongs to no Organization`);
  });
});

describe.skipIf(!webhook)('the verify endpoint', () => {
  it('answers an authorized caller with the owner, organization, scopes and expiry', async () => {
    await createKey(ns, 'gw', { owner: DEV, scopes: ['kubernetes', 'catalog:*'] }, DEV);
    const { key, token } = await activeKey(ns, 'gw');
    const caller = await gatewayToken('reader');
    const a = await verifyKey(operator.verifyPort, caller, token, 'catalog:read');
    expect(a.status).toBe(200);
    expect(a.body).toEqual({
      valid: true,
      owner: DEV,
      username: DEV,
      organization: org,
      apiKey: { namespace: ns, name: 'gw' },
      keyId: key.status!.keyId,
      scopes: ['kubernetes', 'catalog:*'],
      expiresAt: key.status!.expiresAt,
      previousKey: false,
    });
  });

  it('refuses callers who do not authenticate (401) or may not verify (403)', async () => {
    const { token } = await activeKey(ns, 'gw');
    expect((await verifyKey(operator.verifyPort, undefined, token)).status).toBe(401);
    expect((await verifyKey(operator.verifyPort, 'not-a-token', token)).status).toBe(401);
    const unbound = await gatewayToken('unbound', false);
    const r = await verifyKey(operator.verifyPort, unbound, token);
    expect(r.status).toBe(403);
    expect(r.body.error).toContain('miniapps:api-key-verifier');
  });

  it('limits each caller (429 with Retry-After), whatever the others do', async () => {
    const { token } = await activeKey(ns, 'gw');
    const greedy = await gatewayToken('greedy');
    const statuses: number[] = [];
    let retryAfter: string | undefined;
    for (let i = 0; i < 25; i++) {
      const r = await verifyKey(operator.verifyPort, greedy, token);
      statuses.push(r.status);
      retryAfter ??= r.retryAfter;
    }
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(15);
    expect(statuses).toContain(429);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    const polite = await gatewayToken('polite');
    expect((await verifyKey(operator.verifyPort, polite, token)).status).toBe(200);
  });
});

describe.skipIf(!webhook)('secrets stay secret', () => {
  it("no key appears in the operator's logs, in any Event, or in any ApiKey status of this run", async () => {
    const keys = (await Promise.all(made.map(async (m) => admin.get<ApiKey>(Kinds.ApiKey, m.name, m.namespace)))).filter((k): k is ApiKey => !!k?.status?.secretName);
    expect(keys.length).toBeGreaterThan(5);
    const values = new Set(await Promise.all(keys.map((k) => readKey(admin, k))));
    const events = [...(await admin.listAll(Resources.Event, { namespace: ns })).items, ...(await admin.listAll(Resources.Event, { namespace: operatorNamespace })).items];
    expect(events.length).toBeGreaterThan(0);
    const statuses = keys.map((k) => JSON.stringify(k.status) + JSON.stringify(k.metadata.annotations ?? {}));
    const texts = { logs: [...operator.logs.map((l) => JSON.stringify(l)), ...operator.stderr].join('\n'), events: JSON.stringify(events), statuses: statuses.join('\n') };
    for (const [where, text] of Object.entries(texts)) {
      expect(text.match(KEY_IN_TEXT) ?? [], `key material in ${where}`).toEqual([]);
      for (const v of values) expect(text.includes(v), `a key in ${where}`).toBe(false);
    }
  });
});
