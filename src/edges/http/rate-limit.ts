/**
 * @module Fixed one-minute windows per key (a token hash or a client address), bounded in memory
 * by an LRU of keys so that a flood of distinct keys cannot grow the hub.
 */
import { LRUCache } from 'lru-cache'
import type { Clock } from '../../ports/clock.js'

export interface RateDecision {
  allowed: boolean
  limit: number
  remaining: number
  /** Unix seconds at which the window resets. */
  reset: number
  /** The three `X-RateLimit-*` headers of this decision, joined into one pair. */
  headers: [string, string][]
}

interface Window {
  start: number
  count: number
}

export class RateLimiter {
  private readonly windows: LRUCache<string, Window>

  constructor(
    readonly limit: number,
    private readonly clock: Clock,
    private readonly windowMs = 60_000,
    maxKeys = 100_000,
  ) {
    this.windows = new LRUCache({ max: maxKeys })
  }

  take(key: string): RateDecision {
    const now = this.clock.now()
    const start = now - (now % this.windowMs)
    let w = this.windows.get(key)
    if (w === undefined || w.start !== start) {
      w = { start, count: 0 }
      this.windows.set(key, w)
    }
    const allowed = w.count < this.limit
    if (allowed) w.count++
    const reset = Math.ceil((start + this.windowMs) / 1000)
    const remaining = this.limit - w.count
    return {
      allowed,
      limit: this.limit,
      remaining,
      reset,
      // Numbers only, so they may be joined (see protocol/headers.ts).
      headers: [['X-RateLimit-Limit', `${this.limit}\r\nX-RateLimit-Remaining: ${remaining}\r\nX-RateLimit-Reset: ${reset}`]],
    }
  }

  /** Forgets a key (a rotated or deleted token). */
  forget(key: string): void {
    this.windows.delete(key)
  }
}
