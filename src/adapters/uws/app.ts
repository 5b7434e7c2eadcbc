/**
 * @module The HTTP/WebSocket server: the route table on one uWS app, listening on the configured
 * address. The only file that knows every edge.
 */
import type { TemplatedApp, us_listen_socket } from 'uWebSockets.js'
import type { Logger } from 'pino'
import { MSG } from '../../core/errors.js'
import type { Clock, WhatsAppControl } from '../../core/ports.js'
import type { Hub } from '../../hub/hub.js'
import { Gate, type GateLimits } from './gate.js'
import { statusLine } from './http.js'
import { loadUws } from './load.js'
import { Router } from './route.js'
import { adminRoutes } from './routes/admin.js'
import { instanceRoutes } from './routes/instances.js'
import { integrationRoutes } from './routes/integrations.js'
import { lifecycleRoutes } from './routes/lifecycle.js'

export interface ServerDeps {
  hub: Hub
  wa: WhatsAppControl | null
  clock: Clock
  log: Logger
  limits: GateLimits
  connectTimeoutMs: number
}

export interface Server {
  app: TemplatedApp
  gate: Gate
  router: Router
  listen(host: string, port: number): Promise<number>
  /** Stops accepting; open sockets are closed by their owners. */
  close(): void
}

const HEALTH = JSON.stringify({ success: true, status: 'ok' })
const NOT_FOUND = JSON.stringify({ success: false, error: { message: MSG.notFound } })

export function createServer(deps: ServerDeps, mount: (s: Server) => void = () => {}): Server {
  const uWS = loadUws()
  const app = uWS.App()
  const gate = new Gate(deps.hub, deps.limits, deps.clock)
  const router = new Router(app, gate, deps.log)
  let listenSocket: us_listen_socket | null = null

  app.get('/healthz', (res) => {
    res.cork(() => res.writeStatus('200 OK').writeHeader('Content-Type', 'application/json').end(HEALTH))
  })
  router.allow('/healthz')
  adminRoutes(router, deps.hub)
  instanceRoutes(router, deps.hub, deps.wa)
  integrationRoutes(router, deps.hub, deps.wa)
  lifecycleRoutes(router, deps.hub, deps.wa, deps.connectTimeoutMs)

  const server: Server = {
    app,
    gate,
    router,
    listen(host, port) {
      return new Promise((resolve, reject) => {
        app.listen(host, port, (ls) => {
          if (!ls) return reject(new Error(`cannot listen on ${host}:${port}`))
          listenSocket = ls
          resolve(uWS.us_socket_local_port(ls))
        })
      })
    },
    close() {
      if (listenSocket !== null) uWS.us_listen_socket_close(listenSocket)
      listenSocket = null
    },
  }
  mount(server)
  // Registered last: uWS prefers static and parameter routes over this wildcard anyway.
  app.any('/*', (res) => {
    res.cork(() => res.writeStatus(statusLine(404)).writeHeader('Content-Type', 'application/json').end(NOT_FOUND))
  })
  return server
}
