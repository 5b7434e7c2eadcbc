/**
 * @module Serves the dashboard's three static files (built from src/dashboard by esbuild).
 */
import type { TemplatedApp } from 'uWebSockets.js'

export type DashboardFiles = Record<'index.html' | 'app.js' | 'app.css', { body: Buffer; contentType: string }>

export function mountDashboard(app: TemplatedApp, files: DashboardFiles, headers: Readonly<Record<string, string>>): void {
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
  app.get('/', serve('index.html'))
  app.get('/index.html', serve('index.html'))
  app.get('/app.js', serve('app.js'))
  app.get('/app.css', serve('app.css'))
}
