// A runtime KubeClient on the test cluster, for integration tests.
import { CONFIRM_DELETE_ANNOTATION, CONFIRM_DELETE_VALUE } from '../api/constants.ts';
import { Kinds } from '../api/registry.ts';
import { type AnyObject, KubeClient } from '../runtime/kube/client.ts';
import type { Organization } from '../api/organization/schema.ts';
import { Resources } from '../runtime/kube/resource.ts';
import type { ResourceType } from '../runtime/kube/resource.ts';
import { eventually } from './eventually.ts';
import { testKubeconfig } from './index.ts';

/** An admin client on the test cluster, writing as the field manager `test`. */
export function testClient(): KubeClient {
  return KubeClient.fromKubeconfig(testKubeconfig(), { fieldManager: 'test' });
}

/**
 * Polls one object with `client` until `test` holds and returns it; on timeout the error
 * names `what` and the last status seen (or the object, or that there was none).
 */
export async function untilObject<T extends AnyObject>(
  client: KubeClient,
  rt: ResourceType,
  name: string,
  ns: string | undefined,
  test: (o: T) => boolean,
  what: string,
  timeoutMs = 60_000,
): Promise<T> {
  return eventually(
    async () => {
      const last = await client.get<T>(rt, name, ns);
      if (last && test(last)) return last;
      throw new Error(`last seen: ${JSON.stringify((last as { status?: unknown } | undefined)?.status ?? last ?? 'nothing')}`);
    },
    { timeoutMs, describe: what },
  );
}

/**
 * Deletes an Organization the way its admission policy allows: annotated with
 * miniapps.dev/confirm-delete first. Resolves once the delete is accepted (the
 * finalizer may still hold it while the namespace goes).
 */
export async function deleteOrganization(client: KubeClient, name: string): Promise<boolean> {
  if (!(await client.get(Kinds.Organization, name))) return false;
  await client.patch(Kinds.Organization, name, undefined, { metadata: { annotations: { [CONFIRM_DELETE_ANNOTATION]: CONFIRM_DELETE_VALUE } } });
  return client.delete(Kinds.Organization, name);
}

/**
 * Deletes the Organizations (confirmed) and waits until they and everything in them are
 * gone. Call it while the file's operator still runs (its finalizers must be released):
 * operators reconcile cluster-wide, so what one test file leaves behind is work, and
 * state, for the next file's operator.
 */
export async function deleteOrganizationsAndWait(client: KubeClient, names: string[], timeoutMs = 120_000): Promise<void> {
  for (const name of names) await deleteOrganization(client, name);
  await eventually(
    async () => {
      const left = (await Promise.all(names.map((n) => client.get<Organization>(Kinds.Organization, n)))).filter((o) => o !== undefined);
      if (left.length === 0) return true;
      // On timeout, the error says what still holds each one: its finalizers and Ready, its namespace's phase and conditions.
      throw new Error(`still there: ${(await Promise.all(left.map((o) => whatHolds(client, o)))).join('; ')}`);
    },
    { timeoutMs, describe: `Organizations ${names.join(', ')} deleted with everything in them` },
  );
}

/** An Organization being deleted, as far as what holds it: its finalizers, its Ready condition, and its namespace's deletion. */
async function whatHolds(client: KubeClient, o: Organization): Promise<string> {
  const ready = o.status?.conditions?.find((c) => c.type === 'Ready');
  const nsName = o.status?.namespace;
  const ns = nsName
    ? await client.get<AnyObject & { spec?: { finalizers?: string[] }; status?: { phase?: string; conditions?: { type: string; status: string; message?: string }[] } }>(Resources.Namespace, nsName)
    : undefined;
  const nsSays = ns
    ? `namespace ${nsName} ${ns.status?.phase ?? '?'} (finalizers ${JSON.stringify([...(ns.spec?.finalizers ?? []), ...(ns.metadata.finalizers ?? [])])}; ${(ns.status?.conditions ?? [])
        .filter((c) => c.status === 'True')
        .map((c) => `${c.type}: ${c.message ?? ''}`)
        .join(', ')})`
    : nsName
      ? `namespace ${nsName} gone`
      : 'no namespace recorded';
  return `${o.metadata.name} (finalizers ${JSON.stringify(o.metadata.finalizers ?? [])}, Ready ${ready?.status ?? '?'} ${ready?.reason ?? ''}: ${ready?.message ?? ''}; ${nsSays})`;
}

/**
 * Removes a pending key-encryption key rotation request from the PlatformConfig: an
 * operator started later in the same cluster (a new key ring) would otherwise take it as
 * its own and rotate at once.
 */
export async function clearKeyRotationRequest(client: KubeClient): Promise<void> {
  const pc = await client.get<{ metadata: { annotations?: Record<string, string> } }>(Kinds.PlatformConfig, 'default');
  if (pc?.metadata.annotations?.['miniapps.dev/rotate-key-encryption-key'] === undefined) return;
  await client.patch(Kinds.PlatformConfig, 'default', undefined, { metadata: { annotations: { 'miniapps.dev/rotate-key-encryption-key': null } } });
}
