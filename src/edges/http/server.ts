/**
 * @module The HTTP edge: one uWS app with the REST API, `/healthz`, the API description
 * (`/openapi.json`, generated from the route table once every route is mounted) and its viewer
 * (`/docs`), on which the other edges (streams, dashboard) mount their routes. As an edge it is the
 * listener: started last, once every route is mounted, and stopped first, so nothing new arrives
 * while the rest shuts down.
 */
import { readFileSync } from 'node:fs'
import type { TemplatedApp, us_listen_socket } from 'uWebSockets.js'
import type { Logger } from 'pino'
import { MSG } from '../../core/errors.js'
import type { Commands } from '../../hub/commands.js'
import type { Hub } from '../../hub/hub.js'
import type { Clock } from '../../ports/clock.js'
import type { Edge } from '../../ports/edge.js'
import type { WhatsAppControl } from '../../ports/whatsapp.js'
import { AccountBudget } from '../../stream/budget.js'
import { health, openApiDocument } from '../../protocol/rest-responses.js'
import { Cors } from './cors.js'
import { Gate, type GateLimits } from './gate.js'
import { mountDocs } from './docs.js'
import { sendBytes, sendRepresentation } from './http.js'
import { ListCache } from './list-cache.js'
import { loadUws } from './load.js'
import { Router } from './route.js'
import { UNMATCHED } from './served.js'
import { adminRoutes } from './routes/admin.js'
import { instanceRoutes } from './routes/instances.js'
import { integrationRoutes } from './routes/integrations.js'
import { buildOpenApi } from './openapi.js'
import { httpSeries } from '../metrics/http-series.js'
import { lifecycleRoutes } from './routes/lifecycle.js'
import { StaticBody } from './static-body.js'
import { statusLine } from './status.js'

/** The HTTP settings (named as in the hub's configuration). */
export interface HttpConfig extends GateLimits {
  host: string
  port: number
  listCacheBytes: number
  /** Bytes of list bodies each account may make the hub render per second (cache misses). */
  accountRenderBytesPerSec: number
  /** How long `/connect` waits for a QR, a pairing code or the open. */
  connectWaitMs: number
  /** Browser origins allowed cross-origin (HUB_CORS_ORIGINS). */
  corsOrigins: readonly string[]
}

export interface HttpDeps {
  hub: Hub
  /** Every write a request asks for (the hub itself, or the cluster's writer). */
  commands: Commands
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
  /**
   * Drops every connection still open (HTTP keep-alive, WebSocket). For the composition root, once
   * every edge has stopped: a kept-alive client would otherwise go on talking to a stopped hub,
   * and a node restarted in-process on the same port would never hear from it.
   */
  closeConnections(): void
}

/** uWS's LIBUS_LISTEN_EXCLUSIVE_PORT (its typings declare the listen option only without a host). */
const EXCLUSIVE_PORT = 1

const HEALTH = JSON.stringify({ success: true, status: 'ok' })
const VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version
const NOT_FOUND = JSON.stringify({ success: false, error: { message: MSG.notFound } })

export function createHttpServer(deps: HttpDeps): HttpServer {
  const uWS = loadUws()
  const app = uWS.App()
  const { cfg } = deps
  const gate = new Gate(deps.hub, cfg, deps.clock, new Cors(cfg.corsOrigins))
  const router = new Router(app, gate, deps.log)
  const lists = new ListCache(deps.hub, cfg.listCacheBytes, new AccountBudget(cfg.accountRenderBytesPerSec, deps.clock))
  const unmatched = router.served.route(UNMATCHED)
  let listenSocket: us_listen_socket | null = null
  let port = 0

  router.add(
    'get',
    '/healthz',
    { tag: 'Operations', who: 'public', description: 'Answers 200 once the hub serves. No token, no rate limit: for load balancers and uptime checks.', response: health },
    (ctx) => sendBytes(ctx, 200, HEALTH),
  )
  let description: StaticBody | null = null
  router.add(
    'get',
    '/openapi.json',
    {
      tag: 'Operations',
      who: 'public',
      description: 'This API description (OpenAPI 3.1), generated from the route table and the zod schemas that validate every request. Rendered at /docs.',
      response: openApiDocument,
      compress: true,
    },
    (ctx) => {
      // Built on first request: by then every edge has mounted its routes.
      description ??= new StaticBody(Buffer.from(JSON.stringify(buildOpenApi(router.routes, { title: 'statushub', version: VERSION }))), 'application/json')
      const rep = description.pick(ctx.acceptEncoding)
      if (rep instanceof Promise) return rep.then((r) => sendRepresentation(ctx, r))
      sendRepresentation(ctx, rep)
    },
  )
  mountDocs(router)
  adminRoutes(router, deps.hub, deps.commands)
  instanceRoutes(router, deps.hub, deps.commands, lists, deps.wa, gate)
  integrationRoutes(router, deps.hub, deps.commands, deps.wa)
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
    metrics(registry) {
      httpSeries(registry, { served: router.served, lists })
    },
    start() {
      // Registered last: uWS prefers static and parameter routes over this wildcard anyway.
      app.any('/*', (res) => {
        unmatched.add(404)
        res.cork(() => res.writeStatus(statusLine(404)).writeHeader('Content-Type', 'application/json').end(NOT_FOUND))
      })
      return new Promise<void>((resolve, reject) => {
        // Exclusive: without it uWS sets SO_REUSEPORT, and a second hub on the port would start and
        // take half of the requests.
        const listen = app.listen as unknown as (host: string, port: number, options: number, cb: (ls: us_listen_socket | false) => void) => void
        listen.call(app, cfg.host, cfg.port, EXCLUSIVE_PORT, (ls) => {
          if (!ls) return reject(new Error(`cannot listen on ${cfg.host}:${cfg.port} (is another process, or another hub, serving it?)`))
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
    closeConnections() {
      // Declared by uWS 20.30's binary, missing from its typings.
      ;(app as TemplatedApp & { close(): void }).close()
    },
  }
}
