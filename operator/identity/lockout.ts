// Sign-in lockout shared by every replica: the failures in a row of one login (user name or
// email as typed, lowercased, whether or not an account has it) are one Secret in the
// provider's namespace, `oidc-lockout-<digest>`, counted by compare-and-swap on its
// resourceVersion, so that N replicas lock a login after the same 5 failures as one
// replica would (with per-replica counters a guesser spreading tries over N replicas got
// N times as many). The Secret's name and labels hold only a digest of the login; its
// expiry annotation is the sweeper's (adapter.ts sweepExpired): the count is forgotten
// `lockoutMs` after the last failure, or when the lockout ends.
import { createHash } from 'node:crypto';
import { ApiError } from '../runtime/errors.ts';
import type { KubeClient } from '../runtime/kube/client.ts';
import { Resources } from '../runtime/kube/resource.ts';
import { OIDC_EXPIRES_ANNOTATION, OIDC_MODEL_LABEL } from './adapter.ts';

export const LOCKOUT_MODEL = 'lockout';
const FAILURES_ANNOTATION = 'miniapps.dev/sign-in-failures';
const LOCKED_UNTIL_ANNOTATION = 'miniapps.dev/locked-until';
/** Compare-and-swap attempts of one failure (each conflict means another replica counted one in between). */
const ATTEMPTS = 20;

/** What the sign-in pages need of a lockout: per replica (FailureCounter) or on the cluster (ClusterFailureCounter). */
export interface SignInFailures {
  locked(login: string, now: number): boolean | Promise<boolean>;
  fail(login: string, now: number): void | Promise<void>;
  succeed(login: string): void | Promise<void>;
}

type SecretObject = {
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; resourceVersion?: string };
  type?: string;
};

export function lockoutSecretName(login: string): string {
  return `oidc-lockout-${createHash('sha256').update(`lockout:${login.trim().toLowerCase()}`).digest('hex').slice(0, 48)}`;
}

function state(s: SecretObject | undefined, now: number): { failures: number; lockedUntil: number } {
  const a = s?.metadata.annotations ?? {};
  const expiresAt = Number(a[OIDC_EXPIRES_ANNOTATION]) * 1000;
  if (!s || !(expiresAt > now)) return { failures: 0, lockedUntil: 0 };
  const lockedUntil = Number(a[LOCKED_UNTIL_ANNOTATION]) || 0;
  // A lockout that has ended starts the count again, as FailureCounter does.
  if (lockedUntil && lockedUntil <= now) return { failures: 0, lockedUntil: 0 };
  return { failures: Number(a[FAILURES_ANNOTATION]) || 0, lockedUntil };
}

export class ClusterFailureCounter implements SignInFailures {
  private readonly client: KubeClient;
  private readonly namespace: string;
  private readonly max: number;
  private readonly lockoutMs: number;

  constructor(client: KubeClient, namespace: string, max: number, lockoutMs: number) {
    this.client = client;
    this.namespace = namespace;
    this.max = max;
    this.lockoutMs = lockoutMs;
  }

  private get(login: string): Promise<SecretObject | undefined> {
    return this.client.get<SecretObject>(Resources.Secret, lockoutSecretName(login), this.namespace);
  }

  async locked(login: string, now: number): Promise<boolean> {
    return state(await this.get(login), now).lockedUntil > now;
  }

  /** One more failure: create or replace with the resourceVersion read, again on a conflict (another replica counted in between). */
  async fail(login: string, now: number): Promise<void> {
    const name = lockoutSecretName(login);
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      // After a conflict, a short random pause: writers racing on one login then take turns.
      if (attempt) await new Promise((r) => setTimeout(r, Math.random() * 10 * attempt));
      const current = await this.get(login);
      const s = state(current, now);
      const failures = s.failures + 1;
      const lockedUntil = failures >= this.max ? Math.max(s.lockedUntil, now + this.lockoutMs) : 0;
      const expiresAtS = Math.ceil((lockedUntil || now + this.lockoutMs) / 1000);
      const metadata = {
        name,
        namespace: this.namespace,
        labels: { 'app.kubernetes.io/managed-by': 'miniapps-operator', [OIDC_MODEL_LABEL]: LOCKOUT_MODEL },
        annotations: { [FAILURES_ANNOTATION]: String(failures), [LOCKED_UNTIL_ANNOTATION]: String(lockedUntil), [OIDC_EXPIRES_ANNOTATION]: String(expiresAtS) },
      };
      try {
        if (current) await this.client.replace(Resources.Secret, { ...current, metadata: { ...current.metadata, ...metadata } });
        else await this.client.create(Resources.Secret, { metadata, type: 'miniapps.dev/oidc-state' });
        return;
      } catch (err) {
        if (err instanceof ApiError && (err.status === 409 || (err.status === 404 && current))) continue;
        throw err;
      }
    }
    throw new Error(`Sign-in failure not counted after ${ATTEMPTS} conflicting writes`);
  }

  async succeed(login: string): Promise<void> {
    await this.client.delete(Resources.Secret, lockoutSecretName(login), this.namespace);
  }
}
