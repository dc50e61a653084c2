// oidc-provider's storage on the cluster: each stored model instance (session, grant,
// interaction, authorization code, refresh token, device code, ...) is one Secret in the
// provider's namespace (--identity-namespace), so the provider's state survives a restart and is shared by
// replicas. Names and labels carry only SHA-256 digests of ids, grant ids, session uids
// and user codes (an id of a token is the token); the payload is in the Secret's data.
// Expired entries are removed by sweep(), which the identity server runs periodically.
import { createHash } from 'node:crypto';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { ApiError } from '../runtime/errors.ts';
import type { KubeClient } from '../runtime/kube/client.ts';
import { Resources } from '../runtime/kube/resource.ts';

export const OIDC_MODEL_LABEL = 'miniapps.dev/oidc-model';
export const OIDC_GRANT_LABEL = 'miniapps.dev/oidc-grant';
export const OIDC_UID_LABEL = 'miniapps.dev/oidc-uid';
export const OIDC_USER_CODE_LABEL = 'miniapps.dev/oidc-user-code';
export const OIDC_ACCOUNT_LABEL = 'miniapps.dev/oidc-account';
export const OIDC_EXPIRES_ANNOTATION = 'miniapps.dev/oidc-expires-at';

const digest = (v: string, len = 40) => createHash('sha256').update(v).digest('hex').slice(0, len);

type SecretObject = {
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; resourceVersion?: string };
  data?: Record<string, string>;
  type?: string;
};

function modelKey(model: string): string {
  return model.toLowerCase();
}

export function storedName(model: string, id: string): string {
  return `oidc-${modelKey(model)}-${digest(`${model}:${id}`, 48)}`;
}

function expired(s: SecretObject, nowMs: number): boolean {
  const at = Number(s.metadata.annotations?.[OIDC_EXPIRES_ANNOTATION]);
  return Number.isFinite(at) && at > 0 && at * 1000 <= nowMs;
}

function payloadOf(s: SecretObject | undefined, nowMs: number): AdapterPayload | undefined {
  if (!s || expired(s, nowMs) || !s.data?.payload) return undefined;
  return JSON.parse(Buffer.from(s.data.payload, 'base64').toString('utf8')) as AdapterPayload;
}

export interface ClusterAdapterOptions {
  now?: () => number;
}

/** A factory oidc-provider's `adapter` option takes: one adapter per model name. */
export function clusterAdapter(client: KubeClient, namespace: string, opts: ClusterAdapterOptions = {}): (model: string) => Adapter {
  const now = opts.now ?? Date.now;
  return (model: string) => new ClusterAdapter(client, namespace, model, now);
}

export class ClusterAdapter implements Adapter {
  private readonly client: KubeClient;
  private readonly namespace: string;
  private readonly model: string;
  private readonly now: () => number;

  constructor(client: KubeClient, namespace: string, model: string, now: () => number) {
    this.client = client;
    this.namespace = namespace;
    this.model = model;
    this.now = now;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    const labels: Record<string, string> = { 'app.kubernetes.io/managed-by': 'miniapps-operator', [OIDC_MODEL_LABEL]: modelKey(this.model) };
    if (payload.grantId) labels[OIDC_GRANT_LABEL] = digest(payload.grantId);
    if (payload.uid) labels[OIDC_UID_LABEL] = digest(payload.uid);
    if (payload.userCode) labels[OIDC_USER_CODE_LABEL] = digest(payload.userCode);
    if (payload.accountId) labels[OIDC_ACCOUNT_LABEL] = digest(payload.accountId);
    const annotations: Record<string, string> = {};
    if (expiresIn) annotations[OIDC_EXPIRES_ANNOTATION] = String(Math.floor(this.now() / 1000) + expiresIn);
    await this.client.apply(Resources.Secret, {
      metadata: { name: storedName(this.model, id), namespace: this.namespace, labels, annotations },
      type: 'miniapps.dev/oidc-state',
      data: { payload: Buffer.from(JSON.stringify(payload)).toString('base64') },
    });
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const s = await this.client.get<SecretObject>(Resources.Secret, storedName(this.model, id), this.namespace);
    return payloadOf(s, this.now());
  }

  private async findByLabel(label: string, value: string): Promise<AdapterPayload | undefined> {
    const list = await this.client.list<SecretObject>(Resources.Secret, {
      namespace: this.namespace,
      labelSelector: `${OIDC_MODEL_LABEL}=${modelKey(this.model)},${label}=${digest(value)}`,
    });
    for (const s of list.items) {
      const p = payloadOf(s, this.now());
      if (p) return p;
    }
    return undefined;
  }

  findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return this.findByLabel(OIDC_USER_CODE_LABEL, userCode);
  }

  findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return this.findByLabel(OIDC_UID_LABEL, uid);
  }

  /** Marks a one-time entry (code, device code, rotated refresh token) used, by compare-and-swap: two replicas never both consume it. */
  async consume(id: string): Promise<void> {
    const name = storedName(this.model, id);
    for (let attempt = 0; attempt < 5; attempt++) {
      const s = await this.client.get<SecretObject>(Resources.Secret, name, this.namespace);
      const p = payloadOf(s, this.now());
      if (!s || !p) return;
      p.consumed = Math.floor(this.now() / 1000);
      try {
        await this.client.replace(Resources.Secret, { ...s, data: { ...s.data, payload: Buffer.from(JSON.stringify(p)).toString('base64') } });
        return;
      } catch (err) {
        if (err instanceof ApiError && err.status === 409) continue;
        throw err;
      }
    }
    throw new Error(`Could not mark ${this.model} consumed after 5 conflicting writes`);
  }

  async destroy(id: string): Promise<void> {
    await this.client.delete(Resources.Secret, storedName(this.model, id), this.namespace);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await deleteBySelector(this.client, this.namespace, `${OIDC_MODEL_LABEL}=${modelKey(this.model)},${OIDC_GRANT_LABEL}=${digest(grantId)}`);
  }
}

async function deleteBySelector(client: KubeClient, namespace: string, labelSelector: string): Promise<number> {
  const list = await client.listAll<SecretObject>(Resources.Secret, { namespace, labelSelector });
  await Promise.all(list.items.map((s) => client.delete(Resources.Secret, s.metadata.name, namespace)));
  return list.items.length;
}

/** Removes every stored entry whose expiry has passed; returns how many. */
export async function sweepExpired(client: KubeClient, namespace: string, nowMs = Date.now()): Promise<number> {
  const list = await client.listAll<SecretObject>(Resources.Secret, { namespace, labelSelector: OIDC_MODEL_LABEL });
  const old = list.items.filter((s) => expired(s, nowMs));
  await Promise.all(old.map((s) => client.delete(Resources.Secret, s.metadata.name, namespace, { resourceVersion: s.metadata.resourceVersion }).catch(() => false)));
  return old.length;
}

/** Removes every grant, session, refresh and access token of an account: a suspension ends them at once. */
export async function revokeAccount(client: KubeClient, namespace: string, accountId: string): Promise<number> {
  return deleteBySelector(client, namespace, `${OIDC_MODEL_LABEL},${OIDC_ACCOUNT_LABEL}=${digest(accountId)}`);
}
