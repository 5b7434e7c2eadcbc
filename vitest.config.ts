import { configDefaults, defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // The long crash, fuzz and soak runs have their own scripts (vitest.long.config.ts).
    exclude: [...configDefaults.exclude, '**/*.long.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Each file starts its own hub on a random port; files run in parallel processes.
    pool: 'forks',
  },
})
