/**
 * @module The gate every authenticated request passes: token → principal, then the per-token
 * rate limit (and the stricter creation limit). Requests without a valid token are limited per
 * client address, so guessing tokens is slow. A refused request has been answered already.
 */
import { MSG } from '../../core/errors.js'
import type { Principal } from '../../hub/model.js'
import { hashToken, sameHash } from '../../hub/tokens.js'
import type { Clock } from '../../ports/clock.js'
import { Cors } from './cors.js'
import { sendError, type Ctx } from './http.js'
import { RateLimiter, type RateDecision } from './rate-limit.js'

export interface GateLimits {
  rateLimitPerMin: number
  createRateLimitPerMin: number
  unauthRateLimitPerMin: number
  /** HUB_METRICS_TOKEN: when set, the only token `GET /metrics` takes. */
  metricsToken?: string | undefined
}

export class Gate {
  readonly perToken: RateLimiter
  readonly perCreate: RateLimiter
  readonly perAddress: RateLimiter
  private readonly metricsTokenHash: string | null

  constructor(
    private readonly hub: { authenticate(token: string): Principal | null },
    limits: GateLimits,
    private readonly clock: Clock,
    /** The CORS allow-list: response headers for API routes, and the Origin check of upgrades. */
    readonly cors: Cors = new Cors([]),
  ) {
    this.perToken = new RateLimiter(limits.rateLimitPerMin, clock)
    this.perCreate = new RateLimiter(limits.createRateLimitPerMin, clock)
    this.perAddress = new RateLimiter(limits.unauthRateLimitPerMin, clock)
    this.metricsTokenHash = limits.metricsToken === undefined ? null : hashToken(limits.metricsToken)
  }

  pass(ctx: Ctx, opts: { create?: boolean } = {}): Principal | null {
    if (ctx.token === null) return this.refuse(ctx, MSG.missingToken)
    const p = this.hub.authenticate(ctx.token)
    if (p === null) return this.refuse(ctx, MSG.invalidToken)
    let d = this.perToken.take(p.tokenHash)
    if (d.allowed && opts.create) d = this.perCreate.take(p.tokenHash)
    this.headers(ctx, d)
    if (!d.allowed) return this.tooMany(ctx, d)
    return p
  }

  /**
   * A scrape of `GET /metrics`: HUB_METRICS_TOKEN when it is set (and then nothing else, the admin
   * token included), otherwise the admin token; limited per token like every request. False when
   * it was refused (answered already): 401 for a missing or wrong token, 403 for a tenant's token
   * where the admin token is asked for.
   */
  passScrape(ctx: Ctx): boolean {
    if (ctx.token === null) return this.refuse(ctx, MSG.missingToken) !== null
    let key: string
    if (this.metricsTokenHash !== null) {
      if (!sameHash(hashToken(ctx.token), this.metricsTokenHash)) return this.refuse(ctx, MSG.invalidToken) !== null
      key = this.metricsTokenHash
    } else {
      const p = this.hub.authenticate(ctx.token)
      if (p === null) return this.refuse(ctx, MSG.invalidToken) !== null
      if (p.kind !== 'admin') {
        sendError(ctx, 403, MSG.adminOnly)
        return false
      }
      key = p.tokenHash
    }
    const d = this.perToken.take(key)
    this.headers(ctx, d)
    if (!d.allowed) return this.tooMany(ctx, d) !== null
    return true
  }

  /**
   * Charges one attempt that could reveal whether a token exists to the client's address; false
   * (answered with 429) when its per-address limit is spent.
   */
  allowGuess(ctx: Ctx): boolean {
    const d = this.perAddress.take(ctx.ip)
    if (d.allowed) return true
    this.headers(ctx, d)
    this.tooMany(ctx, d)
    return false
  }

  private refuse(ctx: Ctx, message: string): null {
    const d = this.perAddress.take(ctx.ip)
    if (!d.allowed) {
      this.headers(ctx, d)
      return this.tooMany(ctx, d)
    }
    sendError(ctx, 401, message)
    return null
  }

  /** The rate-limit headers join the CORS ones a route put there. */
  private headers(ctx: Ctx, d: RateDecision): void {
    ctx.headers = ctx.headers.length === 0 ? d.headers : [...ctx.headers, ...d.headers]
  }

  private tooMany(ctx: Ctx, d: RateDecision): null {
    const wait = Math.max(1, d.reset - Math.floor(this.clock.now() / 1000))
    sendError(ctx, 429, MSG.rateLimited, [['Retry-After', String(wait)]])
    return null
  }
}
