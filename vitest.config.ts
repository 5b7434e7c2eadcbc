import { configDefaults, defineConfig } from 'vitest/config'

/** Cluster tests: each file runs nats-server and several nodes. */
const CLUSTER = 'test/cluster/**/*.test.ts'
/** The long crash, fuzz and soak runs have their own scripts (vitest.long.config.ts). */
const LONG = '**/*.long.test.ts'

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // expect.poll waits on a condition, so a longer bound only delays a real failure: the default
    // 1 s is too short for a 10,000-instance dashboard on a loaded two-core machine.
    expect: { poll: { timeout: 10_000 } },
    // Each file starts its own hub on a random port; files run in parallel processes.
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: { name: 'hub', include: ['src/**/*.test.ts', 'test/**/*.test.ts'], exclude: [...configDefaults.exclude, CLUSTER, LONG] },
      },
      {
        extends: true,
        // One file at a time, after every other file has finished: a node starved of CPU misses its
        // lease renewals ("Failure behaviour to test" in the cluster contract,
        // ../shared/spec/cluster.md).
        test: { name: 'cluster', include: [CLUSTER], exclude: [...configDefaults.exclude, LONG], fileParallelism: false, sequence: { groupOrder: 1 } },
      },
    ],
  },
})
