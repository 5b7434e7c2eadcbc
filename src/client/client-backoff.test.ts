import { describe, expect, it } from 'vitest'
import { rateLimitedDelay, retryDelay } from './backoff.js'

const policy = { baseMs: 500, maxMs: 30_000 }
const justBelowOne = () => 0.999_999

describe('retryDelay', () => {
  it('is 0 when the random draw is 0, at every attempt', () => {
    expect([0, 1, 5, 40].map((a) => retryDelay(a, policy, () => 0))).toEqual([0, 0, 0, 0])
  })

  it('stays below baseMs·2^attempt while that is under maxMs', () => {
    expect([0, 1, 2, 3, 4, 5].map((a) => retryDelay(a, policy, justBelowOne))).toEqual([499, 999, 1999, 3999, 7999, 15_999])
  })

  it('never exceeds maxMs, even for very large attempts', () => {
    expect([6, 10, 31, 1000].map((a) => retryDelay(a, policy, justBelowOne))).toEqual([29_999, 29_999, 29_999, 29_999])
  })

  it('scales the ceiling by the random draw (full jitter)', () => {
    expect(retryDelay(3, policy, () => 0.5)).toBe(2000)
  })
})

describe('rateLimitedDelay', () => {
  it('lies between half of maxMs and maxMs', () => {
    expect(rateLimitedDelay(policy, () => 0)).toBe(15_000)
    expect(rateLimitedDelay(policy, justBelowOne)).toBe(29_999)
  })
})
