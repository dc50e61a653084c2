import { defineConfig } from 'vitest/config';

// Two projects:
//   unit         operator/**/*.test.ts and console/**/*.test.ts   no cluster, fast.
//   integration  operator/**/*.itest.ts  a real kube-apiserver + etcd + kube-controller-manager,
//                started once per run by operator/testenv/global-setup.ts (or an existing
//                cluster when TEST_KUBECONFIG is set). The first run on a machine builds the
//                control plane from source, hence the long hook timeout.
export default defineConfig({
  test: {
    maxWorkers: 2,
    // Stopping the control plane in the integration teardown takes a few seconds.
    teardownTimeout: 60_000,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['operator/**/*.test.ts', 'console/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['operator/**/*.itest.ts', 'console/**/*.itest.ts'],
          globalSetup: ['operator/testenv/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 1_800_000,
          // Operators reconcile cluster-wide: files share one cluster, so they run one at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
