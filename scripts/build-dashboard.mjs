/**
 * Builds the dashboard (src/dashboard) into three static files: index.html, app.js (the
 * TypeScript bundled and minified by esbuild, including the package's StatusClient) and app.css.
 *
 *   node scripts/build-dashboard.mjs [outDir]     writes them (default dist/dashboard)
 *   import { buildDashboard } from './scripts/build-dashboard.mjs'
 *   await buildDashboard()                         returns them in memory
 *   await buildDashboard('dist/dashboard')         returns them and writes them
 *   await loadDashboard()                          reads dist/dashboard, building it first if missing
 *
 * Each file comes with its Content-Type and the headers to serve it with (DASHBOARD_HEADERS: a
 * CSP that allows only this origin, the QR's data: image and https profile pictures).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const src = join(root, 'src', 'dashboard')

export const DASHBOARD_DIR = join(root, 'dist', 'dashboard')

/**
 * Headers for every dashboard response. `connect-src 'self'` covers the same-origin /ws in current
 * browsers; `form-action 'none'` backs up the sign-in form, which must never submit the token.
 */
export const DASHBOARD_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-cache',
}

const NAMES = ['index.html', 'app.js', 'app.css']

const TYPES = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
}

/**
 * @param {string} [outDir] when given, the files are also written there (created if missing)
 * @returns {Promise<Record<'index.html' | 'app.js' | 'app.css', { body: Buffer, contentType: string }>>}
 */
export async function buildDashboard(outDir) {
  // Loaded here, not at the top: serving a prebuilt dist/dashboard must not need esbuild.
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
  if (outDir !== undefined) {
    await mkdir(outDir, { recursive: true })
    for (const [name, body] of Object.entries(bodies)) await writeFile(join(outDir, name), body)
  }
  return described(bodies)
}

/**
 * The built files from `dir` (default dist/dashboard); when any is missing they are built with
 * esbuild (a devDependency) and written there first.
 * @param {string} [dir]
 */
export async function loadDashboard(dir = DASHBOARD_DIR) {
  try {
    const bodies = {}
    for (const name of NAMES) bodies[name] = await readFile(join(dir, name))
    return described(bodies)
  } catch (err) {
    if (err?.code !== 'ENOENT') throw err
    return buildDashboard(dir)
  }
}

function described(bodies) {
  return Object.fromEntries(Object.entries(bodies).map(([name, body]) => [name, { body, contentType: TYPES[name] }]))
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = resolve(process.argv[2] ?? DASHBOARD_DIR)
  const files = await buildDashboard(out)
  for (const [name, f] of Object.entries(files)) console.log(`${join(out, name)}  ${f.body.length} bytes`)
}
