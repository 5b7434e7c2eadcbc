/**
 * @module Route registration: reads the request, passes the gate, checks the token kind, reads the
 * body when there is one, runs the handler and turns whatever it throws into the error envelope.
 * Nothing escapes a uWS callback.
 *
 * Every path the router knows also answers HEAD where it answers GET (the same handler, no body),
 * OPTIONS (CORS preflights, or `Allow`), 405 with `Allow` for any other method, and the same with
 * a trailing slash on API routes (uWS matches paths exactly, so each route is registered twice).
 */
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js'
import type { Logger } from 'pino'
import { HubError, MSG } from '../../core/errors.js'
import type { Principal } from '../../hub/model.js'
import type { Cors } from './cors.js'
import type { Gate } from './gate.js'
import { endHead, readCtx, readJson, routeShape, sendFailure, watchAbort, writeHeaders, type Ctx, type Method, type RouteShape } from './http.js'
import { statusLine } from './status.js'

export interface RouteOptions {
  /** Which principals may call it: admin only, account/instance tokens (default), or account tokens only. */
  who?: 'admin' | 'tenant' | 'account'
  body?: boolean
  create?: boolean
  /** Reads `Last-Event-ID` (SSE resume). */
  lastEventId?: boolean
  /** Reads `Accept-Encoding`: the handler may answer compressed. */
  compress?: boolean
}

export type Handler = (ctx: Ctx, p: Principal, body: unknown) => void | Promise<void>

/** A handler of a plain GET resource (no token, no envelope): `head` means send no body. */
export type PageHandler = (res: HttpResponse, req: HttpRequest, head: boolean) => void

const METHOD_NAME: Record<Method | 'head', string> = { get: 'GET', head: 'HEAD', post: 'POST', put: 'PUT', del: 'DELETE', patch: 'PATCH' }
const NOT_ALLOWED = JSON.stringify({ success: false, error: { message: MSG.methodNotAllowed } })

/** The methods one path answers, in registration order, GET followed by HEAD; OPTIONS last. */
class PathMethods {
  private readonly methods: string[] = []
  private allowValue = 'OPTIONS'

  add(method: Method | 'head'): void {
    if (this.methods.includes(METHOD_NAME[method])) return
    this.methods.push(METHOD_NAME[method])
    this.allowValue = [...this.methods, 'OPTIONS'].join(', ')
  }

  /** The `Allow` value (and a preflight's `Access-Control-Allow-Methods`). */
  get allow(): string {
    return this.allowValue
  }
}

export class Router {
  private readonly paths = new Map<string, PathMethods>()
  private readonly cors: Cors

  constructor(
    readonly app: TemplatedApp,
    private readonly gate: Gate,
    private readonly log: Logger,
  ) {
    this.cors = gate.cors
  }

  /** Answers 405 (with `Allow`) and OPTIONS for the methods a path registered outside the router does not take. */
  allow(pattern: string, ...methods: (Method | 'head')[]): void {
    const known = this.path(pattern)
    for (const m of methods) known.add(m)
  }

  /** A plain GET resource (a page, a file) that answers HEAD too; no trailing-slash twin. */
  page(pattern: string, handler: PageHandler): void {
    this.allow(pattern, 'get', 'head')
    this.app.get(pattern, (res, req) => handler(res, req, false))
    this.app.head(pattern, (res, req) => handler(res, req, true))
  }

  add(method: Method, pattern: string, opts: RouteOptions, handler: Handler): void {
    const reads = { lastEventId: opts.lastEventId === true, acceptEncoding: opts.compress === true }
    for (const path of [pattern, `${pattern}/`]) {
      this.mount(method, path, routeShape(method === 'del' ? 'delete' : method, pattern, reads), opts, handler)
      if (method === 'get') this.mount('head', path, routeShape('head', pattern, reads), opts, handler)
    }
  }

  private mount(method: Method | 'head', path: string, shape: RouteShape, opts: RouteOptions, handler: Handler): void {
    const who = opts.who ?? 'tenant'
    const gateOpts = { create: opts.create === true }
    const cors = this.cors
    this.path(path).add(method)
    this.app[method](path, (res, req) => {
      const ctx = readCtx(res, req, shape)
      if (cors.enabled) ctx.headers = cors.responseHeaders(req.getHeader('origin'))
      try {
        const p = this.gate.pass(ctx, gateOpts)
        if (p === null) return
        if (who === 'admin' && p.kind !== 'admin') throw new HubError('forbidden', MSG.adminOnly)
        if (who !== 'admin' && p.kind === 'admin') throw new HubError('forbidden', MSG.accountOnly)
        if (who === 'account' && p.kind !== 'account') throw new HubError('forbidden', MSG.noAccess)
        if (opts.body) {
          const body = readJson(ctx)
          watchAbort(ctx)
          body.then((b) => handler(ctx, p, b)).catch((err) => sendFailure(ctx, err, this.log))
          return
        }
        const out = handler(ctx, p, undefined)
        if (out instanceof Promise) {
          watchAbort(ctx)
          out.catch((err) => sendFailure(ctx, err, this.log))
        }
      } catch (err) {
        sendFailure(ctx, err, this.log)
      }
    })
  }

  /** The methods of `pattern`, registering its 405 and OPTIONS answers the first time. */
  private path(pattern: string): PathMethods {
    let known = this.paths.get(pattern)
    if (known !== undefined) return known
    known = new PathMethods()
    this.paths.set(pattern, known)
    const methods = known
    const cors = this.cors
    this.app.any(pattern, (res, req) => {
      const head = req.getMethod() === 'head'
      const corsHeaders = cors.enabled ? cors.responseHeaders(req.getHeader('origin')) : null
      res.cork(() => {
        res.writeStatus(statusLine(405)).writeHeader('Content-Type', 'application/json').writeHeader('Allow', methods.allow)
        if (corsHeaders !== null) writeHeaders(res, corsHeaders)
        if (head) endHead(res, NOT_ALLOWED)
        else res.end(NOT_ALLOWED)
      })
    })
    this.app.options(pattern, (res, req) => {
      const origin = cors.enabled ? req.getHeader('origin') : ''
      const preflight = cors.enabled ? cors.preflight(origin, req.getHeader('access-control-request-method'), methods.allow) : null
      res.cork(() => {
        res.writeStatus(statusLine(204)).writeHeader('Allow', methods.allow)
        writeHeaders(res, preflight ?? (cors.enabled ? cors.responseHeaders(origin) : []))
        res.endWithoutBody()
      })
    })
    return known
  }
}
