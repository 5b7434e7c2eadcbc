/**
 * @module The dashboard edge: serves the three files `npm install` built into dist/dashboard
 * (scripts/build-dashboard.mjs, run by `prepare`). The hub never builds them itself. When they
 * are missing, `/` answers 503 saying how to build them, and the start-up log says so too.
 */
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { HttpResponse } from 'uWebSockets.js'
import type { Logger } from 'pino'
import type { Edge } from '../ports/edge.js'
import { endHead } from './http/http.js'
import type { Router } from './http/route.js'

export type DashboardFile = 'index.html' | 'app.js' | 'app.css'
export type DashboardFiles = Record<DashboardFile, Buffer>

export const DASHBOARD_DIR = join(dirname(fileURLToPath(import.meta.url)), '../../dist/dashboard')

const TYPES: Record<DashboardFile, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
}

/**
 * A CSP that allows only this origin, the QR's data: image and https profile pictures.
 * `connect-src 'self'` covers the same-origin /ws in current browsers; `form-action 'none'` backs
 * up the sign-in form, which must never submit the token.
 */
export const DASHBOARD_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-cache',
}

const MISSING = (dir: string) =>
  JSON.stringify({ success: false, error: { message: `The dashboard is not built (${dir} is missing). Run \`npm run build\` (npm install runs it) and restart the hub.` } })

/** The built files of `dir`, or null when any is missing. */
export function readDashboard(dir = DASHBOARD_DIR): DashboardFiles | null {
  try {
    return {
      'index.html': readFileSync(join(dir, 'index.html')),
      'app.js': readFileSync(join(dir, 'app.js')),
      'app.css': readFileSync(join(dir, 'app.css')),
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
}

export function dashboardEdge(router: Router, log: Logger, dir = DASHBOARD_DIR): Edge {
  const files = readDashboard(dir)
  if (files === null) log.error({ dir }, 'the dashboard is not built: run `npm run build`; / answers 503 until then')
  const serve = (name: DashboardFile) => (res: HttpResponse, _req: unknown, head: boolean) => {
    res.cork(() => {
      if (files === null) {
        res.writeStatus('503 Service Unavailable').writeHeader('Content-Type', 'application/json')
        if (head) endHead(res, MISSING(dir))
        else res.end(MISSING(dir))
        return
      }
      res.writeStatus('200 OK').writeHeader('Content-Type', TYPES[name])
      for (const [k, v] of Object.entries(DASHBOARD_HEADERS)) res.writeHeader(k, v)
      if (head) endHead(res, files[name])
      else res.end(files[name])
    })
  }
  const paths: [string, DashboardFile][] = [
    ['/', 'index.html'],
    ['/index.html', 'index.html'],
    ['/app.js', 'app.js'],
    ['/app.css', 'app.css'],
  ]
  for (const [path, file] of paths) router.page(path, serve(file))
  return { name: 'dashboard', stop() {} }
}
