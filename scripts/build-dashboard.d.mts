export type DashboardFile = 'index.html' | 'app.js' | 'app.css'

/** dist/dashboard under the repository root. */
export declare const DASHBOARD_DIR: string

/** Builds the dashboard into `outDir` (default DASHBOARD_DIR) and returns what it wrote. */
export declare function buildDashboard(outDir?: string): Promise<Record<DashboardFile, Buffer>>
