/**
 * @module Reconnect delays: exponential backoff with full jitter, so clients dropped together
 * (a hub restart) do not come back together. Pure; `random` is injected.
 */

export interface BackoffPolicy {
  /** Ceiling of the first retry's delay. */
  baseMs: number
  /** Ceiling of every delay. */
  maxMs: number
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 500, maxMs: 30_000 }

/**
 * Delay before retry number `attempt` (0 = the first retry after a loss): uniform in
 * [0, min(maxMs, baseMs·2^attempt)). `random` returns a number in [0, 1).
 */
export function retryDelay(attempt: number, policy: BackoffPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(attempt, 30))
  return Math.floor(random() * ceiling)
}

/** Delay after the hub refused us for rate (4029 or an HTTP 429 upgrade): uniform in [maxMs/2, maxMs). */
export function rateLimitedDelay(policy: BackoffPolicy, random: () => number): number {
  return Math.floor(policy.maxMs / 2 + (random() * policy.maxMs) / 2)
}
