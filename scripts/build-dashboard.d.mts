export type DashboardFile = 'index.html' | 'app.js' | 'app.css'

/** dist/dashboard under the repository root. */
export declare const DASHBOARD_DIR: string

/** Builds the dashboard in memory; also writes the files into `outDir` when given. */
export declare function buildDashboard(outDir?: string): Promise<Record<DashboardFile, { body: Buffer; contentType: string }>>

/** Headers to send with every dashboard file (CSP, nosniff, no-referrer, no-cache). */
export declare const DASHBOARD_HEADERS: Readonly<Record<string, string>>

/** Reads the built files from `dir` (default DASHBOARD_DIR), building and writing them first when missing. */
export declare function loadDashboard(dir?: string): Promise<Record<DashboardFile, { body: Buffer; contentType: string }>>
