import { defineConfig } from 'vitest/config'

/** The long suites (`npm run test:crash`, `npm run fuzz`, `npm run soak`): one file at a time. */
export default defineConfig({
  test: {
    include: ['test/**/*.long.test.ts'],
    testTimeout: 30 * 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
  },
})
