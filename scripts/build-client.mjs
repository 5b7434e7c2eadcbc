/**
 * Builds the stream client package, packages/client: src/client (and the pure code it imports from
 * src/core and src/protocol) bundled by esbuild into dist/index.js, one ES module with no
 * dependencies, for Node and browsers; its declarations emitted by tsc into dist/types, so the
 * package's types are self-contained (no .ts sources, nothing outside the package).
 *
 *   node scripts/build-client.mjs [packageDir]     (default packages/client; run by `npm run build`)
 */
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import ts from 'typescript'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const pkg = resolve(process.argv[2] ?? join(root, 'packages', 'client'))
const dist = join(pkg, 'dist')
const entry = join(root, 'src', 'client', 'index.ts')

await rm(dist, { recursive: true, force: true })
await mkdir(dist, { recursive: true })

await build({
  entryPoints: [entry],
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: ['es2022'],
  outfile: join(dist, 'index.js'),
  legalComments: 'none',
  logLevel: 'warning',
})

// Declarations: DOM and Node types are needed to check the sources, not by what they declare
// (the package's own test compiles a consumer with neither).
const program = ts.createProgram([entry], {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
  types: [],
  strict: true,
  skipLibCheck: true,
  declaration: true,
  emitDeclarationOnly: true,
  rootDir: join(root, 'src'),
  outDir: join(dist, 'types'),
})
const emitted = program.emit()
const problems = [...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics]
if (problems.length > 0) {
  console.error(ts.formatDiagnosticsWithColorAndContext(problems, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => '\n' }))
  process.exit(1)
}
await writeFile(join(dist, 'index.d.ts'), "export * from './types/client/index.js'\n")
console.log(join(dist, 'index.js'))
