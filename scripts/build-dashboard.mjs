/**
 * Builds the dashboard (src/dashboard) into three static files: index.html, app.js (the
 * TypeScript bundled and minified by esbuild, including the package's StatusClient) and app.css.
 *
 *   node scripts/build-dashboard.mjs [outDir]     writes them (default dist/dashboard)
 *   import { buildDashboard } from './scripts/build-dashboard.mjs'
 *   await buildDashboard(outDir)                   writes them into outDir
 *
 * The hub serves what this wrote (src/edges/dashboard.ts) and never builds at start.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const src = join(root, 'src', 'dashboard')

export const DASHBOARD_DIR = join(root, 'dist', 'dashboard')

/**
 * @param {string} [outDir] default dist/dashboard (created if missing)
 * @returns {Promise<Record<'index.html' | 'app.js' | 'app.css', Buffer>>} what it wrote
 */
export async function buildDashboard(outDir = DASHBOARD_DIR) {
  const { build, transform } = await import('esbuild')
  const js = await build({
    entryPoints: [join(src, 'main.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome100', 'firefox100', 'safari15.4'],
    minify: true,
    legalComments: 'none',
    write: false,
    logLevel: 'silent',
  })
  const css = await transform(await readFile(join(src, 'app.css'), 'utf8'), { loader: 'css', minify: true })
  const bodies = {
    'index.html': await readFile(join(src, 'index.html')),
    'app.js': Buffer.from(js.outputFiles[0].contents),
    'app.css': Buffer.from(css.code),
  }
  await mkdir(outDir, { recursive: true })
  for (const [name, body] of Object.entries(bodies)) await writeFile(join(outDir, name), body)
  return bodies
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = resolve(process.argv[2] ?? DASHBOARD_DIR)
  const files = await buildDashboard(out)
  for (const [name, body] of Object.entries(files)) console.log(`${join(out, name)}  ${body.length} bytes`)
}
