/**
 * @module CORS (operations contract): the response headers for a browser `Origin` on the
 * allow-list (`HUB_CORS_ORIGINS`), preflight answers, and the Origin check of WebSocket upgrades.
 * With an empty list nothing is added and no cross-origin browser may use the API or the streams.
 */
import { joinHeaders, type HeaderPair } from '../../protocol/headers.js'

/** The response headers a browser script may read cross-origin. */
export const EXPOSE_HEADERS = 'ETag, X-Hub-Epoch, X-Hub-Seq, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After'
/** The request headers a cross-origin script may send. */
export const ALLOW_HEADERS = 'token, authorization, content-type, if-none-match, last-event-id'
export const MAX_AGE_S = 600
/** The 403 message of a WebSocket upgrade from a foreign page. */
export const ORIGIN_REFUSED = 'Origin not allowed'

const NONE: readonly HeaderPair[] = Object.freeze([])

export class Cors {
  /** Origin → the joined headers of an allowed response. */
  private readonly allowed = new Map<string, readonly HeaderPair[]>()
  /** `Vary: Origin` alone: what every answer to an origin off the list carries once a list exists. */
  private readonly varyOnly: readonly HeaderPair[]

  /** `origins` are validated serialised origins (app/config.ts); they alone are ever echoed. */
  constructor(origins: readonly string[]) {
    this.varyOnly = origins.length === 0 ? NONE : Object.freeze([['Vary', 'Origin']] as HeaderPair[])
    for (const o of origins) {
      // Joining is safe: the value is the configured origin, never the request's bytes.
      this.allowed.set(o, Object.freeze([joinHeaders([['Access-Control-Allow-Origin', o], ['Vary', 'Origin'], ['Access-Control-Expose-Headers', EXPOSE_HEADERS]])]))
    }
  }

  /** False with an empty list: requests need not even read `Origin`. */
  get enabled(): boolean {
    return this.allowed.size > 0
  }

  /** Headers every answer to a request with this `Origin` ('' when absent) carries. */
  responseHeaders(origin: string): readonly HeaderPair[] {
    return this.allowed.get(origin) ?? this.varyOnly
  }

  /**
   * The answer to `OPTIONS` from an allowed origin that asks `Access-Control-Request-Method`
   * (a preflight), or null: anything else is a plain OPTIONS, answered with `Allow` only.
   */
  preflight(origin: string, requestMethod: string, methods: string): HeaderPair[] | null {
    if (requestMethod === '' || !this.allowed.has(origin)) return null
    return [
      joinHeaders([
        ['Access-Control-Allow-Origin', origin],
        ['Vary', 'Origin'],
        ['Access-Control-Allow-Methods', methods],
        ['Access-Control-Allow-Headers', ALLOW_HEADERS],
        ['Access-Control-Max-Age', String(MAX_AGE_S)],
      ]),
    ]
  }

  /**
   * Whether a WebSocket upgrade may proceed: no `Origin` (servers, curl), an origin on the list,
   * or the hub's own origin (the `Origin` names the host the request was sent to; the scheme is
   * not compared, since a TLS proxy in front hides it).
   */
  upgradeAllowed(origin: string, host: string): boolean {
    if (origin === '' || this.allowed.has(origin)) return true
    return host !== '' && sameHost(origin, host.toLowerCase())
  }
}

/** Whether an http(s) origin names `host` (`name[:port]`, a default port written or not). */
function sameHost(origin: string, host: string): boolean {
  let u: URL
  try {
    u = new URL(origin)
  } catch {
    return false
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return false
  if (u.host === host) return true
  return u.port === '' && host === `${u.hostname}:${u.protocol === 'https:' ? 443 : 80}`
}
