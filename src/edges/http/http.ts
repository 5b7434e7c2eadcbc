/**
 * @module uWS HTTP plumbing: what a handler may read (copied from `req` synchronously, because
 * `req` is stack-allocated and dies at the first await), corked writes that respect an aborted
 * response, bounded JSON bodies, and the error envelope.
 */
import type { HttpRequest, HttpResponse } from 'uWebSockets.js'
import type { Logger } from 'pino'
import { HubError, MSG } from '../../core/errors.js'
import type { Representation } from './compress.js'
import type { RouteCounts } from './served.js'
import { HTTP_STATUS, statusLine } from './status.js'

export const MAX_BODY_BYTES = 64 * 1024

/** Everything a handler may know about the request, read before any await. */
export interface Ctx {
  res: HttpResponse
  /** The route's method and pattern (`GET /api/instance/list`), for logs. */
  route: string
  params: string[]
  /** Decoded query values (parsed on first use). */
  readonly query: URLSearchParams
  /** One decoded query value, as `query.get(name)` answers it, without parsing the whole query. */
  param(name: string): string | null
  token: string | null
  ifNoneMatch: string
  /** Read only for routes that ask for it (RouteSpec.lastEventId); '' otherwise. */
  lastEventId: string
  /** Read only for routes that compress their answers; '' otherwise. */
  acceptEncoding: string
  /** A HEAD request: answers carry the GET's headers and Content-Length, never a body. */
  readonly head: boolean
  /** The client address; read it only before the first await (it asks `res`). */
  readonly ip: string
  /** True once the response was aborted by the peer or already answered: nothing more may be written. */
  done: boolean
  /** Headers every response of this request carries (CORS, then the rate limits). */
  headers: readonly [string, string][]
  /** The route's answers by status (the metrics edge reads them); every answer adds its status once. */
  readonly counts: RouteCounts | null
}

class RequestCtx implements Ctx {
  done = false
  headers: readonly [string, string][] = NO_HEADERS
  private parsed: URLSearchParams | null = null
  private address: string | null = null

  constructor(
    readonly res: HttpResponse,
    readonly route: string,
    readonly params: string[],
    private readonly rawQuery: string,
    public token: string | null,
    readonly ifNoneMatch: string,
    readonly lastEventId: string,
    readonly acceptEncoding: string,
    readonly head: boolean,
    readonly counts: RouteCounts | null,
  ) {}

  get query(): URLSearchParams {
    return (this.parsed ??= new URLSearchParams(this.rawQuery))
  }

  param(name: string): string | null {
    return this.parsed === null ? queryParam(this.rawQuery, name) : this.parsed.get(name)
  }

  get ip(): string {
    return (this.address ??= Buffer.from(this.res.getRemoteAddressAsText()).toString())
  }
}

const NO_HEADERS: readonly [string, string][] = Object.freeze([])

/** A path parameter, percent-decoded; malformed escapes stay as sent (and then name nothing). */
function decodeParam(raw: string): string {
  if (!raw.includes('%')) return raw
  try {
    return decodeURIComponent(raw)
  } catch {
    return raw
  }
}

/** What a route reads from every request; built once per route and method. */
export interface RouteShape {
  /** `GET /api/instance/list`: the route's method and pattern, for logs. */
  name: string
  paramCount: number
  /** Reads `Last-Event-ID` (SSE resume). */
  lastEventId: boolean
  /** Reads `Accept-Encoding` (the route compresses). */
  acceptEncoding: boolean
  /** Registered for HEAD: answers without a body. */
  head: boolean
  /** Where the route's answers are counted (null: not counted). */
  counts: RouteCounts | null
}

export function routeShape(method: string, pattern: string, opts: { lastEventId?: boolean; acceptEncoding?: boolean; counts?: RouteCounts } = {}): RouteShape {
  return {
    name: `${method.toUpperCase()} ${pattern}`,
    paramCount: (pattern.match(/\/:/g) ?? []).length,
    lastEventId: opts.lastEventId === true,
    acceptEncoding: opts.acceptEncoding === true,
    head: method === 'head',
    counts: opts.counts ?? null,
  }
}

// The list endpoints are the hot path: this reads only what every request needs, and parses the
// query and the client address only when something asks for them.
export function readCtx(res: HttpResponse, req: HttpRequest, shape: RouteShape): Ctx {
  const paramCount = shape.paramCount
  const params: string[] = []
  for (let i = 0; i < paramCount; i++) params.push(decodeParam(req.getParameter(i) ?? ''))
  const rawQuery = req.getQuery() ?? ''
  let token: string | null = req.getHeader('token')
  if (token === '') {
    const auth = req.getHeader('authorization')
    if (auth.length > 7 && auth.slice(0, 7).toLowerCase() === 'bearer ') token = auth.slice(7).trim()
    else token = queryParam(rawQuery, 'token')
  }
  return new RequestCtx(
    res,
    shape.name,
    params,
    rawQuery,
    token === '' ? null : token,
    req.getHeader('if-none-match'),
    shape.lastEventId ? req.getHeader('last-event-id') : '',
    shape.acceptEncoding ? req.getHeader('accept-encoding') : '',
    shape.head,
    shape.counts,
  )
}

/**
 * `new URLSearchParams(raw).get(name)` without building it: the first value of `name`, decoded.
 * Queries with escapes or `+` take the URLSearchParams path, so decoding is always its own.
 */
export function queryParam(raw: string, name: string): string | null {
  if (raw === '') return null
  if (raw.includes('%') || raw.includes('+')) return new URLSearchParams(raw).get(name)
  for (let i = 0; i <= raw.length; ) {
    let end = raw.indexOf('&', i)
    if (end < 0) end = raw.length
    const eq = raw.indexOf('=', i)
    const keyEnd = eq >= 0 && eq < end ? eq : end
    if (end > i && keyEnd - i === name.length && raw.startsWith(name, i)) return keyEnd === end ? '' : raw.slice(keyEnd + 1, end)
    i = end + 1
  }
  return null
}

/** Marks the response aborted; must be called before the handler's first await. */
export function watchAbort(ctx: Ctx): void {
  if (ctx.done) return
  ctx.res.onAborted(() => {
    ctx.done = true
  })
}

/** A body over the limit: answered, then the connection is closed instead of draining the upload. */
export class BodyTooLarge extends HubError {
  constructor() {
    super('invalid', MSG.invalidBody)
  }
}

/**
 * A body whose length two parsers could read differently (RFC 9112 §6.3): more than one
 * Content-Length, one that is not a plain number, or Content-Length beside Transfer-Encoding.
 * Behind a proxy that reads it the other way, the rest would run as a second, smuggled request.
 */
export function ambiguousFraming(req: HttpRequest): boolean {
  let lengths = 0
  let bad = false
  let chunked = false
  req.forEach((key, value) => {
    if (key === 'content-length') {
      lengths++
      if (!/^\d{1,15}$/.test(value)) bad = true
    } else if (key === 'transfer-encoding') chunked = true
  })
  return bad || lengths > 1 || (lengths > 0 && chunked)
}

export function sendBytes(
  ctx: Ctx,
  status: number,
  body: Buffer | string,
  extra?: readonly [string, string][],
  close = false,
  contentType = 'application/json',
): void {
  if (ctx.done) return
  ctx.done = true
  ctx.counts?.add(status)
  const res = ctx.res
  res.cork(() => {
    res.writeStatus(statusLine(status)).writeHeader('Content-Type', contentType)
    writeHeaders(res, ctx.headers)
    if (extra) writeHeaders(res, extra)
    if (ctx.head) endHead(res, body)
    else res.end(body, close)
  })
}

/**
 * A HEAD answer: the length the GET's body would have, and no body. uWS would send a body given
 * to `end` even for HEAD, and this build aborts the process on `endWithoutBody(length)`, so the
 * length is written as a header.
 */
export function endHead(res: HttpResponse, body: Buffer | string): void {
  res.writeHeader('Content-Length', String(typeof body === 'string' ? Buffer.byteLength(body) : body.length))
  res.endWithoutBody()
}

/** 304 with the request's headers and `extra`, no body. */
export function sendNotModified(ctx: Ctx, extra: readonly [string, string][]): void {
  if (ctx.done) return
  ctx.done = true
  ctx.counts?.add(304)
  const res = ctx.res
  res.cork(() => {
    res.writeStatus('304 Not Modified')
    writeHeaders(res, ctx.headers)
    writeHeaders(res, extra)
    res.endWithoutBody()
  })
}

/** `If-None-Match` names the current ETag (RFC 9110 weak comparison: `W/` is ignored), or is `*`. */
export function etagMatches(header: string, etag: string): boolean {
  if (header === etag) return true
  return header.split(',').some((t) => {
    const tag = t.trim()
    return tag === '*' || tag === etag || tag === `W/${etag}`
  })
}

/** A cached representation: 304 when `If-None-Match` names its ETag, else its bytes. */
export function sendRepresentation(ctx: Ctx, rep: Representation, contentType = 'application/json'): void {
  if (ctx.ifNoneMatch !== '' && etagMatches(ctx.ifNoneMatch, rep.etag)) return sendNotModified(ctx, rep.notModified)
  sendBytes(ctx, 200, rep.body, rep.headers, false, contentType)
}

export function writeHeaders(res: HttpResponse, headers: readonly (readonly [string, string])[]): void {
  for (let i = 0; i < headers.length; i++) res.writeHeader(headers[i]![0], headers[i]![1])
}

export function sendJson(ctx: Ctx, status: number, body: unknown, extra?: readonly [string, string][]): void {
  sendBytes(ctx, status, JSON.stringify(body), extra)
}

export function sendOk(ctx: Ctx, message: string, payload: Record<string, unknown> = {}, status = 200): void {
  sendJson(ctx, status, { success: true, message, ...payload })
}

export function sendError(ctx: Ctx, status: number, message: string, extra?: readonly [string, string][]): void {
  sendJson(ctx, status, { success: false, error: { message } }, extra)
}

/** The single error path: a HubError becomes its kind's status and the envelope; anything else is a 500. */
export function sendFailure(ctx: Ctx, err: unknown, log: Logger): void {
  if (err instanceof HubError) {
    const body = JSON.stringify({ success: false, error: { message: err.message } })
    const extra: [string, string][] | undefined = err.retryAfterS === undefined ? undefined : [['Retry-After', String(err.retryAfterS)]]
    sendBytes(ctx, HTTP_STATUS[err.kind], body, extra, err instanceof BodyTooLarge)
    return
  }
  log.error({ err, route: ctx.route, params: ctx.params }, 'request failed')
  sendError(ctx, 500, MSG.internal)
}

/**
 * Collects a JSON body of at most MAX_BODY_BYTES. Resolves with the parsed value ({} for an empty
 * body); rejects with a HubError (`invalid`) for oversized or malformed bodies. Attach before any await.
 */
export function readJson(ctx: Ctx): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let failed = false
    ctx.res.onData((chunk, isLast) => {
      if (failed) return
      size += chunk.byteLength
      if (size > MAX_BODY_BYTES) {
        failed = true
        reject(new BodyTooLarge())
        return
      }
      // uWS neuters the chunk after this callback returns: copy it.
      chunks.push(Buffer.from(new Uint8Array(chunk).slice()))
      if (!isLast) return
      const text = Buffer.concat(chunks).toString('utf8').trim()
      if (text === '') return resolve({})
      try {
        resolve(JSON.parse(text))
      } catch {
        reject(new HubError('invalid', MSG.invalidBody))
      }
    })
  })
}

export type Method = 'get' | 'post' | 'put' | 'del' | 'patch'
