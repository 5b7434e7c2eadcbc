import { describe, expect, it } from 'vitest'
import { backoffDelay, DEFAULT_BACKOFF, UNAVAILABLE_BACKOFF } from './backoff.js'

describe('backoffDelay', () => {
  it.each([
    [0, 1_000],
    [1, 2_000],
    [2, 4_000],
    [5, 32_000],
    [6, 60_000],
    [30, 60_000],
    [2_000, 60_000],
  ])('with the top of the jitter range, attempt %i waits %i ms (base 1 s, cap 60 s)', (attempt, ms) => {
    expect(backoffDelay(attempt, DEFAULT_BACKOFF, () => 1)).toBe(ms)
  })

  it('with the bottom of the jitter range waits half the ceiling', () => {
    expect(backoffDelay(0, DEFAULT_BACKOFF, () => 0)).toBe(500)
    expect(backoffDelay(3, DEFAULT_BACKOFF, () => 0)).toBe(4_000)
    expect(backoffDelay(10, DEFAULT_BACKOFF, () => 0)).toBe(30_000)
  })

  it('stays within [ceiling/2, ceiling] for any random value', () => {
    for (let attempt = 0; attempt < 10; attempt++) {
      const ceiling = Math.min(60_000, 1_000 * 2 ** attempt)
      for (const r of [0, 0.1, 0.25, 0.5, 0.75, 0.999999]) {
        const ms = backoffDelay(attempt, DEFAULT_BACKOFF, () => r)
        expect(ms).toBeGreaterThanOrEqual(ceiling / 2)
        expect(ms).toBeLessThanOrEqual(ceiling)
      }
    }
  })

  it('for 503 starts at 5 s and caps at 5 min', () => {
    expect(backoffDelay(0, UNAVAILABLE_BACKOFF, () => 1)).toBe(5_000)
    expect(backoffDelay(5, UNAVAILABLE_BACKOFF, () => 1)).toBe(160_000)
    expect(backoffDelay(6, UNAVAILABLE_BACKOFF, () => 1)).toBe(300_000)
    expect(backoffDelay(6, UNAVAILABLE_BACKOFF, () => 0)).toBe(150_000)
  })
})
