// The embedded identity provider under load on loopback: full sign-ins a second (the
// authorization code flow with PKCE driven by openid-client, the sign-in form posted with a
// password the provider checks with scrypt, the code redeemed) and the latency of token
// issuance by the refresh grant (each refresh rotates the token: a chain per connection).
// scrypt (N=2^17, r=8: 128 MiB and a few hundred ms a hash, two at once per process)
// bounds the sign-ins; the table prints that ceiling beside the rate. It also measures what
// the shared lockout costs: the compare-and-swap writes of a failure, the read of a check.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import { AccountStore, DEFAULT_KDF, HASH_SLOTS, hashPassword, verifyPassword } from '../identity/accounts.ts';
import { ClusterFailureCounter } from '../identity/lockout.ts';
import { KUBECTL_CLIENT_ID } from '../identity/provider.ts';
import { Resources } from '../runtime/kube/resource.ts';
import { createCA, issueCertificate } from '../runtime/pki.ts';
import { freePort } from '../testenv/eventually.ts';
import { relyingParty, signIn } from '../testenv/identity.ts';
import { percentile, pool } from './measure.ts';
import { removeOperatorWebhook, startOperator } from './operator.ts';
import { operatorNamespace, round } from './organizations.ts';
import type { Scenario, ScenarioResult } from './scenario.ts';

/** Targets: sign-ins a second, and their share of what scrypt allows on this machine; p99 of a refresh grant. */
const TARGET_SIGN_INS = 4;
const TARGET_SHARE_OF_CEILING = 0.6;
const TARGET_REFRESH_P99_MS = 100;

async function timed<T>(fn: () => Promise<T>, into: number[]): Promise<T> {
  const t = performance.now();
  const v = await fn();
  into.push(performance.now() - t);
  return v;
}

export const identityScenario: Scenario = {
  name: 'identity',
  description:
    'the embedded OIDC provider on loopback: full sign-ins a second (code flow, PKCE, a scrypt password check) and p99 of token issuance by the refresh grant; the shared lockout write cost',
  sizes: {
    accounts: { default: 8, help: 'accounts signing in (each made with the production scrypt)' },
    connections: { default: 4, help: 'sign-ins (then refresh chains) in flight at once' },
    seconds: { default: 10, help: 'how long each load runs' },
  },
  n: (s) => s.accounts!,
  async run(ctx): Promise<ScenarioResult> {
    if (!ctx.disposableCluster) throw new Error('scenario identity runs only on the control plane it starts');
    const namespace = operatorNamespace(ctx);
    const connections = ctx.sizes.connections!;
    const durationMs = ctx.sizes.seconds! * 1000;
    // The provider's listener: its own CA and certificate; the bench's requests come "through" a trusted proxy
    // (each sign-in from its own forwarded address), as behind an Ingress, so that the per-address throttle is not what is measured.
    const ca = createCA('miniapps-bench-identity');
    const cert = issueCertificate({ ca, commonName: 'identity', ipAddresses: ['127.0.0.1'], usages: 'server', validityDays: 2 });
    const certDir = mkdtempSync(join(tmpdir(), 'miniapps-bench-identity-'));
    ctx.defer('remove the TLS key and certificate', async () => rmSync(certDir, { recursive: true, force: true }));
    writeFileSync(join(certDir, 'tls.crt'), cert.certPEM);
    writeFileSync(join(certDir, 'tls.key'), cert.keyPEM);
    const port = await freePort();
    const issuer = `https://127.0.0.1:${port}`;
    await ctx.client.create(Resources.Namespace, { metadata: { name: namespace } });
    const op = await startOperator(ctx, namespace, {
      args: [`--identity-bind-address=127.0.0.1:${port}`, `--identity-issuer=${issuer}`, `--identity-cert-dir=${certDir}`, '--trusted-proxies=127.0.0.1'],
    });
    ctx.defer('remove the operator webhook', () => removeOperatorWebhook(ctx.client, namespace));

    // scrypt alone, in this process: the cost every sign-in pays once.
    const probe = await hashPassword('a password to time scrypt with', DEFAULT_KDF);
    const hashMs: number[] = [];
    for (let i = 0; i < 4; i++) await timed(() => verifyPassword('a password to time scrypt with', probe), hashMs);
    const scryptMs = hashMs.sort((a, b) => a - b)[1]!;
    const ceiling = (Math.min(HASH_SLOTS, availableParallelism()) * 1000) / scryptMs;

    const accounts = Array.from({ length: ctx.sizes.accounts! }, (_, i) => ({ username: `bench-${i}`, email: `bench-${i}@example.com`, password: `bench password number ${i}` }));
    const store = new AccountStore(ctx.client, namespace);
    await pool(accounts.length, 2, async (i) => void (await store.create({ ...accounts[i]!, firstName: 'Bench', lastName: String(i) })));
    const config = await relyingParty(issuer, KUBECTL_CLIENT_ID, ca.certPEM);
    let clients = 0;
    const once = (i: number) =>
      signIn({
        issuer,
        caPEM: ca.certPEM,
        clientId: KUBECTL_CLIENT_ID,
        login: accounts[i % accounts.length]!.username,
        password: accounts[i % accounts.length]!.password,
        config,
        headers: { 'x-forwarded-for': `10.${(clients >> 16) & 255}.${(clients >> 8) & 255}.${clients++ & 255}` },
      });
    ctx.log(`[identity] ${accounts.length} accounts; warming up on ${issuer}`);
    await pool(connections, connections, async (i) => void (await once(i)));

    ctx.log(`[identity] sign-ins: ${connections} at once for ${ctx.sizes.seconds}s`);
    const signInMs: number[] = [];
    const refreshTokens: string[] = [];
    let signInErrors = 0;
    let firstError = '';
    const start = performance.now();
    await Promise.all(
      Array.from({ length: connections }, async (_, c) => {
        for (let k = c; performance.now() - start < durationMs; k += connections) {
          try {
            const r = await timed(() => once(k), signInMs);
            if (r.refreshToken) refreshTokens[c] = r.refreshToken;
          } catch (err) {
            signInErrors++;
            firstError ||= (err as Error).message;
          }
        }
      }),
    );
    const signInSeconds = (performance.now() - start) / 1000;
    const signInsPerSecond = signInMs.length / signInSeconds;

    ctx.log(`[identity] refresh grants: ${connections} chains for ${ctx.sizes.seconds}s`);
    const refreshMs: number[] = [];
    let refreshErrors = 0;
    const rStart = performance.now();
    await Promise.all(
      refreshTokens.map(async (first) => {
        let rt = first;
        while (performance.now() - rStart < durationMs) {
          try {
            const t = await timed(() => oidc.refreshTokenGrant(config, rt), refreshMs);
            rt = t.refresh_token!;
          } catch (err) {
            refreshErrors++;
            firstError ||= (err as Error).message;
            return;
          }
        }
      }),
    );
    const refreshSeconds = (performance.now() - rStart) / 1000;
    const sample = op.sample();
    await op.stop();

    // The shared lockout's cost, from this client: a failure is a read and a create (first) or a compare-and-swap replace; a check is a read.
    const lockout = new ClusterFailureCounter(ctx.client, namespace, 5, 15 * 60_000);
    const failFirst: number[] = [];
    const failAgain: number[] = [];
    const check: number[] = [];
    const clear: number[] = [];
    const logins = Array.from({ length: 100 }, (_, i) => `guess-${i}@example.com`);
    const now = Date.now();
    for (const l of logins) await timed(() => lockout.fail(l, now), failFirst);
    for (const l of logins) await timed(() => lockout.fail(l, now), failAgain);
    for (const l of logins) await timed(() => lockout.locked(l, now), check);
    for (const l of logins) await timed(() => lockout.succeed(l), clear);
    for (const a of [signInMs, refreshMs, failFirst, failAgain, check, clear]) a.sort((x, y) => x - y);

    const refreshP99 = percentile(refreshMs, 99);
    const share = signInsPerSecond / ceiling;
    return {
      table: [
        {
          phase: `sign-ins: code flow + PKCE + scrypt password check (${connections} at once, ${round(signInSeconds, 1)}s, ${accounts.length} accounts)`,
          figures: [
            { label: 'sign-ins', value: signInMs.length },
            { label: 'sign-ins a second', value: round(signInsPerSecond, 2), unit: `(target ≥ ${TARGET_SIGN_INS})` },
            { label: 'scrypt verification alone', value: round(scryptMs, 0), unit: `ms (N=2^17, r=8; ${HASH_SLOTS} at once)` },
            { label: 'ceiling scrypt allows', value: round(ceiling, 2), unit: 'sign-ins a second' },
            { label: 'share of that ceiling reached', value: round(share, 2), unit: `(target ≥ ${TARGET_SHARE_OF_CEILING})` },
            { label: 'sign-in latency p50', value: round(percentile(signInMs, 50), 0), unit: 'ms' },
            { label: 'sign-in latency p99', value: round(percentile(signInMs, 99), 0), unit: 'ms' },
            { label: 'errors', value: signInErrors },
          ],
        },
        {
          phase: `token issuance: refresh grant, rotating (${refreshTokens.length} chains, ${round(refreshSeconds, 1)}s)`,
          figures: [
            { label: 'refreshes', value: refreshMs.length },
            { label: 'refreshes a second', value: round(refreshMs.length / refreshSeconds, 0) },
            { label: 'latency p50', value: round(percentile(refreshMs, 50), 1), unit: 'ms' },
            { label: 'latency p99', value: round(refreshP99, 1), unit: `ms (target < ${TARGET_REFRESH_P99_MS})` },
            { label: 'errors', value: refreshErrors },
            { label: 'operator peak RSS (VmHWM)', value: round(sample.peakRssMB, 1), unit: 'MB' },
          ],
        },
        {
          phase: 'shared lockout on the cluster (100 logins, from this client)',
          figures: [
            { label: 'first failure (read + create) p50 / p99', value: `${round(percentile(failFirst, 50), 1)} / ${round(percentile(failFirst, 99), 1)}`, unit: 'ms' },
            { label: 'next failure (read + CAS replace) p50 / p99', value: `${round(percentile(failAgain, 50), 1)} / ${round(percentile(failAgain, 99), 1)}`, unit: 'ms' },
            { label: 'check (read) p50 / p99', value: `${round(percentile(check, 50), 1)} / ${round(percentile(check, 99), 1)}`, unit: 'ms' },
            { label: 'clear after a success (delete) p50 / p99', value: `${round(percentile(clear, 50), 1)} / ${round(percentile(clear, 99), 1)}`, unit: 'ms' },
          ],
        },
      ],
      summary: {
        bench: 'identity',
        n: accounts.length,
        connections,
        seconds: ctx.sizes.seconds!,
        signIns: signInMs.length,
        signInsPerSecond: round(signInsPerSecond, 2),
        signInTarget: TARGET_SIGN_INS,
        scryptMs: round(scryptMs, 0),
        ceilingPerSecond: round(ceiling, 2),
        shareOfCeiling: round(share, 2),
        signInP99Ms: round(percentile(signInMs, 99), 0),
        signInErrors,
        refreshes: refreshMs.length,
        refreshP50Ms: round(percentile(refreshMs, 50), 2),
        refreshP99Ms: round(refreshP99, 2),
        refreshP99TargetMs: TARGET_REFRESH_P99_MS,
        refreshErrors,
        lockoutFailP99Ms: round(percentile(failAgain, 99), 2),
        lockoutCheckP99Ms: round(percentile(check, 99), 2),
        firstError: firstError || null,
        met: signInsPerSecond >= TARGET_SIGN_INS && share >= TARGET_SHARE_OF_CEILING && refreshP99 < TARGET_REFRESH_P99_MS && !signInErrors && !refreshErrors,
      },
    };
  },
};
