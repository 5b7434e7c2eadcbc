/**
 * @module Time, injected: tests pass a fixed or stepping clock.
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number
}

export const systemClock: Clock = { now: () => Date.now() }
