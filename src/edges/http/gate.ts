/**
 * @module The gate every authenticated request passes: token → principal, then the per-token
 * rate limit (and the stricter creation limit). Requests without a valid token are limited per
 * client address, so guessing tokens is slow. A refused request has been answered already.
 */
import { MSG } from '../../core/errors.js'
import type { Principal } from '../../hub/model.js'
import type { Clock } from '../../ports/clock.js'
import { Cors } from './cors.js'
import { sendError, type Ctx } from './http.js'
import { RateLimiter, type RateDecision } from './rate-limit.js'

export interface GateLimits {
  rateLimitPerMin: number
  createRateLimitPerMin: number
  unauthRateLimitPerMin: number
}

export class Gate {
  readonly perToken: RateLimiter
  readonly perCreate: RateLimiter
  readonly perAddress: RateLimiter

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
