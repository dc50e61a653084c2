// Proves the harness: real RBAC, garbage collection, namespace deletion, and an
// API server restart. The restart test starts its own control plane so it does not
// disturb the shared one other test files use.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlPlane } from './controlplane.ts';
import { eventually, kubectl, testBinDir, uniqueName } from './index.ts';

// biome-ignore lint/suspicious/noExplicitAny: kubectl's JSON, read field by field in the assertions
const json = async (args: string[]): Promise<any> => JSON.parse(await kubectl([...args, '-o', 'json']));

describe('shared control plane', () => {
  it('serves the API with RBAC enforced for impersonated users', async () => {
    const ok = await kubectl(['auth', 'can-i', 'create', 'namespaces']);
    expect(ok.trim()).toBe('yes');
    const denied = await kubectl(['get', 'configmaps', '-n', 'default'], { as: 'nobody', allowFailure: true });
    expect(denied.exitCode).not.toBe(0);
    expect(denied.stderr).toMatch(/forbidden/i);
    const asMaster = await kubectl(['get', 'configmaps', '-n', 'default'], { as: 'someone', asGroups: ['system:masters'] });
    expect(typeof asMaster).toBe('string');
  });

  it('garbage-collects a dependent when its owner is deleted', async () => {
    const ns = uniqueName('gc');
    await kubectl(['create', 'namespace', ns]);
    await kubectl(['create', 'configmap', 'owner', '-n', ns, '--from-literal=a=b']);
    const owner = await json(['get', 'configmap', 'owner', '-n', ns]);
    const dependent = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'dependent',
        namespace: ns,
        ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid }],
      },
      data: { c: 'd' },
    };
    await kubectl(['apply', '-f', '-'], { stdin: JSON.stringify(dependent) });
    await kubectl(['delete', 'configmap', 'owner', '-n', ns, '--wait=true']);
    await eventually(
      async () => {
        const r = await kubectl(['get', 'configmap', 'dependent', '-n', ns, '--ignore-not-found', '-o', 'name']);
        return r.trim() === '';
      },
      { timeoutMs: 60_000, describe: 'dependent ConfigMap to be garbage collected' },
    );
    await kubectl(['delete', 'namespace', ns, '--wait=false']);
  });

  it('finishes namespace deletion (namespace controller)', async () => {
    const ns = uniqueName('nsdel');
    await kubectl(['create', 'namespace', ns]);
    await kubectl(['create', 'configmap', 'content', '-n', ns, '--from-literal=a=b']);
    await kubectl(['delete', 'namespace', ns, '--wait=false']);
    await eventually(async () => (await kubectl(['get', 'namespace', ns, '--ignore-not-found', '-o', 'name'])).trim() === '', { timeoutMs: 60_000, describe: `namespace ${ns} to be gone` });
  });
});

describe('ControlPlane.restartApiServer', () => {
  let cp: ControlPlane;
  beforeAll(async () => {
    cp = await ControlPlane.start({ binDir: testBinDir(), controllers: [] });
  });
  afterAll(async () => {
    await cp?.stop();
  });

  it('answers again on the same address after a restart, with data kept', async () => {
    const { execFileSync } = await import('node:child_process');
    const k = (...args: string[]) => execFileSync(`${cp.binDir}/kubectl`, [`--kubeconfig=${cp.kubeconfigPath}`, ...args], { encoding: 'utf8' });
    k('create', 'namespace', 'before-restart');
    const pidBefore = cp.pids().kubeApiServer;
    await cp.restartApiServer();
    expect(cp.pids().kubeApiServer).not.toBe(pidBefore);
    expect(k('get', 'namespace', 'before-restart', '-o', 'name').trim()).toBe('namespace/before-restart');
    expect(k('get', '--raw', '/readyz').trim()).toBe('ok');
  });
});
