// Vitest global setup of the `integration` project: one control plane per test run.
//
//   TEST_KUBECONFIG=/path/kubeconfig  use that cluster (CRDs are applied to it) instead
//                                     of starting one; kubectl still comes from the
//                                     control plane build.
//   TESTENV_KEEP=1                    keep the work dir (logs, etcd data) after the run.
//
// Provides `kubeconfig`, `binDir` and `tokenWebhook` to the tests (see ./index.ts).
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { ControlPlane, REPO_ROOT, ensureBinaries, installCRDs } from './controlplane.ts';

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const crdDir = join(REPO_ROOT, 'crds');
  const external = process.env.TEST_KUBECONFIG;
  if (external) {
    const binDir = await ensureBinaries(log);
    await installCRDs(external, crdDir, { log });
    project.provide('kubeconfig', external);
    project.provide('binDir', binDir);
    project.provide('tokenWebhook', null);
    project.provide('identity', null);
    return async () => {};
  }
  // The API server authenticates bearer tokens it does not know through the operator's
  // /authenticate (kubectl --token=<API key>), for the operators tests start on that port.
  const cp = await ControlPlane.start({ log, crdDir, keepWorkDir: process.env.TESTENV_KEEP === '1', tokenWebhook: true, identity: true });
  if (process.env.TESTENV_KEEP === '1') log(`[testenv] work dir kept: ${cp.workDir}`);
  project.provide('kubeconfig', cp.kubeconfigPath);
  project.provide('binDir', cp.binDir);
  project.provide('tokenWebhook', cp.tokenWebhook ?? null);
  project.provide('identity', cp.identity ?? null);
  return async () => {
    await cp.stop();
  };
}
