// A GitOps tool and the operator never fight: examples/ applied with server-side apply
// under a field manager of its own (as Flux and Argo CD apply), the operator left to
// converge on them, and the same apply asked again (`kubectl diff --server-side`) has
// nothing to change and no conflict: the operator writes no user's spec. And the chart
// as `helm template` renders it passes `kubectl apply --server-side --dry-run=server`.
// On a control plane of its own: examples/ sets the PlatformConfig other files use.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnyObject } from '../runtime/kube/client.ts';
import { KubeClient } from '../runtime/kube/client.ts';
import { Resources } from '../runtime/kube/resource.ts';
import { ControlPlane, eventually } from '../testenv/index.ts';
import { EXAMPLES, applyExamples, exampleFiles, kubectlOn } from './helpers.ts';
import { OperatorProcess } from '../testenv/operator-process.ts';
import { findTool, run } from '../testenv/tools.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const helmBin = findTool('helm');
const OPERATOR_NAMESPACE = 'miniapps-system'; // where examples/ puts the administrator's ApiKey
const MANAGER = 'gitops';

let cp: ControlPlane;
let admin: KubeClient;
let operator: OperatorProcess | undefined;

const kubectl = (args: string[], stdin?: string) => kubectlOn(cp, args, stdin);
const files = exampleFiles();

beforeAll(async () => {
  cp = await ControlPlane.start({ crdDir: join(ROOT, 'crds') });
  admin = KubeClient.fromKubeconfig(cp.kubeconfigPath, { fieldManager: 'test' });
});

afterAll(async () => {
  await operator?.stop();
  admin?.close();
  await cp?.stop();
});

describe('server-side apply by a GitOps tool', () => {
  it.skipIf(!helmBin)('the rendered chart passes kubectl apply --server-side --dry-run=server', async () => {
    await admin.apply(Resources.Namespace, { metadata: { name: OPERATOR_NAMESPACE } });
    const rendered = run(helmBin!, ['template', 'miniapps-operator', join(ROOT, 'charts/miniapps-operator'), '--namespace', OPERATOR_NAMESPACE, '--kube-version', '1.35.0']);
    const res = await kubectl(['apply', '--server-side', `--field-manager=${MANAGER}`, '--dry-run=server', '-f', '-'], rendered);
    expect(res.stderr).toBe('');
    expect(res.exitCode).toBe(0);
  });

  it('examples/ applied, the operator converged on them, and the same apply again changes nothing and conflicts with nothing', async () => {
    operator = await OperatorProcess.start({ kubeconfig: cp.kubeconfigPath, namespace: OPERATOR_NAMESPACE });
    const applied = await applyExamples(cp, admin, MANAGER);
    const custom = applied.filter((o) => o.apiVersion?.startsWith('miniapps.dev/'));
    expect(custom.length).toBeGreaterThan(10);
    // Converged: each object's status observed its generation.
    type Read = { metadata: { generation?: number; managedFields?: { manager: string; subresource?: string; fieldsV1?: Record<string, unknown> }[] }; status?: { observedGeneration?: number } };
    const read = async (o: AnyObject) => {
      const got = await kubectl([
        'get',
        `${o.kind!.toLowerCase()}.miniapps.dev`,
        o.metadata.name!,
        ...(o.metadata.namespace ? ['-n', o.metadata.namespace] : []),
        '-o',
        'json',
        '--show-managed-fields',
      ]);
      return JSON.parse(got.stdout || '{"metadata":{}}') as Read;
    };
    await eventually(async () => (await Promise.all(custom.map(read))).every((obj) => obj.status?.observedGeneration === obj.metadata.generation), {
      timeoutMs: 60_000,
      describe: 'every example object reconciled at its generation',
    });
    // Nobody but the GitOps tool owns a field of any spec (the operator writes status and its metadata only).
    const now = await Promise.all(custom.map(read));
    expect(now.map((obj) => (obj.metadata.managedFields ?? []).some((m) => m.manager === MANAGER && m.fieldsV1 && 'f:spec' in m.fieldsV1))).toEqual(custom.map(() => true));
    const specOwners = now.flatMap((obj, i) =>
      (obj.metadata.managedFields ?? []).filter((m) => m.fieldsV1 && 'f:spec' in m.fieldsV1 && m.manager !== MANAGER).map((m) => `${custom[i]!.kind} ${custom[i]!.metadata.name}: ${m.manager}`),
    );
    expect(specOwners).toEqual([]);
    for (const file of files) {
      const diff = await kubectl(['diff', '--server-side', `--field-manager=${MANAGER}`, '-f', join(EXAMPLES, file)]);
      expect({ file, exitCode: diff.exitCode, stdout: diff.stdout, stderr: diff.stderr }).toEqual({ file, exitCode: 0, stdout: '', stderr: '' });
    }
  });
});
