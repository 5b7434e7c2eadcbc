/**
 * @module The dashboard's files for the hub to serve: built fresh from src/dashboard at start (a
 * fraction of a second with esbuild, so never stale), or read from dist/dashboard when esbuild is
 * not installed.
 */
import type { Logger } from 'pino'
import { buildDashboard, DASHBOARD_HEADERS, loadDashboard } from '../scripts/build-dashboard.mjs'
import type { DashboardFiles } from './adapters/uws/dashboard-route.js'

export async function dashboardFiles(log: Logger): Promise<{ files: DashboardFiles; headers: Readonly<Record<string, string>> }> {
  try {
    return { files: await buildDashboard(), headers: DASHBOARD_HEADERS }
  } catch (err) {
    log.warn({ err }, 'dashboard build failed; serving dist/dashboard')
    return { files: await loadDashboard(), headers: DASHBOARD_HEADERS }
  }
}
