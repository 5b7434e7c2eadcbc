/**
 * @module The route table: every REST route is registered here with its schemas (body, query,
 * response, error statuses) and a description, and the API description (`/openapi.json`) is
 * generated from this table alone. Registration reads the request, passes the gate, checks the
 * token kind, validates the query and the body with the route's zod schemas, runs the handler and
 * turns whatever it throws into the error envelope. Nothing escapes a uWS callback.
 *
 * Every path the router knows also answers HEAD where it answers GET (the same handler, no body),
 * OPTIONS (CORS preflights, or `Allow`), 405 with `Allow` for any other method, and the same with
 * a trailing slash on API routes (uWS matches paths exactly, so each route is registered twice).
 */
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js'
import type { Logger } from 'pino'
import type { z } from 'zod'
import { HubError, MSG } from '../../core/errors.js'
import type { Principal } from '../../hub/model.js'
import { describeIssue } from '../../protocol/rest-bodies.js'
import type { Cors } from './cors.js'
import type { Gate } from './gate.js'
import { ambiguousFraming, endHead, readCtx, readJson, routeShape, sendFailure, watchAbort, writeHeaders, type Ctx, type Method, type RouteShape } from './http.js'
import { parseBody } from './routes/parse.js'
import { Served } from './served.js'
import { statusLine } from './status.js'

/**
 * Who may call a route: nobody needs a token, the admin token, account or instance tokens, account
 * tokens only, or a scraper (HUB_METRICS_TOKEN when set, otherwise the admin token).
 */
export type Who = 'public' | 'admin' | 'tenant' | 'account' | 'metrics'

/** A route's query: an object of optional (or required) string-valued fields. */
export type QuerySchema = z.ZodObject<Record<string, z.ZodType<unknown, string | undefined>>>

/** What the suite sends to exercise a route, and the API description shows as its example. */
export interface RouteExample {
  /** Path parameters by name (`instance`); the suite's fixtures fill the usual ones. */
  params?: Record<string, string>
  query?: Record<string, string>
  body?: unknown
}

export interface RouteSpec<W extends Who = Who, B extends z.ZodType | undefined = z.ZodType | undefined, Q extends QuerySchema | undefined = QuerySchema | undefined> {
  /**
   * What the route does, for the API description; its first sentence is the summary. Required:
   * the suite fails on a registered route without one.
   */
  description: string
  /** The API description's group (Accounts, Instances, Lists, …). */
  tag: string
  /** Default `tenant`: a TokenAccount or a TokenInstance. */
  who?: W
  /** The JSON body, validated before the handler runs (a refusal is 400 naming the field). */
  body?: B
  /** The query fields the route reads, validated when present. Unknown fields are ignored. */
  query?: Q
  /** The success answer's body. */
  response: z.ZodType
  /** The success status (default 200). */
  status?: 200 | 201
  /** The success answer's content type (default application/json). */
  produces?: 'application/json' | 'text/event-stream' | 'text/plain'
  /**
   * Error statuses beyond those the route's kind always may answer (401, 403 and 429 with a token;
   * 404 with a path parameter; 400 with a body or a query).
   */
  errors?: readonly number[]
  /** Answers 304 to `If-None-Match` (and says `ETag`, `X-Hub-Epoch`, `X-Hub-Seq`). */
  conditional?: boolean
  example?: RouteExample
  /** Counts against the stricter creation limit too. */
  create?: boolean
  /** Reads `Last-Event-ID` (SSE resume). */
  lastEventId?: boolean
  /** Reads `Accept-Encoding`: the handler may answer compressed. */
  compress?: boolean
  /**
   * Sees the raw body before it is validated; returning false means it answered already (a
   * refusal that must be charged whether or not the body is valid, like a token guess).
   */
  guard?: (ctx: Ctx, raw: unknown) => boolean
}

type Parsed<S> = S extends z.ZodType ? z.output<S> : undefined

export type Handler<W extends Who = Who, B extends z.ZodType | undefined = undefined, Q extends QuerySchema | undefined = undefined> = (
  ctx: Ctx,
  p: W extends 'public' | 'metrics' ? null : Principal,
  body: Parsed<B>,
  query: Q extends QuerySchema ? z.output<Q> : Record<string, never>,
) => void | Promise<void>

/** One row of the route table. */
export interface RegisteredRoute {
  /** `GET`, `POST`, `DELETE`, … */
  method: string
  /** The uWS pattern, `/api/instance/delete/:instance`. */
  pattern: string
  spec: RouteSpec
}

/** A handler of a plain GET resource (a page, a file: no token, no envelope): `head` means send no body. */
export type PageHandler = (res: HttpResponse, req: HttpRequest, head: boolean) => void

const METHOD_NAME: Record<Method | 'head', string> = { get: 'GET', head: 'HEAD', post: 'POST', put: 'PUT', del: 'DELETE', patch: 'PATCH' }
const NOT_ALLOWED = JSON.stringify({ success: false, error: { message: MSG.methodNotAllowed } })
const NO_QUERY: Record<string, never> = Object.freeze({}) as Record<string, never>

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
  private readonly table: RegisteredRoute[] = []
  private readonly cors: Cors
  /** Answers per route and status, read by the metrics edge. */
  readonly served = new Served()

  constructor(
    readonly app: TemplatedApp,
    private readonly gate: Gate,
    private readonly log: Logger,
  ) {
    this.cors = gate.cors
  }

  /** The route table, in registration order: what the API description is generated from. */
  get routes(): readonly RegisteredRoute[] {
    return this.table
  }

  /** Answers 405 (with `Allow`) and OPTIONS for the methods a path registered outside the router does not take. */
  allow(pattern: string, ...methods: (Method | 'head')[]): void {
    const known = this.path(pattern)
    for (const m of methods) known.add(m)
  }

  /** The shape of a route mounted outside the table (a WebSocket upgrade), its answers counted with the others. */
  shape(method: string, pattern: string): RouteShape {
    const name = `${method.toUpperCase()} ${pattern}`
    return routeShape(method, pattern, { counts: this.served.route(name) })
  }

  /** A plain GET resource (a page, a file) that answers HEAD too; outside the route table. */
  page(pattern: string, handler: PageHandler): void {
    this.allow(pattern, 'get', 'head')
    this.app.get(pattern, (res, req) => handler(res, req, false))
    this.app.head(pattern, (res, req) => handler(res, req, true))
  }

  add<W extends Who = 'tenant', B extends z.ZodType | undefined = undefined, Q extends QuerySchema | undefined = undefined>(
    method: Method,
    pattern: string,
    spec: RouteSpec<W, B, Q>,
    handler: Handler<W, B, Q>,
  ): void {
    const name = METHOD_NAME[method]
    if (this.table.some((r) => r.method === name && r.pattern === pattern)) throw new Error(`route ${name} ${pattern} registered twice`)
    this.table.push({ method: name, pattern, spec: spec as RouteSpec })
    const reads = { lastEventId: spec.lastEventId === true, acceptEncoding: spec.compress === true }
    const run = this.runner(spec as RouteSpec, handler as unknown as Handler<Who, z.ZodType | undefined, QuerySchema | undefined>)
    const body = spec.body !== undefined
    const verb = method === 'del' ? 'delete' : method
    const counts = this.served.route(`${name} ${pattern}`)
    const headCounts = method === 'get' ? this.served.route(`HEAD ${pattern}`) : null
    for (const path of [pattern, `${pattern}/`]) {
      this.mount(method, path, routeShape(verb, pattern, { ...reads, counts }), run, body)
      if (headCounts !== null) this.mount('head', path, routeShape('head', pattern, { ...reads, counts: headCounts }), run, false)
    }
  }

  /** The request path of one route, once the context is read. */
  private runner(spec: RouteSpec, handler: Handler<Who, z.ZodType | undefined, QuerySchema | undefined>): (ctx: Ctx) => void {
    const who = spec.who ?? 'tenant'
    const gateOpts = { create: spec.create === true }
    const readQuery = spec.query === undefined ? null : queryReader(spec.query)
    const bodySchema = spec.body
    return (ctx) => {
      try {
        let p: Principal | null = null
        if (who === 'metrics') {
          if (!this.gate.passScrape(ctx)) return
        } else if (who !== 'public') {
          p = this.gate.pass(ctx, gateOpts)
          if (p === null) return
          if (who === 'admin' && p.kind !== 'admin') throw new HubError('forbidden', MSG.adminOnly)
          if (who !== 'admin' && p.kind === 'admin') throw new HubError('forbidden', MSG.accountOnly)
          if (who === 'account' && p.kind !== 'account') throw new HubError('forbidden', MSG.noAccess)
        }
        const query = readQuery === null ? NO_QUERY : readQuery(ctx)
        const principal = p as Principal
        if (bodySchema !== undefined) {
          const body = readJson(ctx)
          watchAbort(ctx)
          const guard = spec.guard
          body
            .then((b) => (guard === undefined || guard(ctx, b) ? handler(ctx, principal, parseBody(bodySchema, b), query) : undefined))
            .catch((err) => sendFailure(ctx, err, this.log))
          return
        }
        const out = handler(ctx, principal, undefined, query)
        if (out instanceof Promise) {
          watchAbort(ctx)
          out.catch((err) => sendFailure(ctx, err, this.log))
        }
      } catch (err) {
        sendFailure(ctx, err, this.log)
      }
    }
  }

  private mount(method: Method | 'head', path: string, shape: RouteShape, run: (ctx: Ctx) => void, body: boolean): void {
    const cors = this.cors
    this.path(path).add(method)
    this.app[method](path, (res, req) => {
      // Dropped, not answered: uWS parses a pipelined request from the same packet as soon as a
      // handler answers, so even a 400 here would let a request smuggled behind the body run.
      if (body && ambiguousFraming(req)) return void res.close()
      const ctx = readCtx(res, req, shape)
      if (cors.enabled) ctx.headers = cors.responseHeaders(req.getHeader('origin'))
      run(ctx)
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
    // Any other method is one label, so a client cannot mint label values; the trailing-slash twin counts as its route.
    const label = pattern.length > 1 && pattern.endsWith('/') ? pattern.slice(0, -1) : pattern
    const refused = this.served.route(`OTHER ${label}`)
    const options = this.served.route(`OPTIONS ${label}`)
    this.app.any(pattern, (res, req) => {
      refused.add(405)
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
      options.add(204)
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

/**
 * Reads a route's query fields and validates those present (a refusal is a HubError naming the
 * field). A request without any of them skips zod when the schema has no required field (the
 * lists are polled that way) and gets the schema's defaults.
 */
function queryReader(schema: QuerySchema): (ctx: Ctx) => Record<string, unknown> {
  const keys = Object.keys(schema.shape)
  const empty = schema.safeParse({})
  // The defaults of an absent query, parsed once.
  const whenEmpty = empty.success ? Object.freeze(empty.data as Record<string, unknown>) : null
  return (ctx) => {
    let raw: Record<string, string> | null = null
    for (const k of keys) {
      const v = ctx.param(k)
      if (v !== null) (raw ??= {})[k] = v
    }
    if (raw === null && whenEmpty !== null) return whenEmpty
    const parsed = schema.safeParse(raw ?? {})
    if (!parsed.success) throw new HubError('invalid', describeIssue(parsed.error))
    return parsed.data
  }
}
