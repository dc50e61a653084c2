// Data keys under failure: the operator SIGKILLed again and again while it makes the data
// keys of 40 EnvelopeEncryption mini apps and rewraps them for a new key-encryption key
// version. A watch on the Secrets records every version of every data key Secret: each
// mini app must end with exactly one Secret whose key never changed (the same 256 bits
// before and after the rotation), and nothing else.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLATFORM_CONFIG_NAME } from '../../api/platformconfig/schema.ts';
import type { MiniApp } from '../../api/miniapp/schema.ts';
import type { Organization } from '../../api/organization/schema.ts';
import type { PlatformConfig } from '../../api/platformconfig/schema.ts';
import { unwrapDataKey } from './envelope.ts';
import { KEK_SECRET_NAME, parseKeyRing } from './keyring.ts';
import type { KeyRingState } from './keyring.ts';
import type { AnyObject } from '../../runtime/kube/client.ts';
import { Resources } from '../../runtime/kube/resource.ts';
import { clearKeyRotationRequest, deleteOrganizationsAndWait, testClient } from '../../testenv/clients.ts';
import { eventually, testKubeconfig, uniqueName } from '../../testenv/index.ts';
import { OperatorProcess } from '../../testenv/operator-process.ts';
import { Kinds } from '../../api/registry.ts';

const admin = testClient();
const org = uniqueName('dk-crash');
const opNamespace = uniqueName('op-dk-crash');
const N = 40;
const running = new Set<OperatorProcess>();
type SecretObject = AnyObject & { data?: Record<string, string> };

async function startOperator(): Promise<OperatorProcess> {
  const p = await OperatorProcess.start({ kubeconfig: testKubeconfig(), namespace: opNamespace, args: ['--leader-elect=false'] });
  running.add(p);
  void p.exit.then(() => running.delete(p));
  return p;
}

/** Kills the running operator after `ms`, starts another, `rounds` times. */
async function killAgainAndAgain(rounds: number, ms: number): Promise<number> {
  let kills = 0;
  for (let i = 0; i < rounds; i++) {
    await new Promise((r) => setTimeout(r, ms));
    for (const p of running) {
      p.kill('SIGKILL');
      await p.exit;
      kills++;
    }
    await startOperator();
  }
  return kills;
}

let ns: string;
/** Every version of every data key Secret seen (name → unwrapped keys, by uid binding). */
const seen = new Map<string, { uid: string; kekId: string; wrapped: string }[]>();
const watchAbort = new AbortController();

beforeAll(async () => {
  await clearKeyRotationRequest(admin); // one an earlier file left would rotate this operator's new ring at once
  await startOperator();

  await admin.create(Kinds.Organization, { metadata: { name: org }, spec: { displayName: 'Crash', capabilities: { miniApps: true } } });
  ns = await eventually(async () => (await admin.get<Organization>(Kinds.Organization, org))?.status?.namespace ?? false, { describe: 'the namespace' });
  const list = await admin.list<SecretObject>(Resources.Secret, { namespace: ns });
  void (async () => {
    for await (const ev of admin.watch<SecretObject>(Resources.Secret, { namespace: ns, resourceVersion: list.metadata.resourceVersion, signal: watchAbort.signal })) {
      if ((ev.type !== 'ADDED' && ev.type !== 'MODIFIED') || !ev.object.data?.wrappedKey) continue;
      const d = ev.object.data;
      const versions = seen.get(ev.object.metadata.name!) ?? [];
      versions.push({ uid: Buffer.from(d.miniAppUid!, 'base64').toString(), kekId: Buffer.from(d.keyEncryptionKeyId!, 'base64').toString(), wrapped: d.wrappedKey });
      seen.set(ev.object.metadata.name!, versions);
    }
  })().catch(() => {});
});

afterAll(async () => {
  watchAbort.abort();
  if (running.size > 0) await deleteOrganizationsAndWait(admin, [org]);
  await clearKeyRotationRequest(admin);
  await Promise.all([...running].map((p) => p.stop()));
});

describe('data keys with the operator killed again and again', () => {
  it('each mini app gets exactly one data key, which rotation rewraps and never replaces', async () => {
    const names = Array.from({ length: N }, (_, i) => `vault-${i}`);
    const creating = Promise.all(
      names.map((name) =>
        admin.create(Kinds.MiniApp, { metadata: { name, namespace: ns }, spec: { appName: name.replace('-', '_'), type: 'Text', dataPrivacy: { protection: 'EnvelopeEncryption' } } }),
      ),
    );
    const kills = await killAgainAndAgain(4, 400);
    await creating;
    const keyed = async (kek: string) => {
      const items = (await admin.list<MiniApp>(Kinds.MiniApp, { namespace: ns })).items;
      return items.length === N && items.every((m) => m.status?.dataKey?.keyEncryptionKeyId === kek && m.status.conditions?.some((c) => c.type === 'DataKeyReady' && c.status === 'True'));
    };
    await eventually(() => keyed('v1'), { timeoutMs: 90_000, intervalMs: 500, describe: 'every mini app with its data key' });

    const ring = async (): Promise<Extract<KeyRingState, { ok: true }>> => {
      const r = parseKeyRing(await admin.get<SecretObject>(Resources.Secret, KEK_SECRET_NAME, opNamespace), opNamespace);
      if (!r.ok) throw new Error(r.problem);
      return r;
    };
    const before = await ring();
    const pc = await admin.get<PlatformConfig>(Kinds.PlatformConfig, PLATFORM_CONFIG_NAME);
    const annotation = { metadata: { annotations: { 'miniapps.dev/rotate-key-encryption-key': uniqueName('crash') } } };
    if (pc) await admin.patch(Kinds.PlatformConfig, PLATFORM_CONFIG_NAME, undefined, annotation);
    else await admin.create(Kinds.PlatformConfig, { metadata: { name: PLATFORM_CONFIG_NAME, ...annotation.metadata }, spec: {} });
    const next = `v${Number(before.current.id.slice(1)) + 1}`;
    const moreKills = await killAgainAndAgain(3, 300);
    await eventually(() => keyed(next), { timeoutMs: 90_000, intervalMs: 500, describe: `every data key rewrapped with ${next}` });
    // Retirement waits for the last rewrap's reconcile, and retries after the kills are held to the
    // Manager's shared retry budget (10 a second): it can take longer than the rewraps did.
    await eventually(async () => [...(await ring()).keys.keys()].join() === next, { timeoutMs: 120_000, describe: `only ${next} left in the key ring` });
    expect(kills + moreKills).toBeGreaterThanOrEqual(7);

    const all = await ring();
    const keys = new Map([...before.keys, ...all.keys]);
    const minis = new Map((await admin.list<MiniApp>(Kinds.MiniApp, { namespace: ns })).items.map((m) => [`${m.metadata.name}-data-key`, m.metadata.uid!]));
    const secrets = (await admin.list<SecretObject>(Resources.Secret, { namespace: ns, labelSelector: 'miniapps.dev/data-key=true' })).items;
    expect(secrets.map((s) => s.metadata.name).sort()).toEqual([...minis.keys()].sort());
    await eventually(() => [...minis.keys()].every((n) => seen.get(n)?.some((v) => v.kekId === next)), { describe: 'the watch saw every rewrap' });
    for (const [name, uid] of minis) {
      // Every version of this Secret ever written holds the same data key, bound to this mini app.
      const versions = seen.get(name)!;
      const unwrapped = versions.map((v) => unwrapDataKey(keys.get(v.kekId)!, v.kekId, Buffer.from(v.wrapped, 'base64'), v.uid).toString('hex'));
      expect(new Set(versions.map((v) => v.uid))).toEqual(new Set([uid]));
      expect(new Set(unwrapped).size, `${name}: ${versions.length} versions`).toBe(1);
    }
  });
});
