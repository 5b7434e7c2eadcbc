/**
 * @module The dashboard's files for the hub to serve: built fresh from src/dashboard at start (a
 * fraction of a second with esbuild, so never stale), or read from dist/dashboard (written by
 * `npm install` through the `prepare` script) when esbuild is not installed. Without either the
 * hub still starts, and serves the API without a dashboard.
 */
import type { Logger } from 'pino'
import { buildDashboard, DASHBOARD_HEADERS, loadDashboard } from '../scripts/build-dashboard.mjs'
import type { DashboardFiles } from './adapters/uws/dashboard-route.js'

export async function dashboardFiles(log: Logger): Promise<{ files: DashboardFiles; headers: Readonly<Record<string, string>> } | undefined> {
  try {
    return { files: await buildDashboard(), headers: DASHBOARD_HEADERS }
  } catch (err) {
    log.warn({ err }, 'dashboard build failed; serving dist/dashboard')
  }
  try {
    return { files: await loadDashboard(), headers: DASHBOARD_HEADERS }
  } catch (err) {
    log.error({ err }, 'no dashboard: dist/dashboard is missing and cannot be built; the API is served without it')
    return undefined
  }
}
