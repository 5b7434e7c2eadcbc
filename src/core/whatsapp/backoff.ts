/**
 * @module Reconnect delays: jittered exponential backoff, `min(cap, base·2^attempt)·rand(0.5, 1)`.
 */

export interface BackoffPolicy {
  baseMs: number
  capMs: number
}

/** Most transient closes (408, 428, 500, no code). */
export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1_000, capMs: 60_000 }

/** 503 is the server asking for room: start slower and allow longer waits. */
export const UNAVAILABLE_BACKOFF: BackoffPolicy = { baseMs: 5_000, capMs: 300_000 }

/**
 * Delay before retry number `attempt + 1`. `attempt` counts the retries since the last stable open
 * (0 for the first). `random` is a source in [0, 1); half the delay is jitter so a fleet that
 * dropped together does not reconnect together.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number): number {
  // 2^attempt overflows to Infinity long after it passed any cap; min() keeps that harmless.
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** attempt)
  return Math.round(ceiling * (0.5 + 0.5 * random()))
}
