/**
 * @module Serves the dashboard's three static files (built from src/dashboard by esbuild).
 */
import type { Router } from './route.js'

export type DashboardFiles = Record<'index.html' | 'app.js' | 'app.css', { body: Buffer; contentType: string }>

export function mountDashboard(router: Router, files: DashboardFiles, headers: Readonly<Record<string, string>>): void {
  const serve = (name: keyof DashboardFiles) => {
    const f = files[name]
    return (res: import('uWebSockets.js').HttpResponse) => {
      res.cork(() => {
        res.writeStatus('200 OK').writeHeader('Content-Type', f.contentType)
        for (const [k, v] of Object.entries(headers)) res.writeHeader(k, v)
        res.end(f.body)
      })
    }
  }
  const paths: [string, keyof DashboardFiles][] = [
    ['/', 'index.html'],
    ['/index.html', 'index.html'],
    ['/app.js', 'app.js'],
    ['/app.css', 'app.css'],
  ]
  for (const [path, file] of paths) {
    router.app.get(path, serve(file))
    router.allow(path)
  }
}
