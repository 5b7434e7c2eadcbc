/**
 * Builds the stream client (src/client) into dist/client/index.js: one ES module, no
 * dependencies, for Node and browsers, so `import { StatusClient } from 'statushub/client'`
 * works without a TypeScript loader. Types come from src/client (package.json `exports`).
 *
 *   node scripts/build-client.mjs [outDir]     (default dist/client; run by `npm install`)
 */
import { build } from 'esbuild'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const out = resolve(process.argv[2] ?? join(root, 'dist', 'client'))

await build({
  entryPoints: [join(root, 'src', 'client', 'index.ts')],
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: ['es2022'],
  outfile: join(out, 'index.js'),
  legalComments: 'none',
  logLevel: 'warning',
})
console.log(join(out, 'index.js'))
