// Backpressure against the real API server: API Priority and Fairness puts the operator's
// identity on a priority level of almost no concurrency that rejects what exceeds it, so
// kube-apiserver itself answers 429 with Retry-After while the operator converges a
// batch of Organizations. The operator must converge them all anyway, honour Retry-After,
// and keep its request rate within --kube-api-qps / --kube-api-burst.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import { ApiServerMetrics } from '../bench/apiserver.ts';
import { metricSum } from '../bench/measure.ts';
import type { MetricSet } from '../bench/measure.ts';
import type { ResourceType } from '../runtime/kube/resource.ts';
import { Resources } from '../runtime/kube/resource.ts';
import { testClient } from '../testenv/clients.ts';
import { eventually, testKubeconfig, uniqueName } from '../testenv/index.ts';
import { OperatorProcess } from '../testenv/operator-process.ts';
import { batchState, createOrgs } from './helpers.ts';

const FlowSchema: ResourceType = { group: 'flowcontrol.apiserver.k8s.io', version: 'v1', kind: 'FlowSchema', plural: 'flowschemas', namespaced: false };
const PriorityLevel: ResourceType = { group: 'flowcontrol.apiserver.k8s.io', version: 'v1', kind: 'PriorityLevelConfiguration', plural: 'prioritylevelconfigurations', namespaced: false };

const QPS = 100;
const BURST = 100;
const N = 200;

const admin = testClient();
const id = uniqueName('bp');
const user = `miniapps-${id}-operator`;
const operatorNamespace = `op-${id}`;
const dir = mkdtempSync(join(tmpdir(), 'backpressure-'));
let operator: OperatorProcess | undefined;

afterAll(async () => {
  await operator?.stop();
  for (const [rt, name] of [
    [FlowSchema, `${id}-leases`],
    [FlowSchema, id],
    [PriorityLevel, id],
    [Resources.ClusterRoleBinding, id],
  ] as const) {
    await admin.delete(rt, name).catch(() => {});
  }
  await admin.close();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * The operator's identity (an impersonated user, so that the admin certificate's
 * system:masters, which APF exempts, does not apply) on a priority level of almost no
 * concurrency (2 shares: 5 seats of the server's 600) and no queue: whatever exceeds it
 * is rejected at once with 429 and a Retry-After that APF doubles, from 1 s up to 32 s,
 * while the level keeps rejecting. (1 share, 3 seats, makes it reject so steadily that
 * Retry-After stays at 16 to 32 s and 200 Organizations take minutes.) Its Leases go to
 * the built-in leader-election level, as kube-controller-manager's do, so that the
 * rejections cannot cost it its lease.
 */
async function squeezeOperator(): Promise<void> {
  await admin.apply(Resources.ClusterRoleBinding, {
    metadata: { name: id },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
  });
  await admin.apply(PriorityLevel, {
    metadata: { name: id },
    spec: { type: 'Limited', limited: { nominalConcurrencyShares: 2, lendablePercent: 0, borrowingLimitPercent: 0, limitResponse: { type: 'Reject' } } },
  });
  const subjects = [{ kind: 'User', user: { name: user } }];
  await admin.apply(FlowSchema, {
    metadata: { name: `${id}-leases` },
    spec: {
      priorityLevelConfiguration: { name: 'leader-election' },
      matchingPrecedence: 450,
      distinguisherMethod: { type: 'ByUser' },
      rules: [{ subjects, resourceRules: [{ verbs: ['*'], apiGroups: ['coordination.k8s.io'], resources: ['leases'], namespaces: [operatorNamespace] }] }],
    },
  });
  await admin.apply(FlowSchema, {
    metadata: { name: id },
    spec: {
      priorityLevelConfiguration: { name: id },
      matchingPrecedence: 500,
      distinguisherMethod: { type: 'ByUser' },
      rules: [
        {
          subjects,
          resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'], clusterScope: true, namespaces: ['*'] }],
          nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
        },
      ],
    },
  });
}

/** The admin kubeconfig, acting as `user` (the kubeconfig's own `as`, which the operator honours). */
function operatorKubeconfig(): string {
  const doc = parseYaml(readFileSync(testKubeconfig(), 'utf8')) as { users: { user: Record<string, unknown> }[] };
  for (const u of doc.users) u.user.as = user;
  const path = join(dir, 'operator.kubeconfig');
  writeFileSync(path, stringify(doc), { mode: 0o600 });
  return path;
}

/** What the API server counted for the operator's FlowSchema. */
function apf(set: MetricSet): { dispatched: number; rejected: number; seats: number } {
  return {
    dispatched: metricSum(set, 'apiserver_flowcontrol_dispatched_requests_total', { flow_schema: id }),
    rejected: metricSum(set, 'apiserver_flowcontrol_rejected_requests_total', { flow_schema: id }),
    seats: metricSum(set, 'apiserver_flowcontrol_nominal_limit_seats', { priority_level: id }),
  };
}

describe('backpressure from the API server', () => {
  it(`converges ${N} Organizations while API Priority and Fairness answers 429, honouring Retry-After and staying within --kube-api-qps=${QPS}`, async () => {
    await squeezeOperator();
    const apiMetrics = new ApiServerMetrics(testKubeconfig());
    // APF picks up new FlowSchemas within a second or so: wait until one of ours is
    // classified (the FlowSchema's status says Dangling=False once its level exists).
    await eventually(
      async () => {
        const fs = await admin.get<{ metadata: object; status?: { conditions?: { type: string; status: string }[] } }>(FlowSchema, id);
        return fs?.status?.conditions?.some((c) => c.type === 'Dangling' && c.status === 'False') ?? false;
      },
      { timeoutMs: 30_000, describe: 'the FlowSchema to be in force' },
    );
    const before = apf(await apiMetrics.all());
    const t0 = Date.now();
    operator = await OperatorProcess.start({
      kubeconfig: operatorKubeconfig(),
      namespace: operatorNamespace,
      args: [`--kube-api-qps=${QPS}`, `--kube-api-burst=${BURST}`, '--webhook-bind-address=0', '--public-bind-address=0'],
    });

    const batch = uniqueName('bp');
    const names = Array.from({ length: N }, (_, i) => `${batch}-${i}`);
    await createOrgs(admin, names, batch);
    let readyCount = 0;
    await eventually(
      async () => {
        readyCount = (await batchState(admin, batch)).ready;
        return readyCount === N;
      },
      { timeoutMs: 150_000, intervalMs: 1000, describe: `all ${N} Organizations Ready` },
    ).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}: ${readyCount}/${N} Ready\n${operator!.describe()}`);
    });
    const seconds = (Date.now() - t0) / 1000;
    const after = apf(await apiMetrics.all());
    const server = { dispatched: after.dispatched - before.dispatched, rejected: after.rejected - before.rejected, seats: after.seats };

    const m = (name: string, labels: Record<string, string> = {}) => operator!.metric(name, labels);
    const received429 = await m('miniapps_kube_requests_total', { code: '429' });
    const retried429 = await m('miniapps_kube_request_retries_total', { code: '429' });
    const waitedSeconds = await m('miniapps_kube_request_retry_wait_seconds_total');
    const sent = await m('miniapps_kube_requests_total');
    const watches = await m('miniapps_kube_requests_total', { verb: 'WATCH' });
    const throttled = await m('miniapps_kube_rate_limiter_wait_seconds_count');
    const report = { seconds, server, received429, retried429, waitedSeconds, sent, watches, throttled };
    console.log(`[backpressure] ${JSON.stringify(report)}`);

    // The API server did reject the operator, and the operator saw each rejection.
    expect(server.rejected, JSON.stringify(report)).toBeGreaterThan(0);
    expect(received429).toBeGreaterThanOrEqual(server.rejected);
    // Every 429 was sent again after the wait the server asked for (APF asks for whole seconds).
    expect(retried429).toBeGreaterThan(0);
    expect(retried429).toBeLessThanOrEqual(received429);
    expect(waitedSeconds).toBeGreaterThanOrEqual(retried429);
    // Within the client-side limit: what the server saw of the operator (watches are not
    // limited; leader election has a bucket of its own on another FlowSchema) is no more
    // than the burst plus QPS for every second it ran, and the limit did hold requests back.
    expect(server.dispatched + server.rejected - watches).toBeLessThanOrEqual(BURST + QPS * seconds);
    expect(throttled).toBeGreaterThan(0);
    expect(sent).toBeGreaterThanOrEqual(server.dispatched + server.rejected);
    expect(operator.logs.filter((l) => l.level === 'fatal')).toEqual([]);
  });
});
