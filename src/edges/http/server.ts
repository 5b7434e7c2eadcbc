/**
 * @module The HTTP edge: one uWS app with the REST API and `/healthz`, on which the other edges
 * (streams, dashboard) mount their routes. As an edge it is the listener: started last, once every
 * route is mounted, and stopped first, so nothing new arrives while the rest shuts down.
 */
import type { TemplatedApp, us_listen_socket } from 'uWebSockets.js'
import type { Logger } from 'pino'
import { MSG } from '../../core/errors.js'
import type { Hub } from '../../hub/hub.js'
import type { Clock } from '../../ports/clock.js'
import type { Edge } from '../../ports/edge.js'
import type { WhatsAppControl } from '../../ports/whatsapp.js'
import { Cors } from './cors.js'
import { Gate, type GateLimits } from './gate.js'
import { endHead } from './http.js'
import { ListCache } from './list-cache.js'
import { loadUws } from './load.js'
import { Router } from './route.js'
import { adminRoutes } from './routes/admin.js'
import { instanceRoutes } from './routes/instances.js'
import { integrationRoutes } from './routes/integrations.js'
import { lifecycleRoutes } from './routes/lifecycle.js'
import { statusLine } from './status.js'

/** The HTTP settings (named as in the hub's configuration). */
export interface HttpConfig extends GateLimits {
  host: string
  port: number
  listCacheBytes: number
  /** How long `/connect` waits for a QR, a pairing code or the open. */
  connectWaitMs: number
  /** Browser origins allowed cross-origin (HUB_CORS_ORIGINS). */
  corsOrigins: readonly string[]
}

export interface HttpDeps {
  hub: Hub
  wa: WhatsAppControl | null
  clock: Clock
  log: Logger
  cfg: HttpConfig
}

export interface HttpServer extends Edge {
  readonly app: TemplatedApp
  readonly gate: Gate
  readonly router: Router
  readonly lists: ListCache
  /** The port it listens on, once started (the configured one, or the one the OS chose for 0). */
  readonly port: number
}

const HEALTH = JSON.stringify({ success: true, status: 'ok' })
const NOT_FOUND = JSON.stringify({ success: false, error: { message: MSG.notFound } })

export function createHttpServer(deps: HttpDeps): HttpServer {
  const uWS = loadUws()
  const app = uWS.App()
  const { cfg } = deps
  const gate = new Gate(deps.hub, cfg, deps.clock, new Cors(cfg.corsOrigins))
  const router = new Router(app, gate, deps.log)
  const lists = new ListCache(deps.hub, cfg.listCacheBytes)
  let listenSocket: us_listen_socket | null = null
  let port = 0

  router.page('/healthz', (res, _req, head) => {
    res.cork(() => {
      res.writeStatus('200 OK').writeHeader('Content-Type', 'application/json')
      if (head) endHead(res, HEALTH)
      else res.end(HEALTH)
    })
  })
  adminRoutes(router, deps.hub)
  instanceRoutes(router, deps.hub, lists, deps.wa)
  integrationRoutes(router, deps.hub, deps.wa)
  lifecycleRoutes(router, deps.hub, deps.wa, cfg.connectWaitMs)

  return {
    name: 'http',
    app,
    gate,
    router,
    lists,
    get port() {
      return port
    },
    start() {
      // Registered last: uWS prefers static and parameter routes over this wildcard anyway.
      app.any('/*', (res) => {
        res.cork(() => res.writeStatus(statusLine(404)).writeHeader('Content-Type', 'application/json').end(NOT_FOUND))
      })
      return new Promise<void>((resolve, reject) => {
        app.listen(cfg.host, cfg.port, (ls) => {
          if (!ls) return reject(new Error(`cannot listen on ${cfg.host}:${cfg.port}`))
          listenSocket = ls
          port = uWS.us_socket_local_port(ls)
          resolve()
        })
      })
    },
    stop() {
      if (listenSocket !== null) uWS.us_listen_socket_close(listenSocket)
      listenSocket = null
    },
  }
}
