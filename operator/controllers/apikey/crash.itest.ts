// API keys under SIGKILL: the operator killed again and again while it issues and rotates
// many keys. The protocol (the revision's Secret created first, never replaced, then its
// hash recorded with a compare-and-swap) must never yield two keys for one revision, nor a
// status that points at a key nobody has. A watch records every status the API server
// ever held, so a key recorded and later replaced would be seen even if the end looks fine.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLATFORM_CONFIG_NAME } from '../../api/platformconfig/schema.ts';
import type { ApiKey } from '../../api/apikey/schema.ts';
import type { Organization } from '../../api/organization/schema.ts';
import { Resources } from '../../runtime/kube/resource.ts';
import { readKey } from '../../testenv/apikeys.ts';
import { deleteOrganization, testClient } from '../../testenv/clients.ts';
import { eventually, testKubeconfig, uniqueName } from '../../testenv/index.ts';
import { OperatorProcess } from '../../testenv/operator-process.ts';
import { Kinds } from '../../api/registry.ts';
import { fingerprintOf } from './key.ts';

const admin = testClient();
const operatorNamespace = uniqueName('op-keycrash');
const org = uniqueName('keycrash');
const ns = `org-${org}`;
const OWNER = `owner@${org}.example`;
/** Keys are capped per owner (PlatformConfig spec.quotas.apiKeysPerOwner, default 20): the 40 keys have two owners. */
const OWNER2 = `owner2@${org}.example`;
const N = 40;
const running = new Set<OperatorProcess>();

async function startOperator(): Promise<OperatorProcess> {
  const p = await OperatorProcess.start({ kubeconfig: testKubeconfig(), namespace: operatorNamespace, args: ['--leader-elect=false'] });
  running.add(p);
  void p.exit.then(() => running.delete(p));
  return p;
}

const keys = async () => (await admin.list<ApiKey>(Kinds.ApiKey, { namespace: ns })).items;
const keySecrets = async () =>
  (
    await admin.list<{ metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> }; data?: Record<string, string> }>(Resources.Secret, {
      namespace: ns,
      labelSelector: 'miniapps.dev/apikey',
    })
  ).items;

/** Every (ApiKey uid, revision) → the fingerprints status ever recorded for it. */
const recorded = new Map<string, Set<string>>();
const watch = new AbortController();
let watching: Promise<void> | undefined;

async function recordStatuses(): Promise<void> {
  const list = await admin.list<ApiKey>(Kinds.ApiKey, { namespace: ns });
  const note = (k: ApiKey) => {
    const s = k.status;
    if (!s?.fingerprint || s.rotationRevision === undefined) return;
    const id = `${k.metadata.name}/r${s.rotationRevision}`;
    const set = recorded.get(id) ?? new Set<string>();
    set.add(s.fingerprint);
    recorded.set(id, set);
  };
  list.items.forEach(note);
  try {
    for await (const ev of admin.watch<ApiKey>(Kinds.ApiKey, { namespace: ns, resourceVersion: list.metadata.resourceVersion, signal: watch.signal, timeoutSeconds: 600 })) {
      if (ev.type === 'ADDED' || ev.type === 'MODIFIED') note(ev.object);
    }
  } catch (err) {
    if (!watch.signal.aborted) throw err;
  }
}

beforeAll(async () => {
  // ApiKeys need the PlatformConfig (the owner policy's parameter); a file run alone has none yet.
  if (!(await admin.get(Kinds.PlatformConfig, PLATFORM_CONFIG_NAME))) await admin.apply(Kinds.PlatformConfig, { metadata: { name: PLATFORM_CONFIG_NAME }, spec: {} });
  const op = await startOperator();
  await admin.create(Kinds.Organization, { metadata: { name: org }, spec: { displayName: 'Key crash' } });
  await eventually(async () => (await admin.get<Organization>(Kinds.Organization, org))?.status?.namespace, { describe: 'the namespace' });
  await eventually(() => admin.create(Kinds.Membership, { metadata: { name: 'owner', namespace: ns }, spec: { email: OWNER, role: 'OrganizationAdministrator', acceptance: 'Automatic' } }), {
    describe: 'the owner',
  });
  await admin.create(Kinds.Membership, { metadata: { name: 'owner2', namespace: ns }, spec: { email: OWNER2, role: 'OrganizationAdministrator', acceptance: 'Automatic' } });
  op.kill('SIGKILL');
  await op.exit;
  watching = recordStatuses();
});

afterAll(async () => {
  watch.abort();
  await watching?.catch(() => undefined);
  await Promise.all([...running].map((p) => p.stop()));
  await deleteOrganization(admin, org).catch(() => undefined);
  await admin.delete(Resources.Namespace, operatorNamespace);
});

describe('one key per revision, whatever kills the operator', () => {
  it(`holds while the operator is SIGKILLed again and again issuing and rotating ${N} keys`, async () => {
    // Half rotate every 2 s (with a 1 s grace), so that every restart has new revisions to issue.
    await Promise.all(
      Array.from({ length: N }, (_, i) =>
        admin.create(Kinds.ApiKey, {
          metadata: { name: `k${i}`, namespace: ns },
          spec: { owner: i < N / 2 ? OWNER : OWNER2, ttl: '1h', ...(i % 2 ? { rotation: { period: '2s', gracePeriod: '1s' } } : {}) },
        }),
      ),
    );
    let kills = 0;
    let caughtBetween = 0;
    for (let round = 0; round < 30 && (caughtBetween < 3 || kills < 8); round++) {
      const op = await startOperator();
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 500));
      op.kill('SIGKILL');
      await op.exit;
      kills++;
      // A Secret of a revision status has not recorded: the kill fell between the create and the record.
      const byName = new Map((await keys()).map((k) => [k.metadata.name, k.status?.rotationRevision ?? -1]));
      caughtBetween += (await keySecrets()).filter((s) => Number(s.metadata.annotations?.['miniapps.dev/revision']) > (byName.get(s.metadata.labels!['miniapps.dev/apikey']!) ?? -1)).length;
    }

    const op = await startOperator();
    await eventually(
      async () => {
        const now = await keys();
        return now.length === N && now.every((k) => k.status?.phase === 'Active' && k.status.observedGeneration === k.metadata.generation) ? now : false;
      },
      { timeoutMs: 60_000, describe: `all ${N} keys Active` },
    );
    await op.stop();
    // Keys rotate every 2 s: what the operator did between that read and its stop counts too.
    const final = await keys();
    watch.abort();
    await watching;

    // Never two different keys recorded for one revision of one ApiKey.
    const twice = [...recorded].filter(([, fps]) => fps.size > 1).map(([id]) => id);
    expect(twice).toEqual([]);
    // Status points at a key someone has: the Secret it names holds exactly the recorded key.
    for (const k of final) expect(fingerprintOf(await readKey(admin, k)), `${k.metadata.name} r${k.status!.rotationRevision}`).toBe(k.status!.fingerprint);
    // Every revision's Secret still there (rotated-out ones are deleted after their grace period) holds the key status recorded for it.
    const secrets = await keySecrets();
    const finalRevision = new Map(final.map((k) => [k.metadata.name, k.status!.rotationRevision ?? 0]));
    let checked = 0;
    let pending = 0;
    for (const s of secrets) {
      const name = s.metadata.labels!['miniapps.dev/apikey']!;
      const revision = Number(s.metadata.annotations!['miniapps.dev/revision']);
      const id = `${name}/r${revision}`;
      // The stop may end a rotation between its Secret's create and its record (as a kill
      // does): that Secret is the next revision, which the next start reuses, never replaces.
      if (revision > finalRevision.get(name)!) {
        expect(revision, `${id}: only the next revision may be in flight`).toBe(finalRevision.get(name)! + 1);
        pending++;
        continue;
      }
      const fps = recorded.get(id);
      expect(fps, `${id}: a Secret whose key status never recorded`).toBeDefined();
      expect([...fps!], id).toEqual([fingerprintOf(Buffer.from(s.data!.apiKey!, 'base64').toString('utf8'))]);
      checked++;
    }
    const rotations = final.reduce((n, k) => n + (k.status!.rotationRevision ?? 0), 0);
    // Rotated-out keys' Secrets are gone: at most the current and the previous revision of each key remain.
    // On failure the message names each Secret status does not name, with its revision and its key's status. Seen in CI on 7 Dec
    // (60 against 59: a rotation refused by a ResourceQuota conflict dropped an ended grace without deleting its Secret; controller.test.ts now holds that case).
    const named = new Set(final.flatMap((k) => [k.status!.secretName, k.status!.previousKey?.secretName]));
    const unnamed = secrets
      .filter((x) => !named.has(x.metadata.name))
      .map(
        (x) =>
          `${x.metadata.name} (revision ${x.metadata.annotations!['miniapps.dev/revision']}; its key's status ${JSON.stringify(final.find((k) => k.metadata.name === x.metadata.labels!['miniapps.dev/apikey'])?.status)})`,
      );
    expect(secrets.length, `Secrets no status names: ${unnamed.join(', ')}`).toBeLessThanOrEqual(N + final.filter((k) => k.status!.previousKey).length + pending);
    console.log(
      `killed ${kills} times; ${caughtBetween} Secrets found created but not yet recorded after a kill; ${rotations} rotations; ${checked} revisions checked against their Secrets; ${pending} in flight at the stop`,
    );
    expect(kills).toBeGreaterThanOrEqual(8);
    expect(rotations).toBeGreaterThan(N / 2);
    expect(checked).toBeGreaterThanOrEqual(N);
    // The test must have hit the window between creating a revision's Secret and recording it, or it proves nothing.
    expect(caughtBetween).toBeGreaterThan(0);
  });
});
