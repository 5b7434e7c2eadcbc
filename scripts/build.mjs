/**
 * `npm run build` (and `prepare`, so `npm install` runs it): the dashboard into dist/dashboard and
 * the stream client package into packages/client/dist (its bundle and its declarations). Without
 * esbuild or typescript (an install that omits devDependencies) it says so and succeeds: the hub
 * then serves the API without a dashboard.
 */
import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
try {
  await import('esbuild')
  await import('typescript')
} catch {
  console.warn('statushub: esbuild or typescript is not installed (devDependencies omitted?); dist/ is not built')
  process.exit(0)
}
for (const script of ['build-dashboard.mjs', 'build-client.mjs']) {
  const r = spawnSync(process.execPath, [join(here, script)], { stdio: 'inherit' })
  if (r.status !== 0) process.exit(r.status ?? 1)
}
